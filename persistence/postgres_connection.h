// One PostgreSQL connection (libpq) with prepared statements, and the
// Statement used to run them.
//
//   RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(
//       "SELECT id, name FROM data_sources WHERE uuid = $1"));
//   stmt.BindText(1, uuid);
//   while (true) {
//     RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
//     if (!row) break;
//     ... stmt.ColumnInt64(0), stmt.ColumnText(1) ...
//   }
//
// The same shape as the SQLite backend's Statement (bind indexes 1-based,
// matching $1, $2, ...; column indexes 0-based), so that a query reads alike
// in both backends. Values travel in libpq's text format. Times are BIGINT
// microseconds since the Unix epoch (UTC), optional times NULL when unset.
// Step() runs the statement on first call and holds the whole result; a
// query that may return many rows reads them in keyset pages.
//
// Not thread-safe: a Connection is used by one thread at a time.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_CONNECTION_H_
#define RECURRENT_PERSISTENCE_POSTGRES_CONNECTION_H_

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
#include "absl/types/span.h"

struct pg_conn;
struct pg_result;

namespace recurrent::persistence::postgres {

struct ConnectionCloser {
  void operator()(pg_conn* conn) const;
};
struct ResultClearer {
  void operator()(pg_result* result) const;
};
using ConnectionPtr = std::unique_ptr<pg_conn, ConnectionCloser>;
using ResultPtr = std::unique_ptr<pg_result, ResultClearer>;

class Connection;

class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() = default;

  void BindInt64(int index, int64_t value);
  void BindText(int index, absl::string_view value);
  void BindNull(int index);
  void BindTime(int index, absl::Time value);
  void BindOptionalTime(int index, const std::optional<absl::Time>& value);
  // Arrays, for `= ANY($1::bigint[])` and `unnest($1::text[])`: one
  // prepared statement whatever the number of values.
  void BindInt64Array(int index, absl::Span<const int64_t> values);
  void BindTextArray(int index, absl::Span<const std::string> values);
  // An array with NULL elements (nullopt), of any element type the SQL
  // casts it to (e.g. `$3::bigint[]`), values in text form.
  void BindNullableArray(int index,
                         absl::Span<const std::optional<std::string>> values);

  // Runs the statement on first call; then true while a row is available.
  absl::StatusOr<bool> Step();
  // Runs a statement whose rows are not read.
  absl::Status Run();
  // Forgets the result so that the statement can run again; bindings are
  // kept.
  void Reset();
  // Rows inserted, updated or deleted by the last run.
  int64_t RowsAffected() const;

  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  absl::Time ColumnTime(int column) const;
  std::optional<absl::Time> ColumnOptionalTime(int column) const;

 private:
  friend class Connection;
  Statement(Connection* connection, std::string name, int parameters);
  void Set(int index, std::optional<std::string> value);

  Connection* connection_;
  std::string name_;  // the prepared statement's name on the connection
  std::vector<std::optional<std::string>> values_;
  ResultPtr result_;
  int row_ = -1;   // the current row of result_
  int rows_ = 0;   // rows in result_
};

// What a connection's transactions may do. kReadOnly sets the session's
// default_transaction_read_only: every write then fails on the server
// (SQLSTATE 25006, kFailedPrecondition), as on a hot standby.
enum class Access { kReadWrite, kReadOnly };
inline Access AccessOf(bool read_only) {
  return read_only ? Access::kReadOnly : Access::kReadWrite;
}

class Connection {
 public:
  // Connects to `uri` (a libpq connection URI or key=value string).
  // kUnavailable, with libpq's reason (which never holds the password), if
  // the server cannot be reached or refuses. What `uri` leaves unset bounds
  // how long a silent server or network can stall the connection: 10 s to
  // connect, TCP keepalives after 30 s idle (dead after 3 missed probes 10 s
  // apart), 60 s for sent data to be acknowledged (libpq's connect_timeout,
  // keepalives_* and tcp_user_timeout; PGCONNECT_TIMEOUT is honoured).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(
      const std::string& uri, Access access = Access::kReadWrite);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // A statement for `sql` (a constant string with $1, $2, ... parameters,
  // never user data), prepared on this connection on first use. The
  // Statement must not outlive the Connection.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // Runs one or more statements that take no parameters and return no rows
  // (BEGIN, COMMIT, schema changes).
  absl::Status Execute(const char* sql);
  // Runs a single-value query with no parameters; NULL reads as 0.
  absl::StatusOr<int64_t> QueryInt64(const char* sql);

  // True once the connection to the server is lost; it is then only
  // closed.
  bool Broken() const;
  // True between BEGIN and its COMMIT or ROLLBACK (also after an error
  // inside it, until ROLLBACK).
  bool InTransaction() const;
  // True inside a transaction that a failed statement aborted (it can only
  // roll back; PostgreSQL would answer COMMIT with a silent ROLLBACK).
  bool TransactionFailed() const;

  pg_conn* handle() const { return conn_.get(); }

 private:
  friend class Statement;
  explicit Connection(ConnectionPtr conn) : conn_(std::move(conn)) {}

  ConnectionPtr conn_;
  // SQL -> (prepared name, number of parameters).
  struct Prepared {
    std::string name;
    int parameters = 0;
  };
  std::unordered_map<std::string, Prepared> prepared_;
};

// Maps a failed result (or, if `result` is null, the connection's state) of
// `operation` (a short phrase) to a status. Messages never contain SQL;
// details go to stderr.
//   23505 unique_violation                     kAlreadyExists (generic
//                                              message: call sites name the
//                                              resource)
//   40001, 40P01, 55P03, 57014; class 08;
//   57P01-57P03; a lost connection             kUnavailable
//   53100 disk_full, 53200 out_of_memory       kResourceExhausted
//   25006 read_only_sql_transaction            kFailedPrecondition
//   anything else                              kInternal
absl::Status PostgresErrorToStatus(pg_conn* conn, const pg_result* result,
                                   absl::string_view operation);

// What the failure of a COMMIT tells its caller. A connection lost during
// it (DATABASE_UNAVAILABLE, which promises a retry is safe) leaves the
// outcome unknown -- the server may have committed before the answer was
// lost -- so it becomes COMMIT_OUTCOME_UNKNOWN; any other status (OK
// included) is returned as it is.
absl::Status CommitStatus(absl::Status status);

// True if `status` came from a unique violation.
bool IsUniqueViolation(const absl::Status& status);

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_CONNECTION_H_
