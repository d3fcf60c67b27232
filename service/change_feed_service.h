// ChangeFeedService: the change log as a public feed (ListChanges for
// polling, WatchChanges as a server stream); see
// protos/recurrent/v1/change_feed.proto and docs/api.md "Change feed".
//
// A watch is a reactor, not a thread: it reads pages of the log on the read
// executor until it reaches the log's end, and writes its changes one at a
// time. When the ChangeFollower reports new rows, one read of the log's
// newest rows (the "tail", on the read executor, one at a time) serves every
// watch at the end: each takes the rows its filter matches from it, so a
// commit costs one read of the log, not one per watch. A watch behind the
// tail, or with a page still to send, reads the log itself. One write is
// outstanding per watch, and a watch holds at most about two pages of
// changes to send, so a client that stops reading holds little of the
// server's memory; gRPC's flow control does the rest.
#ifndef RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_
#define RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "core/change_follower.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe.
class ChangeFeedServiceImpl final
    : public v1::ChangeFeedService::CallbackService {
 public:
  // Subscribes to `follower`, which must not have started and must outlive
  // this service.
  ChangeFeedServiceImpl(const ServiceEnv& env, core::ChangeFollower* follower);

  // Reads where the change log ends, where the tail's first read starts.
  // Call once, before serving.
  absl::Status Start();

  grpc::ServerUnaryReactor* ListChanges(
      grpc::CallbackServerContext* context,
      const v1::ListChangesRequest* request,
      v1::ListChangesResponse* response) override;
  grpc::ServerWriteReactor<v1::Change>* WatchChanges(
      grpc::CallbackServerContext* context,
      const v1::WatchChangesRequest* request) override;

  // Ends every watch with UNAVAILABLE, as soon as its outstanding write or
  // read completes, and refuses new ones: for shutdown, so that clients
  // reconnect elsewhere with their last cursor.
  void EndWatches();

  // Ends with UNAUTHENTICATED every watch whose API key is no longer active
  // (AccessControl::OnRevoked). Each watch also checks its key before every
  // read of the log.
  void EndWatchesOfRevokedKeys();

  // Watches open now.
  size_t watch_count();

  // Reads of the change log since the start: of its tail (shared by the
  // watches at its end), and by single watches catching up.
  struct LogReads {
    int64_t tail = 0;
    int64_t watch = 0;
  };
  LogReads log_reads() const;

 private:
  class Watch;

  // The log has grown: reads its tail for the watches (one read at a time;
  // a call during one makes it read again after).
  void WakeWatches();
  // On the read executor: reads one batch of rows after tail_ and offers
  // it to every watch; schedules itself again while rows remain or it was
  // woken meanwhile (not a loop: a steady stream of commits must not hold
  // a read thread, nor jump the executor's other queued reads).
  void ReadTail();
  // Reads the rows after tail_ (one batch) and offers them to every watch;
  // true if the batch was full (more rows may follow).
  absl::StatusOr<bool> OfferTailBatch();
  // Schedules ReadTail (tail_reading_ is set); false if it could not be.
  bool ScheduleTailRead();
  // Tells every watch to read the log itself (the tail could not be read).
  void WakeEachWatch();
  // The watches open now, each pinned (Watch::Unpin when done with it).
  std::vector<Watch*> PinWatches();
  void Forget(Watch* watch);

  const ServiceEnv env_;
  std::mutex mu_;
  absl::flat_hash_set<Watch*> watches_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;

  std::mutex tail_mu_;
  bool tail_reading_ ABSL_GUARDED_BY(tail_mu_) = false;  // queued or running
  bool tail_again_ ABSL_GUARDED_BY(tail_mu_) = false;    // woken meanwhile
  // The last sequence the tail has read (Start sets where the log ends).
  // Only Start (before serving) and ReadTail (one at a time) use it.
  int64_t tail_ = 0;
  std::atomic<int64_t> tail_reads_{0};
  std::atomic<int64_t> watch_reads_{0};
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_
