// ChangeFeedService through the public API: publications and retractions,
// status changes, cursors (resuming, malformed, pruned), filters, and
// WatchChanges streams (catch-up, live changes, many watchers, shutdown).
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "persistence/sqlite_backup.h"
#include "recurrent/v1/change_feed.grpc.pb.h"
#include "tests/service/api_fixture.h"
#include "tests/service/error_details.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ChangeFeedTest : public ApiTest {
 protected:
  // Every change after `after` (all pages), with the filters.
  std::vector<v1::Change> AllChanges(const std::string& after = "",
                                     const std::string& source = "",
                                     const std::string& customer = "",
                                     int page_size = 3) {
    std::vector<v1::Change> all;
    std::string cursor = after;
    while (true) {
      v1::ListChangesRequest request;
      request.set_after_cursor(cursor);
      request.set_data_source_uuid(source);
      request.set_customer_uuid(customer);
      request.set_page_size(page_size);
      v1::ListChangesResponse response;
      grpc::ClientContext context;
      grpc::Status status = feed_->ListChanges(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_FALSE(response.next_cursor().empty());
      if (!status.ok() || response.changes().empty()) {
        // Never behind the cursor given (past rows the filters skip).
        EXPECT_GE(response.next_cursor(), cursor);
        return all;
      }
      all.insert(all.end(), response.changes().begin(),
                 response.changes().end());
      cursor = response.next_cursor();
    }
  }

  grpc::Status ListStatus(const v1::ListChangesRequest& request) {
    v1::ListChangesResponse response;
    grpc::ClientContext context;
    return feed_->ListChanges(&context, request, &response);
  }

  // How a watch of `request` ends when it must end before sending any change
  // (30 s deadline); a change sent fails the test.
  grpc::Status WatchEndsAtOnce(const v1::WatchChangesRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
        feed_->WatchChanges(&context, request);
    v1::Change change;
    EXPECT_FALSE(reader->Read(&change)) << change.ShortDebugString();
    return reader->Finish();
  }

  // Published minus retracted event uuids of `customer`, by replaying.
  static std::set<std::string> Replay(const std::vector<v1::Change>& changes,
                                      const std::string& customer) {
    std::set<std::string> events;
    for (const v1::Change& change : changes) {
      if (change.customer_uuid() != customer) continue;
      if (change.type() == v1::CHANGE_TYPE_EVENT_PUBLISHED) {
        EXPECT_TRUE(events.insert(change.event().uuid()).second)
            << "published twice: " << change.event().uuid();
      } else if (change.type() == v1::CHANGE_TYPE_EVENT_RETRACTED) {
        EXPECT_EQ(events.erase(change.event().uuid()), 1u)
            << "retracted without publication: " << change.event().uuid();
      }
    }
    return events;
  }

  // The status of the last status change among `changes`.
  static v1::CustomerStatus LastStatus(const std::vector<v1::Change>& changes,
                                       v1::CustomerStatus* previous = nullptr) {
    for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
      if (it->type() != v1::CHANGE_TYPE_CUSTOMER_STATUS_CHANGED) continue;
      if (previous != nullptr) *previous = it->previous_customer_status();
      return it->customer_status();
    }
    return v1::CUSTOMER_STATUS_UNSPECIFIED;
  }

  std::set<std::string> EventUuidsNow(const std::string& customer) {
    std::set<std::string> uuids;
    for (const v1::SubscriptionEvent& event :
         Events(customer, server_.clock().Now())) {
      uuids.insert(event.uuid());
    }
    return uuids;
  }

  // Time passes to `to`; the re-evaluator catches up and the follower reads
  // the log (both run by hand here).
  void PassTime(absl::Time to) {
    server_.clock().Set(to);
    ASSERT_TRUE(server_.server().reevaluator().RunOnce().ok());
    ASSERT_TRUE(server_.server().change_follower().Poll().ok());
  }

  // A customer of `source` paid for January 2025 whose February invoice
  // (due Feb 1) stays unpaid.
  std::string DelinquentCustomer(const std::string& source,
                                 const std::string& external_id) {
    const std::string customer = CreateCustomer(source, external_id);
    std::vector<InvoiceSpec> specs =
        Monthly("sub-" + external_id, T("2025-01-01"), 2);
    specs[1].payments.clear();
    MustImport(customer, specs);
    return customer;
  }

  // An open WatchChanges stream.
  struct Watcher {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader;
  };
  // Opens a watch per request (60 s deadline), as many per connection as
  // the server allows streams on one.
  std::vector<std::unique_ptr<Watcher>> OpenWatchers(
      const std::vector<v1::WatchChangesRequest>& requests) {
    const size_t per_connection = ServerOptions().max_concurrent_streams;
    std::vector<std::unique_ptr<Watcher>> watchers;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (i % per_connection == 0) {
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        watch_stubs_.push_back(
            v1::ChangeFeedService::NewStub(grpc::CreateCustomChannel(
                absl::StrCat("127.0.0.1:", server_.server().port()),
                grpc::InsecureChannelCredentials(), args)));
      }
      auto watcher = std::make_unique<Watcher>();
      watcher->context.set_deadline(std::chrono::system_clock::now() +
                                    std::chrono::seconds(60));
      watcher->reader =
          watch_stubs_.back()->WatchChanges(&watcher->context, requests[i]);
      watchers.push_back(std::move(watcher));
    }
    return watchers;
  }

  std::unique_ptr<v1::ChangeFeedService::Stub> feed_ =
      v1::ChangeFeedService::NewStub(server_.channel());
  // The connections of OpenWatchers (outliving its watchers).
  std::vector<std::unique_ptr<v1::ChangeFeedService::Stub>> watch_stubs_;
};

