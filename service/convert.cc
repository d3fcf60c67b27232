#include "service/convert.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/invoices.h"
#include "service/change_feed_requests.h"
#include "service/errors.h"

namespace recurrent::service {
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

v1::PastDueMode PastDueModeToProto(core::PastDueMode mode) {
  switch (mode) {
    case core::PastDueMode::kKeep:
      return v1::PAST_DUE_MODE_KEEP;
    case core::PastDueMode::kAutoChurn:
      return v1::PAST_DUE_MODE_AUTO_CHURN;
  }
  return v1::PAST_DUE_MODE_UNSPECIFIED;
}

void MrrAmountsToProto(
    const std::vector<engine::MrrAmount>& amounts,
    google::protobuf::RepeatedPtrField<v1::MrrAmount>* out) {
  for (const engine::MrrAmount& amount : amounts) {
    v1::MrrAmount* proto = out->Add();
    proto->set_currency(amount.currency);
    proto->set_mrr_in_cents(amount.mrr_in_cents);
  }
}

void ImpactToProto(const core::SettingsImpact& impact,
                   v1::SettingsImpact* out) {
  out->set_customers_reprocessed(impact.customers_reprocessed);
  out->set_auto_churns_reversed(impact.auto_churns_reversed);
  out->set_auto_churns_applied(impact.auto_churns_applied);
  out->set_customers_status_changed(impact.customers_status_changed);
  MrrAmountsToProto(impact.mrr_change, out->mutable_mrr_change());
  MrrAmountsToProto(impact.churned_mrr, out->mutable_churned_mrr());
}

void SubscriptionChangeToProto(const core::SubscriptionChange& change,
                               v1::SubscriptionChange* out) {
  out->set_subscription_uuid(change.subscription_uuid);
  out->set_subscription_external_id(change.subscription_external_id);
  out->set_customer_uuid(change.customer_uuid);
  out->set_customer_external_id(change.customer_external_id);
  out->set_status_before(SubscriptionStatusToProto(change.status_before));
  out->set_status_after(SubscriptionStatusToProto(change.status_after));
  for (absl::Time t : change.auto_churns_added) {
    *out->add_auto_churns_added() = TimeToProto(t);
  }
  for (absl::Time t : change.auto_churns_removed) {
    *out->add_auto_churns_removed() = TimeToProto(t);
  }
}

void SettingsToProto(const core::SourceSettings& settings,
                     v1::SourceSettings* out) {
  out->set_data_source_uuid(settings.data_source_uuid);
  out->mutable_past_due_handling()->set_mode(
      PastDueModeToProto(settings.past_due_handling.mode));
  out->mutable_past_due_handling()->set_auto_churn_after_days(
      settings.past_due_handling.auto_churn_after_days);
  out->set_version(settings.version);
  *out->mutable_applied_at() = TimeToProto(settings.applied_at);
}

void DataSourceToProto(const core::DataSource& source, v1::DataSource* out) {
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
  out->set_status_reason(customer.status_reason);
  std::vector<std::string> tags = customer.tags;
  tags.insert(tags.end(), customer.derived_tags.begin(),
              customer.derived_tags.end());
  std::sort(tags.begin(), tags.end());
  for (std::string& tag : tags) out->add_tags(std::move(tag));
  *out->mutable_created_at() = TimeToProto(customer.created_at);
  *out->mutable_updated_at() = TimeToProto(customer.updated_at);
  MrrAmountsToProto(customer.mrr, out->mutable_mrr());
}

void EvaluatedCustomerToProto(const persistence::Customer& customer,
                              const engine::CustomerEvaluation& evaluation,
                              absl::string_view status_reason,
                              v1::Customer* out) {
  persistence::Customer evaluated = customer;
  evaluated.status = evaluation.status;
  evaluated.status_reason = std::string(status_reason);
  evaluated.derived_tags = evaluation.derived_tags;
  CustomerToProto(evaluated, out);
}

v1::SubscriptionStatus SubscriptionStatusToProto(
    engine::SubscriptionStatus status) {
  switch (status) {
    case engine::SubscriptionStatus::kActive:
      return v1::SUBSCRIPTION_STATUS_ACTIVE;
    case engine::SubscriptionStatus::kPastDue:
      return v1::SUBSCRIPTION_STATUS_PAST_DUE;
    case engine::SubscriptionStatus::kCancelled:
      return v1::SUBSCRIPTION_STATUS_CANCELLED;
    case engine::SubscriptionStatus::kNotStarted:
      break;
  }
  return v1::SUBSCRIPTION_STATUS_UNSPECIFIED;
}

v1::SubscriptionEventType EventTypeToProto(engine::EventType type) {
  switch (type) {
    case engine::EventType::kStarted:
      return v1::SUBSCRIPTION_EVENT_TYPE_STARTED;
    case engine::EventType::kPastDue:
      return v1::SUBSCRIPTION_EVENT_TYPE_PAST_DUE;
    case engine::EventType::kRecovered:
      return v1::SUBSCRIPTION_EVENT_TYPE_RECOVERED;
    case engine::EventType::kCancelled:
      return v1::SUBSCRIPTION_EVENT_TYPE_CANCELLED;
    case engine::EventType::kAutoChurned:
      return v1::SUBSCRIPTION_EVENT_TYPE_AUTO_CHURNED;
    case engine::EventType::kReactivated:
      return v1::SUBSCRIPTION_EVENT_TYPE_REACTIVATED;
  }
  return v1::SUBSCRIPTION_EVENT_TYPE_UNSPECIFIED;
}

void SubscriptionToProto(const persistence::SubscriptionRef& ref,
                         const engine::SubscriptionEvaluation& evaluation,
                         const engine::MrrAmount& mrr, v1::Subscription* out) {
  out->set_uuid(ref.uuid);
  out->set_external_id(ref.external_id);
  out->set_customer_uuid(ref.customer_uuid);
  out->set_data_source_uuid(ref.data_source_uuid);
  out->set_status(SubscriptionStatusToProto(evaluation.status));
  if (evaluation.started_at) {
    *out->mutable_started_at() = TimeToProto(*evaluation.started_at);
  }
  if (evaluation.past_due_since) {
    *out->mutable_past_due_since() = TimeToProto(*evaluation.past_due_since);
  }
  if (evaluation.cancelled_at) {
    *out->mutable_cancelled_at() = TimeToProto(*evaluation.cancelled_at);
  }
  out->set_auto_churned(evaluation.auto_churned);
  out->set_status_reason(evaluation.status_reason);
  if (evaluation.current_period_start) {
    *out->mutable_current_period_start() =
        TimeToProto(*evaluation.current_period_start);
  }
  if (evaluation.current_period_end) {
    *out->mutable_current_period_end() =
        TimeToProto(*evaluation.current_period_end);
  }
  out->set_mrr_in_cents(mrr.mrr_in_cents);
  out->set_currency(mrr.currency);
}

void EventToProto(const persistence::SubscriptionEvent& event,
                  v1::SubscriptionEvent* out) {
  out->set_uuid(event.uuid);
  out->set_type(EventTypeToProto(event.type));
  out->set_subscription_uuid(event.subscription.uuid);
  out->set_subscription_external_id(event.subscription.external_id);
  out->set_customer_uuid(event.subscription.customer_uuid);
  out->set_data_source_uuid(event.subscription.data_source_uuid);
  *out->mutable_occurred_at() = TimeToProto(event.occurred_at);
  out->set_status_after(SubscriptionStatusToProto(event.status_after));
}

void TransactionToProto(const persistence::Transaction& transaction,
                        v1::Transaction* out) {
  out->set_uuid(transaction.uuid);
  out->set_external_id(transaction.external_id);
  out->set_type(transaction.type == engine::TransactionType::kPayment
                    ? v1::TRANSACTION_TYPE_PAYMENT
                    : v1::TRANSACTION_TYPE_REFUND);
  out->set_result(transaction.result == engine::TransactionResult::kSuccessful
                      ? v1::TRANSACTION_RESULT_SUCCESSFUL
                      : v1::TRANSACTION_RESULT_FAILED);
  *out->mutable_date() = TimeToProto(transaction.date);
  if (transaction.amount_in_cents) {
    out->set_amount_in_cents(*transaction.amount_in_cents);
  }
}

namespace {

v1::LineItemType LineItemTypeToProto(engine::LineItemType type) {
  switch (type) {
    case engine::LineItemType::kSubscription:
      return v1::LINE_ITEM_TYPE_SUBSCRIPTION;
    case engine::LineItemType::kOneTime:
      return v1::LINE_ITEM_TYPE_ONE_TIME;
    case engine::LineItemType::kTrial:
      return v1::LINE_ITEM_TYPE_TRIAL;
  }
  return v1::LINE_ITEM_TYPE_UNSPECIFIED;
}

}  // namespace

void InvoiceToProto(const persistence::Invoice& invoice, absl::Time as_of,
                    v1::Invoice* out) {
  out->set_uuid(invoice.uuid);
  out->set_external_id(invoice.external_id);
  out->set_customer_uuid(invoice.customer_uuid);
  out->set_data_source_uuid(invoice.data_source_uuid);
  *out->mutable_date() = TimeToProto(invoice.date);
  if (invoice.due_date)
    *out->mutable_due_date() = TimeToProto(*invoice.due_date);
  out->set_currency(invoice.currency);
  for (const persistence::LineItem& item : invoice.line_items) {
    v1::LineItem* li = out->add_line_items();
    li->set_uuid(item.uuid);
    li->set_external_id(item.external_id);
    li->set_type(LineItemTypeToProto(item.type));
    li->set_subscription_external_id(item.subscription_external_id);
    li->set_plan_external_id(item.plan_external_id);
    if (item.service_period_end > item.service_period_start) {
      *li->mutable_service_period_start() =
          TimeToProto(item.service_period_start);
      *li->mutable_service_period_end() = TimeToProto(item.service_period_end);
    }
    li->set_amount_in_cents(item.amount_in_cents);
    li->set_quantity(item.quantity);
    li->set_discount_amount_in_cents(item.discount_amount_in_cents);
    li->set_tax_amount_in_cents(item.tax_amount_in_cents);
    li->set_prorated(item.prorated);
    li->set_description(item.description);
  }
  for (const persistence::Transaction& transaction : invoice.transactions) {
    TransactionToProto(transaction, out->add_transactions());
  }
  const core::InvoiceAmounts amounts = core::AmountsAt(invoice, as_of);
  out->set_amount_due_in_cents(amounts.due_in_cents);
  out->set_amount_paid_in_cents(amounts.paid_in_cents);
  out->set_open(amounts.open);
}

v1::ApiKeyRole ApiKeyRoleToProto(persistence::ApiKeyRole role) {
  switch (role) {
    case persistence::ApiKeyRole::kReader:
      return v1::API_KEY_ROLE_READER;
    case persistence::ApiKeyRole::kWriter:
      return v1::API_KEY_ROLE_WRITER;
    case persistence::ApiKeyRole::kAdmin:
      return v1::API_KEY_ROLE_ADMIN;
  }
  return v1::API_KEY_ROLE_UNSPECIFIED;
}

std::optional<persistence::ApiKeyRole> ApiKeyRoleFromProto(
    v1::ApiKeyRole role) {
  switch (role) {
    case v1::API_KEY_ROLE_READER:
      return persistence::ApiKeyRole::kReader;
    case v1::API_KEY_ROLE_WRITER:
      return persistence::ApiKeyRole::kWriter;
    case v1::API_KEY_ROLE_ADMIN:
      return persistence::ApiKeyRole::kAdmin;
    default:
      return std::nullopt;
  }
}

void ApiKeyToProto(const persistence::ApiKey& key, v1::ApiKey* out) {
  out->set_uuid(key.uuid);
  out->set_name(key.name);
  out->set_role(ApiKeyRoleToProto(key.role));
  *out->mutable_created_at() = TimeToProto(key.created_at);
  if (key.revoked_at.has_value()) {
    *out->mutable_revoked_at() = TimeToProto(*key.revoked_at);
  }
}

}  // namespace recurrent::service

