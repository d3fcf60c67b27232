#include "engine/mrr.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

#include "absl/time/civil_time.h"
#include "common/status_macros.h"
#include "engine/evaluation.h"

namespace recurrent::engine {
namespace {

// Exact arithmetic on fractions of cents. gcc's 128-bit integer: amounts are
// below 2^51 and durations in nanoseconds below 2^63, so one product fits
// and sums of many reduced fractions usually do; when one would not, the
// sum falls back to long double (see Sum).
using int128 = __int128;

int128 Abs(int128 x) { return x < 0 ? -x : x; }

int128 Gcd(int128 a, int128 b) {
  a = Abs(a);
  b = Abs(b);
  while (b != 0) {
    const int128 r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// num / den with den > 0, reduced.
struct Fraction {
  int128 num = 0;
  int128 den = 1;
};

// Returns false on overflow.
bool Mul(int128 a, int128 b, int128* out) {
  return !__builtin_mul_overflow(a, b, out);
}

void Reduce(Fraction* f) {
  const int128 g = Gcd(f->num, f->den);
  if (g > 1) {
    f->num /= g;
    f->den /= g;
  }
}

// *sum += f; returns false (leaving *sum unspecified) on overflow.
bool AddTo(Fraction* sum, const Fraction& f) {
  const int128 g = Gcd(sum->den, f.den);
  int128 a, b, den;
  if (!Mul(sum->num, f.den / g, &a) || !Mul(f.num, sum->den / g, &b) ||
      !Mul(sum->den, f.den / g, &den) ||
      __builtin_add_overflow(a, b, &sum->num)) {
    return false;
  }
  sum->den = den;
  Reduce(sum);
  return true;
}

// Rounds half away from zero (M1).
int128 RoundHalfAway(const Fraction& f) {
  const int128 q = f.num / f.den;  // truncates toward zero
  const int128 r = Abs(f.num % f.den);
  if (r >= f.den - r) return f.num < 0 ? q - 1 : q + 1;
  return q;
}

int64_t SaturateToInt64(int128 x) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (x > kMax) return kMax;
  if (x < -kMax) return -kMax;
  return static_cast<int64_t>(x);
}

// A sum of line-item contributions: exact while it fits, else approximate.
class Sum {
 public:
  void Add(const Fraction& f) {
    approx_ += static_cast<long double>(f.num) /
               static_cast<long double>(f.den);
    if (exact_ok_) exact_ok_ = AddTo(&exact_, f);
  }
  // Rounded half away from zero to a cent.
  int64_t Rounded() const {
    if (exact_ok_) return SaturateToInt64(RoundHalfAway(exact_));
    const long double r = std::round(approx_);  // half away from zero
    if (r >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
      return std::numeric_limits<int64_t>::max();
    }
    if (r <= -static_cast<long double>(std::numeric_limits<int64_t>::max())) {
      return -std::numeric_limits<int64_t>::max();
    }
    return static_cast<int64_t>(r);
  }

 private:
  Fraction exact_;
  bool exact_ok_ = true;
  long double approx_ = 0;
};

// A duration in nanoseconds, without saturation.
int128 Nanos(absl::Duration d) {
  absl::Duration rem;
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &rem);
  return static_cast<int128>(seconds) * 1'000'000'000 +
         absl::ToInt64Nanoseconds(rem);
}

const int128 kAverageMonthNanos = Nanos(kAverageMonth);

// `t` plus `k` calendar months in UTC, the day of month clamped to the last
// day of the target month, same time of day (M1).
absl::Time AddMonths(absl::Time t, int64_t k) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond cs = absl::ToCivilSecond(t, utc);
  const absl::Duration subsecond = t - absl::FromCivil(cs, utc);
  const absl::CivilMonth month = absl::CivilMonth(cs) + k;
  const absl::CivilDay last_day = absl::CivilDay(month + 1) - 1;
  const int day = std::min<int>(cs.day(), last_day.day());
  const absl::CivilSecond target(month.year(), month.month(), day, cs.hour(),
                                 cs.minute(), cs.second());
  return absl::FromCivil(target, utc) + subsecond;
}

// Returns k >= 1 if `end` is exactly k calendar months after `start` (M1),
// else 0.
int64_t WholeMonths(absl::Time start, absl::Time end) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilMonth s(absl::ToCivilSecond(start, utc));
  const absl::CivilMonth e(absl::ToCivilSecond(end, utc));
  const int64_t k = e - s;
  if (k < 1) return 0;
  return AddMonths(start, k) == end ? k : 0;
}

