// Parsing of CustomerService requests: each Parse* function checks a request
// completely and returns the typed values the handler needs, or an
// INVALID_ARGUMENT status naming the offending field (InvalidField,
// service/errors.h). Handlers parse before calling the core, so a rejected
// request changes nothing.
#ifndef RECURRENT_SERVICE_CUSTOMER_REQUESTS_H_
#define RECURRENT_SERVICE_CUSTOMER_REQUESTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/records.h"
#include "recurrent/v1/customer.pb.h"

namespace recurrent::service {

// A new customer; lead_created_at defaults to free_trial_started_at.
absl::StatusOr<persistence::Customer> ParseCreateCustomer(
    const v1::CreateCustomerRequest& request);

// The writable fields an UpdateCustomer request names (by its update mask,
// or every populated one without a mask), with their new values.
struct CustomerPatch {
  std::string uuid;
  std::vector<std::string> paths;  // writable field names, validated
  persistence::CustomerFields values;
};
absl::StatusOr<CustomerPatch> ParseUpdateCustomer(
    const v1::UpdateCustomerRequest& request);
// Applies `patch` to `fields` (including the lead/trial default).
void ApplyCustomerPatch(const CustomerPatch& patch,
                        persistence::CustomerFields& fields);

// A GetCustomer: the customer and the instant (as_of, default `now`).
struct CustomerQuery {
  std::string uuid;
  absl::Time as_of;
};
absl::StatusOr<CustomerQuery> ParseGetCustomer(
    const v1::GetCustomerRequest& request, absl::Time now);

// A ListCustomers: its filters, instant (as_of, default `now`) and page.
struct CustomersQuery {
  persistence::CustomerFilter filter;
  absl::Time as_of;
  persistence::PageRequest page;
};
absl::StatusOr<CustomersQuery> ParseListCustomers(
    const v1::ListCustomersRequest& request, absl::Time now);

// A MergeCustomers: two customer ids that differ.
struct Merge {
  std::string from_customer_uuid;
  std::string into_customer_uuid;
};
absl::StatusOr<Merge> ParseMergeCustomers(
    const v1::MergeCustomersRequest& request);

// An Add/RemoveCustomerTags: the customer and its trimmed tags.
struct TagChange {
  std::string customer_uuid;
  std::vector<std::string> tags;
};
absl::StatusOr<TagChange> ParseAddCustomerTags(
    const v1::AddCustomerTagsRequest& request);
absl::StatusOr<TagChange> ParseRemoveCustomerTags(
    const v1::RemoveCustomerTagsRequest& request);

// A ListSubscriptions: the customer, the instant (as_of, default `now`) and
// the page.
struct SubscriptionsQuery {
  std::string customer_uuid;
  absl::Time as_of;
  persistence::PageRequest page;
};
absl::StatusOr<SubscriptionsQuery> ParseListSubscriptions(
    const v1::ListSubscriptionsRequest& request, absl::Time now);

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

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CUSTOMER_REQUESTS_H_
