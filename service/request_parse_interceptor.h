// RequestParseInterceptor: a request whose bytes do not parse as its message
// (garbage, a truncated length, invalid UTF-8 in a string field, nesting
// deeper than protobuf's limit) fails with INVALID_ARGUMENT naming the
// message type, instead of gRPC's callback API's bare UNIMPLEMENTED with no
// message.
//
//   builder.experimental().SetInterceptorCreators(
//       MakeRequestParseInterceptors());
//
// Also routes libprotobuf's own log lines through the server's log (stderr,
// "recurrentd: protobuf: …") instead of its default format: see
// RouteProtobufLogs.
#ifndef RECURRENT_SERVICE_REQUEST_PARSE_INTERCEPTOR_H_
#define RECURRENT_SERVICE_REQUEST_PARSE_INTERCEPTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/support/server_interceptor.h"

namespace recurrent::service {

// The message of the INVALID_ARGUMENT for an unparseable request to
// `method` ("/package.Service/Method").
std::string UnparseableRequestMessage(absl::string_view method);

// The interceptor creators to give the server builder.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRequestParseInterceptors();

// Sends libprotobuf's log lines to stderr as "recurrentd: protobuf: LEVEL:
// message" lines. Idempotent; call before serving.
void RouteProtobufLogs();

// The same for gRPC's own log lines (gpr_log: handshake failures, broken
// connections), which it otherwise writes to stderr in its own format,
// breaking --log_format=json. Idempotent; call before serving.
void RouteGrpcLogs();

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_REQUEST_PARSE_INTERCEPTOR_H_
