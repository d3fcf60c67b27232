// CappedListener: the server's listening socket, with a cap on open
// connections.
//
// gRPC 1.51 cannot bound the connections it accepts, and each one holds a
// file descriptor and buffers. This listener accepts connections itself and
// hands each to gRPC (ServerBuilder's external connection acceptor); once
// `max_connections` of those it handed over are still open, it closes new
// ones at once, so a flood of connections meets a closed door instead of
// exhausting descriptors and memory. A public endpoint still belongs behind
// a proxy (docs/operations.md "Connections").
//
// It notices that gRPC closed a connection without holding it open itself:
// it remembers each handed-over descriptor with the identity (inode) of its
// socket, and a descriptor that is closed, or reused for another file, no
// longer matches.
#ifndef RECURRENT_SERVICE_CAPPED_LISTENER_H_
#define RECURRENT_SERVICE_CAPPED_LISTENER_H_

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_builder.h"

namespace recurrent::service {

// "host:port" or "[v6]:port" as its host and port, both non-empty (the port
// is not checked to be a number), or nullopt.
std::optional<std::pair<absl::string_view, absl::string_view>> SplitHostPort(
    absl::string_view address);

class CappedListener {
 public:
  // Binds and listens on `listen_address` ("host:port", "[v6]:port"; port 0
  // picks a free one). kUnavailable if the address is invalid or in use.
  static absl::StatusOr<std::unique_ptr<CappedListener>> Bind(
      const std::string& listen_address, size_t max_connections);

  // Stops accepting (Stop) and closes the listening socket.
  ~CappedListener();

  CappedListener(const CappedListener&) = delete;
  CappedListener& operator=(const CappedListener&) = delete;

  int port() const { return port_; }

  // Starts accepting on a thread of its own, handing connections to
  // `acceptor`, which must outlive this listener. Call once, after the gRPC
  // server has started.
  void Start(grpc::experimental::ExternalConnectionAcceptor* acceptor);

  // Stops accepting; connections already handed over stay. Idempotent.
  void Stop();

  // Connections closed on arrival because the cap was reached.
  int64_t refused() const { return refused_.load(); }

 private:
  struct Handed {
    int fd;
    ino_t inode;
  };

  CappedListener(int listen_fd, int wake_fd, int port, size_t max_connections)
      : listen_fd_(listen_fd),
        wake_fd_(wake_fd),
        port_(port),
        max_connections_(max_connections) {}

  void AcceptLoop(grpc::experimental::ExternalConnectionAcceptor* acceptor);
  // Drops the handed-over connections that gRPC has closed since.
  void ForgetClosed();

  const int listen_fd_;
  const int wake_fd_;  // an eventfd that wakes the accept loop to stop
  const int port_;
  const size_t max_connections_;
  std::vector<Handed> open_;  // only the accept thread touches it
  std::atomic<int64_t> refused_{0};
  std::thread thread_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CAPPED_LISTENER_H_
