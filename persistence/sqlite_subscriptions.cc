#include "persistence/sqlite_subscriptions.h"

#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/row_codes.h"
#include "persistence/sqlite_customers.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence::sqlite {
namespace {

absl::Status SubscriptionNotFound(absl::string_view uuid) {
  return common::ResourceNotFound("subscription", uuid);
}

// A subscription's identity (alias s) with its customer's and source's
// uuids, in the order ReadRef expects.
constexpr absl::string_view kRefSelect =
    "SELECT s.uuid, c.uuid, d.uuid, s.external_id FROM subscriptions s"
    " JOIN customers c ON c.id = s.customer_id"
    " JOIN data_sources d ON d.id = s.data_source_id";

SubscriptionRef ReadRef(const Statement& stmt) {
  SubscriptionRef ref;
  ref.uuid = stmt.ColumnText(0);
  ref.customer_uuid = stmt.ColumnText(1);
  ref.data_source_uuid = stmt.ColumnText(2);
  ref.external_id = stmt.ColumnText(3);
  return ref;
}

// The integer key of `uuid` in `cache`, looked up with `find` on a miss.
template <typename Find>
absl::StatusOr<int64_t> CachedKey(
    std::unordered_map<std::string, int64_t>& cache, const std::string& uuid,
    Find find) {
  auto it = cache.find(uuid);
  if (it != cache.end()) return it->second;
  RECURRENT_ASSIGN_OR_RETURN(const int64_t key, find(uuid));
  cache.emplace(uuid, key);
  return key;
}

}  // namespace

absl::StatusOr<SubscriptionRef> LoadSubscription(Connection& db,
                                                 absl::string_view uuid) {
  static const std::string* const kSql =
      new std::string(absl::StrCat(kRefSelect, " WHERE s.uuid = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return SubscriptionNotFound(uuid);
  return ReadRef(stmt);
}

absl::StatusOr<std::optional<SubscriptionRef>> FindSubscription(
    Connection& db, absl::string_view data_source_uuid,
    absl::string_view external_id) {
  static const std::string* const kSql = new std::string(
      absl::StrCat(kRefSelect,
                   " WHERE s.data_source_id ="
                   " (SELECT id FROM data_sources WHERE uuid = ?)"
                   " AND s.external_id = ?"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, data_source_uuid);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return std::nullopt;
  return ReadRef(stmt);
}

absl::Status InsertSubscriptions(Connection& db,
                                 absl::Span<const SubscriptionRef> refs) {
  // Customers and sources are looked up once per call.
  std::unordered_map<std::string, int64_t> customer_keys;
  std::unordered_map<std::string, int64_t> source_keys;
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO subscriptions (uuid, customer_id,"
                 " data_source_id, external_id) VALUES (?, ?, ?, ?)"));
  for (const SubscriptionRef& ref : refs) {
    RECURRENT_ASSIGN_OR_RETURN(
        const int64_t customer_key,
        CachedKey(customer_keys, ref.customer_uuid, [&](const std::string& u) {
          return FindCustomerKey(db, u);
        }));
    RECURRENT_ASSIGN_OR_RETURN(
        const int64_t source_key,
        CachedKey(source_keys, ref.data_source_uuid, [&](const std::string& u) {
          return FindDataSourceKey(db, u);
        }));
    stmt.Reset();
    stmt.BindText(1, ref.uuid);
    stmt.BindInt64(2, customer_key);
    stmt.BindInt64(3, source_key);
    stmt.BindText(4, ref.external_id);
    if (absl::Status status = stmt.Run(); !status.ok()) {
      if (IsUniqueViolation(status)) {
        return common::ResourceAlreadyExists(
            absl::AlreadyExistsError(absl::StrCat(
                "subscription '", ref.external_id,
                "' already exists in data source ", ref.data_source_uuid)),
            "subscription", ref.external_id);
      }
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status DeleteSubscriptions(Connection& db,
                                 absl::Span<const std::string> uuids) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM subscriptions WHERE uuid = ?"));
  for (const std::string& uuid : uuids) {
    stmt.Reset();
    stmt.BindText(1, uuid);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> InsertCancellation(Connection& db,
                                        absl::string_view subscription_uuid,
                                        absl::Time cancelled_at,
                                        absl::Time recorded_at) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT OR IGNORE INTO cancellations (subscription_id,"
                 " cancelled_at, recorded_at)"
                 " SELECT id, ?2, ?3 FROM subscriptions WHERE uuid = ?1"));
  stmt.BindText(1, subscription_uuid);
  stmt.BindTime(2, cancelled_at);
  stmt.BindTime(3, recorded_at);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (db.Changes() > 0) return true;
  // Nothing inserted: a cancellation at that instant, or no subscription.
  RECURRENT_RETURN_IF_ERROR(LoadSubscription(db, subscription_uuid).status());
  return false;
}

absl::StatusOr<std::vector<engine::Cancellation>> LoadCustomerCancellations(
    Connection& db, int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.uuid, s.external_id, x.cancelled_at"
                 " FROM subscriptions s"
                 " JOIN cancellations x ON x.subscription_id = s.id"
                 " JOIN data_sources d ON d.id = s.data_source_id"
                 " WHERE s.customer_id = ? ORDER BY s.id, x.cancelled_at"));
  stmt.BindInt64(1, customer_key);
  std::vector<engine::Cancellation> cancellations;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    cancellations.push_back(engine::Cancellation{
        stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnTime(2)});
  }
  return cancellations;
}


absl::StatusOr<std::vector<SubscriptionRow>> LoadStoredSubscriptions(
    Connection& db, int64_t customer_key) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kStoredSubscriptionColumns,
      " FROM subscriptions s JOIN customers c ON c.id = s.customer_id"
      " JOIN data_sources d ON d.id = s.data_source_id"
      " WHERE s.customer_id = ? ORDER BY s.id"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindInt64(1, customer_key);
  std::vector<SubscriptionRow> rows;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    RECURRENT_ASSIGN_OR_RETURN(SubscriptionRow stored,
                               ReadStoredSubscription(stmt, 0));
    rows.push_back(std::move(stored));
  }
  return rows;
}

}  // namespace recurrent::persistence::sqlite
