// ChangeFollower: which rows reach subscribers, and when a subscriber's copy
// may be trusted (UpToDate), over every backend.
#include "core/change_follower.h"

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "core/store.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "tests/testing/backends.h"
#include "tests/testing/faulty_backend.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core {
namespace {

using ::recurrent::testing::FaultyBackend;
using ::recurrent::testing::TestBackend;

const absl::Time kStart = absl::FromUnixSeconds(1735689600);  // 2025-01-01

class ChangeFollowerTest : public ::testing::TestWithParam<TestBackend> {
 protected:
  void SetUp() override {
    dir_ = ::recurrent::testing::MakeTempDir();
    ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
    faulty_ = std::make_unique<FaultyBackend>(backend_.get());
    // Another process's writes: a core of its own, which hands nothing to
    // the follower.
    writer_ =
        std::make_unique<Store>(backend_.get(), Store::Options(), nullptr);
    ASSERT_OK_AND_ASSIGN(const DataSource source,
                         writer_->CreateDataSource("s", "custom", kStart));
    source_uuid_ = source.uuid;
  }
  void TearDown() override {
    writer_.reset();
    faulty_.reset();
    backend_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A follower over the faulty backend with `poll_interval` (infinite:
  // polling on, but Poll is called by hand), recording what it delivers.
  std::unique_ptr<ChangeFollower> Follower(absl::Duration poll_interval) {
    ChangeFollower::Options options;
    options.poll_interval = poll_interval;
    options.max_lag = absl::Seconds(1);
    options.batch_rows = 2;
    auto follower =
        std::make_unique<ChangeFollower>(faulty_.get(), &clock_, options);
    follower->Subscribe([this](absl::Span<const persistence::ChangeRow> rows) {
      delivered_.insert(delivered_.end(), rows.begin(), rows.end());
    });
    follower->OnRowsLost([this] { ++losses_; });
    return follower;
  }

  // A write of another process: a new customer (one kCustomerChanged row).
  void WriteElsewhere(const std::string& external_id) {
    Customer customer;
    customer.data_source_uuid = source_uuid_;
    customer.external_id = external_id;
    ASSERT_OK(writer_->CreateCustomer(customer, clock_.Now()));
  }

  // Another process's write of `events` event rows only (a re-evaluation:
  // nothing a subscriber is handed), then, if `then_customer`, one
  // kCustomerChanged row.
  void AppendElsewhere(int events, bool then_customer) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<persistence::WriteTransaction> txn,
                         backend_->BeginWrite());
    std::vector<persistence::ChangeRow> rows;
    for (int i = 0; i < events; ++i) {
      persistence::ChangeRow& row = rows.emplace_back();
      row.committed_at = clock_.Now();
      row.kind = persistence::ChangeKind::kEventPublished;
      row.data_source_uuid = source_uuid_;
      row.customer_uuid = "cus_elsewhere";
      row.event.uuid = absl::StrCat("evt_", i);
      row.event.subscription = {"sub_elsewhere", "cus_elsewhere", source_uuid_,
                                "SUB"};
      row.event.occurred_at = clock_.Now();
    }
    if (then_customer) {
      persistence::ChangeRow& row = rows.emplace_back();
      row.committed_at = clock_.Now();
      row.kind = persistence::ChangeKind::kCustomerChanged;
      row.data_source_uuid = source_uuid_;
      row.customer_uuid = "cus_elsewhere";
    }
    ASSERT_OK(txn->AppendChanges(rows));
    ASSERT_OK(txn->Commit());
  }

  // "a" is written and read by `follower`; then "b" and "c" are written and
  // pruned (another replica's pruner) before it reads them.
  void ReadOneThenLoseTwo(ChangeFollower& follower) {
    ASSERT_NO_FATAL_FAILURE(WriteElsewhere("a"));
    ASSERT_OK(follower.Poll());
    EXPECT_EQ(losses_, 0);
    for (const char* name : {"b", "c"}) {
      ASSERT_NO_FATAL_FAILURE(WriteElsewhere(name));
    }
    clock_.Advance(absl::Hours(1));
    ASSERT_OK_AND_ASSIGN(const int64_t pruned,
                         writer_->PruneChanges(clock_.Now()));
    EXPECT_GE(pruned, 2);
  }

