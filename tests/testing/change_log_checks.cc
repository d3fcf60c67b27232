#include "tests/testing/change_log_checks.h"

#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/evaluation.h"

namespace recurrent::testing {
namespace {

using persistence::ChangeKind;
using persistence::ChangeRow;
// An event as the log and the listing show it: type, instant, status after.
using Shown =
    std::tuple<engine::EventType, absl::Time, engine::SubscriptionStatus>;
using Published = std::map<std::string, Shown>;

Shown ShownOf(const core::SubscriptionEvent& event) {
  return {event.type, event.occurred_at, event.status_after};
}

std::string Describe(const Shown& event) {
  return absl::StrCat(
      engine::EventTypeName(std::get<0>(event)), "@",
      absl::FormatTime(std::get<1>(event), absl::UTCTimeZone()), "->",
      engine::SubscriptionStatusName(std::get<2>(event)));
}

std::string Describe(const Published& events) {
  std::string out;
  for (const auto& [uuid, event] : events) {
    absl::StrAppend(&out, " ", Describe(event), "(", uuid, ")");
  }
  return out;
}

}  // namespace

std::string ChangeLogMismatches(core::Store& store, absl::Time now) {
  std::string out;
  absl::StatusOr<std::vector<ChangeRow>> rows =
      store.ReadChanges(0, 10'000'000);
  if (!rows.ok()) return rows.status().ToString();
  std::set<std::string> customers;
  for (size_t i = 0; i < rows->size(); ++i) {
    const ChangeRow& row = (*rows)[i];
    if (!row.customer_uuid.empty()) customers.insert(row.customer_uuid);
    if (i > 0 && (*rows)[i - 1].sequence >= row.sequence) {
      absl::StrAppend(&out, "sequence ", row.sequence, " after ",
                      (*rows)[i - 1].sequence, "\n");
    }
  }
  absl::StatusOr<core::Page<core::Customer>> listed =
      store.ListCustomers({}, {persistence::kMaxPageSize, ""});
  if (!listed.ok()) return listed.status().ToString();
  for (const core::Customer& customer : listed->items) {
    customers.insert(customer.uuid);
  }

  for (const std::string& customer : customers) {
    Published published;
    engine::CustomerStatus status = engine::CustomerStatus::kLead;
    for (const ChangeRow& row : *rows) {
      if (row.customer_uuid != customer) continue;
      switch (row.kind) {
        case ChangeKind::kEventPublished:
          if (!published.emplace(row.event.uuid, ShownOf(row.event)).second) {
            absl::StrAppend(&out, customer, ": ", row.event.uuid,
                            " published twice\n");
          }
          if (row.event.occurred_at > row.committed_at) {
            absl::StrAppend(&out, customer, ": ", row.event.uuid,
                            " published before it was due\n");
          }
          break;
        case ChangeKind::kEventRetracted: {
          auto it = published.find(row.event.uuid);
          if (it == published.end()) {
            absl::StrAppend(&out, customer, ": ", row.event.uuid,
                            " retracted but not published\n");
            break;
          }
          if (it->second != ShownOf(row.event)) {
            absl::StrAppend(&out, customer, ": ", row.event.uuid,
                            " published as ", Describe(it->second),
                            ", retracted as ", Describe(ShownOf(row.event)),
                            "\n");
          }
          published.erase(it);
          break;
        }
        case ChangeKind::kCustomerStatusChanged:
          if (row.previous_status != status || row.status == status) {
            absl::StrAppend(&out, customer, ": status row ",
                            engine::CustomerStatusName(row.previous_status),
                            " -> ", engine::CustomerStatusName(row.status),
                            " after ", engine::CustomerStatusName(status),
                            "\n");
          }
          status = row.status;
          break;
        default:
          break;
      }
    }
    absl::StatusOr<core::Customer> stored = store.GetCustomer(customer);
    if (!stored.ok()) {
      if (!published.empty()) {
        absl::StrAppend(&out, customer, " is gone but still has published",
                        Describe(published), "\n");
      }
      continue;
    }
    if (status != stored->status) {
      absl::StrAppend(&out, customer, ": log says ",
                      engine::CustomerStatusName(status), ", stored ",
                      engine::CustomerStatusName(stored->status), "\n");
    }
    Published expected;
    core::EventFilter filter;
    filter.customer_uuid = customer;
    filter.as_of = now;
    core::PageRequest page{persistence::kMaxPageSize, ""};
    while (true) {
      absl::StatusOr<core::Page<core::SubscriptionEvent>> events =
          store.ListSubscriptionEvents(filter, page);
      if (!events.ok()) return events.status().ToString();
      for (const core::SubscriptionEvent& event : events->items) {
        expected.emplace(event.uuid, ShownOf(event));
      }
      if (events->next_page_token.empty()) break;
      page.page_token = events->next_page_token;
    }
    if (published != expected) {
      absl::StrAppend(&out, customer, ": the log publishes",
                      Describe(published), "\n  ListSubscriptionEvents has",
                      Describe(expected), "\n");
    }
  }
  return out;
}

}  // namespace recurrent::testing