TEST_F(ChangeFeedTest, AnImportedHistoryIsPublishedAtOnceAndFutureEventsWhenDue) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  const std::string customer = DelinquentCustomer(source, "c1");
  std::vector<v1::Change> changes = AllChanges();
  // Known and due now: the start. PAST_DUE (Feb 1) is not due yet.
  EXPECT_EQ(Replay(changes, customer), EventUuidsNow(customer));
  ASSERT_EQ(EventUuidsNow(customer).size(), 1u);

  PassTime(T("2025-02-10"));
  changes = AllChanges();
  EXPECT_EQ(Replay(changes, customer), EventUuidsNow(customer));
  EXPECT_EQ(EventUuidsNow(customer).size(), 2u);
  v1::CustomerStatus previous = v1::CUSTOMER_STATUS_UNSPECIFIED;
  EXPECT_EQ(LastStatus(changes, &previous), v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_EQ(previous, v1::CUSTOMER_STATUS_ACTIVE);
  for (const v1::Change& change : changes) {
    EXPECT_EQ(change.data_source_uuid(), source);
    EXPECT_EQ(change.customer_uuid(), customer);
  }
  // Cursors increase in commit order, as strings too.
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_LT(changes[i - 1].cursor(), changes[i].cursor());
  }
}

TEST_F(ChangeFeedTest, ASettingsReversalRetractsExactlyTheChurnsItRemoves) {
  const std::string source = CreateSource("stripe");
  const std::string other = CreateSource("chargebee");
  server_.clock().Set(T("2025-01-15"));
  const std::string a = DelinquentCustomer(source, "a");
  const std::string b = DelinquentCustomer(other, "b");
  PassTime(T("2025-03-01"));
  const std::string before = AllChanges().back().cursor();

  SetAutoChurn(source, 5);  // churns a on Feb 6; b's source keeps its own
  std::vector<v1::Change> churn = AllChanges(before);
  std::set<std::string> published;
  int churns = 0;
  for (const v1::Change& change : churn) {
    EXPECT_EQ(change.customer_uuid(), a);
    EXPECT_NE(change.type(), v1::CHANGE_TYPE_EVENT_RETRACTED);
    if (change.type() == v1::CHANGE_TYPE_EVENT_PUBLISHED) {
      published.insert(change.event().uuid());
      if (change.event().type() == v1::SUBSCRIPTION_EVENT_TYPE_AUTO_CHURNED) {
        ++churns;
      }
    }
  }
  EXPECT_EQ(churns, 1);
  EXPECT_EQ(LastStatus(churn), v1::CUSTOMER_STATUS_CANCELLED);

  const std::string churned = churn.back().cursor();
  SetKeep(source);
  std::vector<v1::Change> reversal = AllChanges(churned);
  std::set<std::string> retracted;
  for (const v1::Change& change : reversal) {
    EXPECT_EQ(change.customer_uuid(), a);
    EXPECT_NE(change.type(), v1::CHANGE_TYPE_EVENT_PUBLISHED);
    if (change.type() == v1::CHANGE_TYPE_EVENT_RETRACTED) {
      retracted.insert(change.event().uuid());
    }
  }
  EXPECT_EQ(retracted, published);
  EXPECT_EQ(LastStatus(reversal), v1::CUSTOMER_STATUS_PAST_DUE);
  std::vector<v1::Change> all = AllChanges();
  EXPECT_EQ(Replay(all, a), EventUuidsNow(a));
  EXPECT_EQ(Replay(all, b), EventUuidsNow(b));
}

