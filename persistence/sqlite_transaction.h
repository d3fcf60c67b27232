// Transaction: an RAII guard for a SQLite transaction.
//
//   Transaction txn(connection);
//   RECURRENT_RETURN_IF_ERROR(txn.Begin(Transaction::Kind::kImmediate));
//   ...                             // an early return rolls back
//   RECURRENT_RETURN_IF_ERROR(txn.Commit());
//
// Not thread-safe; lives on the stack of the thread that holds the
// connection.
#ifndef RECURRENT_PERSISTENCE_SQLITE_TRANSACTION_H_
#define RECURRENT_PERSISTENCE_SQLITE_TRANSACTION_H_

#include "absl/status/status.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

class Transaction {
 public:
  enum class Kind {
    kDeferred,   // reads: a consistent snapshot, no lock taken up front
    kImmediate,  // writes: takes the write lock at BEGIN (BEGIN IMMEDIATE)
  };

  explicit Transaction(Connection& connection) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Rolls back unless committed.
  ~Transaction();

  absl::Status Begin(Kind kind);
  // Commits. On failure the transaction is rolled back.
  absl::Status Commit();
  void Rollback();

 private:
  Connection& connection_;
  bool active_ = false;
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_TRANSACTION_H_
