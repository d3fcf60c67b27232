// The shape of a recurrentctl subcommand, the session a command runs in, and
// the exit codes. Commands are plain data plus a run function; main.cc
// dispatches "recurrentctl GROUP VERB ARGS..." to them.
#ifndef RECURRENT_CLIENTS_CLI_COMMAND_H_
#define RECURRENT_CLIENTS_CLI_COMMAND_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cli/args.h"
#include "common/clock.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "recurrent/v1/api_key.grpc.pb.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "recurrent/v1/customer.grpc.pb.h"
#include "recurrent/v1/invoice.grpc.pb.h"
#include "recurrent/v1/metrics.grpc.pb.h"
#include "recurrent/v1/source_settings.grpc.pb.h"

namespace recurrent::cli {

// Exit codes, documented in `recurrentctl --help` and clients/cli/README.md.
inline constexpr int kExitOk = 0;
// A local failure: a file that cannot be read or is not valid JSON.
inline constexpr int kExitLocalError = 1;
// Bad command, flag or argument; nothing was sent.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInvalidArgument = 3;  // also OUT_OF_RANGE
inline constexpr int kExitNotFound = 4;
inline constexpr int kExitAlreadyExists = 5;
inline constexpr int kExitFailedPrecondition = 6;
// Worth retrying: the server's error details hold a google.rpc.RetryInfo
// (server overloaded or shutting down, database busy or unreachable, ...);
// or, for an error that did not come from a Recurrent server (no
// google.rpc.ErrorInfo: server unreachable, --timeout, an older server),
// UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED or ABORTED.
inline constexpr int kExitUnavailable = 7;
// Any other gRPC error (INTERNAL, UNIMPLEMENTED, UNKNOWN, ...), including an
// UNAVAILABLE or RESOURCE_EXHAUSTED from the server without RetryInfo
// (DISK_FULL, DATABASE_REPLACED, COMMIT_OUTCOME_UNKNOWN, TAG_LIMIT, ...).
inline constexpr int kExitOtherError = 8;
// UNAUTHENTICATED (no, unknown or revoked API key) or PERMISSION_DENIED (the
// key's role is too low).
inline constexpr int kExitAuth = 9;

// What the details of a failed call (a google.rpc.Status in the
// "grpc-status-details-bin" trailer) say; googleapis' names and numbers, so
// any Recurrent server version's details decode.
struct ErrorDetails {
  // google.rpc.ErrorInfo; has_info false when the details hold none.
  bool has_info = false;
  std::string reason;  // a recurrent.v1.ErrorReason name, e.g. "OVERLOADED"
  std::string domain;  // "recurrent"
  std::map<std::string, std::string> metadata;
  // google.rpc.RetryInfo's retry_delay, when the details hold one.
  std::optional<absl::Duration> retry_delay;
  // google.rpc.BadRequest: field, description.
  std::vector<std::pair<std::string, std::string>> field_violations;
};

// Decodes the details of `status`; empty when it has none (or they do not
// parse).
ErrorDetails DecodeErrorDetails(const grpc::Status& status);

// The exit code for a failed call with `code` that carries no ErrorInfo
// (by code alone: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED and
// ABORTED are worth retrying).
int ExitCodeFor(grpc::StatusCode code);

// The exit code for a failed call with `code` and `details`: with an
// ErrorInfo, kExitUnavailable exactly when there is a RetryInfo, else the
// code's class (kExitOtherError for the retry codes); without one,
// ExitCodeFor(code).
int ExitCodeFor(grpc::StatusCode code, const ErrorDetails& details);

// "1s", "0.500s": a retry delay as the protobuf JSON mapping writes it.
std::string FormatRetryDelay(absl::Duration delay);

// A failed call as the one line --output=json prints on stderr, keys in this
// order: {"error":{"code","message","reason","domain","metadata",
// "retryDelay","fieldViolations","retryable","exitCode"}}. reason, domain
// and metadata are absent without an ErrorInfo, retryDelay without a
// RetryInfo, fieldViolations without a BadRequest.
std::string ErrorJson(absl::string_view code, absl::string_view message,
                      const ErrorDetails& details, int exit_code);

enum class OutputFormat { kTable, kJson };

// PEM contents for a TLS channel (--tls-ca, --tls-cert, --tls-key).
struct TlsFiles {
  std::string ca;    // empty: the system's roots
  std::string cert;  // client certificate for mutual TLS; empty: none
  std::string key;   // its private key
};

// The deadline of each call when --timeout is not given.
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(30);
// The same for the calls that work through a whole data source (settings
// set, settings reprocess, sources delete): they take seconds to minutes on
// a large source.
inline constexpr absl::Duration kSourceWideTimeout = absl::Minutes(10);

// Options shared by every command (--addr, --timeout, --output, --api-key,
// --tls-*).
struct GlobalOptions {
  std::string addr = "127.0.0.1:50051";
  // --timeout; unset: kDefaultTimeout, or kSourceWideTimeout for the calls
  // that work through a whole source.
  std::optional<absl::Duration> timeout;
  OutputFormat output = OutputFormat::kTable;
  // Sent as "authorization: Bearer <api_key>" when not empty.
  std::string api_key;
  // TLS instead of plaintext when set.
  std::optional<TlsFiles> tls;
};

// What one command invocation works with: the stubs, the options, and the
// helpers that print results and errors. Not thread-safe.
class Session {
 public:
  // `command_path` is "customers list", used in hints; `clock` (which
  // must outlive the session) is what "now" means to the flags and to
  // "As of now".
  Session(GlobalOptions options, std::string command_path,
          const common::Clock& clock);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  v1::SourceSettingsService::Stub& sources() { return *sources_; }
  v1::CustomerService::Stub& customers() { return *customers_; }
  v1::InvoiceService::Stub& invoices() { return *invoices_; }
  v1::ApiKeyService::Stub& keys() { return *keys_; }
  v1::ChangeFeedService::Stub& changes() { return *changes_; }
  v1::MetricsService::Stub& metrics() { return *metrics_; }