// A late payment that removes a churn, a deleted invoice and a merge each
// retract what disappears; after every write the feed replays to
// ListSubscriptionEvents as of now.
TEST_F(ChangeFeedTest, LatePaymentDeletedInvoiceAndMergeRetract) {
  const std::string source = CreateSource("stripe", /*days=*/5);
  server_.clock().Set(T("2025-01-15"));
  const std::string a = DelinquentCustomer(source, "a");
  const std::string b = DelinquentCustomer(source, "b");
  const std::string c = DelinquentCustomer(source, "c");
  PassTime(T("2025-02-20"));
  auto check_replay = [&](const std::string& when) {
    const std::vector<v1::Change> all = AllChanges("", "", "", 1000);
    for (const std::string& customer : {a, b, c}) {
      EXPECT_EQ(Replay(all, customer), customer == c && when == "after merge"
                                           ? std::set<std::string>()
                                           : EventUuidsNow(customer))
          << when;
    }
  };
  check_replay("churned");
  auto retracted_types = [&](const std::string& after) {
    std::multiset<int> types;
    for (const v1::Change& change : AllChanges(after)) {
      if (change.type() == v1::CHANGE_TYPE_EVENT_RETRACTED) {
        types.insert(change.event().type());
      }
    }
    return types;
  };

  // a pays February on Feb 3, before its churn on Feb 6.
  std::string mark = AllChanges().back().cursor();
  std::string february;
  for (const v1::Invoice& invoice : ListInvoices(a)) {
    if (invoice.transactions().empty()) february = invoice.uuid();
  }
  ASSERT_TRUE(Pay(february, "late", T("2025-02-03")).ok());
  EXPECT_EQ(retracted_types(mark).count(v1::SUBSCRIPTION_EVENT_TYPE_AUTO_CHURNED),
            1u);
  check_replay("late payment");

  // b's paid January invoice is deleted: its subscription starts in
  // February instead (the January STARTED is retracted).
  mark = AllChanges().back().cursor();
  for (const v1::Invoice& invoice : ListInvoices(b)) {
    if (!invoice.transactions().empty()) {
      ASSERT_TRUE(DeleteInvoice(invoice.uuid()).ok());
    }
  }
  EXPECT_EQ(retracted_types(mark).count(v1::SUBSCRIPTION_EVENT_TYPE_STARTED),
            1u);
  check_replay("deleted invoice");

  // c is merged into a: c's events are retracted.
  ASSERT_TRUE(Merge(c, a).ok());
  check_replay("after merge");
}

TEST_F(ChangeFeedTest, ResumingFromEveryCursorYieldsExactlyTheRest) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  for (const std::string id : {"a", "b", "c"}) DelinquentCustomer(source, id);
  PassTime(T("2025-03-01"));
  SetAutoChurn(source, 3);
  SetKeep(source);
  const std::vector<v1::Change> all = AllChanges("", "", "", 1000);
  ASSERT_GT(all.size(), 15u);
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<v1::Change> rest = AllChanges(all[i].cursor());
    ASSERT_EQ(rest.size(), all.size() - i - 1) << "after change " << i;
    for (size_t j = 0; j < rest.size(); ++j) {
      EXPECT_EQ(rest[j].cursor(), all[i + 1 + j].cursor());
    }
  }
}

