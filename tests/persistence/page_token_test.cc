#include "persistence/page_token.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::persistence {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PageTokenTest, RoundTrips) {
  const uint64_t fingerprint = QueryFingerprint("customers", {"a", "", "b"});
  for (int64_t key : {int64_t{0}, int64_t{1}, int64_t{1} << 40}) {
    const std::string token = EncodePageToken(key, fingerprint);
    EXPECT_THAT(token, ::testing::MatchesRegex("[A-Za-z0-9_-]+"));
    ASSERT_OK_AND_ASSIGN(int64_t decoded, DecodePageToken(token, fingerprint));
    EXPECT_EQ(decoded, key);
  }
}

TEST(PageTokenTest, FingerprintSeparatesFields) {
  // Moving a value between fields or kinds changes the fingerprint.
  EXPECT_NE(QueryFingerprint("customers", {"ab", ""}),
            QueryFingerprint("customers", {"a", "b"}));
  EXPECT_NE(QueryFingerprint("customers", {"", "x"}),
            QueryFingerprint("customers", {"x", ""}));
  EXPECT_NE(QueryFingerprint("customers", {}),
            QueryFingerprint("data_sources", {}));
  EXPECT_EQ(QueryFingerprint("customers", {"a"}),
            QueryFingerprint("customers", {"a"}));
}

TEST(PageTokenTest, RejectsOtherQueriesAndGarbage) {
  const uint64_t mine = QueryFingerprint("customers", {"a"});
  const uint64_t other = QueryFingerprint("customers", {"b"});
  EXPECT_THAT(
      DecodePageToken(EncodePageToken(5, other), mine),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  for (const char* bad : {"", "x", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAA"}) {
    EXPECT_THAT(
        DecodePageToken(bad, mine),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")))
        << bad;
  }
}

}  // namespace
}  // namespace recurrent::persistence
