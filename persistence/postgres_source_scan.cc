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
      "SELECT c.id, c.uuid, c.status, c.derived_tags, c.next_transition_at,"
      " c.status_reason, c.mrr_digest FROM customers c WHERE c.id > $2 AND c.id IN (SELECT customer_id"
      " FROM subscriptions WHERE data_source_id = $1 AND customer_id > $2)"
      " ORDER BY c.id LIMIT $3",
      absl::StrCat("SELECT e.customer_id, e.data_source_id, e.external_id"
                   " FROM customer_external_ids e WHERE e.customer_id",
                   kPageCustomers, " ORDER BY e.customer_id, e.position"),
      // Invoices with their line items (an invoice without line items
      // still counts: one row with NULLs). Line items are looked up by
      // their customer_id, one range per customer, not one probe per
      // invoice (docs/performance.md, "EXPLAIN of a PostgreSQL scan page").
      absl::StrCat("SELECT i.customer_id, i.id, i.data_source_id,"
                   " i.external_id, i.due_date, i.currency, li.type,"
                   " li.subscription_external_id, li.service_period_start,"
                   " li.service_period_end, li.amount_in_cents,"
                   " li.tax_amount_in_cents, li.prorated"
                   " FROM invoices i LEFT JOIN line_items li"
                   " ON li.invoice_id = i.id AND li.customer_id",
                   kPageCustomers, " WHERE i.customer_id", kPageCustomers,
                   " ORDER BY i.customer_id, i.id, li.position"),
      absl::StrCat("SELECT customer_id, invoice_id, type, result, date,"
                   " amount_in_cents FROM transactions WHERE customer_id",
                   kPageCustomers,
                   " ORDER BY customer_id, invoice_id, date, id"),
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
                   " occurred_at, status_after FROM subscription_events"
                   " WHERE customer_id",
                   kPageCustomers, " ORDER BY customer_id"),
  };
}

SourceScanner::SourceScanner(Statement customers, ScanMerge<Statement> merge,
                             std::vector<Cursor> spare_children,
                             ReadAhead read_ahead)
    : read_ahead_(read_ahead),
      customers_(std::move(customers)),
      merge_(std::move(merge)) {
  ahead_.children = std::move(spare_children);
}

SourceScanner::~SourceScanner() {
  if (fetcher_.joinable()) fetcher_.join();
}

absl::StatusOr<std::unique_ptr<SourceScanner>> SourceScanner::Start(
    Connection& db, int64_t source_key, ReadAhead read_ahead) {
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
  // Parallel query would take cores from the evaluators that consume this
  // scan (and on 2 cores made pages slower); for this transaction only.
  RECURRENT_RETURN_IF_ERROR(
      db.Execute("SET LOCAL max_parallel_workers_per_gather = 0"));
  static const std::vector<std::string>* const kQueries =
      new std::vector<std::string>(ScanQueries());
  RECURRENT_ASSIGN_OR_RETURN(Statement customers,
                             db.Prepare(kQueries->front()));
  customers.BindInt64(1, source_key);
  customers.BindInt64(3, kCustomersPerPage);
  // Two sets of child statements: the current page's, and the one the
  // next page is read into.
  std::vector<Cursor> sets[2];
  for (std::vector<Cursor>& set : sets) {
    set.reserve(kQueries->size() - 1);
    for (size_t i = 1; i < kQueries->size(); ++i) {
      RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare((*kQueries)[i]));
      set.emplace_back(std::move(stmt));
    }
  }
  std::unique_ptr<SourceScanner> scanner(new SourceScanner(
      std::move(customers),
      ScanMerge<Statement>(std::move(source_uuids), std::move(sets[0])),
      std::move(sets[1]), read_ahead));
  RECURRENT_RETURN_IF_ERROR(scanner->NextPage());
  return scanner;
}

absl::Status SourceScanner::Fetch(int64_t after) {
  ahead_.customers.clear();
  ahead_.rows_scanned = 0;
  customers_.Reset();
  customers_.BindInt64(2, after);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, customers_.Step());
    if (!row) break;
    ++ahead_.rows_scanned;
    CustomerHead& head = ahead_.customers.emplace_back();
    head.key = customers_.ColumnInt64(0);
    head.uuid = customers_.ColumnText(1);
    head.status = customers_.ColumnInt64(2);
    head.derived_tags = customers_.ColumnText(3);
    head.next_transition_at = customers_.ColumnOptionalTime(4);
    head.status_reason = customers_.ColumnText(5);
    if (!customers_.ColumnIsNull(6)) head.mrr_digest = customers_.ColumnInt64(6);
  }
  customers_.Reset();
  if (ahead_.customers.empty()) return absl::OkStatus();
  std::vector<int64_t> keys;
  keys.reserve(ahead_.customers.size());
  for (const CustomerHead& head : ahead_.customers) keys.push_back(head.key);
  for (Cursor& cursor : ahead_.children) {
    Statement& stmt = cursor.statement();
    stmt.Reset();
    stmt.BindInt64Array(1, keys);
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(ahead_.rows_scanned));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::NextPage() {
  if (fetcher_.joinable()) {
    fetcher_.join();
  } else {
    ahead_.status = Fetch(after_);
  }
  RECURRENT_RETURN_IF_ERROR(ahead_.status);
  page_ = std::move(ahead_.customers);
  ahead_.customers = {};
  next_ = 0;
  rows_scanned_ += ahead_.rows_scanned;
  // The page read becomes the current one; the current one's statements
  // are free for the next.
  std::swap(merge_.children(), ahead_.children);
  last_page_ = static_cast<int>(page_.size()) < kCustomersPerPage;
  if (!page_.empty()) after_ = page_.back().key;
  if (!last_page_ && read_ahead_ == ReadAhead::kYes) {
    fetcher_ = std::thread([this, after = after_] {
      ahead_.status = Fetch(after);
    });
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SourceScanner::Next(CustomerState& state) {
  if (next_ == page_.size()) {
    if (last_page_) return false;
    RECURRENT_RETURN_IF_ERROR(NextPage());
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
  state.customer.status_reason = head.status_reason;
  state.mrr_digest = head.mrr_digest;

  RECURRENT_RETURN_IF_ERROR(merge_.Read(key, state, rows_scanned_));
  return true;
}

}  // namespace recurrent::persistence::postgres
