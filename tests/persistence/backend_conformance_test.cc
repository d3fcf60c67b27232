// The Backend contract (persistence/backend.h), checked through the
// interface only: transactions, snapshots, the change log, claims, the
// source scan of a write transaction, and a few row-storage rules. Rows are
// made through the interface too (no backend headers here).
#include "tests/persistence/backend_conformance.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence::testing {
namespace {

using ::recurrent::testing::MakeTempDir;
using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

std::unique_ptr<WriteTransaction> MustBeginWrite(Backend& backend) {
  absl::StatusOr<std::unique_ptr<WriteTransaction>> txn = backend.BeginWrite();
  EXPECT_OK(txn);
  return txn.ok() ? *std::move(txn) : nullptr;
}

std::unique_ptr<ReadTransaction> MustBeginRead(
    Backend& backend, Backend::ReadKind kind = Backend::ReadKind::kRequest) {
  absl::StatusOr<std::unique_ptr<ReadTransaction>> txn =
      backend.BeginRead(kind);
  EXPECT_OK(txn);
  return txn.ok() ? *std::move(txn) : nullptr;
}

// Every change row field, as text (a failure shows which differ).
std::string Describe(const ChangeRow& row) {
  const SubscriptionEvent& e = row.event;
  return absl::StrCat(
      "seq=", row.sequence, " at=", absl::FormatTime(row.committed_at),
      " kind=", static_cast<int>(row.kind), " ds=", row.data_source_uuid,
      " cus=", row.customer_uuid, " sources=[",
      absl::StrJoin(row.customer_sources, ","), "] event=", e.uuid, "/",
      static_cast<int>(e.type), "/", e.subscription.uuid, "/",
      e.subscription.customer_uuid, "/", e.subscription.data_source_uuid, "/",
      e.subscription.external_id, "/", absl::FormatTime(e.occurred_at), "/",
      engine::SubscriptionStatusName(e.status_after),
      " status=", static_cast<int>(row.status),
      " previous=", static_cast<int>(row.previous_status));
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendConformanceTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

void BackendConformanceTest::SetUp() {
  dir_ = MakeTempDir();
  ASSERT_OK_AND_ASSIGN(backend_, GetParam().open(dir_));
}

void BackendConformanceTest::TearDown() {
  backend_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Time BackendConformanceTest::Tick() {
  now_ += absl::Seconds(1);
  return now_;
}

DataSourceRow BackendConformanceTest::NewSource(const std::string& name) {
  DataSourceRow source;
  source.uuid = absl::StrCat("ds_", name);
  source.name = name;
  source.system = "custom";
  source.created_at = Tick();
  source.settings.data_source_uuid = source.uuid;
  source.settings.version = 1;
  source.settings.applied_at = source.created_at;
  source.settings.saved_at = source.created_at;
  source.settings.values = "v=1\n";
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  if (txn == nullptr) return source;
  EXPECT_OK(txn->InsertDataSource(source));
  EXPECT_OK(txn->Commit());
  return source;
}

Customer BackendConformanceTest::NewCustomer(const std::string& source_uuid,
                                             const std::string& external_id) {
  Customer customer;
  customer.uuid = absl::StrCat("cus_", external_id);
  customer.data_source_uuid = source_uuid;
  customer.external_id = external_id;
  customer.external_ids = {{source_uuid, external_id}};
  customer.name = absl::StrCat("Customer ", external_id);
  customer.created_at = Tick();
  customer.updated_at = customer.created_at;
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  if (txn == nullptr) return customer;
  EXPECT_OK(txn->InsertCustomer(customer));
  EXPECT_OK(txn->Commit());
  return customer;
}

// Invoice "inv_<id>" (external id "<id>-inv") of subscription `id` dated
// `date`, in EUR, with one 30-day line item "li_<id>" of `amount` cents
// starting then; no due date, no transaction.
Invoice OneMonthInvoice(const std::string& customer_uuid,
                        const std::string& source_uuid, const std::string& id,
                        absl::Time date, int64_t amount) {
  Invoice invoice;
  invoice.uuid = absl::StrCat("inv_", id);
  invoice.external_id = absl::StrCat(id, "-inv");
  invoice.customer_uuid = customer_uuid;
  invoice.data_source_uuid = source_uuid;
  invoice.date = date;
  invoice.currency = "EUR";
  LineItem item;
  item.uuid = absl::StrCat("li_", id);
  item.external_id = absl::StrCat(id, "-li");
  item.subscription_external_id = id;
  item.service_period_start = date;
  item.service_period_end = date + absl::Hours(24 * 30);
  item.amount_in_cents = amount;
  invoice.line_items.push_back(item);
  return invoice;
}

SubscriptionRef BackendConformanceTest::NewSubscription(
    const Customer& customer, const std::string& source_uuid,
    const std::string& external_id) {
  SubscriptionRef ref{absl::StrCat("sub_", external_id), customer.uuid,
                      source_uuid, external_id};
  Invoice invoice = OneMonthInvoice(customer.uuid, source_uuid, external_id,
                                    Tick(), 1000);
  invoice.due_date = invoice.date + absl::Hours(24);
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  if (txn == nullptr) return ref;
  EXPECT_OK(txn->InsertSubscriptions({ref}));
  EXPECT_OK(txn->InsertInvoices(customer.uuid, {invoice}));
  EXPECT_OK(txn->Commit());
  return ref;
}

namespace {

// ---- Transactions -----------------------------------------------------------

TEST_P(BackendConformanceTest, AWriteNotCommittedLeavesNothing) {
  DataSourceRow source;
  source.uuid = "ds_gone";
  source.name = "gone";
  source.created_at = Tick();
  source.settings.version = 1;
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertDataSource(source));
    ChangeRow row;
    row.kind = ChangeKind::kSourceChanged;
    row.data_source_uuid = source.uuid;
    ASSERT_OK(txn->AppendChanges({row}));
    // The transaction sees its own writes.
    EXPECT_OK(txn->GetDataSource(source.uuid));
  }  // destroyed uncommitted: rolled back
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  EXPECT_THAT(read->GetDataSource(source.uuid),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_gone")));
  ASSERT_OK_AND_ASSIGN(const Page<DataSourceRow> page,
                       read->ListDataSources(PageRequest{10, ""}));
  EXPECT_THAT(page.items, IsEmpty());
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> changes,
                       read->ReadChanges(0, 10));
  EXPECT_THAT(changes, IsEmpty());
  read.reset();
  // The write lock was released: the next write goes through.
  NewSource("kept");
}

TEST_P(BackendConformanceTest, AFinishedWriteTransactionRefusesMore) {
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  ASSERT_OK(txn->Commit());
  EXPECT_FALSE(txn->GetDataSource("ds_x").ok());
  EXPECT_FALSE(txn->Commit().ok());
  // And another write may begin while it still exists.
  NewSource("next");
}

TEST_P(BackendConformanceTest, AReadKeepsItsSnapshotWhileAWriteCommits) {
  const DataSourceRow first = NewSource("first");
  for (const Backend::ReadKind kind :
       {Backend::ReadKind::kRequest, Backend::ReadKind::kScan}) {
    std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_, kind);
    ASSERT_NE(read, nullptr);
    ASSERT_OK_AND_ASSIGN(Page<DataSourceRow> before,
                         read->ListDataSources(PageRequest{10, ""}));
    const size_t count = before.items.size();
    const DataSourceRow later =
        NewSource(absl::StrCat("later", static_cast<int>(kind)));
    ASSERT_OK_AND_ASSIGN(Page<DataSourceRow> again,
                         read->ListDataSources(PageRequest{10, ""}));
    EXPECT_THAT(again.items, SizeIs(count));
    EXPECT_THAT(read->GetDataSource(later.uuid),
                StatusIs(absl::StatusCode::kNotFound));
    read.reset();
    read = MustBeginRead(*backend_, kind);
    ASSERT_NE(read, nullptr);
    EXPECT_OK(read->GetDataSource(later.uuid));
  }
  EXPECT_FALSE(first.uuid.empty());
}

// ---- The change log ---------------------------------------------------------

// One row of every kind, with every field its kind uses.
std::vector<ChangeRow> EveryKind(absl::Time at) {
  std::vector<ChangeRow> rows;
  for (const ChangeKind kind :
       {ChangeKind::kEventPublished, ChangeKind::kEventRetracted}) {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = at;
    row.kind = kind;
    row.data_source_uuid = "ds_a";
    row.customer_uuid = "cus_a";
    row.event.uuid = absl::StrCat("evt_", static_cast<int>(kind));
    // A STARTED straight into PAST_DUE: status_after is not the type's.
    row.event.type = kind == ChangeKind::kEventPublished
                         ? engine::EventType::kAutoChurned
                         : engine::EventType::kStarted;
    row.event.status_after = kind == ChangeKind::kEventPublished
                                 ? engine::SubscriptionStatus::kCancelled
                                 : engine::SubscriptionStatus::kPastDue;
    row.event.subscription = SubscriptionRef{"sub_a", "cus_a", "ds_a", "SUB-A"};
    row.event.occurred_at = at - absl::Hours(24) + absl::Microseconds(7);
  }
  {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = at;
    row.kind = ChangeKind::kCustomerStatusChanged;
    row.data_source_uuid = "ds_a";
    row.customer_uuid = "cus_a";
    row.customer_sources = {"ds_a", "ds_b"};
    row.status = CustomerStatus::kCancelled;
    row.previous_status = CustomerStatus::kPastDue;
  }
  {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = at;
    row.kind = ChangeKind::kCustomerChanged;
    row.data_source_uuid = "ds_b";
    row.customer_uuid = "cus_b";
  }
  {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = at;
    row.kind = ChangeKind::kSourceChanged;
    row.data_source_uuid = "ds_c";
  }
  return rows;
}

absl::Status Append(Backend& backend, const std::vector<ChangeRow>& rows) {
  RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn,
                             backend.BeginWrite());
  if (absl::Status status = txn->AppendChanges(rows); !status.ok()) {
    return status;
  }
  return txn->Commit();
}

