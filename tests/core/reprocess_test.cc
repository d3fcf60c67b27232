// Store tests (every backend): UpdateSettings saves and reprocesses the source
// with an exact impact; dry runs; ReprocessDataSource (issue 5).
//
// The crafted source S, evaluated at kNow = 2025-06-15 (monthly periods on
// the 1st, invoices due at the period start):
//   c1  s1 Jan-Jun, Feb never paid    KEEP: PAST_DUE since Feb 1
//   c2  s2 Jan-Jun, Feb paid Mar 10   always ACTIVE (curable: never churns)
//   c3  s3 Jan-Mar, no renewal         KEEP: PAST_DUE since Apr 1
//   c4  s4 Jan-Mar, cancelled Mar 25   always CANCELLED
//   c5  only in source T               never reprocessed with S
//   c6  s6 Jan-Jun paid, merged with a T customer whose t6 (Jan-Mar) was not
//       renewed: PAST_DUE through T (KEEP) whatever S's settings
//   c7  s7a and s7b Jan-Jun, both May invoices never paid
// Under AUTO_CHURN 14: c1 churns Feb 15 (reactivated Mar 1: ACTIVE), c3
// Apr 15 (CANCELLED), c7 twice May 15 (reactivated Jun 1: ACTIVE). Under
// AUTO_CHURN 30: Mar 3, May 1 and twice May 31, same statuses.
#include <algorithm>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "core/mrr_metrics.h"
#include "core/settings_changes.h"
#include "core/store.h"
#include "engine/evaluation.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/reprocess_fixtures.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;
using EventType = ::recurrent::engine::EventType;


std::vector<std::pair<EventType, absl::Time>> Types(
    const std::vector<SubscriptionEvent>& events) {
  std::vector<std::pair<EventType, absl::Time>> out;
  for (const SubscriptionEvent& e : events) {
    out.emplace_back(e.type, e.occurred_at);
  }
  return out;
}

// The crafted sources S and T; customers by name.
struct Crafted {
  DataSource s, t;
  Customer c1, c2, c3, c4, c5, c6, c7;
  std::vector<std::string> all() const {
    return {c1.uuid, c2.uuid, c3.uuid, c4.uuid, c5.uuid, c6.uuid, c7.uuid};
  }
};

class Importer {
 public:
  explicit Importer(Store& storage) : storage_(storage) {}
  void Import(const Customer& customer, std::vector<Invoice> invoices,
              const std::string& source = "") {
    for (Invoice& invoice : invoices) invoice.data_source_uuid = source;
    EXPECT_OK(storage_.ImportInvoices(customer.uuid, invoices, kNow));
  }

 private:
  Store& storage_;
};

void Craft(Store& storage, Crafted& out,
           const std::function<DataSource(const std::string&)>& new_source,
           const std::function<Customer(const std::string&,
                                        const std::string&)>& new_customer) {
  out.s = new_source("S");
  out.t = new_source("T");
  Importer importer(storage);
  out.c1 = new_customer(out.s.uuid, "c1");
  importer.Import(out.c1, Monthly("c1", "s1", kJan, 6, {1}));
  out.c2 = new_customer(out.s.uuid, "c2");
  importer.Import(out.c2,
                  Monthly("c2", "s2", kJan, 6, {}, {{1, Day(2025, 3, 10)}}));
  out.c3 = new_customer(out.s.uuid, "c3");
  importer.Import(out.c3, Monthly("c3", "s3", kJan, 3));
  out.c4 = new_customer(out.s.uuid, "c4");
  importer.Import(out.c4, Monthly("c4", "s4", kJan, 3));
  absl::StatusOr<Page<EvaluatedSubscription>> c4 =
      storage.ListSubscriptions(out.c4.uuid, kNow, PageRequest{});
  ASSERT_OK(c4);
  ASSERT_OK(storage.CancelSubscription(c4->items.at(0).ref.uuid,
                                       Day(2025, 3, 25), kNow));
  out.c5 = new_customer(out.t.uuid, "c5");
  importer.Import(out.c5, Monthly("c5", "t5", kJan, 6, {1}));
  out.c6 = new_customer(out.s.uuid, "c6");
  const Customer c6t = new_customer(out.t.uuid, "c6t");
  importer.Import(c6t, Monthly("c6t", "t6", kJan, 3));
  ASSERT_OK(storage.MergeCustomers(c6t.uuid, out.c6.uuid, kNow));
  importer.Import(out.c6, Monthly("c6", "s6", kJan, 6), out.s.uuid);
  out.c7 = new_customer(out.s.uuid, "c7");
  std::vector<Invoice> c7 = Monthly("c7a", "s7a", kJan, 6, {4});
  for (Invoice& invoice : Monthly("c7b", "s7b", kJan, 6, {4})) {
    c7.push_back(std::move(invoice));
  }
  importer.Import(out.c7, c7);
}

