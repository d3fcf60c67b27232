#include "common/ids.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recurrent::common {
namespace {

using ::testing::MatchesRegex;
using ::testing::StartsWith;

TEST(IdsTest, HavePrefixAndTwentyBase32Chars) {
  const std::string id = NewId(kCustomerIdPrefix);
  EXPECT_THAT(id, StartsWith("cus_"));
  EXPECT_THAT(id, MatchesRegex("cus_[a-z2-7]{20}"));
  EXPECT_TRUE(HasIdShape(id, kCustomerIdPrefix));
  EXPECT_FALSE(HasIdShape(id, kDataSourceIdPrefix));
  EXPECT_FALSE(HasIdShape("cus_short", kCustomerIdPrefix));
  EXPECT_FALSE(HasIdShape("cus_AAAAAAAAAAAAAAAAAAAA", kCustomerIdPrefix));
}

TEST(IdsTest, AreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(NewId(kEventIdPrefix));
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(IdsTest, UseTheWholeAlphabet) {
  std::set<char> chars;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewId(kInvoiceIdPrefix);
    chars.insert(id.begin() + 4, id.end());
  }
  EXPECT_EQ(chars.size(), 32u);
}

}  // namespace
}  // namespace recurrent::common
