// Request parsing: the one place where each request type is validated.
//
// Each Parse* function checks a request completely and either returns the
// typed values the handler needs or an INVALID_ARGUMENT status naming the
// offending field (see InvalidField in service/errors.h). A handler calls its
// Parse* function before touching storage, so a rejected request changes
// nothing.
#ifndef RECURRENT_SERVICE_REQUESTS_H_
#define RECURRENT_SERVICE_REQUESTS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ids.h"
#include "persistence/api_key_store.h"
#include "persistence/storage.h"
#include "recurrent/v1/api_key.pb.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"
#include "recurrent/v1/source_settings.pb.h"

namespace recurrent::service {

// Longest page_token accepted (INVALID_ARGUMENT beyond).
inline constexpr size_t kMaxPageTokenLength = 1024;

// Checks that `value` is a non-empty id with `prefix`.
absl::Status CheckId(absl::string_view value, absl::string_view prefix,
                     absl::string_view field);

// Like CheckId, but an empty value is fine (an unset filter).
absl::Status CheckOptionalId(absl::string_view value, absl::string_view prefix,
                             absl::string_view field);

// Resolves `page_size` (default, clamp) and carries the token along.
absl::StatusOr<persistence::PageRequest> ParsePage(int page_size,
                                                   absl::string_view token);

// ---- SourceSettingsService ----

struct NewDataSource {
  std::string name;
  std::string system;
};
absl::StatusOr<NewDataSource> ParseCreateDataSource(
    const v1::CreateDataSourceRequest& request);

struct SettingsChange {
  persistence::PastDueHandling past_due_handling;
  std::optional<absl::Time> effective_at;  // unset: now
  bool dry_run = false;
};
// `now` bounds `effective_at` (never in the future).
absl::StatusOr<SettingsChange> ParseUpdateSettings(
    const v1::UpdateSettingsRequest& request, absl::Time now);

// ---- CustomerService ----

// A new customer; lead_created_at defaults to free_trial_started_at.
absl::StatusOr<persistence::Customer> ParseCreateCustomer(
    const v1::CreateCustomerRequest& request);

// The writable fields of a customer named by an update mask, with their new
// values (in `values`).
struct CustomerUpdate {
  std::string uuid;
  std::vector<std::string> paths;  // writable field names, validated
  persistence::Customer values;
};
absl::StatusOr<CustomerUpdate> ParseUpdateCustomer(
    const v1::UpdateCustomerRequest& request);
// Applies `update` to `customer` (including the lead/trial default).
void ApplyCustomerUpdate(const CustomerUpdate& update,
                         persistence::Customer& customer);

absl::StatusOr<persistence::CustomerFilter> ParseCustomerFilter(
    const v1::ListCustomersRequest& request);

// Validates a tag list for Add/RemoveCustomerTags; returns the trimmed tags.
absl::StatusOr<std::vector<std::string>> ParseTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags);

// The instant a read answers for: `as_of` if set, else `now`. Any valid
// timestamp is accepted (a future one projects the known facts forward).
absl::StatusOr<absl::Time> ParseAsOf(bool has_as_of,
                                     const google::protobuf::Timestamp& as_of,
                                     absl::Time now);

struct Cancellation {
  std::string subscription_uuid;
  absl::Time cancelled_at;
};
// cancelled_at defaults to `now` and must not be after it.
absl::StatusOr<Cancellation> ParseCancelSubscription(
    const v1::CancelSubscriptionRequest& request, absl::Time now);

struct EventQuery {
  persistence::EventFilter filter;
  persistence::PageRequest page;
};
absl::StatusOr<EventQuery> ParseListSubscriptionEvents(
    const v1::ListSubscriptionEventsRequest& request, absl::Time now);

// ---- InvoiceService ----

// At most this many invoices per ImportInvoices call.
inline constexpr int kMaxInvoicesPerImport = 1000;

// Checks every invoice of the batch (ids, ISO 4217 currency, dates, service
// periods, line item types, quantities, transactions, duplicate external ids
// within the batch) and converts it; field paths read like
// "invoices[2].line_items[0].service_period_end".
absl::StatusOr<std::vector<persistence::Invoice>> ParseImportInvoices(
    const v1::ImportInvoicesRequest& request);

absl::StatusOr<persistence::Transaction> ParseAddTransaction(
    const v1::AddTransactionRequest& request);

absl::StatusOr<persistence::InvoiceFilter> ParseInvoiceFilter(
    const v1::ListInvoicesRequest& request);

// ---- ApiKeyService (service/api_key_requests.cc) ----

struct NewApiKey {
  std::string name;
  persistence::ApiKeyRole role = persistence::ApiKeyRole::kReader;
};
// `name`: 1..100 characters of letters, digits, '-', '_', '.', '@';
// `role`: specified.
absl::StatusOr<NewApiKey> ParseCreateApiKey(
    const v1::CreateApiKeyRequest& request);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_REQUESTS_H_
