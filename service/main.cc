// recurrentd: the Recurrent gRPC server over an embedded SQLite database, or
// a PostgreSQL database shared by several replicas.
//
//   recurrentd --listen=127.0.0.1:50051 --db=./data/recurrent.db
//
// Wires flags, backend, keys, clock and services together; logs one line
// when it is ready; on SIGINT or SIGTERM it finishes in-flight calls, closes
// the database and exits 0. It exits 1 with a one-line message on a bad
// flag, an unusable database or TLS file, an address it cannot listen on, or
// a non-loopback address while no API key exists (without
// --allow_unauthenticated).
//
//   recurrentd --db=./data/recurrent.db --create_api_key=ops:admin
//
// creates an API key, prints it on stdout and exits without serving (how the
// first key of a server that is not on loopback is made).
//
//   recurrentd --db=./data/recurrent.db --backup_to=/backups/recurrent.db
//
// copies the database with SQLite's online backup (a server may be serving
// it meanwhile) and exits.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/log.h"
#include "persistence/postgres_api_key_store.h"
#include "persistence/postgres_backend.h"
#include "persistence/sqlite_api_key_store.h"
#include "persistence/sqlite_backend.h"
#include "persistence/sqlite_backup.h"
#include "service/access_control.h"
#include "service/api_key_requests.h"
#include "service/convert.h"
#include "service/flags.h"
#include "service/metrics.h"
#include "service/metrics_http.h"
#include "service/server.h"
#include "service/tls_files.h"

#ifdef RECURRENT_JEMALLOC
// jemalloc reads its options from this symbol: a background thread purges
// freed pages after dirty_decay_ms, so memory a burst of calls used goes
// back to the system even while the server is idle. MALLOC_CONF in the
// environment still overrides it.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf =
    "background_thread:true,dirty_decay_ms:5000,muzzy_decay_ms:0";
}
#endif

namespace recurrent::service {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "recurrentd: %s\n", message.c_str());
  return 1;
}

// Raises the soft limit on open files to the hard one: each connection is a
// file descriptor, and a distribution's default soft limit (1,024) is
// exhausted by a few idle clients long before memory or CPU.
void RaiseOpenFileLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur == limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::fprintf(stderr,
                 "recurrentd: warning: cannot raise the open-file limit from "
                 "%llu: %s\n",
                 static_cast<unsigned long long>(before), std::strerror(errno));
  }
}

// The size of the SQLite database file and of its write-ahead log.
void AddSqliteFileMetrics(Metrics& metrics, const std::string& path) {
  for (const auto& [file, name] :
       {std::pair{path, "database"}, std::pair{path + "-wal", "wal"}}) {
    metrics.AddCallback("recurrent_database_file_bytes",
                        "Size of the SQLite database file and of its "
                        "write-ahead log, bytes.",
                        {{"file", name}}, [file = file] {
                          struct stat info;
                          if (stat(file.c_str(), &info) != 0) return 0.0;
                          return static_cast<double>(info.st_size);
                        });
  }
}

// --create_api_key=NAME:ROLE: creates the key and prints it.
int CreateApiKey(const std::string& spec, persistence::ApiKeyStore& keys) {
  std::vector<std::string> parts = absl::StrSplit(spec, ':');
  std::optional<Role> role;
  if (parts.size() == 2) {
    for (Role r : {Role::kReader, Role::kWriter, Role::kAdmin}) {
      if (parts[1] == RoleName(r)) role = r;
    }
  }
  if (!role.has_value() || parts[0].empty()) {
    return Fail(
        absl::StrCat("--create_api_key must be NAME:ROLE with ROLE "
                     "reader, writer or admin, got \"",
                     spec, "\""));
  }
  // The name as CreateApiKey takes it (the name then appears in messages
  // and log lines, so no quotes or newlines).
  v1::CreateApiKeyRequest request;
  request.set_name(parts[0]);
  request.set_role(ApiKeyRoleToProto(*role));
  if (absl::Status valid = ParseCreateApiKey(request).status(); !valid.ok()) {
    return Fail(absl::StrCat("--create_api_key ", valid.message()));
  }
  absl::StatusOr<std::unique_ptr<AccessControl>> access =
      AccessControl::Create(&keys);
  if (!access.ok()) return Fail(std::string(access.status().message()));
  common::RealClock clock;
  absl::StatusOr<CreatedKey> created =
      (*access)->CreateKey(parts[0], *role, clock.Now());
  if (!created.ok()) {
    return Fail(
        absl::StrCat("cannot create API key: ", created.status().message()));
  }
  (*access)->Audit(Caller{}, "recurrentd --create_api_key",
                   absl::StrCat(created->key.uuid, " \"", created->key.name,
                                "\" ", RoleName(created->key.role)),
                   clock.Now());
  std::printf("%s\n", created->secret.c_str());
  std::fprintf(stderr,
               "recurrentd: created API key %s \"%s\" (%s); it is printed "
               "once above and cannot be shown again. A running server "
               "on this database sees it within a second.\n",
               created->key.uuid.c_str(), created->key.name.c_str(),
               std::string(RoleName(created->key.role)).c_str());
  return 0;
}

