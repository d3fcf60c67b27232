// Conversions between API messages (recurrent.v1) and storage records.
#ifndef RECURRENT_SERVICE_CONVERT_H_
#define RECURRENT_SERVICE_CONVERT_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/settings.h"
#include "core/settings_changes.h"
#include "engine/evaluation.h"
#include "engine/mrr_types.h"
#include "google/protobuf/timestamp.pb.h"
#include "persistence/api_key_store.h"
#include "persistence/records.h"
#include "recurrent/v1/api_key.pb.h"
#include "recurrent/v1/change_feed.pb.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"
#include "recurrent/v1/source_settings.pb.h"

namespace recurrent::service {

// Timestamps. TimeFromProto fails with InvalidField(field, …) for a value
// outside 0001-01-01..9999-12-31 or with nanos outside 0..999,999,999.
absl::StatusOr<absl::Time> TimeFromProto(const google::protobuf::Timestamp& ts,
                                         absl::string_view field);
google::protobuf::Timestamp TimeToProto(absl::Time t);

// Settings.
v1::PastDueMode PastDueModeToProto(core::PastDueMode mode);
void SettingsToProto(const core::SourceSettings& settings,
                     v1::SourceSettings* out);
// Amounts in the order given (the core's: by currency).
void MrrAmountsToProto(
    const std::vector<engine::MrrAmount>& amounts,
    google::protobuf::RepeatedPtrField<v1::MrrAmount>* out);
// With its MRR amounts.
void ImpactToProto(const core::SettingsImpact& impact, v1::SettingsImpact* out);
void SubscriptionChangeToProto(const core::SubscriptionChange& change,
                               v1::SubscriptionChange* out);

// API keys (never their secrets or hashes).
v1::ApiKeyRole ApiKeyRoleToProto(persistence::ApiKeyRole role);
std::optional<persistence::ApiKeyRole> ApiKeyRoleFromProto(v1::ApiKeyRole role);
void ApiKeyToProto(const persistence::ApiKey& key, v1::ApiKey* out);

// Data sources.
void DataSourceToProto(const core::DataSource& source, v1::DataSource* out);

// Customers.
v1::CustomerStatus CustomerStatusToProto(persistence::CustomerStatus status);
std::optional<persistence::CustomerStatus> CustomerStatusFromProto(
    v1::CustomerStatus status);
// Tags are the user tags followed by the derived ones, sorted together. The
// status and status_reason are the stored ones; mrr is customer.mrr.
void CustomerToProto(const persistence::Customer& customer, v1::Customer* out);
// `customer` as evaluated by the engine: its status, `status_reason` and
// derived tags replace the stored ones.
void EvaluatedCustomerToProto(const persistence::Customer& customer,
                              const engine::CustomerEvaluation& evaluation,
                              absl::string_view status_reason,
                              v1::Customer* out);

// Subscriptions and events.
v1::SubscriptionStatus SubscriptionStatusToProto(
    engine::SubscriptionStatus status);
v1::SubscriptionEventType EventTypeToProto(engine::EventType type);
// `mrr` is its MRR and currency at the evaluation's instant.
void SubscriptionToProto(const persistence::SubscriptionRef& ref,
                         const engine::SubscriptionEvaluation& evaluation,
                         const engine::MrrAmount& mrr, v1::Subscription* out);
// status_after is the stored event's (computed by the engine).
void EventToProto(const persistence::SubscriptionEvent& event,
                  v1::SubscriptionEvent* out);

// A change-log row of the feed (published, retracted, status changed).
void ChangeToProto(const persistence::ChangeRow& row, v1::Change* out);

// Invoices.
// With its amounts: amount due, and amount paid and open at `as_of` (R2,
// core::AmountsAt).
void InvoiceToProto(const persistence::Invoice& invoice, absl::Time as_of,
                    v1::Invoice* out);
void TransactionToProto(const persistence::Transaction& transaction,
                        v1::Transaction* out);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CONVERT_H_
