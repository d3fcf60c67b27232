#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace recurrent::log {
namespace {

std::atomic<Format> format{Format::kText};

// The one logger, on stderr; spdlog gives the time and level.
spdlog::logger& Logger() {
  static spdlog::logger* const logger = [] {
    auto* created = new spdlog::logger(
        "recurrent", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_level(spdlog::level::info);
    created->flush_on(spdlog::level::info);
    return created;
  }();
  return *logger;
}

void ApplyPattern(Format to) {
  Logger().set_pattern(
      to == Format::kJson
          ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})"
          : "%Y-%m-%dT%H:%M:%S.%eZ %l %v",
      spdlog::pattern_time_type::utc);
}

// `text` as the inside of a JSON string.
std::string JsonEscaped(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// A text field's value: bare if it is one plain word, else quoted.
std::string TextValue(absl::string_view value) {
  bool plain = !value.empty();
  for (const char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x20) {
      plain = false;
      break;
    }
  }
  if (plain) return std::string(value);
  return absl::StrCat("\"", JsonEscaped(value), "\"");
}

void Write(spdlog::level::level_enum level, absl::string_view message,
           std::initializer_list<Field> fields) {
  static const bool initialized = [] {
    ApplyPattern(format.load());
    return true;
  }();
  (void)initialized;
  std::string line;
  if (format.load() == Format::kJson) {
    absl::StrAppend(&line, "\"msg\":\"", JsonEscaped(message), "\"");
    for (const Field& field : fields) {
      absl::StrAppend(&line, ",\"", field.key, "\":\"",
                      JsonEscaped(field.value), "\"");
    }
  } else {
    line = std::string(message);
    for (const Field& field : fields) {
      absl::StrAppend(&line, " ", field.key, "=", TextValue(field.value));
    }
  }
  Logger().log(level, "{}", line);
}

}  // namespace

void SetFormat(Format to) {
  format.store(to);
  ApplyPattern(to);
}

void Info(absl::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::info, message, fields);
}
void Warning(absl::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::warn, message, fields);
}
void Error(absl::string_view message, std::initializer_list<Field> fields) {
  Write(spdlog::level::err, message, fields);
}

}  // namespace recurrent::log
