#include "service/request_log.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "google/protobuf/message_lite.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/status.h"
#include "service/errors.h"
#include "service/method_names.h"

namespace recurrent::service {
namespace {

class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(const AccessControl* access,
                        grpc::experimental::ServerRpcInfo* info)
      : access_(access),
        method_(KnownMethodName(info->method())),
        peer_(info->server_context()->peer()),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      // Any valid key passes the lowest role: this only names the caller.
      std::vector<absl::string_view> authorization;
      for (const auto& [key, value] : *methods->GetRecvInitialMetadata()) {
        if (key == "authorization") {
          authorization.emplace_back(value.data(), value.size());
        }
      }
      if (access_ != nullptr) {
        absl::StatusOr<Caller> caller =
            access_->AuthorizeHeaders(authorization, Role::kReader);
        if (caller.ok() && !caller->key_name.empty()) key_ = caller->key_name;
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      // The received object's type depends on the handler: a protobuf
      // message for our services and reflection, raw bytes for gRPC's
      // health service.
      if (ReceivesProtobufMessage(method_)) {
        request_bytes_ = static_cast<const google::protobuf::MessageLite*>(
                             methods->GetRecvMessage())
                             ->ByteSizeLong();
      } else if (method_ != kUnknownMethod) {
        request_bytes_ =
            static_cast<const grpc::ByteBuffer*>(methods->GetRecvMessage())
                ->Length();
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      if (grpc::ByteBuffer* sent = methods->GetSerializedSendMessage()) {
        response_bytes_ += sent->Length();
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = methods->GetSendStatus().error_code();
      const double ms = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start_)
                            .count();
      log::Info("call",
                {{"method", method_},
                 {"peer", peer_},
                 {"key", key_},
                 {"code", StatusCodeName(code)},
                 {"duration_ms", absl::StrFormat("%.3f", ms)},
                 {"request_bytes", absl::StrCat(request_bytes_)},
                 {"response_bytes", absl::StrCat(response_bytes_)}});
    }
    methods->Proceed();
  }

 private:
  const AccessControl* const access_;
  const std::string method_;
  const std::string peer_;
  const std::chrono::steady_clock::time_point start_;
  std::string key_ = "-";
  size_t request_bytes_ = 0;
  size_t response_bytes_ = 0;
};

class RequestLogFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogFactory(const AccessControl* access) : access_(access) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestLogInterceptor(access_, info);
  }

 private:
  const AccessControl* const access_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRequestLogInterceptor(const AccessControl* access) {
  return std::make_unique<RequestLogFactory>(access);
}

}  // namespace recurrent::service
