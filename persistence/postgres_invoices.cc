#include "persistence/postgres_invoices.h"

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
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/row_codes.h"
#include "persistence/row_index.h"

namespace recurrent::persistence::postgres {
namespace {

// Fills line items and transactions of `rows` with one query each (the keys
// bound as one array, as for customers).
absl::Status LoadChildren(Connection& db, std::vector<InvoiceRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  RowIndex<Invoice> index = IndexRows<Invoice>(
      rows, [](InvoiceRow& row) -> Invoice& { return row.invoice; });
  std::unordered_map<int64_t, Invoice*>& by_key = index.by_key;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT invoice_id, uuid, external_id, type,"
                   " subscription_external_id, plan_external_id,"
                   " service_period_start, service_period_end,"
                   " amount_in_cents, quantity, discount_amount_in_cents,"
                   " tax_amount_in_cents, prorated, description"
                   " FROM line_items WHERE invoice_id = ANY($1::bigint[])"
                   " ORDER BY invoice_id, position"));
    stmt.BindInt64Array(1, index.keys);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      RECURRENT_ASSIGN_OR_RETURN(LineItem item, ReadLineItem(stmt));
      by_key.at(stmt.ColumnInt64(0))->line_items.push_back(std::move(item));
    }
  }
  static const std::string* const kSql = new std::string(
      absl::StrCat("SELECT invoice_id, ", kTransactionColumns,
                   " FROM transactions WHERE invoice_id = ANY($1::bigint[])"
                   " ORDER BY invoice_id, date, id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64Array(1, index.keys);
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
      new std::string(absl::StrCat(kInvoiceSelect, " WHERE i.uuid = $1"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return InvoiceNotFound(uuid);
  return ReadInvoiceRow(stmt);
}

// kAlreadyExists naming the row of `kind` (e.g. "line item") whose external
// id is taken.
absl::Status NameConflict(absl::string_view kind, absl::string_view external_id,
                          absl::string_view source_uuid) {
  return common::ResourceAlreadyExists(
      absl::AlreadyExistsError(absl::StrCat(kind, " '", external_id,
                                            "' already exists in data source ",
                                            source_uuid)),
      absl::StrReplaceAll(kind, {{" ", "_"}}), external_id);
}

// ---- Multi-row inserts ------------------------------------------------------
//
// Each table's rows go in one INSERT ... SELECT FROM unnest(arrays) WITH
// ORDINALITY ORDER BY ord, so that keys increase in import order. ON
// CONFLICT DO NOTHING skips a row whose external id (or uuid) is taken,
// also by an earlier row of the same statement, without aborting the
// transaction; RETURNING tells which rows went in.

// An optional integer or time (microseconds, as BindOptionalTime stores it)
// in the text form BindNullableArray takes.
std::optional<std::string> OptionalText(const std::optional<int64_t>& value) {
  if (!value.has_value()) return std::nullopt;
  return absl::StrCat(*value);
}
std::optional<std::string> OptionalText(const std::optional<absl::Time>& time) {
  if (!time.has_value()) return std::nullopt;
  return absl::StrCat(absl::ToUnixMicros(*time));
}

constexpr absl::string_view kInsertInvoicesSql =
    "INSERT INTO invoices (uuid, customer_id, data_source_id, external_id,"
    " date, due_date, currency)"
    " SELECT r.uuid, $1::bigint, r.data_source_id, r.external_id, r.date,"
    " r.due_date, r.currency"
    " FROM unnest($2::text[], $3::bigint[], $4::text[], $5::bigint[],"
    " $6::bigint[], $7::text[]) WITH ORDINALITY"
    " AS r(uuid, data_source_id, external_id, date, due_date, currency, ord)"
    " ORDER BY r.ord ON CONFLICT DO NOTHING RETURNING uuid, id";
constexpr absl::string_view kInsertLineItemsSql =
    "INSERT INTO line_items (uuid, invoice_id, customer_id, data_source_id,"
    " external_id, position, type, subscription_external_id,"
    " plan_external_id, service_period_start, service_period_end,"
    " amount_in_cents, quantity, discount_amount_in_cents,"
    " tax_amount_in_cents, prorated, description)"
    " SELECT r.uuid, r.invoice_id, $17::bigint, r.data_source_id,"
    " r.external_id,"
    " r.position, r.type, r.subscription_external_id, r.plan_external_id,"
    " r.service_period_start, r.service_period_end, r.amount_in_cents,"
    " r.quantity, r.discount_amount_in_cents, r.tax_amount_in_cents,"
    " r.prorated, r.description"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[],"
    " $5::bigint[], $6::integer[], $7::text[], $8::text[], $9::bigint[],"
    " $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[],"
    " $14::bigint[], $15::integer[], $16::text[]) WITH ORDINALITY"
    " AS r(uuid, invoice_id, data_source_id, external_id, position, type,"
    " subscription_external_id, plan_external_id, service_period_start,"
    " service_period_end, amount_in_cents, quantity,"
    " discount_amount_in_cents, tax_amount_in_cents, prorated, description,"
    " ord)"
    " ORDER BY r.ord ON CONFLICT DO NOTHING RETURNING uuid, id";
constexpr absl::string_view kInsertTransactionsSql =
    "INSERT INTO transactions (uuid, invoice_id, customer_id, data_source_id,"
    " external_id, type, result, date, amount_in_cents)"
    " SELECT r.uuid, r.invoice_id, $9::bigint, r.data_source_id,"
    " r.external_id, r.type, r.result, r.date, r.amount_in_cents"
    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[],"
    " $5::integer[], $6::integer[], $7::bigint[], $8::bigint[])"
    " WITH ORDINALITY AS r(uuid, invoice_id, data_source_id, external_id,"
    " type, result, date, amount_in_cents, ord)"
    " ORDER BY r.ord ON CONFLICT DO NOTHING RETURNING uuid, id";

// Runs `stmt` (one of the inserts above) for rows with `uuids`, in order,
// and returns each row's key, 0 for a row not inserted. Rows are told apart
// by uuid (new and distinct for every row); of rows sharing one, only the
// first is taken as inserted.
absl::StatusOr<std::vector<int64_t>> RunInsert(
    Statement& stmt, const std::vector<std::string>& uuids) {
  std::unordered_map<std::string, int64_t> inserted;
  inserted.reserve(uuids.size());
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    inserted.emplace(stmt.ColumnText(0), stmt.ColumnInt64(1));
  }
  std::vector<int64_t> keys(uuids.size(), 0);
  for (size_t i = 0; i < uuids.size(); ++i) {
    auto it = inserted.find(uuids[i]);
    if (it == inserted.end()) continue;
    keys[i] = it->second;
    inserted.erase(it);
  }
  return keys;
}

// The first index of `keys` that is 0 (a row not inserted), or its size.
size_t FirstSkipped(const std::vector<int64_t>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == 0) return i;
  }
  return keys.size();
}

