#include "common/money.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recurrent::common {
namespace {

struct Decimals {
  absl::string_view currency;
  int decimals;
};

// ISO 4217's minor units other than 2, sorted by code.
constexpr std::array<Decimals, 26> kNotTwo = {{
    {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0},
    {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0},
    {"KWD", 3}, {"LYD", 3}, {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3},
    {"UGX", 0}, {"UYI", 0}, {"UYW", 4}, {"VND", 0}, {"VUV", 0}, {"XAF", 0},
    {"XOF", 0}, {"XPF", 0},
}};

}  // namespace

int CurrencyDecimals(absl::string_view currency) {
  const auto it =
      std::lower_bound(kNotTwo.begin(), kNotTwo.end(), currency,
                       [](const Decimals& d, absl::string_view code) {
                         return d.currency < code;
                       });
  return it != kNotTwo.end() && it->currency == currency ? it->decimals : 2;
}

std::string FormatMinorUnits(int64_t minor_units, absl::string_view currency) {
  const char* sign = minor_units < 0 ? "-" : "";
  const uint64_t magnitude = minor_units < 0
                                 ? 0 - static_cast<uint64_t>(minor_units)
                                 : static_cast<uint64_t>(minor_units);
  const int decimals = CurrencyDecimals(currency);
  if (decimals == 0) return absl::StrCat(sign, magnitude);
  uint64_t unit = 1;
  for (int i = 0; i < decimals; ++i) unit *= 10;
  return absl::StrFormat("%s%d.%0*d", sign, magnitude / unit, decimals,
                         magnitude % unit);
}

}  // namespace recurrent::common
