// Server: the gRPC server of Recurrent, with its three services, server
// reflection and the standard health service.
//
// Used by the recurrentd binary and by tests, which start it on an ephemeral
// port ("127.0.0.1:0").
#ifndef RECURRENT_SERVICE_SERVER_H_
#define RECURRENT_SERVICE_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "persistence/storage.h"
#include "service/clock.h"
#include "service/customer_service.h"
#include "service/executor.h"
#include "service/invoice_service.h"
#include "service/reevaluator.h"
#include "service/source_settings_service.h"

namespace recurrent {

struct ServerOptions {
  // host:port; port 0 picks a free port (see Server::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Threads that run handlers (and so SQLite calls); see docs/operations.md.
  int worker_threads = 8;
  // Calls waiting for a worker beyond this are refused (RESOURCE_EXHAUSTED).
  size_t max_queued_calls = 4096;
  // Largest request or response message.
  int max_message_bytes = 16 << 20;
  // How often stored statuses are brought up to date (Reevaluator); zero
  // turns the background re-evaluation off (tests drive it by hand).
  absl::Duration reevaluate_interval = absl::Seconds(1);
};

// Thread-safe.
class Server {
 public:
  // Starts serving. `storage` and `clock` are not owned and must outlive the
  // server. Fails with kUnavailable if the address cannot be bound (in use or
  // invalid).
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, persistence::Storage* storage,
      const Clock* clock);

  // Shuts down with a short grace period if Shutdown was not called.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  int port() const { return port_; }

  // The background re-evaluator (also usable by hand in tests).
  Reevaluator& reevaluator() { return reevaluator_; }

  // Reports NOT_SERVING, stops accepting calls, lets in-flight calls finish
  // for up to `grace` (cancelling the rest), then stops the workers and the
  // re-evaluator.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server(const ServerOptions& options, persistence::Storage* storage,
         const Clock* clock);

  // Declaration order is destruction order in reverse: the gRPC server goes
  // first, then the services, then the executor their calls run on.
  Executor executor_;
  SourceSettingsServiceImpl source_settings_service_;
  CustomerServiceImpl customer_service_;
  InvoiceServiceImpl invoice_service_;
  Reevaluator reevaluator_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace recurrent

#endif  // RECURRENT_SERVICE_SERVER_H_
