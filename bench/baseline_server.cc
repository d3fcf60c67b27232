// baseline-server: recurrentd's gRPC server (service/server.h: the same
// services, builder options, Executor dispatch, worker threads and
// validation) and core over CannedBackend (bench/canned_backend.h) instead
// of SQLite.
// Its GetCustomer and ListCustomers cost everything recurrentd's do except
// storage: the ceiling of the RPC layer, against which bench/run compares
// recurrentd (docs/performance.md, section "Service").
//
//   baseline-server --db=/tmp/recurrent-bench/100k.db --listen=127.0.0.1:0
//
// At start it opens --db (a database seeded by bench/seed_database.cc, read
// only in effect), captures one page of PAST_DUE customers of --source with
// their states, closes it and serves them from memory. Prints the same
// "serving on port" line as recurrentd; stops on SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "bench/canned_backend.h"
#include "common/clock.h"
#include "persistence/sqlite_backend.h"
#include "service/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052", "gRPC address, host:port");
ABSL_FLAG(std::string, db, "", "seeded database to capture customers from");
ABSL_FLAG(std::string, source, "bench", "data source of the customers");
ABSL_FLAG(int32_t, worker_threads, 8, "as recurrentd --worker_threads");
ABSL_FLAG(int32_t, page_size, 50, "customers captured (one page)");

namespace recurrent::bench {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "baseline-server: %s\n", message.c_str());
  return 1;
}

int Run() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<CannedBackend> canned;
  {
    persistence::SqliteBackend::Options backend_options;
    backend_options.path = absl::GetFlag(FLAGS_db);
    backend_options.reader_pool_size = 1;
    auto backend = persistence::SqliteBackend::Open(backend_options);
    if (!backend.ok()) return Fail(backend.status().ToString());
    auto captured = CannedBackend::Capture(
        **backend, absl::GetFlag(FLAGS_source),
        persistence::CustomerStatus::kPastDue, absl::GetFlag(FLAGS_page_size));
    if (!captured.ok()) return Fail(captured.status().ToString());
    canned = std::move(*captured);
  }

  common::RealClock clock;
  service::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  auto server = service::Server::Start(options, canned.get(), &clock);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  std::printf("baseline-server: serving on port %d (%d canned customers)\n",
              (*server)->port(), canned->captured_customers());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  (*server)->Shutdown(absl::Seconds(2));
  return 0;
}

}  // namespace
}  // namespace recurrent::bench

int main(int argc, char** argv) {
  recurrent::service::DisableMutexDeadlockDetection();  // as recurrentd
  absl::ParseCommandLine(argc, argv);
  return recurrent::bench::Run();
}
