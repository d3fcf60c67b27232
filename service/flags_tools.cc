// recurrentd flags: one-off tasks, which run and exit without
// serving.
// Declared in service/flags.h; `recurrentd --help` lists them under
// "recurrentd/tools".
#include <string>

#include "absl/flags/flag.h"
#include "service/flags.h"

ABSL_FLAG(std::string, backup_to, "",
          "Copy --db to this file with SQLite's online backup (safe while a "
          "server serves --db), check it, and exit without serving.");
ABSL_FLAG(std::string, create_api_key, "",
          "NAME:ROLE (ROLE reader, writer or admin): create an API key in "
          "--db, print it once on stdout, and exit without serving.");
