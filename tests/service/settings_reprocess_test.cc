// Save and reprocess through the API (issue 5): reversal, exact impact, dry
// runs, effective_at and R6 b, ReprocessDataSource, settings history.
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"

namespace recurrent::service::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Impact {
  int64_t reprocessed, reversed, applied, status_changed;
};

Impact FromProto(const v1::SettingsImpact& impact) {
  return {impact.customers_reprocessed(), impact.auto_churns_reversed(),
          impact.auto_churns_applied(), impact.customers_status_changed()};
}

MATCHER_P4(ImpactIs, reprocessed, reversed, applied, status_changed, "") {
  *result_listener << "impact {" << arg.reprocessed << ", " << arg.reversed
                   << ", " << arg.applied << ", " << arg.status_changed << "}";
  return arg.reprocessed == reprocessed && arg.reversed == reversed &&
         arg.applied == applied && arg.status_changed == status_changed;
}

class SettingsReprocessTest : public ApiTest {
 protected:
  grpc::Status Update(const std::string& source, int days,
                      v1::UpdateSettingsResponse* response,
                      bool dry_run = false,
                      std::optional<absl::Time> effective_at = std::nullopt) {
    grpc::ClientContext context;
    v1::UpdateSettingsRequest request;
    request.set_data_source_uuid(source);
    request.mutable_past_due_handling()->set_mode(
        days == 0 ? v1::PAST_DUE_MODE_KEEP : v1::PAST_DUE_MODE_AUTO_CHURN);
    request.mutable_past_due_handling()->set_auto_churn_after_days(days);
    request.set_dry_run(dry_run);
    if (effective_at)
      *request.mutable_effective_at() = TimeToProto(*effective_at);
    return settings_->UpdateSettings(&context, request, response);
  }

  v1::SourceSettings GetSettings(const std::string& source) {
    grpc::ClientContext context;
    v1::GetSettingsRequest request;
    request.set_data_source_uuid(source);
    v1::SourceSettings settings;
    EXPECT_TRUE(settings_->GetSettings(&context, request, &settings).ok());
    return settings;
  }

  // UpdateSettings with list_changes; fails the test unless it succeeds.
  v1::UpdateSettingsResponse MustList(const std::string& source, int days,
                                      bool dry_run) {
    grpc::ClientContext context;
    v1::UpdateSettingsRequest request;
    request.set_data_source_uuid(source);
    request.mutable_past_due_handling()->set_mode(
        days == 0 ? v1::PAST_DUE_MODE_KEEP : v1::PAST_DUE_MODE_AUTO_CHURN);
    request.mutable_past_due_handling()->set_auto_churn_after_days(days);
    request.set_dry_run(dry_run);
    request.set_list_changes(true);
    v1::UpdateSettingsResponse response;
    const grpc::Status status =
        settings_->UpdateSettings(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  Impact MustUpdate(const std::string& source, int days, bool dry_run = false,
                    std::optional<absl::Time> effective_at = std::nullopt) {
    v1::UpdateSettingsResponse response;
    grpc::Status status =
        Update(source, days, &response, dry_run, effective_at);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.applied(), !dry_run);
    return FromProto(response.impact());
  }

  // Everything a reader can see of the stored state of `customers`.
  std::string Dump(const std::vector<std::string>& customers) {
    grpc::ClientContext context;
    v1::ListCustomersRequest request;
    request.set_page_size(1000);
    v1::ListCustomersResponse response;
    EXPECT_TRUE(customers_->ListCustomers(&context, request, &response).ok());
    std::string dump = response.DebugString();
    for (const std::string& uuid : customers) {
      for (const v1::SubscriptionEvent& e : Events(uuid)) {
        dump += e.DebugString();
      }
      dump += GetCustomer(uuid).DebugString();
    }
    return dump;
  }

  void SetUp() override {
    source_ = CreateSource("Stripe");
    server_.clock().Set(T("2026-01-01"));
    // c1: February unpaid, renewals stop after April.
    c1_ = CreateCustomer(source_, "c1");
    // c2: always paid on time for the whole of 2025.
    c2_ = CreateCustomer(source_, "c2");
    MustImport(c1_, [] {
      auto specs = Monthly("sub-1", T("2025-01-01"), 4);
      specs[1].payments.clear();
      return specs;
    }());
    MustImport(c2_, Monthly("sub-2", T("2025-01-01"), 13));
  }

  std::string source_, c1_, c2_;
};

TEST_F(SettingsReprocessTest, ReversalKeepAuto14Auto30KeepWithExactImpact) {
  const std::string initial = Dump({c1_, c2_});
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE),
              ElementsAre(c1_));

  // KEEP -> AUTO 14: churns at Feb 15 and May 15 (after the missing May
  // renewal); c1 goes from PAST_DUE to CANCELLED.
  EXPECT_THAT(MustUpdate(source_, 14), ImpactIs(2, 0, 2, 1));
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_CANCELLED),
              ElementsAre(c1_));
  EXPECT_THAT(
      EventStrings(c1_, T("2025-12-31")),
      ElementsAre(
          "STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
          "AUTO_CHURNED@2025-02-15T00:00:00", "REACTIVATED@2025-03-01T00:00:00",
          "PAST_DUE@2025-05-01T00:00:00", "AUTO_CHURNED@2025-05-15T00:00:00"));

  // AUTO 14 -> AUTO 30: both churns move (Feb 1 + 30 days = Mar 3, then
  // reactivated Apr 1; May 1 + 30 days = May 31); c1 stays CANCELLED.
  EXPECT_THAT(MustUpdate(source_, 30), ImpactIs(2, 2, 2, 0));
  EXPECT_THAT(
      EventStrings(c1_, T("2025-12-31")),
      ElementsAre(
          "STARTED@2025-01-01T00:00:00", "PAST_DUE@2025-02-01T00:00:00",
          "AUTO_CHURNED@2025-03-03T00:00:00", "REACTIVATED@2025-04-01T00:00:00",
          "PAST_DUE@2025-05-01T00:00:00", "AUTO_CHURNED@2025-05-31T00:00:00"));

  // Back to KEEP: every churn is reversed and the state is the initial one.
  EXPECT_THAT(MustUpdate(source_, 0), ImpactIs(2, 2, 0, 1));
  EXPECT_EQ(Dump({c1_, c2_}), initial);
}

