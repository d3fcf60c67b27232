// MetricsHttpServer: serves Metrics::Render() as GET /metrics over plain
// HTTP, for Prometheus to scrape (--metrics_listen; docs/operations.md,
// "Metrics"). The HTTP server is civetweb (Debian's libcivetweb-dev, the
// embedded server prometheus-cpp itself uses), on threads of its own: a
// scrape never runs on gRPC's threads. Every other path is 404.
//
//   RECURRENT_ASSIGN_OR_RETURN(auto http,
//       MetricsHttpServer::Start("127.0.0.1:9464", &metrics));
#ifndef RECURRENT_SERVICE_METRICS_HTTP_H_
#define RECURRENT_SERVICE_METRICS_HTTP_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "service/metrics.h"

struct mg_context;

namespace recurrent::service {

class MetricsHttpServer {
 public:
  // Listens on `address` ("host:port"; port 0 picks a free one) and serves
  // `metrics` (not owned; must outlive the server). kUnavailable if the
  // address cannot be used.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      const std::string& address, const Metrics* metrics);

  // Stops serving (waits for a scrape in progress).
  ~MetricsHttpServer();

  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }

 private:
  explicit MetricsHttpServer(const Metrics* metrics) : metrics_(metrics) {}

  const Metrics* const metrics_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_METRICS_HTTP_H_
