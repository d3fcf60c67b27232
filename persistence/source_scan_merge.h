// The merge of a source scan, shared by both backends' SourceScanner
// (sqlite_source_scan.h, postgres_source_scan.h).
//
// A scan walks the source's customers in key order, with one child scan per
// table (ScanTable), each ordered by customer key. For each customer the
// merge reads, from every child scan, the rows of that customer into its
// CustomerState: external ids, invoices with line items, transactions,
// subscriptions with their stored evaluations, cancellations and events.
// The backends differ only in how they run the child scans (SQLite: one
// statement over the whole source; PostgreSQL: one per page of customers);
// the rows' columns are the same (see their ScanQueries()).
//
// `Statement` is the backend's statement class.
#ifndef RECURRENT_PERSISTENCE_SOURCE_SCAN_MERGE_H_
#define RECURRENT_PERSISTENCE_SOURCE_SCAN_MERGE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/records.h"
#include "persistence/row_codes.h"
#include "persistence/subscription_columns.h"

namespace recurrent::persistence {

// The child scans, in this order.
enum ScanTable {
  kScanExternalIds,
  kScanInvoices,
  kScanTransactions,
  kScanSubscriptions,
  kScanCancellations,
  kScanEvents,
  kScanTables,  // how many
};

// One scan: a statement positioned on its current row, whose column 0 is
// the customer key.
template <typename Statement>
class ScanCursor {
 public:
  explicit ScanCursor(Statement stmt) : stmt_(std::move(stmt)) {}
  ScanCursor(ScanCursor&&) = default;

  // Steps to the next row.
  absl::Status Advance(int64_t& rows_scanned) {
    RECURRENT_ASSIGN_OR_RETURN(has_row_, stmt_.Step());
    if (has_row_) ++rows_scanned;
    return absl::OkStatus();
  }
  // The customer key of the current row; the largest key when done.
  int64_t customer() const {
    return has_row_ ? stmt_.ColumnInt64(0)
                    : std::numeric_limits<int64_t>::max();
  }
  const Statement& row() const { return stmt_; }
  // To run it again (a new page), then Advance().
  Statement& statement() { return stmt_; }

 private:
  Statement stmt_;
  bool has_row_ = false;
};

template <typename Statement>
class ScanMerge {
 public:
  // `children` in ScanTable order; `source_uuids` names every source key.
  ScanMerge(absl::flat_hash_map<int64_t, std::string> source_uuids,
            std::vector<ScanCursor<Statement>> children)
      : source_uuids_(std::move(source_uuids)),
        children_(std::move(children)) {}

  std::vector<ScanCursor<Statement>>& children() { return children_; }

  // Reads the rows of customer `key` from every child scan into `state`
  // (whose customer fields the caller has set), skipping rows of customers
  // before it, which the driving scan does not list.
  absl::Status Read(int64_t key, CustomerState& state,
                    int64_t& rows_scanned) {
    rows_scanned_ = &rows_scanned;
    RECURRENT_RETURN_IF_ERROR(ReadExternalIds(key, state));
    std::vector<int64_t> invoice_keys;
    RECURRENT_RETURN_IF_ERROR(ReadInvoices(key, state, invoice_keys));
    RECURRENT_RETURN_IF_ERROR(ReadTransactions(key, state, invoice_keys));
    RECURRENT_RETURN_IF_ERROR(ReadSubscriptions(key, state));
    RECURRENT_RETURN_IF_ERROR(ReadCancellations(key, state));
    return ReadEvents(key, state);
  }

 private:
  using Cursor = ScanCursor<Statement>;

