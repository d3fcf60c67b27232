#include "service/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "service/request_log.h"
#include "service/request_parse_interceptor.h"

namespace recurrent::service {
namespace {

// How often change-log rows older than the retention are deleted.
constexpr absl::Duration kPruneInterval = absl::Minutes(1);
// How often the backend's health is checked.
constexpr absl::Duration kHealthCheckInterval = absl::Seconds(1);

constexpr const char* kServiceNames[] = {
    "recurrent.v1.SourceSettingsService",
    "recurrent.v1.CustomerService",
    "recurrent.v1.InvoiceService",
    "recurrent.v1.ApiKeyService",
    "recurrent.v1.ChangeFeedService",
    "recurrent.v1.MetricsService",
};

core::ChangeFollower::Options FollowerOptions(const ServerOptions& options) {
  core::ChangeFollower::Options follower;
  follower.poll_interval = options.change_log_poll_interval;
  follower.max_lag = options.change_log_max_lag;
  return follower;
}

core::Store::Options StoreOptions(const ServerOptions& options) {
  core::Store::Options store = options.store;
  store.read_only = options.read_only;
  return store;
}

std::shared_ptr<grpc::ServerCredentials> Credentials(
    const std::optional<TlsOptions>& tls) {
  if (!tls.has_value()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls->client_ca.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls->client_ca;
  ssl.pem_key_cert_pairs.push_back({tls->private_key, tls->cert_chain});
  return grpc::SslServerCredentials(ssl);
}

// Refuses to serve without authentication off loopback (see Start), and an
// address that is not host:port.
absl::Status CheckAuthenticationPolicy(const ServerOptions& options,
                                       const AccessControl& access) {
  if (!HostOf(options.listen_address).has_value()) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address,
                     ": the address is invalid (expected host:port)"));
  }
  if (access.HasKeys()) return absl::OkStatus();
  // A read-only server cannot store a key: one is made by a writable server
  // of the same database.
  constexpr absl::string_view kOnAWritableServer =
      "create one on a writable server of this database (this one is "
      "read-only)";
  if (IsLoopbackAddress(options.listen_address)) {
    log::Warning(absl::StrCat(
        "no API key exists, so every call is allowed without one (only on a "
        "loopback address); ",
        options.read_only ? kOnAWritableServer
                          : "create one with 'recurrentctl keys create "
                            "--name=NAME --role=admin'"));
    return absl::OkStatus();
  }
  if (!options.allow_unauthenticated) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to serve on ", options.listen_address,
                     " without authentication: no API key exists; ",
                     options.read_only ? kOnAWritableServer
                                       : "create one with 'recurrentd --db=... "
                                         "--create_api_key=NAME:admin'",
                     " or pass --allow_unauthenticated"));
  }
  log::Warning(
      "no API key exists and --allow_unauthenticated is set: anyone who can "
      "reach the address may call every method",
      {{"listen", options.listen_address}});
  return absl::OkStatus();
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

std::optional<absl::string_view> HostOf(absl::string_view listen_address) {
  const auto split = SplitHostPort(listen_address);
  int number = 0;
  if (!split.has_value() || !absl::SimpleAtoi(split->second, &number) ||
      number < 0 || number > 65535) {
    return std::nullopt;
  }
  return split->first;
}

void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

