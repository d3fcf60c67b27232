// recurrentd flags: threads, caching, re-evaluation and
// per-customer limits.
// Declared in service/flags.h; `recurrentd --help` lists them under
// "recurrentd/work".
#include <cstdint>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "service/flags.h"
#include "service/server.h"

ABSL_FLAG(int32_t, worker_threads,
          recurrent::service::ServerOptions().worker_threads,
          "Threads running read calls (and their database reads).");
ABSL_FLAG(int32_t, write_threads, 0,
          "Threads that run write calls (writer and admin roles); reads "
          "never queue behind them. 0: 64 on SQLite with --group_commit "
          "(the writes running at once share a transaction, so this bounds "
          "a group), 4 on PostgreSQL, otherwise 2.");
ABSL_FLAG(bool, group_commit, true,
          "SQLite: concurrent small writes (imports, payments, "
          "cancellations, customer edits) share one transaction and one "
          "commit (fsync), each still all-or-nothing and acknowledged "
          "after the shared commit; false: one transaction per write. "
          "PostgreSQL groups concurrent commits itself: there writes always "
          "run in transactions of their own.");
ABSL_FLAG(absl::Duration, reevaluate_interval,
          recurrent::service::ServerOptions().reevaluate_interval,
          "How often stored statuses are brought up to date as time passes.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long in-flight calls may run after SIGINT/SIGTERM.");
ABSL_FLAG(int32_t, customer_cache_mb,
          static_cast<int32_t>(
              recurrent::service::ServerOptions().customer_cache_bytes >> 20),
          "Memory for GetCustomer answers of unchanged customers (MiB; 0 "
          "turns the cache off). About 0.4 KB per customer.");
ABSL_FLAG(int32_t, max_invoices_per_customer,
          recurrent::service::ServerOptions().store.max_invoices_per_customer,
          "An import or merge that would leave one customer with more "
          "invoices fails with FAILED_PRECONDITION, storing nothing.");
ABSL_FLAG(
    int32_t, max_subscriptions_per_customer,
    recurrent::service::ServerOptions().store.max_subscriptions_per_customer,
    "An import or merge that would leave one customer with more "
    "subscriptions fails with FAILED_PRECONDITION, storing nothing.");
ABSL_FLAG(bool, log_reevaluations, false,
          "Log each customer the re-evaluator re-evaluated as time passed, "
          "with the transition time it was due at (after the commit).");