TEST_F(ChangeFeedTest, FiltersBySourceAndCustomer) {
  const std::string source = CreateSource("stripe");
  const std::string other = CreateSource("chargebee");
  server_.clock().Set(T("2025-01-15"));
  const std::string a = DelinquentCustomer(source, "a");
  const std::string b = DelinquentCustomer(other, "b");
  PassTime(T("2025-03-01"));
  const std::vector<v1::Change> all = AllChanges();
  std::vector<std::string> of_source, of_b;
  for (const v1::Change& change : all) {
    if (change.customer_uuid() == a) of_source.push_back(change.cursor());
    if (change.customer_uuid() == b) of_b.push_back(change.cursor());
  }
  ASSERT_FALSE(of_source.empty());
  std::vector<std::string> got;
  for (const v1::Change& change : AllChanges("", source)) {
    got.push_back(change.cursor());
  }
  EXPECT_THAT(got, ElementsAreArray(of_source));
  got.clear();
  for (const v1::Change& change : AllChanges("", "", b)) {
    got.push_back(change.cursor());
  }
  EXPECT_THAT(got, ElementsAreArray(of_b));
  EXPECT_THAT(AllChanges("", source, b), IsEmpty());
}

TEST_F(ChangeFeedTest, BadCursorsAndUnknownIdsAreRefused) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  v1::ListChangesRequest request;
  request.set_after_cursor("not-a-cursor");
  grpc::Status status = ListStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("after_cursor"));
  request.set_after_cursor("99999999999999999999");
  EXPECT_EQ(ListStatus(request).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_after_cursor("");
  request.set_customer_uuid("cus_doesnotexistdoesnote");
  EXPECT_EQ(ListStatus(request).error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_customer_uuid("");
  request.set_data_source_uuid("ds_doesnotexistdoesnote");
  EXPECT_EQ(ListStatus(request).error_code(), grpc::StatusCode::NOT_FOUND);
  request.set_data_source_uuid("");
  request.set_page_size(-1);
  EXPECT_EQ(ListStatus(request).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  request.set_page_size(0);
  // A check that is not "-" and 8 lowercase hex digits.
  for (const char* check : {"-", "-0000000", "-000000000", "-ABCDEF01",
                            "_abcdef01", "-abcdef0g", "-+bcdef01"}) {
    request.set_after_cursor(absl::StrCat(std::string(20, '0'), check));
    status = ListStatus(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << check;
    EXPECT_THAT(status.error_message(), HasSubstr("after_cursor")) << check;
  }

  // At the end, next_cursor is the cursor given.
  const std::string last = AllChanges().back().cursor();
  v1::ListChangesRequest at_end;
  at_end.set_after_cursor(last);
  v1::ListChangesResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(feed_->ListChanges(&context, at_end, &response).ok());
  EXPECT_THAT(response.changes(), IsEmpty());
  EXPECT_EQ(response.next_cursor(), last);
}

// A cursor names its change by number and check (the change's commit time):
// one whose number this log holds for another change — a cursor of another
// database — is refused, not served from that number on. A cursor of an
// earlier version (the number alone) is served unchecked.
TEST_F(ChangeFeedTest, ACursorOfAnotherChangeWithTheSameNumberIsRefused) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  const std::vector<v1::Change> all = AllChanges();
  ASSERT_GE(all.size(), 2u);
  const std::string last = all.back().cursor();
  ASSERT_EQ(last.size(), 29u) << last;
  ASSERT_EQ(last[20], '-') << last;
  // The same number, another check.
  std::string other = last;
  other.back() = other.back() == '0' ? '1' : '0';
  v1::ListChangesRequest request;
  request.set_after_cursor(other);
  const grpc::Status status = ListStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(status), "CHANGE_CURSOR_UNKNOWN");
  EXPECT_THAT(status.error_message(), HasSubstr("after the backup it was restored from"));
  // A watch from it ends alike, before sending anything.
  v1::WatchChangesRequest watch;
  watch.set_after_cursor(other);
  const grpc::Status ended = WatchEndsAtOnce(watch);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(ended), "CHANGE_CURSOR_UNKNOWN");
  // Every cursor the feed handed out reads on, and so does the number alone.
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(AllChanges(all[i].cursor()).size(), all.size() - i - 1) << i;
  }
  EXPECT_EQ(AllChanges(all[0].cursor().substr(0, 20)).size(), all.size() - 1);
}

