#include "service/server.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"

namespace recurrent {
namespace {

constexpr const char* kServiceNames[] = {
    "recurrent.v1.SourceSettingsService",
    "recurrent.v1.CustomerService",
    "recurrent.v1.InvoiceService",
};

ServiceEnv MakeEnv(persistence::Storage* storage, const Clock* clock,
                   Executor* executor) {
  ServiceEnv env;
  env.storage = storage;
  env.clock = clock;
  env.executor = executor;
  return env;
}

void SetServing(grpc::Server& server, bool serving) {
  grpc::HealthCheckServiceInterface* health = server.GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  for (const char* name : kServiceNames) {
    health->SetServingStatus(name, serving);
  }
}

}  // namespace

Server::Server(const ServerOptions& options, persistence::Storage* storage,
               const Clock* clock)
    : executor_(
          Executor::Options{options.worker_threads, options.max_queued_calls}),
      source_settings_service_(MakeEnv(storage, clock, &executor_)),
      customer_service_(MakeEnv(storage, clock, &executor_)),
      invoice_service_(MakeEnv(storage, clock, &executor_)),
      reevaluator_(storage, clock,
                   Reevaluator::Options{options.reevaluate_interval}) {}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, persistence::Storage* storage,
    const Clock* clock) {
  grpc::EnableDefaultHealthCheckService(true);
  // Links the health proto's descriptor into the generated pool so that
  // reflection can describe grpc.health.v1.Health (see health.proto).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<Server> server(new Server(options, storage, clock));
  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(options.listen_address,
                           grpc::InsecureServerCredentials(), &selected_port);
  // gRPC sets SO_REUSEPORT by default, which would let a second server bind a
  // busy port silently; a busy port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&server->source_settings_service_);
  builder.RegisterService(&server->customer_service_);
  builder.RegisterService(&server->invoice_service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || selected_port == 0) {
    server->shut_down_ = true;
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     ": the address is invalid or already in use"));
  }
  server->port_ = selected_port;
  if (options.reevaluate_interval > absl::ZeroDuration()) {
    server->reevaluator_.Start();
  }
  SetServing(*server->server_, true);
  return server;
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

void Server::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  SetServing(*server_, false);
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  executor_.Shutdown();
  reevaluator_.Stop();
}

}  // namespace recurrent
