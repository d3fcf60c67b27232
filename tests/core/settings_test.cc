// core/settings.h: the one versioned settings record and its encoding.
#include "core/settings.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core {
namespace {

using ::recurrent::testing::StatusIs;
using ::testing::HasSubstr;

SourceSettings With(PastDueHandling handling) {
  SourceSettings settings;
  settings.data_source_uuid = "ds_1";
  settings.past_due_handling = handling;
  return settings;
}

TEST(SettingsRecordTest, EncodesEverySettingAndReadsItBack) {
  for (const PastDueHandling& handling :
       {PastDueHandling{PastDueMode::kKeep, 0},
        PastDueHandling{PastDueMode::kAutoChurn, 1},
        PastDueHandling{PastDueMode::kAutoChurn, 90}}) {
    const std::string values = EncodeSettingsValues(With(handling));
    SourceSettings read;
    ASSERT_OK(DecodeSettingsValues(values, read));
    EXPECT_EQ(read.past_due_handling, handling) << values;
  }
  // The stored form is stable: databases hold it.
  EXPECT_EQ(EncodeSettingsValues(With({PastDueMode::kAutoChurn, 14})),
            "past_due_handling.mode=auto_churn\n"
            "past_due_handling.auto_churn_after_days=14\n");
  EXPECT_EQ(EncodeSettingsValues(With({PastDueMode::kKeep, 0})),
            "past_due_handling.mode=keep\n");
}

TEST(SettingsRecordTest, ARecordThisBuildCannotReadIsAnInternalError) {
  SourceSettings read;
  EXPECT_THAT(DecodeSettingsValues("churn_recognition.mode=x\n", read),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("unknown setting churn_recognition.mode")));
  EXPECT_THAT(DecodeSettingsValues("past_due_handling.mode=sometimes\n", read),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("unknown mode")));
  EXPECT_THAT(
      DecodeSettingsValues("past_due_handling.auto_churn_after_days=x\n", read),
      StatusIs(absl::StatusCode::kInternal));
}

TEST(SettingsRecordTest, RowsCarryTheVersionAndTheRecord) {
  SourceSettings settings = With({PastDueMode::kAutoChurn, 30});
  settings.version = 3;
  settings.applied_at = absl::FromUnixSeconds(100);
  settings.saved_at = absl::FromUnixSeconds(200);
  settings.saved_by = "ops";
  settings.impact.auto_churns_applied = 7;
  ASSERT_OK_AND_ASSIGN(const SourceSettings back, FromRow(ToRow(settings)));
  EXPECT_EQ(back.past_due_handling, settings.past_due_handling);
  EXPECT_EQ(back.version, 3);
  EXPECT_EQ(back.applied_at, settings.applied_at);
  EXPECT_EQ(back.saved_at, settings.saved_at);
  EXPECT_EQ(back.saved_by, "ops");
  EXPECT_EQ(back.impact.auto_churns_applied, 7);
  ASSERT_OK_AND_ASSIGN(const engine::SettingsMap map,
                       ToSettingsMap({ToRow(settings)}));
  EXPECT_EQ(map.at("ds_1").auto_churn_after_days, 30);
  EXPECT_EQ(map.at("ds_1").applied_at, settings.applied_at);
}

}  // namespace
}  // namespace recurrent::core
