#include "persistence/postgres_source_scan.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "persistence/postgres_subscriptions.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {
namespace {

// The customers of the page, bound as one array; each scan seeks into its
// table's per-customer index.
constexpr absl::string_view kPageCustomers = " = ANY($1::bigint[])";


}  // namespace

std::vector<std::string> SourceScanner::ScanQueries() {
  return {
      // The customers of the source: those with a subscription in it
      // (subscriptions_by_source_customer), a page after key $2. The bound
      // is stated on both sides: the planner does not carry an inequality
      // across the join, and each page would then walk customers from the
      // first.
      "SELECT c.id, c.uuid, c.status, c.derived_tags, c.next_transition_at"
      " FROM customers c WHERE c.id > $2 AND c.id IN (SELECT customer_id"
      " FROM subscriptions WHERE data_source_id = $1 AND customer_id > $2)"
      " ORDER BY c.id LIMIT $3",
      absl::StrCat("SELECT e.customer_id, e.data_source_id, e.external_id"
                   " FROM customer_external_ids e WHERE e.customer_id",
                   kPageCustomers, " ORDER BY e.customer_id, e.position"),
      // Invoices with their line items (an invoice without line items
      // still counts: one row with NULLs).
      absl::StrCat("SELECT i.customer_id, i.id, i.data_source_id,"
                   " i.external_id, i.due_date, i.currency, li.type,"
                   " li.subscription_external_id, li.service_period_start,"
                   " li.service_period_end, li.amount_in_cents"
                   " FROM invoices i LEFT JOIN line_items li"
                   " ON li.invoice_id = i.id WHERE i.customer_id",
                   kPageCustomers,
                   " ORDER BY i.customer_id, i.id, li.position"),
      absl::StrCat("SELECT i.customer_id, t.invoice_id, t.type, t.result,"
                   " t.date, t.amount_in_cents FROM invoices i"
                   " JOIN transactions t ON t.invoice_id = i.id"
                   " WHERE i.customer_id",
                   kPageCustomers,
                   " ORDER BY i.customer_id, i.id, t.date, t.id"),
      absl::StrCat("SELECT s.customer_id, ", kStoredSubscriptionColumns,
                   " FROM subscriptions s"
                   " JOIN customers c ON c.id = s.customer_id"
                   " JOIN data_sources d ON d.id = s.data_source_id"
                   " WHERE s.customer_id",
                   kPageCustomers, " ORDER BY s.customer_id, s.id"),
      absl::StrCat("SELECT s.customer_id, s.data_source_id, s.external_id,"
                   " x.cancelled_at FROM subscriptions s"
                   " JOIN cancellations x ON x.subscription_id = s.id"
                   " WHERE s.customer_id",
                   kPageCustomers,
                   " ORDER BY s.customer_id, s.id, x.cancelled_at"),
      absl::StrCat("SELECT customer_id, id, subscription_id, type,"
                   " occurred_at FROM subscription_events"
                   " WHERE customer_id",
                   kPageCustomers, " ORDER BY customer_id"),
  };
}

absl::StatusOr<std::unique_ptr<SourceScanner>> SourceScanner::Start(
    Connection& db, int64_t source_key) {
  absl::flat_hash_map<int64_t, std::string> source_uuids;
  {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                               db.Prepare("SELECT id, uuid FROM data_sources"));
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      source_uuids[stmt.ColumnInt64(0)] = stmt.ColumnText(1);
    }
  }
  static const std::vector<std::string>* const kQueries =
      new std::vector<std::string>(ScanQueries());
  RECURRENT_ASSIGN_OR_RETURN(Statement customers,
                             db.Prepare(kQueries->front()));
  customers.BindInt64(1, source_key);
  customers.BindInt64(3, kCustomersPerPage);
  std::vector<Cursor> cursors;
  cursors.reserve(kQueries->size() - 1);
  for (size_t i = 1; i < kQueries->size(); ++i) {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare((*kQueries)[i]));
    cursors.emplace_back(std::move(stmt));
  }
  std::unique_ptr<SourceScanner> scanner(new SourceScanner(
      std::move(customers),
      ScanMerge<Statement>(std::move(source_uuids), std::move(cursors))));
  RECURRENT_RETURN_IF_ERROR(scanner->LoadPage());
  return scanner;
}

absl::Status SourceScanner::LoadPage() {
  page_.clear();
  next_ = 0;
  if (last_page_) return absl::OkStatus();
  customers_.Reset();
  customers_.BindInt64(2, after_);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, customers_.Step());
    if (!row) break;
    ++rows_scanned_;
    CustomerHead& head = page_.emplace_back();
    head.key = customers_.ColumnInt64(0);
    head.uuid = customers_.ColumnText(1);
    head.status = customers_.ColumnInt64(2);
    head.derived_tags = customers_.ColumnText(3);
    head.next_transition_at = customers_.ColumnOptionalTime(4);
  }
  customers_.Reset();
  last_page_ = static_cast<int>(page_.size()) < kCustomersPerPage;
  if (page_.empty()) return absl::OkStatus();
  after_ = page_.back().key;
  std::vector<int64_t> keys;
  keys.reserve(page_.size());
  for (const CustomerHead& head : page_) keys.push_back(head.key);
  for (Cursor& cursor : merge_.children()) {
    Statement& stmt = cursor.statement();
    stmt.Reset();
    stmt.BindInt64Array(1, keys);
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SourceScanner::Next(CustomerState& state) {
  if (next_ == page_.size()) {
    RECURRENT_RETURN_IF_ERROR(LoadPage());
    if (page_.empty()) return false;
  }
  const CustomerHead& head = page_[next_++];
  const int64_t key = head.key;
  state = CustomerState();
  state.key = key;
  state.customer.uuid = head.uuid;
  RECURRENT_ASSIGN_OR_RETURN(state.customer.status,
                             CustomerStatusFromCode(head.status));
  std::vector<std::string> derived_tags =
      absl::StrSplit(head.derived_tags, '\n', absl::SkipEmpty());
  state.customer.derived_tags = std::move(derived_tags);
  state.next_transition_at = head.next_transition_at;

  RECURRENT_RETURN_IF_ERROR(merge_.Read(key, state, rows_scanned_));
  return true;
}

}  // namespace recurrent::persistence::postgres
