// The gRPC metadata keys of the public API (docs/api.md), shared by the
// server and recurrentctl. Header-only.
#ifndef RECURRENT_COMMON_METADATA_KEYS_H_
#define RECURRENT_COMMON_METADATA_KEYS_H_

namespace recurrent::common {

// WatchChanges' initial metadata: the cursor the stream starts after (the
// request's `after_cursor`, or, when it is empty, the end of the change log
// when the watch started). A client that reconnects before it has received
// any change resumes from it, so nothing committed in between is missed.
inline constexpr char kStartCursorMetadataKey[] = "recurrent-start-cursor";

// WatchChanges' trailing metadata, when a watch ends (shutdown, overload,
// a revoked key...): the cursor to resume after. Every change up to it was
// either sent or skipped by the watch's filters, so it may be past the last
// change the client received; resuming from it does not rescan (or, for a
// filter that rarely matches, outlive the log's retention).
inline constexpr char kResumeCursorMetadataKey[] = "recurrent-resume-cursor";

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_METADATA_KEYS_H_
