// Amounts of money as the API carries them: an integer count of the
// currency's minor unit (the API's `*_in_cents` fields): cents of EUR or
// USD, yen of JPY (which has no minor unit), 1/1000 dinar of KWD.
#ifndef RECURRENT_COMMON_MONEY_H_
#define RECURRENT_COMMON_MONEY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace recurrent::common {

// The number of decimal digits of `currency`'s minor unit (ISO 4217): 0 for
// JPY, KRW and the other currencies without one, 3 for BHD, IQD, JOD, KWD,
// LYD, OMR and TND, 4 for CLF and UYW, 2 for every other code (unknown or
// empty ones included).
int CurrencyDecimals(absl::string_view currency);

// `minor_units` of `currency` as a decimal number with the currency's
// digits: "49.00" (4900 EUR), "-0.05" (-5 EUR), "5000" (5000 JPY), "1.500"
// (1500 KWD). Exact for every int64.
std::string FormatMinorUnits(int64_t minor_units, absl::string_view currency);

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_MONEY_H_
