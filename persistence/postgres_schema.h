// The PostgreSQL schema and its migrations.
//
// Versions follow SQLite's (persistence/sqlite_schema.h): version N means
// the same tables and meaning in both backends, so a later migration gets
// the same number in each. PostgreSQL support began at version 5, whose
// migration creates everything SQLite's 1-5 did. The version is the one
// row of `schema_version` (absent: 0, an empty database).
//
// ApplyMigrations() takes a session advisory lock first, so of several
// replicas starting at once one migrates and the others wait, then find the
// database current. Each migration runs in its own transaction with the
// version bump. Times are BIGINT unix microseconds (UTC); ids are TEXT
// (common/ids.h) beside a BIGINT identity key used for joins and keyset
// paging, as in SQLite.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_SCHEMA_H_
#define RECURRENT_PERSISTENCE_POSTGRES_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "persistence/postgres_connection.h"

namespace recurrent::persistence::postgres {

struct Migration {
  int version;              // 5, 6, ... in order, no gaps
  const char* description;  // one line, for logs and reviewers
  const char* sql;          // run with Connection::Execute
};

// Every migration, oldest first.
absl::Span<const Migration> Migrations();

// The version a fully migrated database has (the last migration's).
int LatestSchemaVersion();

// The version of the database on `connection`, without changing anything
// (0: no schema_version table, an empty database).
absl::StatusOr<int64_t> SchemaVersion(Connection& connection);

// Brings the database to LatestSchemaVersion() on `connection` (outside any
// transaction) and returns the version it found (0: it was empty).
// kFailedPrecondition if the database is newer than this build.
absl::StatusOr<int> ApplyMigrations(Connection& connection);

// Advisory lock keys (pg_advisory_lock's two-int form: class, id). One
// copy: the backend and the migration use these. Sources and customers are
// keyed by hashtext(uuid): uuids are random, so databases or schemas that
// share a server never contend (a hash collision only makes two sources
// share a lock, or a due customer wait one round).
inline constexpr int kLockClassMigration = 0x52430001;  // id 0
inline constexpr int kLockClassSource = 0x52430002;     // id: hashtext(uuid)
inline constexpr int kLockClassCustomer = 0x52430003;   // id: hashtext(uuid)
inline constexpr int kLockClassApiKeys = 0x52430004;    // id 0

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_SCHEMA_H_
