// recurrentctl: the command-line client of Recurrent.
//
//   recurrentctl [GLOBAL FLAGS] GROUP VERB [ARGS] [FLAGS]
//
// Finds the command, parses its flags (each command has its own set, plus
// the global --addr, --timeout, --output, --api-key, --tls-*, --help),
// checks the positional arguments, and runs it. Exit codes are documented in
// RootHelp() and clients/cli/README.md.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/cli/args.h"
#include "clients/cli/command.h"
#include "common/clock.h"

namespace recurrent::cli {
namespace {

constexpr char kDefaultAddr[] = "127.0.0.1:50051";

std::vector<FlagSpec> GlobalFlags() {
  return {{"addr", "HOST:PORT",
           "Server address (default: $RECURRENT_ADDR, else 127.0.0.1:50051)."},
          {"timeout", "DURATION",
           "Deadline of each call, e.g. 10s or 500ms (default 30s; 10m for "
           "settings set, settings reprocess and sources delete)."},
          {"output", "FORMAT",
           "table (default) or json (protobuf JSON mapping; a list is one "
           "document). -o for short."},
          {"api-key", "KEY",
           "API key sent with every call (default: $RECURRENT_API_KEY)."},
          {"tls-ca", "FILE",
           "Connect with TLS, trusting the CA certificate(s) in FILE (PEM)."},
          {"tls-cert", "FILE",
           "Client certificate (PEM) for mutual TLS; implies TLS."},
          {"tls-key", "FILE", "Private key (PEM) of --tls-cert."},
          {"help", "", "Show help. -h for short."}};
}

struct Group {
  const char* name;
  const char* summary;
};

constexpr Group kGroups[] = {
    {"sources", "Data sources: the billing systems customers come from."},
    {"settings", "Past-due handling of a data source: keep or auto-churn."},
    {"customers", "Customers, their statuses, tags and merges."},
    {"invoices", "Invoices and their payments."},
    {"subscriptions", "Subscriptions with their statuses at any instant."},
    {"events", "Subscription events (started, past due, cancelled, ...)."},
    {"keys", "API keys and their roles (admin only)."},
    {"changes", "The change feed: events and status changes as they commit."},
    {"mrr", "Monthly recurring revenue: totals, movements and a series."},
};

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto* list :
       {SourceCommands, CustomerCommands, InvoiceCommands, SubscriptionCommands,
        KeyCommands, ChangeCommands, MetricsCommands}) {
    for (Command& command : list()) all.push_back(std::move(command));
  }
  return all;
}

std::string FlagLines(const std::vector<FlagSpec>& flags) {
  size_t width = 0;
  for (const FlagSpec& flag : flags) {
    width = std::max(width, FlagSynopsis(flag).size());
  }
  std::string text;
  for (const FlagSpec& flag : flags) {
    absl::StrAppendFormat(&text, "  %-*s  %s\n", static_cast<int>(width),
                          FlagSynopsis(flag), flag.help);
  }
  return text;
}

constexpr char kExitCodes[] =
    "Exit codes:\n"
    "  0  success\n"
    "  1  local error: the --file cannot be read or is not valid JSON\n"
    "  2  usage error: unknown command or flag, bad value, wrong arguments "
    "(nothing was sent)\n"
    "  3  INVALID_ARGUMENT or OUT_OF_RANGE: the server refused the request; "
    "the message names the field\n"
    "  4  NOT_FOUND\n"
    "  5  ALREADY_EXISTS\n"
    "  6  FAILED_PRECONDITION\n"
    "  7  worth retrying: the server's error carries a RetryInfo (overloaded,\n"
    "     shutting down, database busy or unreachable); or the server was not\n"
    "     reached (UNAVAILABLE or DEADLINE_EXCEEDED without a reason)\n"
    "  8  any other gRPC error (INTERNAL, UNIMPLEMENTED, ...; also UNAVAILABLE\n"
    "     or RESOURCE_EXHAUSTED that a retry cannot cure, e.g. DISK_FULL)\n"
    "  9  UNAUTHENTICATED or PERMISSION_DENIED: no, unknown or revoked API "
    "key, or its role is too low\n"
    "Errors are one line on stderr: \"recurrentctl: CODE: message (reason "
    "REASON;\nretry after 1s)\"; with --output=json, one JSON object "
    "{\"error\": {...}} instead.\n";

