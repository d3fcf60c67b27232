// Command-line parsing for recurrentctl: the description of a command (its
// flags, positional arguments, help text) and a small parser for
// "--flag=value", "--flag value", boolean "--flag" and positional arguments.
//
// Each subcommand has its own flag set; nothing is registered globally.
#ifndef RECURRENT_CLIENTS_CLI_ARGS_H_
#define RECURRENT_CLIENTS_CLI_ARGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recurrent::cli {

// One flag a command accepts.
struct FlagSpec {
  std::string name;        // without the leading "--", e.g. "as-of"
  std::string value_name;  // e.g. "DATE"; empty for a boolean flag
  std::string help;        // one line
  bool is_bool() const { return value_name.empty(); }
};

// The flags and positional arguments given to one command.
class ParsedArgs {
 public:
  // True when the flag was given (even with an empty value).
  bool Has(absl::string_view name) const;
  // The flag's value, or `fallback` when it was not given.
  std::string Get(absl::string_view name,
                  absl::string_view fallback = "") const;
  // For a boolean flag: true when given as "--flag" or "--flag=true".
  bool GetBool(absl::string_view name) const;

  const std::vector<std::string>& positional() const { return positional_; }
  const std::map<std::string, std::string, std::less<>>& flags() const {
    return flags_;
  }

  void SetFlag(const std::string& name, const std::string& value) {
    flags_[name] = value;
  }
  void AddPositional(std::string arg) { positional_.push_back(std::move(arg)); }

 private:
  std::map<std::string, std::string, std::less<>> flags_;
  std::vector<std::string> positional_;
};

// Parses `args` against `specs`. Unknown flags, a missing value and a bad
// boolean are INVALID_ARGUMENT with a message meant for the user. A token
// "--" ends the flags; "-" alone is a positional argument (stdin). "-h" is
// read as "--help" and "-o X" as "--output X" when those flags are in
// `specs`. When `stop_at_positional` is set, parsing stops at the first
// positional argument and `*consumed` says how many tokens were read.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs,
                                     bool stop_at_positional = false,
                                     size_t* consumed = nullptr);

// Flag values converted for the request builders; each returns
// INVALID_ARGUMENT naming the flag when the value does not parse.
absl::StatusOr<int> ParseIntFlag(absl::string_view flag,
                                 absl::string_view value);
absl::StatusOr<int64_t> ParseInt64Flag(absl::string_view flag,
                                       absl::string_view value);

// "--name" followed by the value name, as shown in help: "--as-of=DATE".
std::string FlagSynopsis(const FlagSpec& spec);

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_ARGS_H_
