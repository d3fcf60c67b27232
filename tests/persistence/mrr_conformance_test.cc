// The Backend contract for the derived MRR rows (persistence/records.h,
// MrrWrite; backend.h, ListMrrMovements, SumMrr, CustomersMrrAt), checked
// through the interface on every backend: written with a customer's
// evaluation together with its digest, replaced whole by the next write,
// kept by a write without them, and deleted with their customer and with
// their source; their monthly rollups (persistence/mrr_sums.h) follow. (Which rows a customer has is the core's: tests/core/
// mrr_test.cc.)
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/backend.h"
#include "persistence/records.h"
#include "tests/persistence/backend_conformance.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

using engine::MrrMovementType;

engine::MrrMovement Movement(MrrMovementType type, const std::string& source,
                             const std::string& currency, absl::Time at,
                             int64_t change, int64_t after) {
  engine::MrrMovement m;
  m.type = type;
  m.data_source_uuid = source;
  m.currency = currency;
  m.occurred_at = at;
  m.mrr_change_in_cents = change;
  m.mrr_after_in_cents = after;
  return m;
}

// A delta of the customer's status counts in `source` (in the all-sources
// sums too), in `currency`.
MrrDelta Delta(const std::string& source, absl::Time at,
               const std::string& currency, int64_t lead, int64_t active,
               int64_t mrr_active) {
  MrrDelta d;
  d.data_source_uuid = source;
  d.in_total = true;
  d.at = at;
  d.currency = currency;
  d.lead_customers = lead;
  d.active_customers = active;
  d.mrr_active_customers = mrr_active;
  return d;
}

class MrrRowsTest : public BackendConformanceTest {
 protected:
  // Commits one WriteEvaluation of the customer with `mrr` (and nothing
  // else when it is unset: a write that only changes the status).
  void Write(const std::string& customer_uuid,
             const std::optional<MrrWrite>& mrr) {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK_AND_ASSIGN(const CustomerState state,
                         (*txn)->LoadCustomerState(customer_uuid, false));
    EvaluationWrite write;
    write.customer_key = state.key;
    write.mrr = mrr;
    if (!mrr.has_value()) {
      write.customer = EvaluationWrite::CustomerUpdate{};
      write.customer->status = CustomerStatus::kActive;
    }
    ASSERT_OK((*txn)->WriteEvaluation(write));
    ASSERT_OK((*txn)->Commit());
  }

  std::unique_ptr<ReadTransaction> Read() {
    absl::StatusOr<std::unique_ptr<ReadTransaction>> txn =
        backend_->BeginRead();
    EXPECT_OK(txn);
    return txn.ok() ? *std::move(txn) : nullptr;
  }

  std::optional<int64_t> Digest(const std::string& customer_uuid) {
    std::unique_ptr<ReadTransaction> txn = Read();
    if (txn == nullptr) return std::nullopt;
    absl::StatusOr<CustomerState> state =
        txn->LoadCustomerState(customer_uuid, false);
    EXPECT_OK(state);
    return state.ok() ? state->mrr_digest : std::nullopt;
  }

  // Every stored movement of the filter, two per page, as text.
  std::vector<std::string> Movements(const MrrMovementFilter& filter = {}) {
    std::vector<std::string> out;
    std::unique_ptr<ReadTransaction> txn = Read();
    if (txn == nullptr) return out;
    PageRequest page;
    page.page_size = 2;
    for (int pages = 0; pages < 100; ++pages) {
      absl::StatusOr<Page<MrrMovementRow>> result =
          txn->ListMrrMovements(filter, page);
      EXPECT_OK(result);
      if (!result.ok()) break;
      for (const MrrMovementRow& row : result->items) {
        const engine::MrrMovement& m = row.movement;
        out.push_back(absl::StrCat(
            row.customer_uuid, " ", m.data_source_uuid, " ",
            engine::MrrMovementTypeName(m.type), " ", m.currency, " +",
            absl::ToInt64Seconds(m.occurred_at - now0_), "s ",
            m.mrr_change_in_cents, " -> ", m.mrr_after_in_cents));
      }
      if (result->next_page_token.empty()) break;
      page.page_token = result->next_page_token;
    }
    return out;
  }

