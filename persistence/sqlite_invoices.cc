#include "persistence/sqlite_invoices.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/filter_keys.h"
#include "persistence/invoice_columns.h"
#include "persistence/page_token.h"
#include "persistence/row_codes.h"
#include "persistence/row_index.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence::sqlite {
namespace {

// Fills line items and transactions of `rows` with one query each (the keys
// passed as one JSON array, as for customers).
absl::Status LoadChildren(Connection& db, std::vector<InvoiceRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  RowIndex<Invoice> index = IndexRows<Invoice>(
      rows, [](InvoiceRow& row) -> Invoice& { return row.invoice; });
  const std::string keys = KeysAsJson(index.keys);
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
    RECURRENT_ASSIGN_OR_RETURN(Transaction transaction,
                               ReadTransactionColumns(stmt));
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

// Rewrites a unique violation of an insert into `kind` (e.g. "line item")
// as kAlreadyExists naming it.
absl::Status NameConflict(absl::Status status, absl::string_view kind,
                          absl::string_view external_id,
                          absl::string_view source_uuid) {
  if (!IsUniqueViolation(status)) return status;
  return common::ResourceAlreadyExists(
      absl::AlreadyExistsError(absl::StrCat(kind, " '", external_id,
                                            "' already exists in data source ",
                                            source_uuid)),
      absl::StrReplaceAll(kind, {{" ", "_"}}), external_id);
}

struct SourceRef {
  int64_t key = 0;
  absl::string_view uuid;
};

constexpr absl::string_view kInsertInvoiceSql =
    "INSERT INTO invoices (uuid, customer_id, data_source_id, external_id,"
    " date, due_date, currency) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr absl::string_view kInsertLineItemSql =
    "INSERT INTO line_items (uuid, invoice_id, data_source_id, external_id,"
    " position, type, subscription_external_id, plan_external_id,"
    " service_period_start, service_period_end, amount_in_cents, quantity,"
    " discount_amount_in_cents, tax_amount_in_cents, prorated, description)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr absl::string_view kInsertTransactionSql =
    "INSERT INTO transactions (uuid, invoice_id, data_source_id, external_id,"
    " type, result, date, amount_in_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

// Runs `stmt` (kInsertTransactionSql) for `transaction` of invoice
// `invoice_key` in `source`.
absl::Status InsertTransactionRow(Statement& stmt, int64_t invoice_key,
                                  const SourceRef& source,
                                  const Transaction& transaction) {
  stmt.Reset();
  stmt.BindText(1, transaction.uuid);
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

// The three insert statements of an import, prepared once per call.
struct InvoiceInserts {
  Statement invoice;
  Statement line_item;
  Statement transaction;
};

absl::StatusOr<InvoiceInserts> PrepareInserts(Connection& db) {
  RECURRENT_ASSIGN_OR_RETURN(Statement invoice, db.Prepare(kInsertInvoiceSql));
  RECURRENT_ASSIGN_OR_RETURN(Statement line_item,
                             db.Prepare(kInsertLineItemSql));
  RECURRENT_ASSIGN_OR_RETURN(Statement transaction,
                             db.Prepare(kInsertTransactionSql));
  return InvoiceInserts{std::move(invoice), std::move(line_item),
                        std::move(transaction)};
}

// Inserts `invoice` (uuids included) and its children.
absl::Status InsertInvoice(Connection& db, InvoiceInserts& inserts,
                           int64_t customer_key, const SourceRef& source,
                           const Invoice& invoice) {
  {
    Statement& stmt = inserts.invoice;
    stmt.Reset();
    stmt.BindText(1, invoice.uuid);
    stmt.BindInt64(2, customer_key);
    stmt.BindInt64(3, source.key);
    stmt.BindText(4, invoice.external_id);
    stmt.BindTime(5, invoice.date);
    stmt.BindOptionalTime(6, invoice.due_date);
    stmt.BindText(7, invoice.currency);
    RECURRENT_RETURN_IF_ERROR(
        NameConflict(stmt.Run(), "invoice", invoice.external_id, source.uuid));
  }
  const int64_t key = db.LastInsertRowId();
  for (size_t j = 0; j < invoice.line_items.size(); ++j) {
    const LineItem& item = invoice.line_items[j];
    Statement& stmt = inserts.line_item;
    stmt.Reset();
    stmt.BindText(1, item.uuid);
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
  }
  for (const Transaction& transaction : invoice.transactions) {
    RECURRENT_RETURN_IF_ERROR(
        InsertTransactionRow(inserts.transaction, key, source, transaction));
  }
  return absl::OkStatus();
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

absl::StatusOr<std::optional<Invoice>> FindInvoice(
    Connection& db, absl::string_view data_source_uuid,
    absl::string_view external_id) {
  static const std::string* const kSql = new std::string(
      absl::StrCat(kInvoiceSelect,
                   " WHERE i.data_source_id ="
                   " (SELECT id FROM data_sources WHERE uuid = ?)"
                   " AND i.external_id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, data_source_uuid);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<InvoiceRow> rows, LoadRows(db, stmt));
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front().invoice);
}

absl::StatusOr<Page<Invoice>> LoadInvoicePage(Connection& db,
                                              const InvoiceFilter& filter,
                                              const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  // An unknown customer or source is an error, not an empty list.
  RECURRENT_RETURN_IF_ERROR(
      FindFilterKeys(db, filter.customer_uuid, filter.data_source_uuid)
          .status());
  const uint64_t fingerprint = InvoiceQueryFingerprint(filter);
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

absl::Status InsertInvoices(Connection& db, absl::string_view customer_uuid,
                            absl::Span<const Invoice> invoices) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t customer_key,
                             FindCustomerKey(db, customer_uuid));
  RECURRENT_ASSIGN_OR_RETURN(InvoiceInserts inserts, PrepareInserts(db));
  // Each source is looked up once per call, not per invoice.
  std::unordered_map<std::string, int64_t> source_keys;
  for (const Invoice& invoice : invoices) {
    auto it = source_keys.find(invoice.data_source_uuid);
    if (it == source_keys.end()) {
      RECURRENT_ASSIGN_OR_RETURN(
          const int64_t key, FindDataSourceKey(db, invoice.data_source_uuid));
      it = source_keys.emplace(invoice.data_source_uuid, key).first;
    }
    RECURRENT_RETURN_IF_ERROR(InsertInvoice(
        db, inserts, customer_key,
        SourceRef{it->second, invoice.data_source_uuid}, invoice));
  }
  return absl::OkStatus();
}

absl::Status DeleteInvoiceRow(Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                             db.Prepare("DELETE FROM invoices WHERE uuid = ?"));
  stmt.BindText(1, uuid);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (db.Changes() == 0) return InvoiceNotFound(uuid);
  return absl::OkStatus();
}

absl::Status InsertTransaction(Connection& db, absl::string_view invoice_uuid,
                               const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(const InvoiceRow invoice,
                             FindInvoiceRow(db, invoice_uuid));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(kInsertTransactionSql));
  return InsertTransactionRow(
      stmt, invoice.key,
      SourceRef{invoice.source_key, invoice.invoice.data_source_uuid},
      transaction);
}

absl::StatusOr<std::optional<ReadTransaction::StoredTransaction>>
FindTransaction(Connection& db, absl::string_view data_source_uuid,
                absl::string_view external_id) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT i.uuid, t.uuid, t.external_id, t.type, t.result,"
                 " t.date, t.amount_in_cents"
                 " FROM transactions t JOIN invoices i ON i.id = t.invoice_id"
                 " WHERE t.data_source_id ="
                 " (SELECT id FROM data_sources WHERE uuid = ?)"
                 " AND t.external_id = ?"));
  stmt.BindText(1, data_source_uuid);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return std::nullopt;
  ReadTransaction::StoredTransaction stored;
  stored.invoice_uuid = stmt.ColumnText(0);
  RECURRENT_ASSIGN_OR_RETURN(stored.transaction, ReadTransactionColumns(stmt));
  return stored;
}

}  // namespace recurrent::persistence::sqlite
