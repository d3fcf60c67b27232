#include "persistence/row_codes.h"

#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recurrent::persistence {
namespace {

// One enum's codes: pairs of (value, code).
template <typename Enum, size_t N>
using CodeTable = std::pair<Enum, int64_t>[N];

template <typename Enum, size_t N>
int64_t ToCode(const CodeTable<Enum, N>& table, Enum value) {
  for (const auto& [v, code] : table) {
    if (v == value) return code;
  }
  return 0;  // unreachable: every table lists every enumerator
}

template <typename Enum, size_t N>
absl::StatusOr<Enum> FromCode(const CodeTable<Enum, N>& table, int64_t code,
                              absl::string_view what) {
  for (const auto& [value, c] : table) {
    if (c == code) return value;
  }
  return absl::InternalError(
      absl::StrCat("unknown ", what, " code ", code, " in the database"));
}

constexpr CodeTable<engine::CustomerStatus, 4> kCustomerStatuses = {
    {engine::CustomerStatus::kLead, 1},
    {engine::CustomerStatus::kActive, 2},
    {engine::CustomerStatus::kPastDue, 3},
    {engine::CustomerStatus::kCancelled, 4},
};
constexpr CodeTable<engine::SubscriptionStatus, 4> kSubscriptionStatuses = {
    {engine::SubscriptionStatus::kNotStarted, 1},
    {engine::SubscriptionStatus::kActive, 2},
    {engine::SubscriptionStatus::kPastDue, 3},
    {engine::SubscriptionStatus::kCancelled, 4},
};
constexpr CodeTable<engine::EventType, 6> kEventTypes = {
    {engine::EventType::kStarted, 1},     {engine::EventType::kPastDue, 2},
    {engine::EventType::kRecovered, 3},   {engine::EventType::kCancelled, 4},
    {engine::EventType::kAutoChurned, 5}, {engine::EventType::kReactivated, 6},
};
constexpr CodeTable<engine::MrrMovementType, 5> kMrrMovementTypes = {
    {engine::MrrMovementType::kNewBusiness, 1},
    {engine::MrrMovementType::kExpansion, 2},
    {engine::MrrMovementType::kContraction, 3},
    {engine::MrrMovementType::kChurn, 4},
    {engine::MrrMovementType::kReactivation, 5},
};
constexpr CodeTable<engine::LineItemType, 3> kLineItemTypes = {
    {engine::LineItemType::kSubscription, 1},
    {engine::LineItemType::kOneTime, 2},
    {engine::LineItemType::kTrial, 3},
};
constexpr CodeTable<engine::TransactionType, 2> kTransactionTypes = {
    {engine::TransactionType::kPayment, 1},
    {engine::TransactionType::kRefund, 2},
};
constexpr CodeTable<engine::TransactionResult, 2> kTransactionResults = {
    {engine::TransactionResult::kSuccessful, 1},
    {engine::TransactionResult::kFailed, 2},
};

}  // namespace

int64_t CustomerStatusCode(engine::CustomerStatus status) {
  return ToCode(kCustomerStatuses, status);
}
absl::StatusOr<engine::CustomerStatus> CustomerStatusFromCode(int64_t code) {
  return FromCode(kCustomerStatuses, code, "customer status");
}

int64_t SubscriptionStatusCode(engine::SubscriptionStatus status) {
  return ToCode(kSubscriptionStatuses, status);
}
absl::StatusOr<engine::SubscriptionStatus> SubscriptionStatusFromCode(
    int64_t code) {
  return FromCode(kSubscriptionStatuses, code, "subscription status");
}

int64_t EventTypeCode(engine::EventType type) {
  return ToCode(kEventTypes, type);
}
absl::StatusOr<engine::EventType> EventTypeFromCode(int64_t code) {
  return FromCode(kEventTypes, code, "event type");
}

int64_t MrrMovementTypeCode(engine::MrrMovementType type) {
  return ToCode(kMrrMovementTypes, type);
}
absl::StatusOr<engine::MrrMovementType> MrrMovementTypeFromCode(int64_t code) {
  return FromCode(kMrrMovementTypes, code, "MRR movement type");
}

int64_t LineItemTypeCode(engine::LineItemType type) {
  return ToCode(kLineItemTypes, type);
}
absl::StatusOr<engine::LineItemType> LineItemTypeFromCode(int64_t code) {
  return FromCode(kLineItemTypes, code, "line item type");
}

int64_t TransactionTypeCode(engine::TransactionType type) {
  return ToCode(kTransactionTypes, type);
}
absl::StatusOr<engine::TransactionType> TransactionTypeFromCode(int64_t code) {
  return FromCode(kTransactionTypes, code, "transaction type");
}

int64_t TransactionResultCode(engine::TransactionResult result) {
  return ToCode(kTransactionResults, result);
}
absl::StatusOr<engine::TransactionResult> TransactionResultFromCode(
    int64_t code) {
  return FromCode(kTransactionResults, code, "transaction result");
}

int64_t ChangeKindCode(ChangeKind kind) { return static_cast<int64_t>(kind); }

absl::StatusOr<ChangeKind> ChangeKindFromCode(int64_t code) {
  switch (code) {
    case 1:
      return ChangeKind::kEventPublished;
    case 2:
      return ChangeKind::kEventRetracted;
    case 3:
      return ChangeKind::kCustomerStatusChanged;
    case 4:
      return ChangeKind::kCustomerChanged;
    case 5:
      return ChangeKind::kSourceChanged;
    default:
      return absl::InternalError(
          absl::StrCat("unknown change kind code ", code, " in the database"));
  }
}

}  // namespace recurrent::persistence
