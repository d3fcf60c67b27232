// Row-level operations on invoices, their line items and transactions.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors. None
// recomputes the customer: the caller does (sqlite_recompute.h). Invoices are
// read in a bounded number of queries (rows, then all their line items, then
// all their transactions), never one query per invoice.
#ifndef RECURRENT_PERSISTENCE_SQLITE_INVOICES_H_
#define RECURRENT_PERSISTENCE_SQLITE_INVOICES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/sqlite_connection.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// Every invoice of customer `customer_key` with its line items and
// transactions, in import order.
absl::StatusOr<std::vector<Invoice>> LoadCustomerInvoices(Connection& db,
                                                          int64_t customer_key);

// kNotFound if absent.
absl::StatusOr<Invoice> LoadInvoice(Connection& db, absl::string_view uuid);

absl::StatusOr<Page<Invoice>> LoadInvoicePage(Connection& db,
                                              const InvoiceFilter& filter,
                                              const PageRequest& page);

// Stores `invoices` for customer `customer_key` (uuid `customer_uuid`) as
// Storage::ImportInvoices documents, creating subscription rows for new
// subscriptions, and returns them as stored, in request order.
absl::StatusOr<std::vector<Invoice>> ImportInvoiceRows(
    Connection& db, int64_t customer_key, absl::string_view customer_uuid,
    const std::vector<Invoice>& invoices);

// Deletes the invoice `uuid` (line items and transactions by cascade) and
// the customer's subscriptions left with no SUBSCRIPTION or TRIAL line item.
// Returns the customer's key. kNotFound if absent.
absl::StatusOr<int64_t> DeleteInvoiceRows(Connection& db,
                                          absl::string_view uuid);

// A transaction as stored, and the key of its invoice's customer.
struct StoredTransaction {
  int64_t customer_key = 0;
  Transaction transaction;
};

// Adds `transaction` to invoice `invoice_uuid` as Storage::AddTransaction
// documents. kNotFound if the invoice is absent.
absl::StatusOr<StoredTransaction> InsertTransaction(
    Connection& db, absl::string_view invoice_uuid,
    const Transaction& transaction);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_INVOICES_H_