TEST_F(SettingsReprocessTest, DryRunPreviewsTheSameImpactAndChangesNothing) {
  const std::string before = Dump({c1_, c2_});
  EXPECT_THAT(MustUpdate(source_, 14, /*dry_run=*/true), ImpactIs(2, 0, 2, 1));
  EXPECT_EQ(Dump({c1_, c2_}), before);
  grpc::ClientContext context;
  v1::GetSettingsRequest request;
  request.set_data_source_uuid(source_);
  v1::SourceSettings settings;
  ASSERT_TRUE(settings_->GetSettings(&context, request, &settings).ok());
  EXPECT_EQ(settings.version(), 1);
  EXPECT_THAT(MustUpdate(source_, 14), ImpactIs(2, 0, 2, 1));
}

TEST_F(SettingsReprocessTest, EffectiveAtDecidesWhichResolvedCasesChurn) {
  // c3: a renewal gap Feb 1 .. Mar 10, resolved by the renewal (R6 b).
  const std::string c3 = CreateCustomer(source_, "c3");
  MustImport(c3, {{"jan",
                   "sub-3",
                   T("2025-01-01"),
                   T("2025-02-01"),
                   4900,
                   T("2025-01-01"),
                   {Payment{T("2025-01-01")}}},
                  {"mar",
                   "sub-3",
                   T("2025-03-10"),
                   T("2026-03-10"),
                   4900,
                   T("2025-03-10"),
                   {Payment{T("2025-03-10")}}}});
  // Effective before the gap: the gap churns (Feb 15) with c1's two churns.
  EXPECT_THAT(MustUpdate(source_, 14, false, T("2025-01-15")),
              ImpactIs(3, 0, 3, 1));
  EXPECT_EQ(StatusAt(c3, T("2025-02-20")), v1::SUBSCRIPTION_STATUS_CANCELLED);
  // The same settings effective now: the gap had been resolved by then and
  // no longer churns; c1's stretches were still running and keep theirs.
  EXPECT_THAT(MustUpdate(source_, 14, false, T("2026-01-01")),
              ImpactIs(3, 1, 0, 0));
  EXPECT_EQ(StatusAt(c3, T("2025-02-20")), v1::SUBSCRIPTION_STATUS_PAST_DUE);
}