std::string RootHelp(const std::vector<Command>& commands) {
  std::string text =
      "recurrentctl: the command-line client of Recurrent, the "
      "subscription-status service.\n\n"
      "Usage:\n"
      "  recurrentctl COMMAND [ARGS] [FLAGS]\n"
      "  recurrentctl COMMAND --help     (or: recurrentctl help COMMAND)\n\n"
      "Commands:\n";
  size_t width = 0;
  for (const Command& command : commands) {
    width = std::max(width, command.Path().size() + command.args.size() + 1);
  }
  for (const Group& group : kGroups) {
    absl::StrAppend(&text, "\n ", group.summary, "\n");
    for (const Command& command : commands) {
      if (command.group != group.name) continue;
      absl::StrAppendFormat(&text, "  %-*s  %s\n", static_cast<int>(width),
                            absl::StrCat(command.Path(), " ", command.args),
                            command.summary);
    }
  }
  absl::StrAppend(&text, "\nGlobal flags (before or after the command):\n",
                  FlagLines(GlobalFlags()),
                  "\nFlags take --name=value or --name value. Dates: "
                  "2025-03-01 (midnight UTC), an RFC 3339\ntime "
                  "(2025-03-01T10:30:00Z) or now. List commands follow "
                  "every page; --limit=N stops early.\n\n",
                  kExitCodes,
                  "\nExamples:\n"
                  "  export RECURRENT_ADDR=127.0.0.1:50051\n"
                  "  recurrentctl sources create --name=Stripe "
                  "--system=stripe\n"
                  "  recurrentctl settings set ds_… --auto-churn-after=14 "
                  "--dry-run\n"
                  "  recurrentctl customers list --status=past-due "
                  "--source=ds_…\n"
                  "  recurrentctl invoices import cus_… --file=invoices.json\n"
                  "  recurrentctl events cus_… --as-of=2025-06-01 -o json\n"
                  "  recurrentctl mrr series --start=2025-01-01 "
                  "--end=2026-01-01 --interval=month --chart\n");
  return text;
}

std::string GroupHelp(const Group& group,
                      const std::vector<Command>& commands) {
  std::string text =
      absl::StrCat(group.summary, "\n\nUsage:\n  recurrentctl ", group.name,
                   " COMMAND [ARGS] [FLAGS]\n\n", "Commands:\n");
  for (const Command& command : commands) {
    if (command.group != group.name) continue;
    absl::StrAppendFormat(&text, "  %-40s %s\n",
                          absl::StrCat(command.Path(), " ", command.args),
                          command.summary);
  }
  absl::StrAppend(&text, "\nRun 'recurrentctl ", group.name,
                  " COMMAND --help' for a command's flags.\n");
  return text;
}

std::string CommandHelp(const Command& command) {
  std::string text = absl::StrCat(command.summary, "\n");
  if (!command.description.empty()) {
    absl::StrAppend(&text, "\n", command.description, "\n");
  }
  absl::StrAppend(&text, "\nUsage:\n  recurrentctl ", command.Path());
  if (!command.args.empty()) absl::StrAppend(&text, " ", command.args);
  absl::StrAppend(&text, command.flags.empty() ? "\n" : " [FLAGS]\n");
  if (!command.flags.empty()) {
    absl::StrAppend(&text, "\nFlags:\n", FlagLines(command.flags));
  }
  absl::StrAppend(&text, "\nGlobal flags:\n", FlagLines(GlobalFlags()));
  if (!command.examples.empty()) {
    absl::StrAppend(&text, "\nExamples:\n  ",
                    absl::StrJoin(command.examples, "\n  "), "\n");
  }
  absl::StrAppend(&text,
                  "\nExit codes: 0 ok, 1 local error, 2 usage, "
                  "3 INVALID_ARGUMENT, 4 NOT_FOUND, 5 ALREADY_EXISTS,\n"
                  "6 FAILED_PRECONDITION, 7 worth retrying, 8 other, "
                  "9 UNAUTHENTICATED or\nPERMISSION_DENIED "
                  "(see recurrentctl --help).\n");
  return text;
}

int Usage(const std::string& message, const std::string& help_path) {
  std::fprintf(stderr, "recurrentctl: %s (see 'recurrentctl %s--help')\n",
               message.c_str(),
               help_path.empty() ? "" : (help_path + " ").c_str());
  return kExitUsage;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  if (in) contents << in.rdbuf();
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return contents.str();
}

// Resolves --addr/RECURRENT_ADDR, --timeout, --output and
// --api-key/RECURRENT_API_KEY.
absl::StatusOr<GlobalOptions> ReadGlobalOptions(const ParsedArgs& args) {
  GlobalOptions options;
  const char* env_addr = std::getenv("RECURRENT_ADDR");
  options.addr =
      args.Get("addr", env_addr != nullptr && *env_addr != '\0' ? env_addr
                                                                : kDefaultAddr);
  if (options.addr.empty()) {
    return absl::InvalidArgumentError("--addr must not be empty");
  }
  if (args.Has("timeout")) {
    const std::string value = args.Get("timeout");
    int seconds = 0;
    absl::Duration timeout;
    if (absl::SimpleAtoi(value, &seconds)) {
      timeout = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(value, &timeout)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--timeout must be a duration such as 10s or 500ms, got \"", value,
          "\""));
    }
    if (timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("--timeout must be positive");
    }
    options.timeout = timeout;
  }
  const char* env_key = std::getenv("RECURRENT_API_KEY");
  options.api_key = args.Get("api-key", env_key != nullptr ? env_key : "");
  if (args.Has("api-key") && options.api_key.empty()) {
    return absl::InvalidArgumentError("--api-key must not be empty");
  }
  if (args.Has("tls-cert") != args.Has("tls-key")) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  const std::string output = args.Get("output", "table");
  if (output == "json") {
    options.output = OutputFormat::kJson;
  } else if (output != "table") {
    return absl::InvalidArgumentError(
        absl::StrCat("--output must be table or json, got \"", output, "\""));
  }
  return options;
}