  // The sums of `source` ("" for all) up to and including `t`, as text:
  // "CUR mrr=… active_customers=…" per currency, then "lead=… active=…".
  std::vector<std::string> SumsAt(const std::string& source, absl::Time t) {
    std::vector<std::string> out;
    std::unique_ptr<ReadTransaction> txn = Read();
    if (txn == nullptr) return out;
    const absl::Time bounds[] = {t + absl::Microseconds(1)};
    absl::StatusOr<std::vector<std::vector<MrrSums>>> sums =
        txn->SumMrr(source, bounds);
    EXPECT_OK(sums);
    if (!sums.ok() || sums->size() != 1) return out;
    int64_t lead = 0;
    int64_t active = 0;
    for (const MrrSums& s : sums->front()) {
      lead += s.lead_customers;
      active += s.active_customers;
      int64_t mrr = 0;
      for (const int64_t change : s.movements_in_cents) mrr += change;
      if (s.currency.empty()) continue;
      out.push_back(absl::StrCat(s.currency, " mrr=", mrr,
                                 " mrr_active_customers=",
                                 s.mrr_active_customers));
    }
    out.push_back(absl::StrCat("lead=", lead, " active=", active));
    return out;
  }

  // SumsAt(source, t) two ways, which must agree when no row lies between
  // t and the end of its month: up to t (its month from the rows, the
  // earlier ones from the monthly rollups), and up to the end of t's month
  // (every month from the rollups; persistence/mrr_sums.h, PlanMrrSum).
  std::vector<std::string> SumsAtBothWays(const std::string& source,
                                          absl::Time t) {
    std::vector<std::string> from_rows = SumsAt(source, t);
    const absl::TimeZone utc = absl::UTCTimeZone();
    const absl::Time month_end =
        absl::FromCivil(absl::ToCivilMonth(t, utc) + 1, utc);
    EXPECT_EQ(SumsAt(source, month_end - absl::Microseconds(1)), from_rows)
        << "rollups up to " << month_end << " differ from the rows up to "
        << t << " in source '" << source << "'";
    return from_rows;
  }

  std::vector<engine::MrrAmount> MrrAt(const std::string& customer_uuid,
                                       absl::Time t) {
    std::unique_ptr<ReadTransaction> txn = Read();
    if (txn == nullptr) return {};
    const std::string uuids[] = {customer_uuid};
    absl::StatusOr<std::vector<std::vector<engine::MrrAmount>>> mrr =
        txn->CustomersMrrAt(uuids, t);
    EXPECT_OK(mrr);
    return mrr.ok() && mrr->size() == 1 ? mrr->front()
                                        : std::vector<engine::MrrAmount>();
  }

  // A customer of `source` that was a lead until `now0_ + 10 s`, then
  // active with `amount` cents of MRR in EUR.
  MrrWrite Subscriber(const std::string& source, int64_t amount,
                      int64_t digest) {
    MrrWrite write;
    write.digest = digest;
    write.movements = {Movement(MrrMovementType::kNewBusiness, source, "EUR",
                                At(10), amount, amount)};
    write.deltas = {Delta(source, absl::InfinitePast(), "", 1, 0, 0),
                    Delta(source, At(10), "EUR", -1, 1, 1)};
    return write;
  }

  absl::Time At(int seconds) const { return now0_ + absl::Seconds(seconds); }

