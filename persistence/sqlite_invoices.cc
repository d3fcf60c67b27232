#include "persistence/sqlite_invoices.h"

#include <algorithm>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "persistence/page_token.h"
#include "persistence/sqlite_codes.h"
#include "persistence/sqlite_status.h"
#include "persistence/sqlite_subscriptions.h"

namespace recurrent::persistence::sqlite {
namespace {

absl::Status InvoiceNotFound(absl::string_view uuid) {
  return absl::NotFoundError(absl::StrCat("invoice ", uuid, " not found"));
}

// An invoices row with its keys.
struct InvoiceRow {
  int64_t key = 0;
  int64_t customer_key = 0;
  int64_t source_key = 0;
  Invoice invoice;
};

// Columns of an invoices row (alias i) joined with its customer and source,
// in the order ReadInvoiceRow expects.
constexpr absl::string_view kInvoiceSelect =
    "SELECT i.id, i.customer_id, i.data_source_id, i.uuid, i.external_id,"
    " c.uuid, d.uuid, i.date, i.due_date, i.currency FROM invoices i"
    " JOIN customers c ON c.id = i.customer_id"
    " JOIN data_sources d ON d.id = i.data_source_id";

InvoiceRow ReadInvoiceRow(const Statement& stmt) {
  InvoiceRow row;
  row.key = stmt.ColumnInt64(0);
  row.customer_key = stmt.ColumnInt64(1);
  row.source_key = stmt.ColumnInt64(2);
  Invoice& invoice = row.invoice;
  invoice.uuid = stmt.ColumnText(3);
  invoice.external_id = stmt.ColumnText(4);
  invoice.customer_uuid = stmt.ColumnText(5);
  invoice.data_source_uuid = stmt.ColumnText(6);
  invoice.date = stmt.ColumnTime(7);
  invoice.due_date = stmt.ColumnOptionalTime(8);
  invoice.currency = stmt.ColumnText(9);
  return row;
}

absl::StatusOr<LineItem> ReadLineItem(const Statement& stmt) {
  LineItem item;
  item.uuid = stmt.ColumnText(1);
  item.external_id = stmt.ColumnText(2);
  RECURRENT_ASSIGN_OR_RETURN(item.type,
                             LineItemTypeFromCode(stmt.ColumnInt64(3)));
  item.subscription_external_id = stmt.ColumnText(4);
  item.plan_external_id = stmt.ColumnText(5);
  item.service_period_start = stmt.ColumnTime(6);
  item.service_period_end = stmt.ColumnTime(7);
  item.amount_in_cents = stmt.ColumnInt64(8);
  item.quantity = static_cast<int32_t>(stmt.ColumnInt64(9));
  item.discount_amount_in_cents = stmt.ColumnInt64(10);
  item.tax_amount_in_cents = stmt.ColumnInt64(11);
  item.prorated = stmt.ColumnInt64(12) != 0;
  item.description = stmt.ColumnText(13);
  return item;
}

// Transaction columns, after the invoice key (column 0).
constexpr absl::string_view kTransactionColumns =
    "uuid, external_id, type, result, date, amount_in_cents";

absl::StatusOr<Transaction> ReadTransaction(const Statement& stmt) {
  Transaction transaction;
  transaction.uuid = stmt.ColumnText(1);
  transaction.external_id = stmt.ColumnText(2);
  RECURRENT_ASSIGN_OR_RETURN(transaction.type,
                             TransactionTypeFromCode(stmt.ColumnInt64(3)));
  RECURRENT_ASSIGN_OR_RETURN(transaction.result,
                             TransactionResultFromCode(stmt.ColumnInt64(4)));
  transaction.date = stmt.ColumnTime(5);
  if (!stmt.ColumnIsNull(6)) transaction.amount_in_cents = stmt.ColumnInt64(6);
  return transaction;
}

// Fills line items and transactions of `rows` with one query each (the keys
// passed as one JSON array, as for customers).
absl::Status LoadChildren(Connection& db, std::vector<InvoiceRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  RowIndex<Invoice> index = IndexRows<Invoice>(
      rows, [](InvoiceRow& row) -> Invoice& { return row.invoice; });
  const std::string& keys = index.keys_json;
  std::unordered_map<int64_t, Invoice*>& by_key = index.by_key;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT invoice_id, uuid, external_id, type,"
                   " subscription_external_id, plan_external_id,"
                   " service_period_start, service_period_end,"
                   " amount_in_cents, quantity, discount_amount_in_cents,"
                   " tax_amount_in_cents, prorated, description"
                   " FROM line_items"
                   " WHERE invoice_id IN (SELECT value FROM json_each(?))"
                   " ORDER BY invoice_id, position"));
    stmt.BindText(1, keys);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      RECURRENT_ASSIGN_OR_RETURN(LineItem item, ReadLineItem(stmt));
      by_key.at(stmt.ColumnInt64(0))->line_items.push_back(std::move(item));
    }
  }
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT invoice_id, ", kTransactionColumns,
      " FROM transactions WHERE invoice_id IN (SELECT value FROM json_each(?))"
      " ORDER BY invoice_id, date, id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, keys);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    RECURRENT_ASSIGN_OR_RETURN(Transaction transaction, ReadTransaction(stmt));
    by_key.at(stmt.ColumnInt64(0))
        ->transactions.push_back(std::move(transaction));
  }
  return absl::OkStatus();
}

