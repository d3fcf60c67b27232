#include "persistence/postgres_subscriptions.h"

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/postgres_customers.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/row_codes.h"

namespace recurrent::persistence::postgres {
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
      new std::string(absl::StrCat(kRefSelect, " WHERE s.uuid = $1"));
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
                   " (SELECT id FROM data_sources WHERE uuid = $1)"
                   " AND s.external_id = $2"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, data_source_uuid);
  stmt.BindText(2, external_id);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return std::nullopt;
  return ReadRef(stmt);
}

absl::Status InsertSubscriptions(Connection& db,
                                 absl::Span<const SubscriptionRef> refs) {
  // Customers and sources are looked up once per call. As in a row-by-row
  // insert, the first subscription whose customer or source is absent ends
  // the call: the ones before it still go in (and may conflict first).
  std::unordered_map<std::string, int64_t> customer_keys;
  std::unordered_map<std::string, int64_t> source_keys;
  std::vector<std::string> uuids, external_ids;
  std::vector<int64_t> customers, sources;
  absl::Status lookup_error;
  for (const SubscriptionRef& ref : refs) {
    absl::StatusOr<int64_t> customer_key =
        CachedKey(customer_keys, ref.customer_uuid,
                  [&](const std::string& u) { return FindCustomerKey(db, u); });
    absl::StatusOr<int64_t> source_key = absl::UnknownError("");
    if (!customer_key.ok()) {
      source_key = customer_key.status();
    } else {
      source_key = CachedKey(
          source_keys, ref.data_source_uuid,
          [&](const std::string& u) { return FindDataSourceKey(db, u); });
    }
    if (!source_key.ok()) {
      // Any other error left the transaction unusable.
      if (!absl::IsNotFound(source_key.status())) return source_key.status();
      lookup_error = source_key.status();
      break;
    }
    uuids.push_back(ref.uuid);
    customers.push_back(*customer_key);
    sources.push_back(*source_key);
    external_ids.push_back(ref.external_id);
  }
  if (uuids.empty()) return lookup_error;

  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO subscriptions (uuid, customer_id,"
                 " data_source_id, external_id)"
                 " SELECT r.uuid, r.customer_id, r.data_source_id,"
                 " r.external_id FROM unnest($1::text[], $2::bigint[],"
                 " $3::bigint[], $4::text[]) WITH ORDINALITY"
                 " AS r(uuid, customer_id, data_source_id, external_id, ord)"
                 " ORDER BY r.ord ON CONFLICT DO NOTHING RETURNING uuid"));
  stmt.BindTextArray(1, uuids);
  stmt.BindInt64Array(2, customers);
  stmt.BindInt64Array(3, sources);
  stmt.BindTextArray(4, external_ids);
  std::unordered_set<std::string> inserted;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    inserted.insert(stmt.ColumnText(0));
  }
  // The first row skipped because its (source, external id) or uuid is
  // taken (rows are told apart by uuid, new and distinct for every row).
  for (size_t i = 0; i < uuids.size(); ++i) {
    if (inserted.erase(uuids[i]) > 0) continue;
    return common::ResourceAlreadyExists(
        absl::AlreadyExistsError(absl::StrCat(
            "subscription '", refs[i].external_id,
            "' already exists in data source ", refs[i].data_source_uuid)),
        "subscription", refs[i].external_id);
  }
  return lookup_error;
}

absl::Status DeleteSubscriptions(Connection& db,
                                 absl::Span<const std::string> uuids) {
  if (uuids.empty()) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("DELETE FROM subscriptions WHERE uuid = ANY($1::text[])"));
  stmt.BindTextArray(1, uuids);
  return stmt.Run();
}

absl::StatusOr<bool> InsertCancellation(Connection& db,
                                        absl::string_view subscription_uuid,
                                        absl::Time cancelled_at,
                                        absl::Time recorded_at) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO cancellations (subscription_id, cancelled_at,"
                 " recorded_at)"
                 " SELECT id, $2::bigint, $3::bigint FROM subscriptions"
                 " WHERE uuid = $1 ON CONFLICT DO NOTHING"));
  stmt.BindText(1, subscription_uuid);
  stmt.BindTime(2, cancelled_at);
  stmt.BindTime(3, recorded_at);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (stmt.RowsAffected() > 0) return true;
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
                 " WHERE s.customer_id = $1 ORDER BY s.id, x.cancelled_at"));
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
      " WHERE s.customer_id = $1 ORDER BY s.id"));
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

}  // namespace recurrent::persistence::postgres