#define CRAFT(crafted)                                          \
  ASSERT_NO_FATAL_FAILURE(Craft(                                \
      *store_, crafted,                                         \
      [&](const std::string& name) { return NewSource(name); }, \
      [&](const std::string& source, const std::string& id) {   \
        return NewCustomer(source, id);                         \
      }))

Store::SettingsUpdate MustUpdate(Store& storage, const std::string& source,
                                 PastDueHandling handling,
                                 absl::Time applied_at = kNow,
                                 bool dry_run = false) {
  absl::StatusOr<Store::SettingsUpdate> update = storage.UpdateSettings(
      source, SaveSettings(handling, applied_at), dry_run, kNow);
  EXPECT_OK(update);
  return update.ok() ? *update : Store::SettingsUpdate{};
}

TEST_P(StoreTest, ReversalKeepAuto14Auto30KeepIsFreshEachStep) {
  Crafted c;
  CRAFT(c);
  const std::vector<std::string> sources = {c.s.uuid, c.t.uuid};
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");
  const std::string initial = DumpVisibleState(*store_, sources);

  Store::SettingsUpdate update = MustUpdate(*store_, c.s.uuid, AutoChurn(14));
  EXPECT_TRUE(update.applied);
  EXPECT_EQ(update.settings.version, 2);
  EXPECT_THAT(update.impact, ImpactIs(6, 0, 4, 3));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");
  ASSERT_OK_AND_ASSIGN(Customer c1, store_->GetCustomer(c.c1.uuid));
  EXPECT_EQ(c1.status, CustomerStatus::kActive);
  EXPECT_THAT(c1.derived_tags,
              ElementsAre(std::string(engine::kAutoChurnedTag)));
  ASSERT_OK_AND_ASSIGN(Customer c6, store_->GetCustomer(c.c6.uuid));
  EXPECT_EQ(c6.status, CustomerStatus::kPastDue);  // through T, still KEEP

  update = MustUpdate(*store_, c.s.uuid, AutoChurn(30));
  EXPECT_THAT(update.impact, ImpactIs(6, 4, 4, 0));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");

  update = MustUpdate(*store_, c.s.uuid, kKeep);
  EXPECT_THAT(update.impact, ImpactIs(6, 4, 0, 3));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");
  // The same as at the start, settings history aside.
  std::string final_state = DumpVisibleState(*store_, sources);
  const auto without_history = [](std::string dump) {
    return dump.substr(0, dump.find("settings v"));
  };
  EXPECT_EQ(without_history(final_state), without_history(initial));

  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(c.s.uuid));
  ASSERT_THAT(history, SizeIs(4));
  EXPECT_THAT(history[0].impact, ImpactIs(0, 0, 0, 0));
  EXPECT_THAT(history[1].impact, ImpactIs(6, 0, 4, 3));
  EXPECT_THAT(history[2].impact, ImpactIs(6, 4, 4, 0));
  EXPECT_THAT(history[3].impact, ImpactIs(6, 4, 0, 3));
}

// Subscription "sg": January paid, then a gap Feb 1 .. Mar 10 that the
// renewal of Mar 10 (paid) resolves.
std::vector<Invoice> RenewalGapInvoices() {
  std::vector<Invoice> invoices = Monthly("g", "sg", kJan, 1);
  Invoice renewal = MonthlyInvoice("g-mar", "sg", Day(2025, 3, 10),
                                   Day(2026, 3, 10), Day(2025, 3, 10));
  renewal.transactions.push_back(Payment("g-mar-pay", Day(2025, 3, 10)));
  invoices.push_back(renewal);
  return invoices;
}