// Runs `stmt` (a kInvoiceSelect query) and returns its rows with children.
absl::StatusOr<std::vector<InvoiceRow>> LoadRows(Connection& db,
                                                 Statement& stmt) {
  std::vector<InvoiceRow> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    rows.push_back(ReadInvoiceRow(stmt));
  }
  stmt.Reset();
  RECURRENT_RETURN_IF_ERROR(LoadChildren(db, rows));
  return rows;
}

// The invoice (source_key, external_id) with children, if stored.
absl::StatusOr<std::optional<InvoiceRow>> FindInvoice(
    Connection& db, int64_t source_key, absl::string_view external_id) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      kInvoiceSelect, " WHERE i.data_source_id = ? AND i.external_id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, source_key);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<InvoiceRow> rows, LoadRows(db, stmt));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

// The invoice `uuid` without children. kNotFound if absent.
absl::StatusOr<InvoiceRow> FindInvoiceRow(Connection& db,
                                          absl::string_view uuid) {
  static const std::string* const kSql =
      new std::string(absl::StrCat(kInvoiceSelect, " WHERE i.uuid = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return InvoiceNotFound(uuid);
  return ReadInvoiceRow(stmt);
}

// ---- Import -----------------------------------------------------------------

// Times are stored in microseconds: compare and store what will be read.
absl::Time ToMicros(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

// Makes `invoice` what storing and reading it back gives: times truncated to
// microseconds, transactions in date order, then request order.
void Normalize(Invoice& invoice) {
  invoice.date = ToMicros(invoice.date);
  if (invoice.due_date.has_value()) {
    invoice.due_date = ToMicros(*invoice.due_date);
  }
  for (LineItem& item : invoice.line_items) {
    item.service_period_start = ToMicros(item.service_period_start);
    item.service_period_end = ToMicros(item.service_period_end);
  }
  for (Transaction& transaction : invoice.transactions) {
    transaction.date = ToMicros(transaction.date);
  }
  std::stable_sort(invoice.transactions.begin(), invoice.transactions.end(),
                   [](const Transaction& a, const Transaction& b) {
                     return a.date < b.date;
                   });
}

bool SameLineItem(const LineItem& a, const LineItem& b) {
  return a.external_id == b.external_id && a.type == b.type &&
         a.subscription_external_id == b.subscription_external_id &&
         a.plan_external_id == b.plan_external_id &&
         a.service_period_start == b.service_period_start &&
         a.service_period_end == b.service_period_end &&
         a.amount_in_cents == b.amount_in_cents && a.quantity == b.quantity &&
         a.discount_amount_in_cents == b.discount_amount_in_cents &&
         a.tax_amount_in_cents == b.tax_amount_in_cents &&
         a.prorated == b.prorated && a.description == b.description;
}

bool SameTransaction(const Transaction& a, const Transaction& b) {
  return a.external_id == b.external_id && a.type == b.type &&
         a.result == b.result && a.date == b.date &&
         a.amount_in_cents == b.amount_in_cents;
}

// Transactions as a set: ordered by (date, external id).
std::vector<Transaction> SortedTransactions(const Invoice& invoice) {
  std::vector<Transaction> sorted = invoice.transactions;
  std::sort(sorted.begin(), sorted.end(),
            [](const Transaction& a, const Transaction& b) {
              return std::tie(a.date, a.external_id) <
                     std::tie(b.date, b.external_id);
            });
  return sorted;
}

// Whether `stored` and the normalized `wanted` have the same content, uuids
// aside; transactions are compared as a set.
bool SameInvoice(const Invoice& stored, const Invoice& wanted) {
  const std::vector<Transaction> stored_transactions =
      SortedTransactions(stored);
  const std::vector<Transaction> wanted_transactions =
      SortedTransactions(wanted);
  return stored.customer_uuid == wanted.customer_uuid &&
         stored.data_source_uuid == wanted.data_source_uuid &&
         stored.external_id == wanted.external_id &&
         stored.date == wanted.date && stored.due_date == wanted.due_date &&
         stored.currency == wanted.currency &&
         std::equal(stored.line_items.begin(), stored.line_items.end(),
                    wanted.line_items.begin(), wanted.line_items.end(),
                    SameLineItem) &&
         std::equal(stored_transactions.begin(), stored_transactions.end(),
                    wanted_transactions.begin(), wanted_transactions.end(),
                    SameTransaction);
}

struct SourceRef {
  int64_t key = 0;
  std::string uuid;
};

// The distinct sources of customer `customer_key`, primary first.
absl::StatusOr<std::vector<SourceRef>> CustomerSources(Connection& db,
                                                       int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.id, d.uuid FROM customer_external_ids e"
                 " JOIN data_sources d ON d.id = e.data_source_id"
                 " WHERE e.customer_id = ? ORDER BY e.position"));
  stmt.BindInt64(1, customer_key);
  std::vector<SourceRef> sources;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    const int64_t key = stmt.ColumnInt64(0);
    if (std::none_of(sources.begin(), sources.end(),
                     [&](const SourceRef& s) { return s.key == key; })) {
      sources.push_back(SourceRef{key, stmt.ColumnText(1)});
    }
  }
  return sources;
}