// Inserts `invoices` (uuids included, without children) of customer
// `customer_key`, invoice i in source `source_keys[i]`.
absl::StatusOr<std::vector<int64_t>> InsertInvoiceRows(
    Connection& db, int64_t customer_key, absl::Span<const Invoice> invoices,
    const std::vector<int64_t>& source_keys) {
  if (invoices.empty()) return std::vector<int64_t>();
  const size_t n = invoices.size();
  std::vector<std::string> uuids, external_ids, currencies;
  std::vector<int64_t> sources, dates;
  std::vector<std::optional<std::string>> due_dates;
  uuids.reserve(n);
  external_ids.reserve(n);
  currencies.reserve(n);
  sources.reserve(n);
  dates.reserve(n);
  due_dates.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const Invoice& invoice = invoices[i];
    uuids.push_back(invoice.uuid);
    sources.push_back(source_keys[i]);
    external_ids.push_back(invoice.external_id);
    dates.push_back(absl::ToUnixMicros(invoice.date));
    due_dates.push_back(OptionalText(invoice.due_date));
    currencies.push_back(invoice.currency);
  }
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(kInsertInvoicesSql));
  stmt.BindInt64(1, customer_key);
  stmt.BindTextArray(2, uuids);
  stmt.BindInt64Array(3, sources);
  stmt.BindTextArray(4, external_ids);
  stmt.BindInt64Array(5, dates);
  stmt.BindNullableArray(6, due_dates);
  stmt.BindTextArray(7, currencies);
  return RunInsert(stmt, uuids);
}

