// The request log (recurrentd --log_requests): one line per call, written
// when its status is sent (common/log.h):
//
//   … info call method=/recurrent.v1.CustomerService/GetCustomer
//     peer=ipv4:127.0.0.1:53412 key=ops code=OK duration_ms=0.412
//     request_bytes=31 response_bytes=412
//
// `key` is the name of the caller's API key ("-" without a valid key); the
// key itself is never logged. A gRPC server interceptor, so it sees every
// call, also those refused before a handler runs.
#ifndef RECURRENT_SERVICE_REQUEST_LOG_H_
#define RECURRENT_SERVICE_REQUEST_LOG_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "service/access_control.h"

namespace recurrent::service {

// `access` (not owned) names the callers' keys; it must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestLogInterceptor(const AccessControl* access);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_REQUEST_LOG_H_