// A restore numbers new changes again from the backup's last one. A
// consumer's cursor from after the backup was refused as ahead of the log
// only until new changes reached its number, then served from there,
// skipping every change up to it; now its check no longer matches. A cursor
// from before the backup still reads on.
TEST_F(ChangeFeedTest,
       ACursorFromAfterABackupIsRefusedOnceTheRestoredLogPassesIt) {
  if (!::recurrent::testing::DefaultTestBackendIsSqlite()) {
    GTEST_SKIP() << "restores a SQLite file";
  }
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  const std::string before_backup = AllChanges().back().cursor();
  const std::filesystem::path backup = server_.dir() / "backup.db";
  ASSERT_TRUE(
      persistence::BackupDatabase(server_.db_path().string(), backup.string())
          .ok());
  server_.clock().Set(T("2025-01-20"));
  DelinquentCustomer(source, "b");
  const std::string after_backup = AllChanges().back().cursor();
  ASSERT_GT(after_backup, before_backup);

  // Restored as docs/operations.md says: stopped, the files moved aside,
  // the backup copied in, started.
  server_.Restart([&] {
    const std::string db = server_.db_path().string();
    for (const std::string& path : {db, db + "-wal", db + "-shm"}) {
      std::filesystem::remove(path);
    }
    std::filesystem::copy_file(backup, server_.db_path());
  });
  Reconnect();
  feed_ = v1::ChangeFeedService::NewStub(server_.channel());
  ASSERT_EQ(AllChanges().back().cursor(), before_backup);
  // New changes, until the log numbers one as far as the consumer's cursor.
  server_.clock().Set(T("2025-01-25"));
  for (int i = 0;
       AllChanges().back().cursor().substr(0, 20) < after_backup.substr(0, 20);
       ++i) {
    ASSERT_LT(i, 10);
    DelinquentCustomer(source, absl::StrCat("c", i));
  }
  v1::ListChangesRequest request;
  request.set_after_cursor(after_backup);
  const grpc::Status status = ListStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(status), "CHANGE_CURSOR_UNKNOWN");
  // From before the backup: every change since, none skipped.
  const std::vector<v1::Change> since = AllChanges(before_backup);
  ASSERT_FALSE(since.empty());
  EXPECT_EQ(since.back().cursor(), AllChanges().back().cursor());
  EXPECT_GT(since.front().cursor(), before_backup);
}

// A read-only replica may lag the database's writers (a PostgreSQL hot
// standby): a cursor ahead of its log is most likely one it has not
// replayed yet, so it says to retry rather than that the cursor is unknown.
// (A read-only TestServer opens the SQLite file: e2e_read_replica checks a
// PostgreSQL hot standby.)
TEST_F(ChangeFeedTest, AReadOnlyReplicaAsksToRetryACursorAheadOfItsLog) {
  if (!::recurrent::testing::DefaultTestBackendIsSqlite()) {
    GTEST_SKIP() << "a read-only TestServer is SQLite only";
  }
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  const std::string last = AllChanges().back().cursor();
  // Cursors begin with the number in 20 digits; one without a check is not
  // checked.
  const std::string ahead = absl::StrFormat("%020d", std::stoll(last) + 1000);
  ASSERT_GT(ahead, last);
  TestServerOptions options;
  options.read_only = true;
  server_.Restart(options);
  feed_ = v1::ChangeFeedService::NewStub(server_.channel());

  v1::ListChangesRequest request;
  request.set_after_cursor(ahead);
  const grpc::Status status = ListStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(status), "CHANGE_LOG_BEHIND");
  EXPECT_THAT(status.error_message(), HasSubstr("not replayed"));
  EXPECT_EQ(RetryDelayOf(status), absl::Seconds(1));
  // A watch from that cursor ends alike.
  v1::WatchChangesRequest watch;
  watch.set_after_cursor(ahead);
  const grpc::Status ended = WatchEndsAtOnce(watch);
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(ended), "CHANGE_LOG_BEHIND");
  // Cursors it has reached still read.
  request.set_after_cursor(last);
  EXPECT_TRUE(ListStatus(request).ok());
}

TEST_F(ChangeFeedTest, ACursorOlderThanTheRetentionIsOutOfRange) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  // The cursor of sequence 1, long pruned.
  const std::string first = std::string(19, '0') + "1";
  server_.clock().Set(T("2025-06-01"));
  DelinquentCustomer(source, "b");
  ASSERT_TRUE(server_.server().store().PruneChanges(T("2025-05-01")).ok());
  v1::ListChangesRequest request;
  request.set_after_cursor(first);
  grpc::Status status = ListStatus(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(status.error_message(), HasSubstr("retention"));
  EXPECT_EQ(ReasonOf(status), "CHANGE_CURSOR_EXPIRED");
  // An empty cursor starts at the oldest change kept.
  EXPECT_FALSE(AllChanges().empty());
}

