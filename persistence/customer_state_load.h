// LoadCustomerState written once for both backends
// (sqlite_customer_state.cc, postgres_customer_state.cc): the customer row
// and its facts blob with one statement, or, without a blob, its fact rows;
// then the settings of its sources, its stored subscriptions and, if asked,
// its events. The backend's own loaders (LoadCustomerRecord,
// LoadCustomerInvoices, LoadCustomerCancellations, LoadSettingsOfSources,
// LoadCustomerSettings, LoadStoredSubscriptions, LoadCustomerEvents) are
// found by argument-dependent lookup on its Connection.
#ifndef RECURRENT_PERSISTENCE_CUSTOMER_STATE_LOAD_H_
#define RECURRENT_PERSISTENCE_CUSTOMER_STATE_LOAD_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "persistence/customer_columns.h"
#include "persistence/customer_facts_blob.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// Moves `record` into `state`.
inline void TakeRecord(CustomerRecord record, CustomerState& state) {
  state.key = record.key;
  state.customer = std::move(record.customer);
  state.next_transition_at = record.next_transition_at;
  state.mrr_digest = record.mrr_digest;
}

// Fills `state` with `record` (loaded with its external ids and tags) and
// the customer's facts, from their rows.
template <typename Connection>
absl::Status LoadFactRows(Connection& db, CustomerRecord record,
                          CustomerState& state) {
  TakeRecord(std::move(record), state);
  RECURRENT_ASSIGN_OR_RETURN(std::vector<Invoice> invoices,
                             LoadCustomerInvoices(db, state.key));
  state.facts.invoices.reserve(invoices.size());
  for (Invoice& invoice : invoices) {
    state.facts.invoices.push_back(ToEngine(std::move(invoice)));
  }
  RECURRENT_ASSIGN_OR_RETURN(state.facts.cancellations,
                             LoadCustomerCancellations(db, state.key));
  return absl::OkStatus();
}

// The statement that reads a customer's row (kCustomerColumns) and its
// facts blob, or NULL, by uuid, the backend's `uuid_placeholder`.
inline std::string CustomerWithFactsSql(absl::string_view uuid_placeholder) {
  return absl::StrCat("SELECT ", kCustomerColumns,
                      ", f.facts FROM customers c"
                      " LEFT JOIN customer_facts f ON f.customer_id = c.id"
                      " WHERE c.uuid = ",
                      uuid_placeholder);
}

// LoadCustomerState (sqlite_customer_state.h, postgres_customer_state.h).
// `customer_with_facts_sql` is the backend's CustomerWithFactsSql;
// `blob_of(stmt, column)` returns the facts blob in `column` of the row
// `stmt` is on, as absl::StatusOr<std::string>.
template <typename Connection, typename BlobOf>
absl::StatusOr<CustomerState> LoadCustomerStateWith(
    Connection& db, absl::string_view uuid, bool with_events,
    absl::string_view customer_with_facts_sql, BlobOf blob_of) {
  CustomerState state;
  const FactsBlobReads blobs = GetFactsBlobReads();
  if (blobs != FactsBlobReads::kIgnore) {
    // The customer row and its facts blob, if it has one: one statement.
    RECURRENT_ASSIGN_OR_RETURN(auto stmt, db.Prepare(customer_with_facts_sql));
    stmt.BindText(1, uuid);
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) return common::ResourceNotFound("customer", uuid);
    const int blob_column = kCustomerColumnCount;
    if (stmt.ColumnIsNull(blob_column) && blobs == FactsBlobReads::kRequire) {
      return absl::InternalError(
          absl::StrCat("customer ", uuid, " has no facts blob"));
    }
    if (!stmt.ColumnIsNull(blob_column)) {
      RECURRENT_ASSIGN_OR_RETURN(CustomerRecord record, ReadCustomerRow(stmt));
      TakeRecord(std::move(record), state);
      absl::StatusOr<std::string> blob = blob_of(stmt, blob_column);
      absl::Status decoded =
          blob.ok() ? DecodeCustomerFacts(*blob, state) : blob.status();
      if (!decoded.ok()) {
        // The blob is only a copy (a newer build's format, or damaged): the
        // rows are the truth, so the customer stays readable. A write of
        // its facts replaces the blob.
        if (blobs == FactsBlobReads::kRequire) return decoded;
        log::Error(
            "unreadable customer facts blob; reading the rows",
            {{"customer", std::string(uuid)}, {"error", decoded.ToString()}});
        state = CustomerState();
      }
    }
  }
  if (state.key != 0) {
    // From the blob: its sources are known, no need to look through its
    // invoices' rows.
    RECURRENT_ASSIGN_OR_RETURN(state.settings,
                               LoadSettingsOfSources(db, FactSources(state)));
  } else {
    // No blob (stale in this write transaction, or not built yet after an
    // upgrade): the rows.
    RECURRENT_ASSIGN_OR_RETURN(CustomerRecord record,
                               LoadCustomerRecord(db, uuid));
    RECURRENT_RETURN_IF_ERROR(LoadFactRows(db, std::move(record), state));
    RECURRENT_ASSIGN_OR_RETURN(state.settings,
                               LoadCustomerSettings(db, state.key));
  }
  RECURRENT_ASSIGN_OR_RETURN(state.subscriptions,
                             LoadStoredSubscriptions(db, state.key));
  if (with_events) {
    RECURRENT_ASSIGN_OR_RETURN(state.events, LoadCustomerEvents(db, state.key));
  }
  return state;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_CUSTOMER_STATE_LOAD_H_
