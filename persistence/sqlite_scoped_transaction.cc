#include "persistence/sqlite_scoped_transaction.h"

#include <sqlite3.h>

#include "common/error_reason.h"
#include "persistence/sqlite_statement.h"

namespace recurrent::persistence::sqlite {

ScopedTransaction::~ScopedTransaction() { Rollback(); }

absl::Status ScopedTransaction::Begin(Kind kind) {
  absl::StatusOr<Statement> begin = connection_.Prepare(
      kind == Kind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  if (!begin.ok()) return begin.status();
  absl::Status status = begin->Run();
  if (status.ok()) {
    active_ = true;
    kind_ = kind;
  }
  return status;
}

absl::Status ScopedTransaction::Commit() {
  if (!active_) return absl::OkStatus();
  absl::StatusOr<Statement> commit = connection_.Prepare("COMMIT");
  absl::Status status = commit.ok() ? commit->Run() : commit.status();
  if (status.ok()) {
    active_ = false;
    return status;
  }
  // Read before the rollback replaces it (the error was logged with its
  // details when it was mapped).
  const bool outcome_unknown =
      commit.ok() && kind_ == Kind::kImmediate &&
      (sqlite3_errcode(connection_.handle()) & 0xff) == SQLITE_IOERR;
  Rollback();
  if (!outcome_unknown) return status;
  return common::WithReason(
      absl::UnavailableError(
          "the disk failed while the write committed: it may or may not be "
          "stored; read it back before sending it again"),
      common::reason::kCommitOutcomeUnknown);
}

void ScopedTransaction::Rollback() {
  if (!active_) return;
  active_ = false;
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL).
  if (!connection_.InTransaction()) return;
  absl::StatusOr<Statement> rollback = connection_.Prepare("ROLLBACK");
  if (rollback.ok()) rollback->Run().IgnoreError();
}

}  // namespace recurrent::persistence::sqlite
