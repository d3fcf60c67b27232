// The SQLite schema and its migrations.
//
// The schema version is PRAGMA user_version: 0 for an empty database, N
// after migration N. ApplyMigrations() runs every migration newer than the
// database's version, each in its own BEGIN IMMEDIATE transaction that also
// bumps user_version, so a crash leaves the database at a whole version.
//
// Adding a migration: append one entry to kMigrations in sqlite_schema.cc
// with the next version number and its SQL (CREATE/ALTER statements, no
// parameters). Never edit or reorder a released entry; a database already
// at that version would not see the change. Times are INTEGER unix
// microseconds (UTC); IDs are TEXT (common/ids.h) next to an INTEGER
// PRIMARY KEY used for joins and keyset pagination; child tables reference
// parents with ON DELETE CASCADE where the Backend contract
// (persistence/backend.h) deletes them together.
#ifndef RECURRENT_PERSISTENCE_SQLITE_SCHEMA_H_
#define RECURRENT_PERSISTENCE_SQLITE_SCHEMA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

struct Migration {
  int version;              // 1, 2, 3, ... in order, no gaps
  const char* description;  // one line, for logs and reviewers
  const char* sql;          // run with Connection::Execute
};

// Every migration, oldest first.
absl::Span<const Migration> Migrations();

// The version a fully migrated database has (the last migration's).
int LatestSchemaVersion();

// Brings the database on `connection` (the writer, outside any transaction)
// to LatestSchemaVersion(). kFailedPrecondition if the database is newer
// than this code knows (written by a later release).
absl::Status ApplyMigrations(Connection& connection);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SCHEMA_H_
