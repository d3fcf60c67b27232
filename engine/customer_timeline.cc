#include "engine/customer_timeline.h"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "engine/invoice.h"

namespace recurrent::engine {
namespace {

// The facts of one subscription while they are gathered.
struct Group {
  absl::string_view data_source_uuid;
  absl::string_view subscription_external_id;
  SubscriptionInput input;
  // The last invoice that added a SignalInvoice, to add each invoice once.
  size_t last_invoice = static_cast<size_t>(-1);
};

// Finds the group of a subscription. Customers have few subscriptions, so a
// linear scan (starting at the last hit) beats hashing until there are many.
class GroupIndex {
 public:
  // `reserve`: capacity to reserve for each subscription's periods.
  explicit GroupIndex(size_t reserve) : reserve_(reserve) {}

  // Returns the group of (source, id), or nullptr if there is none and
  // `create` is false.
  Group* Find(absl::string_view source, absl::string_view id, bool create) {
    if (last_ < groups_.size() && Matches(groups_[last_], source, id)) {
      return &groups_[last_];
    }
    if (groups_.size() <= kLinearLimit) {
      for (size_t i = 0; i < groups_.size(); ++i) {
        if (Matches(groups_[i], source, id)) return &groups_[last_ = i];
      }
    } else {
      auto it = map_.find(std::make_pair(source, id));
      if (it != map_.end()) return &groups_[last_ = it->second];
    }
    if (!create) return nullptr;
    last_ = groups_.size();
    groups_.push_back(Group{source, id, {}, static_cast<size_t>(-1)});
    groups_.back().input.periods.reserve(reserve_);
    groups_.back().input.invoices.reserve(reserve_);
    if (groups_.size() > kLinearLimit) {
      if (map_.empty()) {
        for (size_t i = 0; i < groups_.size(); ++i) {
          map_[std::make_pair(groups_[i].data_source_uuid,
                              groups_[i].subscription_external_id)] = i;
        }
      } else {
        map_[std::make_pair(source, id)] = last_;
      }
    }
    return &groups_[last_];
  }

  std::vector<Group>& groups() { return groups_; }

 private:
  static constexpr size_t kLinearLimit = 16;

  static bool Matches(const Group& group, absl::string_view source,
                      absl::string_view id) {
    return group.subscription_external_id == id &&
           group.data_source_uuid == source;
  }

  size_t reserve_;
  std::vector<Group> groups_;
  size_t last_ = 0;
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, size_t>
      map_;
};

}  // namespace

absl::StatusOr<CustomerTimeline> CustomerTimeline::Build(
    const CustomerFacts& facts, const SettingsMap& settings) {
  RECURRENT_RETURN_IF_ERROR(ValidateFacts(facts));
  // Most customers have a few subscriptions, each on most invoices.
  GroupIndex index(std::min<size_t>(facts.invoices.size(), 64));
  for (size_t i = 0; i < facts.invoices.size(); ++i) {
    const Invoice& invoice = facts.invoices[i];
    bool computed = false;
    SignalInvoice signal;
    for (const LineItem& item : invoice.line_items) {
      if (item.type == LineItemType::kOneTime) continue;
      Group* group = index.Find(invoice.data_source_uuid,
                                item.subscription_external_id, true);
      if (item.type == LineItemType::kTrial) continue;  // R1
      group->input.periods.push_back(ServicePeriod{item.service_period_start,
                                                   item.service_period_end,
                                                   item.amount_in_cents > 0});
      if (!invoice.due_date.has_value() || group->last_invoice == i) continue;
      group->last_invoice = i;
      if (!computed) {
        computed = true;
        signal.external_id = invoice.external_id;
        signal.currency = invoice.currency;
        signal.amount_due_in_cents = AmountDue(invoice);
        signal.due_date = *invoice.due_date;
        signal.fully_paid_at = FullyPaidAt(invoice);
      }
      group->input.invoices.push_back(signal);
    }
  }
  for (const Cancellation& cancellation : facts.cancellations) {
    Group* group = index.Find(cancellation.data_source_uuid,
                              cancellation.subscription_external_id, false);
    if (group != nullptr) {
      group->input.cancellations.push_back(cancellation.cancelled_at);
    }
  }

  std::vector<Group>& groups = index.groups();
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return std::tie(a.data_source_uuid, a.subscription_external_id) <
           std::tie(b.data_source_uuid, b.subscription_external_id);
  });
  CustomerTimeline timeline;
  timeline.subscriptions_.reserve(groups.size());
  for (Group& group : groups) {
    group.input.settings = SettingsFor(settings, group.data_source_uuid);
    if (absl::Status status = ValidateSourceSettings(group.input.settings);
        !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("settings of data source ",
                                                     group.data_source_uuid,
                                                     ": ", status.message()));
    }
    timeline.subscriptions_.push_back(
        Subscription{std::string(group.data_source_uuid),
                     std::string(group.subscription_external_id),
                     SubscriptionTimeline::Build(group.input)});
  }
  return timeline;
}

CustomerEvaluation CustomerTimeline::EvaluateAt(absl::Time t) const {
  CustomerEvaluation out;
  out.evaluated_at = t;
  out.subscriptions.resize(subscriptions_.size());
  bool started = false;
  bool past_due = false;
  bool active = false;
  bool churned = false;
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    const Subscription& subscription = subscriptions_[i];
    SubscriptionEvaluation& evaluation = out.subscriptions[i];
    evaluation.data_source_uuid = subscription.data_source_uuid;
    evaluation.subscription_external_id = subscription.subscription_external_id;
    subscription.timeline.EvaluateAt(t, &evaluation);
    started |= evaluation.status != SubscriptionStatus::kNotStarted;
    past_due |= evaluation.status == SubscriptionStatus::kPastDue;
    active |= evaluation.status == SubscriptionStatus::kActive;
    const std::vector<absl::Time>& churns = subscription.timeline.auto_churns();
    churned |= !churns.empty() && churns.front() <= t;
  }
  out.status = !started   ? CustomerStatus::kLead
               : past_due ? CustomerStatus::kPastDue
               : active   ? CustomerStatus::kActive
                          : CustomerStatus::kCancelled;
  if (churned) out.derived_tags.emplace_back(kAutoChurnedTag);
  out.next_transition_at = NextTransitionAfter(t);
  return out;
}

CustomerStatus CustomerTimeline::StatusAt(absl::Time t) const {
  bool started = false;
  bool active = false;
  for (const Subscription& subscription : subscriptions_) {
    switch (subscription.timeline.StatusAt(t)) {
      case SubscriptionStatus::kNotStarted:
        break;
      case SubscriptionStatus::kPastDue:
        return CustomerStatus::kPastDue;
      case SubscriptionStatus::kActive:
        active = true;
        [[fallthrough]];
      case SubscriptionStatus::kCancelled:
        started = true;
        break;
    }
  }
  if (!started) return CustomerStatus::kLead;
  return active ? CustomerStatus::kActive : CustomerStatus::kCancelled;
}

std::optional<absl::Time> CustomerTimeline::NextTransitionAfter(
    absl::Time t) const {
  std::optional<absl::Time> next;
  for (const Subscription& subscription : subscriptions_) {
    const std::optional<absl::Time> change =
        subscription.timeline.NextChangeAfter(t);
    if (change.has_value() && (!next.has_value() || *change < *next)) {
      next = change;
    }
  }
  return next;
}

}  // namespace recurrent::engine
