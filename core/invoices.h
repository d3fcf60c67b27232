// Invoice identity and normalization: what makes two imports of an invoice
// the same, the ids of line items and transactions sent without one, which
// of a customer's sources an invoice belongs to, and an invoice's amounts at
// an instant (R2).
#ifndef RECURRENT_CORE_INVOICES_H_
#define RECURRENT_CORE_INVOICES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/facts.h"
#include "persistence/records.h"

namespace recurrent::core {

// Times are stored with microsecond precision: `t` as it will be read back.
absl::Time ToMicros(absl::Time t);

// Makes `invoice` what storing and reading it back gives: times truncated to
// microseconds, transactions in date order, then request order.
void Normalize(persistence::Invoice& invoice);
void Normalize(persistence::Transaction& transaction);

// Whether `stored` and the normalized `wanted` have the same content, uuids
// aside; transactions are compared as a set.
bool SameInvoice(const persistence::Invoice& stored,
                 const persistence::Invoice& wanted);
bool SameTransaction(const persistence::Transaction& a,
                     const persistence::Transaction& b);

// The external id of the line item (transaction) at 1-based `position` of
// an imported invoice whose request gave it none:
// "<invoice_external_id>#li<position>" ("…#tr<position>"). Derived from the
// request alone, so that re-sending an identical invoice stores nothing new.
std::string DerivedLineItemId(absl::string_view invoice_external_id,
                              size_t position);
std::string DerivedTransactionId(absl::string_view invoice_external_id,
                                 size_t position);

// An invoice's amounts at an instant, by the engine's rules (R2,
// engine/invoice.h): what is due, what successful payments dated up to the
// instant have paid (capped at the amount due), and whether it is open then
// (issued by then, date <= instant, and not fully paid).
struct InvoiceAmounts {
  int64_t due_in_cents = 0;
  int64_t paid_in_cents = 0;
  bool open = false;
};
InvoiceAmounts AmountsAt(const persistence::Invoice& invoice, absl::Time as_of);

// The distinct sources of `customer`'s external ids, primary first.
std::vector<std::string> CustomerSources(const persistence::Customer& customer);

// The source of request invoice `i` (`data_source_uuid`, empty for "the
// customer's only source") among `sources`. kInvalidArgument naming
// invoices[i].data_source_uuid if it is empty while the customer spans
// several sources, or not one of them.
absl::StatusOr<std::string> ResolveSource(
    size_t i, absl::string_view data_source_uuid,
    const std::vector<std::string>& sources, absl::string_view customer_uuid);

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_INVOICES_H_
