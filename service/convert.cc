#include "service/convert.h"

#include <cstdint>

#include "service/errors.h"

namespace recurrent {
namespace {

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

}  // namespace

absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& ts,
                                         absl::string_view field) {
  if (ts.seconds() < kMinTimestampSeconds ||
      ts.seconds() > kMaxTimestampSeconds) {
    return InvalidField(field, "timestamp out of range");
  }
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return InvalidField(field, "nanos must be in 0..999999999");
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

google::protobuf::Timestamp TimeToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t seconds = absl::ToUnixSeconds(t);
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

v1::PastDueMode PastDueModeToProto(persistence::PastDueMode mode) {
  switch (mode) {
    case persistence::PastDueMode::kKeep:
      return v1::PAST_DUE_MODE_KEEP;
    case persistence::PastDueMode::kAutoChurn:
      return v1::PAST_DUE_MODE_AUTO_CHURN;
  }
  return v1::PAST_DUE_MODE_UNSPECIFIED;
}

void ImpactToProto(const persistence::SettingsImpact& impact,
                   v1::SettingsImpact* out) {
  out->set_customers_reprocessed(impact.customers_reprocessed);
  out->set_auto_churns_reversed(impact.auto_churns_reversed);
  out->set_auto_churns_applied(impact.auto_churns_applied);
  out->set_customers_status_changed(impact.customers_status_changed);
}

void SettingsToProto(const persistence::SourceSettings& settings,
                     v1::SourceSettings* out) {
  out->set_data_source_uuid(settings.data_source_uuid);
  out->mutable_past_due_handling()->set_mode(
      PastDueModeToProto(settings.past_due_handling.mode));
  out->mutable_past_due_handling()->set_auto_churn_after_days(
      settings.past_due_handling.auto_churn_after_days);
  out->set_version(settings.version);
  *out->mutable_applied_at() = TimeToProto(settings.applied_at);
}

void DataSourceToProto(const persistence::DataSource& source,
                       v1::DataSource* out) {
  out->set_uuid(source.uuid);
  out->set_name(source.name);
  out->set_system(source.system);
  *out->mutable_created_at() = TimeToProto(source.created_at);
  SettingsToProto(source.settings, out->mutable_settings());
}

v1::CustomerStatus CustomerStatusToProto(persistence::CustomerStatus status) {
  switch (status) {
    case persistence::CustomerStatus::kLead:
      return v1::CUSTOMER_STATUS_LEAD;
    case persistence::CustomerStatus::kActive:
      return v1::CUSTOMER_STATUS_ACTIVE;
    case persistence::CustomerStatus::kPastDue:
      return v1::CUSTOMER_STATUS_PAST_DUE;
    case persistence::CustomerStatus::kCancelled:
      return v1::CUSTOMER_STATUS_CANCELLED;
  }
  return v1::CUSTOMER_STATUS_UNSPECIFIED;
}

std::optional<persistence::CustomerStatus> CustomerStatusFromProto(
    v1::CustomerStatus status) {
  switch (status) {
    case v1::CUSTOMER_STATUS_LEAD:
      return persistence::CustomerStatus::kLead;
    case v1::CUSTOMER_STATUS_ACTIVE:
      return persistence::CustomerStatus::kActive;
    case v1::CUSTOMER_STATUS_PAST_DUE:
      return persistence::CustomerStatus::kPastDue;
    case v1::CUSTOMER_STATUS_CANCELLED:
      return persistence::CustomerStatus::kCancelled;
    default:
      return std::nullopt;
  }
}

void CustomerToProto(const persistence::Customer& customer, v1::Customer* out) {
  out->set_uuid(customer.uuid);
  out->set_data_source_uuid(customer.data_source_uuid);
  out->set_external_id(customer.external_id);
  for (const persistence::ExternalId& id : customer.external_ids) {
    v1::CustomerExternalId* proto_id = out->add_external_ids();
    proto_id->set_data_source_uuid(id.data_source_uuid);
    proto_id->set_external_id(id.external_id);
  }
  out->set_name(customer.name);
  out->set_email(customer.email);
  out->set_company(customer.company);
  out->set_country(customer.country);
  out->set_state(customer.state);
  out->set_city(customer.city);
  out->set_zip(customer.zip);
  if (customer.lead_created_at.has_value()) {
    *out->mutable_lead_created_at() = TimeToProto(*customer.lead_created_at);
  }
  if (customer.free_trial_started_at.has_value()) {
    *out->mutable_free_trial_started_at() =
        TimeToProto(*customer.free_trial_started_at);
  }
  out->set_status(CustomerStatusToProto(customer.status));
  for (const std::string& tag : customer.tags) out->add_tags(tag);
  *out->mutable_created_at() = TimeToProto(customer.created_at);
  *out->mutable_updated_at() = TimeToProto(customer.updated_at);
}

}  // namespace recurrent