  bool json() const { return options_.output == OutputFormat::kJson; }

  // The instant a flag's "now" stands for.
  absl::Time Now() const { return clock_.Now(); }

  // From now on, calls default to kSourceWideTimeout instead of
  // kDefaultTimeout (--timeout still wins).
  void UseSourceWideTimeout() {
    call_timeout_ = options_.timeout.value_or(kSourceWideTimeout);
  }

  // Runs one RPC: `call(context)` with the call deadline and the API key.
  // Returns 0 on success; otherwise prints the error line and returns its
  // exit code.
  template <typename Fn>
  int Rpc(Fn&& call) {
    grpc::Status status = RpcStatus(std::forward<Fn>(call));
    return status.ok() ? kExitOk : RpcFailed(status);
  }

  // The same, returning the status and printing nothing, for a caller that
  // looks at the failure before reporting it.
  template <typename Fn>
  grpc::Status RpcStatus(Fn&& call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         absl::ToChronoMilliseconds(call_timeout_));
    AddApiKey(&context);
    return call(&context);
  }

  // Adds the API key to `context` of a stream, which has no deadline.
  void AddApiKey(grpc::ClientContext* context) const {
    if (!options_.api_key.empty()) {
      context->AddMetadata("authorization", "Bearer " + options_.api_key);
    }
  }

  // Prints "recurrentctl: CODE: message (reason REASON; retry after 1s)"
  // (with --output=json, one JSON object instead, on stderr too) and returns
  // the exit code.
  int RpcFailed(const grpc::Status& status);
  // In table output, prints the instant a view shows before it:
  // "As of 2025-03-01" for --as-of, "As of now (2026-11-29T09:10:00Z)"
  // without it (`as_of` null).
  void PrintAsOf(const google::protobuf::Timestamp* as_of);
  // In table output, after a list that --limit stopped early, prints
  // "Next page: --page-token=TOKEN" (nothing for an empty token). JSON
  // output carries it as nextPageToken.
  void PrintNextPage(const std::string& next_page_token);
  // Prints "recurrentctl: message (see 'recurrentctl CMD --help')" and
  // returns kExitUsage.
  int UsageError(const absl::Status& status);
  // Prints "recurrentctl: message" and returns kExitLocalError.
  int LocalError(const absl::Status& status);

  // Prints `message` in the protobuf JSON mapping (indented, every field
  // present, lowerCamelCase names) to stdout.
  void PrintJson(const google::protobuf::Message& message);
  // The same on one line (JSON lines, for streams), flushed.
  void PrintJsonLine(const google::protobuf::Message& message);
  // `message` in that mapping on one line, to compose larger documents.
  static std::string ToJson(const google::protobuf::Message& message);

 private:
  GlobalOptions options_;
  const common::Clock& clock_;
  absl::Duration call_timeout_;
  std::string command_path_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SourceSettingsService::Stub> sources_;
  std::unique_ptr<v1::CustomerService::Stub> customers_;
  std::unique_ptr<v1::InvoiceService::Stub> invoices_;
  std::unique_ptr<v1::ApiKeyService::Stub> keys_;
  std::unique_ptr<v1::ChangeFeedService::Stub> changes_;
  std::unique_ptr<v1::MetricsService::Stub> metrics_;
};