TEST_P(StoreTest, EffectiveAtInThePastChurnsResolvedCases) {
  Crafted c;
  CRAFT(c);
  // g: a renewal gap Feb 1 .. Mar 10, resolved by the renewal (R6 b).
  const Customer g = NewCustomer(c.s.uuid, "g");
  ASSERT_OK(store_->ImportInvoices(g.uuid, RenewalGapInvoices(), kNow));
  std::vector<std::string> customers = c.all();
  customers.push_back(g.uuid);

  // Applied before the gap: the gap churns at Feb 15, with the others.
  Store::SettingsUpdate update =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14), Day(2025, 1, 15));
  EXPECT_EQ(update.settings.applied_at, Day(2025, 1, 15));
  EXPECT_THAT(update.impact, ImpactIs(7, 0, 5, 3));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers, kNow), "");
  EventFilter filter;
  filter.customer_uuid = g.uuid;
  filter.as_of = kNow;  // stored events include projected future ones
  ASSERT_OK_AND_ASSIGN(Page<SubscriptionEvent> events,
                       store_->ListSubscriptionEvents(filter, {100, ""}));
  EXPECT_THAT(Types(events.items),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 2, 1)),
                          Pair(EventType::kAutoChurned, Day(2025, 2, 15)),
                          Pair(EventType::kReactivated, Day(2025, 3, 10))));

  // The same settings applied now: the gap had ended by then, so it no
  // longer churns; the others' stretches were still running and keep theirs.
  update = MustUpdate(*store_, c.s.uuid, AutoChurn(14), kNow);
  EXPECT_THAT(update.impact, ImpactIs(7, 1, 0, 0));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, customers, kNow), "");
  ASSERT_OK_AND_ASSIGN(events,
                       store_->ListSubscriptionEvents(filter, {100, ""}));
  EXPECT_THAT(Types(events.items),
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 2, 1)),
                          Pair(EventType::kRecovered, Day(2025, 3, 10))));
}

// R6 "A → B → A gives A's result", through the store: A saved again with
// A's applied_at (UpdateSettings' effective_at) brings back exactly what A
// stored — statuses, events with their uuids, MRR movements. Saved again
// with a later applied_at it is a new setting, under which cases resolved
// in between do not churn (EffectiveAtInThePastChurnsResolvedCases).
TEST_P(StoreTest, SettingsAToBToAWithAsAppliedAtGivesAsStoredState) {
  Crafted c;
  CRAFT(c);
  // g: a renewal gap Feb 1 .. Mar 10, resolved before kNow.
  const Customer g = NewCustomer(c.s.uuid, "g");
  ASSERT_OK(store_->ImportInvoices(g.uuid, RenewalGapInvoices(), kNow));
  const std::vector<std::string> sources = {c.s.uuid, c.t.uuid};
  const auto visible = [&] {
    std::string out = DumpVisibleState(*store_, sources);
    out = out.substr(0, out.find("settings v"));  // the history grows
    persistence::PageRequest page;
    page.page_size = 1000;
    absl::StatusOr<Page<persistence::MrrMovementRow>> movements =
        MrrMetrics(backend_.get()).ListMovements({}, page);
    if (!movements.ok()) return movements.status().ToString();
    for (const persistence::MrrMovementRow& row : movements->items) {
      const engine::MrrMovement& m = row.movement;
      absl::StrAppend(&out, row.customer_uuid, " ", m.data_source_uuid, " ",
                      static_cast<int>(m.type), "@",
                      absl::FormatTime(m.occurred_at), " ",
                      m.mrr_change_in_cents, " ", m.mrr_after_in_cents, "\n");
    }
    return out;
  };
  const absl::Time a_applied_at = Day(2025, 1, 15);

  MustUpdate(*store_, c.s.uuid, AutoChurn(14), a_applied_at);
  const std::string under_a = visible();
  EventFilter filter;
  filter.customer_uuid = g.uuid;
  filter.as_of = kNow;
  ASSERT_OK_AND_ASSIGN(Page<SubscriptionEvent> events,
                       store_->ListSubscriptionEvents(filter, {100, ""}));
  EXPECT_THAT(Types(events.items),  // the gap churned: A applies since Jan 15
              ElementsAre(Pair(EventType::kStarted, Day(2025, 1, 1)),
                          Pair(EventType::kPastDue, Day(2025, 2, 1)),
                          Pair(EventType::kAutoChurned, Day(2025, 2, 15)),
                          Pair(EventType::kReactivated, Day(2025, 3, 10))));

  MustUpdate(*store_, c.s.uuid, kKeep);
  EXPECT_NE(visible(), under_a);

  Store::SettingsUpdate update =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14), a_applied_at);
  EXPECT_EQ(update.settings.version, 4);
  EXPECT_EQ(visible(), under_a);
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");
}