// The source of request invoice `i` among the customer's `sources`.
absl::StatusOr<SourceRef> ResolveSource(size_t i, const Invoice& invoice,
                                        const std::vector<SourceRef>& sources,
                                        absl::string_view customer_uuid) {
  const std::string field = absl::StrCat("invoices[", i, "].data_source_uuid");
  if (invoice.data_source_uuid.empty()) {
    if (sources.size() == 1) return sources.front();
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": required, customer ", customer_uuid,
                     " spans several data sources"));
  }
  for (const SourceRef& source : sources) {
    if (source.uuid == invoice.data_source_uuid) return source;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": customer ", customer_uuid,
      " has no external id in data source ", invoice.data_source_uuid));
}

// Rewrites a unique violation of an insert into `kind` (e.g. "line item")
// as kAlreadyExists naming it.
absl::Status NameConflict(absl::Status status, absl::string_view kind,
                          absl::string_view external_id,
                          absl::string_view source_uuid) {
  if (!IsUniqueViolation(status)) return status;
  return absl::AlreadyExistsError(
      absl::StrCat(kind, " '", external_id, "' already exists in data source ",
                   source_uuid));
}

absl::Status InsertTransactionRow(Connection& db, int64_t invoice_key,
                                  const SourceRef& source,
                                  const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO transactions (uuid, invoice_id, data_source_id,"
                 " external_id, type, result, date, amount_in_cents)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  stmt.BindText(1, common::NewId(common::kTransactionIdPrefix));
  stmt.BindInt64(2, invoice_key);
  stmt.BindInt64(3, source.key);
  stmt.BindText(4, transaction.external_id);
  stmt.BindInt64(5, TransactionTypeCode(transaction.type));
  stmt.BindInt64(6, TransactionResultCode(transaction.result));
  stmt.BindTime(7, transaction.date);
  if (transaction.amount_in_cents.has_value()) {
    stmt.BindInt64(8, *transaction.amount_in_cents);
  } else {
    stmt.BindNull(8);
  }
  return NameConflict(stmt.Run(), "transaction", transaction.external_id,
                      source.uuid);
}

// Inserts the normalized `invoice` and its children; returns its key.
absl::StatusOr<int64_t> InsertInvoice(Connection& db, int64_t customer_key,
                                      const SourceRef& source,
                                      const Invoice& invoice) {
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO invoices (uuid, customer_id, data_source_id,"
                   " external_id, date, due_date, currency)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)"));
    stmt.BindText(1, common::NewId(common::kInvoiceIdPrefix));
    stmt.BindInt64(2, customer_key);
    stmt.BindInt64(3, source.key);
    stmt.BindText(4, invoice.external_id);
    stmt.BindTime(5, invoice.date);
    stmt.BindOptionalTime(6, invoice.due_date);
    stmt.BindText(7, invoice.currency);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  const int64_t key = db.LastInsertRowId();
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO line_items (uuid, invoice_id, data_source_id,"
                   " external_id, position, type, subscription_external_id,"
                   " plan_external_id, service_period_start,"
                   " service_period_end, amount_in_cents, quantity,"
                   " discount_amount_in_cents, tax_amount_in_cents, prorated,"
                   " description)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    for (size_t j = 0; j < invoice.line_items.size(); ++j) {
      const LineItem& item = invoice.line_items[j];
      stmt.BindText(1, common::NewId(common::kLineItemIdPrefix));
      stmt.BindInt64(2, key);
      stmt.BindInt64(3, source.key);
      stmt.BindText(4, item.external_id);
      stmt.BindInt64(5, static_cast<int64_t>(j));
      stmt.BindInt64(6, LineItemTypeCode(item.type));
      stmt.BindText(7, item.subscription_external_id);
      stmt.BindText(8, item.plan_external_id);
      stmt.BindTime(9, item.service_period_start);
      stmt.BindTime(10, item.service_period_end);
      stmt.BindInt64(11, item.amount_in_cents);
      stmt.BindInt64(12, item.quantity);
      stmt.BindInt64(13, item.discount_amount_in_cents);
      stmt.BindInt64(14, item.tax_amount_in_cents);
      stmt.BindInt64(15, item.prorated ? 1 : 0);
      stmt.BindText(16, item.description);
      RECURRENT_RETURN_IF_ERROR(
          NameConflict(stmt.Run(), "line item", item.external_id, source.uuid));
      stmt.Reset();
    }
  }
  for (const Transaction& transaction : invoice.transactions) {
    RECURRENT_RETURN_IF_ERROR(
        InsertTransactionRow(db, key, source, transaction));
  }
  return key;
}

}  // namespace

