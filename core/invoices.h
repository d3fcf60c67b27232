// Invoice identity and normalization: what makes two imports of an invoice
// the same, and which of a customer's sources an invoice belongs to.
#ifndef RECURRENT_CORE_INVOICES_H_
#define RECURRENT_CORE_INVOICES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
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