// The MRR of `net` cents over [start, end) before rounding (M1):
// net / months(start, end).
Fraction PlainContribution(int64_t net, absl::Time start, absl::Time end) {
  Fraction f;
  if (const int64_t k = WholeMonths(start, end); k > 0) {
    f = Fraction{net, k};
  } else {
    // net / ((end - start) / month) = net * month / (end - start); both
    // factors are below 2^63, so the product fits.
    f = Fraction{static_cast<int128>(net) * kAverageMonthNanos,
                 Nanos(end - start)};
  }
  Reduce(&f);
  return f;
}

// A prorated item [start, end) in the full period [ps, pe) (M1):
// net * (pe - ps) / (end - start) / months(ps, pe).
Fraction ProratedContribution(int64_t net, absl::Time start, absl::Time end,
                              absl::Time ps, absl::Time pe) {
  const int64_t k = WholeMonths(ps, pe);
  // With months(ps, pe) = (pe - ps) / month the full period cancels out.
  if (k == 0) return PlainContribution(net, start, end);
  const int128 full = Nanos(pe - ps);
  const int128 part = Nanos(end - start);
  const int128 g = Gcd(full, part);
  Fraction f;
  if (!Mul(net, full / g, &f.num) || !Mul(part / g, k, &f.den)) {
    // Unreachable for finite times; fall back to the plain formula.
    return PlainContribution(net, start, end);
  }
  Reduce(&f);
  return f;
}

// One SUBSCRIPTION line item of a subscription, ready to sum.
struct Term {
  absl::Time start;
  absl::Time end;
  size_t currency;  // index into the subscription's currencies
  Fraction mrr;
};

// A line item while a subscription's facts are gathered.
struct Item {
  const LineItem* item;
  size_t currency;
};

// Everything gathered for one subscription.
struct Gathered {
  std::vector<std::string> currencies;  // sorted, unique
  std::vector<Item> items;              // SUBSCRIPTION and TRIAL
  std::vector<std::vector<absl::Time>> starts;  // per currency
};

// Computes the step lists of one subscription, one per currency (M1, M2).
std::vector<std::vector<MrrStep>> SubscriptionSteps(
    const Gathered& g, const SubscriptionTimeline& timeline) {
  // M1: each SUBSCRIPTION line item's exact contribution. A prorated item is
  // scaled to the non-prorated period containing its start (the latest
  // starting one, then the latest ending).
  std::vector<const LineItem*> full_periods;
  for (const Item& it : g.items) {
    if (it.item->type == LineItemType::kSubscription && !it.item->prorated) {
      full_periods.push_back(it.item);
    }
  }
  const auto period = [](const LineItem* p) {
    return std::tie(p->service_period_start, p->service_period_end);
  };
  std::sort(full_periods.begin(), full_periods.end(),
            [&](const LineItem* a, const LineItem* b) {
              return period(a) < period(b);
            });
  // The latest starting (then latest ending) full period containing `s`:
  // walking back from the last one starting at or before `s`, the first
  // that ends after it (a search, not a scan of every period per item).
  const auto containing = [&](absl::Time s) -> const LineItem* {
    auto it = std::upper_bound(full_periods.begin(), full_periods.end(), s,
                               [](absl::Time t, const LineItem* p) {
                                 return t < p->service_period_start;
                               });
    while (it != full_periods.begin()) {
      --it;
      if (s < (*it)->service_period_end) return *it;
    }
    return nullptr;
  };
  std::vector<Term> terms;
  for (const Item& it : g.items) {
    const LineItem& item = *it.item;
    if (item.type != LineItemType::kSubscription) continue;
    const int64_t net = item.amount_in_cents - item.tax_amount_in_cents;
    const absl::Time s = item.service_period_start;
    const absl::Time e = item.service_period_end;
    const LineItem* full = item.prorated ? containing(s) : nullptr;
    terms.push_back(Term{
        s, e, it.currency,
        full == nullptr
            ? PlainContribution(net, s, e)
            : ProratedContribution(net, s, e, full->service_period_start,
                                   full->service_period_end)});
  }

  // Every instant at which coverage or status may change.
  std::vector<absl::Time> instants;
  instants.reserve(2 * terms.size() + timeline.events().size());
  for (const Term& term : terms) {
    instants.push_back(term.start);
    instants.push_back(term.end);
  }
  for (const SubscriptionEvent& event : timeline.events()) {
    instants.push_back(event.occurred_at);
  }
  std::sort(instants.begin(), instants.end());
  instants.erase(std::unique(instants.begin(), instants.end()),
                 instants.end());
  std::sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) {
    return a.start < b.start;
  });

  const size_t n = g.currencies.size();
  std::vector<std::vector<MrrStep>> steps(n);
  std::vector<int64_t> current(n, 0);   // the value of each step list
  std::vector<int64_t> held(n, 0);      // at the last covered instant (M2)
  std::vector<int64_t> covering(n, 0);  // of the covering line items
  std::vector<const Term*> active;
  size_t next_term = 0;
  for (absl::Time t : instants) {
    // Coverage changes only at line-item boundaries; recompute the sums of
    // the items covering t then.
    bool changed = false;
    while (next_term < terms.size() && terms[next_term].start <= t) {
      active.push_back(&terms[next_term++]);
      changed = true;
    }
    const size_t before = active.size();
    active.erase(std::remove_if(active.begin(), active.end(),
                                [t](const Term* term) { return term->end <= t; }),
                 active.end());
    changed |= active.size() != before;
    if (changed) {
      std::vector<Sum> sums(n);
      for (const Term* term : active) sums[term->currency].Add(term->mrr);
      for (size_t c = 0; c < n; ++c) {
        // A subscription never brings negative revenue.
        covering[c] = std::max<int64_t>(0, sums[c].Rounded());
      }
    }
    const bool covered = !active.empty();
    if (covered) held = covering;
    const SubscriptionStatus status = timeline.StatusAt(t);
    const bool counts = status == SubscriptionStatus::kActive ||
                        status == SubscriptionStatus::kPastDue;
    for (size_t c = 0; c < n; ++c) {
      // M2: while it counts, the covering items, or in a gap (a missing
      // renewal, R3 b) the MRR of the last covered instant; else 0.
      const int64_t value = !counts ? 0 : covered ? covering[c] : held[c];
      if (value != current[c]) {
        steps[c].push_back(MrrStep{t, value});
        current[c] = value;
      }
    }
  }
  return steps;
}