// Checks that the change log `read` sees holds `expected`, in order, every
// field equal but the sequence; returns the rows read.
std::vector<ChangeRow> ExpectLogHolds(ReadTransaction& read,
                                      const std::vector<ChangeRow>& expected) {
  absl::StatusOr<std::vector<ChangeRow>> all = read.ReadChanges(0, 100);
  EXPECT_OK(all.status());
  if (!all.ok()) return {};
  EXPECT_THAT(*all, SizeIs(expected.size()));
  for (size_t i = 0; i < std::min(all->size(), expected.size()); ++i) {
    ChangeRow wanted = expected[i];
    wanted.sequence = (*all)[i].sequence;
    EXPECT_EQ(Describe((*all)[i]), Describe(wanted)) << "row " << i;
  }
  return *std::move(all);
}

TEST_P(BackendConformanceTest, ChangeRowsRoundTripEveryFieldInOrder) {
  const std::vector<ChangeRow> first = EveryKind(Tick());
  const std::vector<ChangeRow> second = EveryKind(Tick());
  ASSERT_OK(Append(*backend_, first));
  ASSERT_OK(Append(*backend_, second));
  std::vector<ChangeRow> expected = first;
  expected.insert(expected.end(), second.begin(), second.end());

  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  const std::vector<ChangeRow> all = ExpectLogHolds(*read, expected);
  ASSERT_THAT(all, SizeIs(expected.size()));
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_GT(all[i].sequence, all[i - 1].sequence);
  }
  ASSERT_OK_AND_ASSIGN(const int64_t last, read->LastChangeSequence());
  EXPECT_EQ(last, all.back().sequence);

  // Pages by `after` and `limit`.
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> page,
                       read->ReadChanges(all[1].sequence, 3));
  ASSERT_THAT(page, SizeIs(3));
  EXPECT_EQ(page[0].sequence, all[2].sequence);
  EXPECT_EQ(page[2].sequence, all[4].sequence);
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> end,
                       read->ReadChanges(all.back().sequence, 3));
  EXPECT_THAT(end, IsEmpty());
  EXPECT_THAT(read->ReadChanges(0, 0), IsOkAndHolds(IsEmpty()));
}

