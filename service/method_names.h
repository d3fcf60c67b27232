// The gRPC method a call names, as the metrics and the request log record
// it. A client may send any path: gRPC answers an unknown one UNIMPLEMENTED,
// but the interceptors see it first, and every distinct name would become
// metric series kept for the life of the process.
#ifndef RECURRENT_SERVICE_METHOD_NAMES_H_
#define RECURRENT_SERVICE_METHOD_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace recurrent::service {

// What unknown paths are recorded as.
inline constexpr absl::string_view kUnknownMethod = "unknown";

// `path` ("/recurrent.v1.CustomerService/GetCustomer") if a .proto linked
// into the server declares that method (ours, gRPC's health and reflection
// services), else kUnknownMethod. `path` may be null.
std::string KnownMethodName(const char* path);

// The method a gRPC path ("/package.Service/Method") names among the .protos
// linked into the server, or null.
const google::protobuf::MethodDescriptor* FindMethod(absl::string_view path);

// Whether the server's handler for `known` (a KnownMethodName) receives its
// request as a protobuf message; gRPC's built-in health service receives
// raw bytes (a grpc::ByteBuffer), and unknown methods nothing to measure.
bool ReceivesProtobufMessage(absl::string_view known);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_METHOD_NAMES_H_