// Sums step lists (M3): all changes at one instant netted. The deltas and
// the running sum are exact (int128: a list's values may each be near the
// int64 limits); each sum is saturated to int64 when it is stored.
std::vector<MrrStep> SumSteps(const std::vector<const std::vector<MrrStep>*>&
                                  lists) {
  std::vector<std::pair<absl::Time, int128>> deltas;
  for (const std::vector<MrrStep>* list : lists) {
    int128 previous = 0;
    for (const MrrStep& step : *list) {
      deltas.emplace_back(step.from, step.mrr_in_cents - previous);
      previous = step.mrr_in_cents;
    }
  }
  std::sort(deltas.begin(), deltas.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<MrrStep> out;
  int128 sum = 0;
  int64_t value = 0;
  for (size_t i = 0; i < deltas.size();) {
    const absl::Time t = deltas[i].first;
    for (; i < deltas.size() && deltas[i].first == t; ++i) {
      sum += deltas[i].second;
    }
    const int64_t next = SaturateToInt64(sum);
    if (next != value) out.push_back(MrrStep{t, next});
    value = next;
  }
  return out;
}

// True iff some subscription of `source` is ACTIVE or PAST_DUE at `t`.
bool AnyLives(const CustomerTimeline& timeline, absl::string_view source,
              absl::Time t) {
  for (const CustomerTimeline::Subscription& s : timeline.subscriptions()) {
    if (s.data_source_uuid != source) continue;
    const SubscriptionStatus status = s.timeline.StatusAt(t);
    if (status == SubscriptionStatus::kActive ||
        status == SubscriptionStatus::kPastDue) {
      return true;
    }
  }
  return false;
}

// Appends the movements of one source and currency (M4).
void AppendMovements(const SourceMrr& source, const CustomerTimeline& timeline,
                     std::vector<MrrMovement>* out) {
  int64_t before = 0;
  bool ever_positive = false;
  for (const MrrStep& step : source.steps) {
    const int64_t after = step.mrr_in_cents;
    MrrMovementType type;
    if (before == 0) {
      type = ever_positive ? MrrMovementType::kReactivation
                           : MrrMovementType::kNewBusiness;
    } else if (after == 0) {
      type = AnyLives(timeline, source.data_source_uuid, step.from)
                 ? MrrMovementType::kContraction
                 : MrrMovementType::kChurn;
    } else {
      type = after > before ? MrrMovementType::kExpansion
                            : MrrMovementType::kContraction;
    }
    ever_positive |= after > 0;
    out->push_back(MrrMovement{type, source.data_source_uuid, source.currency,
                               step.from, after - before, after});
    before = after;
  }
}

}  // namespace

