// The columns of a customers row, read alike by both backends (their
// Statement classes share the Column shape), and the record they make.
#ifndef RECURRENT_PERSISTENCE_CUSTOMER_COLUMNS_H_
#define RECURRENT_PERSISTENCE_CUSTOMER_COLUMNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence {

// A customer record with what only the backend and the core see.
struct CustomerRecord {
  int64_t key = 0;
  Customer customer;  // as GetCustomer returns it
  std::optional<absl::Time> next_transition_at;
  std::optional<int64_t> mrr_digest;  // CustomerState::mrr_digest
};

// Columns of a customers row (alias c), in the order ReadCustomerRow
// expects.
inline constexpr absl::string_view kCustomerColumns =
    "c.id, c.uuid, c.name, c.email, c.company, c.country, c.state, c.city,"
    " c.zip, c.lead_created_at, c.free_trial_started_at, c.status,"
    " c.created_at, c.updated_at, c.derived_tags, c.next_transition_at,"
    " c.status_reason, c.mrr_digest";
// How many columns kCustomerColumns selects (a statement's next column is
// at this index).
inline constexpr int kCustomerColumnCount = 18;

// The current row of `stmt`, selected as kCustomerColumns (without its
// external ids and tags, which have tables of their own).
template <typename Statement>
absl::StatusOr<CustomerRecord> ReadCustomerRow(const Statement& stmt) {
  CustomerRecord row;
  row.key = stmt.ColumnInt64(0);
  Customer& c = row.customer;
  c.uuid = stmt.ColumnText(1);
  c.name = stmt.ColumnText(2);
  c.email = stmt.ColumnText(3);
  c.company = stmt.ColumnText(4);
  c.country = stmt.ColumnText(5);
  c.state = stmt.ColumnText(6);
  c.city = stmt.ColumnText(7);
  c.zip = stmt.ColumnText(8);
  c.lead_created_at = stmt.ColumnOptionalTime(9);
  c.free_trial_started_at = stmt.ColumnOptionalTime(10);
  RECURRENT_ASSIGN_OR_RETURN(c.status,
                             CustomerStatusFromCode(stmt.ColumnInt64(11)));
  c.created_at = stmt.ColumnTime(12);
  c.updated_at = stmt.ColumnTime(13);
  // Derived tags (R8), sorted, one per line.
  std::vector<std::string> derived_tags =
      absl::StrSplit(stmt.ColumnText(14), '\n', absl::SkipEmpty());
  c.derived_tags = std::move(derived_tags);
  row.next_transition_at = stmt.ColumnOptionalTime(15);
  c.status_reason = stmt.ColumnText(16);
  if (!stmt.ColumnIsNull(17)) row.mrr_digest = stmt.ColumnInt64(17);
  return row;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_CUSTOMER_COLUMNS_H_
