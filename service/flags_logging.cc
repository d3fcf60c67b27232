// recurrentd flags: logging.
// Declared in service/flags.h; `recurrentd --help` lists them under
// "recurrentd/logging".
#include <string>

#include "absl/flags/flag.h"
#include "service/flags.h"

ABSL_FLAG(std::string, log_format, "text",
          "Log lines on stderr as \"text\" (time, level, message, key=value "
          "fields) or \"json\" (one JSON object per line, for log "
          "shippers).");
ABSL_FLAG(bool, log_requests, false,
          "Log one line per call: method, peer, API key name (never the "
          "key), status code, duration and message sizes.");
