// ConnectionPool: connections leased to one transaction at a time.
//
//   ConnectionLease lease = pool.Acquire();  // waits for an idle one
//   ... use *lease on this thread ...
//   lease.reset();                           // back to the pool
//
// SqliteBackend keeps two: the writer (a pool of one, so that holding its
// lease is holding the process's write lock) and the readers. A lease may be
// returned from any thread (unlike a std::mutex, which only its locking
// thread may unlock), so a transaction may end on another thread than the
// one that began it.
//
// Thread-safe. The pool must outlive its leases.
#ifndef RECURRENT_PERSISTENCE_SQLITE_CONNECTION_POOL_H_
#define RECURRENT_PERSISTENCE_SQLITE_CONNECTION_POOL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "persistence/sqlite_connection.h"

namespace recurrent::persistence::sqlite {

class ConnectionPool;

// Ends a lease: returns the connection to its pool, or closes it if it
// belongs to no pool.
struct ConnectionReleaser {
  ConnectionPool* pool = nullptr;
  void operator()(Connection* connection) const;
};

// A connection held for the life of one transaction.
using ConnectionLease = std::unique_ptr<Connection, ConnectionReleaser>;

// A lease on a connection of no pool: releasing it closes the connection.
inline ConnectionLease OwnedLease(std::unique_ptr<Connection> connection) {
  return ConnectionLease(connection.release(), ConnectionReleaser{nullptr});
}

class ConnectionPool {
 public:
  // `connections` must not be empty.
  explicit ConnectionPool(std::vector<std::unique_ptr<Connection>> connections);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();

  // Waits until a connection is idle and leases it.
  ConnectionLease Acquire();

 private:
  friend struct ConnectionReleaser;
  void Return(Connection* connection);

  // Every connection, owned; `idle_` lists those not leased.
  const std::vector<std::unique_ptr<Connection>> connections_;
  // std::mutex rather than absl::Mutex: ThreadSanitizer sees pthread locks,
  // and Debian's Abseil is not built with its annotations.
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<Connection*> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recurrent::persistence::sqlite

#endif  // RECURRENT_PERSISTENCE_SQLITE_CONNECTION_POOL_H_
