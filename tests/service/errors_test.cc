// ToGrpcStatus's error details: every error carries a google.rpc.ErrorInfo
// (reason, domain "recurrent", metadata), RetryInfo only where a retry can
// help, BadRequest for field errors; the reasons table matches
// recurrent.v1.ErrorReason.
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "common/error_reason.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "recurrent/v1/error_reason.pb.h"
#include "service/errors.h"
#include "service/executor.h"
#include "tests/service/error_details.h"

namespace recurrent::service {
namespace {

using ::recurrent::service::testing::DetailsOf;
using ::recurrent::service::testing::ErrorInfoOf;
using ::recurrent::service::testing::RetryDelayOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

namespace reason = common::reason;

TEST(ErrorsTest, InvalidFieldCarriesErrorInfoAndBadRequest) {
  const grpc::Status status = ToGrpcStatus(
      InvalidField("customer.country", "must be an ISO 3166-1 alpha-2 code"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const google::rpc::ErrorInfo info = ErrorInfoOf(status);
  EXPECT_EQ(info.reason(), "INVALID_FIELD");
  EXPECT_EQ(info.domain(), "recurrent");
  EXPECT_THAT(info.metadata(),
              UnorderedElementsAre(Pair("field", "customer.country")));
  EXPECT_FALSE(RetryDelayOf(status).has_value());
  google::rpc::BadRequest bad_request;
  bool found = false;
  const google::rpc::Status details = DetailsOf(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&bad_request)) found = true;
  }
  ASSERT_TRUE(found);
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "customer.country");
  EXPECT_EQ(bad_request.field_violations(0).description(),
            "must be an ISO 3166-1 alpha-2 code");
  // The google.rpc.Status repeats the code and message.
  EXPECT_EQ(DetailsOf(status).code(), 3);
  EXPECT_EQ(DetailsOf(status).message(), status.error_message());
}

TEST(ErrorsTest, AttachedReasonAndMetadataAreSent) {
  const grpc::Status status = ToGrpcStatus(common::WithReason(
      absl::ResourceExhaustedError("a customer may carry at most 100 tags"),
      reason::kTagLimit, {{"limit", "100"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "a customer may carry at most 100 tags");
  EXPECT_EQ(ErrorInfoOf(status).reason(), "TAG_LIMIT");
  EXPECT_THAT(ErrorInfoOf(status).metadata(),
              UnorderedElementsAre(Pair("limit", "100")));
  EXPECT_FALSE(RetryDelayOf(status).has_value());
}

TEST(ErrorsTest, ResourceNotFoundNamesTheResource) {
  const absl::Status made = common::ResourceNotFound("data_source", "ds_x");
  EXPECT_EQ(made.message(), "data source ds_x not found");
  EXPECT_EQ(common::ResourceNotFound("api_key", "key_1").message(),
            "API key key_1 not found");
  const grpc::Status status = ToGrpcStatus(made);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorInfoOf(status).reason(), "RESOURCE_NOT_FOUND");
  EXPECT_THAT(ErrorInfoOf(status).metadata(),
              UnorderedElementsAre(Pair("resource_type", "data_source"),
                                   Pair("resource_id", "ds_x")));
}

// The reasons a retry can cure come with RetryInfo and its delay; the
// others (limits, validation, a full disk, a read-only or replaced
// database) never do, whatever their code.
TEST(ErrorsTest, RetryInfoOnlyWhereARetryCanHelp) {
  struct Case {
    absl::Status status;
    std::optional<absl::Duration> delay;
  };
  const auto with = [](absl::Status status, absl::string_view why) {
    return common::WithReason(std::move(status), why);
  };
  const Case cases[] = {
      {with(absl::ResourceExhaustedError("x"), reason::kOverloaded),
       absl::Seconds(1)},
      {with(absl::UnavailableError("x"), reason::kOverloaded),
       absl::Seconds(1)},
      {with(absl::UnavailableError("x"), reason::kDatabaseBusy),
       absl::Seconds(1)},
      {with(absl::UnavailableError("x"), reason::kDatabaseUnavailable),
       absl::Seconds(5)},
      {with(absl::UnavailableError("x"), reason::kShuttingDown),
       absl::Seconds(5)},
      {with(absl::UnavailableError("x"), reason::kCustomerBeingMerged),
       absl::Seconds(1)},
      {with(absl::UnavailableError("x"), reason::kChangeLogBehind),
       absl::Seconds(1)},
      {with(absl::UnavailableError("x"), reason::kDatabaseReplaced),
       std::nullopt},
      {with(absl::UnavailableError("x"), reason::kCommitOutcomeUnknown),
       std::nullopt},
      {with(absl::ResourceExhaustedError("x"), reason::kDiskFull),
       std::nullopt},
      {with(absl::FailedPreconditionError("x"), reason::kDatabaseReadOnly),
       std::nullopt},
      {with(absl::ResourceExhaustedError("x"), reason::kTagLimit),
       std::nullopt},
      {with(absl::FailedPreconditionError("x"), reason::kSubscriptionLimit),
       std::nullopt},
      {with(absl::FailedPreconditionError("x"), reason::kInvoiceLimit),
       std::nullopt},
      {InvalidField("f", "bad"), std::nullopt},
      {with(absl::UnauthenticatedError("x"), reason::kApiKeyInvalid),
       std::nullopt},
      // No reason attached: the fallback never promises a retry.
      {absl::UnavailableError("x"), std::nullopt},
      {absl::ResourceExhaustedError("x"), std::nullopt},
  };
  for (const Case& c : cases) {
    const grpc::Status status = ToGrpcStatus(c.status);
    EXPECT_EQ(RetryDelayOf(status), c.delay)
        << c.status << " sent as " << ErrorInfoOf(status).reason();
    EXPECT_EQ(RetryDelayFor(ErrorInfoOf(status).reason()), c.delay);
  }
}

TEST(ErrorsTest, FallbackReasonsFollowTheCode) {
  const auto reason_of = [](const absl::Status& status) {
    return ErrorInfoOf(ToGrpcStatus(status)).reason();
  };
  EXPECT_EQ(reason_of(absl::InvalidArgumentError("x")), "INVALID_REQUEST");
  EXPECT_EQ(reason_of(absl::NotFoundError("x")), "RESOURCE_NOT_FOUND");
  EXPECT_EQ(reason_of(absl::AlreadyExistsError("x")),
            "RESOURCE_ALREADY_EXISTS");
  EXPECT_EQ(reason_of(absl::FailedPreconditionError("x")),
            "FAILED_PRECONDITION");
  EXPECT_EQ(reason_of(absl::UnavailableError("x")), "UNAVAILABLE");
  EXPECT_EQ(reason_of(absl::CancelledError("x")), "CANCELLED");
  EXPECT_EQ(reason_of(absl::OutOfRangeError("x")), "OUT_OF_RANGE");
  // Every code's fallback is a documented reason.
  const std::vector<absl::string_view> all = AllReasons();
  for (int code = 1; code <= 16; ++code) {
    const std::string fallback = ReasonFor(
        absl::Status(static_cast<absl::StatusCode>(code), "x"));
    EXPECT_NE(std::find(all.begin(), all.end(), fallback), all.end())
        << "code " << code << ": " << fallback;
  }
}

// Internal errors keep their text in the log only, and any reason or
// metadata attached below is dropped: the caller sees INTERNAL.
TEST(ErrorsTest, InternalErrorsCarryOnlyTheInternalReason) {
  for (absl::Status internal :
       {absl::InternalError("SELECT secret FROM t"),
        absl::UnknownError("/var/lib/x"), absl::DataLossError("torn page")}) {
    internal = common::WithReason(internal, reason::kDatabaseBusy,
                                  {{"path", "/var/lib/x"}});
    const grpc::Status status = ToGrpcStatus(internal);
    EXPECT_EQ(status.error_code(),
              static_cast<grpc::StatusCode>(internal.code()));
    EXPECT_EQ(status.error_message(), "internal error; see the server log");
    EXPECT_EQ(ErrorInfoOf(status).reason(), "INTERNAL");
    EXPECT_EQ(ErrorInfoOf(status).domain(), "recurrent");
    EXPECT_THAT(ErrorInfoOf(status).metadata(), IsEmpty());
    EXPECT_FALSE(RetryDelayOf(status).has_value());
    EXPECT_EQ(status.error_details().find("SELECT"), std::string::npos);
    EXPECT_EQ(status.error_details().find("/var/lib"), std::string::npos);
  }
}

TEST(ErrorsTest, OkHasNoDetails) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).error_details().empty());
}