TEST_P(StoreTest, DryRunChangesNothingAndPreviewsTheImpact) {
  Crafted c;
  CRAFT(c);
  const std::vector<std::string> sources = {c.s.uuid, c.t.uuid};
  const std::string before = DumpVisibleState(*store_, sources);
  Store::SettingsUpdate preview =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14), kNow, /*dry_run=*/true);
  EXPECT_FALSE(preview.applied);
  EXPECT_EQ(preview.settings.version, 2);  // as it would be saved
  EXPECT_EQ(preview.settings.past_due_handling, AutoChurn(14));
  EXPECT_THAT(preview.impact, ImpactIs(6, 0, 4, 3));
  EXPECT_EQ(DumpVisibleState(*store_, sources), before);

  const Store::SettingsUpdate applied =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14));
  EXPECT_THAT(applied.impact,
              ImpactIs(preview.impact.customers_reprocessed,
                       preview.impact.auto_churns_reversed,
                       preview.impact.auto_churns_applied,
                       preview.impact.customers_status_changed));
  // A dry run of a change back previews the reversal.
  preview = MustUpdate(*store_, c.s.uuid, kKeep, kNow, /*dry_run=*/true);
  EXPECT_THAT(preview.impact, ImpactIs(6, 4, 0, 3));
  EXPECT_EQ(preview.settings.version, 3);
}

TEST_P(StoreTest, SettingsOfAMergedCustomersOtherSourceApply) {
  Crafted c;
  CRAFT(c);
  // T's change reprocesses c5, and c6 (primary source S) through t6, whose
  // renewal stopped on Apr 1: churned Apr 15. S's facts still count: c6 is
  // ACTIVE through s6.
  const Store::SettingsUpdate update =
      MustUpdate(*store_, c.t.uuid, AutoChurn(14));
  EXPECT_THAT(update.impact, ImpactIs(2, 0, 2, 2));
  EXPECT_EQ(FreshEvaluationMismatches(*store_, *backend_, c.all(), kNow), "");
  ASSERT_OK_AND_ASSIGN(Customer c6, store_->GetCustomer(c.c6.uuid));
  EXPECT_EQ(c6.status, CustomerStatus::kActive);
  EXPECT_THAT(c6.derived_tags,
              ElementsAre(std::string(engine::kAutoChurnedTag)));
  // S's customers other than c6 are untouched.
  ASSERT_OK_AND_ASSIGN(Customer c1, store_->GetCustomer(c.c1.uuid));
  EXPECT_EQ(c1.status, CustomerStatus::kPastDue);
}

