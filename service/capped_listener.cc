#include "service/capped_listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recurrent::service {
namespace {

absl::Status CannotListen(const std::string& address, absl::string_view why) {
  return absl::UnavailableError(
      absl::StrCat("cannot listen on ", address, ": ", why));
}

ino_t InodeOf(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

}  // namespace

std::optional<std::pair<absl::string_view, absl::string_view>> SplitHostPort(
    absl::string_view address) {
  absl::string_view host;
  absl::string_view port;
  if (!address.empty() && address[0] == '[') {
    const size_t end = address.find("]:");
    if (end == absl::string_view::npos) return std::nullopt;
    host = address.substr(1, end - 1);
    port = address.substr(end + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return std::nullopt;
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty() || port.empty()) return std::nullopt;
  return std::make_pair(host, port);
}

absl::StatusOr<std::unique_ptr<CappedListener>> CappedListener::Bind(
    const std::string& listen_address, size_t max_connections) {
  const auto split = SplitHostPort(listen_address);
  if (!split.has_value()) {
    return CannotListen(listen_address, "the address is invalid");
  }
  const std::string host(split->first);
  const std::string port(split->second);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return CannotListen(listen_address, "the address is invalid");
  }
  int fd = -1;
  int error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        listen(fd, SOMAXCONN) == 0) {
      break;
    }
    error = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return CannotListen(listen_address,
                        error == EADDRINUSE ? "the address is already in use"
                                            : std::strerror(error));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    close(fd);
    return CannotListen(listen_address, std::strerror(errno));
  }
  return std::unique_ptr<CappedListener>(
      new CappedListener(fd, wake_fd, bound_port, max_connections));
}

CappedListener::~CappedListener() {
  Stop();
  close(listen_fd_);
  close(wake_fd_);
}

void CappedListener::Stop() {
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
}

void CappedListener::Start(
    grpc::experimental::ExternalConnectionAcceptor* acceptor) {
  thread_ = std::thread([this, acceptor] { AcceptLoop(acceptor); });
}

void CappedListener::ForgetClosed() {
  open_.erase(std::remove_if(open_.begin(), open_.end(),
                             [](const Handed& h) {
                               return InodeOf(h.fd) != h.inode;
                             }),
              open_.end());
}

void CappedListener::AcceptLoop(
    grpc::experimental::ExternalConnectionAcceptor* acceptor) {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: wait for some to be closed rather than spin.
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        break;  // EAGAIN (all accepted), or an error of one connection
      }
      if (max_connections_ != 0 && open_.size() >= max_connections_) {
        ForgetClosed();
      }
      if (max_connections_ != 0 && open_.size() >= max_connections_) {
        close(fd);
        refused_.fetch_add(1);
        continue;
      }
      if (max_connections_ != 0) open_.push_back(Handed{fd, InodeOf(fd)});
      grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters
          connection;
      connection.listener_fd = listen_fd_;
      connection.fd = fd;
      acceptor->HandleNewConnection(&connection);
    }
  }
}

}  // namespace recurrent::service