  const absl::Time now0_ = absl::FromUnixSeconds(1'800'000'000);
};

TEST_P(MrrRowsTest, RowsAreWrittenWithTheirDigest) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "a");
  // Never written: no digest, no rows.
  EXPECT_EQ(Digest(customer.uuid), std::nullopt);
  EXPECT_THAT(Movements(), IsEmpty());
  EXPECT_THAT(SumsAt("", At(100)), ElementsAre("lead=0 active=0"));

  MrrWrite write = Subscriber(source.uuid, 4900, 17);
  write.movements.push_back(Movement(MrrMovementType::kExpansion, source.uuid,
                                     "EUR", At(20), 100, 5000));
  write.movements.push_back(Movement(MrrMovementType::kNewBusiness,
                                     source.uuid, "USD", At(20), 700, 700));
  write.deltas.push_back(Delta(source.uuid, At(20), "USD", 0, 0, 1));
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));

  EXPECT_THAT(Digest(customer.uuid), Optional(17));
  const std::string prefix = absl::StrCat(customer.uuid, " ", source.uuid);
  EXPECT_THAT(Movements(),
              ElementsAre(prefix + " NEW_BUSINESS EUR +10s 4900 -> 4900",
                          prefix + " EXPANSION EUR +20s 100 -> 5000",
                          prefix + " NEW_BUSINESS USD +20s 700 -> 700"));
  // Sums up to an instant, inclusive; per source and over all sources.
  EXPECT_THAT(SumsAt(source.uuid, At(9)), ElementsAre("lead=1 active=0"));
  EXPECT_THAT(SumsAt(source.uuid, At(10)),
              ElementsAre("EUR mrr=4900 mrr_active_customers=1",
                          "lead=0 active=1"));
  EXPECT_THAT(SumsAt("", At(20)),
              ElementsAre("EUR mrr=5000 mrr_active_customers=1",
                          "USD mrr=700 mrr_active_customers=1",
                          "lead=0 active=1"));
  EXPECT_THAT(MrrAt(customer.uuid, At(15)),
              ElementsAre(engine::MrrAmount{"EUR", 4900}));
  EXPECT_THAT(MrrAt(customer.uuid, At(20)),
              ElementsAre(engine::MrrAmount{"EUR", 5000},
                          engine::MrrAmount{"USD", 700}));
  EXPECT_THAT(MrrAt(customer.uuid, At(0)), IsEmpty());

  // A source scan carries the digest too.
  NewSubscription(customer, source.uuid, "sub-a");
  absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
      backend_->BeginWrite();
  ASSERT_OK(txn);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SourceScan> scan,
                       (*txn)->ScanSource(source.uuid));
  CustomerState state;
  ASSERT_OK_AND_ASSIGN(const bool found, scan->Next(state));
  ASSERT_TRUE(found);
  EXPECT_EQ(state.customer.uuid, customer.uuid);
  EXPECT_THAT(state.mrr_digest, Optional(17));
  scan.reset();
  ASSERT_OK((*txn)->Commit());
}

// ListCustomers then CustomersMrrAt of its page in one transaction (what
// ListCustomers without as_of does; a backend may reuse what the listing
// read) answers as CustomersMrrAt alone, in the order asked, whether or not
// the customers were listed.
TEST_P(MrrRowsTest, CustomersMrrAtAfterAListingAnswersTheSame) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  const Customer b = NewCustomer(source.uuid, "b");
  const Customer c = NewCustomer(source.uuid, "c");
  MrrWrite write = Subscriber(source.uuid, 4900, 17);
  write.movements.push_back(Movement(MrrMovementType::kNewBusiness,
                                     source.uuid, "USD", At(20), 700, 700));
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, write));
  ASSERT_NO_FATAL_FAILURE(Write(c.uuid, Subscriber(source.uuid, 100, 18)));
  std::unique_ptr<ReadTransaction> txn = Read();
  ASSERT_NE(txn, nullptr);
  CustomerFilter filter;
  filter.data_source_uuid = source.uuid;
  ASSERT_OK_AND_ASSIGN(const Page<Customer> page,
                       txn->ListCustomers(filter, PageRequest{2, ""}));
  ASSERT_EQ(page.items.size(), 2u);  // a and b, not c
  const std::vector<engine::MrrAmount> a_mrr = {{"EUR", 4900}, {"USD", 700}};
  const std::vector<engine::MrrAmount> c_mrr = {{"EUR", 100}};
  const std::vector<engine::MrrAmount> none;
  for (const std::vector<std::string>& uuids :
       {std::vector<std::string>{a.uuid, b.uuid},
        std::vector<std::string>{b.uuid, a.uuid},
        std::vector<std::string>{c.uuid, a.uuid, "cus_absent"}}) {
    ASSERT_OK_AND_ASSIGN(const std::vector<std::vector<engine::MrrAmount>> mrr,
                         txn->CustomersMrrAt(uuids, At(30)));
    ASSERT_EQ(mrr.size(), uuids.size());
    for (size_t i = 0; i < uuids.size(); ++i) {
      SCOPED_TRACE(uuids[i]);
      EXPECT_EQ(mrr[i], uuids[i] == a.uuid   ? a_mrr
                        : uuids[i] == c.uuid ? c_mrr
                                             : none);
      EXPECT_EQ(mrr[i], MrrAt(uuids[i], At(30)));
    }
  }
}

