// ConnectionPool: PostgreSQL connections leased to one transaction at a
// time.
//
//   RECURRENT_ASSIGN_OR_RETURN(ConnectionLease lease, pool.Acquire());
//   ... use *lease on this thread ...
//   lease.reset();  // back to the pool
//
// Connections are opened on demand, up to `size`. A connection that comes
// back broken (the server restarted, the network failed) is closed, and the
// next Acquire() opens a new one: the backend recovers by itself when the
// database comes back. An idle connection the server closed is found only
// when it is next used (PostgresBackend then calls DiscardIdle() and begins
// again on a new one). A lease may end on another thread than the one that
// took it.
//
// Thread-safe. The pool must outlive its leases.
#ifndef RECURRENT_PERSISTENCE_POSTGRES_POOL_H_
#define RECURRENT_PERSISTENCE_POSTGRES_POOL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "persistence/postgres_connection.h"

namespace recurrent::persistence::postgres {

class ConnectionPool;

// Ends a lease: returns the connection to its pool, or closes it if it
// belongs to no pool.
struct ConnectionReleaser {
  ConnectionPool* pool = nullptr;
  void operator()(Connection* connection) const;
};
using ConnectionLease = std::unique_ptr<Connection, ConnectionReleaser>;

// A lease on a connection of no pool: releasing it closes the connection.
inline ConnectionLease OwnedLease(std::unique_ptr<Connection> connection) {
  return ConnectionLease(connection.release(), ConnectionReleaser{nullptr});
}

class ConnectionPool {
 public:
  // `size` >= 1; Acquire() waits at most `wait` for a connection. Every
  // connection is opened with `access`.
  ConnectionPool(std::string uri, int size, absl::Duration wait,
                 Access access = Access::kReadWrite);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();

  // An idle connection, or a new one while fewer than `size` are open.
  // kUnavailable if the server cannot be reached (libpq's reason, which
  // names the host and the role, is logged, not returned), or if every
  // connection stays leased for `wait`.
  absl::StatusOr<ConnectionLease> Acquire();

  // Closes every idle connection (e.g. after one of them was found closed
  // by the server: a restart or failover closes them all); the next
  // Acquire() opens a new one.
  void DiscardIdle();

  // Opens a connection outside the pool (for a scan that must not hold a
  // pooled one).
  absl::StatusOr<std::unique_ptr<Connection>> OpenUnpooled() const;

  const std::string& uri() const { return uri_; }

 private:
  friend struct ConnectionReleaser;
  void Return(Connection* connection);

  const std::string uri_;
  const int size_;
  const absl::Duration wait_;
  const Access access_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + leased + being opened
};

}  // namespace recurrent::persistence::postgres

#endif  // RECURRENT_PERSISTENCE_POSTGRES_POOL_H_
