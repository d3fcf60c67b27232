#include "engine/subscription_timeline.h"

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace recurrent::engine {
namespace {

constexpr absl::Duration kDay = absl::Hours(24);

// A delinquency signal [begin, end) of the subscription (R3).
struct Signal {
  absl::Time begin;
  absl::Time end;  // InfiniteFuture() if it never ends
  // An invoice signal whose invoice is eventually fully paid (R6).
  bool curable = false;
  // Index into SubscriptionInput::invoices, or -1 for a renewal signal.
  int32_t invoice = -1;
};

absl::Time StartOfUtcDay(absl::Time t) {
  return absl::FromCivil(absl::ToCivilDay(t, absl::UTCTimeZone()),
                         absl::UTCTimeZone());
}

EventType EventFor(SubscriptionStatus from, SubscriptionStatus to,
                   ReasonKind to_reason) {
  if (to == SubscriptionStatus::kCancelled) {
    return to_reason == ReasonKind::kAutoChurned ? EventType::kAutoChurned
                                                 : EventType::kCancelled;
  }
  if (from == SubscriptionStatus::kNotStarted) return EventType::kStarted;
  if (from == SubscriptionStatus::kCancelled) return EventType::kReactivated;
  return to == SubscriptionStatus::kPastDue ? EventType::kPastDue
                                            : EventType::kRecovered;
}

}  // namespace

// Computes one SubscriptionTimeline. Single use.
//
// The simulation walks forward in time through phases. In a phase the
// subscription is not cancelled and its latest settle point (reactivation or
// same-day renewal, R5) is fixed, so its live signals are fixed and its
// PAST_DUE stretches are the connected parts of their union. A phase ends at
// the first of: an auto-churn (R6), a same-day renewal (R6 e), an explicit
// cancellation (R4); after a cancellation the next phase starts at the
// reactivation.
class SubscriptionTimeline::Builder {
 public:
  explicit Builder(const SubscriptionInput& input) : input_(input) {}

  SubscriptionTimeline Build() {
    PreparePeriods();
    PrepareSignals();
    cancellations_ = input_.cancellations;
    std::sort(cancellations_.begin(), cancellations_.end());
    Simulate();
    SubscriptionTimeline timeline;
    timeline.started_at_ = started_at_;
    timeline.auto_churn_after_days_ = input_.settings.auto_churn_after_days;
    BuildSegments(&timeline);
    timeline.auto_churns_ = std::move(churns_);
    timeline.same_day_renewals_ = std::move(renewals_);
    timeline.periods_ = std::move(periods_);
    return timeline;
  }

 private:
  // A status change found by the simulation, effective from `from`.
  struct Piece {
    absl::Time from;
    SubscriptionStatus status;
    ReasonKind reason;
    absl::Time detail;
    int32_t invoice = -1;
  };
  enum class DecisionKind { kNone, kSettle, kChurn };
  // How a phase ends before its horizon, if it does.
  struct Decision {
    DecisionKind kind = DecisionKind::kNone;
    absl::Time at;
    absl::Time clock_start;  // kChurn: start of the stretch counted from
  };

  // Sorts and deduplicates the periods and finds started_at (R1).
  void PreparePeriods() {
    periods_ = input_.periods;
    auto by_start = [](const ServicePeriod& a, const ServicePeriod& b) {
      return std::tie(a.start, a.end) < std::tie(b.start, b.end);
    };
    // Facts usually arrive in order; checking is cheaper than sorting.
    if (!std::is_sorted(periods_.begin(), periods_.end(), by_start)) {
      std::sort(periods_.begin(), periods_.end(), by_start);
    }
    size_t kept = 0;
    for (size_t i = 0; i < periods_.size(); ++i) {
      if (kept > 0 && periods_[kept - 1].start == periods_[i].start &&
          periods_[kept - 1].end == periods_[i].end) {
        periods_[kept - 1].paid |= periods_[i].paid;
      } else {
        periods_[kept++] = periods_[i];
      }
    }
    periods_.resize(kept);
    starts_.reserve(periods_.size());
    for (const ServicePeriod& period : periods_) {
      if (starts_.empty() || starts_.back() != period.start) {
        starts_.push_back(period.start);
      }
      if (period.paid && !started_at_.has_value()) started_at_ = period.start;
    }
  }

  // Collects the invoice and renewal signals (R3), sorted by begin.
  void PrepareSignals() {
    signals_.reserve(input_.invoices.size() + 4);
    for (size_t i = 0; i < input_.invoices.size(); ++i) {
      const SignalInvoice& invoice = input_.invoices[i];
      if (invoice.fully_paid_at <= invoice.due_date) continue;  // never open
      signals_.push_back(Signal{invoice.due_date, invoice.fully_paid_at,
                                invoice.fully_paid_at != absl::InfiniteFuture(),
                                static_cast<int32_t>(i)});
    }
    // An end e is covered iff some period with start <= e ends after e.
    ends_.reserve(periods_.size());
    for (const ServicePeriod& period : periods_) ends_.push_back(period.end);
    if (!std::is_sorted(ends_.begin(), ends_.end())) {
      std::sort(ends_.begin(), ends_.end());
    }
    ends_.erase(std::unique(ends_.begin(), ends_.end()), ends_.end());
    size_t next = 0;
    absl::Time max_end = absl::InfinitePast();
    for (absl::Time end : ends_) {
      while (next < periods_.size() && periods_[next].start <= end) {
        max_end = std::max(max_end, periods_[next].end);
        ++next;
      }
      if (max_end > end) continue;
      signals_.push_back(Signal{end, NextStartAfter(end), false, -1});
    }
    // Ties are broken by value, never by input order, so that the result
    // does not depend on the order of the facts.
    std::sort(signals_.begin(), signals_.end(),
              [this](const Signal& a, const Signal& b) {
                if (a.begin != b.begin) return a.begin < b.begin;
                if ((a.invoice < 0) != (b.invoice < 0)) return b.invoice < 0;
                if (a.invoice < 0) return a.end < b.end;
                const SignalInvoice& x = input_.invoices[a.invoice];
                const SignalInvoice& y = input_.invoices[b.invoice];
                return std::tie(x.external_id, a.end, x.amount_due_in_cents,
                                x.currency) < std::tie(y.external_id, b.end,
                                                       y.amount_due_in_cents,
                                                       y.currency);
              });
  }

  // Returns the first period start strictly after `t`, or InfiniteFuture().
  absl::Time NextStartAfter(absl::Time t) const {
    auto it = std::upper_bound(starts_.begin(), starts_.end(), t);
    return it == starts_.end() ? absl::InfiniteFuture() : *it;
  }

  // Returns the earliest period start on the UTC day of `t`, if any.
  std::optional<absl::Time> FirstStartOnDayOf(absl::Time t) const {
    const absl::Time day = StartOfUtcDay(t);
    auto it = std::lower_bound(starts_.begin(), starts_.end(), day);
    if (it == starts_.end() || *it >= day + kDay) return std::nullopt;
    return *it;
  }

  // Returns the index of the first signal live after settle point `settle`:
  // signals are sorted by begin and live iff begin >= settle (R5).
  size_t FirstLiveSignal(absl::Time settle) const {
    return std::lower_bound(
               signals_.begin(), signals_.end(), settle,
               [](const Signal& s, absl::Time t) { return s.begin < t; }) -
           signals_.begin();
  }

  // Calls fn(S, E, i, j) for each PAST_DUE stretch [S, E) within
  // [from, to), in time order: the connected parts of the union of
  // signals_[lo..], where signals_[i..j) are the signals forming it. Stops
  // when fn returns true.
  template <typename Fn>
  void ForEachStretch(size_t lo, absl::Time from, absl::Time to, Fn fn) const {
    size_t i = lo;
    while (i < signals_.size() && signals_[i].begin < to) {
      absl::Time end = signals_[i].end;
      size_t j = i + 1;
      while (j < signals_.size() && signals_[j].begin <= end &&
             signals_[j].begin < to) {
        end = std::max(end, signals_[j].end);
        ++j;
      }
      const absl::Time s = std::max(signals_[i].begin, from);
      const absl::Time e = std::min(end, to);
      if (s < e && fn(s, e, i, j)) return;
      i = j;
    }
  }

  // Returns the first auto-churn (R6) or same-day renewal (R6 e) in the
  // phase [from, to) whose live signals start at signals_[lo]. A same-day
  // renewal at or after `to` is recorded in *pending instead.
  Decision FindChurn(size_t lo, absl::Time from, absl::Time to,
                     std::optional<absl::Time>* pending) const {
    Decision decision;
    const SourceSettings& settings = input_.settings;
    if (settings.mode != PastDueMode::kAutoChurn) return decision;
    const absl::Duration after = kDay * settings.auto_churn_after_days;
    ForEachStretch(
        lo, from, to, [&](absl::Time s, absl::Time e, size_t i, size_t j) {
          if (e <= settings.applied_at) return false;  // R6 b
          const absl::Time threshold = s + after;
          if (threshold >= e) return false;
          // The first instant >= threshold held by a live non-curable signal.
          absl::Time churn = absl::InfiniteFuture();
          for (size_t k = i; k < j; ++k) {
            const Signal& signal = signals_[k];
            if (signal.curable) continue;  // R6 a
            const absl::Time candidate = std::max(signal.begin, threshold);
            if (candidate < std::min(signal.end, e)) {
              churn = std::min(churn, candidate);
            }
          }
          if (churn == absl::InfiniteFuture()) return false;
          if (const std::optional<absl::Time> renewal =
                  FirstStartOnDayOf(churn)) {
            if (*renewal < to) {
              decision = Decision{DecisionKind::kSettle, *renewal, s};
              return true;
            }
            if (!pending->has_value() || *renewal < **pending)
              *pending = *renewal;
            return false;
          }
          decision = Decision{DecisionKind::kChurn, churn, s};
          return true;
        });
    return decision;
  }

  // Appends the ACTIVE / PAST_DUE pieces of [from, to) (R5). The reason of a
  // PAST_DUE piece is its primary signal: the live signal containing it that
  // began first.
  void EmitNotCancelled(size_t lo, absl::Time from, absl::Time to) {
    if (from >= to) return;
    absl::Time cursor = from;
    ForEachStretch(
        lo, from, to, [&](absl::Time s, absl::Time e, size_t i, size_t j) {
          if (cursor < s) {
            Push(Piece{cursor, SubscriptionStatus::kActive, ReasonKind::kActive,
                       absl::InfinitePast()});
          }
          absl::Time t = s;
          // The signals before the one found for a `t` have all ended by
          // then (they began no later than it and do not contain `t`), so
          // the next search starts at it.
          size_t first = i;
          while (t < e) {
            size_t k = first;
            while (k + 1 < j &&
                   !(signals_[k].begin <= t && t < signals_[k].end)) {
              ++k;
            }
            first = k;
            const Signal& signal = signals_[k];
            if (signal.invoice >= 0) {
              Push(Piece{t, SubscriptionStatus::kPastDue,
                         ReasonKind::kInvoiceUnpaid, absl::InfinitePast(),
                         signal.invoice});
            } else {
              Push(Piece{t, SubscriptionStatus::kPastDue,
                         ReasonKind::kNotRenewed, signal.begin});
            }
            t = std::min(signal.end, e);
          }
          cursor = e;
          return false;
        });
    if (cursor < to) {
      Push(Piece{cursor, SubscriptionStatus::kActive, ReasonKind::kActive,
                 absl::InfinitePast()});
    }
  }

  void Push(const Piece& piece) {
    if (!pieces_.empty() && pieces_.back().from == piece.from) {
      pieces_.back() = piece;
    } else {
      pieces_.push_back(piece);
    }
  }

  // Runs the phases from started_at to the end of time (R4-R6).
  void Simulate() {
    if (!started_at_.has_value()) return;
    absl::Time phase_start = *started_at_;
    absl::Time settle = absl::InfinitePast();
    std::optional<absl::Time> pending_renewal;
    size_t next_cancellation = 0;
    for (;;) {
      // Cancellations before the start or while cancelled change nothing.
      while (next_cancellation < cancellations_.size() &&
             cancellations_[next_cancellation] < phase_start) {
        ++next_cancellation;
      }
      const absl::Time cancel_at = next_cancellation < cancellations_.size()
                                       ? cancellations_[next_cancellation]
                                       : absl::InfiniteFuture();
      absl::Time horizon = cancel_at;
      if (pending_renewal.has_value() && *pending_renewal < horizon) {
        horizon = *pending_renewal;
      }
      const size_t lo = FirstLiveSignal(settle);
      const Decision decision =
          FindChurn(lo, phase_start, horizon, &pending_renewal);
      EmitNotCancelled(
          lo, phase_start,
          decision.kind == DecisionKind::kNone ? horizon : decision.at);
      absl::Time reactivation;
      switch (decision.kind) {
        case DecisionKind::kSettle:
          renewals_.push_back(decision.at);
          phase_start = settle = decision.at;
          if (pending_renewal.has_value() && *pending_renewal <= settle) {
            pending_renewal.reset();
          }
          continue;
        case DecisionKind::kChurn:
          churns_.push_back(decision.at);
          Push(Piece{decision.at, SubscriptionStatus::kCancelled,
                     ReasonKind::kAutoChurned, decision.clock_start});
          reactivation = NextStartAfter(decision.at);
          break;
        case DecisionKind::kNone:
          if (horizon == absl::InfiniteFuture()) return;
          if (horizon < cancel_at) {  // a same-day renewal found earlier
            renewals_.push_back(horizon);
            phase_start = settle = horizon;
            pending_renewal.reset();
            continue;
          }
          Push(Piece{cancel_at, SubscriptionStatus::kCancelled,
                     ReasonKind::kCancelled, absl::InfinitePast()});
          ++next_cancellation;
          reactivation = NextStartAfter(cancel_at);
          break;
      }
      if (pending_renewal.has_value() && *pending_renewal <= reactivation) {
        pending_renewal.reset();
      }
      if (reactivation == absl::InfiniteFuture()) return;
      phase_start = settle = reactivation;
    }
  }

  // True if the reason sentences of a and b (same status) are equal.
  bool SameReason(const Segment& a, const Segment& b) const {
    if (a.reason != b.reason || a.since != b.since || a.detail != b.detail) {
      return false;
    }
    if (a.invoice == b.invoice) return true;
    if (a.invoice < 0 || b.invoice < 0) return false;
    const SignalInvoice& x = input_.invoices[a.invoice];
    const SignalInvoice& y = input_.invoices[b.invoice];
    return x.external_id == y.external_id && x.currency == y.currency &&
           x.amount_due_in_cents == y.amount_due_in_cents;
  }

  // Turns pieces_ into the final segments and events (R5, R9).
  void BuildSegments(SubscriptionTimeline* out) {
    // Status segments: consecutive pieces of one status form one unbroken
    // stretch whose `since` is the stretch start.
    std::vector<Segment> status;
    status.reserve(pieces_.size() + 1);
    Segment first;
    first.from = absl::InfinitePast();
    first.since = absl::InfinitePast();
    first.detail = started_at_.value_or(absl::InfiniteFuture());
    status.push_back(first);
    for (const Piece& piece : pieces_) {
      const Segment& prev = status.back();
      Segment seg;
      seg.from = piece.from;
      seg.status = piece.status;
      seg.reason = piece.reason;
      seg.detail = piece.detail;
      seg.invoice = piece.invoice;
      if (piece.status == prev.status) {
        // An unbroken ACTIVE or CANCELLED stretch keeps its first reason.
        if (piece.status != SubscriptionStatus::kPastDue) continue;
        seg.since = prev.since;
        if (SameReason(seg, prev)) continue;
      } else {
        seg.since = piece.from;
      }
      status.push_back(seg);
    }

    // Current-period breakpoints.
    std::vector<std::pair<absl::Time, int32_t>> period_at;
    period_at.reserve(2 * periods_.size() + 1);
    period_at.emplace_back(absl::InfinitePast(), -1);
    {
      // Every start and end, ascending: merge the two sorted lists.
      size_t i = 0;
      size_t j = 0;
      size_t latest = 0;  // periods_[..latest) start at or before the point
      // Of those, the ones not yet seen ended, in order: a period that has
      // ended at one point has ended at every later one, so each is
      // dropped once (not walked over again at every uncovered end). Ended
      // ones on top go before a new one is added, which keeps it small.
      absl::InlinedVector<int32_t, 4> open;
      while (i < starts_.size() || j < ends_.size()) {
        absl::Time point;
        if (j == ends_.size() ||
            (i < starts_.size() && starts_[i] <= ends_[j])) {
          point = starts_[i];
        } else {
          point = ends_[j];
        }
        while (i < starts_.size() && starts_[i] == point) ++i;
        while (j < ends_.size() && ends_[j] == point) ++j;
        const auto drop_ended = [&] {
          while (!open.empty() && periods_[open.back()].end <= point) {
            open.pop_back();
          }
        };
        while (latest < periods_.size() && periods_[latest].start <= point) {
          drop_ended();
          open.push_back(static_cast<int32_t>(latest));
          ++latest;
        }
        // The containing period with the latest start (then latest end).
        drop_ended();
        const int32_t current = open.empty() ? -1 : open.back();
        if (current != period_at.back().second) {
          period_at.emplace_back(point, current);
        }
      }
    }

    // Merge both into segments over which every output is constant.
    std::vector<Segment>& segments = out->segments_;
    segments.reserve(status.size() + period_at.size());
    size_t a = 0;
    size_t p = 0;
    for (;;) {
      Segment seg = status[a];
      seg.from = std::max(status[a].from, period_at[p].first);
      seg.period = period_at[p].second;
      if (segments.empty() || segments.back().status != seg.status ||
          segments.back().period != seg.period ||
          !SameReason(segments.back(), seg)) {
        segments.push_back(seg);
      }
      const absl::Time next_a =
          a + 1 < status.size() ? status[a + 1].from : absl::InfiniteFuture();
      const absl::Time next_p = p + 1 < period_at.size()
                                    ? period_at[p + 1].first
                                    : absl::InfiniteFuture();
      if (next_a == absl::InfiniteFuture() &&
          next_p == absl::InfiniteFuture()) {
        break;
      }
      if (next_a <= next_p) ++a;
      if (next_p <= next_a) ++p;
    }

    // Events are exactly the status changes (R9).
    for (size_t k = 1; k < segments.size(); ++k) {
      const Segment& prev = segments[k - 1];
      const Segment& cur = segments[k];
      if (prev.status == cur.status) continue;
      // The segment that starts here holds until the next status change.
      out->events_.push_back(SubscriptionEvent{
          EventFor(prev.status, cur.status, cur.reason), cur.from,
          cur.status});
    }

    // Keep copies of the invoices the segments name.
    std::vector<int32_t> owned(input_.invoices.size(), -1);
    for (Segment& seg : segments) {
      if (seg.invoice < 0) continue;
      int32_t& index = owned[seg.invoice];
      if (index < 0) {
        const SignalInvoice& invoice = input_.invoices[seg.invoice];
        index = static_cast<int32_t>(out->invoices_.size());
        out->invoices_.push_back(OwnedInvoice{std::string(invoice.external_id),
                                              std::string(invoice.currency),
                                              invoice.amount_due_in_cents});
      }
      seg.invoice = index;
    }
  }

  const SubscriptionInput& input_;
  std::vector<ServicePeriod> periods_;  // sorted by (start, end), unique
  std::vector<absl::Time> starts_;      // sorted, unique
  std::vector<absl::Time> ends_;        // sorted, unique
  std::vector<Signal> signals_;         // sorted by begin
  std::vector<absl::Time> cancellations_;
  std::optional<absl::Time> started_at_;
  std::vector<Piece> pieces_;
  std::vector<absl::Time> churns_;
  std::vector<absl::Time> renewals_;  // same-day renewals (R6 e)
};

SubscriptionTimeline SubscriptionTimeline::Build(
    const SubscriptionInput& input) {
  return Builder(input).Build();
}

const SubscriptionTimeline::Segment& SubscriptionTimeline::SegmentAt(
    absl::Time t) const {
  auto it = std::upper_bound(
      segments_.begin(), segments_.end(), t,
      [](absl::Time x, const Segment& seg) { return x < seg.from; });
  return *(it - 1);  // segments_[0].from is InfinitePast()
}

SubscriptionStatus SubscriptionTimeline::StatusAt(absl::Time t) const {
  return SegmentAt(t).status;
}

void SubscriptionTimeline::EvaluateAt(absl::Time t,
                                      SubscriptionEvaluation* out) const {
  const Segment& seg = SegmentAt(t);
  out->status = seg.status;
  out->started_at.reset();
  if (started_at_.has_value() && *started_at_ <= t) {
    out->started_at = started_at_;
  }
  out->past_due_since.reset();
  out->cancelled_at.reset();
  if (seg.status == SubscriptionStatus::kPastDue)
    out->past_due_since = seg.since;
  if (seg.status == SubscriptionStatus::kCancelled)
    out->cancelled_at = seg.since;
  out->auto_churned = seg.status == SubscriptionStatus::kCancelled &&
                      seg.reason == ReasonKind::kAutoChurned;

  StatusReason reason;
  reason.kind = seg.reason;
  reason.since = seg.since;
  reason.detail = seg.detail;
  reason.auto_churn_after_days = auto_churn_after_days_;
  if (seg.status == SubscriptionStatus::kPastDue) {
    // The stretch ends in an auto-churn if the first segment after it that
    // is not past due is one.
    for (const Segment* next = &seg + 1;
         next != segments_.data() + segments_.size(); ++next) {
      if (next->status == SubscriptionStatus::kPastDue) continue;
      if (next->reason == ReasonKind::kAutoChurned) {
        reason.auto_churns_at = next->from;
      }
      break;
    }
  }
  if (seg.invoice >= 0) {
    const OwnedInvoice& invoice = invoices_[seg.invoice];
    reason.invoice_external_id = invoice.external_id;
    reason.currency = invoice.currency;
    reason.amount_due_in_cents = invoice.amount_due_in_cents;
  }
  out->status_reason = FormatStatusReason(reason);

  out->current_period_start.reset();
  out->current_period_end.reset();
  if (seg.period >= 0) {
    out->current_period_start = periods_[seg.period].start;
    out->current_period_end = periods_[seg.period].end;
  }

  auto end = std::upper_bound(events_.begin(), events_.end(), t,
                              [](absl::Time x, const SubscriptionEvent& e) {
                                return x < e.occurred_at;
                              });
  out->events.assign(events_.begin(), end);
}

std::optional<absl::Time> SubscriptionTimeline::NextChangeAfter(
    absl::Time t) const {
  auto it = std::upper_bound(
      segments_.begin(), segments_.end(), t,
      [](absl::Time x, const Segment& seg) { return x < seg.from; });
  if (it == segments_.end()) return std::nullopt;
  return it->from;
}

}  // namespace recurrent::engine
