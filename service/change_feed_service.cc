#include "service/change_feed_service.h"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/types/span.h"
#include "common/error_reason.h"
#include "common/log.h"
#include "common/metadata_keys.h"
#include "common/status_macros.h"
#include "service/change_feed_requests.h"
#include "service/convert.h"
#include "service/errors.h"

namespace recurrent::service {

// Changes read per query while a watch catches up; a watch takes rows from
// the tail only while it holds fewer than this many to send.
constexpr int kWatchPageSize = 100;
// Rows of the log's tail read per query.
constexpr int kTailRows = 100;
// The read executor's fairness key for the tail's reads.
constexpr char kTailReader[] = "change-feed tail";

class ChangeFeedServiceImpl::Watch final
    : public grpc::ServerWriteReactor<v1::Change> {
 public:
  // Starts at `after`, or at the end of the log if nullopt; if `refused` is
  // not OK, the watch ends with it at once. `context` must outlive OnDone.
  Watch(ChangeFeedServiceImpl* feed, grpc::CallbackServerContext* context,
        core::Store::ChangeFilter filter,
        std::optional<core::Store::ChangePosition> after,
        const absl::Status& refused)
      : feed_(feed),
        context_(context),
        connection_(context->peer()),
        filter_(std::move(filter)),
        cursor_(after) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!refused.ok()) {
      end_ = ToGrpcStatus(refused);
      MaybeFinish(lock);
      return;
    }
    ScheduleRead(lock);
  }

  // The log has grown: reads it (once nothing is outstanding).
  void Wake() {
    std::unique_lock<std::mutex> lock(mu_);
    stale_ = true;
    if (!reading_ && !writing_ && pending_.empty()) ScheduleRead(lock);
  }

  // Every row of the log with a sequence in (after, rows.back().sequence]
  // (none if `rows` is empty: the log ends at `after`), read once for all
  // watches. A watch whose cursor lies in that range, with no read under
  // way and room for a page, takes the rows its filter matches after its
  // cursor; one behind `after` (or full) reads the log itself.
  void Offer(int64_t after, absl::Span<const persistence::ChangeRow> rows) {
    std::unique_lock<std::mutex> lock(mu_);
    if (end_.has_value()) return;
    if (reading_ || !cursor_.has_value()) {
      // The read under way (the first places the cursor) may end before
      // these rows: it looks again after.
      stale_ = true;
      return;
    }
    const int64_t last = rows.empty() ? after : rows.back().sequence;
    if (cursor_->sequence >= last) return;  // it has examined them already
    if (cursor_->sequence < after || pending_.size() >= kWatchPageSize) {
      stale_ = true;
      if (!writing_ && pending_.empty()) ScheduleRead(lock);
      return;
    }
    if (absl::Status refused = Authorize(); !refused.ok()) {
      end_ = ToGrpcStatus(refused);
      MaybeFinish(lock);
      return;
    }
    for (const persistence::ChangeRow& row : rows) {
      if (row.sequence <= cursor_->sequence) continue;
      const core::Store::ChangePosition before = *cursor_;
      cursor_ = core::Store::PositionOf(row);
      if (!core::Store::InFeed(filter_, row)) continue;
      Pending& next = pending_.emplace_back();
      ChangeToProto(row, &next.change);
      next.preceding = before;
    }
    if (!writing_ && !pending_.empty()) StartNextWrite(lock);
  }

  // Ends the watch with UNAUTHENTICATED if its key is no longer active.
  void Reauthorize() {
    Lock lock(mu_);
    if (end_.has_value()) return;  // so not finished: context_ is alive
    absl::Status refused = Authorize();
    if (refused.ok()) return;
    end_ = ToGrpcStatus(refused);
    MaybeFinish(lock);
  }

  // Ends the watch with `status` once nothing is outstanding.
  void End(grpc::Status status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!end_.has_value()) end_ = std::move(status);
    MaybeFinish(lock);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    pending_.pop_front();
    if (!ok && !end_.has_value()) {
      end_ = ToGrpcStatus(absl::CancelledError("the client went away"));
    }
    if (end_.has_value()) {
      MaybeFinish(lock);
    } else if (!pending_.empty()) {
      StartNextWrite(lock);
    } else if (stale_) {
      ScheduleRead(lock);
    }
  }

  void OnCancel() override {
    End(ToGrpcStatus(absl::CancelledError("cancelled by the client")));
  }

  void OnDone() override {
    feed_->Forget(this);
    Lock lock(mu_);
    done_ = true;
    if (pins_ > 0) return;  // the last Unpin deletes
    lock.unlock();
    delete this;
  }

  // Keeps the watch alive while the feed calls it outside its own lock
  // (a reaction such as OnDone may run inline in the calls it makes).
  void Pin() {
    Lock lock(mu_);
    ++pins_;
  }
  void Unpin() {
    Lock lock(mu_);
    if (--pins_ > 0 || !done_) return;
    lock.unlock();
    delete this;
  }

 private:
  using Lock = std::unique_lock<std::mutex>;

  // Whether the call's key may still read the feed (it is checked again
  // before every read, and when a key is revoked: see Reauthorize).
  absl::Status Authorize() {
    return feed_->env_.access->Authorize(*context_, Role::kReader).status();
  }

  void ScheduleRead(Lock& lock) {
    if (end_.has_value()) return;
    reading_ = true;
    // The executor's thread is not one of gRPC's reactions, after which
    // OnDone may run (and delete the watch) as soon as Finish is called or
    // a write completes: the read holds a pin until it returns.
    ++pins_;
    const absl::Status scheduled = feed_->env_.executor->Schedule(
        connection_, [this] { Read(); });
    if (!scheduled.ok()) {
      --pins_;  // the caller keeps the watch alive (a reaction, or a pin)
      reading_ = false;
      // The executor's reason: overloaded, or shutting down.
      const bool stopping =
          common::HasReason(scheduled, common::reason::kShuttingDown);
      end_ = ToGrpcStatus(common::WithReason(
          absl::UnavailableError(
              stopping ? "the server is shutting down; reconnect and resume "
                         "from your last cursor"
                       : "the server is overloaded; resume from your last "
                         "cursor"),
          stopping ? common::reason::kShuttingDown
                   : common::reason::kOverloaded));
      MaybeFinish(lock);
    }
  }

  // On the executor: reads the next page after cursor_, then lets go of
  // the pin ScheduleRead took (last: it may delete the watch).
  void Read() {
    ReadHoldingPin();
    Unpin();
  }

  void ReadHoldingPin() {
    std::optional<core::Store::ChangePosition> cursor;
    {
      Lock lock(mu_);
      stale_ = false;
      cursor = cursor_;
      if (!end_.has_value()) {
        if (absl::Status refused = Authorize(); !refused.ok()) {
          end_ = ToGrpcStatus(refused);
        }
      }
      if (end_.has_value()) {
        reading_ = false;
        MaybeFinish(lock);
        return;
      }
    }
    core::Store& store = *feed_->env_.store;
    ++feed_->watch_reads_;
    absl::StatusOr<core::Store::ChangesPage> page;
    if (!cursor.has_value()) {
      // An empty cursor: only what commits from now on (the filter is
      // looked up once, here).
      absl::StatusOr<core::Store::ChangePosition> last =
          store.StartChanges(filter_);
      if (last.ok()) {
        page = core::Store::ChangesPage{{}, *last, {}, false};
      } else {
        page = last.status();
      }
    } else {
      page = store.ListChanges(filter_, *cursor, kWatchPageSize);
    }
    Lock lock(mu_);
    if (page.ok() && !start_sent_) {
      // Where the stream starts, before any change: a client that
      // reconnects before its first change resumes from here. (reading_
      // stays set, so nothing else starts meanwhile.)
      start_sent_ = true;
      context_->AddInitialMetadata(
          common::kStartCursorMetadataKey,
          ChangeCursor(cursor.has_value() ? *cursor : page->scanned_to));
      lock.unlock();
      StartSendInitialMetadata();
      lock.lock();
    }
    reading_ = false;
    if (!page.ok()) {
      if (!end_.has_value()) end_ = ToGrpcStatus(page.status());
      MaybeFinish(lock);
      return;
    }
    // Past what was examined: rows skipped by the filter are not read again.
    cursor_ = page->scanned_to;
    if (page->more) stale_ = true;
    for (size_t i = 0; i < page->rows.size(); ++i) {
      Pending& next = pending_.emplace_back();
      ChangeToProto(page->rows[i], &next.change);
      next.preceding = page->preceding[i];
    }
    if (end_.has_value()) {
      MaybeFinish(lock);
    } else if (!pending_.empty()) {
      if (!writing_) StartNextWrite(lock);
    } else if (stale_) {
      ScheduleRead(lock);
    }
  }

  void StartNextWrite(Lock& lock) {
    writing_ = true;
    const v1::Change* next =
        &pending_.front().change;  // stays put until popped
    lock.unlock();
    StartWrite(next);
    lock.lock();
  }

  void MaybeFinish(Lock& lock) {
    if (!end_.has_value() || writing_ || reading_ || finished_) return;
    finished_ = true;
    // Everything examined before the first change not sent.
    const std::optional<core::Store::ChangePosition> resume =
        pending_.empty() ? cursor_
                         : std::optional<core::Store::ChangePosition>(
                               pending_.front().preceding);
    if (resume.has_value()) {
      context_->AddTrailingMetadata(common::kResumeCursorMetadataKey,
                                    ChangeCursor(*resume));
    }
    const grpc::Status status = *end_;
    lock.unlock();
    Finish(status);
    lock.lock();
  }

  ChangeFeedServiceImpl* const feed_;
  grpc::CallbackServerContext* const context_;
  const std::string connection_;  // the executor's fairness key
  const core::Store::ChangeFilter filter_;
  std::mutex mu_;
  // The last change sent or skipped; nullopt until the first read places
  // an empty cursor at the end of the log.
  std::optional<core::Store::ChangePosition> cursor_ ABSL_GUARDED_BY(mu_);
  // A change read and not yet sent, with the place just before it (where a
  // watch that ends before sending it tells the client to resume).
  struct Pending {
    v1::Change change;
    core::Store::ChangePosition preceding;
  };
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);  // front: writing
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;  // a Read is queued or running
  // Rows may exist after cursor_ that no Read has looked for.
  bool stale_ ABSL_GUARDED_BY(mu_) = true;
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool start_sent_ ABSL_GUARDED_BY(mu_) = false;  // the initial metadata
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // OnDone has run
  int pins_ ABSL_GUARDED_BY(mu_) = 0;
};

