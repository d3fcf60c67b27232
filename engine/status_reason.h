// The one-sentence `status_reason` of a subscription, for support people.
#ifndef RECURRENT_ENGINE_STATUS_REASON_H_
#define RECURRENT_ENGINE_STATUS_REASON_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace recurrent::engine {

// Why a subscription has its status at an instant.
enum class ReasonKind {
  kNotStarted,     // no paid service period has started (R1)
  kActive,         // started, not cancelled, no live signal (R5)
  kInvoiceUnpaid,  // PAST_DUE held by an invoice signal (R3 a)
  kNotRenewed,     // PAST_DUE held by a renewal signal (R3 b)
  kCancelled,      // CANCELLED by an explicit cancellation (R4)
  kAutoChurned,    // CANCELLED by an auto-churn (R6)
};

// The data a reason sentence is made of. Which fields are read depends on
// `kind`; the others are ignored.
struct StatusReason {
  ReasonKind kind = ReasonKind::kNotStarted;
  // kActive, kInvoiceUnpaid, kNotRenewed: start of the unbroken stretch of
  // that status. kCancelled, kAutoChurned: when the cancellation took effect.
  absl::Time since;
  // kNotStarted: when the first paid period starts (InfiniteFuture: never).
  // kNotRenewed: end of the service period that was not renewed.
  // kAutoChurned: start of the past-due stretch the churn counted from.
  absl::Time detail;
  // kInvoiceUnpaid: the invoice holding the subscription past due.
  absl::string_view invoice_external_id;
  absl::string_view currency;
  int64_t amount_due_in_cents = 0;
  // kAutoChurned: the source setting X. kInvoiceUnpaid, kNotRenewed: the
  // setting X when the stretch is bound to auto-churn.
  int auto_churn_after_days = 0;
  // kInvoiceUnpaid, kNotRenewed: when the current past-due stretch
  // auto-churns if no new facts arrive; InfiniteFuture if it does not.
  absl::Time auto_churns_at = absl::InfiniteFuture();
};

// Returns the sentence for `reason`, for example
//   "Past due since 2025-02-01: invoice INV-7 (EUR 49.00) is not paid in
//   full."
//   "Past due since 2025-02-01: invoice INV-7 (EUR 49.00) is not paid in
//   full; it auto-churns on 2025-02-15 under this source's 14-day setting."
//   "Automatically cancelled on 2025-02-15 after 14 days past due (source
//   setting)."
std::string FormatStatusReason(const StatusReason& reason);

// Returns `t` as "2025-02-01" when it is midnight UTC, otherwise as
// "2025-02-01 10:30:00 UTC".
std::string FormatInstant(absl::Time t);

// Returns `cents` (the currency's minor units) as "EUR 49.00", "JPY 5000"
// (or "49.00" without a currency): common::FormatMinorUnits.
std::string FormatAmount(int64_t cents, absl::string_view currency);

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_STATUS_REASON_H_