TEST_P(StoreTest, ReprocessDataSourceBringsStaleStatusesUpToDate) {
  const DataSource s = NewSource("S");
  const Customer a = NewCustomer(s.uuid, "a");
  const Customer b = NewCustomer(s.uuid, "b");
  // Stored at Mar 15: a ACTIVE (renewals stop Apr 1), b ACTIVE.
  ASSERT_OK(store_->ImportInvoices(a.uuid, Monthly("a", "sa", kJan, 3),
                                   Day(2025, 3, 15)));
  ASSERT_OK(store_->ImportInvoices(b.uuid, Monthly("b", "sb", kJan, 12),
                                   Day(2025, 3, 15)));
  ASSERT_OK(store_->UpdateSettings(s.uuid,
                                   SaveSettings(AutoChurn(14), Day(2025, 1, 1)),
                                   false, Day(2025, 3, 15)));
  ASSERT_OK_AND_ASSIGN(Customer stale, store_->GetCustomer(a.uuid));
  EXPECT_EQ(stale.status, CustomerStatus::kActive);

  // At kNow a's renewal gap has churned (Apr 15): the stored churn event
  // (projected at Mar 15) was already there, the status was stale.
  ASSERT_OK_AND_ASSIGN(SettingsImpact impact,
                       store_->ReprocessDataSource(s.uuid, kNow));
  EXPECT_THAT(impact, ImpactIs(2, 0, 0, 1));
  EXPECT_EQ(
      FreshEvaluationMismatches(*store_, *backend_, {a.uuid, b.uuid}, kNow),
      "");
  ASSERT_OK_AND_ASSIGN(Customer fresh, store_->GetCustomer(a.uuid));
  EXPECT_EQ(fresh.status, CustomerStatus::kCancelled);
  // Nothing more to do; no settings version was saved.
  ASSERT_OK_AND_ASSIGN(impact, store_->ReprocessDataSource(s.uuid, kNow));
  EXPECT_THAT(impact, ImpactIs(2, 0, 0, 0));
  ASSERT_OK_AND_ASSIGN(std::vector<SourceSettings> history,
                       store_->ListSettingsHistory(s.uuid));
  EXPECT_THAT(history, SizeIs(2));

  EXPECT_THAT(store_->ReprocessDataSource("ds_missing", kNow),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->UpdateSettings("ds_missing", SaveSettings(kKeep, kNow),
                                     true, kNow),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, ADecideErrorChangesNothing) {
  Crafted c;
  CRAFT(c);
  const std::vector<std::string> sources = {c.s.uuid, c.t.uuid};
  const std::string before = DumpVisibleState(*store_, sources);
  for (const bool dry_run : {false, true}) {
    EXPECT_THAT(store_->UpdateSettings(
                    c.s.uuid,
                    [](const SourceSettings&)
                        -> absl::StatusOr<std::optional<NewSettings>> {
                      return absl::FailedPreconditionError("no");
                    },
                    dry_run, kNow),
                StatusIs(absl::StatusCode::kFailedPrecondition));
  }
  EXPECT_EQ(DumpVisibleState(*store_, sources), before);
}

TEST_P(StoreTest, ASourceWithoutSubscriptionsReprocessesNobody) {
  const DataSource s = NewSource("S");
  NewCustomer(s.uuid, "lead");
  const Store::SettingsUpdate update =
      MustUpdate(*store_, s.uuid, AutoChurn(14));
  EXPECT_THAT(update.impact, ImpactIs(0, 0, 0, 0));
  EXPECT_TRUE(update.applied);
  EXPECT_THAT(ListAll({}), ElementsAre(::testing::Field(
                               &Customer::status, CustomerStatus::kLead)));
  EXPECT_THAT(ListAllEvents([&] {
                EventFilter filter;
                filter.data_source_uuid = s.uuid;
                return filter;
              }()),
              IsEmpty());
}

// ---- list_changes ----------------------------------------------------------

Store::SettingsUpdate MustUpdateListing(Store& storage,
                                        const std::string& source,
                                        PastDueHandling handling,
                                        bool dry_run) {
  absl::StatusOr<Store::SettingsUpdate> update =
      storage.UpdateSettings(source, SaveSettings(handling, kNow), dry_run,
                             kNow, /*list_changes=*/true);
  EXPECT_OK(update);
  return update.ok() ? *update : Store::SettingsUpdate{};
}

std::string Dates(const std::vector<absl::Time>& instants) {
  std::vector<std::string> out;
  for (absl::Time t : instants) {
    out.push_back(absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()));
  }
  return absl::StrJoin(out, ",");
}

// "customer/subscription BEFORE->AFTER +added -removed".
std::vector<std::string> Describe(
    const std::vector<SubscriptionChange>& changes) {
  std::vector<std::string> out;
  for (const SubscriptionChange& c : changes) {
    out.push_back(absl::StrCat(
        c.customer_external_id, "/", c.subscription_external_id, " ",
        engine::SubscriptionStatusName(c.status_before), "->",
        engine::SubscriptionStatusName(c.status_after), " +",
        Dates(c.auto_churns_added), " -", Dates(c.auto_churns_removed)));
  }
  return out;
}

