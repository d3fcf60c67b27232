// The plain values of monthly recurring revenue (semantics.md, M1-M6): an
// amount in one currency and a movement. Apart from engine/mrr.h so that
// rows (persistence/records.h) may carry them without depending on the MRR
// computation.
#ifndef RECURRENT_ENGINE_MRR_TYPES_H_
#define RECURRENT_ENGINE_MRR_TYPES_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

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

enum class MrrMovementType {
  kNewBusiness,   // 0 -> > 0, the first time in this source and currency
  kExpansion,     // an increase from > 0
  kContraction,   // a decrease to > 0, or to 0 while a subscription lives
  kChurn,         // > 0 -> 0 with no subscription of the source living
  kReactivation,  // 0 -> > 0 after the first time
};

// Returns the upper-case name used in docs, e.g. "NEW_BUSINESS".
absl::string_view MrrMovementTypeName(MrrMovementType type);

// One change of the customer's MRR in one data source and currency (M4):
// all changes at one instant netted together.
struct MrrMovement {
  MrrMovementType type = MrrMovementType::kNewBusiness;
  std::string data_source_uuid;
  std::string currency;
  absl::Time occurred_at;
  // MRR after minus MRR before; never 0.
  int64_t mrr_change_in_cents = 0;
  int64_t mrr_after_in_cents = 0;

  friend bool operator==(const MrrMovement& a, const MrrMovement& b) {
    return a.type == b.type && a.data_source_uuid == b.data_source_uuid &&
           a.currency == b.currency && a.occurred_at == b.occurred_at &&
           a.mrr_change_in_cents == b.mrr_change_in_cents &&
           a.mrr_after_in_cents == b.mrr_after_in_cents;
  }
  friend bool operator!=(const MrrMovement& a, const MrrMovement& b) {
    return !(a == b);
  }
};

}  // namespace recurrent::engine

#endif  // RECURRENT_ENGINE_MRR_TYPES_H_