TEST_P(MrrRowsTest, ANewWriteReplacesTheRowsWholeAndAWriteWithoutKeepsThem) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  const Customer b = NewCustomer(source.uuid, "b");
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, Subscriber(source.uuid, 4900, 1)));
  ASSERT_NO_FATAL_FAILURE(Write(b.uuid, Subscriber(source.uuid, 1000, 2)));
  EXPECT_THAT(SumsAt("", At(10)),
              ElementsAre("EUR mrr=5900 mrr_active_customers=2",
                          "lead=0 active=2"));

  // A's MRR changed (its digest with it): the old rows are gone, b's stay.
  MrrWrite changed;
  changed.digest = 3;
  changed.movements = {Movement(MrrMovementType::kNewBusiness, source.uuid,
                                "EUR", At(30), 2000, 2000)};
  changed.deltas = {Delta(source.uuid, absl::InfinitePast(), "", 1, 0, 0),
                    Delta(source.uuid, At(30), "EUR", -1, 1, 1)};
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, changed));
  EXPECT_THAT(Digest(a.uuid), Optional(3));
  EXPECT_THAT(Digest(b.uuid), Optional(2));
  MrrMovementFilter only_a;
  only_a.customer_uuid = a.uuid;
  EXPECT_THAT(Movements(only_a),
              ElementsAre(absl::StrCat(a.uuid, " ", source.uuid,
                                       " NEW_BUSINESS EUR +30s 2000 -> 2000")));
  EXPECT_THAT(SumsAt("", At(10)),
              ElementsAre("EUR mrr=1000 mrr_active_customers=1",
                          "lead=1 active=1"));
  EXPECT_THAT(SumsAt(source.uuid, At(30)),
              ElementsAre("EUR mrr=3000 mrr_active_customers=2",
                          "lead=0 active=2"));

  // A write of the status alone leaves the rows and the digest.
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, std::nullopt));
  EXPECT_THAT(Digest(a.uuid), Optional(3));
  EXPECT_THAT(Movements(only_a), ElementsAre(::testing::HasSubstr("+30s")));

  // An empty write (no MRR ever) removes every row.
  MrrWrite none;
  none.digest = 4;
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, none));
  EXPECT_THAT(Digest(a.uuid), Optional(4));
  EXPECT_THAT(Movements(only_a), IsEmpty());
  EXPECT_THAT(MrrAt(a.uuid, At(100)), IsEmpty());
  EXPECT_THAT(SumsAt("", At(100)),
              ElementsAre("EUR mrr=1000 mrr_active_customers=1",
                          "lead=0 active=1"));
}