// A line item to insert, at `position` in invoice `invoice_key`.
struct LineItemInsert {
  int64_t invoice_key = 0;
  int64_t source_key = 0;
  int64_t position = 0;
  const LineItem* item = nullptr;
};

// Inserts line items of invoices of customer `customer_key`.
absl::StatusOr<std::vector<int64_t>> InsertLineItemRows(
    Connection& db, int64_t customer_key,
    const std::vector<LineItemInsert>& rows) {
  if (rows.empty()) return std::vector<int64_t>();
  const size_t n = rows.size();
  std::vector<std::string> uuids, external_ids, subscription_ids, plan_ids,
      descriptions;
  std::vector<int64_t> invoice_keys, sources, positions, types, starts, ends,
      amounts, quantities, discounts, taxes, prorated;
  for (std::vector<std::string>* column :
       {&uuids, &external_ids, &subscription_ids, &plan_ids, &descriptions}) {
    column->reserve(n);
  }
  for (std::vector<int64_t>* column :
       {&invoice_keys, &sources, &positions, &types, &starts, &ends, &amounts,
        &quantities, &discounts, &taxes, &prorated}) {
    column->reserve(n);
  }
  for (const LineItemInsert& row : rows) {
    const LineItem& item = *row.item;
    uuids.push_back(item.uuid);
    invoice_keys.push_back(row.invoice_key);
    sources.push_back(row.source_key);
    external_ids.push_back(item.external_id);
    positions.push_back(row.position);
    types.push_back(LineItemTypeCode(item.type));
    subscription_ids.push_back(item.subscription_external_id);
    plan_ids.push_back(item.plan_external_id);
    starts.push_back(absl::ToUnixMicros(item.service_period_start));
    ends.push_back(absl::ToUnixMicros(item.service_period_end));
    amounts.push_back(item.amount_in_cents);
    quantities.push_back(item.quantity);
    discounts.push_back(item.discount_amount_in_cents);
    taxes.push_back(item.tax_amount_in_cents);
    prorated.push_back(item.prorated ? 1 : 0);
    descriptions.push_back(item.description);
  }
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(kInsertLineItemsSql));
  stmt.BindTextArray(1, uuids);
  stmt.BindInt64Array(2, invoice_keys);
  stmt.BindInt64Array(3, sources);
  stmt.BindTextArray(4, external_ids);
  stmt.BindInt64Array(5, positions);
  stmt.BindInt64Array(6, types);
  stmt.BindTextArray(7, subscription_ids);
  stmt.BindTextArray(8, plan_ids);
  stmt.BindInt64Array(9, starts);
  stmt.BindInt64Array(10, ends);
  stmt.BindInt64Array(11, amounts);
  stmt.BindInt64Array(12, quantities);
  stmt.BindInt64Array(13, discounts);
  stmt.BindInt64Array(14, taxes);
  stmt.BindInt64Array(15, prorated);
  stmt.BindTextArray(16, descriptions);
  stmt.BindInt64(17, customer_key);
  return RunInsert(stmt, uuids);
}

// A transaction to insert into invoice `invoice_key`.
struct TransactionInsert {
  int64_t invoice_key = 0;
  int64_t source_key = 0;
  const Transaction* transaction = nullptr;
};

