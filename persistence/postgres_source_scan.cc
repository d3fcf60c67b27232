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

// Indexes into cursors_ (ScanQueries()[i + 1]).
enum CursorIndex {
  kExternalIds,
  kInvoices,
  kTransactions,
  kSubscriptions,
  kCancellations,
  kEvents,
};

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
      std::move(source_uuids), std::move(customers), std::move(cursors)));
  RECURRENT_RETURN_IF_ERROR(scanner->LoadPage());
  return scanner;
}

absl::Status SourceScanner::Cursor::Restart(const std::vector<int64_t>& keys,
                                            int64_t& rows_scanned) {
  stmt_.Reset();
  stmt_.BindInt64Array(1, keys);
  return Advance(rows_scanned);
}

absl::Status SourceScanner::Cursor::Advance(int64_t& rows_scanned) {
  RECURRENT_ASSIGN_OR_RETURN(has_row_, stmt_.Step());
  if (has_row_) ++rows_scanned;
  return absl::OkStatus();
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
  for (Cursor& cursor : cursors_) {
    RECURRENT_RETURN_IF_ERROR(cursor.Restart(keys, rows_scanned_));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::SkipTo(Cursor& cursor, int64_t key) {
  while (cursor.customer() < key) {
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

const std::string& SourceScanner::SourceUuid(int64_t source_key) const {
  static const std::string* const kUnknown = new std::string();
  auto it = source_uuids_.find(source_key);
  return it == source_uuids_.end() ? *kUnknown : it->second;
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

  RECURRENT_RETURN_IF_ERROR(ReadExternalIds(key, state));
  std::vector<int64_t> invoice_keys;
  RECURRENT_RETURN_IF_ERROR(ReadInvoices(key, state, invoice_keys));
  RECURRENT_RETURN_IF_ERROR(ReadTransactions(key, state, invoice_keys));
  RECURRENT_RETURN_IF_ERROR(ReadSubscriptions(key, state));
  RECURRENT_RETURN_IF_ERROR(ReadCancellations(key, state));
  RECURRENT_RETURN_IF_ERROR(ReadEvents(key, state));
  return true;
}

absl::Status SourceScanner::ReadExternalIds(int64_t key, CustomerState& state) {
  Cursor& cursor = cursors_[kExternalIds];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  Customer& customer = state.customer;
  while (cursor.customer() == key) {
    const Statement& row = cursor.row();
    customer.external_ids.push_back(
        ExternalId{SourceUuid(row.ColumnInt64(1)), row.ColumnText(2)});
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  if (!customer.external_ids.empty()) {
    customer.data_source_uuid = customer.external_ids.front().data_source_uuid;
    customer.external_id = customer.external_ids.front().external_id;
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::ReadInvoices(int64_t key, CustomerState& state,
                                         std::vector<int64_t>& invoice_keys) {
  Cursor& cursor = cursors_[kInvoices];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  std::vector<engine::Invoice>& invoices = state.facts.invoices;
  while (cursor.customer() == key) {
    const Statement& row = cursor.row();
    const int64_t invoice_key = row.ColumnInt64(1);
    if (invoice_keys.empty() || invoice_keys.back() != invoice_key) {
      invoice_keys.push_back(invoice_key);
      engine::Invoice& invoice = invoices.emplace_back();
      invoice.data_source_uuid = SourceUuid(row.ColumnInt64(2));
      invoice.external_id = row.ColumnText(3);
      invoice.due_date = row.ColumnOptionalTime(4);
      invoice.currency = row.ColumnText(5);
    }
    if (!row.ColumnIsNull(6)) {
      engine::LineItem& item = invoices.back().line_items.emplace_back();
      RECURRENT_ASSIGN_OR_RETURN(item.type,
                                 LineItemTypeFromCode(row.ColumnInt64(6)));
      item.subscription_external_id = row.ColumnText(7);
      item.service_period_start = row.ColumnTime(8);
      item.service_period_end = row.ColumnTime(9);
      item.amount_in_cents = row.ColumnInt64(10);
    }
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::ReadTransactions(
    int64_t key, CustomerState& state,
    const std::vector<int64_t>& invoice_keys) {
  Cursor& cursor = cursors_[kTransactions];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  // Both scans are ordered by invoice key within the customer.
  size_t i = 0;
  while (cursor.customer() == key) {
    const Statement& row = cursor.row();
    const int64_t invoice_key = row.ColumnInt64(1);
    while (i < invoice_keys.size() && invoice_keys[i] < invoice_key) ++i;
    if (i == invoice_keys.size() || invoice_keys[i] != invoice_key) {
      return absl::InternalError(
          absl::StrCat("transaction of unknown invoice #", invoice_key));
    }
    engine::Transaction& transaction =
        state.facts.invoices[i].transactions.emplace_back();
    RECURRENT_ASSIGN_OR_RETURN(transaction.type,
                               TransactionTypeFromCode(row.ColumnInt64(2)));
    RECURRENT_ASSIGN_OR_RETURN(transaction.result,
                               TransactionResultFromCode(row.ColumnInt64(3)));
    transaction.date = row.ColumnTime(4);
    if (!row.ColumnIsNull(5)) transaction.amount_in_cents = row.ColumnInt64(5);
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::ReadSubscriptions(int64_t key,
                                              CustomerState& state) {
  Cursor& cursor = cursors_[kSubscriptions];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  while (cursor.customer() == key) {
    RECURRENT_ASSIGN_OR_RETURN(SubscriptionRow subscription,
                               ReadStoredSubscription(cursor.row(), 1));
    state.subscriptions.push_back(std::move(subscription));
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::ReadCancellations(int64_t key,
                                              CustomerState& state) {
  Cursor& cursor = cursors_[kCancellations];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  while (cursor.customer() == key) {
    const Statement& row = cursor.row();
    state.facts.cancellations.push_back(engine::Cancellation{
        SourceUuid(row.ColumnInt64(1)), row.ColumnText(2), row.ColumnTime(3)});
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

absl::Status SourceScanner::ReadEvents(int64_t key, CustomerState& state) {
  Cursor& cursor = cursors_[kEvents];
  RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
  while (cursor.customer() == key) {
    const Statement& row = cursor.row();
    EventRow& event = state.events.emplace_back();
    event.key = row.ColumnInt64(1);
    event.subscription_key = row.ColumnInt64(2);
    RECURRENT_ASSIGN_OR_RETURN(event.type,
                               EventTypeFromCode(row.ColumnInt64(3)));
    event.occurred_at = row.ColumnTime(4);
    RECURRENT_RETURN_IF_ERROR(cursor.Advance(rows_scanned_));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence::postgres
