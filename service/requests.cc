#include "service/requests.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/errors.h"
#include "service/field_checks.h"
#include "service/iso_codes.h"

namespace recurrent::service {
namespace {

constexpr int kMaxTagsPerCall = 100;

// Customer fields that UpdateCustomer may change, in proto field order.
constexpr absl::string_view kWritableCustomerFields[] = {
    "name",    "email",           "company",
    "country", "state",           "city",
    "zip",     "lead_created_at", "free_trial_started_at"};
// Customer fields that exist but are not writable.
constexpr absl::string_view kReadOnlyCustomerFields[] = {
    "uuid", "data_source_uuid", "external_id", "external_ids", "status",
    "tags", "created_at",       "updated_at"};

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
                          country.substr(0, 16), "\""));
}

std::optional<absl::Time> OptionalTime(bool present,
                                       const google::protobuf::Timestamp& ts) {
  if (!present) return std::nullopt;
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// Checks one writable customer field of `customer` (a request message) and
// copies its value into `out`. `prefix` is the field path of `customer`.
absl::Status ParseCustomerField(const v1::Customer& customer,
                                absl::string_view name,
                                absl::string_view prefix,
                                persistence::Customer& out) {
  const std::string field = absl::StrCat(prefix, name);
  if (name == "name") {
    RECURRENT_RETURN_IF_ERROR(
        CheckLength(customer.name(), kMaxNameLength, field));
    out.name = customer.name();
  } else if (name == "email") {
    RECURRENT_RETURN_IF_ERROR(CheckEmail(customer.email(), field));
    out.email = customer.email();
  } else if (name == "company") {
    RECURRENT_RETURN_IF_ERROR(
        CheckLength(customer.company(), kMaxNameLength, field));
    out.company = customer.company();
  } else if (name == "country") {
    RECURRENT_RETURN_IF_ERROR(CheckCountry(customer.country(), field));
    out.country = customer.country();
  } else if (name == "state") {
    RECURRENT_RETURN_IF_ERROR(
        CheckLength(customer.state(), kMaxNameLength, field));
    out.state = customer.state();
  } else if (name == "city") {
    RECURRENT_RETURN_IF_ERROR(
        CheckLength(customer.city(), kMaxNameLength, field));
    out.city = customer.city();
  } else if (name == "zip") {
    RECURRENT_RETURN_IF_ERROR(
        CheckLength(customer.zip(), kMaxNameLength, field));
    out.zip = customer.zip();
  } else if (name == "lead_created_at") {
    if (customer.has_lead_created_at()) {
      RECURRENT_RETURN_IF_ERROR(
          TimeFromProto(customer.lead_created_at(), field));
    }
    out.lead_created_at = OptionalTime(customer.has_lead_created_at(),
                                       customer.lead_created_at());
  } else if (name == "free_trial_started_at") {
    if (customer.has_free_trial_started_at()) {
      RECURRENT_RETURN_IF_ERROR(
          TimeFromProto(customer.free_trial_started_at(), field));
    }
    out.free_trial_started_at = OptionalTime(
        customer.has_free_trial_started_at(), customer.free_trial_started_at());
  }
  return absl::OkStatus();
}

bool IsPopulated(const v1::Customer& customer, absl::string_view name) {
  if (name == "name") return !customer.name().empty();
  if (name == "email") return !customer.email().empty();
  if (name == "company") return !customer.company().empty();
  if (name == "country") return !customer.country().empty();
  if (name == "state") return !customer.state().empty();
  if (name == "city") return !customer.city().empty();
  if (name == "zip") return !customer.zip().empty();
  if (name == "lead_created_at") return customer.has_lead_created_at();
  if (name == "free_trial_started_at") {
    return customer.has_free_trial_started_at();
  }
  return false;
}

void DefaultLeadFromTrial(persistence::Customer& customer) {
  if (customer.free_trial_started_at.has_value() &&
      !customer.lead_created_at.has_value()) {
    customer.lead_created_at = customer.free_trial_started_at;
  }
}

}  // namespace