TEST_P(MrrRowsTest, RowsGoWithTheirCustomer) {
  const DataSourceRow source = NewSource("s");
  const Customer a = NewCustomer(source.uuid, "a");
  const Customer b = NewCustomer(source.uuid, "b");
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, Subscriber(source.uuid, 4900, 1)));
  ASSERT_NO_FATAL_FAILURE(Write(b.uuid, Subscriber(source.uuid, 1000, 2)));
  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK((*txn)->DeleteCustomer(a.uuid));
    ASSERT_OK((*txn)->Commit());
  }
  EXPECT_THAT(Movements(), ElementsAre(absl::StrCat(
                               b.uuid, " ", source.uuid,
                               " NEW_BUSINESS EUR +10s 1000 -> 1000")));
  EXPECT_THAT(SumsAt(source.uuid, At(10)),
              ElementsAre("EUR mrr=1000 mrr_active_customers=1",
                          "lead=0 active=1"));
  EXPECT_THAT(SumsAt("", At(0)), ElementsAre("lead=1 active=0"));
  EXPECT_THAT(MrrAt(a.uuid, At(10)), IsEmpty());
  std::unique_ptr<ReadTransaction> txn = Read();
  ASSERT_NE(txn, nullptr);
  MrrMovementFilter deleted;
  deleted.customer_uuid = a.uuid;
  EXPECT_THAT(txn->ListMrrMovements(deleted, PageRequest()),
              StatusIs(absl::StatusCode::kNotFound));

  // Merged away: `from` is deleted with its rows; `into` keeps its own until
  // the core writes new ones.
  const Customer c = NewCustomer(source.uuid, "c");
  ASSERT_NO_FATAL_FAILURE(Write(c.uuid, Subscriber(source.uuid, 300, 5)));
  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> write =
        backend_->BeginWrite();
    ASSERT_OK(write);
    ASSERT_OK((*write)->MoveCustomerRows(c.uuid, b.uuid));
    ASSERT_OK((*write)->Commit());
  }
  EXPECT_THAT(Movements(), ElementsAre(absl::StrCat(
                               b.uuid, " ", source.uuid,
                               " NEW_BUSINESS EUR +10s 1000 -> 1000")));
  EXPECT_THAT(Digest(b.uuid), Optional(2));
  EXPECT_THAT(SumsAt("", At(10)),
              ElementsAre("EUR mrr=1000 mrr_active_customers=1",
                          "lead=0 active=1"));
}

TEST_P(MrrRowsTest, RowsGoWithTheirSource) {
  const DataSourceRow kept = NewSource("kept");
  const DataSourceRow gone = NewSource("gone");
  // `a` belongs to `kept` and has rows in both sources; `b` only to `gone`.
  const Customer a = NewCustomer(kept.uuid, "a");
  const Customer b = NewCustomer(gone.uuid, "b");
  MrrWrite both = Subscriber(kept.uuid, 4900, 1);
  both.movements.push_back(Movement(MrrMovementType::kNewBusiness, gone.uuid,
                                    "EUR", At(20), 800, 800));
  both.deltas.push_back(Delta(gone.uuid, At(20), "EUR", 0, 0, 0));
  both.deltas.back().in_total = false;
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, both));
  ASSERT_NO_FATAL_FAILURE(Write(b.uuid, Subscriber(gone.uuid, 1000, 2)));
  EXPECT_THAT(Movements(), ::testing::SizeIs(3));
  EXPECT_THAT(SumsAt(gone.uuid, At(20)),
              ElementsAre("EUR mrr=1800 mrr_active_customers=1",
                          "lead=0 active=1"));

  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK_AND_ASSIGN(const std::vector<std::string> remaining,
                         (*txn)->DeleteDataSource(gone.uuid));
    EXPECT_THAT(remaining, IsEmpty());
    ASSERT_OK((*txn)->Commit());
  }
  // b went with its only source; a keeps its rows of `kept` only.
  EXPECT_THAT(Movements(), ElementsAre(absl::StrCat(
                               a.uuid, " ", kept.uuid,
                               " NEW_BUSINESS EUR +10s 4900 -> 4900")));
  EXPECT_THAT(Digest(a.uuid), Optional(1));
  EXPECT_THAT(MrrAt(a.uuid, At(20)),
              ElementsAre(engine::MrrAmount{"EUR", 4900}));
  EXPECT_THAT(SumsAt("", At(20)),
              ElementsAre("EUR mrr=4900 mrr_active_customers=1",
                          "lead=0 active=1"));
  std::unique_ptr<ReadTransaction> txn = Read();
  ASSERT_NE(txn, nullptr);
  const absl::Time bounds[] = {At(20)};
  EXPECT_THAT(txn->SumMrr(gone.uuid, bounds),
              StatusIs(absl::StatusCode::kNotFound));
  MrrMovementFilter by_source;
  by_source.data_source_uuid = gone.uuid;
  EXPECT_THAT(txn->ListMrrMovements(by_source, PageRequest()),
              StatusIs(absl::StatusCode::kNotFound));
}

