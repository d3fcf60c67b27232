#include "service/dispatch.h"

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"

namespace recurrent::service {

HeldCallReactor* AdmitCall(grpc::CallbackServerContext* context,
                           CallLimiter* limiter,
                           grpc::ServerUnaryReactor** refused) {
  std::string connection = context->peer();
  if (!limiter->TryAdmit(connection)) {
    *refused = context->DefaultReactor();
    (*refused)->Finish(ToGrpcStatus(common::WithReason(
        absl::ResourceExhaustedError("the server holds as many calls as it may "
                                     "(--max_calls_in_flight); retry later"),
        common::reason::kOverloaded, {{"flag", "--max_calls_in_flight"}})));
    return nullptr;
  }
  return new HeldCallReactor(limiter, std::move(connection));
}

}  // namespace recurrent::service