// The backend and key store that --db names.
// Write threads by default with group commit: each write of a group waits
// on its thread for the shared commit, so this many can share one.
constexpr int kGroupCommitWriteThreads = 64;

struct Database {
  std::unique_ptr<persistence::Backend> backend;
  std::unique_ptr<persistence::ApiKeyStore> keys;
  std::string shown_name;  // for the ready line: the path, or the URI
                           // without its password
  bool created = false;    // the schema was created just now
  bool read_only = false;
};

// postgresql://user:secret@host/db?sslmode=require&password=secret
//   -> postgresql://user@host/db?sslmode=require
// (the ready line and the logs show it).
std::string WithoutPassword(const std::string& uri) {
  std::string out = uri;
  if (const size_t query = out.find('?'); query != std::string::npos) {
    std::vector<std::string> kept;
    for (absl::string_view param :
         absl::StrSplit(absl::string_view(out).substr(query + 1), '&')) {
      const absl::string_view key = param.substr(0, param.find('='));
      if (key == "password" || key == "sslpassword") continue;
      kept.emplace_back(param);
    }
    out = absl::StrCat(out.substr(0, query), kept.empty() ? "" : "?",
                       absl::StrJoin(kept, "&"));
  }
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  // The user information ends at the last '@' before the path.
  const size_t path = out.find('/', scheme + 3);
  const size_t at = out.rfind('@', path == std::string::npos ? out.npos : path);
  if (at == std::string::npos || at < scheme + 3) return out;
  const size_t colon = out.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return out;
  return out.substr(0, colon) + out.substr(at);
}

absl::StatusOr<Database> OpenDatabase() {
  const std::string db = absl::GetFlag(FLAGS_db);
  Database database;
  if (persistence::PostgresBackend::IsUri(db)) {
    for (const auto& [set, flag] :
         {std::pair{absl::GetFlag(FLAGS_max_page_count) != 0,
                    "--max_page_count"},
          std::pair{!absl::GetFlag(FLAGS_create_db), "--create_db=false"}}) {
      if (set) {
        return absl::InvalidArgumentError(
            absl::StrCat(flag, " applies to a SQLite file, not to PostgreSQL"));
      }
    }
    if (absl::GetFlag(FLAGS_pg_pool_size) < 1) {
      return absl::InvalidArgumentError("--pg_pool_size must be at least 1");
    }
    persistence::PostgresBackend::Options options;
    options.uri = db;
    options.pool_size = absl::GetFlag(FLAGS_pg_pool_size);
    options.read_only = absl::GetFlag(FLAGS_read_only);
    database.shown_name = WithoutPassword(db);
    database.read_only = options.read_only;
    absl::StatusOr<std::unique_ptr<persistence::PostgresBackend>> backend =
        persistence::PostgresBackend::Open(options);
    if (!backend.ok()) {
      return absl::Status(backend.status().code(),
                          absl::StrCat("cannot open database ",
                                       database.shown_name, ": ",
                                       backend.status().message()));
    }
    database.created = (*backend)->created();
    database.backend = *std::move(backend);
    absl::StatusOr<std::unique_ptr<persistence::PostgresApiKeyStore>> keys =
        persistence::PostgresApiKeyStore::Open(
            db, persistence::PostgresApiKeyStore::Options{options.read_only});
    if (!keys.ok()) {
      return absl::Status(keys.status().code(),
                          absl::StrCat("cannot open database: ",
                                       keys.status().message()));
    }
    database.keys = *std::move(keys);
    return database;
  }
  persistence::SqliteBackend::Options options;
  options.path = db;
  options.reader_pool_size = absl::GetFlag(FLAGS_reader_connections);
  options.read_only = absl::GetFlag(FLAGS_read_only);
  options.create_if_missing = absl::GetFlag(FLAGS_create_db);
  options.max_page_count = absl::GetFlag(FLAGS_max_page_count);
  database.shown_name = db;
  database.read_only = options.read_only;
  absl::StatusOr<std::unique_ptr<persistence::SqliteBackend>> backend =
      persistence::SqliteBackend::Open(options);
  if (!backend.ok()) {
    // The message names the path already.
    return absl::Status(backend.status().code(),
                        absl::StrCat("cannot open database: ",
                                     backend.status().message()));
  }
  database.created = (*backend)->created();
  database.backend = *std::move(backend);
  absl::StatusOr<std::unique_ptr<persistence::SqliteApiKeyStore>> keys =
      persistence::SqliteApiKeyStore::Open(
          options.path,
          persistence::SqliteApiKeyStore::Options{options.read_only});
  if (!keys.ok()) {
    return absl::Status(keys.status().code(),
                        absl::StrCat("cannot open database: ",
                                     keys.status().message()));
  }
  database.keys = *std::move(keys);
  return database;
}