  absl::Status SkipTo(Cursor& cursor, int64_t key) {
    while (cursor.customer() < key) {
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  const std::string& SourceUuid(int64_t source_key) const {
    static const std::string* const kUnknown = new std::string();
    auto it = source_uuids_.find(source_key);
    return it == source_uuids_.end() ? *kUnknown : it->second;
  }

  absl::Status ReadExternalIds(int64_t key, CustomerState& state) {
    Cursor& cursor = children_[kScanExternalIds];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    Customer& customer = state.customer;
    while (cursor.customer() == key) {
      const Statement& row = cursor.row();
      customer.external_ids.push_back(
          ExternalId{SourceUuid(row.ColumnInt64(1)), row.ColumnText(2)});
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    if (!customer.external_ids.empty()) {
      customer.data_source_uuid =
          customer.external_ids.front().data_source_uuid;
      customer.external_id = customer.external_ids.front().external_id;
    }
    return absl::OkStatus();
  }

  absl::Status ReadInvoices(int64_t key, CustomerState& state,
                            std::vector<int64_t>& invoice_keys) {
    Cursor& cursor = children_[kScanInvoices];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    std::vector<engine::Invoice>& invoices = state.facts.invoices;
    while (cursor.customer() == key) {
      const Statement& row = cursor.row();
      const int64_t invoice_key = row.ColumnInt64(1);
      if (invoice_keys.empty() || invoice_keys.back() != invoice_key) {
        invoice_keys.push_back(invoice_key);
        engine::Invoice& invoice = invoices.emplace_back();
        invoice.data_source_uuid = SourceUuid(row.ColumnInt64(2));
        invoice.external_id = row.ColumnText(3);
        invoice.due_date = row.ColumnOptionalTime(4);
        invoice.currency = row.ColumnText(5);
      }
      if (!row.ColumnIsNull(6)) {
        engine::LineItem& item = invoices.back().line_items.emplace_back();
        RECURRENT_ASSIGN_OR_RETURN(item.type,
                                   LineItemTypeFromCode(row.ColumnInt64(6)));
        item.subscription_external_id = row.ColumnText(7);
        item.service_period_start = row.ColumnTime(8);
        item.service_period_end = row.ColumnTime(9);
        item.amount_in_cents = row.ColumnInt64(10);
        item.tax_amount_in_cents = row.ColumnInt64(11);
        item.prorated = row.ColumnInt64(12) != 0;
      }
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  absl::Status ReadTransactions(int64_t key, CustomerState& state,
                                const std::vector<int64_t>& invoice_keys) {
    Cursor& cursor = children_[kScanTransactions];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    // Both scans are ordered by invoice key within the customer.
    size_t i = 0;
    while (cursor.customer() == key) {
      const Statement& row = cursor.row();
      const int64_t invoice_key = row.ColumnInt64(1);
      while (i < invoice_keys.size() && invoice_keys[i] < invoice_key) ++i;
      if (i == invoice_keys.size() || invoice_keys[i] != invoice_key) {
        return absl::InternalError(
            absl::StrCat("transaction of unknown invoice #", invoice_key));
      }
      engine::Transaction& transaction =
          state.facts.invoices[i].transactions.emplace_back();
      RECURRENT_ASSIGN_OR_RETURN(transaction.type,
                                 TransactionTypeFromCode(row.ColumnInt64(2)));
      RECURRENT_ASSIGN_OR_RETURN(
          transaction.result, TransactionResultFromCode(row.ColumnInt64(3)));
      transaction.date = row.ColumnTime(4);
      if (!row.ColumnIsNull(5)) {
        transaction.amount_in_cents = row.ColumnInt64(5);
      }
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  absl::Status ReadSubscriptions(int64_t key, CustomerState& state) {
    Cursor& cursor = children_[kScanSubscriptions];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    while (cursor.customer() == key) {
      RECURRENT_ASSIGN_OR_RETURN(SubscriptionRow subscription,
                                 ReadStoredSubscription(cursor.row(), 1));
      state.subscriptions.push_back(std::move(subscription));
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  absl::Status ReadCancellations(int64_t key, CustomerState& state) {
    Cursor& cursor = children_[kScanCancellations];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    while (cursor.customer() == key) {
      const Statement& row = cursor.row();
      state.facts.cancellations.push_back(
          engine::Cancellation{SourceUuid(row.ColumnInt64(1)),
                               row.ColumnText(2), row.ColumnTime(3)});
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  absl::Status ReadEvents(int64_t key, CustomerState& state) {
    Cursor& cursor = children_[kScanEvents];
    RECURRENT_RETURN_IF_ERROR(SkipTo(cursor, key));
    while (cursor.customer() == key) {
      const Statement& row = cursor.row();
      EventRow& event = state.events.emplace_back();
      event.key = row.ColumnInt64(1);
      event.subscription_key = row.ColumnInt64(2);
      RECURRENT_ASSIGN_OR_RETURN(event.type,
                                 EventTypeFromCode(row.ColumnInt64(3)));
      event.occurred_at = row.ColumnTime(4);
      RECURRENT_ASSIGN_OR_RETURN(
          event.status_after, SubscriptionStatusFromCode(row.ColumnInt64(5)));
      RECURRENT_RETURN_IF_ERROR(cursor.Advance(*rows_scanned_));
    }
    return absl::OkStatus();
  }

  absl::flat_hash_map<int64_t, std::string> source_uuids_;
  std::vector<ScanCursor<Statement>> children_;
  int64_t* rows_scanned_ = nullptr;  // the caller's, during Read()
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_SOURCE_SCAN_MERGE_H_