ChangeFeedServiceImpl::ChangeFeedServiceImpl(const ServiceEnv& env,
                                             core::ChangeFollower* follower)
    : env_(env) {
  follower->OnAdvance([this] { WakeWatches(); });
}

grpc::ServerUnaryReactor* ChangeFeedServiceImpl::ListChanges(
    grpc::CallbackServerContext* context,
    const v1::ListChangesRequest* request,
    v1::ListChangesResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(ChangesQuery query, ParseListChanges(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        core::Store::ChangesPage page,
        env_.store->ListChanges(query.filter, query.after, query.page_size));
    for (const persistence::ChangeRow& row : page.rows) {
      ChangeToProto(row, response->add_changes());
    }
    // Past every row examined: the rows skipped by the filter are not read
    // again (sequences follow commit order, so none can appear before it).
    response->set_next_cursor(ChangeCursor(page.scanned_to));
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::Change>* ChangeFeedServiceImpl::WatchChanges(
    grpc::CallbackServerContext* context,
    const v1::WatchChangesRequest* request) {
  absl::Status refused = env_.access->Authorize(*context, Role::kReader).status();
  ChangesQuery query;
  if (refused.ok()) {
    absl::StatusOr<ChangesQuery> parsed = ParseWatchChanges(*request);
    if (parsed.ok()) {
      query = *std::move(parsed);
    } else {
      refused = parsed.status();
    }
  }
  // Checked and registered under one lock, so that EndWatches either sees
  // the watch or the watch sees it ran.
  std::lock_guard<std::mutex> lock(mu_);
  if (refused.ok() && ending_) {
    refused = common::WithReason(
        absl::UnavailableError(
            "the server is shutting down; reconnect and resume from your last "
            "cursor"),
        common::reason::kShuttingDown);
  }
  // Until the reactor is returned to gRPC, nothing it calls runs a
  // reaction, so it cannot end before it is registered.
  Watch* watch =
      new Watch(this, context, std::move(query.filter), query.after, refused);
  watches_.insert(watch);
  return watch;
}

std::vector<ChangeFeedServiceImpl::Watch*>
ChangeFeedServiceImpl::PinWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Watch*> pinned(watches_.begin(), watches_.end());
  for (Watch* watch : pinned) watch->Pin();
  return pinned;
}

void ChangeFeedServiceImpl::EndWatches() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ending_ = true;
  }
  for (Watch* watch : PinWatches()) {
    watch->End(ToGrpcStatus(common::WithReason(
        absl::UnavailableError("the server is shutting down; reconnect and "
                               "resume from your last cursor"),
        common::reason::kShuttingDown)));
    watch->Unpin();
  }
}

