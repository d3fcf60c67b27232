// Amounts and payment state of one invoice (R2).
#ifndef RECURRENT_ENGINE_INVOICE_H_
#define RECURRENT_ENGINE_INVOICE_H_

#include <cstdint>

#include "absl/time/time.h"
#include "engine/facts.h"

namespace recurrent::engine {

// Returns the amount due of `invoice`: the sum of the amount_in_cents of all
// its line items, whatever their type.
int64_t AmountDue(const Invoice& invoice);

// Returns when `invoice` became fully paid: the date of the successful
// PAYMENT that brought the paid amount to at least its amount due (a payment
// without an amount pays the whole amount due; refunds and failed
// transactions change nothing). Returns absl::InfinitePast() if the amount
// due is <= 0 (the invoice is never open) and absl::InfiniteFuture() if it is
// never fully paid.
absl::Time FullyPaidAt(const Invoice& invoice);

// Returns what `invoice`'s successful PAYMENTs dated <= `t` have paid, in
// [0, max(AmountDue, 0)]: their amounts summed, a payment without an amount
// paying the rest, and the total capped at the amount due (an overpayment
// pays no more than is due; nothing is paid of an amount due <= 0). Refunds
// and failed transactions change nothing. Agrees with FullyPaidAt: for a
// positive amount due, AmountPaidAt(invoice, t) == AmountDue(invoice) iff
// FullyPaidAt(invoice) <= t.
int64_t AmountPaidAt(const Invoice& invoice, absl::Time t);

// Returns true iff `invoice` is open at `t`: paid at t (payments dated <= t)
// is less than the amount due.
inline bool IsOpenAt(const Invoice& invoice, absl::Time t) {
  return t < FullyPaidAt(invoice);
}

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_INVOICE_H_
