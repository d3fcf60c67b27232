// recurrentd flags: the database.
// Declared in service/flags.h; `recurrentd --help` lists them under
// "recurrentd/storage".
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "service/flags.h"
#include "service/server.h"

ABSL_FLAG(std::string, db, "./data/recurrent.db",
          "The database: a SQLite file (its folder is created if missing), "
          "or a PostgreSQL connection URI, "
          "postgresql://user[:password]@host[:port]/dbname[?options].");
ABSL_FLAG(int32_t, pg_pool_size, 16,
          "PostgreSQL: connections this replica opens at most (reads and "
          "writes; a reprocess opens one more for its scan).");
ABSL_FLAG(int32_t, reader_connections, 8,
          "SQLite read connections in the pool.");
ABSL_FLAG(bool, read_only, false,
          "Serve reads only, never writing the database (no migration, no "
          "re-evaluation); every write fails with FAILED_PRECONDITION. "
          "SQLite: the file is opened read-only. PostgreSQL: every session "
          "is read-only, for a role with SELECT grants only or a hot "
          "standby; a writable replica must have migrated the schema.");
ABSL_FLAG(bool, create_db, true,
          "Create --db if it does not exist (the ready line then says so); "
          "false refuses to start on a missing file, for production units.");
ABSL_FLAG(absl::Duration, change_log_retention,
          recurrent::service::ServerOptions().change_log_retention,
          "How long change-log rows are kept (older ones are pruned every "
          "minute).");
ABSL_FLAG(absl::Duration, change_log_poll_interval,
          recurrent::service::ServerOptions().change_log_poll_interval,
          "How often the change log is read for the writes of other "
          "processes on the same database (the GetCustomer cache follows "
          "them within this bound).");
ABSL_FLAG(absl::Duration, change_log_max_lag,
          recurrent::service::ServerOptions().change_log_max_lag,
          "GetCustomer answers from its cache only while the change log has "
          "been read to its end within this long; further behind (the "
          "database unreachable, reads of the log failing) it reads the "
          "database. Longer than --change_log_poll_interval.");
ABSL_FLAG(int64_t, max_page_count, 0,
          "Testing: cap the database at this many pages (PRAGMA "
          "max_page_count) to simulate a full disk; 0 means no cap.");