// A write keeps the leading rows it repeats and replaces the rest
// (persistence/mrr_sums.h, CommonPrefix): what is stored and listed is
// always exactly the last write's rows, in its order.
TEST_P(MrrRowsTest, AWriteReplacesOnlyWhatChanged) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "a");
  const std::string prefix = absl::StrCat(customer.uuid, " ", source.uuid);
  const auto movement = [&](MrrMovementType type, int at, int64_t change,
                            int64_t after) {
    return Movement(type, source.uuid, "EUR", At(at), change, after);
  };
  MrrWrite write = Subscriber(source.uuid, 1000, 1);
  write.movements.push_back(
      movement(MrrMovementType::kExpansion, 20, 500, 1500));
  write.movements.push_back(
      movement(MrrMovementType::kContraction, 30, -200, 1300));
  write.deltas.push_back(Delta(source.uuid, At(30), "EUR", 0, 0, 0));
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));

  // The same head, a new tail; then two movements at one instant in the
  // opposite order; then a change at the start; then nothing.
  write.digest = 2;
  write.movements.resize(2);
  write.movements.push_back(
      movement(MrrMovementType::kExpansion, 40, 100, 1600));
  write.deltas.back().at = At(40);
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));
  EXPECT_THAT(Movements(),
              ElementsAre(prefix + " NEW_BUSINESS EUR +10s 1000 -> 1000",
                          prefix + " EXPANSION EUR +20s 500 -> 1500",
                          prefix + " EXPANSION EUR +40s 100 -> 1600"));
  EXPECT_THAT(SumsAtBothWays(source.uuid, At(40)),
              ElementsAre("EUR mrr=1600 mrr_active_customers=1",
                          "lead=0 active=1"));

  write.digest = 3;
  write.movements = {movement(MrrMovementType::kNewBusiness, 10, 1000, 1000),
                     movement(MrrMovementType::kExpansion, 20, 300, 1300),
                     movement(MrrMovementType::kContraction, 20, -100, 1200)};
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));
  write.digest = 4;
  std::swap(write.movements[1], write.movements[2]);
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));
  EXPECT_THAT(Movements(),
              ElementsAre(prefix + " NEW_BUSINESS EUR +10s 1000 -> 1000",
                          prefix + " CONTRACTION EUR +20s -100 -> 1200",
                          prefix + " EXPANSION EUR +20s 300 -> 1300"));

  write.digest = 5;
  write.movements.front() =
      movement(MrrMovementType::kNewBusiness, 5, 1000, 1000);
  write.deltas = {Delta(source.uuid, absl::InfinitePast(), "", 1, 0, 0),
                  Delta(source.uuid, At(5), "EUR", -1, 1, 1)};
  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, write));
  EXPECT_THAT(Movements(),
              ElementsAre(prefix + " NEW_BUSINESS EUR +5s 1000 -> 1000",
                          prefix + " CONTRACTION EUR +20s -100 -> 1200",
                          prefix + " EXPANSION EUR +20s 300 -> 1300"));
  EXPECT_THAT(SumsAt(source.uuid, At(5)),
              ElementsAre("EUR mrr=1000 mrr_active_customers=1",
                          "lead=0 active=1"));
  EXPECT_THAT(SumsAtBothWays("", At(40)),
              ElementsAre("EUR mrr=1200 mrr_active_customers=1",
                          "lead=0 active=1"));

  ASSERT_NO_FATAL_FAILURE(Write(customer.uuid, MrrWrite{6, {}, {}}));
  EXPECT_THAT(Movements(), IsEmpty());
  EXPECT_THAT(SumsAtBothWays("", At(40)), ElementsAre("lead=0 active=0"));
  EXPECT_THAT(Digest(customer.uuid), Optional(6));
}

