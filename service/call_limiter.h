// CallLimiter: bounds the calls the server holds at once, fairly across
// connections.
//
// A call is held from the moment it is admitted until gRPC reports it done:
// while it waits for a worker, while it runs, and while its response waits
// to be sent to a client that does not read it (a slow reader, or one that
// keeps its HTTP/2 flow-control window shut). Each held call costs tens of
// kilobytes, so the bound is what keeps memory bounded under greedy and slow
// readers (docs/operations.md "Limits").
//
// Fairness: a connection that holds fewer than kAlwaysAdmitted calls is
// always admitted, so that one client flooding the server cannot lock out
// another. A connection every call of which has been answered is admitted
// while it holds fewer than kAdmittedWhenAnswered: a client calling one at
// a time still holds its last calls until gRPC reports them done, which
// under a flood comes late (its threads are busy with the flood's calls),
// sometimes after the client's next two calls (and a call it gave up on
// may still wait for a worker). A flooding connection nearly always has
// calls being worked on, so it seldom gets more than kAlwaysAdmitted. The true
// bound is therefore max_calls plus kAdmittedWhenAnswered per connection
// (connections are capped, see ServerOptions::max_connections).
#ifndef RECURRENT_SERVICE_CALL_LIMITER_H_
#define RECURRENT_SERVICE_CALL_LIMITER_H_

#include <cstddef>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"

namespace recurrent::service {

// Thread-safe.
class CallLimiter {
 public:
  // `max_calls` of 0 means no bound.
  explicit CallLimiter(size_t max_calls) : max_calls_(max_calls) {}

  CallLimiter(const CallLimiter&) = delete;
  CallLimiter& operator=(const CallLimiter&) = delete;

  // Calls a connection may hold whatever the server holds (Fairness).
  static constexpr size_t kAlwaysAdmitted = 2;
  // The same for a connection that has no call left unanswered.
  static constexpr size_t kAdmittedWhenAnswered = 4;

  // Admits a call from `connection` (gRPC's peer string, which names one
  // connection) unless the server holds max_calls calls or more and this
  // connection is not exempt (Fairness). Every admitted call must be
  // Released; Answered in between once its answer is handed to gRPC or its
  // client gives up on it.
  bool TryAdmit(const std::string& connection);
  void Answered(const std::string& connection);
  // `answered`: whether Answered was called for this call.
  void Release(const std::string& connection, bool answered);

  // Calls admitted and not yet released.
  size_t held() const;

 private:
  const size_t max_calls_;
  mutable std::mutex mu_;
  size_t held_ ABSL_GUARDED_BY(mu_) = 0;
  struct Calls {
    size_t held = 0;
    size_t unanswered = 0;
  };
  // Per connection; connections that hold none are absent.
  absl::flat_hash_map<std::string, Calls> per_connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CALL_LIMITER_H_