void ChangeFeedServiceImpl::EndWatchesOfRevokedKeys() {
  for (Watch* watch : PinWatches()) {
    watch->Reauthorize();
    watch->Unpin();
  }
}

size_t ChangeFeedServiceImpl::watch_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return watches_.size();
}

ChangeFeedServiceImpl::LogReads ChangeFeedServiceImpl::log_reads() const {
  return LogReads{tail_reads_.load(), watch_reads_.load()};
}

absl::Status ChangeFeedServiceImpl::Start() {
  RECURRENT_ASSIGN_OR_RETURN(const core::Store::ChangePosition last,
                             env_.store->StartChanges({}));
  tail_ = last.sequence;
  return absl::OkStatus();
}

void ChangeFeedServiceImpl::WakeWatches() {
  {
    std::lock_guard<std::mutex> lock(tail_mu_);
    if (tail_reading_) {
      tail_again_ = true;
      return;
    }
    tail_reading_ = true;
  }
  if (!ScheduleTailRead()) WakeEachWatch();
}

bool ChangeFeedServiceImpl::ScheduleTailRead() {
  if (env_.executor->Schedule(kTailReader, [this] { ReadTail(); }).ok()) {
    return true;
  }
  // Overloaded or shutting down: each watch learns it when it schedules a
  // read of its own.
  std::lock_guard<std::mutex> lock(tail_mu_);
  tail_reading_ = false;
  return false;
}

