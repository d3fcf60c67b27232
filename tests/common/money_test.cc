#include "common/money.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace recurrent::common {
namespace {

TEST(MoneyTest, DecimalsFollowIso4217) {
  EXPECT_EQ(CurrencyDecimals("EUR"), 2);
  EXPECT_EQ(CurrencyDecimals("USD"), 2);
  EXPECT_EQ(CurrencyDecimals("JPY"), 0);
  EXPECT_EQ(CurrencyDecimals("KRW"), 0);
  EXPECT_EQ(CurrencyDecimals("XOF"), 0);
  EXPECT_EQ(CurrencyDecimals("KWD"), 3);
  EXPECT_EQ(CurrencyDecimals("TND"), 3);
  EXPECT_EQ(CurrencyDecimals("CLF"), 4);
  EXPECT_EQ(CurrencyDecimals("UYW"), 4);
  EXPECT_EQ(CurrencyDecimals(""), 2);
  EXPECT_EQ(CurrencyDecimals("ZZZ"), 2);
}

TEST(MoneyTest, FormatsWithTheCurrencysDigits) {
  EXPECT_EQ(FormatMinorUnits(4900, "EUR"), "49.00");
  EXPECT_EQ(FormatMinorUnits(-5, "EUR"), "-0.05");
  EXPECT_EQ(FormatMinorUnits(0, "USD"), "0.00");
  EXPECT_EQ(FormatMinorUnits(4900, ""), "49.00");
  EXPECT_EQ(FormatMinorUnits(5000, "JPY"), "5000");
  EXPECT_EQ(FormatMinorUnits(-5000, "JPY"), "-5000");
  EXPECT_EQ(FormatMinorUnits(1500, "KWD"), "1.500");
  EXPECT_EQ(FormatMinorUnits(7, "KWD"), "0.007");
  EXPECT_EQ(FormatMinorUnits(12345, "CLF"), "1.2345");
  EXPECT_EQ(FormatMinorUnits(std::numeric_limits<int64_t>::min(), "EUR"),
            "-92233720368547758.08");
  EXPECT_EQ(FormatMinorUnits(std::numeric_limits<int64_t>::max(), "JPY"),
            "9223372036854775807");
}

}  // namespace
}  // namespace recurrent::common
