#include "persistence/postgres_pool.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/log.h"

namespace recurrent::persistence::postgres {

void ConnectionReleaser::operator()(Connection* connection) const {
  if (pool == nullptr) {
    delete connection;
  } else {
    pool->Return(connection);
  }
}

ConnectionPool::ConnectionPool(std::string uri, int size, absl::Duration wait,
                               Access access)
    : uri_(std::move(uri)),
      size_(size < 1 ? 1 : size),
      wait_(wait),
      access_(access) {}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<ConnectionLease> ConnectionPool::Acquire() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(wait_);
    while (idle_.empty() && open_ >= size_) {
      if (returned_.wait_until(lock, deadline) == std::cv_status::timeout &&
          idle_.empty() && open_ >= size_) {
        return common::WithReason(
            absl::UnavailableError(absl::StrCat(
                "all ", size_, " database connections are busy; retry")),
            common::reason::kDatabaseBusy);
      }
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return ConnectionLease(connection.release(), ConnectionReleaser{this});
    }
    ++open_;  // a place for the connection opened below, outside the lock
  }
  absl::StatusOr<std::unique_ptr<Connection>> opened = OpenUnpooled();
  if (!opened.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    returned_.notify_one();
    return opened.status();
  }
  return ConnectionLease(opened->release(), ConnectionReleaser{this});
}

absl::StatusOr<std::unique_ptr<Connection>> ConnectionPool::OpenUnpooled()
    const {
  absl::StatusOr<std::unique_ptr<Connection>> opened =
      Connection::Open(uri_, access_);
  if (opened.ok() || opened.status().code() != absl::StatusCode::kUnavailable) {
    return opened;
  }
  // libpq's reason names the host, the port and the role: for the log, not
  // for API callers (backend.h: messages are safe to show). Logged at most
  // once a second; the health check reports the outage too.
  static std::atomic<int64_t> last_logged_ms{0};
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count();
  int64_t last = last_logged_ms.load();
  if (now_ms - last >= 1000 &&
      last_logged_ms.compare_exchange_strong(last, now_ms)) {
    log::Error("cannot open a database connection",
               {{"error", std::string(opened.status().message())}});
  }
  return common::WithReason(
      absl::UnavailableError(
          "cannot connect to the database (the server's log says why)"),
      common::reason::kDatabaseUnavailable);
}

void ConnectionPool::DiscardIdle() {
  std::vector<std::unique_ptr<Connection>> discarded;
  {
    std::lock_guard<std::mutex> lock(mu_);
    discarded.swap(idle_);
    open_ -= static_cast<int>(discarded.size());
    returned_.notify_all();
  }
  // Closed here, outside the lock.
}

void ConnectionPool::Return(Connection* connection) {
  std::unique_ptr<Connection> owned(connection);
  // A transaction left open by a failure is ended here, so that the next
  // lease starts clean; a connection that cannot be reset is dropped.
  if (!owned->Broken() && owned->InTransaction()) {
    if (!owned->Execute("ROLLBACK").ok()) owned.reset();
  }
  if (owned != nullptr && owned->Broken()) owned.reset();
  std::lock_guard<std::mutex> lock(mu_);
  if (owned == nullptr) {
    --open_;
  } else {
    idle_.push_back(std::move(owned));
  }
  returned_.notify_one();
}

}  // namespace recurrent::persistence::postgres
