// ScopedTransaction: an RAII guard for a SQLite transaction on one
// connection.
//
//   ScopedTransaction txn(connection);
//   RECURRENT_RETURN_IF_ERROR(txn.Begin(ScopedTransaction::Kind::kImmediate));
//   ...                             // an early return rolls back
//   RECURRENT_RETURN_IF_ERROR(txn.Commit());
//
// (Not named Transaction: persistence::Transaction is a payment.)
//
// Not thread-safe; used by the thread that holds the connection.
#ifndef RECURRENT_PERSISTENCE_SQLITE_SCOPED_TRANSACTION_H_
#define RECURRENT_PERSISTENCE_SQLITE_SCOPED_TRANSACTION_H_

#include "absl/status/status.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

class ScopedTransaction {
 public:
  enum class Kind {
    kDeferred,   // reads: a consistent snapshot from the first read on
    kImmediate,  // writes: takes the write lock at BEGIN (BEGIN IMMEDIATE)
  };

  // `connection` must outlive the guard.
  explicit ScopedTransaction(Connection& connection)
      : connection_(connection) {}
  ScopedTransaction(const ScopedTransaction&) = delete;
  ScopedTransaction& operator=(const ScopedTransaction&) = delete;
  // Rolls back unless committed.
  ~ScopedTransaction();

  absl::Status Begin(Kind kind);
  // Commits. On failure the transaction is rolled back. An I/O error during
  // a kImmediate transaction's COMMIT is COMMIT_OUTCOME_UNKNOWN
  // (kUnavailable): the commit record may have reached the log before the
  // error (a failed fsync, a failed update of the WAL index), and a later
  // recovery of the log would then replay it.
  absl::Status Commit();
  void Rollback();

  // True between a successful Begin() and Commit() or Rollback().
  bool active() const { return active_; }

 private:
  Connection& connection_;
  Kind kind_ = Kind::kDeferred;
  bool active_ = false;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_SCOPED_TRANSACTION_H_