// Two write transactions that write the all-sources rows of different
// customers in opposite month orders both commit, and the rollups hold
// both (on PostgreSQL they used to wait for each other's rollup rows, a
// deadlock that aborted one).
TEST_P(MrrRowsTest, ConcurrentWritersOfAllSourcesRowsBothCommit) {
  if (GetParam().name == "Sqlite") {
    GTEST_SKIP() << "SQLite runs one write transaction at a time";
  }
  const DataSourceRow s1 = NewSource("s1");
  const DataSourceRow s2 = NewSource("s2");
  const absl::Time jan =
      absl::FromCivil(absl::CivilDay(2027, 1, 10), absl::UTCTimeZone());
  const absl::Time feb = jan + absl::Hours(24 * 31);
  // A write of the customer's rows in month `at` only: the all-sources
  // delta of a customer with rows in several sources.
  const auto all_sources_row = [](absl::Time at, int64_t digest) {
    MrrWrite write;
    write.digest = digest;
    write.deltas = {Delta("", at, "EUR", 0, 1, 1)};
    return write;
  };
  const Customer x1 = NewCustomer(s1.uuid, "x1");
  const Customer x2 = NewCustomer(s1.uuid, "x2");
  const Customer y1 = NewCustomer(s2.uuid, "y1");
  const Customer y2 = NewCustomer(s2.uuid, "y2");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WriteTransaction> t1,
                       backend_->BeginWrite());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WriteTransaction> t2,
                       backend_->BeginWrite());
  const auto write = [](WriteTransaction& txn, const Customer& customer,
                        MrrWrite mrr) -> absl::Status {
    RECURRENT_ASSIGN_OR_RETURN(const CustomerState state,
                               txn.LoadCustomerState(customer.uuid, false));
    EvaluationWrite write;
    write.customer_key = state.key;
    write.mrr = std::move(mrr);
    return txn.WriteEvaluation(write);
  };
  // t1: January, then February; t2: February, then January.
  ASSERT_OK(write(*t1, x1, all_sources_row(jan, 1)));
  ASSERT_OK(write(*t2, y1, all_sources_row(feb, 2)));
  absl::Status t1_second;
  absl::Status t1_commit;
  std::thread first([&] {
    t1_second = write(*t1, x2, all_sources_row(feb, 3));
    if (t1_second.ok()) t1_commit = t1->Commit();
  });
  absl::Status t2_second = write(*t2, y2, all_sources_row(jan, 4));
  absl::Status t2_commit = t2_second.ok() ? t2->Commit() : absl::OkStatus();
  first.join();
  EXPECT_OK(t1_second);
  EXPECT_OK(t2_second);
  EXPECT_OK(t1_commit);
  EXPECT_OK(t2_commit);
  // Each month holds one customer of each transaction.
  EXPECT_THAT(
      SumsAt("", jan + absl::Hours(1)),
      ElementsAre("EUR mrr=0 mrr_active_customers=2", "lead=0 active=2"));
  EXPECT_THAT(
      SumsAt("", feb + absl::Hours(1)),
      ElementsAre("EUR mrr=0 mrr_active_customers=4", "lead=0 active=4"));
}

// A write transaction's sums include the rows it wrote, in the months the
// rollups answer (PostgreSQL adds them to the rollups at commit).
TEST_P(MrrRowsTest, SumsInAWriteTransactionIncludeItsOwnRows) {
  const DataSourceRow source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "c");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WriteTransaction> txn,
                       backend_->BeginWrite());
  ASSERT_OK_AND_ASSIGN(const CustomerState state,
                       txn->LoadCustomerState(customer.uuid, false));
  EvaluationWrite write;
  write.customer_key = state.key;
  write.mrr = Subscriber(source.uuid, 4900, 1);
  ASSERT_OK(txn->WriteEvaluation(write));
  // A year on: every month from the rollups.
  const absl::Time bounds[] = {At(365 * 86400)};
  ASSERT_OK_AND_ASSIGN(const std::vector<std::vector<MrrSums>> sums,
                       txn->SumMrr(source.uuid, bounds));
  ASSERT_EQ(sums.size(), 1u);
  int64_t mrr = 0;
  int64_t active = 0;
  for (const MrrSums& s : sums.front()) {
    for (const int64_t change : s.movements_in_cents) mrr += change;
    active += s.active_customers;
  }
  EXPECT_EQ(mrr, 4900);
  EXPECT_EQ(active, 1);
}

