// RAII wrappers for SQLite handles and a prepared-statement wrapper.
//
// A Statement is used by one thread at a time, on the thread that holds its
// Connection. Bind* calls never fail directly: the first binding error is
// remembered and returned by the next Step()/Run(). Column indexes are
// 0-based, bind indexes 1-based (as in SQLite).
//
// Times are stored as INTEGER microseconds since the Unix epoch (UTC);
// optional times are stored as NULL when unset.
#ifndef RECURRENT_PERSISTENCE_SQLITE_STATEMENT_H_
#define RECURRENT_PERSISTENCE_SQLITE_STATEMENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace recurrent::persistence::sqlite {

struct DatabaseCloser {
  void operator()(sqlite3* db) const;
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const;
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseCloser>;
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

class Statement {
 public:
  // Wraps `stmt`. If `in_use` is non-null, the statement belongs to a
  // connection's cache: it is not finalized on destruction but reset, its
  // bindings cleared and *in_use set to false. Otherwise `owned` owns it.
  Statement(sqlite3_stmt* stmt, bool* in_use, StatementPtr owned);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  void BindInt64(int index, int64_t value);
  void BindText(int index, absl::string_view value);
  void BindBlob(int index, absl::string_view value);
  void BindNull(int index);
  void BindTime(int index, absl::Time value);
  void BindOptionalTime(int index, const std::optional<absl::Time>& value);

  // Advances: true if a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion of a statement that returns no rows.
  absl::Status Run();
  // Rewinds so the statement can run again; bindings are kept.
  void Reset();

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  // The bytes of a BLOB column, valid until the next Step, Reset or
  // destruction.
  absl::string_view ColumnBlob(int column) const;
  absl::Time ColumnTime(int column) const;
  std::optional<absl::Time> ColumnOptionalTime(int column) const;

 private:
  void NoteBindResult(int rc);

  sqlite3_stmt* stmt_;
  bool* in_use_;
  StatementPtr owned_;
  int bind_error_ = 0;  // SQLITE_OK if every binding succeeded
};

// Returns `keys` as a JSON array (e.g. "[1,2,3]"), to bind as one parameter
// of `... IN (SELECT value FROM json_each(?))`: one prepared statement
// whatever the number of keys.
std::string KeysAsJson(const std::vector<int64_t>& keys);

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_STATEMENT_H_
