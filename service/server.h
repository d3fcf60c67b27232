// Server: the gRPC server of Recurrent, with its four services, server
// reflection and the standard health service, over plaintext or TLS, with
// API keys checked on every call of our services (service/access_control.h;
// health and reflection need no key).
//
// Used by the recurrentd binary and by tests, which start it on an ephemeral
// port ("127.0.0.1:0").
#ifndef RECURRENT_SERVICE_SERVER_H_
#define RECURRENT_SERVICE_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/change_follower.h"
#include "core/periodic_thread.h"
#include "core/reevaluator.h"
#include "core/store.h"
#include "grpcpp/grpcpp.h"
#include "persistence/api_key_store.h"
#include "persistence/backend.h"
#include "service/access_control.h"
#include "service/api_key_service.h"
#include "service/call_limiter.h"
#include "service/capped_listener.h"
#include "service/change_feed_service.h"
#include "service/customer_cache.h"
#include "service/customer_service.h"
#include "service/executor.h"
#include "service/invoice_service.h"
#include "service/metrics.h"
#include "service/metrics_service.h"
#include "service/source_settings_service.h"

namespace recurrent::service {

// PEM contents (not paths) of the server's TLS material.
struct TlsOptions {
  std::string cert_chain;  // the server certificate (and intermediates)
  std::string private_key;
  // If set, clients must present a certificate signed by one of these CAs
  // (mutual TLS).
  std::string client_ca;
};

struct ServerOptions {
  // host:port; port 0 picks a free port (see Server::port()).
  std::string listen_address = "127.0.0.1:50051";
  // Threads that run read handlers (and so SQLite reads); see
  // docs/operations.md.
  int worker_threads = 8;
  // Threads that run write handlers (writer and admin roles); writes
  // serialize on one SQLite connection, so a few suffice.
  int write_threads = 2;
  // Calls waiting for a worker beyond this are refused (RESOURCE_EXHAUSTED),
  // except a connection's first (service/executor.h).
  size_t max_queued_calls = 4096;
  // Calls held at once (waiting, running, or with a response not yet read
  // by its client) beyond this are refused (RESOURCE_EXHAUSTED), except a
  // connection's first (service/call_limiter.h); 0: no bound.
  size_t max_calls_in_flight = 4096;
  // HTTP/2 streams (calls) one connection may have open at once; the client
  // waits for one to end before it starts another. gRPC 1.51 starts a new
  // call behind every stream already open on any connection, so this also
  // bounds how long a new client waits during a flood (docs/operations.md,
  // "Memory").
  int max_concurrent_streams = 8;
  // Memory gRPC may use for connections and calls (its resource quota):
  // under pressure it shrinks buffers and flow-control windows and refuses
  // new streams; 0: no quota.
  size_t grpc_memory_bytes = size_t{512} << 20;
  // Open connections beyond this are closed on arrival
  // (service/capped_listener.h); 0: no cap.
  size_t max_connections = 2000;
  // Largest request or response message.
  int max_message_bytes = 16 << 20;
  // A connection that has not finished its HTTP/2 (and TLS) handshake by
  // then is closed: idle half-open connections cannot pile up.
  absl::Duration handshake_timeout = absl::Seconds(10);
  // How often stored statuses are brought up to date (core::Reevaluator);
  // zero turns the background re-evaluation off (tests drive it by hand).
  absl::Duration reevaluate_interval = absl::Seconds(1);
  // How often API keys are reloaded from the database, so that keys created
  // or revoked by another process (a replica) take effect; zero: never.
  absl::Duration api_key_reload_interval = absl::Seconds(1);
  // How long change-log rows are kept; older ones are pruned every minute.
  absl::Duration change_log_retention = absl::Hours(24 * 30);
  // How often the change log is read for other processes' writes (the
  // GetCustomer cache's bound on staleness for them); zero: never.
  absl::Duration change_log_poll_interval = absl::Milliseconds(100);
  // GetCustomer answers from its cache only while the change log has been
  // read to its end within this long (core::ChangeFollower::UpToDate);
  // further behind (the database unreachable, polls failing), it reads the
  // database.
  absl::Duration change_log_max_lag = absl::Seconds(1);
  // The core's options (reprocess threads and chunks).
  core::Store::Options store;  // its read_only is read_only below
  // Memory for GetCustomer answers of unchanged customers
  // (service/customer_cache.h); 0 turns the cache off.
  size_t customer_cache_bytes = size_t{64} << 20;
  // TLS instead of plaintext when set.
  std::optional<TlsOptions> tls;
  // While no API key exists, serve without authentication even on an
  // address that is not loopback (otherwise Start refuses).
  bool allow_unauthenticated = false;
  // One log line per call (service/request_log.h).
  bool log_requests = false;
  // The backend only reads (SqliteBackend::Options::read_only,
  // PostgresBackend::Options::read_only): neither the
  // re-evaluator nor the change-log pruner runs (stored statuses stay as
  // they were; GetCustomer still answers as of now).
  bool read_only = false;
};

// The host of `listen_address` ("host:port" or "[v6]:port"), or nullopt if
// it is not of that form.
std::optional<absl::string_view> HostOf(absl::string_view listen_address);

// True if `listen_address` ("host:port") names a loopback host: 127.0.0.0/8,
// ::1 or "localhost".
bool IsLoopbackAddress(absl::string_view listen_address);

// Turns off absl::Mutex's deadlock detection for the whole process. Debian
// builds Abseil without NDEBUG, so by default every absl::Mutex lock -- most
// of them gRPC's own -- records itself in a process-wide lock graph under a
// global lock (GraphCycles in a profile). Call first in main(), before any
// thread starts; tests keep the detection.
void DisableMutexDeadlockDetection();

// Thread-safe.
class Server {
 public:
  // Starts serving. `backend`, `clock` and `keys` are not owned and must
  // outlive the server; without `keys` no API key exists or can be created.
  // While no key exists (AccessControl::HasKeys) every call is allowed: on a
  // loopback address a warning is logged; on any other address Start fails
  // with kFailedPrecondition unless options.allow_unauthenticated. Fails
  // with kUnavailable if the address cannot be bound (in use or invalid) or
  // the TLS material is unusable, and with what the key store returns if the
  // keys cannot be loaded.
  static absl::StatusOr<std::unique_ptr<Server>> Start(
      const ServerOptions& options, persistence::Backend* backend,
      const common::Clock* clock, persistence::ApiKeyStore* keys = nullptr);

