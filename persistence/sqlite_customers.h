// Row-level operations on customers, their external ids and tags.
//
// Internal to SqliteStorage: every function runs on a connection inside a
// transaction held by the caller, and returns Storage-contract errors.
// Customers are read in a bounded number of queries (rows, then all their
// external ids, then all their tags), never one query per customer.
#ifndef RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_
#define RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/sqlite_connection.h"
#include "persistence/storage.h"

namespace recurrent::persistence::sqlite {

// The integer key of customer `uuid`. kNotFound if absent.
absl::StatusOr<int64_t> FindCustomerKey(Connection& db, absl::string_view uuid);
// The uuid of the customer with integer key `key` (which must exist).
absl::StatusOr<std::string> FindCustomerUuid(Connection& db, int64_t key);

// Inserts `customer` (see Storage::CreateCustomer) and returns it as stored.
absl::StatusOr<Customer> InsertCustomer(Connection& db,
                                        const Customer& customer,
                                        absl::Time now);

// kNotFound if absent.
absl::StatusOr<Customer> LoadCustomer(Connection& db, int64_t key);
absl::StatusOr<Customer> LoadCustomer(Connection& db, absl::string_view uuid);

// Stores the writable fields of `customer` into the row `key`, with
// updated_at = now.
absl::Status StoreCustomerFields(Connection& db, int64_t key,
                                 const Customer& customer, absl::Time now);

// Deletes the customer and everything it owns. kNotFound if absent.
absl::Status DeleteCustomerRow(Connection& db, absl::string_view uuid);

absl::StatusOr<Page<Customer>> LoadCustomerPage(Connection& db,
                                                const CustomerFilter& filter,
                                                const PageRequest& page);

// Moves everything of customer `from` to `into` (external ids, tags,
// invoices, subscriptions and their events) and deletes `from` (see
// Storage::MergeCustomers). Both must exist and differ. The caller then
// recomputes `into`.
absl::Status MergeCustomerRows(Connection& db, int64_t from, int64_t into,
                               absl::Time now);

// Adds or removes `tags` of customer `key`, with updated_at = now.
absl::Status AddTags(Connection& db, int64_t key,
                     const std::vector<std::string>& tags, absl::Time now);
absl::Status RemoveTags(Connection& db, int64_t key,
                        const std::vector<std::string>& tags, absl::Time now);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_
