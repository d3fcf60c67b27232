// Store tests (every backend): customers, their external ids, tags, listing and
// concurrency.
#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "core/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/store_test.h"
#include "tests/testing/status_matchers.h"

namespace recurrent::core::testing {
namespace {

using ::recurrent::testing::IsOk;
using ::recurrent::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

TEST_P(StoreTest, CreateCustomerStoresEveryField) {
  const DataSource source = NewSource("s");
  Customer input;
  input.uuid = "cus_ignored";
  input.data_source_uuid = source.uuid;
  input.external_id = "ext-1";
  input.external_ids = {{"ds_ignored", "ignored"}};
  input.name = "Ada";
  input.email = "ada@example.com";
  input.company = "Engines Ltd";
  input.country = "GB";
  input.state = "London";
  input.city = "London";
  input.zip = "N1";
  input.lead_created_at = absl::FromUnixSeconds(1'600'000'000);
  input.free_trial_started_at = absl::FromUnixMicros(1'600'000'100'000'123);
  input.status = CustomerStatus::kActive;  // ignored
  input.tags = {"ignored"};
  const absl::Time now = Tick();
  ASSERT_OK_AND_ASSIGN(Customer created, store_->CreateCustomer(input, now));
  EXPECT_THAT(created.uuid, ::testing::StartsWith("cus_"));
  EXPECT_NE(created.uuid, "cus_ignored");
  EXPECT_EQ(created.status, CustomerStatus::kLead);
  EXPECT_THAT(created.tags, IsEmpty());
  EXPECT_THAT(created.external_ids,
              ElementsAre(ExternalId{source.uuid, "ext-1"}));
  EXPECT_EQ(created.created_at, now);
  EXPECT_EQ(created.updated_at, now);

  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(created.uuid));
  EXPECT_EQ(got.uuid, created.uuid);
  EXPECT_EQ(got.data_source_uuid, source.uuid);
  EXPECT_EQ(got.external_id, "ext-1");
  EXPECT_THAT(got.external_ids, ElementsAre(ExternalId{source.uuid, "ext-1"}));
  EXPECT_EQ(got.name, "Ada");
  EXPECT_EQ(got.email, "ada@example.com");
  EXPECT_EQ(got.company, "Engines Ltd");
  EXPECT_EQ(got.country, "GB");
  EXPECT_EQ(got.state, "London");
  EXPECT_EQ(got.city, "London");
  EXPECT_EQ(got.zip, "N1");
  EXPECT_EQ(got.lead_created_at, input.lead_created_at);
  EXPECT_EQ(got.free_trial_started_at, input.free_trial_started_at);
  EXPECT_EQ(got.status, CustomerStatus::kLead);
  EXPECT_EQ(got.created_at, now);
  EXPECT_EQ(got.updated_at, now);
}

TEST_P(StoreTest, UnsetOptionalTimesStayUnset) {
  const DataSource source = NewSource("s");
  const Customer created = NewCustomer(source.uuid, "x");
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(created.uuid));
  EXPECT_EQ(got.lead_created_at, std::nullopt);
  EXPECT_EQ(got.free_trial_started_at, std::nullopt);
}

TEST_P(StoreTest, CreateCustomerInUnknownSourceIsNotFound) {
  Customer input;
  input.data_source_uuid = "ds_missing";
  input.external_id = "x";
  EXPECT_THAT(store_->CreateCustomer(input, Tick()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ds_missing")));
  EXPECT_THAT(ListAll({}), IsEmpty());
}

TEST_P(StoreTest, ExternalIdsAreUniquePerSource) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer first = NewCustomer(a.uuid, "ext-1");
  Customer duplicate;
  duplicate.data_source_uuid = a.uuid;
  duplicate.external_id = "ext-1";
  const absl::StatusOr<Customer> rejected =
      store_->CreateCustomer(duplicate, Tick());
  EXPECT_THAT(rejected, StatusIs(absl::StatusCode::kAlreadyExists,
                                 AllOf(HasSubstr("ext-1"), HasSubstr(a.uuid))));
  EXPECT_THAT(rejected.status().message(), Not(HasSubstr("INSERT")));
  EXPECT_THAT(ListUuids({}), ElementsAre(first.uuid));  // nothing changed
  // The same external id in another source is another customer.
  const Customer other = NewCustomer(b.uuid, "ext-1");
  EXPECT_NE(other.uuid, first.uuid);
}

TEST_P(StoreTest, MergedExternalIdsStayUnique) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer from = NewCustomer(b.uuid, "b-1");
  const Customer into = NewCustomer(a.uuid, "a-1");
  ASSERT_OK(store_->MergeCustomers(from.uuid, into.uuid, Tick()));
  Customer again;
  again.data_source_uuid = b.uuid;
  again.external_id = "b-1";
  EXPECT_THAT(store_->CreateCustomer(again, Tick()),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_P(StoreTest, MergeRefusesMoreTagsThanTheLimit) {
  const DataSource a = NewSource("a");
  const Customer from = NewCustomer(a.uuid, "a-1");
  const Customer into = NewCustomer(a.uuid, "a-2");
  std::vector<std::string> from_tags, into_tags;
  for (int i = 0; i < kMaxTagsPerCustomer; ++i) {
    from_tags.push_back("from-" + std::to_string(i));
    into_tags.push_back("into-" + std::to_string(i));
  }
  into_tags.back() = "from-0";  // a shared tag counts once
  ASSERT_OK(store_->AddCustomerTags(from.uuid, from_tags, Tick()));
  ASSERT_OK(store_->AddCustomerTags(into.uuid, into_tags, Tick()));
  const absl::Status refused =
      store_->MergeCustomers(from.uuid, into.uuid, Tick()).status();
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                AllOf(HasSubstr("at most 100 tags"),
                                      HasSubstr("this merge would make 199"))));
  EXPECT_EQ(common::ReasonOf(refused), "TAG_LIMIT");
  // Nothing merged.
  ASSERT_OK_AND_ASSIGN(const Customer still, store_->GetCustomer(from.uuid));
  EXPECT_EQ(still.tags.size(), from_tags.size());
  ASSERT_OK_AND_ASSIGN(const Customer target, store_->GetCustomer(into.uuid));
  EXPECT_EQ(target.tags.size(), into_tags.size());
  EXPECT_EQ(target.external_ids.size(), 1u);

  // Within the limit once the target drops its own tags.
  into_tags.pop_back();  // keep the shared "from-0"
  ASSERT_OK(store_->RemoveCustomerTags(into.uuid, into_tags, Tick()));
  ASSERT_OK_AND_ASSIGN(const Customer merged,
                       store_->MergeCustomers(from.uuid, into.uuid, Tick()));
  EXPECT_EQ(merged.tags.size(), static_cast<size_t>(kMaxTagsPerCustomer));
}

TEST_P(StoreTest, UpdateCustomerChangesWritableFieldsOnly) {
  const DataSource source = NewSource("s");
  const Customer created = NewCustomer(source.uuid, "x", "old@example.com");
  const absl::Time later = Tick();
  ASSERT_OK_AND_ASSIGN(Customer updated,
                       store_->UpdateCustomer(
                           created.uuid,
                           [&](Customer& c) {
                             c.name = "New";
                             c.email = "new@example.com";
                             c.company = "Co";
                             c.country = "FR";
                             c.state = "IDF";
                             c.city = "Paris";
                             c.zip = "75001";
                             c.lead_created_at = absl::FromUnixSeconds(100);
                             c.free_trial_started_at =
                                 absl::FromUnixSeconds(200);
                             // Not writable: ignored.
                             c.uuid = "cus_other";
                             c.data_source_uuid = "ds_other";
                             c.external_id = "other";
                             c.status = CustomerStatus::kCancelled;
                             c.tags = {"sneaky"};
                             c.created_at = absl::UnixEpoch();
                             return absl::OkStatus();
                           },
                           later));
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(created.uuid));
  for (const Customer& c : {updated, got}) {
    EXPECT_EQ(c.uuid, created.uuid);
    EXPECT_EQ(c.name, "New");
    EXPECT_EQ(c.email, "new@example.com");
    EXPECT_EQ(c.company, "Co");
    EXPECT_EQ(c.country, "FR");
    EXPECT_EQ(c.state, "IDF");
    EXPECT_EQ(c.city, "Paris");
    EXPECT_EQ(c.zip, "75001");
    EXPECT_EQ(c.lead_created_at, absl::FromUnixSeconds(100));
    EXPECT_EQ(c.free_trial_started_at, absl::FromUnixSeconds(200));
    EXPECT_EQ(c.data_source_uuid, source.uuid);
    EXPECT_EQ(c.external_id, "x");
    EXPECT_EQ(c.status, CustomerStatus::kLead);
    EXPECT_THAT(c.tags, IsEmpty());
    EXPECT_EQ(c.created_at, created.created_at);
    EXPECT_EQ(c.updated_at, later);
  }
  // Clearing an optional time stores NULL.
  ASSERT_OK_AND_ASSIGN(Customer cleared, store_->UpdateCustomer(
                                             created.uuid,
                                             [](Customer& c) {
                                               c.lead_created_at.reset();
                                               return absl::OkStatus();
                                             },
                                             Tick()));
  EXPECT_EQ(cleared.lead_created_at, std::nullopt);
  EXPECT_THAT(store_->GetCustomer("cus_other"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, FailingMutationChangesNothing) {
  const DataSource source = NewSource("s");
  const Customer created = NewCustomer(source.uuid, "x", "keep@example.com");
  EXPECT_THAT(store_->UpdateCustomer(
                  created.uuid,
                  [](Customer& c) {
                    c.email = "changed@example.com";
                    return absl::InvalidArgumentError("customer.country");
                  },
                  Tick()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq("customer.country")));
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(created.uuid));
  EXPECT_EQ(got.email, "keep@example.com");
  EXPECT_EQ(got.updated_at, created.updated_at);
  EXPECT_THAT(
      store_->UpdateCustomer(
          "cus_missing", [](Customer&) { return absl::OkStatus(); }, Tick()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_missing")));
}

TEST_P(StoreTest, DeleteCustomerFreesItsExternalIds) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "x");
  const Customer other = NewCustomer(source.uuid, "y");
  ASSERT_OK(store_->AddCustomerTags(customer.uuid, {"t"}, Tick()));
  ASSERT_OK(store_->DeleteCustomer(customer.uuid, Tick()));
  EXPECT_THAT(store_->GetCustomer(customer.uuid),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(customer.uuid)));
  EXPECT_THAT(store_->DeleteCustomer(customer.uuid, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ListUuids(BySource(source.uuid)), ElementsAre(other.uuid));
  const Customer again = NewCustomer(source.uuid, "x");
  EXPECT_NE(again.uuid, customer.uuid);
  EXPECT_THAT(again.tags, IsEmpty());
}

TEST_P(StoreTest, GetUnknownCustomerIsNotFound) {
  EXPECT_THAT(store_->GetCustomer("cus_nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cus_nope")));
  EXPECT_THAT(store_->AddCustomerTags("cus_nope", {"a"}, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->RemoveCustomerTags("cus_nope", {"a"}, Tick()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(StoreTest, TagsAreSortedUniqueAndIdempotent) {
  const DataSource source = NewSource("s");
  const Customer customer = NewCustomer(source.uuid, "x");
  const absl::Time when = Tick();
  ASSERT_OK_AND_ASSIGN(
      Customer tagged,
      store_->AddCustomerTags(customer.uuid, {"vip", "beta", "vip"}, when));
  EXPECT_THAT(tagged.tags, ElementsAre("beta", "vip"));
  EXPECT_EQ(tagged.updated_at, when);
  ASSERT_OK_AND_ASSIGN(tagged, store_->AddCustomerTags(
                                   customer.uuid, {"alpha", "beta"}, Tick()));
  EXPECT_THAT(tagged.tags, ElementsAre("alpha", "beta", "vip"));
  ASSERT_OK_AND_ASSIGN(tagged, store_->RemoveCustomerTags(
                                   customer.uuid, {"beta", "absent"}, Tick()));
  EXPECT_THAT(tagged.tags, ElementsAre("alpha", "vip"));
  ASSERT_OK_AND_ASSIGN(Customer got, store_->GetCustomer(customer.uuid));
  EXPECT_THAT(got.tags, ElementsAre("alpha", "vip"));
}

TEST_P(StoreTest, ListCustomersFiltersCombine) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer a1 = NewCustomer(a.uuid, "1", "x@example.com");
  const Customer a2 = NewCustomer(a.uuid, "2", "y@example.com");
  const Customer b1 = NewCustomer(b.uuid, "1", "x@example.com");
  const Customer b3 = NewCustomer(b.uuid, "3", "y@example.com");

  EXPECT_THAT(ListUuids({}), ElementsAre(a1.uuid, a2.uuid, b1.uuid, b3.uuid));
  EXPECT_THAT(ListUuids(BySource(a.uuid)), ElementsAre(a1.uuid, a2.uuid));
  EXPECT_THAT(ListUuids(BySource(b.uuid)), ElementsAre(b1.uuid, b3.uuid));
  // An unknown source is an error, not an empty list (as the API has always
  // answered; the check moved from the handler into the core).
  EXPECT_THAT(store_->ListCustomers(BySource("ds_unknown"), {10, ""}),
              StatusIs(absl::StatusCode::kNotFound));
  // External id alone matches in every source.
  EXPECT_THAT(ListUuids(ByExternalId("", "1")), ElementsAre(a1.uuid, b1.uuid));
  EXPECT_THAT(ListUuids(ByExternalId(b.uuid, "1")), ElementsAre(b1.uuid));
  EXPECT_THAT(ListUuids(ByExternalId(a.uuid, "3")), IsEmpty());

  CustomerFilter email;
  email.email = "x@example.com";
  EXPECT_THAT(ListUuids(email), ElementsAre(a1.uuid, b1.uuid));
  email.data_source_uuid = b.uuid;
  EXPECT_THAT(ListUuids(email), ElementsAre(b1.uuid));
  email.external_id = "3";
  EXPECT_THAT(ListUuids(email), IsEmpty());
  email.email = "y@example.com";
  EXPECT_THAT(ListUuids(email), ElementsAre(b3.uuid));
  email.email = "X@example.com";  // exact match
  email.data_source_uuid.clear();
  email.external_id.clear();
  EXPECT_THAT(ListUuids(email), IsEmpty());

  CustomerFilter status;
  status.status = CustomerStatus::kLead;
  EXPECT_THAT(ListUuids(status), SizeIs(4));
  status.status = CustomerStatus::kActive;
  EXPECT_THAT(ListUuids(status), IsEmpty());
  status.status = CustomerStatus::kLead;
  status.data_source_uuid = a.uuid;
  status.email = "y@example.com";
  EXPECT_THAT(ListUuids(status), ElementsAre(a2.uuid));
  status.external_id = "2";
  EXPECT_THAT(ListUuids(status), ElementsAre(a2.uuid));
  status.status = CustomerStatus::kPastDue;
  EXPECT_THAT(ListUuids(status), IsEmpty());
}

TEST_P(StoreTest, ListedCustomersCarryExternalIdsAndTags) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  const Customer c1 = NewCustomer(a.uuid, "1");
  const Customer c2 = NewCustomer(b.uuid, "2");
  const Customer c3 = NewCustomer(a.uuid, "3");
  ASSERT_OK(store_->AddCustomerTags(c1.uuid, {"z", "a"}, Tick()));
  ASSERT_OK(store_->AddCustomerTags(c3.uuid, {"m"}, Tick()));
  ASSERT_OK(store_->MergeCustomers(c2.uuid, c3.uuid, Tick()));
  const std::vector<Customer> all = ListAll({}, 1);
  ASSERT_THAT(all, SizeIs(2));
  EXPECT_EQ(all[0].uuid, c1.uuid);
  EXPECT_THAT(all[0].tags, ElementsAre("a", "z"));
  EXPECT_THAT(all[0].external_ids, ElementsAre(ExternalId{a.uuid, "1"}));
  EXPECT_EQ(all[1].uuid, c3.uuid);
  EXPECT_THAT(all[1].tags, ElementsAre("m"));
  EXPECT_THAT(all[1].external_ids,
              ElementsAre(ExternalId{a.uuid, "3"}, ExternalId{b.uuid, "2"}));
}

TEST_P(StoreTest, PaginationSurvivesInsertsAndDeletes) {
  const DataSource a = NewSource("a");
  const DataSource b = NewSource("b");
  std::vector<std::string> expected;
  for (int i = 0; i < 23; ++i) {
    // Interleave sources so that the source filter skips rows.
    const Customer c =
        NewCustomer(i % 3 == 0 ? b.uuid : a.uuid, absl::StrCat("c", i));
    if (i % 3 != 0) expected.push_back(c.uuid);
  }
  std::vector<std::string> seen;
  std::set<std::string> deleted;
  PageRequest request;
  request.page_size = 4;
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(Page<Customer> page,
                         store_->ListCustomers(BySource(a.uuid), request));
    ASSERT_LE(page.items.size(), 4u);
    for (const Customer& c : page.items) seen.push_back(c.uuid);
    ++pages;
    if (page.next_page_token.empty()) break;
    request.page_token = page.next_page_token;
    // Between pages: insert into both sources, delete a row not yet seen.
    const Customer added = NewCustomer(a.uuid, absl::StrCat("late", pages));
    expected.push_back(added.uuid);
    NewCustomer(b.uuid, absl::StrCat("late", pages));
    const std::set<std::string> seen_set(seen.begin(), seen.end());
    int unseen = 0;
    for (const std::string& uuid : expected) {
      if (seen_set.count(uuid) > 0 || deleted.count(uuid) > 0) continue;
      if (++unseen == 2) {  // the second row of the next page
        ASSERT_OK(store_->DeleteCustomer(uuid, Tick()));
        deleted.insert(uuid);
        break;
      }
    }
    ASSERT_LT(pages, 100) << "pagination does not terminate";
  }
  std::vector<std::string> want;
  for (const std::string& uuid : expected) {
    if (deleted.count(uuid) == 0) want.push_back(uuid);
  }
  EXPECT_EQ(seen, want);  // no duplicates, no misses, creation order
  EXPECT_GT(pages, 3);
}

TEST_P(StoreTest, PageTokensAreBoundToTheirQuery) {
  const DataSource a = NewSource("a");
  for (int i = 0; i < 3; ++i) NewCustomer(a.uuid, absl::StrCat(i), "e@x.io");
  PageRequest request;
  request.page_size = 1;
  CustomerFilter filter;
  filter.email = "e@x.io";
  ASSERT_OK_AND_ASSIGN(Page<Customer> first,
                       store_->ListCustomers(filter, request));
  ASSERT_THAT(first.next_page_token, Not(IsEmpty()));
  request.page_token = first.next_page_token;
  EXPECT_OK(store_->ListCustomers(filter, request));

  CustomerFilter other = filter;
  other.email = "f@x.io";
  EXPECT_THAT(
      store_->ListCustomers(other, request),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  other = filter;
  other.status = CustomerStatus::kLead;
  EXPECT_THAT(store_->ListCustomers(other, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->ListCustomers({}, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A data sources token is not a customers token either.
  NewSource("b");
  PageRequest sources_request;
  sources_request.page_size = 1;
  ASSERT_OK_AND_ASSIGN(Page<DataSource> sources,
                       store_->ListDataSources(sources_request));
  request.page_token = sources.next_page_token;
  EXPECT_THAT(store_->ListCustomers({}, request),
              StatusIs(absl::StatusCode::kInvalidArgument));

  for (const char* bad : {"garbage", "AAAA", "!!!", "eyJpZCI6MX0"}) {
    request.page_token = bad;
    EXPECT_THAT(
        store_->ListCustomers(filter, request),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")))
        << bad;
  }
  // Truncated or extended real tokens are rejected too.
  request.page_token = first.next_page_token.substr(1);
  EXPECT_THAT(store_->ListCustomers(filter, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
  request.page_token = first.next_page_token + "AA";
  EXPECT_THAT(store_->ListCustomers(filter, request),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_P(StoreTest, ConcurrentReadersAndWriters) {
  const DataSource source = NewSource("busy");
  for (int i = 0; i < 10; ++i)
    NewCustomer(source.uuid, absl::StrCat("seed", i));
  constexpr int kWriters = 3;
  constexpr int kReaders = 6;  // more than a small reader pool
  constexpr int kPerWriter = 40;
  std::atomic<int> errors{0};
  std::atomic<bool> writers_done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        Customer c;
        c.data_source_uuid = source.uuid;
        c.external_id = absl::StrCat("w", w, "-", i);
        absl::StatusOr<Customer> created =
            store_->CreateCustomer(c, absl::FromUnixSeconds(i));
        if (!created.ok()) {
          ++errors;
          ADD_FAILURE() << created.status();
          continue;
        }
        absl::Status tagged = store_
                                  ->AddCustomerTags(created->uuid, {"t"},
                                                    absl::FromUnixSeconds(i))
                                  .status();
        if (!tagged.ok()) {
          ++errors;
          ADD_FAILURE() << tagged;
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      int rounds = 0;
      while (!writers_done.load() || rounds < 3) {
        ++rounds;
        PageRequest request;
        request.page_size = 7;
        size_t previous_count = 0;
        while (true) {
          absl::StatusOr<Page<Customer>> page =
              store_->ListCustomers(BySource(source.uuid), request);
          if (!page.ok()) {
            ++errors;
            ADD_FAILURE() << page.status();
            break;
          }
          previous_count += page->items.size();
          for (const Customer& c : page->items) {
            if (c.external_ids.size() != 1) {
              ++errors;
              ADD_FAILURE() << "customer without its external id";
            }
          }
          if (page->next_page_token.empty()) break;
          request.page_token = page->next_page_token;
        }
        if (previous_count < 10) {
          ++errors;
          ADD_FAILURE() << "lost seeded customers";
        }
        if (!store_->GetDataSource(source.uuid).ok()) ++errors;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writers_done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_THAT(ListAll(BySource(source.uuid)),
              SizeIs(10 + kWriters * kPerWriter));
}

}  // namespace
}  // namespace recurrent::core::testing