  // Shuts down with a short grace period if Shutdown was not called.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  int port() const { return port_; }

  // Connections closed on arrival because --max_connections were open.
  int64_t refused_connections() const { return listener_->refused(); }

  // The core every call goes through (also usable by hand in tests).
  core::Store& store() { return store_; }

  // The background re-evaluator (also usable by hand in tests).
  core::Reevaluator& reevaluator() { return reevaluator_; }

  // What brings change-log rows to the cache.
  core::ChangeFollower& change_follower() { return change_follower_; }

  // The API keys in force.
  AccessControl& access() { return *access_; }

  // The change feed (its open watches).
  ChangeFeedServiceImpl& change_feed() { return change_feed_service_; }

  // The cache of GetCustomer answers.
  const CustomerCache& customer_cache() const { return customer_cache_; }

  // What the server reports to Prometheus (service/metrics.h); more series
  // may be added (recurrentd adds the database's and the process's).
  Metrics& metrics() { return metrics_; }

  // Asks the backend whether it can serve (Backend::CheckHealth), as is done
  // every second: while it cannot, grpc.health.v1.Health answers
  // NOT_SERVING and a loud line says why on stderr; once it can again,
  // SERVING. Returns the backend's answer.
  absl::Status CheckBackendHealth();

  // Reports NOT_SERVING, stops accepting calls, lets in-flight calls finish
  // for up to `grace` (cancelling the rest), then stops the workers and the
  // re-evaluator.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  Server(const ServerOptions& options, persistence::Backend* backend,
         const common::Clock* clock, std::unique_ptr<AccessControl> access);

  // What the services need of this server (the members declared before
  // them).
  ServiceEnv Env(const common::Clock* clock);
  // Registers the server's own series in metrics_.
  void AddMetrics(const common::Clock* clock);

  // Declaration order is destruction order in reverse: the gRPC server goes
  // first, then the background threads, the services, the executors their
  // calls run on, the access control they check, the cache they read, the
  // core, and last the metrics that all of them report to.
  Metrics metrics_;
  ReprocessMetrics reprocess_metrics_;
  core::ChangeFollower change_follower_;
  core::Store store_;
  CustomerCache customer_cache_;
  const std::unique_ptr<AccessControl> access_;
  CallLimiter limiter_;
  Executor executor_;
  Executor write_executor_;
  SourceSettingsServiceImpl source_settings_service_;
  CustomerServiceImpl customer_service_;
  InvoiceServiceImpl invoice_service_;
  ApiKeyServiceImpl api_key_service_;
  ChangeFeedServiceImpl change_feed_service_;
  core::MrrMetrics mrr_metrics_;
  MetricsServiceImpl metrics_service_;
  core::Reevaluator reevaluator_;
  core::PeriodicThread pruner_;  // deletes change-log rows past retention
  persistence::Backend* const backend_;
  // Reads the storage figures the metrics show; keeps the last good ones.
  void RefreshStorageStats();
  // The storage figures the metrics last read, when (the server's start
  // until then), and whether a read was tried.
  std::mutex storage_stats_mu_;
  std::optional<persistence::StorageStats> storage_stats_
      ABSL_GUARDED_BY(storage_stats_mu_);
  std::chrono::steady_clock::time_point storage_stats_read_
      ABSL_GUARDED_BY(storage_stats_mu_) = std::chrono::steady_clock::now();
  bool storage_stats_tried_ ABSL_GUARDED_BY(storage_stats_mu_) = false;
  // When a scrape last asked for them (steady clock, nanoseconds).
  std::atomic<int64_t> storage_stats_wanted_ns_{0};
  core::PeriodicThread storage_stats_refresh_;  // while they are scraped
  std::mutex health_mu_;
  bool backend_healthy_ ABSL_GUARDED_BY(health_mu_) = true;
  core::PeriodicThread health_watch_;  // CheckBackendHealth every second
  core::PeriodicThread key_reload_;    // AccessControl::Reload
  std::unique_ptr<grpc::Server> server_;
  // Hands connections to server_ (declared after it: destroyed first).
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::unique_ptr<CappedListener> listener_;
  int port_ = 0;
  bool shut_down_ ABSL_GUARDED_BY(health_mu_) = false;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_SERVER_H_