// The listing is in (customer uuid, subscription uuid) order, names the
// stored subscriptions, and agrees with the impact: the same auto-churns,
// and every customer whose status changed has a subscription whose status
// changed.
void ExpectListingAgreesWithImpact(Store& storage,
                                   const Store::SettingsUpdate& update) {
  EXPECT_TRUE(std::is_sorted(
      update.changes.begin(), update.changes.end(),
      [](const SubscriptionChange& a, const SubscriptionChange& b) {
        return std::tie(a.customer_uuid, a.subscription_uuid) <
               std::tie(b.customer_uuid, b.subscription_uuid);
      }));
  int64_t added = 0;
  int64_t removed = 0;
  std::set<std::string> status_changed;
  for (const SubscriptionChange& c : update.changes) {
    added += c.auto_churns_added.size();
    removed += c.auto_churns_removed.size();
    if (c.status_before != c.status_after) {
      status_changed.insert(c.customer_uuid);
    }
    absl::StatusOr<Page<EvaluatedSubscription>> stored =
        storage.ListSubscriptions(c.customer_uuid, kNow, PageRequest{100, ""});
    ASSERT_OK(stored);
    const auto it = std::find_if(stored->items.begin(), stored->items.end(),
                                 [&](const EvaluatedSubscription& s) {
                                   return s.ref.uuid == c.subscription_uuid;
                                 });
    ASSERT_NE(it, stored->items.end()) << c.subscription_uuid;
    EXPECT_EQ(it->ref.external_id, c.subscription_external_id);
  }
  EXPECT_EQ(update.changes_not_listed, 0);
  EXPECT_EQ(added, update.impact.auto_churns_applied);
  EXPECT_EQ(removed, update.impact.auto_churns_reversed);
  EXPECT_GE(static_cast<int64_t>(status_changed.size()),
            update.impact.customers_status_changed);
}

TEST_P(StoreTest, ADryRunListsTheChangedSubscriptionsAsTheChangeDoes) {
  Crafted c;
  CRAFT(c);
  const std::vector<std::string> sources = {c.s.uuid, c.t.uuid};
  const std::string before = DumpVisibleState(*store_, sources);

  const Store::SettingsUpdate preview =
      MustUpdateListing(*store_, c.s.uuid, AutoChurn(14), /*dry_run=*/true);
  EXPECT_FALSE(preview.applied);
  EXPECT_THAT(preview.impact, ImpactIs(6, 0, 4, 3));
  EXPECT_THAT(Describe(preview.changes),
              UnorderedElementsAre("c1/s1 PAST_DUE->ACTIVE +2025-02-15 -",
                                   "c3/s3 PAST_DUE->CANCELLED +2025-04-15 -",
                                   "c7/s7a PAST_DUE->ACTIVE +2025-05-15 -",
                                   "c7/s7b PAST_DUE->ACTIVE +2025-05-15 -"));
  ExpectListingAgreesWithImpact(*store_, preview);
  EXPECT_EQ(DumpVisibleState(*store_, sources), before);

  // Applied, the change lists the same.
  const Store::SettingsUpdate applied =
      MustUpdateListing(*store_, c.s.uuid, AutoChurn(14), /*dry_run=*/false);
  EXPECT_TRUE(applied.applied);
  EXPECT_EQ(Describe(applied.changes), Describe(preview.changes));
  for (size_t i = 0; i < applied.changes.size() && i < preview.changes.size();
       ++i) {
    EXPECT_EQ(applied.changes[i].subscription_uuid,
              preview.changes[i].subscription_uuid);
    EXPECT_EQ(applied.changes[i].customer_uuid,
              preview.changes[i].customer_uuid);
  }
  ExpectListingAgreesWithImpact(*store_, applied);

  // X=14 -> X=30: every churn moves, no status now changes.
  const Store::SettingsUpdate moved =
      MustUpdateListing(*store_, c.s.uuid, AutoChurn(30), /*dry_run=*/true);
  EXPECT_THAT(moved.impact, ImpactIs(6, 4, 4, 0));
  EXPECT_THAT(
      Describe(moved.changes),
      UnorderedElementsAre("c1/s1 ACTIVE->ACTIVE +2025-03-03 -2025-02-15",
                           "c3/s3 CANCELLED->CANCELLED +2025-05-01 -2025-04-15",
                           "c7/s7a ACTIVE->ACTIVE +2025-05-31 -2025-05-15",
                           "c7/s7b ACTIVE->ACTIVE +2025-05-31 -2025-05-15"));
  ExpectListingAgreesWithImpact(*store_, moved);

  // A merged customer's subscription in the changed source is named with
  // the customer's primary external id.
  const Store::SettingsUpdate through_t =
      MustUpdateListing(*store_, c.t.uuid, AutoChurn(14), /*dry_run=*/true);
  EXPECT_THAT(through_t.impact, ImpactIs(2, 0, 2, 2));
  EXPECT_THAT(Describe(through_t.changes),
              UnorderedElementsAre("c5/t5 PAST_DUE->ACTIVE +2025-02-15 -",
                                   "c6/t6 PAST_DUE->CANCELLED +2025-04-15 -"));
  ExpectListingAgreesWithImpact(*store_, through_t);
}

