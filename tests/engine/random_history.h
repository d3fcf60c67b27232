// Seeded random customer histories for property tests (tests/engine).
#ifndef RECURRENT_TESTS_ENGINE_RANDOM_HISTORY_H_
#define RECURRENT_TESTS_ENGINE_RANDOM_HISTORY_H_

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "engine/facts.h"
#include "engine/settings.h"
#include "tests/engine/test_util.h"

namespace recurrent::engine::testing {

// The number of random histories per property; RECURRENT_PROPERTY_SEEDS
// overrides it for longer runs. Seeds are 0..n-1, so failures reproduce.
inline int Seeds() {
  const char* env = std::getenv("RECURRENT_PROPERTY_SEEDS");
  return env != nullptr ? std::atoi(env) : 300;
}
inline constexpr int kAutoChurnDays[] = {1, 3, 7, 14, 30, 90};

class Random {
 public:
  explicit Random(uint64_t seed) : rng_(seed) {}
  int Uniform(int lo, int hi) {  // inclusive
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  absl::Duration Jitter() {
    return Chance(0.3) ? absl::Seconds(Uniform(0, 86399))
                       : absl::ZeroDuration();
  }
  std::mt19937_64& engine() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

inline SettingsMap RandomSettings(Random& r) {
  SettingsMap settings;
  for (const char* source : {kSource, kOtherSource}) {
    if (r.Chance(0.25)) continue;  // KEEP by default
    SourceSettings s;
    s.mode = PastDueMode::kAutoChurn;
    s.auto_churn_after_days = kAutoChurnDays[r.Uniform(0, 5)];
    s.applied_at = r.Chance(0.5)
                       ? absl::InfinitePast()
                       : Day(2024, 1, 1) + Days(r.Uniform(0, 500)) + r.Jitter();
    settings[source] = s;
  }
  return settings;
}

// A random customer history. Gaps are often close to the sources' X days so
// that same-day renewals (R6 e) and exact boundaries happen.
inline CustomerFacts RandomFacts(Random& r, const SettingsMap& settings) {
  CustomerFacts facts;
  const int subs = r.Uniform(1, 3);
  int invoice_number = 0;
  for (int k = 0; k < subs; ++k) {
    const std::string source = r.Chance(0.7) ? kSource : kOtherSource;
    const std::string sub = absl::StrCat("sub_", k);
    const SourceSettings& st = SettingsFor(settings, source);
    const int x =
        st.mode == PastDueMode::kAutoChurn ? st.auto_churn_after_days : 14;
    absl::Time cursor = Day(2024, 1, 1) + Days(r.Uniform(0, 200)) + r.Jitter();
    const absl::Time first = cursor;
    const int periods = r.Uniform(1, 10);
    for (int p = 0; p < periods; ++p) {
      const absl::Time start = cursor;
      const absl::Time end =
          start + (r.Chance(0.8) ? Days(30) : Days(r.Uniform(1, 90)));
      Invoice invoice;
      invoice.data_source_uuid = source;
      invoice.external_id = absl::StrCat("INV-", ++invoice_number);
      invoice.currency = "EUR";
      const int64_t cents = r.Chance(0.85) ? 4900 : (r.Chance(0.5) ? 0 : 100);
      invoice.line_items.push_back(
          SubscriptionItem(sub, start, end, cents));
      if (r.Chance(0.1)) {
        LineItem extra;
        extra.type =
            r.Chance(0.5) ? LineItemType::kOneTime : LineItemType::kTrial;
        extra.subscription_external_id = sub;
        extra.service_period_start = start;
        extra.service_period_end = end;
        extra.amount_in_cents = 500;
        invoice.line_items.push_back(extra);
      }
      if (r.Chance(0.85)) {
        invoice.due_date =
            start + (r.Chance(0.3) ? Days(r.Uniform(0, 10)) + r.Jitter()
                                   : absl::ZeroDuration());
      }
      const absl::Time due = invoice.due_date.value_or(start);
      switch (r.Uniform(0, 6)) {
        case 0:
        case 1:
        case 2:  // on time
          invoice.transactions.push_back(Payment(due - Days(r.Uniform(0, 1))));
          break;
        case 3:  // late, sometimes right around X days
          invoice.transactions.push_back(Payment(
              due + (r.Chance(0.5) ? Days(x) + absl::Seconds(r.Uniform(-2, 2))
                                   : Days(r.Uniform(1, 100)) + r.Jitter())));
          break;
        case 4:  // partial, maybe completed later
          invoice.transactions.push_back(
              Payment(due + Days(r.Uniform(0, 20)), 2000));
          if (r.Chance(0.5)) {
            invoice.transactions.push_back(
                Payment(due + Days(r.Uniform(10, 60)), 2900));
          }
          break;
        case 5:  // failed, then maybe refunded something
          invoice.transactions.push_back(FailedPayment(due));
          if (r.Chance(0.5))
            invoice.transactions.push_back(Refund(due));
          break;
        default:  // never paid
          break;
      }
      facts.invoices.push_back(std::move(invoice));
      switch (r.Uniform(0, 9)) {
        case 0:
        case 1:  // a renewal gap around X days
          cursor = end + Days(x) + absl::Hours(r.Uniform(-30, 30));
          break;
        case 2:  // any gap
          cursor = end + Days(r.Uniform(1, 60)) + r.Jitter();
          break;
        case 3:  // overlap
          cursor = end - Days(r.Uniform(1, 10));
          break;
        default:
          cursor = end;
      }
    }
    const int cancellations = r.Chance(0.35) ? r.Uniform(1, 3) : 0;
    const int span_days =
        static_cast<int>((cursor - first) / absl::Hours(24)) + 60;
    for (int c = 0; c < cancellations; ++c) {
      facts.cancellations.push_back(Cancel(
          sub, first - Days(10) + Days(r.Uniform(0, span_days)) + r.Jitter(),
          source));
    }
  }
  return facts;
}

}  // namespace recurrent::engine::testing

#endif  // RECURRENT_TESTS_ENGINE_RANDOM_HISTORY_H_
