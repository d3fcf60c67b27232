// Dispatch: how every unary RPC handler runs.
//
// A handler returns immediately from gRPC's callback thread; its work runs on
// our bounded Executor and finishes the call from there, with its
// absl::Status converted by ToGrpcStatus (service/errors.h). A call whose
// client has already gone (cancelled, or past its deadline) by the time a
// thread picks it up is finished without doing the work.
#ifndef RECURRENT_SERVICE_DISPATCH_H_
#define RECURRENT_SERVICE_DISPATCH_H_

#include <utility>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"
#include "persistence/storage.h"
#include "service/clock.h"
#include "service/errors.h"
#include "service/executor.h"

namespace recurrent {

// What every service implementation needs; not owned.
struct ServiceEnv {
  persistence::Storage* storage = nullptr;
  const Clock* clock = nullptr;
  Executor* executor = nullptr;
};

// Runs `work` (callable as `absl::Status()`) on `executor` and finishes the
// call with its result.
template <typename Work>
grpc::ServerUnaryReactor* Dispatch(grpc::CallbackServerContext* context,
                                   Executor& executor, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status scheduled =
      executor.Schedule([context, reactor, work = std::move(work)]() mutable {
        if (context->IsCancelled()) {
          reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                                       "call cancelled before it started"));
          return;
        }
        reactor->Finish(ToGrpcStatus(work()));
      });
  if (!scheduled.ok()) reactor->Finish(ToGrpcStatus(scheduled));
  return reactor;
}

}  // namespace recurrent

#endif  // RECURRENT_SERVICE_DISPATCH_H_
