// recurrentd flags: listening, TLS and connection limits.
// Declared in service/flags.h; `recurrentd --help` lists them under
// "recurrentd/network".
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "service/flags.h"
#include "service/server.h"

ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics at http://HOST:PORT/metrics (e.g. "
          "127.0.0.1:9464; port 0 picks a free one); empty: off.");
ABSL_FLAG(std::string, listen,
          recurrent::service::ServerOptions().listen_address,
          "Address to serve gRPC on, host:port (port 0 picks a free one).");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM server certificate (chain): serve TLS instead of plaintext. "
          "Needs --tls_key.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificate(s): require client certificates signed by one "
          "of them (mutual TLS). Needs --tls_cert.");
ABSL_FLAG(bool, allow_unauthenticated, false,
          "While no API key exists, serve without authentication even on an "
          "address that is not loopback.");
ABSL_FLAG(int32_t, max_message_bytes,
          recurrent::service::ServerOptions().max_message_bytes,
          "Largest request or response message, in bytes; larger requests "
          "fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, handshake_timeout,
          recurrent::service::ServerOptions().handshake_timeout,
          "Close a connection that has not completed its HTTP/2 (and TLS) "
          "handshake by then, so idle half-open connections cannot pile up.");
ABSL_FLAG(int32_t, max_concurrent_streams,
          recurrent::service::ServerOptions().max_concurrent_streams,
          "Calls one connection may have open at once (HTTP/2 streams); its "
          "client waits for one to end before starting another. Clients that "
          "need more at once open more connections.");
ABSL_FLAG(
    int32_t, max_connections,
    static_cast<int32_t>(recurrent::service::ServerOptions().max_connections),
    "Open client connections beyond this are closed on arrival (0: no "
    "cap). A public endpoint belongs behind a proxy.");
ABSL_FLAG(int32_t, max_calls_in_flight,
          static_cast<int32_t>(
              recurrent::service::ServerOptions().max_calls_in_flight),
          "Calls the server holds at once: queued, running, or with a "
          "response its client has not read yet. Beyond it calls fail with "
          "RESOURCE_EXHAUSTED, except a connection's first two, or four while "
          "it has no call left unanswered (0: no bound).");
ABSL_FLAG(int32_t, grpc_memory_mb,
          static_cast<int32_t>(
              recurrent::service::ServerOptions().grpc_memory_bytes >> 20),
          "Memory gRPC may use for connections and calls (MiB; its resource "
          "quota). Under pressure it shrinks buffers and refuses new calls "
          "(0: no quota).");
