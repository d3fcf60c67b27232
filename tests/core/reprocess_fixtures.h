// Helpers for the tests of settings changes and reprocessing (issue 5).
#ifndef RECURRENT_TESTS_CORE_REPROCESS_FIXTURES_H_
#define RECURRENT_TESTS_CORE_REPROCESS_FIXTURES_H_

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/store.h"
#include "engine/customer_timeline.h"
#include "engine/evaluation.h"
#include "gmock/gmock.h"
#include "tests/core/invoice_fixtures.h"
#include "tests/core/store_test.h"

namespace recurrent::persistence {

inline void PrintTo(const SettingsImpact& impact, std::ostream* os) {
  *os << "{reprocessed " << impact.customers_reprocessed << ", reversed "
      << impact.auto_churns_reversed << ", applied "
      << impact.auto_churns_applied << ", status changed "
      << impact.customers_status_changed << "}";
}

}  // namespace recurrent::persistence

namespace recurrent::core::testing {

// The month the fixtures' histories start in, and the instant they are
// judged at.
inline constexpr absl::CivilMonth kJan(2025, 1);
inline const absl::Time kNow = Day(2025, 6, 15);

MATCHER_P4(ImpactIs, reprocessed, reversed, applied, status_changed, "") {
  return arg.customers_reprocessed == reprocessed &&
         arg.auto_churns_reversed == reversed &&
         arg.auto_churns_applied == applied &&
         arg.customers_status_changed == status_changed;
}

// Monthly invoices "<prefix>-<i>" of `subscription` for `months` months from
// `first` (a first of the month), due at each period start and paid then,
// except those whose index is in `unpaid` (never paid) or in `paid_at`.
inline std::vector<Invoice> Monthly(
    const std::string& prefix, const std::string& subscription,
    absl::CivilMonth first, int months, const std::set<int>& unpaid = {},
    const std::map<int, absl::Time>& paid_at = {}) {
  std::vector<Invoice> invoices;
  for (int i = 0; i < months; ++i) {
    const auto at = [](absl::CivilMonth m) {
      return absl::FromCivil(absl::CivilSecond(m), absl::UTCTimeZone());
    };
    const absl::Time start = at(first + i);
    Invoice invoice = MonthlyInvoice(absl::StrCat(prefix, "-", i), subscription,
                                     start, at(first + i + 1), start);
    if (unpaid.count(i) == 0) {
      auto it = paid_at.find(i);
      invoice.transactions.push_back(
          Payment(absl::StrCat(prefix, "-", i, "-pay"),
                  it == paid_at.end() ? start : it->second));
    }
    invoices.push_back(std::move(invoice));
  }
  return invoices;
}

// Differences between what `storage` holds for each of `customers` (status,
// derived tags, every stored event) and a fresh engine evaluation of its
// snapshot at `now`; empty if none.
inline std::string FreshEvaluationMismatches(
    Store& storage, persistence::Backend& backend,
    const std::vector<std::string>& customers, absl::Time now) {
  std::string out;
  for (const std::string& uuid : customers) {
    absl::StatusOr<CustomerSnapshot> snapshot = LoadSnapshot(backend, uuid);
    absl::StatusOr<Customer> customer = storage.GetCustomer(uuid);
    if (!snapshot.ok() || !customer.ok()) return "cannot read " + uuid;
    absl::StatusOr<engine::CustomerTimeline> timeline =
        engine::CustomerTimeline::Build(snapshot->facts, snapshot->settings);
    if (!timeline.ok()) return timeline.status().ToString();
    const engine::CustomerEvaluation evaluation = timeline->EvaluateAt(now);
    if (customer->status != evaluation.status) {
      absl::StrAppend(&out, customer->external_id, ": stored status ",
                      engine::CustomerStatusName(customer->status),
                      ", evaluated ",
                      engine::CustomerStatusName(evaluation.status), "\n");
    }
    if (customer->derived_tags != evaluation.derived_tags) {
      absl::StrAppend(&out, customer->external_id, ": derived tags differ\n");
    }
    using Event = std::tuple<std::string, engine::EventType, absl::Time,
                             engine::SubscriptionStatus>;
    std::vector<Event> expected;
    for (const auto& subscription : timeline->subscriptions()) {
      for (const engine::SubscriptionEvent& e :
           subscription.timeline.events()) {
        expected.emplace_back(subscription.subscription_external_id, e.type,
                              e.occurred_at, e.status_after);
      }
    }
    std::vector<Event> stored;
    PageRequest page;
    page.page_size = 1000;
    EventFilter filter;
    filter.customer_uuid = uuid;
    absl::StatusOr<Page<SubscriptionEvent>> events =
        storage.ListSubscriptionEvents(filter, page);
    if (!events.ok()) return events.status().ToString();
    for (const SubscriptionEvent& e : events->items) {
      stored.emplace_back(e.subscription.external_id, e.type, e.occurred_at,
                          e.status_after);
    }
    std::sort(expected.begin(), expected.end());
    std::sort(stored.begin(), stored.end());
    if (stored != expected) {
      absl::StrAppend(&out, customer->external_id, ": ", stored.size(),
                      " stored events, ", expected.size(), " evaluated\n");
    }
  }
  return out;
}

// Everything a reader of `storage` sees of `sources`: customers (with
// statuses and tags), every stored event (uuids included) and the settings
// history.
inline std::string DumpVisibleState(Store& storage,
                                    const std::vector<std::string>& sources) {
  std::string out;
  PageRequest page;
  page.page_size = 1000;
  absl::StatusOr<Page<Customer>> customers = storage.ListCustomers({}, page);
  if (!customers.ok()) return customers.status().ToString();
  for (const Customer& c : customers->items) {
    absl::StrAppend(&out, c.uuid, " ", c.external_id,
                    " status=", engine::CustomerStatusName(c.status),
                    " derived=", absl::StrJoin(c.derived_tags, ","),
                    " tags=", absl::StrJoin(c.tags, ","),
                    " updated=", absl::FormatTime(c.updated_at), "\n");
  }
  for (const std::string& source : sources) {
    EventFilter filter;
    filter.data_source_uuid = source;
    absl::StatusOr<Page<SubscriptionEvent>> events =
        storage.ListSubscriptionEvents(filter, page);
    if (!events.ok()) return events.status().ToString();
    for (const SubscriptionEvent& e : events->items) {
      absl::StrAppend(&out, e.uuid, " ", engine::EventTypeName(e.type), "@",
                      absl::FormatTime(e.occurred_at), "->",
                      engine::SubscriptionStatusName(e.status_after), " ",
                      e.subscription.uuid, "\n");
    }
    absl::StatusOr<std::vector<SourceSettings>> history =
        storage.ListSettingsHistory(source);
    if (!history.ok()) return history.status().ToString();
    for (const SourceSettings& s : history.value()) {
      absl::StrAppend(&out, "settings v", s.version,
                      " mode=", static_cast<int>(s.past_due_handling.mode),
                      " days=", s.past_due_handling.auto_churn_after_days,
                      "\n");
    }
  }
  return out;
}

// A decision that saves `handling` applied at `applied_at`.
inline SettingsDecision SaveSettings(PastDueHandling handling,
                                     absl::Time applied_at) {
  return
      [handling, applied_at](
          const SourceSettings&) -> absl::StatusOr<std::optional<NewSettings>> {
        return NewSettings{handling, applied_at, ""};
      };
}

inline constexpr PastDueHandling kKeep{PastDueMode::kKeep, 0};
inline PastDueHandling AutoChurn(int days) {
  return PastDueHandling{PastDueMode::kAutoChurn, days};
}

}  // namespace recurrent::core::testing

#endif  // RECURRENT_TESTS_CORE_REPROCESS_FIXTURES_H_
