// Row-level operations on customers, their external ids and tags.
//
// Internal to SqliteBackend: every function runs on a connection inside a
// transaction held by the caller, and returns Backend-contract errors.
// Customers are read in a bounded number of queries (rows, then all their
// external ids, then all their tags), never one query per customer.
#ifndef RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_
#define RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "persistence/customer_columns.h"
#include "persistence/records.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

// kNotFound ("customer cus_x not found").
absl::Status CustomerNotFound(absl::string_view uuid);

// The integer key of customer `uuid`. kNotFound if absent.
absl::StatusOr<int64_t> FindCustomerKey(Connection& db, absl::string_view uuid);

// Inserts `customer` as Backend::InsertCustomer documents.
absl::Status InsertCustomer(Connection& db, const Customer& customer);

// kNotFound if absent.
absl::StatusOr<CustomerRecord> LoadCustomerRecord(Connection& db,
                                                  absl::string_view uuid);
absl::StatusOr<Customer> LoadCustomer(Connection& db, absl::string_view uuid);

// Stores `fields`, the user tags `tags` (replacing them) and `updated_at`
// into customer `uuid`. kNotFound if absent.
absl::Status UpdateCustomerRow(Connection& db, absl::string_view uuid,
                               const CustomerFields& fields,
                               const std::vector<std::string>& tags,
                               absl::Time updated_at);

// Deletes the customer and everything it owns. kNotFound if absent.
absl::Status DeleteCustomerRow(Connection& db, absl::string_view uuid);

// The page; with `keys`, also the customers' keys, in the same order.
absl::StatusOr<Page<Customer>> LoadCustomerPage(
    Connection& db, const CustomerFilter& filter, const PageRequest& page,
    std::vector<int64_t>* keys = nullptr);

// Moves everything customer `from_uuid` owns to `into_uuid` (external ids
// appended after into's, tags as a union, invoices, subscriptions with
// their cancellations and events) and deletes `from_uuid`. Leaves into's
// fields and updated_at alone. kNotFound if either is absent;
// kInvalidArgument if they are the same customer.
absl::Status MoveCustomerRows(Connection& db, absl::string_view from_uuid,
                              absl::string_view into_uuid);

// The uuids of up to `limit` customers whose next_transition_at is at or
// before `now`, earliest first (none if `limit` <= 0).
absl::StatusOr<std::vector<std::string>> FindDueCustomers(Connection& db,
                                                          absl::Time now,
                                                          int limit);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CUSTOMERS_H_