// A filtered feed resumed from a cursor still gets the retractions of a
// customer merged away since; started afresh, the merged-away customer is
// unknown.
TEST_F(ChangeFeedTest, AFilteredFeedGetsTheRetractionsOfACustomerMergedAway) {
  const std::string source = CreateSource("stripe", /*days=*/5);
  server_.clock().Set(T("2025-01-15"));
  const std::string a = DelinquentCustomer(source, "a");
  const std::string c = DelinquentCustomer(source, "c");
  PassTime(T("2025-02-20"));
  const std::vector<v1::Change> before = AllChanges("", "", c);
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(Replay(before, c).empty());
  ASSERT_TRUE(Merge(c, a).ok());
  const std::vector<v1::Change> after =
      AllChanges(before.back().cursor(), "", c);
  std::vector<v1::Change> all = before;
  all.insert(all.end(), after.begin(), after.end());
  EXPECT_THAT(Replay(all, c), IsEmpty());  // every event retracted
  v1::ListChangesRequest fresh;
  fresh.set_customer_uuid(c);
  EXPECT_EQ(ListStatus(fresh).error_code(), grpc::StatusCode::NOT_FOUND);
}

// A poller whose filter matches nothing for a while keeps up with the log
// (next_cursor passes the rows it skips), so pruning them does not expire
// its cursor; the cursor of an empty log is checked like any other.
TEST_F(ChangeFeedTest, AQuietFilteredPollerIsNotExpiredByPruning) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  const std::string quiet = DelinquentCustomer(source, "quiet");
  const std::string mark = AllChanges().back().cursor();
  server_.clock().Set(T("2025-02-01"));
  DelinquentCustomer(source, "other");
  v1::ListChangesRequest poll;
  poll.set_customer_uuid(quiet);
  poll.set_after_cursor(mark);
  v1::ListChangesResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(feed_->ListChanges(&context, poll, &response).ok());
  }
  EXPECT_THAT(response.changes(), IsEmpty());
  EXPECT_EQ(response.next_cursor(), AllChanges().back().cursor());
  // Later changes, then everything before them is pruned: the poller
  // resumes from where it got to, not from its last match.
  server_.clock().Set(T("2025-06-01"));
  DelinquentCustomer(source, "busy");
  ASSERT_TRUE(server_.server().store().PruneChanges(T("2025-05-01")).ok());
  poll.set_after_cursor(response.next_cursor());
  EXPECT_TRUE(ListStatus(poll).ok());
  poll.set_after_cursor(mark);  // "other"'s changes after it are gone
  EXPECT_EQ(ListStatus(poll).error_code(), grpc::StatusCode::OUT_OF_RANGE);
  // The cursor an empty log gives ("0…0") is checked like any other.
  v1::ListChangesRequest zero;
  zero.set_after_cursor(std::string(20, '0'));
  EXPECT_EQ(ListStatus(zero).error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

// Reads `count` changes from a watch, or fewer if it ends first.
std::vector<v1::Change> ReadChanges(grpc::ClientReader<v1::Change>& reader,
                                    size_t count) {
  std::vector<v1::Change> got;
  v1::Change change;
  while (got.size() < count && reader.Read(&change)) got.push_back(change);
  return got;
}

TEST_F(ChangeFeedTest, WatchSendsTheBacklogThenLiveChangesInOrder) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  const std::vector<v1::Change> backlog = AllChanges();

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::WatchChangesRequest request;
  request.set_after_cursor("");
  request.set_data_source_uuid(source);
  // From before the first change: the whole backlog.
  request.set_after_cursor(std::string(20, '0'));
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
      feed_->WatchChanges(&context, request);
  std::vector<v1::Change> got = ReadChanges(*reader, backlog.size());
  ASSERT_EQ(got.size(), backlog.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].cursor(), backlog[i].cursor());
  }

  // Live: a new customer's history, then time passing.
  DelinquentCustomer(source, "b");
  PassTime(T("2025-02-10"));
  const std::vector<v1::Change> later = AllChanges(backlog.back().cursor());
  got = ReadChanges(*reader, later.size());
  ASSERT_EQ(got.size(), later.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].cursor(), later[i].cursor());
    EXPECT_EQ(got[i].type(), later[i].type());
  }
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

