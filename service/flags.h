// The flags of recurrentd, by group: each group is defined in a file of
// its own (service/flags_<group>.cc), which is how `recurrentd --help`
// lists them in groups. Every flag may also come from a file of flags
// (`--flagfile=recurrentd.flags`, one `--name=value` per line; see
// docs/operations.md, "Flags").
#ifndef RECURRENT_SERVICE_FLAGS_H_
#define RECURRENT_SERVICE_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

// The database (service/flags_storage.cc).
ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(int32_t, pg_pool_size);
ABSL_DECLARE_FLAG(int32_t, reader_connections);
ABSL_DECLARE_FLAG(bool, read_only);
ABSL_DECLARE_FLAG(bool, create_db);
ABSL_DECLARE_FLAG(absl::Duration, change_log_retention);
ABSL_DECLARE_FLAG(absl::Duration, change_log_poll_interval);
ABSL_DECLARE_FLAG(absl::Duration, change_log_max_lag);
ABSL_DECLARE_FLAG(int64_t, max_page_count);

// Listening, TLS and connection limits (service/flags_network.cc).
ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, metrics_listen);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_client_ca);
ABSL_DECLARE_FLAG(bool, allow_unauthenticated);
ABSL_DECLARE_FLAG(int32_t, max_message_bytes);
ABSL_DECLARE_FLAG(absl::Duration, handshake_timeout);
ABSL_DECLARE_FLAG(int32_t, max_concurrent_streams);
ABSL_DECLARE_FLAG(int32_t, max_connections);
ABSL_DECLARE_FLAG(int32_t, max_calls_in_flight);
ABSL_DECLARE_FLAG(int32_t, grpc_memory_mb);

// Threads, caching, re-evaluation and per-customer limits (service/flags_work.cc).
ABSL_DECLARE_FLAG(int32_t, worker_threads);
ABSL_DECLARE_FLAG(int32_t, write_threads);
ABSL_DECLARE_FLAG(bool, group_commit);
ABSL_DECLARE_FLAG(absl::Duration, reevaluate_interval);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_grace);
ABSL_DECLARE_FLAG(int32_t, customer_cache_mb);
ABSL_DECLARE_FLAG(int32_t, max_invoices_per_customer);
ABSL_DECLARE_FLAG(int32_t, max_subscriptions_per_customer);
ABSL_DECLARE_FLAG(bool, log_reevaluations);

// Logging (service/flags_logging.cc).
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(bool, log_requests);

// One-off tasks: run, then exit without serving (service/flags_tools.cc).
ABSL_DECLARE_FLAG(std::string, backup_to);
ABSL_DECLARE_FLAG(std::string, create_api_key);

namespace recurrent::service {

// Makes `--help` list the flags above by group (the groups' files shown as
// "recurrentd/<group>") and `--version` print the version and the git
// commit of this build. Call before absl::ParseCommandLine().
void SetFlagsUsage();

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_FLAGS_H_