namespace recurrent::service {

void ChangeToProto(const persistence::ChangeRow& row, v1::Change* out) {
  out->set_cursor(ChangeCursor(core::Store::PositionOf(row)));
  *out->mutable_committed_at() = TimeToProto(row.committed_at);
  out->set_data_source_uuid(row.data_source_uuid);
  out->set_customer_uuid(row.customer_uuid);
  switch (row.kind) {
    case persistence::ChangeKind::kEventPublished:
      out->set_type(v1::CHANGE_TYPE_EVENT_PUBLISHED);
      EventToProto(row.event, out->mutable_event());
      break;
    case persistence::ChangeKind::kEventRetracted:
      out->set_type(v1::CHANGE_TYPE_EVENT_RETRACTED);
      EventToProto(row.event, out->mutable_event());
      break;
    case persistence::ChangeKind::kCustomerStatusChanged:
      out->set_type(v1::CHANGE_TYPE_CUSTOMER_STATUS_CHANGED);
      out->set_customer_status(CustomerStatusToProto(row.status));
      out->set_previous_customer_status(
          CustomerStatusToProto(row.previous_status));
      break;
    case persistence::ChangeKind::kCustomerChanged:
    case persistence::ChangeKind::kSourceChanged:
      out->set_type(v1::CHANGE_TYPE_UNSPECIFIED);  // not part of the feed
      break;
  }
}

}  // namespace recurrent::service
