#include "persistence/sqlite_connection_pool.h"

#include <utility>

namespace recurrent::persistence::sqlite {

void ConnectionReleaser::operator()(Connection* connection) const {
  if (pool != nullptr) {
    pool->Return(connection);
  } else {
    delete connection;
  }
}

ConnectionPool::ConnectionPool(
    std::vector<std::unique_ptr<Connection>> connections)
    : connections_(std::move(connections)) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::unique_ptr<Connection>& connection : connections_) {
    idle_.push_back(connection.get());
  }
}

ConnectionPool::~ConnectionPool() = default;

ConnectionLease ConnectionPool::Acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  returned_.wait(lock, [this] { return !idle_.empty(); });
  Connection* connection = idle_.back();
  idle_.pop_back();
  return ConnectionLease(connection, ConnectionReleaser{this});
}

void ConnectionPool::Return(Connection* connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(connection);
  }
  returned_.notify_one();
}

}  // namespace recurrent::persistence::sqlite
