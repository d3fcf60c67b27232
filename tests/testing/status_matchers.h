// GoogleTest matchers for absl::Status and absl::StatusOr (Abseil 20220623
// ships none).
//
//   EXPECT_THAT(storage->Get(id), IsOk());
//   EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument));
//   EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument,
//                                   HasSubstr("name")));
//   ASSERT_OK_AND_ASSIGN(auto value, ComputeValue());
#ifndef RECURRENT_TESTS_TESTING_STATUS_MATCHERS_H_
#define RECURRENT_TESTS_TESTING_STATUS_MATCHERS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recurrent::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P(StatusIs, code,
          "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code) +
               " and a matching message") {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher,
                                       std::string(status.message()),
                                       result_listener);
}

}  // namespace recurrent::testing

#define RECURRENT_TEST_CONCAT_INNER_(a, b) a##b
#define RECURRENT_TEST_CONCAT_(a, b) RECURRENT_TEST_CONCAT_INNER_(a, b)

// Asserts that `expr` (an absl::StatusOr) is OK and assigns its value.
#define ASSERT_OK_AND_ASSIGN(lhs, expr)                                    \
  auto RECURRENT_TEST_CONCAT_(status_or_, __LINE__) = (expr);              \
  ASSERT_TRUE(RECURRENT_TEST_CONCAT_(status_or_, __LINE__).ok())           \
      << RECURRENT_TEST_CONCAT_(status_or_, __LINE__).status();            \
  lhs = std::move(RECURRENT_TEST_CONCAT_(status_or_, __LINE__)).value()

#define ASSERT_OK(expr) ASSERT_THAT((expr), ::recurrent::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT((expr), ::recurrent::testing::IsOk())

#endif  // RECURRENT_TESTS_TESTING_STATUS_MATCHERS_H_
