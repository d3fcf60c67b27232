// The columns of invoices, line items and transactions, read alike by both
// backends (their Statement classes share the Column shape).
#ifndef RECURRENT_PERSISTENCE_INVOICE_COLUMNS_H_
#define RECURRENT_PERSISTENCE_INVOICE_COLUMNS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence {

inline absl::Status InvoiceNotFound(absl::string_view uuid) {
  return common::ResourceNotFound("invoice", uuid);
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
inline constexpr absl::string_view kInvoiceSelect =
    "SELECT i.id, i.customer_id, i.data_source_id, i.uuid, i.external_id,"
    " c.uuid, d.uuid, i.date, i.due_date, i.currency FROM invoices i"
    " JOIN customers c ON c.id = i.customer_id"
    " JOIN data_sources d ON d.id = i.data_source_id";

template <typename Statement>
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

template <typename Statement>
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

// Transaction columns, after the invoice key or uuid (column 0).
inline constexpr absl::string_view kTransactionColumns =
    "uuid, external_id, type, result, date, amount_in_cents";

template <typename Statement>
absl::StatusOr<Transaction> ReadTransactionColumns(const Statement& stmt) {
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

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_INVOICE_COLUMNS_H_