int64_t MrrAt(const std::vector<MrrStep>& steps, absl::Time t) {
  auto it = std::upper_bound(
      steps.begin(), steps.end(), t,
      [](absl::Time x, const MrrStep& step) { return x < step.from; });
  return it == steps.begin() ? 0 : std::prev(it)->mrr_in_cents;
}

absl::string_view MrrMovementTypeName(MrrMovementType type) {
  switch (type) {
    case MrrMovementType::kNewBusiness:
      return "NEW_BUSINESS";
    case MrrMovementType::kExpansion:
      return "EXPANSION";
    case MrrMovementType::kContraction:
      return "CONTRACTION";
    case MrrMovementType::kChurn:
      return "CHURN";
    case MrrMovementType::kReactivation:
      return "REACTIVATION";
  }
  return "UNKNOWN";
}

int64_t LineItemMrrInCents(int64_t net_in_cents, absl::Time start,
                           absl::Time end) {
  return SaturateToInt64(
      RoundHalfAway(PlainContribution(net_in_cents, start, end)));
}

MrrTimeline MrrTimeline::Build(const CustomerFacts& facts,
                               const CustomerTimeline& timeline) {
  const std::vector<CustomerTimeline::Subscription>& subs =
      timeline.subscriptions();
  // Gather each subscription's line items with their invoices' currencies,
  // in the order of timeline.subscriptions().
  std::vector<Gathered> gathered(subs.size());
  auto find = [&subs](absl::string_view source, absl::string_view id) {
    auto it = std::lower_bound(
        subs.begin(), subs.end(), std::make_pair(source, id),
        [](const CustomerTimeline::Subscription& s,
           const std::pair<absl::string_view, absl::string_view>& key) {
          return std::make_pair(absl::string_view(s.data_source_uuid),
                                absl::string_view(s.subscription_external_id)) <
                 key;
        });
    return it != subs.end() && it->data_source_uuid == source &&
                   it->subscription_external_id == id
               ? static_cast<size_t>(it - subs.begin())
               : subs.size();
  };
  for (const Invoice& invoice : facts.invoices) {
    for (const LineItem& item : invoice.line_items) {
      if (item.type == LineItemType::kOneTime) continue;
      const size_t i =
          find(invoice.data_source_uuid, item.subscription_external_id);
      if (i == subs.size()) continue;  // not built from these facts
      Gathered& g = gathered[i];
      auto c = std::find(g.currencies.begin(), g.currencies.end(),
                         invoice.currency);
      if (c == g.currencies.end()) {
        g.currencies.push_back(invoice.currency);
        c = std::prev(g.currencies.end());
      }
      g.items.push_back(
          Item{&item, static_cast<size_t>(c - g.currencies.begin())});
    }
  }

  MrrTimeline out;
  for (size_t i = 0; i < subs.size(); ++i) {
    Gathered& g = gathered[i];
    // Sort currencies, remapping the items' indices.
    std::vector<size_t> order(g.currencies.size());
    for (size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::sort(order.begin(), order.end(), [&g](size_t a, size_t b) {
      return g.currencies[a] < g.currencies[b];
    });
    std::vector<size_t> rank(order.size());
    std::vector<std::string> sorted(order.size());
    for (size_t r = 0; r < order.size(); ++r) {
      rank[order[r]] = r;
      sorted[r] = g.currencies[order[r]];
    }
    g.currencies = std::move(sorted);
    g.starts.resize(g.currencies.size());
    for (Item& item : g.items) {
      item.currency = rank[item.currency];
      g.starts[item.currency].push_back(item.item->service_period_start);
    }
    std::vector<std::vector<MrrStep>> steps =
        SubscriptionSteps(g, subs[i].timeline);
    for (size_t c = 0; c < g.currencies.size(); ++c) {
      std::vector<absl::Time>& starts = g.starts[c];
      std::sort(starts.begin(), starts.end());
      starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
      out.subscriptions_.push_back(SubscriptionMrr{
          subs[i].data_source_uuid, subs[i].subscription_external_id,
          g.currencies[c], std::move(steps[c]), std::move(starts)});
    }
  }

  // M3: group by (source, currency).
  std::vector<size_t> order(out.subscriptions_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&out](size_t a, size_t b) {
    const SubscriptionMrr& x = out.subscriptions_[a];
    const SubscriptionMrr& y = out.subscriptions_[b];
    return std::tie(x.data_source_uuid, x.currency) <
           std::tie(y.data_source_uuid, y.currency);
  });
  for (size_t i = 0; i < order.size();) {
    const SubscriptionMrr& first = out.subscriptions_[order[i]];
    std::vector<const std::vector<MrrStep>*> lists;
    size_t j = i;
    for (; j < order.size(); ++j) {
      const SubscriptionMrr& s = out.subscriptions_[order[j]];
      if (s.data_source_uuid != first.data_source_uuid ||
          s.currency != first.currency) {
        break;
      }
      lists.push_back(&s.steps);
    }
    out.sources_.push_back(SourceMrr{first.data_source_uuid, first.currency,
                                     SumSteps(lists)});
    i = j;
  }

  // M4.
  for (const SourceMrr& source : out.sources_) {
    AppendMovements(source, timeline, &out.movements_);
  }
  std::stable_sort(out.movements_.begin(), out.movements_.end(),
                   [](const MrrMovement& a, const MrrMovement& b) {
                     return a.occurred_at < b.occurred_at;
                   });
  return out;
}