// ReadChangesOfKinds: the rows of the kinds asked for, whole and in order,
// `limit` counting only those; the others are passed over.
TEST_P(BackendConformanceTest, ChangeRowsAreReadByKind) {
  std::vector<ChangeRow> rows;
  for (int i = 0; i < 3; ++i) {
    const std::vector<ChangeRow> each = EveryKind(Tick());
    rows.insert(rows.end(), each.begin(), each.end());
  }
  ASSERT_OK(Append(*backend_, rows));
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  const std::vector<ChangeRow> all = ExpectLogHolds(*read, rows);
  ASSERT_THAT(all, SizeIs(rows.size()));
  const ChangeKind kinds[] = {ChangeKind::kCustomerChanged,
                              ChangeKind::kSourceChanged};
  std::vector<ChangeRow> wanted;
  for (const ChangeRow& row : all) {
    if (row.kind == kinds[0] || row.kind == kinds[1]) wanted.push_back(row);
  }
  ASSERT_THAT(wanted, SizeIs(6));  // EveryKind has one of each

  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> found,
                       read->ReadChangesOfKinds(0, 100, kinds));
  ASSERT_THAT(found, SizeIs(wanted.size()));
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(Describe(found[i]), Describe(wanted[i])) << "row " << i;
  }
  // `limit` counts the rows of those kinds; `after` may be a row of
  // another kind (all[1]: an event) or of those (wanted[1]).
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> page,
                       read->ReadChangesOfKinds(all[1].sequence, 3, kinds));
  ASSERT_THAT(page, SizeIs(3));
  EXPECT_EQ(page[0].sequence, wanted[0].sequence);
  EXPECT_EQ(page[2].sequence, wanted[2].sequence);
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> next,
                       read->ReadChangesOfKinds(wanted[1].sequence, 3, kinds));
  ASSERT_THAT(next, SizeIs(3));
  EXPECT_EQ(next[0].sequence, wanted[2].sequence);
  EXPECT_EQ(next[2].sequence, wanted[4].sequence);
  const ChangeKind statuses[] = {ChangeKind::kCustomerStatusChanged};
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> status_rows,
                       read->ReadChangesOfKinds(0, 100, statuses));
  EXPECT_THAT(status_rows, SizeIs(3));
  for (const ChangeRow& row : status_rows) {
    EXPECT_EQ(row.kind, ChangeKind::kCustomerStatusChanged);
  }
  EXPECT_THAT(read->ReadChangesOfKinds(wanted.back().sequence, 100, kinds),
              IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(read->ReadChangesOfKinds(0, 0, kinds), IsOkAndHolds(IsEmpty()));
}

TEST_P(BackendConformanceTest, ChangeRowsRolledBackToASavepointAreNotAppended) {
  // Enough rows, one call at a time, to pass a small bound on the rows a
  // backend keeps in memory (the test backends' PostgreSQL keeps 3) before,
  // after and across the savepoint.
  std::vector<ChangeRow> expected;
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    for (int i = 0; i < 2; ++i) {
      const std::vector<ChangeRow> rows = EveryKind(Tick());
      ASSERT_OK(txn->AppendChanges(rows));
      expected.insert(expected.end(), rows.begin(), rows.end());
    }
    // One more row, which such a backend still holds in memory at the
    // savepoint: the rows appended after it must not take it along when
    // they are rolled back.
    const ChangeRow held = EveryKind(Tick())[0];
    ASSERT_OK(txn->AppendChanges({held}));
    expected.push_back(held);
    ASSERT_OK(txn->Savepoint());
    for (int i = 0; i < 3; ++i)
      ASSERT_OK(txn->AppendChanges(EveryKind(Tick())));
    ASSERT_OK(txn->RollbackToSavepoint());
    const std::vector<ChangeRow> rows = EveryKind(Tick());
    ASSERT_OK(txn->AppendChanges(rows));
    expected.insert(expected.end(), rows.begin(), rows.end());
    ASSERT_OK(txn->Savepoint());
    ASSERT_OK(txn->AppendChanges({rows[0]}));
    expected.push_back(rows[0]);
    ASSERT_OK(txn->ReleaseSavepoint());
    ASSERT_OK(txn->Commit());
  }
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  const std::vector<ChangeRow> all = ExpectLogHolds(*read, expected);
  ASSERT_THAT(all, SizeIs(expected.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, static_cast<int64_t>(i) + 1);
  }
  // The next transaction starts with nothing left over.
  const std::vector<ChangeRow> next = EveryKind(Tick());
  ASSERT_OK(Append(*backend_, next));
  read = MustBeginRead(*backend_);
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> after,
                       read->ReadChanges(all.back().sequence, 100));
  ASSERT_THAT(after, SizeIs(next.size()));
  EXPECT_EQ(after.back().sequence,
            static_cast<int64_t>(expected.size() + next.size()));
}

TEST_P(BackendConformanceTest,
       ChangeRowsStayAppendableAfterARolledBackFirstMove) {
  // The first rows a backend moves out of memory (past the test backends'
  // PostgreSQL bound of 3) come after a savepoint that is rolled back,
  // which also undoes whatever the move first set up; appending goes on.
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  ASSERT_OK(txn->Savepoint());
  ASSERT_OK(txn->AppendChanges(EveryKind(Tick())));
  ASSERT_OK(txn->RollbackToSavepoint());
  ASSERT_OK(txn->Savepoint());
  const std::vector<ChangeRow> kept = EveryKind(Tick());
  ASSERT_OK(txn->AppendChanges(kept));
  ASSERT_OK(txn->ReleaseSavepoint());
  ASSERT_OK(txn->Commit());
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  ExpectLogHolds(*read, kept);
}

TEST_P(BackendConformanceTest, LastChangeSequenceCountsPrunedRows) {
  {
    std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
    ASSERT_NE(read, nullptr);
    EXPECT_THAT(read->LastChangeSequence(), IsOkAndHolds(0));
  }
  const absl::Time old = Tick();
  ASSERT_OK(Append(*backend_, EveryKind(old)));
  int64_t last = 0;
  {
    std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
    ASSERT_NE(read, nullptr);
    ASSERT_OK_AND_ASSIGN(last, read->LastChangeSequence());
    EXPECT_GT(last, 0);
  }
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const int64_t pruned,
                         txn->PruneChanges(old + absl::Seconds(1), 1000));
    EXPECT_EQ(pruned, 5);
    ASSERT_OK(txn->Commit());
  }
  {
    std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
    ASSERT_NE(read, nullptr);
    EXPECT_THAT(read->ReadChanges(0, 100), IsOkAndHolds(IsEmpty()));
    EXPECT_THAT(read->LastChangeSequence(), IsOkAndHolds(last));
  }
  // Sequences never go back.
  ASSERT_OK(Append(*backend_, EveryKind(Tick())));
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> rows,
                       read->ReadChanges(0, 100));
  ASSERT_THAT(rows, SizeIs(5));
  EXPECT_GT(rows.front().sequence, last);
}

