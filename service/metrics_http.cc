#include "service/metrics_http.h"

#include <civetweb.h>

#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace recurrent::service {
namespace {

// civetweb's global state, set up once for the process.
void InitCivetweb() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

int ServeMetrics(mg_connection* connection, void* data) {
  const auto* metrics = static_cast<const Metrics*>(data);
  const mg_request_info* request = mg_get_request_info(connection);
  const bool head = std::strcmp(request->request_method, "HEAD") == 0;
  if (!head && std::strcmp(request->request_method, "GET") != 0) {
    mg_send_http_error(connection, 405, "%s", "only GET and HEAD\n");
    return 405;
  }
  const std::string body = metrics->Render();
  mg_printf(connection,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            body.size());
  if (!head) mg_write(connection, body.data(), body.size());
  return 200;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, const Metrics* metrics) {
  InitCivetweb();
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer(metrics));
  const char* options[] = {"listening_ports", address.c_str(),
                           "num_threads", "2",
                           "request_timeout_ms", "10000",
                           nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  // civetweb logs a failed bind through log_message; the error below
  // says it instead.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  server->context_ = mg_start(&callbacks, nullptr, options);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address,
                     " (the address is malformed or in use)"));
  }
  mg_set_request_handler(server->context_, "/metrics$", ServeMetrics,
                         const_cast<Metrics*>(metrics));
  mg_server_port ports[1];
  if (mg_get_server_ports(server->context_, 1, ports) == 1) {
    server->port_ = ports[0].port;
  }
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

}  // namespace recurrent::service