std::vector<MrrMovement> MrrTimeline::MovementsIn(absl::Time start,
                                                  absl::Time end) const {
  auto after = [](absl::Time t) {
    return [t](const MrrMovement& m) { return m.occurred_at <= t; };
  };
  auto first = std::partition_point(movements_.begin(), movements_.end(),
                                    after(start));
  auto last = std::partition_point(first, movements_.end(), after(end));
  return std::vector<MrrMovement>(first, last);
}

std::optional<MrrAmount> MrrTimeline::SubscriptionMrrAt(
    absl::string_view data_source_uuid,
    absl::string_view subscription_external_id, absl::Time t) const {
  const SubscriptionMrr* best = nullptr;
  int64_t best_mrr = 0;
  std::optional<absl::Time> best_start;  // latest period start <= t
  for (const SubscriptionMrr& s : subscriptions_) {
    if (s.data_source_uuid != data_source_uuid ||
        s.subscription_external_id != subscription_external_id) {
      continue;
    }
    const int64_t mrr = MrrAt(s.steps, t);
    std::optional<absl::Time> start;
    auto it = std::upper_bound(s.period_starts.begin(), s.period_starts.end(),
                               t);
    if (it != s.period_starts.begin()) start = *std::prev(it);
    if (best == nullptr) {
      best = &s;
      best_mrr = mrr;
      best_start = start;
      continue;
    }
    bool better;
    if (mrr != best_mrr) {
      better = mrr > best_mrr;
    } else if (start.has_value() != best_start.has_value()) {
      better = start.has_value();
    } else if (start.has_value()) {
      better = *start > *best_start;
    } else {  // neither started: the first period
      better = s.period_starts.front() < best->period_starts.front();
    }
    if (better) {
      best = &s;
      best_mrr = mrr;
      best_start = start;
    }
  }
  if (best == nullptr) return std::nullopt;
  return MrrAmount{best->currency, best_mrr};
}

std::vector<MrrAmount> MrrTimeline::CustomerMrrAt(
    absl::Time t, absl::string_view data_source_uuid) const {
  std::vector<MrrAmount> out;
  for (const SourceMrr& source : sources_) {
    if (!data_source_uuid.empty() &&
        source.data_source_uuid != data_source_uuid) {
      continue;
    }
    const int64_t mrr = MrrAt(source.steps, t);
    if (mrr == 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const MrrAmount& a) {
      return a.currency == source.currency;
    });
    if (it == out.end()) {
      out.push_back(MrrAmount{source.currency, mrr});
    } else {
      it->mrr_in_cents =
          SaturateToInt64(static_cast<int128>(it->mrr_in_cents) + mrr);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const MrrAmount& a, const MrrAmount& b) {
              return a.currency < b.currency;
            });
  return out;
}

absl::StatusOr<MrrTimeline> ComputeMrr(const CustomerFacts& facts,
                                       const SettingsMap& settings) {
  RECURRENT_ASSIGN_OR_RETURN(CustomerTimeline timeline,
                             CustomerTimeline::Build(facts, settings));
  return MrrTimeline::Build(facts, timeline);
}

}  // namespace recurrent::engine
