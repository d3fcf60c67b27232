// Parsing of ChangeFeedService requests, and the feed's cursors: each
// Parse* function checks a request completely and returns what the handler
// needs, or an INVALID_ARGUMENT status naming the offending field.
//
// A cursor is a place in the change log (core::Store::ChangePosition): its
// sequence as 20 decimal digits, so that cursors compare as strings the way
// they do as numbers, then "-" and the change's check as 8 lowercase hex
// digits ("00000000000000000042-5f3a09c1"), or nothing where no change is
// named (an empty log). Cursors of earlier versions, the 20 digits alone,
// are accepted unchecked. Clients treat cursors as opaque.
#ifndef RECURRENT_SERVICE_CHANGE_FEED_REQUESTS_H_
#define RECURRENT_SERVICE_CHANGE_FEED_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/store.h"
#include "recurrent/v1/change_feed.pb.h"

namespace recurrent::service {

// Changes per ListChanges page: by default, and at most.
inline constexpr int kDefaultChangesPageSize = 100;
inline constexpr int kMaxChangesPageSize = 1000;

std::string ChangeCursor(const core::Store::ChangePosition& position);

struct ChangesQuery {
  core::Store::ChangeFilter filter;
  // Where to start; nullopt for an empty cursor (the oldest change kept for
  // ListChanges; the end of the log for WatchChanges).
  std::optional<core::Store::ChangePosition> after;
  int page_size = kDefaultChangesPageSize;
};

absl::StatusOr<ChangesQuery> ParseListChanges(
    const v1::ListChangesRequest& request);
absl::StatusOr<ChangesQuery> ParseWatchChanges(
    const v1::WatchChangesRequest& request);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CHANGE_FEED_REQUESTS_H_