// The initial metadata "recurrent-start-cursor" of a watch.
std::string StartCursor(grpc::ClientContext& context,
                        grpc::ClientReader<v1::Change>& reader) {
  reader.WaitForInitialMetadata();
  const auto& metadata = context.GetServerInitialMetadata();
  auto it = metadata.find("recurrent-start-cursor");
  if (it == metadata.end()) return "(none)";
  return std::string(it->second.data(), it->second.size());
}

TEST_F(ChangeFeedTest, AWatchSendsWhereItStartsBeforeAnyChange) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  DelinquentCustomer(source, "a");
  const std::string end_of_log = AllChanges().back().cursor();

  // Without a cursor: the end of the log, sent although no change follows.
  std::string start;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    v1::WatchChangesRequest request;
    request.set_data_source_uuid(source);
    std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
        feed_->WatchChanges(&context, request);
    start = StartCursor(context, *reader);
    context.TryCancel();  // the client goes away before any change
    reader->Finish();
  }
  EXPECT_EQ(start, end_of_log);

  // What commits while the client is away is what a watch from that cursor
  // sends first.
  DelinquentCustomer(source, "b");
  const std::vector<v1::Change> missed = AllChanges(start);
  ASSERT_FALSE(missed.empty());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::WatchChangesRequest request;
  request.set_data_source_uuid(source);
  request.set_after_cursor(start);
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
      feed_->WatchChanges(&context, request);
  // With a cursor: that cursor.
  EXPECT_EQ(StartCursor(context, *reader), start);
  std::vector<v1::Change> got = ReadChanges(*reader, missed.size());
  ASSERT_EQ(got.size(), missed.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].cursor(), missed[i].cursor());
  }
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(ChangeFeedTest, AWatchOfAnUnknownCustomerEndsAtOnce) {
  CreateSource("stripe");
  v1::WatchChangesRequest request;
  request.set_customer_uuid("cus_doesnotexistdoesnote");
  // No commit is needed to end it.
  EXPECT_EQ(WatchEndsAtOnce(request).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ChangeFeedTest, TwoHundredWatchersReceiveTheSameSequence) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  constexpr int kWatchers = 200;
  v1::WatchChangesRequest request;
  request.set_after_cursor(std::string(20, '0'));
  std::vector<std::unique_ptr<Watcher>> watchers =
      OpenWatchers(std::vector<v1::WatchChangesRequest>(kWatchers, request));
  for (const std::string id : {"a", "b", "c", "d"}) {
    DelinquentCustomer(source, id);
  }
  PassTime(T("2025-03-01"));
  const std::vector<v1::Change> all = AllChanges();
  std::vector<std::thread> readers;
  std::vector<int> matching(kWatchers, 0);
  for (int i = 0; i < kWatchers; ++i) {
    readers.emplace_back([&, i] {
      std::vector<v1::Change> got = ReadChanges(*watchers[i]->reader, all.size());
      bool same = got.size() == all.size();
      for (size_t j = 0; same && j < got.size(); ++j) {
        same = got[j].cursor() == all[j].cursor();
      }
      matching[i] = same ? 1 : 0;
    });
  }
  for (std::thread& reader : readers) reader.join();
  int same = 0;
  for (int m : matching) same += m;
  EXPECT_EQ(same, kWatchers);
  EXPECT_EQ(server_.server().change_feed().watch_count(),
            static_cast<size_t>(kWatchers));
  for (auto& watcher : watchers) watcher->context.TryCancel();
  for (auto& watcher : watchers) (void)watcher->reader->Finish();
}

