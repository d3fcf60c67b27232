// An amount of monthly recurring revenue in one currency: a plain value,
// apart from engine/mrr.h so that rows (persistence/records.h) may carry it
// without depending on the MRR computation.
#ifndef RECURRENT_ENGINE_MRR_AMOUNT_H_
#define RECURRENT_ENGINE_MRR_AMOUNT_H_

#include <cstdint>
#include <string>

namespace recurrent::engine {

// An amount of MRR in one currency (ISO 4217, as on the invoices).
struct MrrAmount {
  std::string currency;
  int64_t mrr_in_cents = 0;

  friend bool operator==(const MrrAmount& a, const MrrAmount& b) {
    return a.currency == b.currency && a.mrr_in_cents == b.mrr_in_cents;
  }
  friend bool operator!=(const MrrAmount& a, const MrrAmount& b) {
    return !(a == b);
  }
};

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_MRR_AMOUNT_H_
