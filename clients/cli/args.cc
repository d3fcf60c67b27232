#include "clients/cli/args.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace recurrent::cli {
namespace {

const FlagSpec* FindSpec(const std::vector<FlagSpec>& specs,
                         absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool HasSpec(const std::vector<FlagSpec>& specs, absl::string_view name) {
  return FindSpec(specs, name) != nullptr;
}

}  // namespace

bool ParsedArgs::Has(absl::string_view name) const {
  return flags_.find(name) != flags_.end();
}

std::string ParsedArgs::Get(absl::string_view name,
                            absl::string_view fallback) const {
  auto it = flags_.find(name);
  return it == flags_.end() ? std::string(fallback) : it->second;
}

bool ParsedArgs::GetBool(absl::string_view name) const {
  auto it = flags_.find(name);
  return it != flags_.end() && it->second == "true";
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs,
                                     bool stop_at_positional,
                                     size_t* consumed) {
  ParsedArgs parsed;
  size_t i = 0;
  bool flags_ended = false;
  for (; i < args.size(); ++i) {
    std::string token = args[i];
    if (flags_ended || token == "-" || token.empty() || token[0] != '-') {
      if (stop_at_positional) break;
      parsed.AddPositional(token);
      continue;
    }
    if (token == "--") {
      if (stop_at_positional) {
        ++i;
        break;
      }
      flags_ended = true;
      continue;
    }
    // Short forms.
    if (token == "-h" && HasSpec(specs, "help")) token = "--help";
    if (token == "-o" && HasSpec(specs, "output")) token = "--output";
    if (absl::StartsWith(token, "-o") && token.size() > 2 && token[2] != '-' &&
        HasSpec(specs, "output")) {
      token = absl::StrCat("--output=", token.substr(2));
    }
    if (!absl::StartsWith(token, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag ", token, " (flags are --name=value)"));
    }
    absl::string_view body = absl::StripPrefix(token, "--");
    std::string name;
    std::optional<std::string> value;
    size_t eq = body.find('=');
    if (eq == absl::string_view::npos) {
      name = std::string(body);
    } else {
      name = std::string(body.substr(0, eq));
      value = std::string(body.substr(eq + 1));
    }
    const FlagSpec* spec = FindSpec(specs, name);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (spec->is_bool()) {
      if (!value.has_value()) {
        value = "true";
      } else {
        std::string lower = absl::AsciiStrToLower(*value);
        if (lower == "true" || lower == "1" || lower == "yes") {
          value = "true";
        } else if (lower == "false" || lower == "0" || lower == "no") {
          value = "false";
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              "--", name, " takes no value (or true/false), got \"", *value,
              "\""));
        }
      }
    } else if (!value.has_value()) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", name, " needs a value: --", name, "=",
                         spec->value_name));
      }
      value = args[++i];
    }
    parsed.SetFlag(name, *value);
  }
  if (consumed != nullptr) *consumed = i;
  return parsed;
}

absl::StatusOr<int64_t> ParseInt64Flag(absl::string_view flag,
                                       absl::string_view value) {
  int64_t result = 0;
  if (!absl::SimpleAtoi(value, &result)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " must be a whole number, got \"", value, "\""));
  }
  return result;
}

absl::StatusOr<int> ParseIntFlag(absl::string_view flag,
                                 absl::string_view value) {
  int result = 0;
  if (!absl::SimpleAtoi(value, &result)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, " must be a whole number, got \"", value, "\""));
  }
  return result;
}

std::string FlagSynopsis(const FlagSpec& spec) {
  if (spec.is_bool()) return absl::StrCat("--", spec.name);
  return absl::StrCat("--", spec.name, "=", spec.value_name);
}

}  // namespace recurrent::cli