// Inserts transactions of invoices of customer `customer_key`.
absl::StatusOr<std::vector<int64_t>> InsertTransactionRows(
    Connection& db, int64_t customer_key,
    const std::vector<TransactionInsert>& rows) {
  if (rows.empty()) return std::vector<int64_t>();
  const size_t n = rows.size();
  std::vector<std::string> uuids, external_ids;
  std::vector<int64_t> invoice_keys, sources, types, results, dates;
  std::vector<std::optional<std::string>> amounts;
  for (std::vector<std::string>* column : {&uuids, &external_ids}) {
    column->reserve(n);
  }
  for (std::vector<int64_t>* column :
       {&invoice_keys, &sources, &types, &results, &dates}) {
    column->reserve(n);
  }
  amounts.reserve(n);
  for (const TransactionInsert& row : rows) {
    const Transaction& transaction = *row.transaction;
    uuids.push_back(transaction.uuid);
    invoice_keys.push_back(row.invoice_key);
    sources.push_back(row.source_key);
    external_ids.push_back(transaction.external_id);
    types.push_back(TransactionTypeCode(transaction.type));
    results.push_back(TransactionResultCode(transaction.result));
    dates.push_back(absl::ToUnixMicros(transaction.date));
    amounts.push_back(OptionalText(transaction.amount_in_cents));
  }
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                             db.Prepare(kInsertTransactionsSql));
  stmt.BindTextArray(1, uuids);
  stmt.BindInt64Array(2, invoice_keys);
  stmt.BindInt64Array(3, sources);
  stmt.BindTextArray(4, external_ids);
  stmt.BindInt64Array(5, types);
  stmt.BindInt64Array(6, results);
  stmt.BindInt64Array(7, dates);
  stmt.BindNullableArray(8, amounts);
  stmt.BindInt64(9, customer_key);
  return RunInsert(stmt, uuids);
}

}  // namespace