// The figures the metrics read: the earliest stored transition, and the
// change log's rows and oldest row, before and after pruning.
TEST_P(BackendConformanceTest, ReadStorageStatsReportsTransitionsAndTheLog) {
  const auto stats = [&]() -> StorageStats {
    std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
    if (read == nullptr) return {};
    absl::StatusOr<StorageStats> result = read->ReadStorageStats();
    EXPECT_OK(result);
    return result.value_or(StorageStats());
  };
  StorageStats empty = stats();
  EXPECT_EQ(empty.earliest_transition_at, std::nullopt);
  EXPECT_EQ(empty.change_log_rows, 0);
  EXPECT_EQ(empty.oldest_change_at, std::nullopt);
  // An empty schema takes some pages already.
  EXPECT_GT(empty.database_bytes, 0);

  const DataSourceRow source = NewSource("s");
  const absl::Time soon = Tick() + absl::Hours(5);
  const absl::Time later = soon + absl::Hours(1);
  for (const auto& [name, at] : {std::pair{"a", later}, std::pair{"b", soon}}) {
    const Customer customer = NewCustomer(source.uuid, name);
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         txn->LoadCustomerState(customer.uuid, false));
    EvaluationWrite write;
    write.customer_key = state.key;
    write.customer = EvaluationWrite::CustomerUpdate{};
    write.customer->status = CustomerStatus::kActive;
    write.customer->next_transition_at = at;
    ASSERT_OK(txn->WriteEvaluation(write));
    ASSERT_OK(txn->Commit());
  }
  const absl::Time first = Tick();
  ASSERT_OK(Append(*backend_, EveryKind(first)));
  ASSERT_OK(Append(*backend_, EveryKind(Tick())));
  StorageStats filled = stats();
  EXPECT_GE(filled.database_bytes, empty.database_bytes);
  EXPECT_EQ(filled.earliest_transition_at, soon);
  EXPECT_EQ(filled.change_log_rows, 10);
  EXPECT_EQ(filled.oldest_change_at, first);

  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const int64_t pruned,
                         txn->PruneChanges(first + absl::Seconds(1), 1000));
    EXPECT_EQ(pruned, 5);
    ASSERT_OK(txn->Commit());
  }
  StorageStats pruned = stats();
  EXPECT_EQ(pruned.change_log_rows, 5);
  EXPECT_GT(pruned.oldest_change_at, first);
}

TEST_P(BackendConformanceTest, PruneChangesDeletesOnlyTheOldPrefix) {
  const absl::Time t0 = Tick();
  // committed_at by sequence: t0, t0+1, t0+2, t0+10, t0+1 (a clock that went
  // back): the old prefix before t0+5 is the first three only.
  std::vector<ChangeRow> rows;
  for (const int offset : {0, 1, 2, 10, 1}) {
    ChangeRow& row = rows.emplace_back();
    row.committed_at = t0 + absl::Seconds(offset);
    row.kind = ChangeKind::kSourceChanged;
    row.data_source_uuid = absl::StrCat("ds_", offset);
  }
  ASSERT_OK(Append(*backend_, rows));
  const absl::Time before = t0 + absl::Seconds(5);
  const auto prune = [&](int limit) -> absl::StatusOr<int64_t> {
    RECURRENT_ASSIGN_OR_RETURN(std::unique_ptr<WriteTransaction> txn,
                               backend_->BeginWrite());
    absl::StatusOr<int64_t> pruned = txn->PruneChanges(before, limit);
    if (!pruned.ok()) return pruned;
    if (absl::Status status = txn->Commit(); !status.ok()) return status;
    return pruned;
  };
  EXPECT_THAT(prune(2), IsOkAndHolds(2));  // the limit
  EXPECT_THAT(prune(100), IsOkAndHolds(1));
  EXPECT_THAT(prune(100), IsOkAndHolds(0));
  EXPECT_THAT(prune(0), IsOkAndHolds(0));
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(const std::vector<ChangeRow> left,
                       read->ReadChanges(0, 100));
  ASSERT_THAT(left, SizeIs(2));
  EXPECT_EQ(left[0].committed_at, t0 + absl::Seconds(10));
  EXPECT_EQ(left[1].committed_at, t0 + absl::Seconds(1));
}

// ---- Claims ----------------------------------------------------------------

TEST_P(BackendConformanceTest, ClaimDueCustomersReturnsDueOnesEarliestFirst) {
  const DataSourceRow source = NewSource("s");
  const absl::Time now = Tick();
  // Customer i's next transition, if any.
  const std::vector<std::optional<absl::Time>> next = {
      now - absl::Hours(1), now - absl::Hours(3), std::nullopt, now,
      now + absl::Seconds(1)};
  std::vector<std::string> uuids;
  for (size_t i = 0; i < next.size(); ++i) {
    uuids.push_back(NewCustomer(source.uuid, absl::StrCat("c", i)).uuid);
  }
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    for (size_t i = 0; i < next.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(const CustomerState state,
                           txn->LoadCustomerState(uuids[i], false));
      EvaluationWrite write;
      write.customer_key = state.key;
      write.customer = EvaluationWrite::CustomerUpdate{};
      write.customer->status = CustomerStatus::kActive;
      write.customer->next_transition_at = next[i];
      ASSERT_OK(txn->WriteEvaluation(write));
    }
    ASSERT_OK(txn->Commit());
  }
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  EXPECT_THAT(txn->ClaimDueCustomers(now, 10),
              IsOkAndHolds(ElementsAre(uuids[1], uuids[0], uuids[3])));
  EXPECT_THAT(txn->ClaimDueCustomers(now, 2),
              IsOkAndHolds(ElementsAre(uuids[1], uuids[0])));
  EXPECT_THAT(txn->ClaimDueCustomers(now - absl::Hours(5), 10),
              IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(txn->ClaimDueCustomers(now, 0), IsOkAndHolds(IsEmpty()));
}