absl::StatusOr<std::vector<Invoice>> LoadCustomerInvoices(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(
      absl::StrCat(kInvoiceSelect, " WHERE i.customer_id = ? ORDER BY i.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<InvoiceRow> rows, LoadRows(db, stmt));
  std::vector<Invoice> invoices;
  invoices.reserve(rows.size());
  for (InvoiceRow& row : rows) invoices.push_back(std::move(row.invoice));
  return invoices;
}

absl::StatusOr<Invoice> LoadInvoice(Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(InvoiceRow row, FindInvoiceRow(db, uuid));
  std::vector<InvoiceRow> rows;
  rows.push_back(std::move(row));
  RECURRENT_RETURN_IF_ERROR(LoadChildren(db, rows));
  return std::move(rows.front().invoice);
}

absl::StatusOr<Page<Invoice>> LoadInvoicePage(Connection& db,
                                              const InvoiceFilter& filter,
                                              const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const uint64_t fingerprint = QueryFingerprint(
      "invoices",
      {filter.customer_uuid, filter.data_source_uuid, filter.external_id});
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  // Assembled from constant fragments only (8 variants, each cached);
  // values are bound: ?1 last key, ?2 customer, ?3 source, ?4 external id,
  // ?5 limit.
  std::string sql = absl::StrCat(kInvoiceSelect, " WHERE i.id > ?1");
  if (!filter.customer_uuid.empty()) {
    absl::StrAppend(&sql,
                    " AND i.customer_id ="
                    " (SELECT id FROM customers WHERE uuid = ?2)");
  }
  if (!filter.data_source_uuid.empty()) {
    absl::StrAppend(&sql,
                    " AND i.data_source_id ="
                    " (SELECT id FROM data_sources WHERE uuid = ?3)");
  }
  if (!filter.external_id.empty()) {
    absl::StrAppend(&sql, " AND i.external_id = ?4");
  }
  absl::StrAppend(&sql, " ORDER BY i.id LIMIT ?5");
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  stmt.BindInt64(1, after);
  stmt.BindText(2, filter.customer_uuid);
  stmt.BindText(3, filter.data_source_uuid);
  stmt.BindText(4, filter.external_id);
  // One extra row tells whether there is a next page.
  stmt.BindInt64(5, int64_t{page.page_size} + 1);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<InvoiceRow> rows, LoadRows(db, stmt));
  Page<Invoice> result;
  if (static_cast<int>(rows.size()) > page.page_size) {
    rows.resize(page.page_size);
    result.next_page_token = EncodePageToken(rows.back().key, fingerprint);
  }
  result.items.reserve(rows.size());
  for (InvoiceRow& row : rows) result.items.push_back(std::move(row.invoice));
  return result;
}

absl::StatusOr<std::vector<Invoice>> ImportInvoiceRows(
    Connection& db, int64_t customer_key, absl::string_view customer_uuid,
    const std::vector<Invoice>& invoices) {
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<SourceRef> sources,
                             CustomerSources(db, customer_key));
  std::vector<int64_t> keys;
  keys.reserve(invoices.size());
  for (size_t i = 0; i < invoices.size(); ++i) {
    RECURRENT_ASSIGN_OR_RETURN(
        const SourceRef source,
        ResolveSource(i, invoices[i], sources, customer_uuid));
    Invoice wanted = invoices[i];
    wanted.customer_uuid = std::string(customer_uuid);
    wanted.data_source_uuid = source.uuid;
    Normalize(wanted);
    RECURRENT_ASSIGN_OR_RETURN(std::optional<InvoiceRow> stored,
                               FindInvoice(db, source.key, wanted.external_id));
    if (stored.has_value()) {
      if (!SameInvoice(stored->invoice, wanted)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "invoice '", wanted.external_id, "' already exists in data source ",
            source.uuid, " with different content"));
      }
      keys.push_back(stored->key);  // an identical re-send: a no-op
      continue;
    }
    for (const LineItem& item : wanted.line_items) {
      if (item.type == engine::LineItemType::kOneTime) continue;
      RECURRENT_RETURN_IF_ERROR(
          EnsureSubscription(db, customer_key, source.key, source.uuid,
                             item.subscription_external_id));
    }
    RECURRENT_ASSIGN_OR_RETURN(const int64_t key,
                               InsertInvoice(db, customer_key, source, wanted));
    keys.push_back(key);
  }
  // Read back in one pass, then put in request order (a batch may name an
  // invoice twice).
  static const std::string* const kSql = new std::string(absl::StrCat(
      kInvoiceSelect, " WHERE i.id IN (SELECT value FROM json_each(?))"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, KeysAsJson(keys));
  RECURRENT_ASSIGN_OR_RETURN(std::vector<InvoiceRow> rows, LoadRows(db, stmt));
  std::unordered_map<int64_t, const Invoice*> by_key;
  for (const InvoiceRow& row : rows) by_key[row.key] = &row.invoice;
  std::vector<Invoice> stored;
  stored.reserve(keys.size());
  for (const int64_t key : keys) stored.push_back(*by_key.at(key));
  return stored;
}