absl::StatusOr<std::vector<Invoice>> LoadCustomerInvoices(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(
      absl::StrCat(kInvoiceSelect, " WHERE i.customer_id = $1 ORDER BY i.id"));
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
                   " (SELECT id FROM data_sources WHERE uuid = $1)"
                   " AND i.external_id = $2"));
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
  // Assembled from constant fragments only (8 variants, each prepared once
  // per connection); values are bound: $1 last key, $2 limit, then the
  // filters present, numbered in this order: customer, source, external id
  // (PostgreSQL needs every parameter up to the highest to be used).
  std::vector<absl::string_view> filters;
  std::string sql = absl::StrCat(kInvoiceSelect, " WHERE i.id > $1");
  if (!filter.customer_uuid.empty()) {
    filters.push_back(filter.customer_uuid);
    absl::StrAppend(&sql,
                    " AND i.customer_id ="
                    " (SELECT id FROM customers WHERE uuid = $",
                    filters.size() + 2, ")");
  }
  if (!filter.data_source_uuid.empty()) {
    filters.push_back(filter.data_source_uuid);
    absl::StrAppend(&sql,
                    " AND i.data_source_id ="
                    " (SELECT id FROM data_sources WHERE uuid = $",
                    filters.size() + 2, ")");
  }
  if (!filter.external_id.empty()) {
    filters.push_back(filter.external_id);
    absl::StrAppend(&sql, " AND i.external_id = $", filters.size() + 2);
  }
  absl::StrAppend(&sql, " ORDER BY i.id LIMIT $2");
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
  stmt.BindInt64(1, after);
  // One extra row tells whether there is a next page.
  stmt.BindInt64(2, int64_t{page.page_size} + 1);
  for (size_t i = 0; i < filters.size(); ++i) {
    stmt.BindText(static_cast<int>(i) + 3, filters[i]);
  }
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
  // Each source is looked up once per call, not per invoice. As in a
  // row-by-row import, the first invoice whose source is absent ends the
  // import: the invoices before it still go in (and may conflict first).
  std::unordered_map<std::string, int64_t> source_keys;
  std::vector<int64_t> invoice_sources;
  invoice_sources.reserve(invoices.size());
  absl::Status source_error;
  for (const Invoice& invoice : invoices) {
    auto it = source_keys.find(invoice.data_source_uuid);
    if (it == source_keys.end()) {
      absl::StatusOr<int64_t> key =
          FindDataSourceKey(db, invoice.data_source_uuid);
      if (!key.ok()) {
        // Any other error left the transaction unusable.
        if (!absl::IsNotFound(key.status())) return key.status();
        source_error = key.status();
        break;
      }
      it = source_keys.emplace(invoice.data_source_uuid, *key).first;
    }
    invoice_sources.push_back(it->second);
  }
  const absl::Span<const Invoice> batch =
      invoices.subspan(0, invoice_sources.size());

  RECURRENT_ASSIGN_OR_RETURN(
      const std::vector<int64_t> invoice_keys,
      InsertInvoiceRows(db, customer_key, batch, invoice_sources));
  // A row-by-row import stops at the first invoice not inserted: only the
  // children of the invoices before it are inserted.
  const size_t stop = FirstSkipped(invoice_keys);
  std::vector<LineItemInsert> line_items;
  std::vector<TransactionInsert> transactions;
  for (size_t i = 0; i < stop; ++i) {
    const Invoice& invoice = batch[i];
    for (size_t j = 0; j < invoice.line_items.size(); ++j) {
      line_items.push_back(LineItemInsert{invoice_keys[i], invoice_sources[i],
                                          static_cast<int64_t>(j),
                                          &invoice.line_items[j]});
    }
    for (const Transaction& transaction : invoice.transactions) {
      transactions.push_back(
          TransactionInsert{invoice_keys[i], invoice_sources[i], &transaction});
    }
  }
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<int64_t> line_item_keys,
                             InsertLineItemRows(db, customer_key, line_items));
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<int64_t> transaction_keys,
                             InsertTransactionRows(db, customer_key, transactions));

  // The first conflict in row-by-row order: each invoice, its line items,
  // its transactions (the tables' conflicts are independent of each other).
  size_t item = 0;
  size_t transaction = 0;
  for (size_t i = 0; i < stop; ++i) {
    const Invoice& invoice = batch[i];
    for (const LineItem& line_item : invoice.line_items) {
      if (line_item_keys[item++] == 0) {
        return NameConflict("line item", line_item.external_id,
                            invoice.data_source_uuid);
      }
    }
    for (const Transaction& t : invoice.transactions) {
      if (transaction_keys[transaction++] == 0) {
        return NameConflict("transaction", t.external_id,
                            invoice.data_source_uuid);
      }
    }
  }
  if (stop < batch.size()) {
    return NameConflict("invoice", batch[stop].external_id,
                        batch[stop].data_source_uuid);
  }
  return source_error;
}

absl::Status DeleteInvoiceRow(Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM invoices WHERE uuid = $1"));
  stmt.BindText(1, uuid);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (stmt.RowsAffected() == 0) return InvoiceNotFound(uuid);
  return absl::OkStatus();
}

absl::Status InsertTransaction(Connection& db, absl::string_view invoice_uuid,
                               const Transaction& transaction) {
  RECURRENT_ASSIGN_OR_RETURN(const InvoiceRow invoice,
                             FindInvoiceRow(db, invoice_uuid));
  RECURRENT_ASSIGN_OR_RETURN(
      const std::vector<int64_t> keys,
      InsertTransactionRows(
          db, invoice.customer_key,
          {TransactionInsert{invoice.key, invoice.source_key, &transaction}}));
  if (keys.front() == 0) {
    return NameConflict("transaction", transaction.external_id,
                        invoice.invoice.data_source_uuid);
  }
  return absl::OkStatus();
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
                 " (SELECT id FROM data_sources WHERE uuid = $1)"
                 " AND t.external_id = $2"));
  stmt.BindText(1, data_source_uuid);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return std::nullopt;
  ReadTransaction::StoredTransaction stored;
  stored.invoice_uuid = stmt.ColumnText(0);
  RECURRENT_ASSIGN_OR_RETURN(stored.transaction, ReadTransactionColumns(stmt));
  return stored;
}

}  // namespace recurrent::persistence::postgres