// ---- Source scans -----------------------------------------------------------

// Every customer a scan streams.
absl::StatusOr<std::vector<CustomerState>> Drain(SourceScan& scan) {
  std::vector<CustomerState> states;
  while (true) {
    CustomerState state;
    absl::StatusOr<bool> more = scan.Next(state);
    if (!more.ok()) return more.status();
    if (!*more) return states;
    states.push_back(std::move(state));
  }
}

TEST_P(BackendConformanceTest, AWriteTransactionScansTheStateAtItsStart) {
  const DataSourceRow source = NewSource("s");
  const DataSourceRow other = NewSource("o");
  const Customer a = NewCustomer(source.uuid, "a");
  const Customer b = NewCustomer(other.uuid, "b");
  const SubscriptionRef sub_a = NewSubscription(a, source.uuid, "A");
  const SubscriptionRef sub_b = NewSubscription(b, other.uuid, "B");
  // b merged into a: a spans both sources, its external ids in order.
  const absl::Time event_at = Tick();
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->MoveCustomerRows(b.uuid, a.uuid));
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         txn->LoadCustomerState(a.uuid, false));
    ASSERT_THAT(state.subscriptions, SizeIs(2));
    EvaluationWrite write;
    write.customer_key = state.key;
    write.subscriptions.push_back({state.subscriptions[0].key, {}});
    write.subscriptions.back().evaluation.status =
        engine::SubscriptionStatus::kActive;
    write.subscriptions.back().evaluation.started_at = event_at;
    write.subscriptions.back().evaluation.status_reason = "paid";
    write.inserted_events.push_back({"evt_1", state.subscriptions[0].key,
                                     state.subscriptions[0].source_key,
                                     engine::EventType::kStarted, event_at});
    write.customer = EvaluationWrite::CustomerUpdate{};
    write.customer->status = CustomerStatus::kActive;
    write.customer->derived_tags = {"x-tag", "y-tag"};
    write.customer->status_reason = "Subscription A: paid.";
    write.customer->next_transition_at = event_at + absl::Hours(1);
    ASSERT_OK(txn->WriteEvaluation(write));
    ASSERT_OK(txn->Commit());
  }

  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  EXPECT_THAT(txn->ScanSource("ds_absent"),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                       txn->ScanSource(source.uuid));
  // Read on another thread while this transaction writes: a new customer
  // with a subscription in the source, and a's evaluation.
  absl::StatusOr<std::vector<CustomerState>> scanned;
  std::thread reader([&] { scanned = Drain(*scan); });
  const Customer c = [&] {
    Customer customer;
    customer.uuid = "cus_c";
    customer.data_source_uuid = source.uuid;
    customer.external_id = "c";
    customer.created_at = Tick();
    customer.updated_at = customer.created_at;
    customer.status_reason = "No subscription has started yet.";
    return customer;
  }();
  EXPECT_OK(txn->InsertCustomer(c));
  EXPECT_OK(txn->InsertSubscriptions(
      {SubscriptionRef{"sub_c", c.uuid, source.uuid, "C"}}));
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       txn->LoadCustomerState(a.uuid, true));
  EvaluationWrite write;
  write.customer_key = state.key;
  write.deleted_events.push_back(state.events.at(0).key);
  write.customer = EvaluationWrite::CustomerUpdate{};
  write.customer->status = CustomerStatus::kPastDue;
  write.customer->status_reason = "Subscription A: unpaid.";
  EXPECT_OK(txn->WriteEvaluation(write));
  reader.join();
  scan.reset();
  ASSERT_OK(txn->Commit());

  ASSERT_OK(scanned);
  ASSERT_THAT(*scanned, SizeIs(1));  // not c
  const CustomerState& s = scanned->front();
  EXPECT_EQ(s.key, state.key);
  EXPECT_EQ(s.customer.uuid, a.uuid);
  EXPECT_EQ(s.customer.status, CustomerStatus::kActive);
  EXPECT_THAT(s.customer.derived_tags, ElementsAre("x-tag", "y-tag"));
  EXPECT_EQ(s.customer.status_reason, "Subscription A: paid.");
  EXPECT_EQ(s.customer.data_source_uuid, source.uuid);
  EXPECT_EQ(s.customer.external_id, "a");
  EXPECT_THAT(
      s.customer.external_ids,
      ElementsAre(ExternalId{source.uuid, "a"}, ExternalId{other.uuid, "b"}));
  EXPECT_EQ(s.next_transition_at, event_at + absl::Hours(1));
  ASSERT_THAT(s.facts.invoices, SizeIs(2));  // of both sources
  EXPECT_THAT(s.subscriptions, SizeIs(2));
  EXPECT_EQ(s.subscriptions[0].ref.uuid, sub_a.uuid);
  EXPECT_EQ(s.subscriptions[0].ref.customer_uuid, a.uuid);
  EXPECT_EQ(s.subscriptions[0].evaluation.status,
            engine::SubscriptionStatus::kActive);
  EXPECT_EQ(s.subscriptions[0].evaluation.status_reason, "paid");
  EXPECT_EQ(s.subscriptions[1].ref.uuid, sub_b.uuid);
  ASSERT_THAT(s.events, SizeIs(1));  // deleted later, uncommitted then
  EXPECT_EQ(s.events[0].type, engine::EventType::kStarted);
  EXPECT_EQ(s.events[0].occurred_at, event_at);
  EXPECT_EQ(s.events[0].subscription_key, s.subscriptions[0].key);
  EXPECT_THAT(s.settings, IsEmpty());

  // Committed, the writes are what a new scan sees.
  std::unique_ptr<ReadTransaction> read =
      MustBeginRead(*backend_, Backend::ReadKind::kScan);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> rescan,
                       read->ScanSource(source.uuid));
  ASSERT_OK_AND_ASSIGN(const std::vector<CustomerState> after, Drain(*rescan));
  ASSERT_THAT(after, SizeIs(2));
  EXPECT_EQ(after[0].customer.status, CustomerStatus::kPastDue);
  EXPECT_EQ(after[0].customer.status_reason, "Subscription A: unpaid.");
  EXPECT_THAT(after[0].events, IsEmpty());
  EXPECT_EQ(after[1].customer.uuid, c.uuid);
  EXPECT_EQ(after[1].customer.status_reason,
            "No subscription has started yet.");
  EXPECT_GT(rescan->rows_scanned(), 0);
  // The stored reason is read with the record, by a look-up and a listing.
  ASSERT_OK_AND_ASSIGN(const Customer got, read->GetCustomer(a.uuid));
  EXPECT_EQ(got.status_reason, "Subscription A: unpaid.");
  ASSERT_OK_AND_ASSIGN(const Page<Customer> listed,
                       read->ListCustomers(CustomerFilter{}, PageRequest{}));
  ASSERT_THAT(listed.items, SizeIs(2));
  EXPECT_EQ(listed.items[1].status_reason, "No subscription has started yet.");
}

