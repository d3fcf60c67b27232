// Facts about one customer, as the engine consumes them.
//
// These are plain structs: the persistence layer fills them from its rows and
// the engine reads them (engine/customer_timeline.h, engine/evaluator.h).
// All times are UTC instants; identifiers are the strings persistence stores.
// Nothing here is validated on construction: ValidateFacts() reports the
// first malformed field.
#ifndef RECURRENT_ENGINE_FACTS_H_
#define RECURRENT_ENGINE_FACTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace recurrent::engine {

// The largest amount of money, in cents, any one amount may be (|amount| for
// line items): 10^13 currency units. Sums over bounded amounts cannot
// overflow int64 for any realistic invoice, and the engine's sums saturate
// regardless.
inline constexpr int64_t kMaxAmountInCents = 1'000'000'000'000'000;

enum class LineItemType {
  // A recurring charge for `service_period_start`..`service_period_end` of
  // the subscription `subscription_external_id` (R1).
  kSubscription,
  // A one-off charge; it creates no subscription.
  kOneTime,
  // A trial period of a subscription; it never starts the subscription and
  // never raises a delinquency signal (R1, R3).
  kTrial,
};

struct LineItem {
  LineItemType type = LineItemType::kSubscription;
  // Required for kSubscription and kTrial; ignored for kOneTime.
  std::string subscription_external_id;
  // The half-open service period [start, end). Required (start < end) for
  // kSubscription; ignored otherwise.
  absl::Time service_period_start;
  absl::Time service_period_end;
  // May be zero or negative (discounts); counts toward the amount due (R2).
  // The line total after discounts, tax included.
  int64_t amount_in_cents = 0;
  // The tax included in amount_in_cents; MRR excludes it (M1). Must be
  // within ±kMaxAmountInCents.
  int64_t tax_amount_in_cents = 0;
  // A partial-period charge or credit: its MRR is scaled to the full period
  // it falls in (M1).
  bool prorated = false;
};

enum class TransactionType { kPayment, kRefund };
enum class TransactionResult { kSuccessful, kFailed };

struct Transaction {
  TransactionType type = TransactionType::kPayment;
  TransactionResult result = TransactionResult::kSuccessful;
  absl::Time date;
  // A payment without an amount pays the whole amount due (R2). Must not be
  // negative.
  std::optional<int64_t> amount_in_cents;
};

struct Invoice {
  std::string data_source_uuid;
  // Unique per data source; used in status reasons.
  std::string external_id;
  // ISO 4217, e.g. "EUR"; used in status reasons only.
  std::string currency;
  // An invoice without a due date never makes a subscription past due.
  std::optional<absl::Time> due_date;
  std::vector<LineItem> line_items;
  std::vector<Transaction> transactions;
};

// An explicit cancellation (CancelSubscription) of the subscription
// (data_source_uuid, subscription_external_id) at `cancelled_at` (R4).
struct Cancellation {
  std::string data_source_uuid;
  std::string subscription_external_id;
  absl::Time cancelled_at;
};

// Everything the engine knows about one customer. A merged customer may hold
// invoices and cancellations of several data sources. Order does not matter.
struct CustomerFacts {
  std::vector<Invoice> invoices;
  std::vector<Cancellation> cancellations;
};

// Returns OK if `facts` are well formed, otherwise kInvalidArgument naming
// the first offending field, e.g. "invoices[2] (INV-7).line_items[0]:
// service_period_end must be after service_period_start". Checks: every time
// is finite; SUBSCRIPTION and TRIAL line items name a subscription;
// SUBSCRIPTION line items have start < end; amounts are within
// kMaxAmountInCents (line items' amount and tax: in absolute value; payments:
// not negative);
// invoices and cancellations name a data source.
absl::Status ValidateFacts(const CustomerFacts& facts);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_FACTS_H_