TEST_F(SettingsReprocessTest, HistoryKeepsEveryVersionWithItsImpact) {
  MustUpdate(source_, 14);
  v1::UpdateSettingsResponse response;
  ASSERT_TRUE(Update(source_, 14, &response).ok());  // the same: a no-op
  EXPECT_FALSE(response.applied());
  EXPECT_EQ(response.settings().version(), 2);
  EXPECT_THAT(FromProto(response.impact()), ImpactIs(0, 0, 0, 0));

  grpc::ClientContext context;
  v1::ListSettingsHistoryRequest request;
  request.set_data_source_uuid(source_);
  v1::ListSettingsHistoryResponse history;
  ASSERT_TRUE(settings_->ListSettingsHistory(&context, request, &history).ok());
  ASSERT_EQ(history.versions_size(), 2);
  EXPECT_THAT(FromProto(history.versions(0).impact()), ImpactIs(0, 0, 0, 0));
  EXPECT_THAT(FromProto(history.versions(1).impact()), ImpactIs(2, 0, 2, 1));
}

TEST_F(SettingsReprocessTest, ReprocessDataSourceBringsStaleStatusesUpToDate) {
  // Stored statuses were computed at import (2026-01-01); two months later,
  // with no re-evaluator running in tests, they are stale.
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE),
              ElementsAre(c1_));
  server_.clock().Set(T("2026-03-01"));  // c2's renewals stopped in 2026-02
  grpc::ClientContext context;
  v1::ReprocessDataSourceRequest request;
  request.set_data_source_uuid(source_);
  v1::ReprocessDataSourceResponse response;
  ASSERT_TRUE(
      settings_->ReprocessDataSource(&context, request, &response).ok());
  EXPECT_EQ(response.impact().customers_reprocessed(), 2);
  EXPECT_EQ(response.impact().auto_churns_applied(), 0);
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE),
              ElementsAre(c1_, c2_));

  grpc::ClientContext missing;
  request.set_data_source_uuid("ds_missingmissingmissin");
  EXPECT_EQ(
      settings_->ReprocessDataSource(&missing, request, &response).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(SettingsReprocessTest, OnlyTheChangedSourceIsReprocessed) {
  const std::string other = CreateSource("Other");
  const std::string c4 = CreateCustomer(other, "c4");
  auto specs = Monthly("sub-4", T("2025-01-01"), 2);
  specs[1].payments.clear();
  MustImport(c4, specs);
  EXPECT_THAT(MustUpdate(source_, 14), ImpactIs(2, 0, 2, 1));
  EXPECT_THAT(ListCustomerUuids(v1::CUSTOMER_STATUS_PAST_DUE), ElementsAre(c4));
  EXPECT_THAT(EventStrings(c4, T("2025-12-31")),
              ElementsAre("STARTED@2025-01-01T00:00:00",
                          "PAST_DUE@2025-02-01T00:00:00"));
}

// "customer/subscription BEFORE->AFTER +added -removed" (dates).
std::vector<std::string> Describe(const v1::UpdateSettingsResponse& response) {
  const auto dates = [](const auto& instants) {
    std::string out;
    for (const google::protobuf::Timestamp& t : instants) {
      if (!out.empty()) out += ",";
      out += absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(t.seconds()),
                              absl::UTCTimeZone());
    }
    return out;
  };
  std::vector<std::string> out;
  for (const v1::SubscriptionChange& c : response.changes()) {
    out.push_back(absl::StrCat(
        c.customer_external_id(), "/", c.subscription_external_id(), " ",
        v1::SubscriptionStatus_Name(c.status_before()), "->",
        v1::SubscriptionStatus_Name(c.status_after()), " +",
        dates(c.auto_churns_added()), " -", dates(c.auto_churns_removed())));
  }
  return out;
}

