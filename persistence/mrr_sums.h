// Helpers shared by the backends' MRR reads (persistence/records.h,
// MrrSums): both backends fold their grouped query rows the same way.
#ifndef RECURRENT_PERSISTENCE_MRR_SUMS_H_
#define RECURRENT_PERSISTENCE_MRR_SUMS_H_

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/mrr_types.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// MrrSums per currency, built up from grouped rows.
class MrrSumsBuilder {
 public:
  MrrSums& For(const std::string& currency) {
    MrrSums& sums = by_currency_[currency];
    sums.currency = currency;
    return sums;
  }
  // Sorted by currency.
  std::vector<MrrSums> Take() {
    std::vector<MrrSums> out;
    out.reserve(by_currency_.size());
    for (auto& [currency, sums] : by_currency_) out.push_back(std::move(sums));
    by_currency_.clear();
    return out;
  }

 private:
  std::map<std::string, MrrSums> by_currency_;
};

// Folds the latest `after` of each (source, currency) of one customer into
// amounts per currency: sorted, zeros left out.
class CustomerMrrBuilder {
 public:
  void Add(const std::string& currency, int64_t mrr_in_cents) {
    by_currency_[currency] += mrr_in_cents;
  }
  std::vector<engine::MrrAmount> Take() {
    std::vector<engine::MrrAmount> out;
    for (const auto& [currency, cents] : by_currency_) {
      if (cents != 0) out.push_back(engine::MrrAmount{currency, cents});
    }
    by_currency_.clear();
    return out;
  }

 private:
  std::map<std::string, int64_t> by_currency_;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_MRR_SUMS_H_