absl::StatusOr<int64_t> DeleteInvoiceRows(Connection& db,
                                          absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(const InvoiceRow row, FindInvoiceRow(db, uuid));
  {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                               db.Prepare("DELETE FROM invoices WHERE id = ?"));
    stmt.BindInt64(1, row.key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_RETURN_IF_ERROR(
      DeleteSubscriptionsWithoutLineItems(db, row.customer_key));
  return row.customer_key;
}

absl::StatusOr<StoredTransaction> InsertTransaction(
    Connection& db, absl::string_view invoice_uuid,
    const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(const InvoiceRow invoice,
                             FindInvoiceRow(db, invoice_uuid));
  Transaction wanted = transaction;
  wanted.date = ToMicros(wanted.date);
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT invoice_id, ", kTransactionColumns,
                   " FROM transactions"
                   " WHERE data_source_id = ? AND external_id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, invoice.source_key);
  stmt.BindText(2, wanted.external_id);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) {
    stmt.Reset();
    SourceRef source{invoice.source_key, invoice.invoice.data_source_uuid};
    RECURRENT_RETURN_IF_ERROR(
        InsertTransactionRow(db, invoice.key, source, wanted));
    // Read back what was stored (uuid included).
    RECURRENT_ASSIGN_OR_RETURN(const bool inserted, stmt.Step());
    if (!inserted) return absl::InternalError("inserted transaction not found");
  }
  RECURRENT_ASSIGN_OR_RETURN(Transaction stored, ReadTransaction(stmt));
  if (stmt.ColumnInt64(0) != invoice.key || !SameTransaction(stored, wanted)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "transaction '", wanted.external_id, "' already exists in data source ",
        invoice.invoice.data_source_uuid));
  }
  return StoredTransaction{invoice.customer_key, std::move(stored)};
}

}  // namespace recurrent::persistence::sqlite