  std::string dir_;
  std::unique_ptr<persistence::Backend> backend_;
  std::unique_ptr<FaultyBackend> faulty_;
  std::unique_ptr<Store> writer_;
  std::string source_uuid_;
  common::FakeClock clock_{kStart};
  std::vector<persistence::ChangeRow> delivered_;
  int losses_ = 0;  // OnRowsLost calls
};

INSTANTIATE_TEST_SUITE_P(
    Backends, ChangeFollowerTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

TEST_P(ChangeFollowerTest, WithoutPollingAlwaysUpToDate) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::ZeroDuration());
  ASSERT_OK(follower->Start());
  EXPECT_TRUE(follower->UpToDate(kStart + absl::Hours(24 * 365)));
  EXPECT_EQ(follower->Lag(kStart + absl::Hours(1)), absl::ZeroDuration());
}

TEST_P(ChangeFollowerTest, FallsBehindWhenTheLogIsNotReadAndCatchesUp) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  EXPECT_FALSE(follower->UpToDate(kStart));  // not started
  ASSERT_OK(follower->Start());
  EXPECT_TRUE(follower->UpToDate(kStart + absl::Seconds(1)));
  EXPECT_FALSE(follower->UpToDate(kStart + absl::Milliseconds(1001)));
  EXPECT_EQ(follower->Lag(kStart + absl::Seconds(5)), absl::Seconds(5));

  ASSERT_NO_FATAL_FAILURE(WriteElsewhere("a"));
  clock_.Advance(absl::Seconds(5));
  // A failed read of the log: the follower stays behind.
  faulty_->FailOn("ReadChangesOfKinds", absl::UnavailableError("injected"));
  EXPECT_FALSE(follower->Poll().ok());
  EXPECT_TRUE(faulty_->fired());
  EXPECT_TRUE(delivered_.empty());
  EXPECT_FALSE(follower->UpToDate(clock_.Now()));

  // A read to the end: up to date as of when it began.
  ASSERT_OK(follower->Poll());
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].kind, persistence::ChangeKind::kCustomerChanged);
  EXPECT_TRUE(follower->UpToDate(clock_.Now()));
  EXPECT_EQ(follower->Lag(clock_.Now() + absl::Seconds(1)), absl::Seconds(1));
}

// The wall clock set back (an NTP step): the last poll seems to lie in the
// future. The follower counts as behind until a poll reads to the end,
// rather than as up to date until the clock reaches that poll again, which
// let a stalled follower's cache serve stale answers meanwhile.
TEST_P(ChangeFollowerTest, AClockSetBackCountsAsBehindUntilTheNextPoll) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  ASSERT_OK(follower->Start());
  // A moment back (a poll that began after the caller read the clock).
  EXPECT_TRUE(follower->UpToDate(kStart - absl::Milliseconds(10)));
  EXPECT_EQ(follower->Lag(kStart - absl::Milliseconds(10)),
            absl::ZeroDuration());
  clock_.Set(kStart - absl::Hours(1));
  EXPECT_FALSE(follower->UpToDate(clock_.Now()));
  EXPECT_EQ(follower->Lag(clock_.Now()), absl::InfiniteDuration());
  ASSERT_OK(follower->Poll());
  EXPECT_TRUE(follower->UpToDate(clock_.Now()));
  EXPECT_EQ(follower->Lag(clock_.Now() + absl::Milliseconds(500)),
            absl::Milliseconds(500));
}

TEST_P(ChangeFollowerTest, APollThatFailsHalfWayDoesNotCatchUp) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  ASSERT_OK(follower->Start());
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_NO_FATAL_FAILURE(WriteElsewhere(name));
  }
  clock_.Advance(absl::Seconds(5));
  // Batches of 2 rows: BeginRead, ReadChangesOfKinds (2 rows, a full
  // batch), BeginRead, then the second ReadChangesOfKinds fails.
  faulty_->FailAt(4, absl::UnavailableError("injected"));
  EXPECT_FALSE(follower->Poll().ok());
  EXPECT_TRUE(faulty_->fired());
  EXPECT_EQ(delivered_.size(), 2u);  // the first batch reached subscribers
  EXPECT_FALSE(follower->UpToDate(clock_.Now()));
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(delivered_.size(), 3u);  // the rest, once
  EXPECT_TRUE(follower->UpToDate(clock_.Now()));
  EXPECT_EQ(losses_, 0);
}

