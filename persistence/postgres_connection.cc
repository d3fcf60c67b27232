#include "persistence/postgres_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/error_reason.h"
#include "common/log.h"

namespace recurrent::persistence::postgres {
namespace {

constexpr absl::string_view kUniqueViolationPayload =
    "type.recurrent/postgres.unique_violation";

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

// An element of a text[] literal: double-quoted, with " and \ escaped.
void AppendArrayElement(std::string& out, absl::string_view value) {
  out.push_back('"');
  for (const char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

// libpq settings for what the connection URI leaves unset. Without them a
// server or network that goes silent (a partition, a host that vanished
// without closing its sockets) stalls a connection attempt, or a statement
// waiting for its answer, for as long as the kernel's TCP timeouts: minutes
// to hours, with the calls and the shutdown that wait for it.
constexpr std::pair<const char*, const char*> kConnectionDefaults[] = {
    {"connect_timeout", "10"},      // s, to connect and authenticate
    {"keepalives", "1"},            // probe idle connections...
    {"keepalives_idle", "30"},      // s, after this long without traffic,
    {"keepalives_interval", "10"},  // s, then this often,
    {"keepalives_count", "3"},      // and give up after this many misses
    {"tcp_user_timeout", "60000"},  // ms that sent data may stay unacked
};

// The number of the highest $n in `sql`.
int CountParameters(absl::string_view sql) {
  int highest = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    int n = 0;
    size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') {
      n = n * 10 + (sql[j] - '0');
      ++j;
    }
    if (n > highest) highest = n;
  }
  return highest;
}

}  // namespace

void ConnectionCloser::operator()(pg_conn* conn) const { PQfinish(conn); }
void ResultClearer::operator()(pg_result* result) const { PQclear(result); }

absl::Status PostgresErrorToStatus(pg_conn* conn, const pg_result* result,
                                   absl::string_view operation) {
  const char* state =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                        : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  const char* detail = result != nullptr ? PQresultErrorMessage(result) : "";
  if ((detail == nullptr || *detail == '\0') && conn != nullptr) {
    detail = PQerrorMessage(conn);
  }
  const bool lost = conn == nullptr || PQstatus(conn) == CONNECTION_BAD;
  if (sqlstate == "23505") {
    absl::Status status = absl::AlreadyExistsError("the row already exists");
    status.SetPayload(kUniqueViolationPayload, absl::Cord("1"));
    return status;
  }
  if (sqlstate == "55P03") {
    return common::WithReason(
        absl::UnavailableError(
            "another write held what this one needed (e.g. its data source, "
            "during a settings change) past the lock timeout; retry"),
        common::reason::kDatabaseBusy);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return common::WithReason(
        absl::UnavailableError(
            "the database aborted a conflicting transaction; retry"),
        common::reason::kDatabaseBusy);
  }
  if (sqlstate == "57014") {
    return common::WithReason(
        absl::UnavailableError("the database cancelled the statement"),
        common::reason::kDatabaseBusy);
  }
  if (lost || sqlstate.rfind("08", 0) == 0 || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03") {
    log::Error("PostgreSQL connection lost",
               {{"operation", std::string(operation)},
                {"detail", std::string(absl::StripTrailingAsciiWhitespace(
                               detail != nullptr ? detail : ""))}});
    return common::WithReason(
        absl::UnavailableError("the database cannot be reached; retry"),
        common::reason::kDatabaseUnavailable);
  }
  if (sqlstate == "53100" || sqlstate == "53200") {
    return common::WithReason(
        absl::ResourceExhaustedError("the database is full"),
        common::reason::kDiskFull);
  }
  if (sqlstate == "25006") {
    return DatabaseReadOnlyError();
  }
  log::Error("PostgreSQL statement failed",
             {{"operation", std::string(operation)},
              {"sqlstate", sqlstate},
              {"detail", std::string(absl::StripTrailingAsciiWhitespace(
                             detail != nullptr ? detail : ""))}});
  return absl::InternalError(
      absl::StrCat("database error during ", operation));
}

absl::Status CommitStatus(absl::Status status) {
  if (!common::HasReason(status, common::reason::kDatabaseUnavailable)) {
    return status;
  }
  return common::WithReason(
      absl::UnavailableError(
          "the database connection was lost while the write committed: it "
          "may or may not be stored; read it back before sending it again"),
      common::reason::kCommitOutcomeUnknown);
}

bool IsUniqueViolation(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists &&
         status.GetPayload(kUniqueViolationPayload).has_value();
}

// ---- Statement ----------------------------------------------------------------

Statement::Statement(Connection* connection, std::string name, int parameters)
    : connection_(connection),
      name_(std::move(name)),
      values_(static_cast<size_t>(parameters)) {}

void Statement::Set(int index, std::optional<std::string> value) {
  // An index beyond the SQL's parameters is a programming error; the server
  // then reports the mismatch when the statement runs.
  if (index < 1) return;
  if (static_cast<size_t>(index) > values_.size()) values_.resize(index);
  values_[index - 1] = std::move(value);
}

void Statement::BindInt64(int index, int64_t value) {
  Set(index, absl::StrCat(value));
}
void Statement::BindText(int index, absl::string_view value) {
  Set(index, std::string(value));
}
void Statement::BindNull(int index) { Set(index, std::nullopt); }
void Statement::BindTime(int index, absl::Time value) {
  BindInt64(index, ToMicros(value));
}
void Statement::BindOptionalTime(int index,
                                 const std::optional<absl::Time>& value) {
  if (value.has_value()) {
    BindTime(index, *value);
  } else {
    BindNull(index);
  }
}
void Statement::BindInt64Array(int index, absl::Span<const int64_t> values) {
  Set(index, absl::StrCat("{", absl::StrJoin(values, ","), "}"));
}
void Statement::BindTextArray(int index, absl::Span<const std::string> values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendArrayElement(out, values[i]);
  }
  out.push_back('}');
  Set(index, std::move(out));
}

