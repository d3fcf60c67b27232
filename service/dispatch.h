// Dispatch: how every unary RPC handler runs.
//
// A handler names the role its RPC needs; Dispatch checks the caller's API
// key for it (AccessControl, service/access_control.h) on gRPC's callback
// thread, before anything else happens, and finishes a refused call there.
// An allowed call returns immediately; its work runs on our bounded
// Executor and finishes the call from there, with its absl::Status
// converted by ToGrpcStatus (service/errors.h). A call whose client has
// already gone (cancelled, or past its deadline) by the time a thread picks
// it up is finished without doing the work.
//
// Before all that, the call must be admitted by the server's CallLimiter
// (service/call_limiter.h), which bounds the calls held at once; a call it
// refuses finishes at once with RESOURCE_EXHAUSTED. The executor queues work
// per connection and serves connections in turn (service/executor.h).
#ifndef RECURRENT_SERVICE_DISPATCH_H_
#define RECURRENT_SERVICE_DISPATCH_H_

#include <atomic>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "core/store.h"
#include "grpcpp/grpcpp.h"
#include "service/access_control.h"
#include "service/call_limiter.h"
#include "service/customer_cache.h"
#include "service/errors.h"
#include "service/executor.h"
#include "service/metrics.h"

namespace recurrent::service {

// What every service implementation needs; not owned.
struct ServiceEnv {
  core::Store* store = nullptr;
  const common::Clock* clock = nullptr;
  Executor* executor = nullptr;  // reads (Role::kReader)
  // Writes (kWriter, kAdmin): their own threads, so that reads never queue
  // behind writes waiting for the one writer connection.
  Executor* write_executor = nullptr;
  AccessControl* access = nullptr;
  CustomerCache* customer_cache = nullptr;
  // Whether the cache has heard of other processes' writes (UpToDate).
  const core::ChangeFollower* change_follower = nullptr;
  CallLimiter* limiter = nullptr;
  ReprocessMetrics* reprocess_metrics = nullptr;  // may be null (tests)
};

// The reactor of every admitted unary call: gives the call's place in the
// CallLimiter back once gRPC is done with the call (its response sent, or
// the call cancelled), then deletes itself.
class HeldCallReactor final : public grpc::ServerUnaryReactor {
 public:
  HeldCallReactor(CallLimiter* limiter, std::string connection)
      : limiter_(limiter), connection_(std::move(connection)) {}

  const std::string& connection() const { return connection_; }

  // Finishes the call with `status`; the limiter counts it as answered.
  // Called once, instead of Finish.
  void Answer(const grpc::Status& status) {
    CountAnswered();
    Finish(status);
  }

  // The client gave up (cancelled, or its deadline passed): it waits for
  // nothing more, so the limiter counts the call as answered, though it
  // may still wait for a worker (which then finishes it at once).
  void OnCancel() override { CountAnswered(); }

  void OnDone() override {
    limiter_->Release(connection_, answered_.load());
    delete this;
  }

 private:
  void CountAnswered() {
    if (!answered_.exchange(true)) limiter_->Answered(connection_);
  }

  CallLimiter* const limiter_;
  const std::string connection_;
  std::atomic<bool> answered_{false};
};

// Admits the call of `context` (CallLimiter::TryAdmit): returns its reactor,
// or nullptr after finishing the call with RESOURCE_EXHAUSTED on
// `*refused`.
HeldCallReactor* AdmitCall(grpc::CallbackServerContext* context,
                           CallLimiter* limiter,
                           grpc::ServerUnaryReactor** refused);

// As Dispatch (below), but once the caller is allowed, first calls `fast` on
// gRPC's thread: if it returns a status (it could answer from memory), the call
// finishes with it there, without a hop to the executor; if it returns
// std::nullopt, `work` runs as in Dispatch. `fast` must not block: no
// storage, no waiting on anything but short in-memory locks.
template <typename Fast, typename Work>
grpc::ServerUnaryReactor* DispatchWithFastPath(
    grpc::CallbackServerContext* context, const ServiceEnv& env, Role required,
    Fast fast, Work work) {
  grpc::ServerUnaryReactor* refused = nullptr;
  HeldCallReactor* reactor = AdmitCall(context, env.limiter, &refused);
  if (reactor == nullptr) return refused;
  absl::StatusOr<Caller> caller = env.access->Authorize(*context, required);
  if (!caller.ok()) {
    reactor->Answer(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (std::optional<absl::Status> answered = fast(); answered.has_value()) {
    reactor->Answer(ToGrpcStatus(*answered));
    return reactor;
  }
  Executor* executor =
      required == Role::kReader ? env.executor : env.write_executor;
  absl::Status scheduled = executor->Schedule(
      reactor->connection(), [context, reactor, caller = *std::move(caller),
                          work = std::move(work)]() mutable {
        if (context->IsCancelled()) {
          reactor->Answer(ToGrpcStatus(
              absl::CancelledError("call cancelled before it started")));
          return;
        }
        if constexpr (std::is_invocable_v<Work&, const Caller&>) {
          reactor->Answer(ToGrpcStatus(work(std::as_const(caller))));
        } else {
          reactor->Answer(ToGrpcStatus(work()));
        }
      });
  if (!scheduled.ok()) reactor->Answer(ToGrpcStatus(scheduled));
  return reactor;
}

// Checks that the caller has `required`, then runs `work` on env.executor
// and finishes the call with its result. `work` is callable as
// `absl::Status()` or, when it needs to know who calls (to record it),
// `absl::Status(const Caller&)`.
template <typename Work>
grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* context,
                                   const ServiceEnv& env, Role required,
                                   Work work) {
  return DispatchWithFastPath(
      context, env, required, [] { return std::optional<absl::Status>(); },
      std::move(work));
}

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_DISPATCH_H_