bool IsLoopbackAddress(absl::string_view listen_address) {
  std::optional<absl::string_view> host = HostOf(listen_address);
  if (!host.has_value()) return false;
  if (*host == "localhost") return true;
  const std::string text(*host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    // ::ffff:127.x.y.z
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

Server::Server(const ServerOptions& options, persistence::Backend* backend,
               const common::Clock* clock,
               std::unique_ptr<AccessControl> access)
    : reprocess_metrics_(metrics_),
      change_follower_(backend, clock, FollowerOptions(options)),
      store_(backend, StoreOptions(options), &change_follower_),
      customer_cache_(options.customer_cache_bytes),
      access_(std::move(access)),
      limiter_(options.max_calls_in_flight),
      executor_(
          Executor::Options{options.worker_threads, options.max_queued_calls}),
      write_executor_(
          Executor::Options{options.write_threads, options.max_queued_calls}),
      source_settings_service_(Env(clock)),
      customer_service_(Env(clock)),
      invoice_service_(Env(clock)),
      api_key_service_(Env(clock)),
      change_feed_service_(Env(clock), &change_follower_),
      mrr_metrics_(backend),
      metrics_service_(Env(clock), &mrr_metrics_),
      reevaluator_(&store_, clock,
                   core::Reevaluator::Options{options.reevaluate_interval}),
      pruner_(kPruneInterval,
              [this, clock, retention = options.change_log_retention] {
                absl::StatusOr<int64_t> pruned = store_.PruneChanges(
                    clock->Now() - retention,
                    [this] { return pruner_.StopRequested(); });
                if (!pruned.ok()) {
                  log::Error("pruning the change log failed",
                             {{"error", pruned.status().ToString()}});
                }
              }),
      backend_(backend),
      storage_stats_refresh_(
          absl::Seconds(1),
          [this] {
            const int64_t now_ns =
                std::chrono::steady_clock::now().time_since_epoch().count();
            // While scraped: a scrape came in the last ten minutes (longer
            // than any sensible scrape interval).
            if (now_ns - storage_stats_wanted_ns_.load() <
                std::chrono::nanoseconds(std::chrono::minutes(10)).count()) {
              RefreshStorageStats();
            }
          }),
      health_watch_(kHealthCheckInterval,
                    [this] { (void)CheckBackendHealth(); }),
      key_reload_(options.api_key_reload_interval > absl::ZeroDuration()
                      ? options.api_key_reload_interval
                      : absl::InfiniteDuration(),
                  [this, failing = false]() mutable {
                    // Logged when it starts and stops failing, not every
                    // time (the health watch reports the database).
                    absl::Status reloaded = access_->Reload().status();
                    if (reloaded.ok() == !failing) return;
                    failing = !reloaded.ok();
                    if (failing) {
                      log::Error(
                          "cannot reload the API keys; keys created or "
                          "revoked by other processes are not seen",
                          {{"error", reloaded.ToString()}});
                    } else {
                      log::Info("the API keys are reloaded again", {});
                    }
                  }) {
  access_->OnRevoked(
      [this] { change_feed_service_.EndWatchesOfRevokedKeys(); });
  change_follower_.Subscribe(
      [this](absl::Span<const persistence::ChangeRow> changes) {
        customer_cache_.Invalidate(changes);
      });
  change_follower_.OnRowsLost([this] { customer_cache_.Clear(); });
  AddMetrics(clock);
}

void Server::AddMetrics(const common::Clock* clock) {
  for (auto [executor, name] : {std::pair{&executor_, "reads"},
                                std::pair{&write_executor_, "writes"}}) {
    metrics_.AddCallback("recurrent_executor_queued_calls",
                         "Calls waiting for a thread, by executor.",
                         {{"executor", name}},
                         [executor = executor] {
                           return static_cast<double>(executor->queued());
                         });
  }
  metrics_.AddCallback(
      "recurrent_calls_held",
      "Calls the server holds (queued, running, or with a response not yet "
      "read by its client); bounded by --max_calls_in_flight.",
      {}, [this] { return static_cast<double>(limiter_.held()); });
  metrics_.AddCallback(
      "recurrent_connections_refused_total",
      "Connections closed on arrival because --max_connections were open.",
      {},
      [this] {
        return listener_ != nullptr ? static_cast<double>(listener_->refused())
                                    : 0.0;
      },
      Metrics::Type::kCounter);
  const auto cache = [this](int64_t CustomerCache::Stats::*field) {
    return [this, field] {
      return static_cast<double>(customer_cache_.stats().*field);
    };
  };
  metrics_.AddCallback("recurrent_customer_cache_hits_total",
                       "GetCustomer calls answered from the cache.", {},
                       cache(&CustomerCache::Stats::hits),
                       Metrics::Type::kCounter);
  metrics_.AddCallback("recurrent_customer_cache_misses_total",
                       "GetCustomer calls the cache could not answer.", {},
                       cache(&CustomerCache::Stats::misses),
                       Metrics::Type::kCounter);
  metrics_.AddCallback(
      "recurrent_customer_cache_bypasses_total",
      "GetCustomer calls that read the database without looking in the "
      "cache, as the change log was last read to its end more than "
      "--change_log_max_lag ago.",
      {}, cache(&CustomerCache::Stats::bypasses), Metrics::Type::kCounter);
  metrics_.AddCallback("recurrent_customer_cache_entries",
                       "Customers whose answer the cache holds.", {},
                       cache(&CustomerCache::Stats::entries));
  metrics_.AddCallback("recurrent_customer_cache_bytes",
                       "Memory the cache's entries take, bytes.", {},
                       cache(&CustomerCache::Stats::bytes));
  metrics_.AddCallback(
      "recurrent_change_log_lag_seconds",
      "How long ago the last read of the change log to its end began (0 "
      "without polling); past --change_log_max_lag, GetCustomer stops "
      "answering from its cache.",
      {}, [this, clock] {
        return absl::ToDoubleSeconds(change_follower_.Lag(clock->Now()));
      });
  for (auto [field, reader] :
       {std::pair{&ChangeFeedServiceImpl::LogReads::tail, "tail"},
        std::pair{&ChangeFeedServiceImpl::LogReads::watch, "watch"}}) {
    metrics_.AddCallback(
        "recurrent_change_feed_log_reads_total",
        "Reads of the change log for WatchChanges: of its newest rows, one "
        "per commit or poll for every watch at the log's end (tail), or by a "
        "single watch catching up (watch).",
        {{"reader", reader}},
        [this, field = field] {
          return static_cast<double>(change_feed_service_.log_reads().*field);
        },
        Metrics::Type::kCounter);
  }
  const auto groups = [this](int64_t core::GroupCommit::Stats::*field) {
    return [this, field] {
      return static_cast<double>(store_.group_commit_stats().*field);
    };
  };
  metrics_.AddCallback(
      "recurrent_group_commit_transactions_total",
      "Transactions that small writes shared (group commit; one per write "
      "when it is off or a write ran alone).",
      {}, groups(&core::GroupCommit::Stats::groups), Metrics::Type::kCounter);
  metrics_.AddCallback("recurrent_group_commit_writes_total",
                       "Small writes run in those transactions.", {},
                       groups(&core::GroupCommit::Stats::writes),
                       Metrics::Type::kCounter);
  metrics_.AddCallback(
      "recurrent_group_commit_work_seconds_total",
      "Time those writes spent doing their work inside the transactions.",
      {}, [this] { return store_.group_commit_stats().work_seconds; },
      Metrics::Type::kCounter);
  metrics_.AddCallback(
      "recurrent_group_commit_commit_seconds_total",
      "Time spent committing those transactions (SQLite: the WAL write, "
      "its fsync and any checkpoint).",
      {}, [this] { return store_.group_commit_stats().commit_seconds; },
      Metrics::Type::kCounter);
  metrics_.AddCallback(
      "recurrent_group_commit_largest_group",
      "Most writes one of those transactions held since the start.", {},
      groups(&core::GroupCommit::Stats::largest_group));
  // Read from the database once a second by a thread of their own while
  // /metrics is scraped (a scrape in the last ten minutes), so that a scrape
  // never waits for a database that does not answer (it would time out, and
  // Prometheus would lose every series, recurrent_database_serving too) --
  // except the first scrape, which has nothing to show yet. A failed read keeps
  // the last figures; recurrent_storage_stats_age_seconds tells how old they
  // are.
  const auto stored = [this, clock](auto field) {
    return [this, clock, field] {
      storage_stats_wanted_ns_.store(
          std::chrono::steady_clock::now().time_since_epoch().count());
      bool first = false;
      {
        std::lock_guard<std::mutex> lock(storage_stats_mu_);
        first = !storage_stats_tried_;
        storage_stats_tried_ = true;
      }
      if (first) RefreshStorageStats();
      std::lock_guard<std::mutex> lock(storage_stats_mu_);
      return storage_stats_.has_value() ? field(*storage_stats_, clock->Now())
                                        : 0.0;
    };
  };
  metrics_.AddCallback(
      "recurrent_storage_stats_age_seconds",
      "Seconds since the storage figures (re-evaluation lag, change log, "
      "database size) were last read from the database, or since the start "
      "if never: they are read every second while /metrics is scraped, so "
      "a growing age means the database does not answer.",
      {}, [this] {
        std::lock_guard<std::mutex> lock(storage_stats_mu_);
        return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             storage_stats_read_)
            .count();
      });
  metrics_.AddCallback(
      "recurrent_reevaluation_lag_seconds",
      "How far behind the re-evaluator is: now minus the earliest stored "
      "status transition that is due and not yet applied (0 if none).",
      {}, stored([](const persistence::StorageStats& stats, absl::Time now) {
        if (!stats.earliest_transition_at.has_value() ||
            *stats.earliest_transition_at > now) {
          return 0.0;
        }
        return absl::ToDoubleSeconds(now - *stats.earliest_transition_at);
      }));
  metrics_.AddCallback(
      "recurrent_change_log_rows", "Rows kept in the change log.", {},
      stored([](const persistence::StorageStats& stats, absl::Time) {
        return static_cast<double>(stats.change_log_rows);
      }));
  metrics_.AddCallback(
      "recurrent_change_log_oldest_age_seconds",
      "Age of the oldest change-log row (0 if none); rows older than "
      "--change_log_retention are pruned every minute.",
      {}, stored([](const persistence::StorageStats& stats, absl::Time now) {
        if (!stats.oldest_change_at.has_value()) return 0.0;
        return absl::ToDoubleSeconds(now - *stats.oldest_change_at);
      }));
  metrics_.AddCallback(
      "recurrent_database_size_bytes",
      "Size of the database as it reports it, bytes (SQLite: its pages, "
      "without the write-ahead log; PostgreSQL: pg_database_size).",
      {}, stored([](const persistence::StorageStats& stats, absl::Time) {
        return static_cast<double>(stats.database_bytes);
      }));
  metrics_.AddCallback(
      "recurrent_database_serving",
      "1 while the database can serve (health SERVING), else 0.", {}, [this] {
        std::lock_guard<std::mutex> lock(health_mu_);
        return backend_healthy_ ? 1.0 : 0.0;
      });
}

void Server::RefreshStorageStats() {
  absl::StatusOr<persistence::StorageStats> stats = store_.ReadStorageStats();
  if (!stats.ok()) return;  // the health check reports the database
  std::lock_guard<std::mutex> lock(storage_stats_mu_);
  storage_stats_ = *std::move(stats);
  storage_stats_read_ = std::chrono::steady_clock::now();
}

ServiceEnv Server::Env(const common::Clock* clock) {
  ServiceEnv env;
  env.store = &store_;
  env.clock = clock;
  env.executor = &executor_;
  env.write_executor = &write_executor_;
  env.access = access_.get();
  env.customer_cache = &customer_cache_;
  env.change_follower = &change_follower_;
  env.limiter = &limiter_;
  env.reprocess_metrics = &reprocess_metrics_;
  return env;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(
    const ServerOptions& options, persistence::Backend* backend,
    const common::Clock* clock, persistence::ApiKeyStore* keys) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<AccessControl> access,
                             AccessControl::Create(keys));
  RECURRENT_RETURN_IF_ERROR(CheckAuthenticationPolicy(options, *access));
  grpc::EnableDefaultHealthCheckService(true);
  // Links the health proto's descriptor into the generated pool so that
  // reflection can describe grpc.health.v1.Health (see health.proto).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  // Our own listening socket (not SO_REUSEPORT: a busy port is an error),
  // which caps the connections it hands to gRPC.
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<CappedListener> listener,
      CappedListener::Bind(options.listen_address, options.max_connections));
  std::unique_ptr<Server> server(
      new Server(options, backend, clock, std::move(access)));
  server->listener_ = std::move(listener);
  // A start that fails before serving: ~Server's Shutdown then does
  // nothing (server_ may be null), so what has started stops here -- the
  // follower's thread would otherwise poll on into the cache and the change
  // feed while they are destroyed.
  const auto abandon = [&server](absl::Status why) {
    server->change_follower_.Stop();
    std::lock_guard<std::mutex> lock(server->health_mu_);
    server->shut_down_ = true;
    return why;
  };
  if (absl::Status started = server->change_feed_service_.Start();
      !started.ok()) {
    return abandon(std::move(started));
  }
  if (absl::Status started = server->change_follower_.Start(); !started.ok()) {
    return abandon(std::move(started));
  }
  grpc::ServerBuilder builder;
  server->acceptor_ = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      Credentials(options.tls));
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options.max_concurrent_streams);
  if (options.grpc_memory_bytes > 0) {
    grpc::ResourceQuota quota("recurrentd");
    quota.Resize(options.grpc_memory_bytes);
    builder.SetResourceQuota(quota);
  }
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.handshake_timeout)));
  RouteProtobufLogs();
  RouteGrpcLogs();
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  // The parse interceptor first: a server's interceptors see the status
  // sent in the order they are registered, so the metrics and the request
  // log record the INVALID_ARGUMENT it makes of an unparseable request,
  // which is what the client gets.
  for (auto& interceptor : MakeRequestParseInterceptors()) {
    interceptors.push_back(std::move(interceptor));
  }
  interceptors.push_back(MakeCallMetricsInterceptor(&server->metrics_));
  if (options.log_requests) {
    interceptors.push_back(MakeRequestLogInterceptor(server->access_.get()));
  }
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&server->source_settings_service_);
  builder.RegisterService(&server->customer_service_);
  builder.RegisterService(&server->invoice_service_);
  builder.RegisterService(&server->api_key_service_);
  builder.RegisterService(&server->change_feed_service_);
  builder.RegisterService(&server->metrics_service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) {
    return abandon(absl::UnavailableError(
        absl::StrCat("cannot serve on ", options.listen_address,
                     options.tls.has_value()
                         ? ": the TLS certificate, key or client CA is unusable"
                         : "")));
  }
  server->port_ = server->listener_->port();
  server->listener_->Start(server->acceptor_.get());
  if (!options.read_only) {
    server->reevaluator_.Start();
    server->pruner_.Start();
  }
  SetServing(*server->server_, true);
  server->health_watch_.Start();
  server->storage_stats_refresh_.Start();
  server->key_reload_.Start();
  return server;
}