// Each event's status_after is stored as written (not derived from its
// type) and read back by every reader of events: the customer state, the
// source scan and the listings by customer and by source.
TEST_P(BackendConformanceTest, EventStatusAfterRoundTrips) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  NewSubscription(a, source.uuid, "A");
  const absl::Time started = Tick();
  const absl::Time recovered = started + absl::Hours(24);
  const absl::Time reactivated = started + absl::Hours(72);
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         txn->LoadCustomerState(a.uuid, false));
    ASSERT_THAT(state.subscriptions, SizeIs(1));
    const SubscriptionRow& sub = state.subscriptions[0];
    EvaluationWrite write;
    write.customer_key = state.key;
    write.inserted_events = {
        {"evt_1", sub.key, sub.source_key, engine::EventType::kStarted, started,
         engine::SubscriptionStatus::kPastDue},
        {"evt_2", sub.key, sub.source_key, engine::EventType::kRecovered,
         recovered, engine::SubscriptionStatus::kActive},
        {"evt_3", sub.key, sub.source_key, engine::EventType::kReactivated,
         reactivated, engine::SubscriptionStatus::kPastDue},
    };
    ASSERT_OK(txn->WriteEvaluation(write));
    ASSERT_OK(txn->Commit());
  }
  using engine::SubscriptionStatus;
  const std::vector<SubscriptionStatus> expected = {
      SubscriptionStatus::kPastDue, SubscriptionStatus::kActive,
      SubscriptionStatus::kPastDue};
  const auto by_time = [](std::vector<EventRow> events) {
    std::sort(events.begin(), events.end(),
              [](const EventRow& x, const EventRow& y) {
                return x.occurred_at < y.occurred_at;
              });
    std::vector<SubscriptionStatus> out;
    for (const EventRow& e : events) out.push_back(e.status_after);
    return out;
  };

  std::unique_ptr<ReadTransaction> read =
      MustBeginRead(*backend_, Backend::ReadKind::kScan);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       read->LoadCustomerState(a.uuid, true));
  EXPECT_EQ(by_time(state.events), expected);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                       read->ScanSource(source.uuid));
  ASSERT_OK_AND_ASSIGN(const std::vector<CustomerState> scanned, Drain(*scan));
  ASSERT_THAT(scanned, SizeIs(1));
  EXPECT_EQ(by_time(scanned[0].events), expected);
  scan.reset();
  for (const EventFilter& filter :
       {EventFilter{a.uuid, "", absl::InfiniteFuture()},
        EventFilter{"", source.uuid, absl::InfiniteFuture()}}) {
    ASSERT_OK_AND_ASSIGN(const Page<SubscriptionEvent> page,
                         read->ListEvents(filter, PageRequest{}));
    std::vector<SubscriptionStatus> listed;
    for (const SubscriptionEvent& e : page.items) {
      listed.push_back(e.status_after);
    }
    EXPECT_EQ(listed, expected);
    ASSERT_THAT(page.items, SizeIs(3));
    EXPECT_EQ(page.items[0].uuid, "evt_1");
    EXPECT_EQ(page.items[0].type, engine::EventType::kStarted);
  }
}

// Inserts, in `txn`, customer "cus_<id>" of `source_uuid` with external id
// `id` and its subscription "sub_<id>" there.
Customer InsertSubscribedCustomer(WriteTransaction& txn,
                                  const std::string& source_uuid,
                                  const std::string& id, absl::Time at) {
  Customer customer;
  customer.uuid = absl::StrCat("cus_", id);
  customer.data_source_uuid = source_uuid;
  customer.external_id = id;
  customer.external_ids = {{source_uuid, id}};
  customer.created_at = at;
  customer.updated_at = at;
  EXPECT_OK(txn.InsertCustomer(customer));
  EXPECT_OK(txn.InsertSubscriptions(
      {SubscriptionRef{absl::StrCat("sub_", id), customer.uuid, source_uuid,
                       id}}));
  return customer;
}

