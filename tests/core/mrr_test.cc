// Stored MRR rows and the MRR metrics read from them (core/mrr_rows.h,
// core/mrr_metrics.h), on every backend: each answer against a
// straightforward recomputation with the engine over the customers' facts.
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/time/time.h"
#include "core/mrr_metrics.h"
#include "engine/customer_timeline.h"
#include "engine/mrr.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/reprocess_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::HasSubstr;

using MovementKey = std::tuple<std::string, int, std::string, std::string,
                               int64_t, int64_t, int64_t>;

MovementKey KeyOf(const std::string& customer, const engine::MrrMovement& m) {
  return {customer,
          static_cast<int>(m.type),
          m.data_source_uuid,
          m.currency,
          absl::ToUnixMicros(m.occurred_at),
          m.mrr_change_in_cents,
          m.mrr_after_in_cents};
}

class MrrTest : public StoreTest {
 protected:
  MrrMetrics metrics() { return MrrMetrics(backend_.get()); }

  // A customer of `source` with a monthly subscription "sub-<id>" from
  // 2025-01-01: `paid` months paid on time, then `unpaid` months invoiced
  // (due on their start) and never paid.
  Customer Subscriber(const std::string& source, const std::string& id,
                      int paid, int unpaid, int64_t amount = 4900) {
    Customer customer = NewCustomer(source, id);
    std::vector<Invoice> invoices;
    for (int m = 0; m < paid + unpaid; ++m) {
      const absl::Time start = Day(2025, 1 + m, 1);
      Invoice invoice = MonthlyInvoice(absl::StrCat(id, "-inv-", m),
                                       "sub-" + id, start,
                                       Day(2025, 2 + m, 1), start);
      invoice.line_items[0].amount_in_cents = amount;
      if (m < paid) {
        invoice.transactions.push_back(
            Payment(absl::StrCat(id, "-pay-", m), start));
      }
      invoices.push_back(invoice);
    }
    EXPECT_OK(store_->ImportInvoices(customer.uuid, invoices, Tick()));
    return customer;
  }

  // Every stored movement of the filter, a page of `page_size` at a time.
  std::vector<persistence::MrrMovementRow> AllMovements(
      persistence::MrrMovementFilter filter, int page_size = 1000) {
    std::vector<persistence::MrrMovementRow> all;
    persistence::PageRequest page;
    page.page_size = page_size;
    MrrMetrics m = metrics();
    while (true) {
      auto result = m.ListMovements(filter, page);
      EXPECT_OK(result.status());
      if (!result.ok()) break;
      all.insert(all.end(), result->items.begin(), result->items.end());
      if (result->next_page_token.empty()) break;
      page.page_token = result->next_page_token;
    }
    return all;
  }

