#include "service/request_parse_interceptor.h"

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "grpcpp/support/interceptor.h"
#include "service/errors.h"
#include "service/method_names.h"

namespace recurrent::service {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Notes, when the request message arrives, whether it parsed; if not,
// replaces the status gRPC then sends.
class RequestParseInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestParseInterceptor(const char* method) : method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparseable_ = true;
    }
    if (unparseable_ && methods->QueryInterceptionHookPoint(
                            InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(ToGrpcStatus(common::WithReason(
          absl::InvalidArgumentError(
              UnparseableRequestMessage(method_ == nullptr ? "" : method_)),
          common::reason::kMalformedRequest)));
    }
    methods->Proceed();
  }

 private:
  const char* const method_;
  bool unparseable_ = false;
};

class Factory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestParseInterceptor(info->method());
  }
};

// At the level libprotobuf gives (FATAL as error: libprotobuf aborts).
void LogToStderr(google::protobuf::LogLevel level, const char* filename,
                 int line, const std::string& message) {
  const auto write = level == google::protobuf::LOGLEVEL_INFO ? log::Info
                     : level == google::protobuf::LOGLEVEL_WARNING
                         ? log::Warning
                         : log::Error;
  write("protobuf library message",
        {{"message", message}, {"at", absl::StrCat(filename, ":", line)}});
}

// gRPC's own lines (a failed TLS handshake, a bad connection) likewise.
void LogGrpcLine(gpr_log_func_args* args) {
  // Debug lines come only with GRPC_VERBOSITY=debug.
  const auto write =
      args->severity == GPR_LOG_SEVERITY_ERROR ? log::Error : log::Info;
  write("grpc library message",
        {{"message", args->message != nullptr ? args->message : ""},
         {"at", absl::StrCat(args->file != nullptr ? args->file : "", ":",
                             args->line)}});
}

}  // namespace

std::string UnparseableRequestMessage(absl::string_view method) {
  // "/recurrent.v1.CustomerService/GetCustomer" -> its input type.
  const google::protobuf::MethodDescriptor* descriptor = FindMethod(method);
  return absl::StrCat(
      "the request is not a valid ",
      descriptor != nullptr ? descriptor->input_type()->full_name()
                            : std::string("request message"),
      ": its bytes do not parse (malformed or truncated encoding, invalid "
      "UTF-8 in a string field, or nesting deeper than 100)");
}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
MakeRequestParseInterceptors() {
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      creators;
  creators.push_back(std::make_unique<Factory>());
  return creators;
}

void RouteProtobufLogs() { google::protobuf::SetLogHandler(&LogToStderr); }

void RouteGrpcLogs() { gpr_set_log_function(&LogGrpcLine); }

}  // namespace recurrent::service