// Stop() ends a poll between its batches, so that a backlog of rows (a
// replica catching up with another's reprocess) does not hold up shutdown;
// the follower then does not count as caught up.
TEST_P(ChangeFollowerTest, StoppingEndsAPollBetweenBatches) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  // Stopped while the first batch (2 rows) reaches subscribers: a device of
  // this test (subscribers must not call the follower); Stop() only joins
  // the idle background thread here, Poll runs on this one.
  bool stopped = false;
  follower->Subscribe([&](absl::Span<const persistence::ChangeRow>) {
    if (!stopped) follower->Stop();
    stopped = true;
  });
  ASSERT_OK(follower->Start());
  for (const char* name : {"a", "b", "c", "d", "e", "f"}) {
    ASSERT_NO_FATAL_FAILURE(WriteElsewhere(name));
  }
  clock_.Advance(absl::Seconds(5));
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(delivered_.size(), 2u);
  EXPECT_FALSE(follower->UpToDate(clock_.Now()));
}

TEST_P(ChangeFollowerTest, RowsPrunedBeforeTheyWereReadAreReportedLost) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  ASSERT_OK(follower->Start());
  ASSERT_NO_FATAL_FAILURE(ReadOneThenLoseTwo(*follower));
  // Then one more row is written.
  ASSERT_NO_FATAL_FAILURE(WriteElsewhere("d"));
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(losses_, 1);
  ASSERT_EQ(delivered_.size(), 2u);  // "a", then "d"
  EXPECT_TRUE(follower->UpToDate(clock_.Now()));
  ASSERT_OK(follower->Poll());  // nothing new: no loss either
  EXPECT_EQ(losses_, 1);
}

// The same when nothing follows the pruned rows: the log's end shows them.
TEST_P(ChangeFollowerTest, RowsPrunedAtTheEndOfTheLogAreReportedLost) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  ASSERT_OK(follower->Start());
  ASSERT_NO_FATAL_FAILURE(ReadOneThenLoseTwo(*follower));
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(losses_, 1);
  ASSERT_OK(follower->Poll());  // reported once
  EXPECT_EQ(losses_, 1);
  ASSERT_NO_FATAL_FAILURE(WriteElsewhere("d"));
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(losses_, 1);
  EXPECT_EQ(delivered_.size(), 2u);  // "a", then "d"
}

// Subscribers get the rows that change a customer's inputs only; rows of
// other kinds advance the log (OnAdvance) without being read out: a backlog
// of them, however long, costs one statement, not a batch per
// `batch_rows` (2 here).
TEST_P(ChangeFollowerTest, OnlyInputChangesAreReadOutAndOthersAdvanceTheLog) {
  std::unique_ptr<ChangeFollower> follower = Follower(absl::InfiniteDuration());
  int advances = 0;
  follower->OnAdvance([&] { ++advances; });
  ASSERT_OK(follower->Start());
  ASSERT_OK(follower->Poll());
  EXPECT_EQ(advances, 0);  // nothing new

  ASSERT_NO_FATAL_FAILURE(AppendElsewhere(50, /*then_customer=*/false));
  clock_.Advance(absl::Seconds(5));
  const int64_t before = faulty_->statements();
  ASSERT_OK(follower->Poll());
  // BeginRead, ReadChangesOfKinds, LastChangeSequence, ReadChanges (the
  // first row after the position, for pruning).
  EXPECT_EQ(faulty_->statements() - before, 4);
  EXPECT_TRUE(delivered_.empty());
  EXPECT_EQ(advances, 1);
  EXPECT_TRUE(follower->UpToDate(clock_.Now()));

  // This process's own commits reach subscribers and advance at once.
  persistence::ChangeRow own;
  own.kind = persistence::ChangeKind::kSourceChanged;
  own.data_source_uuid = source_uuid_;
  follower->Deliver({own});
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(advances, 2);
  delivered_.clear();

  ASSERT_NO_FATAL_FAILURE(AppendElsewhere(50, /*then_customer=*/true));
  ASSERT_NO_FATAL_FAILURE(WriteElsewhere("a"));
  ASSERT_NO_FATAL_FAILURE(AppendElsewhere(50, /*then_customer=*/false));
  ASSERT_OK(follower->Poll());
  ASSERT_EQ(delivered_.size(), 2u);
  for (const persistence::ChangeRow& row : delivered_) {
    EXPECT_EQ(row.kind, persistence::ChangeKind::kCustomerChanged);
  }
  EXPECT_EQ(delivered_[0].customer_uuid, "cus_elsewhere");
  EXPECT_GE(advances, 2);
  const int advanced = advances;
  ASSERT_OK(follower->Poll());  // read to the end: nothing again
  EXPECT_EQ(delivered_.size(), 2u);
  EXPECT_EQ(advances, advanced);
  EXPECT_EQ(losses_, 0);
}

}  // namespace
}  // namespace recurrent::core
