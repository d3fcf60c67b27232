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

absl::StatusOr<persistence::CustomerFilter> ParseCustomerFilter(
    const v1::ListCustomersRequest& request);

// Validates a tag list for Add/RemoveCustomerTags; returns the trimmed tags.
absl::StatusOr<std::vector<std::string>> ParseTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags);

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