void ChangeFeedServiceImpl::WakeEachWatch() {
  for (Watch* watch : PinWatches()) {
    watch->Wake();
    watch->Unpin();
  }
}

void ChangeFeedServiceImpl::ReadTail() {
  {
    std::lock_guard<std::mutex> lock(tail_mu_);
    tail_again_ = false;
  }
  bool ending = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ending = ending_;
  }
  bool more = false;
  if (!ending) {
    ++tail_reads_;
    absl::StatusOr<bool> offered = OfferTailBatch();
    if (offered.ok()) {
      more = *offered;
    } else {
      log::Error(
          "reading the change log's tail for the watches failed; each "
          "reads it itself",
          {{"error", offered.status().ToString()}});
      WakeEachWatch();
    }
  }
  {
    std::lock_guard<std::mutex> lock(tail_mu_);
    if (ending || !(more || tail_again_)) {
      tail_reading_ = false;
      return;
    }
  }
  // Rows remain, or a commit came meanwhile: again, behind the reads queued
  // since.
  if (!ScheduleTailRead()) WakeEachWatch();
}

absl::StatusOr<bool> ChangeFeedServiceImpl::OfferTailBatch() {
  core::Store& store = *env_.store;
  int64_t after = tail_;
  RECURRENT_ASSIGN_OR_RETURN(const std::vector<persistence::ChangeRow> rows,
                             store.ReadChanges(after, kTailRows));
  // Rows pruned before the tail read them: the batch starts later.
  if (!rows.empty() && rows.front().sequence > after + 1) {
    after = rows.front().sequence - 1;
  }
  tail_ = rows.empty() ? after : rows.back().sequence;
  for (Watch* watch : PinWatches()) {
    watch->Offer(after, rows);
    watch->Unpin();
  }
  return static_cast<int>(rows.size()) == kTailRows;
}

void ChangeFeedServiceImpl::Forget(Watch* watch) {
  std::lock_guard<std::mutex> lock(mu_);
  watches_.erase(watch);
}

}  // namespace recurrent::service