absl::Status Server::CheckBackendHealth() {
  absl::Status health = backend_->CheckHealth();
  std::lock_guard<std::mutex> lock(health_mu_);
  if (health.ok() == backend_healthy_ || shut_down_) return health;
  backend_healthy_ = health.ok();
  if (health.ok()) {
    log::Info("the database is back; SERVING");
  } else {
    log::Error("the database cannot serve; health NOT_SERVING",
               {{"error", std::string(health.message())}});
  }
  SetServing(*server_, health.ok());
  return health;
}

Server::~Server() { Shutdown(absl::Seconds(5)); }

void Server::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    if (shut_down_) return;
    shut_down_ = true;  // CheckBackendHealth no longer sets the health
  }
  listener_->Stop();  // no new connections
  SetServing(*server_, false);
  change_feed_service_.EndWatches();
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(grace));
  // After the health says NOT_SERVING and the calls have drained (or the
  // grace has passed): a health check, key reload or storage read under
  // way may wait for a database that is down.
  health_watch_.Stop();
  key_reload_.Stop();
  storage_stats_refresh_.Stop();
  executor_.Shutdown();
  write_executor_.Shutdown();
  reevaluator_.Stop();
  pruner_.Stop();
  change_follower_.Stop();
}

}  // namespace recurrent::service
