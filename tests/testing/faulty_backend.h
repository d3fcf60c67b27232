// FaultyBackend: a Backend that wraps another and injects faults, for tests
// of what the core does when storage fails.
//
//   FaultyBackend faulty(real_backend.get());
//   core::Store store(&faulty, {}, nullptr);
//   faulty.FailAt(3, absl::UnavailableError("injected"));  // 3rd statement
//   EXPECT_FALSE(store.ImportInvoices(...).ok());
//   EXPECT_TRUE(faulty.fired());
//
// Every call into the backend counts as one statement: beginning a
// transaction, every method of a transaction (Commit() included) and every
// SourceScan::Next(). An armed fault makes the n-th statement counted from
// FailAt() return the given status without reaching the wrapped backend (so
// a failed Commit() commits nothing, and the transaction then rolls back
// when destroyed). Delay() makes every statement sleep first, to widen race
// windows. Thread-safe.
#ifndef RECURRENT_TESTS_TESTING_FAULTY_BACKEND_H_
#define RECURRENT_TESTS_TESTING_FAULTY_BACKEND_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "persistence/backend.h"

namespace recurrent::testing {

class FaultyBackend final : public persistence::Backend {
 public:
  // `inner` is not owned and must outlive this backend and its
  // transactions.
  explicit FaultyBackend(persistence::Backend* inner);

  // The `n`-th statement from now (1 = the next one) fails with `status`;
  // the fault then disarms itself.
  void FailAt(int64_t n, absl::Status status);
  // The next statement named `name` (e.g. "RollbackToSavepoint") fails
  // with `status`; the fault then disarms itself. Faults on different names
  // may be armed together.
  void FailOn(const std::string& name, absl::Status status);
  // Disarms the fault and forgets whether it fired.
  void Disarm();
  // Whether the armed fault has fired.
  bool fired() const;
  // Every statement sleeps `delay` before running (zero: none).
  void Delay(absl::Duration delay);
  // Statements run so far (failed ones included), and the name of the last.
  int64_t statements() const;
  std::string last_statement() const;

  absl::StatusOr<std::unique_ptr<persistence::ReadTransaction>> BeginRead(
      ReadKind kind) override;
  absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>> BeginWrite()
      override;
  // The wrapped backend's (no fault is injected here).
  absl::Status CheckHealth() override;

  // Counts a statement named `name` and returns the injected fault if it is
  // its turn. Used by the wrappers.
  absl::Status Statement(const char* name);

 private:
  persistence::Backend* const inner_;
  mutable std::mutex mu_;
  int64_t statements_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_ ABSL_GUARDED_BY(mu_);
  int64_t fail_at_ ABSL_GUARDED_BY(mu_) = 0;  // statement number; 0: none
  // Statement name -> its fault (FailOn).
  std::map<std::string, absl::Status> fail_on_ ABSL_GUARDED_BY(mu_);
  absl::Status fault_ ABSL_GUARDED_BY(mu_);  // FailAt's
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
};

}  // namespace recurrent::testing

#endif  // RECURRENT_TESTS_TESTING_FAULTY_BACKEND_H_