void Statement::BindNullableArray(
    int index, absl::Span<const std::optional<std::string>> values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    if (values[i].has_value()) {
      AppendArrayElement(out, *values[i]);
    } else {
      out += "NULL";
    }
  }
  out.push_back('}');
  Set(index, std::move(out));
}

absl::StatusOr<bool> Statement::Step() {
  if (result_ == nullptr) {
    std::vector<const char*> params(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
      params[i] = values_[i].has_value() ? values_[i]->c_str() : nullptr;
    }
    result_.reset(PQexecPrepared(connection_->handle(), name_.c_str(),
                                 static_cast<int>(params.size()),
                                 params.data(), nullptr, nullptr,
                                 /*resultFormat=*/0));
    const ExecStatusType status =
        result_ != nullptr ? PQresultStatus(result_.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      absl::Status error = PostgresErrorToStatus(connection_->handle(),
                                                 result_.get(), "a statement");
      result_.reset();
      return error;
    }
    rows_ = PQntuples(result_.get());
    row_ = -1;
  }
  if (row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

absl::Status Statement::Run() {
  Reset();
  return Step().status();
}

void Statement::Reset() {
  result_.reset();
  row_ = -1;
  rows_ = 0;
}

int64_t Statement::RowsAffected() const {
  if (result_ == nullptr) return 0;
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_.get()), &n) ? n : 0;
}