// One table, one documentation: the reasons the server knows are exactly
// the values of recurrent.v1.ErrorReason, in its order.
TEST(ErrorsTest, ReasonsTableIsTheErrorReasonEnum) {
  const google::protobuf::EnumDescriptor* descriptor =
      v1::ErrorReason_descriptor();
  std::vector<std::string> documented;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    if (descriptor->value(i)->number() == 0) continue;
    documented.push_back(descriptor->value(i)->name());
  }
  std::vector<std::string> known;
  for (absl::string_view name : AllReasons()) known.emplace_back(name);
  EXPECT_EQ(known, documented);
  const std::set<std::string> distinct(known.begin(), known.end());
  EXPECT_EQ(distinct.size(), known.size());
}

// Clients with googleapis' own error_details.proto decode our details: the
// same full names (hence type URLs) and field numbers.
TEST(ErrorsTest, DetailsUseGoogleapisNamesAndNumbers) {
  const auto* info = google::rpc::ErrorInfo::descriptor();
  EXPECT_EQ(info->full_name(), "google.rpc.ErrorInfo");
  EXPECT_EQ(info->FindFieldByName("reason")->number(), 1);
  EXPECT_EQ(info->FindFieldByName("domain")->number(), 2);
  EXPECT_EQ(info->FindFieldByName("metadata")->number(), 3);
  const auto* retry = google::rpc::RetryInfo::descriptor();
  EXPECT_EQ(retry->full_name(), "google.rpc.RetryInfo");
  EXPECT_EQ(retry->FindFieldByName("retry_delay")->number(), 1);
  EXPECT_EQ(retry->FindFieldByName("retry_delay")->message_type()->full_name(),
            "google.protobuf.Duration");
  const grpc::Status status = ToGrpcStatus(common::WithReason(
      absl::UnavailableError("x"), reason::kDatabaseBusy));
  ASSERT_GE(DetailsOf(status).details_size(), 2);
  EXPECT_EQ(DetailsOf(status).details(0).type_url(),
            "type.googleapis.com/google.rpc.ErrorInfo");
  EXPECT_EQ(DetailsOf(status).details(1).type_url(),
            "type.googleapis.com/google.rpc.RetryInfo");
}