// One subcommand: "recurrentctl GROUP VERB ARGS... FLAGS".
struct Command {
  std::string group;    // "customers"
  std::string verb;     // "list"; empty for a group's only command ("events")
  std::string args;     // positional synopsis, e.g. "CUSTOMER_UUID TAG..."
  std::string summary;  // one line, imperative: "List customers."
  std::string description;  // optional, more lines
  std::vector<FlagSpec> flags;
  size_t min_args = 0;
  size_t max_args = 0;  // kUnlimited for "TAG..."
  std::vector<std::string> examples;
  int (*run)(Session& session, const ParsedArgs& args) = nullptr;

  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  // "customers list", or "events".
  std::string Path() const { return verb.empty() ? group : group + " " + verb; }
};

// The commands of each resource, in help order.
std::vector<Command> SourceCommands();        // sources, settings
std::vector<Command> CustomerCommands();      // customers
std::vector<Command> InvoiceCommands();       // invoices
std::vector<Command> SubscriptionCommands();  // subscriptions, events
std::vector<Command> KeyCommands();           // keys
std::vector<Command> ChangeCommands();        // changes
std::vector<Command> MetricsCommands();       // mrr

// Parses --as-of ("" when not given: the server's now; "now": `now`).
absl::StatusOr<std::optional<google::protobuf::Timestamp>> ParseAsOfFlag(
    const ParsedArgs& args, absl::Time now);

// Sets `request`'s as_of from --as-of when given, and leaves it unset
// otherwise. INVALID_ARGUMENT for a bad date.
template <typename Request>
absl::Status ParseAsOf(const ParsedArgs& args, absl::Time now,
                       Request* request) {
  auto as_of = ParseAsOfFlag(args, now);
  if (!as_of.ok()) return as_of.status();
  if (as_of->has_value()) *request->mutable_as_of() = **as_of;
  return absl::OkStatus();
}

// `request`'s as_of, or null when unset (now), for Session::PrintAsOf.
template <typename Request>
const google::protobuf::Timestamp* AsOf(const Request& request) {
  return request.has_as_of() ? &request.as_of() : nullptr;
}

// --limit and --page-size (the change feed's lists, which page by cursor).
inline std::vector<FlagSpec> LimitFlags() {
  return {
      {"limit", "N",
       "Stop after N items (default: all; pages are "
       "followed automatically)."},
      {"page-size", "N", "Items per request (default: the server's, 100)."}};
}

// LimitFlags() and --page-token, shared by every paged list command.
inline std::vector<FlagSpec> PagingFlags() {
  std::vector<FlagSpec> flags = LimitFlags();
  flags.push_back({"page-token", "TOKEN",
                   "Start at this page: the token printed after a list that "
                   "--limit stopped."});
  return flags;
}

struct Paging {
  int limit = 0;  // 0: no limit
  int page_size = 0;
  std::string page_token;  // empty: the first page
};

// Reads --limit and --page-size (each must be positive when given) and
// --page-token (when the command has it).
absl::StatusOr<Paging> ParsePaging(const ParsedArgs& args);

// The largest page the server returns.
inline constexpr int kMaxPageSize = 1000;

// Calls `fetch(context, request, &page)` page after page from
// `paging.page_token`, appending the items `items(page)` to `items(*all)`
// until the last page or `limit` items. With a limit, each request asks for
// no more than the items still wanted, so the list stops at a page boundary
// and `all->next_page_token()` (empty after the last page) continues it
// exactly. Returns 0, or the exit code of the failed call.
template <typename Request, typename Response, typename Fetch, typename Items>
int FetchAllPages(Session& session, const Paging& paging, Request request,
                  Fetch fetch, Items items, Response* all) {
  request.set_page_token(paging.page_token);
  if (paging.page_size > 0) request.set_page_size(paging.page_size);
  while (true) {
    if (paging.limit > 0) {
      const int wanted = paging.limit - items(all)->size();
      request.set_page_size(std::min(
          wanted, paging.page_size > 0 ? paging.page_size : kMaxPageSize));
    }
    Response page;
    int rc = session.Rpc([&](grpc::ClientContext* context) {
      return fetch(context, request, &page);
    });
    if (rc != kExitOk) return rc;
    for (auto& item : *items(&page)) {
      *items(all)->Add() = std::move(item);
    }
    all->set_next_page_token(page.next_page_token());
    if (page.next_page_token().empty()) break;
    if (paging.limit > 0 && items(all)->size() >= paging.limit) break;
    request.set_page_token(page.next_page_token());
  }
  return kExitOk;
}

// Every page of ListSubscriptions(request) from `paging` (subscriptions
// list, customers describe, invoices pay). Returns 0 or the failed call's
// exit code.
int FetchSubscriptions(Session& session, const Paging& paging,
                       const v1::ListSubscriptionsRequest& request,
                       v1::ListSubscriptionsResponse* all);

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_COMMAND_H_