TEST_F(SettingsReprocessTest, ListChangesNamesEachChangedSubscription) {
  const v1::UpdateSettingsResponse preview =
      MustList(source_, 14, /*dry_run=*/true);
  EXPECT_FALSE(preview.applied());
  EXPECT_THAT(FromProto(preview.impact()), ImpactIs(2, 0, 2, 1));
  EXPECT_THAT(Describe(preview),
              ElementsAre("c1/sub-1 SUBSCRIPTION_STATUS_PAST_DUE->"
                          "SUBSCRIPTION_STATUS_CANCELLED +2025-02-15,"
                          "2025-05-15 -"));
  EXPECT_EQ(preview.changes_not_listed(), 0);
  ASSERT_EQ(preview.changes_size(), 1);
  EXPECT_EQ(preview.changes(0).customer_uuid(), c1_);
  EXPECT_EQ(preview.changes(0).subscription_uuid(),
            Subscription(c1_, T("2025-03-01")).uuid());
  // The proposed record: the version the change would be saved as.
  EXPECT_EQ(preview.settings().data_source_uuid(), source_);
  EXPECT_EQ(preview.settings().version(), 2);
  EXPECT_EQ(preview.settings().past_due_handling().mode(),
            v1::PAST_DUE_MODE_AUTO_CHURN);
  EXPECT_EQ(preview.settings().past_due_handling().auto_churn_after_days(), 14);
  EXPECT_EQ(preview.settings().applied_at().seconds(),
            absl::ToUnixSeconds(T("2026-01-01")));
  EXPECT_EQ(GetSettings(source_).version(), 1);

  // Applied, the same list and the saved version.
  const v1::UpdateSettingsResponse applied =
      MustList(source_, 14, /*dry_run=*/false);
  EXPECT_TRUE(applied.applied());
  EXPECT_EQ(Describe(applied), Describe(preview));
  EXPECT_EQ(applied.changes(0).subscription_uuid(),
            preview.changes(0).subscription_uuid());
  EXPECT_EQ(applied.settings().version(), 2);
  EXPECT_THAT(FromProto(applied.impact()), ImpactIs(2, 0, 2, 1));

  // X=14 -> X=30: both churns move; the status now stays CANCELLED.
  const v1::UpdateSettingsResponse moved =
      MustList(source_, 30, /*dry_run=*/true);
  EXPECT_THAT(FromProto(moved.impact()), ImpactIs(2, 2, 2, 0));
  EXPECT_THAT(Describe(moved),
              ElementsAre("c1/sub-1 SUBSCRIPTION_STATUS_CANCELLED->"
                          "SUBSCRIPTION_STATUS_CANCELLED +2025-03-03,"
                          "2025-05-31 -2025-02-15,2025-05-15"));

  // The same settings again: a no-op lists nothing and shows the current
  // settings.
  const v1::UpdateSettingsResponse noop =
      MustList(source_, 14, /*dry_run=*/false);
  EXPECT_FALSE(noop.applied());
  EXPECT_EQ(noop.settings().version(), 2);
  EXPECT_EQ(noop.changes_size(), 0);
  EXPECT_EQ(noop.changes_not_listed(), 0);
}

TEST_F(SettingsReprocessTest,
       ListedChangesAreOrderedByCustomerAndSubscription) {
  // Three more customers, each with two subscriptions unpaid in February.
  for (const std::string id : {"c3", "c4", "c5"}) {
    const std::string customer = CreateCustomer(source_, id);
    auto specs = Monthly(id + "-a", T("2025-01-01"), 12);
    specs[1].payments.clear();
    auto more = Monthly(id + "-b", T("2025-01-01"), 12);
    more[1].payments.clear();
    for (InvoiceSpec& spec : more) {
      spec.external_id += "-b";
      specs.push_back(spec);
    }
    MustImport(customer, specs);
  }
  const v1::UpdateSettingsResponse response =
      MustList(source_, 14, /*dry_run=*/true);
  ASSERT_EQ(response.changes_size(), 7);
  int64_t added = 0;
  for (int i = 0; i < response.changes_size(); ++i) {
    const v1::SubscriptionChange& c = response.changes(i);
    added += c.auto_churns_added_size();
    if (i == 0) continue;
    const v1::SubscriptionChange& p = response.changes(i - 1);
    EXPECT_LT(std::tie(p.customer_uuid(), p.subscription_uuid()),
              std::tie(c.customer_uuid(), c.subscription_uuid()));
  }
  EXPECT_EQ(added, response.impact().auto_churns_applied());
  EXPECT_EQ(response.changes_not_listed(), 0);
}

TEST_F(SettingsReprocessTest, WithoutListChangesNothingIsListed) {
  v1::UpdateSettingsResponse response;
  ASSERT_TRUE(Update(source_, 14, &response, /*dry_run=*/true).ok());
  EXPECT_THAT(FromProto(response.impact()), ImpactIs(2, 0, 2, 1));
  EXPECT_EQ(response.changes_size(), 0);
  EXPECT_EQ(response.changes_not_listed(), 0);
}

}  // namespace
}  // namespace recurrent::service::testing