TEST_P(StoreTest, WithoutListChangesOrWithNoNewVersionNothingIsListed) {
  Crafted c;
  CRAFT(c);
  for (const bool dry_run : {true, false}) {
    const Store::SettingsUpdate update =
        MustUpdate(*store_, c.s.uuid, AutoChurn(14), kNow, dry_run);
    EXPECT_THAT(update.impact, ImpactIs(6, 0, 4, 3));
    EXPECT_THAT(update.changes, IsEmpty());
    EXPECT_EQ(update.changes_not_listed, 0);
  }
  // A no-op (no new version) lists nothing and shows the current settings.
  for (const bool dry_run : {true, false}) {
    ASSERT_OK_AND_ASSIGN(const Store::SettingsUpdate update,
                         store_->UpdateSettings(
                             c.s.uuid,
                             [](const SourceSettings&)
                                 -> absl::StatusOr<std::optional<NewSettings>> {
                               return std::nullopt;
                             },
                             dry_run, kNow, /*list_changes=*/true));
    EXPECT_FALSE(update.applied);
    EXPECT_EQ(update.settings.version, 2);
    EXPECT_EQ(update.settings.past_due_handling, AutoChurn(14));
    EXPECT_THAT(update.impact, ImpactIs(0, 0, 0, 0));
    EXPECT_THAT(update.changes, IsEmpty());
    EXPECT_EQ(update.changes_not_listed, 0);
  }
}

TEST_P(StoreTest, ADryRunShowsTheVersionItWouldSave) {
  Crafted c;
  CRAFT(c);
  const Store::SettingsUpdate preview =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14), Day(2025, 5, 1),
                 /*dry_run=*/true);
  EXPECT_FALSE(preview.applied);
  EXPECT_EQ(preview.settings.data_source_uuid, c.s.uuid);
  EXPECT_EQ(preview.settings.version, 2);
  EXPECT_EQ(preview.settings.past_due_handling, AutoChurn(14));
  EXPECT_EQ(preview.settings.applied_at, Day(2025, 5, 1));
  ASSERT_OK_AND_ASSIGN(const SourceSettings current,
                       store_->GetSettings(c.s.uuid));
  EXPECT_EQ(current.version, 1);
  EXPECT_EQ(current.past_due_handling, kKeep);
  // Saved, it is that version.
  const Store::SettingsUpdate applied =
      MustUpdate(*store_, c.s.uuid, AutoChurn(14), Day(2025, 5, 1));
  EXPECT_EQ(applied.settings.version, preview.settings.version);
  EXPECT_EQ(applied.settings.applied_at, preview.settings.applied_at);
  EXPECT_EQ(applied.settings.past_due_handling,
            preview.settings.past_due_handling);
}

TEST_P(StoreTest, ListedChangesStopAtTheCapInOrderAndTheRestAreCounted) {
  Crafted c;
  CRAFT(c);
  const Store::SettingsUpdate all =
      MustUpdateListing(*store_, c.s.uuid, AutoChurn(14), /*dry_run=*/true);
  ASSERT_THAT(all.changes, SizeIs(4));
  // A store that lists 2, with one customer per chunk and two evaluating
  // threads: the first two of the whole order, whichever chunk held them.
  Store::Options options;
  options.max_listed_settings_changes = 2;
  options.reprocess_chunk_customers = 1;
  options.reprocess_threads = 2;
  Store capped(backend_.get(), options, nullptr);
  for (const bool dry_run : {true, false}) {
    const Store::SettingsUpdate update =
        MustUpdateListing(capped, c.s.uuid, AutoChurn(14), dry_run);
    EXPECT_THAT(update.impact, ImpactIs(6, 0, 4, 3));
    ASSERT_THAT(update.changes, SizeIs(2));
    EXPECT_EQ(update.changes_not_listed, 2);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(update.changes[i].subscription_uuid,
                all.changes[i].subscription_uuid);
    }
  }
  // A cap of 0 only counts.
  options.max_listed_settings_changes = 0;
  Store counting(backend_.get(), options, nullptr);
  const Store::SettingsUpdate update =
      MustUpdateListing(counting, c.s.uuid, kKeep, /*dry_run=*/true);
  EXPECT_THAT(update.changes, IsEmpty());
  EXPECT_EQ(update.changes_not_listed, 4);
}

}  // namespace
}  // namespace recurrent::core::testing
