// Benchmarks of the engine (docs/performance.md, section "Engine").
//
//   BM_EvaluateOneCustomer   Evaluate() of one customer: 5 subscriptions x 36
//                            monthly invoices, built and evaluated at one
//                            instant (what a GetCustomer costs in the engine).
//   BM_BuildTimeline         CustomerTimeline::Build() alone.
//   BM_EvaluateAtBuilt       EvaluateAt() on a built timeline.
//   BM_EvaluateBatch         Evaluate() of 100,000 such customers.
//   BM_BuildGappedTimeline   CustomerTimeline::Build() of one subscription
//                            of N daily periods, each ending a second before
//                            the next starts (exports ending at 23:59:59):
//                            an uncovered end at every period.
//   BM_BuildLongPastDueStretch  The same of N daily periods each paid two
//                            days late: one PAST_DUE stretch of N
//                            overlapping signals.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "engine/customer_timeline.h"
#include "engine/evaluator.h"
#include "engine/facts.h"
#include "engine/settings.h"

namespace recurrent::engine {
namespace {

constexpr int kSubscriptions = 5;
constexpr int kMonths = 36;
constexpr int kBatchCustomers = 100000;
// Distinct fact sets the batch cycles through.
constexpr int kVariants = 64;

absl::Time Utc(absl::CivilDay day) {
  return absl::FromCivil(day, absl::UTCTimeZone());
}

// One customer: kSubscriptions monthly subscriptions of kMonths invoices
// each from 2023-01-01, due at each period start. `variant` picks which
// invoices are paid late, partly or never, and one explicit cancellation.
CustomerFacts MakeCustomer(int variant) {
  CustomerFacts facts;
  facts.invoices.reserve(kSubscriptions * kMonths);
  uint32_t state = 2654435761u * static_cast<uint32_t>(variant + 1);
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  for (int s = 0; s < kSubscriptions; ++s) {
    const std::string sub = absl::StrCat("sub_", variant, "_", s);
    for (int m = 0; m < kMonths; ++m) {
      const absl::CivilMonth month = absl::CivilMonth(2023, 1) + m;
      const absl::Time start = Utc(absl::CivilDay(month));
      const absl::Time end = Utc(absl::CivilDay(month + 1));
      Invoice invoice;
      invoice.data_source_uuid = "ds_bench";
      invoice.external_id = absl::StrCat("INV-", s, "-", m);
      invoice.currency = "EUR";
      invoice.due_date = start;
      LineItem item;
      item.type = LineItemType::kSubscription;
      item.subscription_external_id = sub;
      item.service_period_start = start;
      item.service_period_end = end;
      item.amount_in_cents = 4900;
      invoice.line_items.push_back(item);
      Transaction payment;
      payment.type = TransactionType::kPayment;
      payment.result = TransactionResult::kSuccessful;
      const uint32_t roll = next() % 100;
      if (roll < 85) {
        payment.date = start;  // on time
        invoice.transactions.push_back(payment);
      } else if (roll < 95) {
        payment.date = start + absl::Hours(24) * (1 + next() % 40);  // late
        invoice.transactions.push_back(payment);
      } else if (roll < 98) {
        payment.date = start;  // partly paid, never completed
        payment.amount_in_cents = 1000;
        invoice.transactions.push_back(payment);
      }  // else never paid
      facts.invoices.push_back(std::move(invoice));
    }
  }
  facts.cancellations.push_back(
      Cancellation{"ds_bench", absl::StrCat("sub_", variant, "_0"),
                   Utc(absl::CivilDay(2024, 6, 10))});
  return facts;
}

SettingsMap BenchSettings() {
  SettingsMap settings;
  settings["ds_bench"] =
      SourceSettings{PastDueMode::kAutoChurn, 14, absl::InfinitePast()};
  return settings;
}

const absl::Time kEvaluateAt = Utc(absl::CivilDay(2025, 6, 15));

void BM_EvaluateOneCustomer(benchmark::State& state) {
  const CustomerFacts facts = MakeCustomer(0);
  const SettingsMap settings = BenchSettings();
  for (auto _ : state) {
    absl::StatusOr<CustomerEvaluation> evaluation =
        Evaluate(facts, settings, kEvaluateAt);
    benchmark::DoNotOptimize(evaluation);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateOneCustomer);

void BM_BuildTimeline(benchmark::State& state) {
  const CustomerFacts facts = MakeCustomer(0);
  const SettingsMap settings = BenchSettings();
  for (auto _ : state) {
    absl::StatusOr<CustomerTimeline> timeline =
        CustomerTimeline::Build(facts, settings);
    benchmark::DoNotOptimize(timeline);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BuildTimeline);

void BM_EvaluateAtBuilt(benchmark::State& state) {
  const absl::StatusOr<CustomerTimeline> timeline =
      CustomerTimeline::Build(MakeCustomer(0), BenchSettings());
  absl::Time t = Utc(absl::CivilDay(2023, 1, 1));
  for (auto _ : state) {
    CustomerEvaluation evaluation = timeline->EvaluateAt(t);
    benchmark::DoNotOptimize(evaluation);
    t += absl::Hours(7);  // walk through the three years
    if (t > kEvaluateAt) t = Utc(absl::CivilDay(2023, 1, 1));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateAtBuilt);

void BM_EvaluateBatch(benchmark::State& state) {
  std::vector<CustomerFacts> variants;
  variants.reserve(kVariants);
  for (int v = 0; v < kVariants; ++v) variants.push_back(MakeCustomer(v));
  const SettingsMap settings = BenchSettings();
  int64_t past_due = 0;
  for (auto _ : state) {
    for (int c = 0; c < kBatchCustomers; ++c) {
      absl::StatusOr<CustomerEvaluation> evaluation =
          Evaluate(variants[c % kVariants], settings, kEvaluateAt);
      past_due += evaluation->status == CustomerStatus::kPastDue;
      benchmark::DoNotOptimize(evaluation);
    }
  }
  benchmark::DoNotOptimize(past_due);
  state.SetItemsProcessed(state.iterations() * kBatchCustomers);
}
// One subscription of `days` daily invoices from 2000-01-01, each due at
// its period's start and paid `paid_after` later; each period ends `gap`
// before the next starts.
CustomerFacts DailyInvoices(int64_t days, absl::Duration gap,
                            absl::Duration paid_after) {
  CustomerFacts facts;
  const absl::Time first = Utc(absl::CivilDay(2000, 1, 1));
  for (int64_t d = 0; d < days; ++d) {
    const absl::Time start = first + absl::Hours(24) * d;
    Invoice invoice;
    invoice.data_source_uuid = "ds_bench";
    invoice.external_id = absl::StrCat("INV-", d);
    invoice.currency = "EUR";
    invoice.due_date = start;
    LineItem item;
    item.type = LineItemType::kSubscription;
    item.subscription_external_id = "sub";
    item.service_period_start = start;
    item.service_period_end = start + absl::Hours(24) - gap;
    item.amount_in_cents = 100;
    invoice.line_items.push_back(item);
    Transaction payment;
    payment.type = TransactionType::kPayment;
    payment.result = TransactionResult::kSuccessful;
    payment.date = start + paid_after;
    invoice.transactions.push_back(payment);
    facts.invoices.push_back(std::move(invoice));
  }
  return facts;
}

// Times CustomerTimeline::Build() of `facts` under KEEP.
void BuildRepeatedly(benchmark::State& state, const CustomerFacts& facts) {
  const SettingsMap settings;
  for (auto _ : state) {
    benchmark::DoNotOptimize(CustomerTimeline::Build(facts, settings));
  }
}

void BM_BuildGappedTimeline(benchmark::State& state) {
  BuildRepeatedly(state, DailyInvoices(state.range(0), absl::Seconds(1),
                                       absl::ZeroDuration()));
}
BENCHMARK(BM_BuildGappedTimeline)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

void BM_BuildLongPastDueStretch(benchmark::State& state) {
  BuildRepeatedly(state, DailyInvoices(state.range(0), absl::ZeroDuration(),
                                       absl::Hours(48)));
}
BENCHMARK(BM_BuildLongPastDueStretch)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_EvaluateBatch)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace recurrent::engine

BENCHMARK_MAIN();