bool Statement::ColumnIsNull(int column) const {
  return PQgetisnull(result_.get(), row_, column) != 0;
}
int64_t Statement::ColumnInt64(int column) const {
  int64_t value = 0;
  const char* text = PQgetvalue(result_.get(), row_, column);
  if (absl::SimpleAtoi(text, &value)) return value;
  // Booleans read as 0/1.
  if (std::strcmp(text, "t") == 0) return 1;
  // An integer beyond the int64 range (a NUMERIC sum, e.g. of the MRR
  // rollups) is clamped to it.
  absl::string_view digits = text;
  const bool negative = absl::ConsumePrefix(&digits, "-");
  if (!digits.empty() && absl::c_all_of(digits, absl::ascii_isdigit)) {
    return negative ? std::numeric_limits<int64_t>::min()
                    : std::numeric_limits<int64_t>::max();
  }
  return 0;
}
std::string Statement::ColumnText(int column) const {
  return std::string(PQgetvalue(result_.get(), row_, column),
                     PQgetlength(result_.get(), row_, column));
}
absl::Time Statement::ColumnTime(int column) const {
  return absl::FromUnixMicros(ColumnInt64(column));
}
std::optional<absl::Time> Statement::ColumnOptionalTime(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnTime(column);
}

// ---- Connection ---------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(
    const std::string& uri, Access access) {
  // The defaults come before the URI (libpq: a later keyword wins), so that
  // the URI's own settings override them; PGCONNECT_TIMEOUT too.
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : kConnectionDefaults) {
    if (absl::string_view(keyword) == "connect_timeout" &&
        std::getenv("PGCONNECT_TIMEOUT") != nullptr) {
      continue;
    }
    keywords.push_back(keyword);
    values.push_back(value);
  }
  keywords.push_back("dbname");  // expanded: a URI or key=value string
  values.push_back(uri.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  ConnectionPtr conn(
      PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1));
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate a connection");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string reason = PQerrorMessage(conn.get());
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
      reason.pop_back();
    }
    return common::WithReason(absl::UnavailableError(absl::StrCat(
                                  "cannot connect to PostgreSQL: ", reason)),
                              common::reason::kDatabaseUnavailable);
  }
  std::unique_ptr<Connection> connection(new Connection(std::move(conn)));
  // Times are integers, texts UTF-8 and byteas hex whatever the server's
  // defaults.
  absl::Status set = connection->Execute(
      "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"
      " SET bytea_output = 'hex'; SET client_min_messages = warning");
  if (set.ok() && access == Access::kReadOnly) {
    set = connection->Execute("SET default_transaction_read_only = on");
  }
  if (!set.ok()) return set;
  return connection;
}

absl::StatusOr<Statement> Connection::Prepare(absl::string_view sql) {
  auto it = prepared_.find(std::string(sql));
  if (it == prepared_.end()) {
    Prepared prepared;
    prepared.name = absl::StrCat("s", prepared_.size() + 1);
    prepared.parameters = CountParameters(sql);
    const std::string text(sql);
    ResultPtr result(PQprepare(conn_.get(), prepared.name.c_str(),
                               text.c_str(), 0, nullptr));
    if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return PostgresErrorToStatus(conn_.get(), result.get(), "prepare");
    }
    it = prepared_.emplace(text, std::move(prepared)).first;
  }
  return Statement(this, it->second.name, it->second.parameters);
}

absl::Status Connection::Execute(const char* sql) {
  ResultPtr result(PQexec(conn_.get(), sql));
  // PQexec returns the last statement's result; any failure stops there.
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return PostgresErrorToStatus(conn_.get(), result.get(), "execute");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Connection::QueryInt64(const char* sql) {
  ResultPtr result(PQexec(conn_.get(), sql));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return PostgresErrorToStatus(conn_.get(), result.get(), "query");
  }
  int64_t value = 0;
  if (PQntuples(result.get()) > 0 && !PQgetisnull(result.get(), 0, 0)) {
    const char* text = PQgetvalue(result.get(), 0, 0);
    if (!absl::SimpleAtoi(text, &value)) {
      return absl::InternalError("the database returned a non-integer");
    }
  }
  return value;
}

bool Connection::Broken() const { return PQstatus(conn_.get()) == CONNECTION_BAD; }

bool Connection::InTransaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR ||
         status == PQTRANS_ACTIVE;
}

bool Connection::TransactionFailed() const {
  return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR;
}

}  // namespace recurrent::persistence::postgres
