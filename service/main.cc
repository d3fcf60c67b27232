// recurrentd: the Recurrent gRPC server over an embedded SQLite database.
//
//   recurrentd --listen=127.0.0.1:50051 --db=./data/recurrent.db
//
// Wires flags, storage, clock and services together; logs one line when it
// is ready; on SIGINT or SIGTERM it finishes in-flight calls, closes the
// database and exits 0. It exits 1 with a one-line message on a bad flag, an
// unusable database or an address it cannot listen on.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "persistence/sqlite_storage.h"
#include "service/clock.h"
#include "service/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "Address to serve gRPC on, host:port (port 0 picks a free one).");
ABSL_FLAG(std::string, db, "./data/recurrent.db",
          "SQLite database file; its folder is created if missing.");
ABSL_FLAG(int32_t, worker_threads, 8,
          "Threads running request handlers (and database calls).");
ABSL_FLAG(int32_t, reader_connections, 8,
          "SQLite read connections in the pool.");
ABSL_FLAG(absl::Duration, reevaluate_interval, absl::Seconds(1),
          "How often stored statuses are brought up to date as time passes.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long in-flight calls may run after SIGINT/SIGTERM.");

namespace recurrent {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "recurrentd: %s\n", message.c_str());
  return 1;
}

int Run(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Recurrent subscription-status gRPC server.\n"
      "Usage: recurrentd [--listen=127.0.0.1:50051] "
      "[--db=./data/recurrent.db]");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    return Fail(absl::StrCat("unexpected argument \"", positional[1],
                             "\"; see --help"));
  }
  if (absl::GetFlag(FLAGS_worker_threads) < 1) {
    return Fail("--worker_threads must be at least 1");
  }
  if (absl::GetFlag(FLAGS_reevaluate_interval) <= absl::ZeroDuration()) {
    return Fail("--reevaluate_interval must be positive");
  }
  if (absl::GetFlag(FLAGS_reader_connections) < 1) {
    return Fail("--reader_connections must be at least 1");
  }

  // Signals are taken synchronously by this thread (sigwait below); every
  // thread started from here on inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  persistence::SqliteStorage::Options storage_options;
  storage_options.path = absl::GetFlag(FLAGS_db);
  storage_options.reader_pool_size = absl::GetFlag(FLAGS_reader_connections);
  absl::StatusOr<std::unique_ptr<persistence::SqliteStorage>> storage =
      persistence::SqliteStorage::Open(storage_options);
  if (!storage.ok()) {
    // The message names the path already.
    return Fail(
        absl::StrCat("cannot open database: ", storage.status().message()));
  }

  RealClock clock;
  ServerOptions server_options;
  server_options.listen_address = absl::GetFlag(FLAGS_listen);
  server_options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  server_options.reevaluate_interval = absl::GetFlag(FLAGS_reevaluate_interval);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(server_options, storage->get(), &clock);
  if (!server.ok()) return Fail(std::string(server.status().message()));

  std::printf("recurrentd: serving on port %d (listen %s, db %s)\n",
              (*server)->port(), server_options.listen_address.c_str(),
              storage_options.path.c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("recurrentd: %s received, shutting down\n",
              signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  server->reset();
  storage->reset();  // closes the database
  std::printf("recurrentd: stopped\n");
  return 0;
}

}  // namespace
}  // namespace recurrent

int main(int argc, char** argv) { return recurrent::Run(argc, argv); }