// More customers than one page of PostgreSQL's scan (500), each with an
// invoice, its line item and (every third) a transaction, one customer
// merged into another: every customer comes once, in key order, with all
// its rows, from a write transaction's scan (which on PostgreSQL reads
// pages ahead on its own connection) and from a read transaction's.
TEST_P(BackendConformanceTest, AScanOfManyPagesStreamsEveryCustomerWhole) {
  constexpr int kCustomers = 1234;
  const DataSourceRow source = NewSource("s");
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    for (int i = 0; i < kCustomers; ++i) {
      const std::string id = absl::StrCat(i);
      Customer customer;
      ASSERT_NO_FATAL_FAILURE(
          customer = InsertSubscribedCustomer(*txn, source.uuid, id, now_));
      const Invoice invoice = OneMonthInvoice(
          customer.uuid, source.uuid, id, now_ + absl::Seconds(i), 1000 + i);
      ASSERT_OK(txn->InsertInvoices(customer.uuid, {invoice}));
      if (i % 3 == 0) {
        Transaction paid;
        paid.uuid = absl::StrCat("tr_", id);
        paid.external_id = absl::StrCat(id, "-tr");
        paid.type = engine::TransactionType::kPayment;
        paid.result = engine::TransactionResult::kSuccessful;
        paid.date = invoice.date;
        ASSERT_OK(txn->InsertTransaction(invoice.uuid, paid));
      }
    }
    // Customer 1 (with no transaction) merged into customer 0.
    ASSERT_OK(txn->MoveCustomerRows("cus_1", "cus_0"));
    ASSERT_OK(txn->Commit());
  }
  const auto check = [&](const std::vector<CustomerState>& states) {
    ASSERT_THAT(states, SizeIs(kCustomers - 1));
    for (size_t n = 1; n < states.size(); ++n) {
      ASSERT_LT(states[n - 1].key, states[n].key);
    }
    ASSERT_EQ(states[0].customer.uuid, "cus_0");
    ASSERT_THAT(states[0].facts.invoices, SizeIs(2));
    EXPECT_THAT(states[0].subscriptions, SizeIs(2));
    int transactions = 0;
    for (const CustomerState& state : states) {
      ASSERT_FALSE(state.facts.invoices.empty()) << state.customer.uuid;
      for (const auto& invoice : state.facts.invoices) {
        ASSERT_THAT(invoice.line_items, SizeIs(1)) << state.customer.uuid;
        transactions += static_cast<int>(invoice.transactions.size());
      }
    }
    EXPECT_EQ(transactions, (kCustomers + 2) / 3);
    const CustomerState& last = states.back();
    EXPECT_EQ(last.customer.uuid, absl::StrCat("cus_", kCustomers - 1));
    EXPECT_EQ(last.facts.invoices.front().line_items.front().amount_in_cents,
              1000 + kCustomers - 1);
  };
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                         txn->ScanSource(source.uuid));
    ASSERT_OK_AND_ASSIGN(const std::vector<CustomerState> states,
                         Drain(*scan));
    check(states);
    scan.reset();
    ASSERT_OK(txn->Commit());
  }
  std::unique_ptr<ReadTransaction> read =
      MustBeginRead(*backend_, Backend::ReadKind::kScan);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                       read->ScanSource(source.uuid));
  ASSERT_OK_AND_ASSIGN(const std::vector<CustomerState> states, Drain(*scan));
  check(states);
}

// A scan abandoned part-way (its page read ahead still running on
// PostgreSQL) ends cleanly, and its transaction commits.
TEST_P(BackendConformanceTest, AScanAbandonedPartWayEndsCleanly) {
  const DataSourceRow source = NewSource("s");
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    for (int i = 0; i < 1100; ++i) {
      const std::string id = absl::StrCat(i);
      Customer customer;
      ASSERT_NO_FATAL_FAILURE(
          customer = InsertSubscribedCustomer(*txn, source.uuid, id, now_));
    }
    ASSERT_OK(txn->Commit());
  }
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                       txn->ScanSource(source.uuid));
  CustomerState state;
  ASSERT_OK_AND_ASSIGN(const bool more, scan->Next(state));
  EXPECT_TRUE(more);
  scan.reset();
  EXPECT_OK(txn->Commit());
}

// ---- Rows -------------------------------------------------------------------

TEST_P(BackendConformanceTest, InsertCancellationIsFalseTheSecondTime) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "a");
  const SubscriptionRef sub = NewSubscription(customer, source.uuid, "A");
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  const absl::Time at = Tick();
  EXPECT_THAT(txn->InsertCancellation(sub.uuid, at, at), IsOkAndHolds(true));
  EXPECT_THAT(txn->InsertCancellation(sub.uuid, at, Tick()),
              IsOkAndHolds(false));
  EXPECT_THAT(txn->InsertCancellation(sub.uuid, at + absl::Seconds(1), at),
              IsOkAndHolds(true));
  EXPECT_THAT(txn->InsertCancellation("sub_absent", at, at),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("sub_absent")));
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       txn->LoadCustomerState(customer.uuid, false));
  EXPECT_THAT(state.facts.cancellations, SizeIs(2));
}

TEST_P(BackendConformanceTest, UpdateCustomerReplacesFieldsAndTags) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "a");
  const absl::Time first = Tick();
  const absl::Time second = Tick();
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  CustomerFields fields;
  fields.name = "Ada";
  fields.email = "ada@example.com";
  fields.lead_created_at = first;
  ASSERT_OK(txn->UpdateCustomer(customer.uuid, fields, {"b", "a"}, first));
  fields.email = "";
  fields.free_trial_started_at = second;
  ASSERT_OK(txn->UpdateCustomer(customer.uuid, fields, {"c", "a"}, second));
  ASSERT_OK_AND_ASSIGN(const Customer stored, txn->GetCustomer(customer.uuid));
  EXPECT_EQ(stored.name, "Ada");
  EXPECT_EQ(stored.email, "");
  EXPECT_EQ(stored.lead_created_at, first);
  EXPECT_EQ(stored.free_trial_started_at, second);
  EXPECT_THAT(stored.tags, ElementsAre("a", "c"));
  EXPECT_EQ(stored.updated_at, second);
  EXPECT_EQ(stored.created_at, customer.created_at);
  EXPECT_EQ(stored.status, CustomerStatus::kLead);
  EXPECT_THAT(stored.external_ids, ElementsAre(ExternalId{source.uuid, "a"}));
  EXPECT_THAT(txn->UpdateCustomer("cus_absent", fields, {}, second),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_absent")));
}