absl::Status CheckId(absl::string_view value, absl::string_view prefix,
                     absl::string_view field) {
  if (value.empty()) return InvalidField(field, "required");
  if (!absl::StartsWith(value, prefix) || value.size() > kMaxIdLength) {
    return InvalidField(
        field, absl::StrCat("must be an id starting with \"", prefix, "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckOptionalId(absl::string_view value, absl::string_view prefix,
                             absl::string_view field) {
  return value.empty() ? absl::OkStatus() : CheckId(value, prefix, field);
}

absl::StatusOr<persistence::PageRequest> ParsePage(int page_size,
                                                   absl::string_view token) {
  if (page_size < 0) return InvalidField("page_size", "must not be negative");
  // Our tokens are short; anything longer is not one of them.
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(token, kMaxPageTokenLength, "page_token"));
  persistence::PageRequest page;
  page.page_size = page_size == 0
                       ? persistence::kDefaultPageSize
                       : std::min(page_size, persistence::kMaxPageSize);
  page.page_token = std::string(token);
  return page;
}

absl::StatusOr<NewDataSource> ParseCreateDataSource(
    const v1::CreateDataSourceRequest& request) {
  RECURRENT_RETURN_IF_ERROR(
      CheckRequired(request.name(), kMaxNameLength, "name"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.system(), kMaxNameLength, "system"));
  NewDataSource source;
  source.name = std::string(absl::StripAsciiWhitespace(request.name()));
  source.system = std::string(absl::StripAsciiWhitespace(request.system()));
  if (source.system.empty()) source.system = "custom";
  return source;
}

absl::StatusOr<SettingsChange> ParseUpdateSettings(
    const v1::UpdateSettingsRequest& request, absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(CheckId(request.data_source_uuid(),
                                    common::kDataSourceIdPrefix,
                                    "data_source_uuid"));
  if (!request.has_past_due_handling()) {
    return InvalidField("past_due_handling", "required");
  }
  const v1::PastDueHandling& handling = request.past_due_handling();
  SettingsChange change;
  change.dry_run = request.dry_run();
  const int days = handling.auto_churn_after_days();
  switch (handling.mode()) {
    case v1::PAST_DUE_MODE_KEEP:
      if (days != 0) {
        return InvalidField("past_due_handling.auto_churn_after_days",
                            "must be 0 with PAST_DUE_MODE_KEEP");
      }
      change.past_due_handling = {persistence::PastDueMode::kKeep, 0};
      break;
    case v1::PAST_DUE_MODE_AUTO_CHURN:
      if (days < 1 || days > 90) {
        return InvalidField("past_due_handling.auto_churn_after_days",
                            absl::StrCat("must be between 1 and 90 with "
                                         "PAST_DUE_MODE_AUTO_CHURN, got ",
                                         days));
      }
      change.past_due_handling = {persistence::PastDueMode::kAutoChurn, days};
      break;
    case v1::PAST_DUE_MODE_UNSPECIFIED:
      return InvalidField("past_due_handling.mode",
                          "required: PAST_DUE_MODE_KEEP or "
                          "PAST_DUE_MODE_AUTO_CHURN");
    default:
      return InvalidField("past_due_handling.mode", "unknown mode");
  }
  if (request.has_effective_at()) {
    RECURRENT_ASSIGN_OR_RETURN(
        absl::Time effective_at,
        TimeFromProto(request.effective_at(), "effective_at"));
    if (effective_at > now) {
      return InvalidField("effective_at", "must not be in the future");
    }
    change.effective_at = effective_at;
  }
  return change;
}

absl::StatusOr<persistence::Customer> ParseCreateCustomer(
    const v1::CreateCustomerRequest& request) {
  if (!request.has_customer()) return InvalidField("customer", "required");
  const v1::Customer& customer = request.customer();
  RECURRENT_RETURN_IF_ERROR(CheckId(customer.data_source_uuid(),
                                    common::kDataSourceIdPrefix,
                                    "customer.data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckRequired(customer.external_id(), kMaxIdLength,
                                          "customer.external_id"));
  persistence::Customer out;
  out.data_source_uuid = customer.data_source_uuid();
  out.external_id = customer.external_id();
  for (absl::string_view name : kWritableCustomerFields) {
    RECURRENT_RETURN_IF_ERROR(
        ParseCustomerField(customer, name, "customer.", out));
  }
  DefaultLeadFromTrial(out);
  return out;
}

absl::StatusOr<CustomerUpdate> ParseUpdateCustomer(
    const v1::UpdateCustomerRequest& request) {
  if (!request.has_customer()) return InvalidField("customer", "required");
  const v1::Customer& customer = request.customer();
  RECURRENT_RETURN_IF_ERROR(
      CheckId(customer.uuid(), common::kCustomerIdPrefix, "customer.uuid"));
  CustomerUpdate update;
  update.uuid = customer.uuid();
  if (request.update_mask().paths().empty()) {
    // AIP-134: no mask means every populated writable field.
    for (absl::string_view name : kWritableCustomerFields) {
      if (IsPopulated(customer, name)) update.paths.emplace_back(name);
    }
  } else {
    for (const std::string& path : request.update_mask().paths()) {
      if (In(kReadOnlyCustomerFields, path)) {
        return InvalidField("update_mask", absl::StrCat("field \"", path,
                                                        "\" is not writable"));
      }
      if (!In(kWritableCustomerFields, path)) {
        return InvalidField(
            "update_mask",
            absl::StrCat("unknown field \"", path.substr(0, 64),
                         "\"; writable fields are ",
                         absl::StrJoin(kWritableCustomerFields, ", ")));
      }
      if (!In(update.paths, path)) update.paths.push_back(path);
    }
  }
  if (update.paths.empty()) {
    return InvalidField("update_mask", "names no field to update");
  }
  for (const std::string& path : update.paths) {
    RECURRENT_RETURN_IF_ERROR(
        ParseCustomerField(customer, path, "customer.", update.values));
  }
  return update;
}

void ApplyCustomerUpdate(const CustomerUpdate& update,
                         persistence::Customer& customer) {
  const persistence::Customer& v = update.values;
  for (const std::string& path : update.paths) {
    if (path == "name") customer.name = v.name;
    if (path == "email") customer.email = v.email;
    if (path == "company") customer.company = v.company;
    if (path == "country") customer.country = v.country;
    if (path == "state") customer.state = v.state;
    if (path == "city") customer.city = v.city;
    if (path == "zip") customer.zip = v.zip;
    if (path == "lead_created_at") customer.lead_created_at = v.lead_created_at;
    if (path == "free_trial_started_at") {
      customer.free_trial_started_at = v.free_trial_started_at;
    }
  }
  DefaultLeadFromTrial(customer);
}

absl::StatusOr<persistence::CustomerFilter> ParseCustomerFilter(
    const v1::ListCustomersRequest& request) {
  persistence::CustomerFilter filter;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.external_id(), kMaxIdLength, "external_id"));
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
  return filter;
}

absl::StatusOr<std::vector<std::string>> ParseTags(
    const google::protobuf::RepeatedPtrField<std::string>& tags) {
  if (tags.empty()) return InvalidField("tags", "at least one tag is required");
  if (tags.size() > kMaxTagsPerCall) {
    return InvalidField(
        "tags", absl::StrCat("at most ", kMaxTagsPerCall, " tags per call"));
  }
  std::vector<std::string> out;
  out.reserve(tags.size());
  for (int i = 0; i < tags.size(); ++i) {
    const std::string field = absl::StrCat("tags[", i, "]");
    absl::string_view tag = absl::StripAsciiWhitespace(tags[i]);
    if (tag.empty()) return InvalidField(field, "must not be empty");
    RECURRENT_RETURN_IF_ERROR(CheckLength(tag, kMaxNameLength, field));
    if (tag == engine::kAutoChurnedTag) {
      return InvalidField(field, "is a derived tag and cannot be changed");
    }
    out.emplace_back(tag);
  }
  return out;
}

absl::StatusOr<absl::Time> ParseAsOf(bool has_as_of,
                                     const google::protobuf::Timestamp& as_of,
                                     absl::Time now) {
  if (!has_as_of) return now;
  return TimeFromProto(as_of, "as_of");
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
