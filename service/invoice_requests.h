// Parsing of InvoiceService requests: each Parse* function checks a request
// completely and returns the typed values the handler needs, or an
// INVALID_ARGUMENT status naming the offending field (InvalidField,
// service/errors.h). Handlers parse before calling the core, so a rejected
// request changes nothing.
#ifndef RECURRENT_SERVICE_INVOICE_REQUESTS_H_
#define RECURRENT_SERVICE_INVOICE_REQUESTS_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/store.h"
#include "persistence/records.h"
#include "recurrent/v1/invoice.pb.h"

namespace recurrent::service {

// At most this many invoices per ImportInvoices call.
inline constexpr int kMaxInvoicesPerImport = 1000;

// Checks every invoice of the batch (ids, ISO 4217 currency, dates, service
// periods, line item types, quantities, transactions, duplicate external ids
// within the batch) and converts it; field paths read like
// "invoices[2].line_items[0].service_period_end". A line item or transaction
// without an external id gets the one derived from its invoice's and its
// 1-based position (core::DerivedLineItemId, core::DerivedTransactionId); an
// explicit id equal to the id derived for another item of the same invoice
// is INVALID_ARGUMENT naming the explicit one.
absl::StatusOr<std::vector<persistence::Invoice>> ParseImportInvoices(
    const v1::ImportInvoicesRequest& request);

// The transaction to add; its external_id is required (nothing to derive
// one from).
absl::StatusOr<persistence::Transaction> ParseAddTransaction(
    const v1::AddTransactionRequest& request);

// The instant GetInvoice answers for (`as_of`, default `now`), once `uuid`
// is checked.
absl::StatusOr<absl::Time> ParseGetInvoice(const v1::GetInvoiceRequest& request,
                                           absl::Time now);

// ListInvoices: the stored fields to filter on, the instant the amounts and
// the `open` filter are evaluated at (`as_of`, default `now`), the `open`
// filter if set, and the page.
struct InvoiceQuery {
  persistence::InvoiceFilter filter;
  absl::Time as_of;
  std::optional<core::OpenAt> open_at;
  persistence::PageRequest page;
};
absl::StatusOr<InvoiceQuery> ParseListInvoices(
    const v1::ListInvoicesRequest& request, absl::Time now);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_INVOICE_REQUESTS_H_
