// Row-level operations on invoices, their line items and transactions, for
// PostgreSQL (the same contract as persistence/sqlite_invoices.h).
//
// Internal to the PostgreSQL backend: every function runs on a connection
// inside a transaction held by the caller, and returns Backend-contract
// errors. Invoices are read in a bounded number of queries (rows, then all
// their line items, then all their transactions), never one query per
// invoice, and inserted in one statement per table whatever their number.
// A conflicting external id is reported without aborting the caller's
// transaction (the rows are inserted with ON CONFLICT DO NOTHING).
#ifndef RECURRENT_PERSISTENCE_POSTGRES_INVOICES_H_
#define RECURRENT_PERSISTENCE_POSTGRES_INVOICES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "persistence/backend.h"
#include "persistence/postgres_connection.h"
#include "persistence/records.h"

namespace recurrent::persistence::postgres {

// Every invoice of customer `customer_key` with its line items and
// transactions, in import order.
absl::StatusOr<std::vector<Invoice>> LoadCustomerInvoices(Connection& db,
                                                          int64_t customer_key);

// kNotFound if absent.
absl::StatusOr<Invoice> LoadInvoice(Connection& db, absl::string_view uuid);

// The invoice (source, external id) with its children, or nullopt (also if
// the source is absent).
absl::StatusOr<std::optional<Invoice>> FindInvoice(
    Connection& db, absl::string_view data_source_uuid,
    absl::string_view external_id);

absl::StatusOr<Page<Invoice>> LoadInvoicePage(Connection& db,
                                              const InvoiceFilter& filter,
                                              const PageRequest& page);

// Inserts `invoices` as Backend::InsertInvoices documents. kNotFound if the
// customer or an invoice's source is absent; kAlreadyExists naming the
// first invoice, line item or transaction whose external id is taken (in
// the order invoice, its line items, its transactions, next invoice...).
// On error some rows may be inserted: the caller rolls back.
absl::Status InsertInvoices(Connection& db, absl::string_view customer_uuid,
                            absl::Span<const Invoice> invoices);

// Deletes the invoice `uuid` (line items and transactions by cascade).
// kNotFound if absent.
absl::Status DeleteInvoiceRow(Connection& db, absl::string_view uuid);

// Adds `transaction` (its uuid included) to invoice `invoice_uuid`.
// kNotFound if the invoice is absent; kAlreadyExists if the external id is
// taken in its source.
absl::Status InsertTransaction(Connection& db, absl::string_view invoice_uuid,
                               const Transaction& transaction);

// The transaction (source, external id) and its invoice's uuid, or nullopt
// (also if the source is absent).
absl::StatusOr<std::optional<ReadTransaction::StoredTransaction>>
FindTransaction(Connection& db, absl::string_view data_source_uuid,
                absl::string_view external_id);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_INVOICES_H_
