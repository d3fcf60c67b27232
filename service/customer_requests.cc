// Parsing of CustomerService requests.
#include "service/customer_requests.h"

#include <algorithm>
#include <cstddef>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "engine/evaluation.h"
#include "service/convert.h"
#include "service/errors.h"
#include "service/field_checks.h"
#include "service/iso_codes.h"

namespace recurrent::service {
namespace {

constexpr int kMaxTagsPerCall = 100;

// One writable customer field.
struct WritableField {
  absl::string_view name;  // in the API and in update masks
  // Checks the field of a request message and copies it into `out`;
  // `field` is its path for errors.
  absl::Status (*parse)(const v1::Customer& in, absl::string_view field,
                        persistence::CustomerFields& out);
  // Whether a message sets it (no update mask: "every populated field").
  bool (*populated)(const v1::Customer& in);
  void (*copy)(const persistence::CustomerFields& from,
               persistence::CustomerFields& to);
};

// Customer fields that exist but are not writable.
constexpr absl::string_view kReadOnlyCustomerFields[] = {
    "uuid", "data_source_uuid", "external_id", "external_ids",  "status",
    "tags", "created_at",       "updated_at",  "status_reason", "mrr"};

template <typename Range>
bool In(const Range& range, absl::string_view value) {
  return std::find(std::begin(range), std::end(range), value) !=
         std::end(range);
}

absl::Status CheckEmail(absl::string_view email, absl::string_view field) {
  RECURRENT_RETURN_IF_ERROR(CheckLength(email, kMaxNameLength, field));
  if (email.empty()) return absl::OkStatus();
  const size_t at = email.find('@');
  if (at == 0 || at == absl::string_view::npos || at + 1 == email.size() ||
      email.find('@', at + 1) != absl::string_view::npos ||
      absl::StrContains(email, " ")) {
    return InvalidField(field, "must be an email address such as a@b.com");
  }
  return absl::OkStatus();
}

absl::Status CheckCountry(absl::string_view country, absl::string_view field) {
  if (country.empty() || IsIsoCountryCode(country)) return absl::OkStatus();
  return InvalidField(
      field, absl::StrCat("must be an ISO 3166-1 alpha-2 code such as \"DE\", "
                          "got \"",
                          Excerpt(country, 16), "\""));
}

// A text field checked for its length only.
template <auto kGet, auto kMember>
constexpr WritableField TextField(absl::string_view name) {
  return WritableField{
      name,
      [](const v1::Customer& in, absl::string_view field,
         persistence::CustomerFields& out) {
        RECURRENT_RETURN_IF_ERROR(
            CheckLength((in.*kGet)(), kMaxNameLength, field));
        out.*kMember = (in.*kGet)();
        return absl::OkStatus();
      },
      [](const v1::Customer& in) { return !(in.*kGet)().empty(); },
      [](const persistence::CustomerFields& from,
         persistence::CustomerFields& to) { to.*kMember = from.*kMember; }};
}

// An optional timestamp field.
template <auto kHas, auto kGet, auto kMember>
constexpr WritableField TimeField(absl::string_view name) {
  return WritableField{
      name,
      [](const v1::Customer& in, absl::string_view field,
         persistence::CustomerFields& out) {
        out.*kMember = std::nullopt;
        if ((in.*kHas)()) {
          RECURRENT_ASSIGN_OR_RETURN(out.*kMember,
                                     TimeFromProto((in.*kGet)(), field));
        }
        return absl::OkStatus();
      },
      [](const v1::Customer& in) { return (in.*kHas)(); },
      [](const persistence::CustomerFields& from,
         persistence::CustomerFields& to) { to.*kMember = from.*kMember; }};
}

using C = v1::Customer;
using F = persistence::CustomerFields;

// The customer fields callers write (persistence::CustomerFields), in proto
// field order: the one list that CreateCustomer, UpdateCustomer's mask and
// its patch go by.
const WritableField kWritableFields[] = {
    TextField<&C::name, &F::name>("name"),
    WritableField{"email",
                  [](const C& in, absl::string_view field, F& out) {
                    RECURRENT_RETURN_IF_ERROR(CheckEmail(in.email(), field));
                    out.email = in.email();
                    return absl::OkStatus();
                  },
                  [](const C& in) { return !in.email().empty(); },
                  [](const F& from, F& to) { to.email = from.email; }},
    TextField<&C::company, &F::company>("company"),
    WritableField{"country",
                  [](const C& in, absl::string_view field, F& out) {
                    RECURRENT_RETURN_IF_ERROR(
                        CheckCountry(in.country(), field));
                    out.country = in.country();
                    return absl::OkStatus();
                  },
                  [](const C& in) { return !in.country().empty(); },
                  [](const F& from, F& to) { to.country = from.country; }},
    TextField<&C::state, &F::state>("state"),
    TextField<&C::city, &F::city>("city"),
    TextField<&C::zip, &F::zip>("zip"),
    TimeField<&C::has_lead_created_at, &C::lead_created_at,
              &F::lead_created_at>("lead_created_at"),
    TimeField<&C::has_free_trial_started_at, &C::free_trial_started_at,
              &F::free_trial_started_at>("free_trial_started_at"),
};

const WritableField* FindWritable(absl::string_view name) {
  for (const WritableField& field : kWritableFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string WritableNames() {
  std::vector<absl::string_view> names;
  for (const WritableField& field : kWritableFields)
    names.push_back(field.name);
  return absl::StrJoin(names, ", ");
}

void DefaultLeadFromTrial(persistence::CustomerFields& customer) {
  if (customer.free_trial_started_at.has_value() &&
      !customer.lead_created_at.has_value()) {
    customer.lead_created_at = customer.free_trial_started_at;
  }
}

}  // namespace

absl::StatusOr<persistence::Customer> ParseCreateCustomer(
    const v1::CreateCustomerRequest& request) {
  if (!request.has_customer()) return InvalidField("customer", "required");
  const v1::Customer& customer = request.customer();
  RECURRENT_RETURN_IF_ERROR(CheckId(customer.data_source_uuid(),
                                    common::kDataSourceIdPrefix,
                                    "customer.data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(
      CheckExternalId(customer.external_id(), "customer.external_id"));
  persistence::Customer out;
  out.data_source_uuid = customer.data_source_uuid();
  out.external_id = customer.external_id();
  for (const WritableField& field : kWritableFields) {
    RECURRENT_RETURN_IF_ERROR(
        field.parse(customer, absl::StrCat("customer.", field.name), out));
  }
  DefaultLeadFromTrial(out);
  return out;
}

absl::StatusOr<CustomerPatch> ParseUpdateCustomer(
    const v1::UpdateCustomerRequest& request) {
  if (!request.has_customer()) return InvalidField("customer", "required");
  const v1::Customer& customer = request.customer();
  RECURRENT_RETURN_IF_ERROR(
      CheckId(customer.uuid(), common::kCustomerIdPrefix, "customer.uuid"));
  CustomerPatch update;
  update.uuid = customer.uuid();
  if (request.update_mask().paths().empty()) {
    // AIP-134: no mask means every populated writable field.
    for (const WritableField& field : kWritableFields) {
      if (field.populated(customer)) update.paths.emplace_back(field.name);
    }
  } else if (request.update_mask().paths_size() == 1 &&
             request.update_mask().paths(0) == "*") {
    // AIP-134: "*" replaces every writable field (an unset one is cleared).
    for (const WritableField& field : kWritableFields) {
      update.paths.emplace_back(field.name);
    }
  } else {
    for (const std::string& path : request.update_mask().paths()) {
      if (In(kReadOnlyCustomerFields, path)) {
        return InvalidField("update_mask", absl::StrCat("field \"", path,
                                                        "\" is not writable"));
      }
      if (FindWritable(path) == nullptr) {
        return InvalidField(
            "update_mask",
            absl::StrCat("unknown field \"", Excerpt(path, 64),
                         "\"; writable fields are ", WritableNames()));
      }
      if (!In(update.paths, path)) update.paths.push_back(path);
    }
  }
  if (update.paths.empty()) {
    return InvalidField("update_mask", "names no field to update");
  }
  for (const std::string& path : update.paths) {
    RECURRENT_RETURN_IF_ERROR(FindWritable(path)->parse(
        customer, absl::StrCat("customer.", path), update.values));
  }
  return update;
}

void ApplyCustomerPatch(const CustomerPatch& patch,
                        persistence::CustomerFields& fields) {
  for (const std::string& path : patch.paths) {
    FindWritable(path)->copy(patch.values, fields);
  }
  DefaultLeadFromTrial(fields);
}

absl::StatusOr<CustomerQuery> ParseGetCustomer(
    const v1::GetCustomerRequest& request, absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(
      CheckId(request.uuid(), common::kCustomerIdPrefix, "uuid"));
  RECURRENT_ASSIGN_OR_RETURN(
      const absl::Time as_of,
      ParseAsOf(request.has_as_of(), request.as_of(), now));
  return CustomerQuery{request.uuid(), as_of};
}

absl::StatusOr<CustomersQuery> ParseListCustomers(
    const v1::ListCustomersRequest& request, absl::Time now) {
  CustomersQuery query;
  persistence::CustomerFilter& filter = query.filter;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.external_id(), kMaxExternalIdLength, "external_id"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.email(), kMaxNameLength, "email"));
  filter.data_source_uuid = request.data_source_uuid();
  filter.external_id = request.external_id();
  filter.email = request.email();
  if (request.status() != v1::CUSTOMER_STATUS_UNSPECIFIED) {
    filter.status = CustomerStatusFromProto(request.status());
    if (!filter.status.has_value()) {
      return InvalidField("status", "unknown customer status");
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(
      query.as_of, ParseAsOf(request.has_as_of(), request.as_of(), now));
  RECURRENT_ASSIGN_OR_RETURN(
      query.page, ParsePage(request.page_size(), request.page_token()));
  return query;
}

absl::StatusOr<Merge> ParseMergeCustomers(
    const v1::MergeCustomersRequest& request) {
  RECURRENT_RETURN_IF_ERROR(CheckId(request.from_customer_uuid(),
                                    common::kCustomerIdPrefix,
                                    "from_customer_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckId(request.into_customer_uuid(),
                                    common::kCustomerIdPrefix,
                                    "into_customer_uuid"));
  if (request.from_customer_uuid() == request.into_customer_uuid()) {
    return InvalidField("into_customer_uuid",
                        "must differ from from_customer_uuid");
  }
  return Merge{request.from_customer_uuid(), request.into_customer_uuid()};
}

namespace {

// The customer and tags of an Add/RemoveCustomerTags request.
absl::StatusOr<TagChange> ParseTagChange(
    const std::string& customer_uuid,
    const google::protobuf::RepeatedPtrField<std::string>& tags) {
  RECURRENT_RETURN_IF_ERROR(
      CheckId(customer_uuid, common::kCustomerIdPrefix, "customer_uuid"));
  if (tags.empty()) return InvalidField("tags", "at least one tag is required");
  if (tags.size() > kMaxTagsPerCall) {
    return InvalidField(
        "tags", absl::StrCat("at most ", kMaxTagsPerCall, " tags per call"));
  }
  TagChange change;
  change.customer_uuid = customer_uuid;
  change.tags.reserve(tags.size());
  for (int i = 0; i < tags.size(); ++i) {
    const std::string field = absl::StrCat("tags[", i, "]");
    absl::string_view tag = absl::StripAsciiWhitespace(tags[i]);
    if (tag.empty()) return InvalidField(field, "must not be empty");
    RECURRENT_RETURN_IF_ERROR(CheckLength(tag, kMaxNameLength, field));
    if (absl::EqualsIgnoreCase(tag, engine::kAutoChurnedTag)) {
      return InvalidField(field, "is a derived tag and cannot be changed");
    }
    change.tags.emplace_back(tag);
  }
  return change;
}

}  // namespace

absl::StatusOr<TagChange> ParseAddCustomerTags(
    const v1::AddCustomerTagsRequest& request) {
  return ParseTagChange(request.customer_uuid(), request.tags());
}

absl::StatusOr<TagChange> ParseRemoveCustomerTags(
    const v1::RemoveCustomerTagsRequest& request) {
  return ParseTagChange(request.customer_uuid(), request.tags());
}

absl::StatusOr<SubscriptionsQuery> ParseListSubscriptions(
    const v1::ListSubscriptionsRequest& request, absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(CheckId(
      request.customer_uuid(), common::kCustomerIdPrefix, "customer_uuid"));
  SubscriptionsQuery query;
  query.customer_uuid = request.customer_uuid();
  RECURRENT_ASSIGN_OR_RETURN(
      query.as_of, ParseAsOf(request.has_as_of(), request.as_of(), now));
  RECURRENT_ASSIGN_OR_RETURN(
      query.page, ParsePage(request.page_size(), request.page_token()));
  return query;
}

absl::StatusOr<Cancellation> ParseCancelSubscription(
    const v1::CancelSubscriptionRequest& request, absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(CheckId(request.subscription_uuid(),
                                    common::kSubscriptionIdPrefix,
                                    "subscription_uuid"));
  Cancellation cancellation;
  cancellation.subscription_uuid = request.subscription_uuid();
  cancellation.cancelled_at = now;
  if (request.has_cancelled_at()) {
    RECURRENT_ASSIGN_OR_RETURN(
        cancellation.cancelled_at,
        TimeFromProto(request.cancelled_at(), "cancelled_at"));
    if (cancellation.cancelled_at > now) {
      return InvalidField("cancelled_at", "must not be in the future");
    }
  }
  return cancellation;
}

absl::StatusOr<EventQuery> ParseListSubscriptionEvents(
    const v1::ListSubscriptionEventsRequest& request, absl::Time now) {
  EventQuery query;
  if (request.customer_uuid().empty() && request.data_source_uuid().empty()) {
    return InvalidField("customer_uuid",
                        "customer_uuid or data_source_uuid is required");
  }
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(
      request.customer_uuid(), common::kCustomerIdPrefix, "customer_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  query.filter.customer_uuid = request.customer_uuid();
  query.filter.data_source_uuid = request.data_source_uuid();
  RECURRENT_ASSIGN_OR_RETURN(
      query.filter.as_of, ParseAsOf(request.has_as_of(), request.as_of(), now));
  RECURRENT_ASSIGN_OR_RETURN(
      query.page, ParsePage(request.page_size(), request.page_token()));
  return query;
}

}  // namespace recurrent::service
