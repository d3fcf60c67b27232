#include "persistence/sqlite_connection.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence::sqlite {

namespace {

// "file:PATH?immutable=1", with the characters that end or escape a URI's
// path ('?', '#', '%') percent-encoded.
std::string ImmutableUri(const std::string& path) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '?' || c == '#' || c == '%') {
      absl::StrAppend(&uri, "%", absl::Hex(static_cast<unsigned char>(c),
                                           absl::kZeroPad2));
    } else {
      uri.push_back(c);
    }
  }
  return absl::StrCat(uri, "?immutable=1");
}

}  // namespace

Connection::Mode Connection::ReadOnlyModeFor(const std::string& path) {
  const std::string folder = std::filesystem::path(path).parent_path();
  return access(folder.empty() ? "." : folder.c_str(), W_OK) == 0
             ? Mode::kReadOnly
             : Mode::kImmutable;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& path, Mode mode, absl::Duration busy_timeout) {
  // NOMUTEX: each connection is used by one thread at a time, so SQLite's
  // per-connection mutex is unnecessary.
  int flags = SQLITE_OPEN_NOMUTEX;
  std::string name = path;
  switch (mode) {
    case Mode::kReadWriteCreate:
      flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
      break;
    case Mode::kReadWrite:
      flags |= SQLITE_OPEN_READWRITE;
      break;
    case Mode::kReadOnly:
      flags |= SQLITE_OPEN_READONLY;
      break;
    case Mode::kImmutable:
      flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
      name = ImmutableUri(path);
      break;
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  DatabasePtr db(raw);  // closes even a half-opened handle
  if (rc != SQLITE_OK) {
    const std::string detail =
        raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      return common::WithReason(absl::UnavailableError(absl::StrCat(
                                    "database ", path, " is locked: ", detail)),
                                common::reason::kDatabaseBusy);
    }
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open database ", path, ": ", detail));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(
      db.get(), static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
  return std::unique_ptr<Connection>(new Connection(std::move(db)));
}

Connection::Connection(DatabasePtr db) : db_(std::move(db)) {}

Connection::~Connection() {
  // Finalize statements before db_ closes the connection.
  cache_.clear();
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Statement(it->second->stmt.get(), &it->second->in_use, nullptr);
  }
  const bool cache = it == cache_.end();
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                         cache ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) {
    return SqliteErrorToStatus(db_.get(), sqlite3_extended_errcode(db_.get()),
                               "prepare");
  }
  if (stmt == nullptr) {  // empty SQL: a programming error
    return SqliteErrorToStatus(db_.get(), SQLITE_MISUSE, "prepare (empty)");
  }
  if (!cache) return Statement(raw, nullptr, std::move(stmt));
  auto entry = std::make_unique<CachedStatement>();
  entry->stmt = std::move(stmt);
  entry->in_use = true;
  CachedStatement* cached = entry.get();
  cache_.emplace(std::string(sql), std::move(entry));
  return Statement(cached->stmt.get(), &cached->in_use, nullptr);
}

absl::Status Connection::Execute(const char* sql) {
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteErrorToStatus(db_.get(), sqlite3_extended_errcode(db_.get()),
                               "exec");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Connection::QueryInt64(absl::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return SqliteErrorToStatus(db_.get(), SQLITE_MISUSE,
                               "query (no row returned)");
  }
  return stmt->ColumnInt64(0);
}

int64_t Connection::LastInsertRowId() const {
  return sqlite3_last_insert_rowid(db_.get());
}

int64_t Connection::Changes() const { return sqlite3_changes64(db_.get()); }

bool Connection::InTransaction() const {
  return sqlite3_get_autocommit(db_.get()) == 0;
}

}  // namespace recurrent::persistence::sqlite
