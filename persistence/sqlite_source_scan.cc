#include "persistence/sqlite_source_scan.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "persistence/row_codes.h"
#include "persistence/sqlite_subscriptions.h"

namespace recurrent::persistence::sqlite {
namespace {

// The customers of the source: those with a subscription in it
// (subscriptions_by_source_customer). Each scan walks them in key order and
// seeks into its table's per-customer index.
constexpr absl::string_view kSourceCustomers =
    "(SELECT customer_id FROM subscriptions WHERE data_source_id = ?1)";


}  // namespace

std::vector<std::string> SourceScanner::ScanQueries() {
  return {
      absl::StrCat("SELECT c.id, c.uuid, c.status, c.derived_tags,"
                   " c.next_transition_at, c.status_reason, c.mrr_digest"
                   " FROM customers c WHERE c.id IN ",
                   kSourceCustomers, " ORDER BY c.id"),
      absl::StrCat("SELECT e.customer_id, e.data_source_id, e.external_id"
                   " FROM customer_external_ids e WHERE e.customer_id IN ",
                   kSourceCustomers, " ORDER BY e.customer_id, e.position"),
      // Invoices with their line items (an invoice without line items
      // still counts: one row with NULLs).
      absl::StrCat("SELECT i.customer_id, i.id, i.data_source_id,"
                   " i.external_id, i.due_date, i.currency, li.type,"
                   " li.subscription_external_id, li.service_period_start,"
                   " li.service_period_end, li.amount_in_cents,"
                   " li.tax_amount_in_cents, li.prorated"
                   " FROM invoices i LEFT JOIN line_items li"
                   " ON li.invoice_id = i.id WHERE i.customer_id IN ",
                   kSourceCustomers,
                   " ORDER BY i.customer_id, i.id, li.position"),
      absl::StrCat("SELECT i.customer_id, t.invoice_id, t.type, t.result,"
                   " t.date, t.amount_in_cents FROM invoices i"
                   " JOIN transactions t ON t.invoice_id = i.id"
                   " WHERE i.customer_id IN ",
                   kSourceCustomers,
                   " ORDER BY i.customer_id, i.id, t.date, t.id"),
      absl::StrCat("SELECT s.customer_id, ", kStoredSubscriptionColumns,
                   " FROM subscriptions s"
                   " JOIN customers c ON c.id = s.customer_id"
                   " JOIN data_sources d ON d.id = s.data_source_id"
                   " WHERE s.customer_id IN ",
                   kSourceCustomers, " ORDER BY s.customer_id, s.id"),
      absl::StrCat("SELECT s.customer_id, s.data_source_id, s.external_id,"
                   " x.cancelled_at FROM subscriptions s"
                   " JOIN cancellations x ON x.subscription_id = s.id"
                   " WHERE s.customer_id IN ",
                   kSourceCustomers,
                   " ORDER BY s.customer_id, s.id, x.cancelled_at"),
      absl::StrCat("SELECT customer_id, id, subscription_id, type,"
                   " occurred_at, status_after FROM subscription_events"
                   " WHERE customer_id IN ",
                   kSourceCustomers, " ORDER BY customer_id"),
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
  // The first is the customers scan, the others the children.
  RECURRENT_ASSIGN_OR_RETURN(Statement customers,
                             db.Prepare(kQueries->front()));
  customers.BindInt64(1, source_key);
  std::vector<Cursor> children;
  children.reserve(kQueries->size() - 1);
  for (size_t i = 1; i < kQueries->size(); ++i) {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare((*kQueries)[i]));
    stmt.BindInt64(1, source_key);
    children.emplace_back(std::move(stmt));
  }
  std::unique_ptr<SourceScanner> scanner(new SourceScanner(
      Cursor(std::move(customers)),
      ScanMerge<Statement>(std::move(source_uuids), std::move(children))));
  RECURRENT_RETURN_IF_ERROR(
      scanner->customers_.Advance(scanner->rows_scanned_));
  for (Cursor& cursor : scanner->merge_.children()) {
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(scanner->rows_scanned_));
  }
  return scanner;
}

absl::StatusOr<bool> SourceScanner::Next(CustomerState& state) {
  Cursor& customers = customers_;
  const int64_t key = customers.customer();
  if (key == std::numeric_limits<int64_t>::max()) return false;
  state = CustomerState();
  state.key = key;
  const Statement& row = customers.row();
  state.customer.uuid = row.ColumnText(1);
  RECURRENT_ASSIGN_OR_RETURN(state.customer.status,
                             CustomerStatusFromCode(row.ColumnInt64(2)));
  std::vector<std::string> derived_tags =
      absl::StrSplit(row.ColumnText(3), '\n', absl::SkipEmpty());
  state.customer.derived_tags = std::move(derived_tags);
  state.next_transition_at = row.ColumnOptionalTime(4);
  state.customer.status_reason = row.ColumnText(5);
  if (!row.ColumnIsNull(6)) state.mrr_digest = row.ColumnInt64(6);
  RECURRENT_RETURN_IF_ERROR(customers.Advance(rows_scanned_));

  RECURRENT_RETURN_IF_ERROR(merge_.Read(key, state, rows_scanned_));
  return true;
}

}  // namespace recurrent::persistence::sqlite