// The monthly rollups follow every way rows come and go: written,
// replaced, deleted with a customer, merged away, deleted with a source.
TEST_P(MrrRowsTest, MonthlyRollupsFollowTheRows) {
  const DataSourceRow s1 = NewSource("s1");
  const DataSourceRow s2 = NewSource("s2");
  const Customer a = NewCustomer(s1.uuid, "a");
  const Customer b = NewCustomer(s1.uuid, "b");
  const Customer c = NewCustomer(s2.uuid, "c");
  // Rows in three months: the initial state, now0_'s month and 40 days on.
  const absl::Time later = At(40 * 86400);
  MrrWrite two_months = Subscriber(s1.uuid, 4900, 1);
  two_months.movements.push_back(Movement(MrrMovementType::kExpansion,
                                          s1.uuid, "EUR", later, 100, 5000));
  two_months.deltas.push_back(Delta(s1.uuid, later, "EUR", 0, 0, 0));
  // A customer with rows in both sources, all-sources rows apart.
  MrrWrite both = Subscriber(s2.uuid, 700, 2);
  for (MrrDelta& d : both.deltas) d.in_total = false;
  both.movements.push_back(Movement(MrrMovementType::kNewBusiness, s1.uuid,
                                    "USD", later, 300, 300));
  both.deltas.push_back(Delta(s1.uuid, later, "USD", 0, 0, 1));
  both.deltas.back().in_total = false;
  both.deltas.push_back(Delta("", absl::InfinitePast(), "", 1, 0, 0));
  both.deltas.push_back(Delta("", At(10), "EUR", -1, 1, 1));
  both.deltas.push_back(Delta("", later, "USD", 0, 0, 1));
  const auto check = [&](const std::string& step) {
    SCOPED_TRACE(step);
    for (const std::string& scope : {std::string(), s1.uuid, s2.uuid}) {
      SumsAtBothWays(scope, At(20));
      SumsAtBothWays(scope, later);
    }
  };
  ASSERT_NO_FATAL_FAILURE(Write(a.uuid, two_months));
  ASSERT_NO_FATAL_FAILURE(Write(b.uuid, Subscriber(s1.uuid, 1000, 3)));
  ASSERT_NO_FATAL_FAILURE(Write(c.uuid, both));
  check("written");
  EXPECT_THAT(SumsAt("", later),
              ElementsAre("EUR mrr=6700 mrr_active_customers=3",
                          "USD mrr=300 mrr_active_customers=1",
                          "lead=0 active=3"));
  EXPECT_THAT(SumsAt(s1.uuid, later),
              ElementsAre("EUR mrr=6000 mrr_active_customers=2",
                          "USD mrr=300 mrr_active_customers=1",
                          "lead=0 active=2"));

  ASSERT_NO_FATAL_FAILURE(Write(b.uuid, Subscriber(s1.uuid, 2000, 4)));
  check("replaced");
  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK((*txn)->DeleteCustomer(a.uuid));
    ASSERT_OK((*txn)->Commit());
  }
  check("customer deleted");
  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK((*txn)->MoveCustomerRows(b.uuid, c.uuid));
    ASSERT_OK((*txn)->Commit());
  }
  check("merged away");
  EXPECT_THAT(SumsAt("", later),
              ElementsAre("EUR mrr=700 mrr_active_customers=1",
                          "USD mrr=300 mrr_active_customers=1",
                          "lead=0 active=1"));
  {
    absl::StatusOr<std::unique_ptr<WriteTransaction>> txn =
        backend_->BeginWrite();
    ASSERT_OK(txn);
    ASSERT_OK((*txn)->DeleteDataSource(s1.uuid).status());
    ASSERT_OK((*txn)->Commit());
  }
  SCOPED_TRACE("source deleted");
  for (const absl::Time t : {At(20), later}) {
    SumsAtBothWays("", t);
    SumsAtBothWays(s2.uuid, t);
  }
  EXPECT_THAT(SumsAt(s2.uuid, later),
              ElementsAre("EUR mrr=700 mrr_active_customers=1",
                          "lead=0 active=1"));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, MrrRowsTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

}  // namespace
}  // namespace recurrent::persistence::testing
