// Logging: one line per event on stderr, with its time (UTC, milliseconds),
// level, message and fields, as text or as JSON lines for log shippers
// (recurrentd --log_format), written through spdlog (Debian's
// libspdlog-dev).
//
//   log::Warning("the database cannot serve; NOT_SERVING",
//                {{"error", status.ToString()}});
//
// text: 2026-11-29T07:08:13.123Z warning the database cannot serve; NOT_SERVING error="…"
// json: {"time":"2026-11-29T07:08:13.123Z","level":"warning","msg":"the database …","error":"…"}
//
// Thread-safe; lines are never interleaved.
#ifndef RECURRENT_COMMON_LOG_H_
#define RECURRENT_COMMON_LOG_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace recurrent::log {

enum class Format { kText, kJson };

// The format of the lines from now on (text until called).
void SetFormat(Format format);

// A field of a line: its key (a constant, lower_snake_case) and its value.
struct Field {
  absl::string_view key;
  std::string value;
};

void Info(absl::string_view message, std::initializer_list<Field> fields = {});
void Warning(absl::string_view message,
             std::initializer_list<Field> fields = {});
void Error(absl::string_view message, std::initializer_list<Field> fields = {});

}  // namespace recurrent::log

#endif  // RECURRENT_COMMON_LOG_H_