int Run(int argc, char** argv) {
  SetFlagsUsage();
  absl::SetProgramUsageMessage(
      "the Recurrent subscription-status gRPC server.\n\n"
      "  recurrentd [--listen=127.0.0.1:50051] [--db=./data/recurrent.db]\n"
      "  recurrentd --db=postgresql://user@host/dbname   (several replicas "
      "may share it)\n"
      "  recurrentd --flagfile=/etc/recurrent/recurrentd.flags\n\n"
      "Flags may be given on the command line or, one --name=value per "
      "line, in a --flagfile. --version prints the version and the git "
      "commit of the build; --helpfull also lists the flags of the "
      "libraries. Running it in production: docs/operations.md.");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_log_format) == "json") {
    log::SetFormat(log::Format::kJson);
  } else if (absl::GetFlag(FLAGS_log_format) != "text") {
    return Fail(absl::StrCat("--log_format must be text or json, got \"",
                             absl::GetFlag(FLAGS_log_format), "\""));
  }
  if (positional.size() > 1) {
    return Fail(absl::StrCat("unexpected argument \"", positional[1],
                             "\"; see --help"));
  }
  if (absl::GetFlag(FLAGS_write_threads) < 0) {
    return Fail("--write_threads must be at least 1 (or 0: automatic)");
  }
  if (absl::GetFlag(FLAGS_worker_threads) < 1) {
    return Fail("--worker_threads must be at least 1");
  }
  if (absl::GetFlag(FLAGS_reevaluate_interval) <= absl::ZeroDuration()) {
    return Fail("--reevaluate_interval must be positive");
  }
  if (absl::GetFlag(FLAGS_change_log_retention) <= absl::ZeroDuration()) {
    return Fail("--change_log_retention must be positive");
  }
  if (absl::GetFlag(FLAGS_change_log_poll_interval) <= absl::ZeroDuration()) {
    return Fail("--change_log_poll_interval must be positive");
  }
  if (absl::GetFlag(FLAGS_change_log_max_lag) <=
      absl::GetFlag(FLAGS_change_log_poll_interval)) {
    return Fail(
        "--change_log_max_lag must be longer than --change_log_poll_interval");
  }
  if (absl::GetFlag(FLAGS_reader_connections) < 1) {
    return Fail("--reader_connections must be at least 1");
  }
  if (absl::GetFlag(FLAGS_max_concurrent_streams) < 1) {
    return Fail("--max_concurrent_streams must be at least 1");
  }
  if (absl::GetFlag(FLAGS_grpc_memory_mb) < 0) {
    return Fail("--grpc_memory_mb must be 0 (no quota) or more");
  }
  if (absl::GetFlag(FLAGS_max_connections) < 0) {
    return Fail("--max_connections must be 0 (no cap) or more");
  }
  if (absl::GetFlag(FLAGS_max_calls_in_flight) < 0) {
    return Fail("--max_calls_in_flight must be 0 (no bound) or more");
  }
  if (absl::GetFlag(FLAGS_handshake_timeout) < absl::Milliseconds(100) ||
      absl::GetFlag(FLAGS_handshake_timeout) > absl::Hours(1)) {
    return Fail("--handshake_timeout must be between 100ms and 1h");
  }
  if (absl::GetFlag(FLAGS_shutdown_grace) < absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_shutdown_grace) > absl::Hours(1)) {
    return Fail("--shutdown_grace must be between 0s and 1h");
  }
  if (const std::string metrics = absl::GetFlag(FLAGS_metrics_listen);
      !metrics.empty()) {
    // One host:port (civetweb would also take a bare port, meaning every
    // interface, or a list).
    const std::optional<absl::string_view> host = HostOf(metrics);
    if (!host.has_value() || host->empty() ||
        metrics.find(',') != std::string::npos) {
      return Fail(absl::StrCat("--metrics_listen must be one host:port, got \"",
                               metrics, "\""));
    }
    if (!IsLoopbackAddress(metrics)) {
      log::Warning(
          "--metrics_listen is not a loopback address: /metrics has no "
          "authentication; keep the port private (docs/operations.md)",
          {{"metrics_listen", metrics}});
    }
  }
  if (absl::GetFlag(FLAGS_max_message_bytes) < 1024) {
    return Fail("--max_message_bytes must be at least 1024");
  }
  if (absl::GetFlag(FLAGS_max_invoices_per_customer) < 1) {
    return Fail("--max_invoices_per_customer must be at least 1");
  }
  if (absl::GetFlag(FLAGS_max_subscriptions_per_customer) < 1) {
    return Fail("--max_subscriptions_per_customer must be at least 1");
  }
  if (absl::GetFlag(FLAGS_max_page_count) < 0) {
    return Fail("--max_page_count must not be negative");
  }
  if (const std::string to = absl::GetFlag(FLAGS_backup_to); !to.empty()) {
    if (persistence::PostgresBackend::IsUri(absl::GetFlag(FLAGS_db))) {
      return Fail(
          "--backup_to copies a SQLite file; back up PostgreSQL with "
          "pg_dump (docs/deployment.md)");
    }
    const absl::Status backup =
        persistence::BackupDatabase(absl::GetFlag(FLAGS_db), to);
    if (!backup.ok()) {
      return Fail(absl::StrCat("backup failed: ", backup.message()));
    }
    std::printf("recurrentd: backed up %s to %s\n",
                absl::GetFlag(FLAGS_db).c_str(), to.c_str());
    return 0;
  }
  const std::string tls_cert = absl::GetFlag(FLAGS_tls_cert);
  const std::string tls_key = absl::GetFlag(FLAGS_tls_key);
  const std::string tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (tls_cert.empty() != tls_key.empty()) {
    return Fail("--tls_cert and --tls_key go together");
  }
  if (!tls_client_ca.empty() && tls_cert.empty()) {
    return Fail("--tls_client_ca needs --tls_cert and --tls_key");
  }
  std::optional<TlsOptions> tls;
  if (!tls_cert.empty()) {
    absl::StatusOr<TlsOptions> loaded =
        LoadTlsFiles(tls_cert, tls_key, tls_client_ca);
    if (!loaded.ok()) return Fail(std::string(loaded.status().message()));
    tls = *std::move(loaded);
  }

  // Signals are taken synchronously by this thread (sigwait below); every
  // thread started from here on inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<Database> database = OpenDatabase();
  if (!database.ok()) return Fail(std::string(database.status().message()));
  std::unique_ptr<persistence::Backend>& backend = database->backend;
  std::unique_ptr<persistence::ApiKeyStore>& keys = database->keys;
  if (const std::string spec = absl::GetFlag(FLAGS_create_api_key);
      !spec.empty()) {
    return CreateApiKey(spec, *keys);
  }

  common::RealClock clock;
  ServerOptions server_options;
  server_options.listen_address = absl::GetFlag(FLAGS_listen);
  server_options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  // Group commit: on SQLite only. On PostgreSQL, concurrent writes run in
  // parallel transactions whose commits the server groups itself; one
  // shared transaction would make them wait for each other.
  const bool postgres =
      persistence::PostgresBackend::IsUri(absl::GetFlag(FLAGS_db));
  const bool group_commit = absl::GetFlag(FLAGS_group_commit) && !postgres;
  server_options.write_threads = absl::GetFlag(FLAGS_write_threads);
  if (server_options.write_threads == 0) {
    // PostgreSQL: writes to different sources run in parallel, and a write
    // waiting for a held source occupies its thread (up to 5 s): four, so
    // that two such writes leave room for the others.
    server_options.write_threads =
        group_commit ? kGroupCommitWriteThreads : (postgres ? 4 : 2);
  }
  server_options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  server_options.handshake_timeout = absl::GetFlag(FLAGS_handshake_timeout);
  server_options.max_concurrent_streams =
      absl::GetFlag(FLAGS_max_concurrent_streams);
  server_options.grpc_memory_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_grpc_memory_mb)) << 20;
  server_options.max_connections =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_connections));
  server_options.max_calls_in_flight = static_cast<size_t>(
      absl::GetFlag(FLAGS_max_calls_in_flight));
  RaiseOpenFileLimit();
  server_options.reevaluate_interval = absl::GetFlag(FLAGS_reevaluate_interval);
  server_options.change_log_retention =
      absl::GetFlag(FLAGS_change_log_retention);
  server_options.change_log_poll_interval =
      absl::GetFlag(FLAGS_change_log_poll_interval);
  server_options.change_log_max_lag = absl::GetFlag(FLAGS_change_log_max_lag);
  if (const int32_t cache_mb = absl::GetFlag(FLAGS_customer_cache_mb);
      cache_mb >= 0) {
    server_options.customer_cache_bytes = static_cast<size_t>(cache_mb) << 20;
  } else {
    return Fail("--customer_cache_mb must be >= 0");
  }
  server_options.tls = tls;
  server_options.allow_unauthenticated =
      absl::GetFlag(FLAGS_allow_unauthenticated);
  server_options.read_only = database->read_only;
  server_options.log_requests = absl::GetFlag(FLAGS_log_requests);
  server_options.store.log_reevaluations =
      absl::GetFlag(FLAGS_log_reevaluations);
  server_options.store.max_invoices_per_customer =
      absl::GetFlag(FLAGS_max_invoices_per_customer);
  server_options.store.max_subscriptions_per_customer =
      absl::GetFlag(FLAGS_max_subscriptions_per_customer);
  server_options.store.max_group_writes =
      group_commit ? server_options.write_threads : 1;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(server_options, backend.get(), &clock, keys.get());
  if (!server.ok()) return Fail(std::string(server.status().message()));

  // Prometheus metrics: the server's, the database file's and the
  // process's, at --metrics_listen.
  std::unique_ptr<MetricsHttpServer> metrics_http;
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    Metrics& metrics = (*server)->metrics();
    AddProcessMetrics(metrics);
    if (!persistence::PostgresBackend::IsUri(absl::GetFlag(FLAGS_db))) {
      AddSqliteFileMetrics(metrics, absl::GetFlag(FLAGS_db));
    }
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Start(absl::GetFlag(FLAGS_metrics_listen),
                                 &metrics);
    if (!http.ok()) return Fail(std::string(http.status().message()));
    metrics_http = *std::move(http);
    std::printf("recurrentd: metrics at http://%s/metrics (port %d)\n",
                absl::GetFlag(FLAGS_metrics_listen).c_str(),
                metrics_http->port());
  }

  std::printf("recurrentd: serving on port %d (listen %s, db %s%s%s)\n",
              (*server)->port(), server_options.listen_address.c_str(),
              database->shown_name.c_str(),
              database->created     ? ", a new database created"
              : database->read_only ? ", read-only"
                                    : "",
              !tls.has_value()         ? ""
              : tls->client_ca.empty() ? ", TLS"
                                       : ", mutual TLS");
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("recurrentd: %s received, shutting down\n",
              signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  metrics_http.reset();  // its pages read the server
  server->reset();
  keys.reset();
  backend.reset();  // closes the database
  std::printf("recurrentd: stopped\n");
  return 0;
}

}  // namespace
}  // namespace recurrent::service

int main(int argc, char** argv) {
  recurrent::service::DisableMutexDeadlockDetection();
  return recurrent::service::Run(argc, argv);
}
