// GroupCommit: concurrent small writes share one transaction and one commit.
//
// Each write of Recurrent is one backend transaction; with SQLite, whose
// write transactions run one at a time, each also pays its own commit (a
// WAL fsync), so small writes (one invoice from a billing webhook) queue
// behind each other's fsyncs. GroupCommit is LevelDB's writer queue over
// backend transactions: writers queue; the writer at the front (the
// leader) takes the writers queued behind it, up to a limit, runs each in
// one shared transaction between a savepoint and its release, commits once,
// delivers the change rows, and only then wakes them with their results.
//
//   GroupCommit groups(backend, follower, {.max_writes = 64});
//   absl::Status status = groups.Run([&](Write& write) {
//     ...                          // one request's reads and writes
//     return absl::OkStatus();     // an error rolls back this request only
//   });
//
// Each write stays all-or-nothing and isolated as if run alone: a write
// that fails is rolled back to its savepoint and fails alone, the others
// commit; a write that succeeds is acknowledged only after the shared
// commit, and fails with the commit's error if that fails. Writes of a
// group run in queue order, each seeing the ones before it. If the database
// ends the shared transaction on its own (SQLite on a full disk), the
// writes run so far fail with kUnavailable (unless they failed themselves)
// and the rest run in the next group.
//
// Writes that must run alone (those that scan a source, whose snapshot
// must be the committed state: persistence/backend.h, contract point 5)
// call RunAlone, which is today's one transaction per write. With
// max_writes <= 1 every write runs alone.
//
// Thread-safe. Run blocks the calling thread until its write is committed.
#ifndef RECURRENT_CORE_GROUP_COMMIT_H_
#define RECURRENT_CORE_GROUP_COMMIT_H_

#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "core/change_follower.h"
#include "core/write.h"
#include "persistence/backend.h"

namespace recurrent::core {

class GroupCommit {
 public:
  struct Options {
    // Most writes one transaction holds; <= 1 turns group commit off.
    int max_writes = 64;
  };

  // What Run has done so far (for metrics and tests).
  struct Stats {
    int64_t groups = 0;         // transactions Run began (or tried to)
    int64_t writes = 0;         // writes they held (failed ones included)
    int64_t shared_groups = 0;  // groups of more than one write
    int64_t largest_group = 0;
    // Time spent running the writes' work and committing (wall clock,
    // seconds), so that a write's cost splits into the two.
    double work_seconds = 0;
    double commit_seconds = 0;
  };

  using Work = absl::FunctionRef<absl::Status(Write&)>;

  // `backend` and `follower` (which may be null) are not owned and must
  // outlive this object.
  GroupCommit(persistence::Backend* backend, ChangeFollower* follower,
              const Options& options);

  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `work` in a write transaction, possibly shared with other writes,
  // and returns work's status, or the error that kept it from being
  // committed. On success its change rows have been delivered to the
  // follower.
  absl::Status Run(Work work);
  // Runs `work` in a transaction of its own.
  absl::Status RunAlone(Work work);

  Stats stats() const;

 private:
  struct Writer;

  // Runs the group's writes in one transaction, commits and sets their
  // statuses. Returns how many of them, from the front, are finished; the
  // others stay queued (the transaction ended under them).
  size_t RunGroup(const std::vector<Writer*>& group);
  size_t RunGroup(const std::vector<Writer*>& group, double& work_seconds,
                  double& commit_seconds);
  void Deliver(const std::vector<persistence::ChangeRow>& rows);

  persistence::Backend* const backend_;
  ChangeFollower* const follower_;
  const Options options_;

  mutable std::mutex mu_;
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::core

#endif  // RECURRENT_CORE_GROUP_COMMIT_H_
