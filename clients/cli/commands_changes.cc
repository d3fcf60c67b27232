// recurrentctl changes list|watch: ChangeFeedService.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/values.h"
#include "common/metadata_keys.h"

namespace recurrent::cli {
namespace {

// One change as a table-free line: CURSOR COMMITTED TYPE CUSTOMER DETAIL.
std::string ChangeLine(const v1::Change& change) {
  std::string line = absl::StrCat(change.cursor(), "  ",
                                  FormatTime(change.committed_at()), "  ");
  switch (change.type()) {
    case v1::CHANGE_TYPE_EVENT_PUBLISHED:
    case v1::CHANGE_TYPE_EVENT_RETRACTED:
      absl::StrAppend(
          &line,
          change.type() == v1::CHANGE_TYPE_EVENT_PUBLISHED ? "published "
                                                           : "retracted ",
          EventTypeName(change.event().type()), "@",
          FormatTime(change.event().occurred_at()), "  ",
          change.customer_uuid(), "  ", change.event().subscription_uuid(),
          "  ", change.event().uuid());
      break;
    case v1::CHANGE_TYPE_CUSTOMER_STATUS_CHANGED:
      absl::StrAppend(&line, "status ",
                      CustomerStatusName(change.previous_customer_status()),
                      " -> ", CustomerStatusName(change.customer_status()),
                      "  ", change.customer_uuid());
      break;
    default:
      absl::StrAppend(&line, "unknown change  ", change.customer_uuid());
  }
  return line;
}

void PrintChange(Session& session, const v1::Change& change) {
  if (session.json()) return session.PrintJsonLine(change);
  std::printf("%s\n", ChangeLine(change).c_str());
  std::fflush(stdout);
}

int ChangesList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListChangesRequest request;
  request.set_data_source_uuid(args.Get("source"));
  request.set_customer_uuid(args.Get("customer"));
  request.set_after_cursor(args.Get("after"));
  if (paging->page_size > 0) request.set_page_size(paging->page_size);
  int printed = 0;
  while (paging->limit == 0 || printed < paging->limit) {
    v1::ListChangesResponse page;
    if (int rc = session.Rpc([&](grpc::ClientContext* context) {
          return session.changes().ListChanges(context, request, &page);
        })) {
      return rc;
    }
    for (const v1::Change& change : page.changes()) {
      if (paging->limit > 0 && printed == paging->limit) break;
      PrintChange(session, change);
      ++printed;
    }
    // The end of the log: nothing returned and nothing skipped. (A page
    // may be empty but move on, past changes the filters skipped.)
    if (page.changes().empty() &&
        page.next_cursor() == request.after_cursor()) {
      break;
    }
    request.set_after_cursor(page.next_cursor());
  }
  return kExitOk;
}

// Follows the feed until interrupted; on UNAVAILABLE (a server restart or
// shutdown) reconnects with the last cursor received, after the delay the
// server asks for (RetryInfo), at least a second. A change at or below that
// cursor (resent after a reconnect) is dropped.
int ChangesWatch(Session& session, const ParsedArgs& args) {
  v1::WatchChangesRequest request;
  request.set_data_source_uuid(args.Get("source"));
  request.set_customer_uuid(args.Get("customer"));
  request.set_after_cursor(args.Get("after"));
  while (true) {
    grpc::ClientContext context;
    session.AddApiKey(&context);
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
        session.changes().WatchChanges(&context, request);
    if (request.after_cursor().empty()) {
      // Where the stream starts, so that a reconnect before the first change
      // misses nothing (absent if the call failed before it started).
      reader->WaitForInitialMetadata();
      const auto& metadata = context.GetServerInitialMetadata();
      if (auto it = metadata.find(common::kStartCursorMetadataKey);
          it != metadata.end()) {
        request.set_after_cursor(
            std::string(it->second.data(), it->second.size()));
      }
    }
    v1::Change change;
    while (reader->Read(&change)) {
      // Cursors compare as strings in log order (they start with the
      // change's number in 20 digits).
      if (!request.after_cursor().empty() &&
          change.cursor() <= request.after_cursor()) {
        continue;
      }
      PrintChange(session, change);
      request.set_after_cursor(change.cursor());
    }
    grpc::Status status = reader->Finish();
    // Past what the watch's filters skipped since the last change received.
    const auto& trailing = context.GetServerTrailingMetadata();
    if (auto it = trailing.find(common::kResumeCursorMetadataKey);
        it != trailing.end()) {
      const std::string resume(it->second.data(), it->second.size());
      if (resume.size() >= 20 && resume > request.after_cursor()) {
        request.set_after_cursor(resume);
      }
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return status.ok() ? kExitOk : session.RpcFailed(status);
    }
    const absl::Duration delay = std::max(
        absl::Seconds(1),
        DecodeErrorDetails(status).retry_delay.value_or(absl::ZeroDuration()));
    std::fprintf(
        stderr,
        "recurrentctl: the stream ended (%s); reconnecting in %s "
        "after cursor %s\n",
        status.error_message().c_str(), FormatRetryDelay(delay).c_str(),
        request.after_cursor().empty() ? "(none)"
                                       : request.after_cursor().c_str());
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(delay));
  }
}

std::vector<FlagSpec> FilterFlags() {
  return {{"source", "DATA_SOURCE_UUID",
           "Only changes of this data source (its events, and status changes "
           "of its customers)."},
          {"customer", "CUSTOMER_UUID", "Only changes of this customer."}};
}

}  // namespace

std::vector<Command> ChangeCommands() {
  std::vector<Command> commands;
  std::vector<FlagSpec> list_flags = FilterFlags();
  list_flags.push_back(
      {"after", "CURSOR",
       "Start after this cursor (default: the oldest change kept)."});
  for (FlagSpec& flag : LimitFlags()) list_flags.push_back(flag);
  commands.push_back(
      {"changes",
       "list",
       "",
       "List changes in commit order: events published or retracted, status "
       "changes.",
       "One line per change, its cursor first; --output=json prints JSON "
       "lines. Pass the\nlast cursor as --after to poll for what follows.",
       list_flags,
       0,
       0,
       {"recurrentctl changes list --source=ds_… --after=00000000000000000042"},
       ChangesList});
  std::vector<FlagSpec> watch_flags = FilterFlags();
  watch_flags.push_back(
      {"after", "CURSOR",
       "Start after this cursor (default: only changes from now on)."});
  commands.push_back(
      {"changes",
       "watch",
       "",
       "Print changes as they commit, until interrupted.",
       "Reconnects by itself (after its last cursor) when the server restarts.",
       watch_flags,
       0,
       0,
       {"recurrentctl changes watch --source=ds_… --output=json"},
       ChangesWatch});
  return commands;
}

}  // namespace recurrent::cli
