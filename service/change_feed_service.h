// ChangeFeedService: the change log as a public feed (ListChanges for
// polling, WatchChanges as a server stream); see
// protos/recurrent/v1/change_feed.proto and docs/api.md "Change feed".
//
// A watch is a reactor, not a thread: it reads a page of the log on the read
// executor, writes its changes one at a time, and reads again when the
// ChangeFollower reports new rows. One write is outstanding per watch, so a
// client that stops reading holds at most one page in the server's memory;
// gRPC's flow control does the rest.
#ifndef RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_
#define RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_

#include <mutex>
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

 private:
  class Watch;

  // Tells every watch that the log has grown.
  void WakeWatches();
  // The watches open now, each pinned (Watch::Unpin when done with it).
  std::vector<Watch*> PinWatches();
  void Forget(Watch* watch);

  const ServiceEnv env_;
  std::mutex mu_;
  absl::flat_hash_set<Watch*> watches_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CHANGE_FEED_SERVICE_H_