TEST_F(ChangeFeedTest, WatchesAtTheEndShareOneReadOfTheLogPerCommit) {
  // Fifty watches from the log's end, half of them filtered by customer;
  // then ten writes. Each commit is read once for all of them (the tail),
  // not once per watch.
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-02-15"));  // past due since Feb 1
  const std::string first = DelinquentCustomer(source, "first");
  // A restart: the watches reach the log's end before any commit of this
  // server's life wakes the tail.
  RestartWith(TestServerOptions());
  feed_ = v1::ChangeFeedService::NewStub(server_.channel());
  constexpr int kWatchers = 50;
  std::vector<v1::WatchChangesRequest> requests(kWatchers);
  for (int i = 1; i < kWatchers; i += 2) {
    requests[i].set_customer_uuid(first);
  }
  std::vector<std::unique_ptr<Watcher>> watchers = OpenWatchers(requests);
  for (auto& watcher : watchers) {
    watcher->reader->WaitForInitialMetadata();  // its start read is done
  }
  const std::string start = AllChanges().back().cursor();
  const ChangeFeedServiceImpl::LogReads before =
      server_.server().change_feed().log_reads();

  for (int i = 0; i < 10; ++i) {
    DelinquentCustomer(source, absl::StrCat("c", i));
  }
  // The filtered watches' customer pays its February invoice late.
  const std::vector<v1::Invoice> invoices = ListInvoices(first);
  ASSERT_EQ(invoices.size(), 2u);
  ASSERT_TRUE(Pay(invoices[1].uuid(), "late", T("2025-02-14")).ok());
  const std::vector<v1::Change> all = AllChanges(start);
  const std::vector<v1::Change> of_first = AllChanges(start, "", first);
  ASSERT_GT(all.size(), 20u);
  ASSERT_FALSE(of_first.empty());
  for (int i = 0; i < kWatchers; ++i) {
    SCOPED_TRACE(i);
    const std::vector<v1::Change>& expected = i % 2 == 1 ? of_first : all;
    const std::vector<v1::Change> got =
        ReadChanges(*watchers[i]->reader, expected.size());
    ASSERT_EQ(got.size(), expected.size());
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].cursor(), expected[j].cursor());
    }
  }
  const ChangeFeedServiceImpl::LogReads after =
      server_.server().change_feed().log_reads();
  EXPECT_GE(after.tail - before.tail, 1);
  // One read per watch per commit would be 50 x 21; a watch reads the log
  // itself only when a commit finds it busy with a read of its own.
  EXPECT_LT(after.watch - before.watch, kWatchers);
  for (auto& watcher : watchers) watcher->context.TryCancel();
  for (auto& watcher : watchers) (void)watcher->reader->Finish();
}

TEST_F(ChangeFeedTest, ShutdownEndsWatchesWithUnavailable) {
  CreateSource("stripe");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::WatchChangesRequest request;
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
      feed_->WatchChanges(&context, request);
  // Wait until the server holds the watch.
  for (int i = 0; i < 200 && server_.server().change_feed().watch_count() == 0;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_.server().change_feed().watch_count(), 1u);
  server_.server().Shutdown(absl::Seconds(5));
  v1::Change change;
  EXPECT_FALSE(reader->Read(&change));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("last cursor"));
  EXPECT_EQ(ReasonOf(status), "SHUTTING_DOWN");
  EXPECT_TRUE(RetryDelayOf(status).has_value());
}

// A watch the server ends says how far it examined the log: past the
// changes its filter skipped, which the client never saw.
TEST_F(ChangeFeedTest, AnEndedWatchSendsWhereToResume) {
  const std::string source = CreateSource("stripe");
  server_.clock().Set(T("2025-01-15"));
  const std::string a = DelinquentCustomer(source, "a");
  const std::string before_b = AllChanges().back().cursor();
  DelinquentCustomer(source, "b");
  const std::string end_of_log = AllChanges().back().cursor();
  ASSERT_GT(end_of_log, before_b);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::WatchChangesRequest request;
  request.set_customer_uuid(a);
  request.set_after_cursor(before_b);  // only b's changes follow: skipped
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader =
      feed_->WatchChanges(&context, request);
  // Sent by the watch's first read, which then records how far it got.
  EXPECT_EQ(StartCursor(context, *reader), before_b);
  server_.server().Shutdown(absl::Seconds(5));
  v1::Change change;
  EXPECT_FALSE(reader->Read(&change));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  const auto& trailing = context.GetServerTrailingMetadata();
  auto it = trailing.find("recurrent-resume-cursor");
  ASSERT_NE(it, trailing.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), end_of_log);
}

}  // namespace
}  // namespace recurrent::service::testing