  // The engine's movements of the customers, by key.
  std::vector<MovementKey> EngineMovements(
      const std::vector<std::string>& customers) {
    std::vector<MovementKey> keys;
    for (const std::string& uuid : customers) {
      auto snapshot = Snapshot(uuid);
      EXPECT_OK(snapshot.status());
      auto mrr = engine::ComputeMrr(snapshot->facts, snapshot->settings);
      EXPECT_OK(mrr.status());
      for (const engine::MrrMovement& m : mrr->movements()) {
        keys.push_back(KeyOf(uuid, m));
      }
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  // GetMrr recomputed from the engine over `customers` at `t`, in `source`
  // ("" for all).
  MrrSnapshot EngineSnapshot(const std::vector<std::string>& customers,
                             const std::string& source, absl::Time t) {
    std::map<std::string, MrrTotal> totals;
    MrrSnapshot out;
    out.as_of = t;
    for (const std::string& uuid : customers) {
      auto snapshot = Snapshot(uuid);
      EXPECT_OK(snapshot.status());
      auto timeline =
          engine::CustomerTimeline::Build(snapshot->facts, snapshot->settings);
      EXPECT_OK(timeline.status());
      const engine::MrrTimeline mrr =
          engine::MrrTimeline::Build(snapshot->facts, *timeline);
      const engine::CustomerEvaluation evaluation = timeline->EvaluateAt(t);
      const engine::CustomerStatus status = evaluation.status;
      if (status == engine::CustomerStatus::kLead) ++out.lead_customers;
      if (status == engine::CustomerStatus::kCancelled) {
        ++out.cancelled_customers;
      }
      for (const engine::MrrAmount& amount : mrr.CustomerMrrAt(t, source)) {
        MrrTotal& total = totals[amount.currency];
        total.currency = amount.currency;
        total.mrr_in_cents += amount.mrr_in_cents;
        if (amount.mrr_in_cents > 0) {
          if (status == engine::CustomerStatus::kActive) {
            ++total.active_customers;
          }
          if (status == engine::CustomerStatus::kPastDue) {
            ++total.past_due_customers;
          }
        }
      }
      for (const engine::SubscriptionEvaluation& s : evaluation.subscriptions) {
        if (!source.empty() && s.data_source_uuid != source) continue;
        const auto amount = mrr.SubscriptionMrrAt(
            s.data_source_uuid, s.subscription_external_id, t);
        if (!amount.has_value() || amount->mrr_in_cents == 0) continue;
        MrrTotal& total = totals[amount->currency];
        if (s.status == engine::SubscriptionStatus::kPastDue) {
          total.past_due_mrr_in_cents += amount->mrr_in_cents;
        } else {
          total.active_mrr_in_cents += amount->mrr_in_cents;
        }
      }
    }
    for (auto& [currency, total] : totals) {
      if (total.mrr_in_cents != 0) out.totals.push_back(total);
    }
    return out;
  }

  void ExpectSameSnapshot(const MrrSnapshot& got, const MrrSnapshot& want) {
    EXPECT_EQ(got.lead_customers, want.lead_customers);
    EXPECT_EQ(got.cancelled_customers, want.cancelled_customers);
    ASSERT_EQ(got.totals.size(), want.totals.size());
    for (size_t i = 0; i < got.totals.size(); ++i) {
      SCOPED_TRACE(got.totals[i].currency);
      EXPECT_EQ(got.totals[i].currency, want.totals[i].currency);
      EXPECT_EQ(got.totals[i].mrr_in_cents, want.totals[i].mrr_in_cents);
      EXPECT_EQ(got.totals[i].active_mrr_in_cents,
                want.totals[i].active_mrr_in_cents);
      EXPECT_EQ(got.totals[i].past_due_mrr_in_cents,
                want.totals[i].past_due_mrr_in_cents);
      EXPECT_EQ(got.totals[i].active_customers,
                want.totals[i].active_customers);
      EXPECT_EQ(got.totals[i].past_due_customers,
                want.totals[i].past_due_customers);
    }
  }

  std::vector<MovementKey> StoredKeys(persistence::MrrMovementFilter filter,
                                      int page_size = 1000) {
    std::vector<MovementKey> keys;
    for (const auto& row : AllMovements(filter, page_size)) {
      keys.push_back(KeyOf(row.customer_uuid, row.movement));
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }

  bool HasType(const std::vector<MovementKey>& keys,
               engine::MrrMovementType type) {
    for (const MovementKey& key : keys) {
      if (std::get<1>(key) == static_cast<int>(type)) return true;
    }
    return false;
  }
};

INSTANTIATE_TEST_SUITE_P(
    Backends, MrrTest,
    ::testing::ValuesIn(::recurrent::testing::TestBackends()),
    ::recurrent::testing::TestBackendName);

TEST_P(MrrTest, StoredMovementsAndTotalsMatchTheEngine) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  ASSERT_OK(store_->UpdateSettings(
      a.uuid, SaveSettings(AutoChurn(14), Day(2024, 1, 1)), false, Tick()));
  std::vector<std::string> in_a, all;
  in_a.push_back(Subscriber(a.uuid, "paying", 6, 0).uuid);
  in_a.push_back(Subscriber(a.uuid, "late", 2, 2, 9900).uuid);  // churned
  in_a.push_back(Subscriber(a.uuid, "short", 1, 0, 1234).uuid);
  in_a.push_back(NewCustomer(a.uuid, "lead").uuid);
  all = in_a;
  all.push_back(Subscriber(b.uuid, "other", 3, 1, 2000).uuid);  // KEEP

  EXPECT_EQ(StoredKeys({}), EngineMovements(all));
  persistence::MrrMovementFilter by_a;
  by_a.data_source_uuid = a.uuid;
  EXPECT_EQ(StoredKeys(by_a, 2), EngineMovements(in_a));  // paged
  persistence::MrrMovementFilter by_customer;
  by_customer.customer_uuid = in_a[1];
  EXPECT_EQ(StoredKeys(by_customer), EngineMovements({in_a[1]}));
  EXPECT_TRUE(HasType(StoredKeys(by_customer), engine::MrrMovementType::kChurn));

  MrrMetrics m = metrics();
  for (const absl::Time t :
       {Day(2024, 6, 1), Day(2025, 1, 1), Day(2025, 1, 15), Day(2025, 3, 5),
        Day(2025, 3, 20), Day(2025, 4, 1), Day(2025, 5, 1), Day(2026, 1, 1)}) {
    SCOPED_TRACE(absl::FormatTime(t));
    ASSERT_OK_AND_ASSIGN(const MrrSnapshot got_a, m.GetMrr(a.uuid, t));
    ExpectSameSnapshot(got_a, EngineSnapshot(in_a, a.uuid, t));
    ASSERT_OK_AND_ASSIGN(const MrrSnapshot got_all, m.GetMrr("", t));
    ExpectSameSnapshot(got_all, EngineSnapshot(all, "", t));
  }
}

TEST_P(MrrTest, ListCustomersWithMrrReadsTheStoredMrrAtNow) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  std::vector<std::string> all;
  all.push_back(Subscriber(a.uuid, "paying", 6, 0).uuid);
  all.push_back(Subscriber(a.uuid, "late", 2, 2, 9900).uuid);
  all.push_back(NewCustomer(a.uuid, "lead").uuid);
  all.push_back(Subscriber(b.uuid, "other", 3, 1, 2000).uuid);
  for (const absl::Time t :
       {Day(2024, 6, 1), Day(2025, 1, 15), Day(2025, 3, 20), Day(2026, 1, 1)}) {
    SCOPED_TRACE(absl::FormatTime(t));
    std::vector<std::string> listed;
    persistence::PageRequest page;
    page.page_size = 3;
    while (true) {
      ASSERT_OK_AND_ASSIGN(const Page<Customer> got,
                           store_->ListCustomersWithMrr({}, page, t));
      for (const Customer& customer : got.items) {
        listed.push_back(customer.uuid);
        // The customer's MRR at t as the engine computes it (M3).
        auto snapshot = Snapshot(customer.uuid);
        ASSERT_OK(snapshot.status());
        auto timeline = engine::CustomerTimeline::Build(snapshot->facts,
                                                        snapshot->settings);
        ASSERT_OK(timeline.status());
        EXPECT_EQ(customer.mrr,
                  engine::MrrTimeline::Build(snapshot->facts, *timeline)
                      .CustomerMrrAt(t, ""))
            << customer.external_id;
      }
      if (got.next_page_token.empty()) break;
      page.page_token = got.next_page_token;
    }
    EXPECT_EQ(listed, all);
  }
  CustomerFilter unknown;
  unknown.data_source_uuid = "ds_unknown";
  EXPECT_THAT(store_->ListCustomersWithMrr(unknown, {}, Day(2025, 1, 1)),
              StatusIs(absl::StatusCode::kNotFound));
}

// The largest amount over one second: the engine saturates each such
// customer's MRR at the int64 range, so a month's sums over a few of them
// pass it. No write may fail for that, another customer's least of all.
TEST_P(MrrTest, SumsBeyondTheInt64RangeFailNoWrite) {
  const DataSource s = NewSource("s");
  for (int i = 0; i < 3; ++i) {
    const Customer huge = NewCustomer(s.uuid, absl::StrCat("huge-", i));
    Invoice invoice = MonthlyInvoice(
        absl::StrCat("huge-", i), absl::StrCat("sub-huge-", i), Day(2025, 1, 1),
        Day(2025, 1, 1) + absl::Seconds(1), std::nullopt);
    invoice.line_items[0].amount_in_cents = engine::kMaxAmountInCents;
    EXPECT_OK(store_->ImportInvoices(huge.uuid, {invoice}, Tick()));
  }
  // An ordinary customer of the same source, month and currency.
  Subscriber(s.uuid, "ordinary", 2, 0);
  // Reads still answer (the sums past the range are clamped to it), from
  // the monthly rollups and from the rows of a partial month (SQLite's SUM
  // fails on such a sum of integers).
  for (const absl::Time t :
       {Day(2025, 3, 1), Day(2025, 1, 1) + absl::Milliseconds(500)}) {
    EXPECT_OK(metrics().GetMrr(s.uuid, t).status());
    EXPECT_OK(metrics().GetMrr("", t).status());
  }
}

TEST_P(MrrTest, MovementsTimeWindowIsHalfOpen) {
  const DataSource s = NewSource("s");
  Subscriber(s.uuid, "c", 3, 0);
  const std::vector<persistence::MrrMovementRow> all = AllMovements({});
  ASSERT_FALSE(all.empty());
  const absl::Time first = all.front().movement.occurred_at;
  persistence::MrrMovementFilter window;
  window.start = first;
  window.end = first + absl::Microseconds(1);
  EXPECT_EQ(AllMovements(window).size(), 1u);
  window.start = first - absl::Hours(1);
  window.end = first;
  EXPECT_TRUE(AllMovements(window).empty());
}

TEST_P(MrrTest, LatePaymentRemovesChurnAndReactivation) {
  const DataSource s = NewSource("s");
  ASSERT_OK(store_->UpdateSettings(
      s.uuid, SaveSettings(AutoChurn(14), Day(2024, 1, 1)), false, Tick()));
  // January paid, February never (churned on Feb 15), March paid (a
  // reactivation).
  const Customer c = NewCustomer(s.uuid, "c");
  std::vector<Invoice> invoices;
  for (int m = 0; m < 3; ++m) {
    const absl::Time start = Day(2025, 1 + m, 1);
    invoices.push_back(MonthlyInvoice(absl::StrCat("inv-", m), "sub", start,
                                      Day(2025, 2 + m, 1), start));
    if (m != 1) {
      invoices.back().transactions.push_back(
          Payment(absl::StrCat("pay-", m), start));
    }
  }
  ASSERT_OK_AND_ASSIGN(const std::vector<Invoice> stored,
                       store_->ImportInvoices(c.uuid, invoices, Tick()));
  persistence::MrrMovementFilter filter;
  filter.customer_uuid = c.uuid;
  const auto churned_before = [&](absl::Time t) {
    for (const MovementKey& key : StoredKeys(filter)) {
      if (std::get<1>(key) == static_cast<int>(engine::MrrMovementType::kChurn) &&
          std::get<4>(key) < absl::ToUnixMicros(t)) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(churned_before(Day(2025, 3, 1)));
  ASSERT_TRUE(
      HasType(StoredKeys(filter), engine::MrrMovementType::kReactivation));
  // February is paid late, on Mar 20: the churn is cured (R6 a).
  ASSERT_OK(store_->AddTransaction(stored[1].uuid,
                                   Payment("late-pay", Day(2025, 3, 20)),
                                   Tick()));
  EXPECT_EQ(StoredKeys(filter), EngineMovements({c.uuid}));
  EXPECT_FALSE(churned_before(Day(2025, 4, 1)));
  EXPECT_FALSE(
      HasType(StoredKeys(filter), engine::MrrMovementType::kReactivation));
}

TEST_P(MrrTest, SettingsChangeRewritesMovements) {
  const DataSource s = NewSource("s");
  const Customer c = Subscriber(s.uuid, "c", 1, 1);
  persistence::MrrMovementFilter filter;
  filter.customer_uuid = c.uuid;
  EXPECT_FALSE(HasType(StoredKeys(filter), engine::MrrMovementType::kChurn));
  ASSERT_OK(store_->UpdateSettings(
      s.uuid, SaveSettings(AutoChurn(14), Day(2024, 1, 1)), false, Tick()));
  EXPECT_TRUE(HasType(StoredKeys(filter), engine::MrrMovementType::kChurn));
  EXPECT_EQ(StoredKeys(filter), EngineMovements({c.uuid}));
  ASSERT_OK(store_->UpdateSettings(s.uuid, SaveSettings(kKeep, Day(2024, 1, 1)),
                                   false, Tick()));
  EXPECT_FALSE(HasType(StoredKeys(filter), engine::MrrMovementType::kChurn));
  EXPECT_EQ(StoredKeys(filter), EngineMovements({c.uuid}));
}

TEST_P(MrrTest, DeletesAndMergesKeepRowsConsistent) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer x = Subscriber(a.uuid, "x", 2, 0);
  const Customer y = Subscriber(b.uuid, "y", 3, 0, 1000);
  const Customer z = Subscriber(a.uuid, "z", 1, 0);
  ASSERT_OK(store_->MergeCustomers(y.uuid, x.uuid, Tick()).status());
  EXPECT_EQ(StoredKeys({}), EngineMovements({x.uuid, z.uuid}));
  MrrMetrics m = metrics();
  const absl::Time t = Day(2025, 2, 15);
  ASSERT_OK_AND_ASSIGN(MrrSnapshot got, m.GetMrr("", t));
  ExpectSameSnapshot(got, EngineSnapshot({x.uuid, z.uuid}, "", t));
  ASSERT_OK_AND_ASSIGN(got, m.GetMrr(b.uuid, t));
  ExpectSameSnapshot(got, EngineSnapshot({x.uuid}, b.uuid, t));

  ASSERT_OK(store_->DeleteDataSource(b.uuid, Tick()));
  EXPECT_EQ(StoredKeys({}), EngineMovements({x.uuid, z.uuid}));
  ASSERT_OK_AND_ASSIGN(got, m.GetMrr("", t));
  ExpectSameSnapshot(got, EngineSnapshot({x.uuid, z.uuid}, "", t));

  ASSERT_OK(store_->DeleteCustomer(z.uuid, Tick()));
  EXPECT_EQ(StoredKeys({}), EngineMovements({x.uuid}));
  ASSERT_OK_AND_ASSIGN(got, m.GetMrr(a.uuid, t));
  ExpectSameSnapshot(got, EngineSnapshot({x.uuid}, a.uuid, t));
}

TEST_P(MrrTest, SeriesSumsMovementsAndKeepsTheIdentity) {
  const DataSource s = NewSource("s");
  ASSERT_OK(store_->UpdateSettings(
      s.uuid, SaveSettings(AutoChurn(14), Day(2024, 1, 1)), false, Tick()));
  std::vector<std::string> customers;
  customers.push_back(Subscriber(s.uuid, "a", 6, 0).uuid);
  customers.push_back(Subscriber(s.uuid, "b", 2, 2, 9900).uuid);
  customers.push_back(Subscriber(s.uuid, "c", 1, 0, 1234).uuid);
  MrrMetrics m = metrics();
  for (const SeriesInterval interval :
       {SeriesInterval::kDay, SeriesInterval::kWeek, SeriesInterval::kMonth}) {
    ASSERT_OK_AND_ASSIGN(
        const std::vector<MrrSeriesPoint> points,
        m.GetSeries(s.uuid, Day(2024, 12, 20), Day(2025, 9, 1), interval));
    ASSERT_FALSE(points.empty());
    std::map<std::string, int64_t> previous;
    // Before the first point.
    ASSERT_OK_AND_ASSIGN(
        const MrrSnapshot before,
        m.GetMrr(s.uuid, points.front().start - absl::Microseconds(1)));
    for (const MrrTotal& t : before.totals) previous[t.currency] = t.mrr_in_cents;
    for (size_t i = 0; i < points.size(); ++i) {
      const MrrSeriesPoint& p = points[i];
      const absl::Time end = i + 1 < points.size()
                                 ? points[i + 1].start
                                 : absl::InfiniteFuture();
      if (interval == SeriesInterval::kWeek) {
        EXPECT_EQ(absl::GetWeekday(absl::ToCivilDay(p.start,
                                                    absl::UTCTimeZone())),
                  absl::Weekday::monday);
      }
      // Sums of the stored movements in [start, next start).
      persistence::MrrMovementFilter window;
      window.data_source_uuid = s.uuid;
      window.start = p.start;
      if (end != absl::InfiniteFuture()) window.end = end;
      std::map<std::string, int64_t> moved;
      for (const auto& row : AllMovements(window)) {
        moved[row.movement.currency] += row.movement.mrr_change_in_cents;
      }
      for (const MrrSeriesTotal& t : p.totals) {
        int64_t sum = 0;
        for (const int64_t v : t.movements_in_cents) sum += v;
        if (end != absl::InfiniteFuture()) {
          EXPECT_EQ(sum, moved[t.currency]) << absl::FormatTime(p.start);
        }
        // The point identity: previous MRR + its movements.
        EXPECT_EQ(t.mrr_in_cents, previous[t.currency] + sum);
        previous[t.currency] = t.mrr_in_cents;
      }
      if (end != absl::InfiniteFuture()) {
        // The MRR and counts at the end of the interval.
        const MrrSnapshot at_end = EngineSnapshot(
            customers, s.uuid, end - absl::Microseconds(1));
        int64_t mrr = 0;
        for (const MrrTotal& t : at_end.totals) mrr += t.mrr_in_cents;
        int64_t point_mrr = 0;
        for (const MrrSeriesTotal& t : p.totals) point_mrr += t.mrr_in_cents;
        EXPECT_EQ(point_mrr, mrr) << absl::FormatTime(p.start);
        EXPECT_EQ(p.lead_customers, at_end.lead_customers);
        EXPECT_EQ(p.cancelled_customers, at_end.cancelled_customers);
      }
    }
  }
}

TEST_P(MrrTest, MovementAtTheNextStartBelongsToTheNextPoint) {
  const DataSource s = NewSource("s");
  Subscriber(s.uuid, "c", 1, 0);  // NEW_BUSINESS at 2025-01-01 00:00
  MrrMetrics m = metrics();
  ASSERT_OK_AND_ASSIGN(
      const std::vector<MrrSeriesPoint> points,
      m.GetSeries(s.uuid, Day(2024, 12, 31), Day(2025, 1, 2),
                  SeriesInterval::kDay));
  ASSERT_EQ(points.size(), 2u);
  EXPECT_TRUE(points[0].totals.empty());
  ASSERT_EQ(points[1].totals.size(), 1u);
  EXPECT_EQ(points[1].totals[0].mrr_in_cents, 4900);
  EXPECT_EQ(points[1].totals[0].movements_in_cents[static_cast<int>(
                engine::MrrMovementType::kNewBusiness)],
            4900);
  EXPECT_EQ(points[0].lead_customers, 1);
  EXPECT_EQ(points[1].active_customers, 1);
}

TEST_P(MrrTest, Errors) {
  const DataSource s = NewSource("s");
  MrrMetrics m = metrics();
  EXPECT_THAT(m.GetMrr("ds_absent", Day(2025, 1, 1)).status(),
              StatusIs(absl::StatusCode::kNotFound));
  persistence::MrrMovementFilter filter;
  filter.customer_uuid = "cus_absent";
  persistence::PageRequest page;
  EXPECT_THAT(m.ListMovements(filter, page).status(),
              StatusIs(absl::StatusCode::kNotFound));
  page.page_token = "garbage";
  EXPECT_THAT(m.ListMovements({}, page).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(m.GetSeries(s.uuid, Day(2025, 1, 1), Day(2025, 1, 1),
                          SeriesInterval::kDay)
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("end_time")));
  // 1,000 days fit; 1,001 do not.
  EXPECT_OK(m.GetSeries(s.uuid, Day(2025, 1, 1),
                        Day(2025, 1, 1) + absl::Hours(24 * 1000),
                        SeriesInterval::kDay)
                .status());
  EXPECT_THAT(m.GetSeries(s.uuid, Day(2025, 1, 1),
                          Day(2025, 1, 1) + absl::Hours(24 * 1000 + 1),
                          SeriesInterval::kDay)
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("end_time")));
  EXPECT_THAT(m.GetSeries("ds_absent", Day(2025, 1, 1), Day(2025, 2, 1),
                          SeriesInterval::kDay)
                  .status(),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace recurrent::core::testing
