#include "persistence/sqlite_statement.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "persistence/sqlite_status.h"

namespace recurrent::persistence::sqlite {

void DatabaseCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

void StatementFinalizer::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

Statement::Statement(sqlite3_stmt* stmt, bool* in_use, StatementPtr owned)
    : stmt_(stmt), in_use_(in_use), owned_(std::move(owned)) {}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(std::move(other.owned_)),
      bind_error_(other.bind_error_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (in_use_ != nullptr) *in_use_ = false;
}

void Statement::NoteBindResult(int rc) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void Statement::BindInt64(int index, int64_t value) {
  NoteBindResult(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindText(int index, absl::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so `value` need not outlive the call.
  NoteBindResult(sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8));
}

void Statement::BindBlob(int index, absl::string_view value) {
  NoteBindResult(sqlite3_bind_blob64(stmt_, index, value.data(), value.size(),
                                     SQLITE_TRANSIENT));
}

void Statement::BindNull(int index) {
  NoteBindResult(sqlite3_bind_null(stmt_, index));
}

void Statement::BindTime(int index, absl::Time value) {
  BindInt64(index, absl::ToUnixMicros(value));
}

void Statement::BindOptionalTime(int index,
                                 const std::optional<absl::Time>& value) {
  if (value.has_value()) {
    BindTime(index, *value);
  } else {
    BindNull(index);
  }
}

absl::StatusOr<bool> Statement::Step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_error_ != SQLITE_OK) {
    return SqliteErrorToStatus(db, bind_error_, "bind");
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The connection holds the extended code (e.g. SQLITE_CONSTRAINT_UNIQUE).
  const int extended = sqlite3_extended_errcode(db);
  return SqliteErrorToStatus(
      db, (extended & 0xff) == (rc & 0xff) ? extended : rc, "step");
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  if (*row) {
    return SqliteErrorToStatus(sqlite3_db_handle(stmt_), SQLITE_MISUSE,
                               "run (statement returned a row)");
  }
  return absl::OkStatus();
}

void Statement::Reset() { sqlite3_reset(stmt_); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::string_view Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return absl::string_view();
  return absl::string_view(
      static_cast<const char*>(blob),
      static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

absl::Time Statement::ColumnTime(int column) const {
  return absl::FromUnixMicros(ColumnInt64(column));
}

std::optional<absl::Time> Statement::ColumnOptionalTime(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnTime(column);
}

std::string KeysAsJson(const std::vector<int64_t>& keys) {
  return absl::StrCat("[", absl::StrJoin(keys, ","), "]");
}

}  // namespace recurrent::persistence::sqlite
