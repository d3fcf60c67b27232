// FilterKeys: the integer keys of a list filter's customer and data source,
// shared by the backends' list queries (events, MRR rows).
#ifndef RECURRENT_PERSISTENCE_FILTER_KEYS_H_
#define RECURRENT_PERSISTENCE_FILTER_KEYS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace recurrent::persistence {

// 0 where the filter's uuid is empty.
struct FilterKeys {
  int64_t customer = 0;
  int64_t source = 0;
};

// The keys of `customer_uuid` and `data_source_uuid` on `db`, a backend's
// connection: kNotFound if a named one is absent (the customer checked
// first). The backend's FindCustomerKey and FindDataSourceKey (declared in
// its namespace, beside its Connection) are found by argument-dependent
// lookup.
template <typename Connection>
absl::StatusOr<FilterKeys> FindFilterKeys(Connection& db,
                                          absl::string_view customer_uuid,
                                          absl::string_view data_source_uuid) {
  FilterKeys keys;
  if (!customer_uuid.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(keys.customer,
                               FindCustomerKey(db, customer_uuid));
  }
  if (!data_source_uuid.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(keys.source,
                               FindDataSourceKey(db, data_source_uuid));
  }
  return keys;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_FILTER_KEYS_H_