TEST_P(BackendConformanceTest, SettingsRowsRoundTripTheirValuesVerbatim) {
  DataSourceRow source;
  source.uuid = "ds_s";
  source.name = "s";
  source.system = "custom";
  source.created_at = Tick();
  source.settings.data_source_uuid = source.uuid;
  source.settings.version = 1;
  source.settings.applied_at = source.created_at;
  source.settings.saved_at = source.created_at;
  source.settings.values = "a=1\nodd = value with = signs\n\n\ttab\n";
  SettingsRow v2;
  v2.data_source_uuid = source.uuid;
  v2.version = 2;
  v2.applied_at = source.created_at - absl::Hours(24 * 40);
  v2.saved_at = Tick();
  v2.saved_by = "admin key";
  v2.impact.customers_reprocessed = 10;
  v2.impact.auto_churns_reversed = 2;
  v2.impact.auto_churns_applied = 3;
  v2.impact.customers_status_changed = 4;
  v2.mrr_impact = "mrr_change EUR -4900\nchurned_mrr EUR 4900\n";
  v2.values = "past_due_handling.mode=auto_churn\n";
  {
    std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
    ASSERT_NE(txn, nullptr);
    ASSERT_OK(txn->InsertDataSource(source));
    ASSERT_OK(txn->InsertSettingsVersion(v2));
    EXPECT_THAT(txn->InsertSettingsVersion(v2),
                StatusIs(absl::StatusCode::kAlreadyExists));
    SettingsRow absent = v2;
    absent.data_source_uuid = "ds_absent";
    EXPECT_THAT(txn->InsertSettingsVersion(absent),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_absent")));
    ASSERT_OK(txn->Commit());
  }
  const auto same = [](const SettingsRow& a, const SettingsRow& b) {
    return a.data_source_uuid == b.data_source_uuid && a.version == b.version &&
           a.applied_at == b.applied_at && a.saved_at == b.saved_at &&
           a.saved_by == b.saved_by &&
           a.impact.customers_reprocessed == b.impact.customers_reprocessed &&
           a.impact.auto_churns_reversed == b.impact.auto_churns_reversed &&
           a.impact.auto_churns_applied == b.impact.auto_churns_applied &&
           a.impact.customers_status_changed ==
               b.impact.customers_status_changed &&
           a.values == b.values && a.mrr_impact == b.mrr_impact;
  };
  std::unique_ptr<ReadTransaction> read = MustBeginRead(*backend_);
  ASSERT_NE(read, nullptr);
  ASSERT_OK_AND_ASSIGN(const std::vector<SettingsRow> versions,
                       read->ListSettingsVersions(source.uuid));
  ASSERT_THAT(versions, SizeIs(2));
  EXPECT_TRUE(same(versions[0], source.settings)) << versions[0].values;
  EXPECT_TRUE(same(versions[1], v2)) << versions[1].values;
  ASSERT_OK_AND_ASSIGN(const std::vector<SettingsRow> current,
                       read->CurrentSettings());
  ASSERT_THAT(current, SizeIs(1));
  EXPECT_TRUE(same(current[0], v2));
  ASSERT_OK_AND_ASSIGN(const DataSourceRow stored,
                       read->GetDataSource(source.uuid));
  EXPECT_TRUE(same(stored.settings, v2));
  EXPECT_EQ(stored.name, "s");
  EXPECT_EQ(stored.created_at, source.created_at);
  EXPECT_THAT(read->ListSettingsVersions("ds_absent"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_absent")));
}

TEST_P(BackendConformanceTest, UniquenessConflictsNameTheRow) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "a");
  NewSubscription(customer, source.uuid, "A");  // invoice "A-inv", "A-li"
  std::unique_ptr<WriteTransaction> txn = MustBeginWrite(*backend_);
  ASSERT_NE(txn, nullptr);
  DataSourceRow twin = source;
  twin.uuid = "ds_twin";
  EXPECT_THAT(txn->InsertDataSource(twin),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "data source named 's' already exists"));
  Customer again = customer;
  again.uuid = "cus_again";
  const absl::Status customer_taken = txn->InsertCustomer(again);
  EXPECT_THAT(
      customer_taken,
      StatusIs(absl::StatusCode::kAlreadyExists,
               absl::StrCat("a customer with external id 'a' already exists"
                            " in data source ",
                            source.uuid)));
  // The reason and what clashed, for the API's google.rpc.ErrorInfo.
  EXPECT_EQ(common::ReasonOf(customer_taken), "RESOURCE_ALREADY_EXISTS");
  EXPECT_THAT(common::ReasonMetadataOf(customer_taken),
              ElementsAre(Pair("resource_id", "a"),
                          Pair("resource_type", "customer")));
  Invoice invoice;
  invoice.uuid = "inv_new";
  invoice.external_id = "NEW";
  invoice.data_source_uuid = source.uuid;
  invoice.currency = "EUR";
  invoice.date = Tick();
  LineItem item;
  item.uuid = "li_new";
  item.external_id = "A-li";  // taken
  item.type = engine::LineItemType::kOneTime;
  invoice.line_items.push_back(item);
  const absl::Status line_item_taken =
      txn->InsertInvoices(customer.uuid, {invoice});
  EXPECT_THAT(line_item_taken,
              StatusIs(absl::StatusCode::kAlreadyExists,
                       absl::StrCat("line item 'A-li' already exists in data"
                                    " source ",
                                    source.uuid)));
  EXPECT_EQ(common::ReasonOf(line_item_taken), "RESOURCE_ALREADY_EXISTS");
  EXPECT_THAT(common::ReasonMetadataOf(line_item_taken),
              ElementsAre(Pair("resource_id", "A-li"),
                          Pair("resource_type", "line_item")));
  invoice.external_id = "A-inv";
  EXPECT_THAT(txn->InsertInvoices(customer.uuid, {invoice}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       absl::StrCat("invoice 'A-inv' already exists in data"
                                    " source ",
                                    source.uuid)));
  const absl::Status no_customer =
      txn->InsertInvoices("cus_absent", {invoice});
  EXPECT_THAT(no_customer, StatusIs(absl::StatusCode::kNotFound,
                                    "customer cus_absent not found"));
  EXPECT_EQ(common::ReasonOf(no_customer), "RESOURCE_NOT_FOUND");
  EXPECT_THAT(common::ReasonMetadataOf(no_customer),
              ElementsAre(Pair("resource_id", "cus_absent"),
                          Pair("resource_type", "customer")));
  Transaction payment;
  payment.uuid = "tr_1";
  payment.external_id = "T-1";
  payment.date = Tick();
  ASSERT_OK(txn->InsertTransaction("inv_A", payment));
  payment.uuid = "tr_2";
  EXPECT_THAT(txn->InsertTransaction("inv_A", payment),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       absl::StrCat("transaction 'T-1' already exists in data"
                                    " source ",
                                    source.uuid)));
  EXPECT_THAT(
      txn->InsertTransaction("inv_absent", payment),
      StatusIs(absl::StatusCode::kNotFound, "invoice inv_absent not found"));
  ASSERT_OK_AND_ASSIGN(
      const std::optional<ReadTransaction::StoredTransaction> found,
      txn->FindTransaction(source.uuid, "T-1"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->invoice_uuid, "inv_A");
  EXPECT_EQ(found->transaction.uuid, "tr_1");
}

}  // namespace
}  // namespace recurrent::persistence::testing