TEST(ErrorReasonTest, WithReasonReplacesReasonAndMetadata) {
  absl::Status status = common::WithReason(absl::UnavailableError("x"),
                                           reason::kDatabaseBusy,
                                           {{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(common::ReasonOf(status), "DATABASE_BUSY");
  status = common::WithReason(status, reason::kOverloaded, {{"c", "3"}});
  EXPECT_EQ(common::ReasonOf(status), "OVERLOADED");
  EXPECT_THAT(common::ReasonMetadataOf(status), ElementsAre(Pair("c", "3")));
  EXPECT_EQ(status.message(), "x");
  EXPECT_FALSE(common::ReasonOf(absl::UnavailableError("x")).has_value());
  EXPECT_TRUE(common::WithReason(absl::OkStatus(), reason::kOverloaded).ok());
}

// The executor's refusals: a full queue is OVERLOADED (retry), a shut-down
// executor SHUTTING_DOWN (retry elsewhere or later).
TEST(ErrorReasonTest, ExecutorRefusalsCarryTheirReasons) {
  Executor::Options options;
  options.num_threads = 1;
  options.max_queued = 1;
  Executor executor(options);
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE(executor
                  .Schedule("a",
                            [&] {
                              started.Notify();
                              release.WaitForNotification();
                            })
                  .ok());
  started.WaitForNotification();
  ASSERT_TRUE(executor.Schedule("a", [] {}).ok());  // queued
  const absl::Status full = executor.Schedule("a", [] {});
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(common::ReasonOf(full), "OVERLOADED");
  EXPECT_EQ(RetryDelayOf(ToGrpcStatus(full)), absl::Seconds(1));
  release.Notify();
  executor.Shutdown();
  const absl::Status down = executor.Schedule("b", [] {});
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(common::ReasonOf(down), "SHUTTING_DOWN");
  EXPECT_TRUE(RetryDelayOf(ToGrpcStatus(down)).has_value());
}

}  // namespace
}  // namespace recurrent::service