const Group* FindGroup(const std::string& name) {
  for (const Group& group : kGroups) {
    if (name == group.name) return &group;
  }
  return nullptr;
}

const Command* FindCommand(const std::vector<Command>& commands,
                           const std::string& group, const std::string& verb) {
  for (const Command& command : commands) {
    if (command.group == group && command.verb == verb) return &command;
  }
  return nullptr;
}

int Run(const std::vector<std::string>& argv) {
  const std::vector<Command> commands = AllCommands();
  size_t consumed = 0;
  absl::StatusOr<ParsedArgs> leading =
      ParseArgs(argv, GlobalFlags(), /*stop_at_positional=*/true, &consumed);
  if (!leading.ok()) return Usage(std::string(leading.status().message()), "");
  std::vector<std::string> rest(argv.begin() + consumed, argv.end());
  bool help = leading->GetBool("help");
  if (!rest.empty() && rest[0] == "help") {  // "help GROUP [VERB]"
    help = true;
    rest.erase(rest.begin());
  }
  if (rest.empty()) {
    if (help) {
      std::fputs(RootHelp(commands).c_str(), stdout);
      return kExitOk;
    }
    return Usage("missing command, e.g. \"customers list\"", "");
  }
  const Group* group = FindGroup(rest[0]);
  if (group == nullptr) {
    return Usage(absl::StrCat("unknown command \"", rest[0], "\""), "");
  }
  const Command* command = nullptr;
  std::vector<std::string> tail;
  if (rest.size() > 1 &&
      (command = FindCommand(commands, group->name, rest[1])) != nullptr) {
    tail.assign(rest.begin() + 2, rest.end());
  } else if ((command = FindCommand(commands, group->name, "")) != nullptr) {
    tail.assign(rest.begin() + 1, rest.end());
  } else if (rest.size() == 1 || help || rest[1] == "--help" ||
             rest[1] == "-h") {
    if (help || rest.size() > 1) {
      std::fputs(GroupHelp(*group, commands).c_str(), stdout);
      return kExitOk;
    }
    return Usage(absl::StrCat("missing subcommand for \"", group->name, "\""),
                 group->name);
  } else {
    return Usage(
        absl::StrCat("unknown command \"", group->name, " ", rest[1], "\""),
        group->name);
  }

  std::vector<FlagSpec> flags = command->flags;
  for (FlagSpec& flag : GlobalFlags()) flags.push_back(flag);
  absl::StatusOr<ParsedArgs> args = ParseArgs(tail, flags);
  if (!args.ok()) {
    return Usage(std::string(args.status().message()), command->Path());
  }
  for (const auto& [name, value] : leading->flags()) {
    if (!args->Has(name)) args->SetFlag(name, value);
  }
  if (help || args->GetBool("help")) {
    std::fputs(CommandHelp(*command).c_str(), stdout);
    return kExitOk;
  }
  const size_t count = args->positional().size();
  if (count < command->min_args || count > command->max_args) {
    std::string expected =
        command->args.empty() ? "no arguments" : command->args;
    std::string message =
        count < command->min_args
            ? absl::StrCat("missing argument: expected ", expected)
            : absl::StrCat("unexpected argument \"",
                           args->positional()[command->max_args],
                           "\": expected ", expected);
    return Usage(message, command->Path());
  }
  absl::StatusOr<GlobalOptions> options = ReadGlobalOptions(*args);
  if (!options.ok()) {
    return Usage(std::string(options.status().message()), command->Path());
  }
  if (args->Has("tls-ca") || args->Has("tls-cert")) {
    TlsFiles tls;
    for (auto [flag, field] :
         {std::pair{"tls-ca", &tls.ca}, std::pair{"tls-cert", &tls.cert},
          std::pair{"tls-key", &tls.key}}) {
      if (!args->Has(flag)) continue;
      absl::StatusOr<std::string> contents = ReadFile(args->Get(flag));
      if (!contents.ok()) {
        std::fprintf(stderr, "recurrentctl: --%s: %s\n", flag,
                     std::string(contents.status().message()).c_str());
        return kExitLocalError;
      }
      *field = *std::move(contents);
    }
    options->tls = std::move(tls);
  }
  const common::RealClock clock;
  Session session(*std::move(options), command->Path(), clock);
  return command->run(session, *args);
}

}  // namespace
}  // namespace recurrent::cli

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return recurrent::cli::Run(args);
}
