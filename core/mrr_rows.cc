#include "core/mrr_rows.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/mrr.h"
#include "persistence/page_token.h"

namespace recurrent::core {
namespace {

using persistence::MrrDelta;
using persistence::MrrWrite;

// Bump when the rows derived from the same facts change, so that every
// customer's rows are rewritten by its next recompute.
constexpr absl::string_view kDerivationVersion = "mrr rows v1";

// What the customer counts for in one scope and currency at an instant.
struct CurrencyState {
  int64_t mrr = 0;
  int64_t past_due_mrr = 0;
};

struct ScopeState {
  bool known = false;  // false before the initial state
  engine::CustomerStatus status = engine::CustomerStatus::kLead;
  std::map<std::string, CurrencyState> currencies;
};

// One scope: a source (uuid) or all of them (empty uuid), with the indexes
// of the customer's SourceMrr and SubscriptionMrr entries in it.
struct Scope {
  std::string data_source_uuid;
  bool in_total = false;
  std::vector<size_t> sources;
  std::vector<size_t> subscriptions;
  ScopeState state;
};

int64_t Flag(bool b) { return b ? 1 : 0; }

// Appends to `out` the deltas of `scope` from its state to `next` at `at`.
void AppendDeltas(Scope& scope, ScopeState next, absl::Time at,
                  std::vector<MrrDelta>& out) {
  const ScopeState& prev = scope.state;
  const auto counts = [](const ScopeState& s, const CurrencyState& c) {
    const bool has_mrr = s.known && c.mrr > 0;
    return std::make_pair(
        Flag(has_mrr && s.status == engine::CustomerStatus::kActive),
        Flag(has_mrr && s.status == engine::CustomerStatus::kPastDue));
  };
  const size_t first = out.size();
  std::map<std::string, std::pair<CurrencyState, CurrencyState>> both;
  for (const auto& [currency, c] : prev.currencies) both[currency].first = c;
  for (const auto& [currency, c] : next.currencies) both[currency].second = c;
  for (const auto& [currency, pair] : both) {
    const auto [active_before, past_due_before] = counts(prev, pair.first);
    const auto [active_after, past_due_after] = counts(next, pair.second);
    MrrDelta d;
    d.past_due_mrr_in_cents = pair.second.past_due_mrr - pair.first.past_due_mrr;
    d.mrr_active_customers = active_after - active_before;
    d.mrr_past_due_customers = past_due_after - past_due_before;
    if (d.past_due_mrr_in_cents == 0 && d.mrr_active_customers == 0 &&
        d.mrr_past_due_customers == 0) {
      continue;
    }
    d.currency = currency;
    out.push_back(std::move(d));
  }
  const auto is = [](const ScopeState& s, engine::CustomerStatus status) {
    return Flag(s.known && s.status == status);
  };
  int64_t by_status[4];
  bool status_changed = false;
  for (int i = 0; i < 4; ++i) {
    const auto status = static_cast<engine::CustomerStatus>(i);
    by_status[i] = is(next, status) - is(prev, status);
    status_changed = status_changed || by_status[i] != 0;
  }
  if (status_changed && first == out.size()) {
    out.emplace_back();  // currency '': status counts only
  }
  if (first < out.size()) {
    MrrDelta& d = out[first];
    d.lead_customers = by_status[static_cast<int>(engine::CustomerStatus::kLead)];
    d.active_customers =
        by_status[static_cast<int>(engine::CustomerStatus::kActive)];
    d.past_due_customers =
        by_status[static_cast<int>(engine::CustomerStatus::kPastDue)];
    d.cancelled_customers =
        by_status[static_cast<int>(engine::CustomerStatus::kCancelled)];
  }
  for (size_t i = first; i < out.size(); ++i) {
    out[i].data_source_uuid = scope.data_source_uuid;
    out[i].in_total = scope.in_total;
    out[i].at = at;
  }
  scope.state = std::move(next);
}

int64_t Digest(const MrrWrite& write) {
  std::string text;
  for (const engine::MrrMovement& m : write.movements) {
    absl::StrAppend(&text, "m", static_cast<int>(m.type), ",",
                    m.data_source_uuid, ",", m.currency, ",",
                    absl::ToUnixMicros(m.occurred_at), ",",
                    m.mrr_change_in_cents, ",", m.mrr_after_in_cents, "\n");
  }
  for (const MrrDelta& d : write.deltas) {
    absl::StrAppend(&text, "d", d.data_source_uuid, ",", Flag(d.in_total), ",",
                    absl::ToUnixMicros(d.at), ",", d.currency, ",",
                    d.past_due_mrr_in_cents, ",", d.mrr_active_customers, ",",
                    d.mrr_past_due_customers, ",", d.lead_customers, ",",
                    d.active_customers, ",", d.past_due_customers, ",",
                    d.cancelled_customers, "\n");
  }
  return static_cast<int64_t>(
      persistence::QueryFingerprint(kDerivationVersion, {text}));
}

}  // namespace

MrrWrite PlanMrrRows(const persistence::CustomerState& state,
                     const engine::CustomerTimeline& timeline) {
  const engine::MrrTimeline mrr = engine::MrrTimeline::Build(state.facts,
                                                             timeline);
  MrrWrite write;
  write.movements = mrr.movements();

  // The scopes: every source of an external id or of MRR, and all together
  // when there are several.
  std::vector<std::string> uuids;
  for (const persistence::ExternalId& id : state.customer.external_ids) {
    uuids.push_back(id.data_source_uuid);
  }
  for (const engine::SourceMrr& s : mrr.sources()) {
    uuids.push_back(s.data_source_uuid);
  }
  std::sort(uuids.begin(), uuids.end());
  uuids.erase(std::unique(uuids.begin(), uuids.end()), uuids.end());
  std::vector<Scope> scopes;
  for (const std::string& uuid : uuids) {
    Scope& scope = scopes.emplace_back();
    scope.data_source_uuid = uuid;
    scope.in_total = uuids.size() == 1;
  }
  if (uuids.size() > 1) scopes.emplace_back().in_total = true;
  for (Scope& scope : scopes) {
    const auto in_scope = [&](const std::string& uuid) {
      return scope.data_source_uuid.empty() || uuid == scope.data_source_uuid;
    };
    for (size_t i = 0; i < mrr.sources().size(); ++i) {
      if (in_scope(mrr.sources()[i].data_source_uuid)) {
        scope.sources.push_back(i);
      }
    }
    for (size_t i = 0; i < mrr.subscriptions().size(); ++i) {
      if (in_scope(mrr.subscriptions()[i].data_source_uuid)) {
        scope.subscriptions.push_back(i);
      }
    }
  }

  // Each SubscriptionMrr's timeline (both sorted by source and id).
  std::vector<const engine::SubscriptionTimeline*> sub_timelines;
  sub_timelines.reserve(mrr.subscriptions().size());
  for (const engine::SubscriptionMrr& s : mrr.subscriptions()) {
    const auto& subs = timeline.subscriptions();
    auto it = std::lower_bound(
        subs.begin(), subs.end(), s,
        [](const engine::CustomerTimeline::Subscription& a,
           const engine::SubscriptionMrr& b) {
          return std::tie(a.data_source_uuid, a.subscription_external_id) <
                 std::tie(b.data_source_uuid, b.subscription_external_id);
        });
    sub_timelines.push_back(
        it != subs.end() && it->data_source_uuid == s.data_source_uuid &&
                it->subscription_external_id == s.subscription_external_id
            ? &it->timeline
            : nullptr);
  }

  // Every instant at which anything counted may change.
  std::vector<absl::Time> instants = {absl::InfinitePast()};
  for (const auto& s : timeline.subscriptions()) {
    for (const engine::SubscriptionEvent& e : s.timeline.events()) {
      instants.push_back(e.occurred_at);
    }
  }
  for (const engine::SubscriptionMrr& s : mrr.subscriptions()) {
    for (const engine::MrrStep& step : s.steps) instants.push_back(step.from);
  }
  std::sort(instants.begin(), instants.end());
  instants.erase(std::unique(instants.begin(), instants.end()),
                 instants.end());

  for (const absl::Time t : instants) {
    const engine::CustomerStatus status = timeline.StatusAt(t);
    for (Scope& scope : scopes) {
      ScopeState next;
      next.known = true;
      next.status = status;
      for (const size_t i : scope.sources) {
        const engine::SourceMrr& s = mrr.sources()[i];
        const int64_t value = engine::MrrAt(s.steps, t);
        if (value != 0) next.currencies[s.currency].mrr += value;
      }
      for (const size_t i : scope.subscriptions) {
        const engine::SubscriptionMrr& s = mrr.subscriptions()[i];
        if (sub_timelines[i] == nullptr ||
            sub_timelines[i]->StatusAt(t) !=
                engine::SubscriptionStatus::kPastDue) {
          continue;
        }
        const int64_t value = engine::MrrAt(s.steps, t);
        if (value != 0) next.currencies[s.currency].past_due_mrr += value;
      }
      AppendDeltas(scope, std::move(next), t, write.deltas);
    }
  }
  write.digest = Digest(write);
  return write;
}

}  // namespace recurrent::core
