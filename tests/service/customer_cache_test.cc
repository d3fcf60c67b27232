// CustomerCache (service/customer_cache.h): the cache alone, then GetCustomer
// through a real server compared, after every kind of write and as time
// passes, with a fresh evaluation of the stored facts.
#include "service/customer_cache.h"

#include <array>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/evaluator.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "service/convert.h"
#include "tests/service/api_fixture.h"
#include "tests/testing/backends.h"

namespace recurrent::service::testing {
namespace {

v1::Customer Named(const std::string& uuid, const std::string& name) {
  v1::Customer customer;
  customer.set_uuid(uuid);
  customer.set_name(name);
  return customer;
}

// Change-log rows reporting that these customers changed.
std::vector<persistence::ChangeRow> Changed(std::vector<std::string> uuids) {
  std::vector<persistence::ChangeRow> changes;
  for (std::string& uuid : uuids) {
    persistence::ChangeRow& row = changes.emplace_back();
    row.kind = persistence::ChangeKind::kCustomerChanged;
    row.customer_uuid = std::move(uuid);
  }
  return changes;
}

// A change-log row reporting that a source's settings changed: every
// customer with facts in it may have changed.
std::vector<persistence::ChangeRow> SourceChanged(const std::string& uuid) {
  std::vector<persistence::ChangeRow> changes(1);
  changes[0].kind = persistence::ChangeKind::kSourceChanged;
  changes[0].data_source_uuid = uuid;
  return changes;
}

const absl::Time kT0 = absl::FromUnixSeconds(1735689600);

// The source every customer below has its facts in, unless it says otherwise.
const std::vector<std::string> kSources = {"ds_1"};

TEST(CustomerCacheTest, AnEntryIsValidFromItsInstantUntilItsTransition) {
  CustomerCache cache(1 << 20);
  v1::Customer out;
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "Ada"), kSources, kT0,
             kT0 + absl::Hours(1));
  EXPECT_FALSE(cache.Lookup("cus_1", kT0 - absl::Seconds(1), &out));
  ASSERT_TRUE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_EQ(out.name(), "Ada");
  ASSERT_TRUE(cache.Lookup("cus_1",
                           kT0 + absl::Hours(1) - absl::Microseconds(1), &out));
  EXPECT_FALSE(cache.Lookup("cus_1", kT0 + absl::Hours(1), &out));
  EXPECT_FALSE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_EQ(cache.stats().hits, 2);
  EXPECT_EQ(cache.stats().misses, 4);
}

TEST(CustomerCacheTest, AChangeDropsTheCustomerOnly) {
  CustomerCache cache(1 << 20);
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "Ada"), kSources, kT0,
             absl::InfiniteFuture());
  cache.Fill(cache.BeginFill("cus_2"), Named("cus_2", "Bob"), kSources, kT0,
             absl::InfiniteFuture());
  cache.Invalidate(Changed({"cus_1"}));
  v1::Customer out;
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_TRUE(cache.Lookup("cus_2", kT0, &out));

  cache.Invalidate(SourceChanged("ds_1"));
  EXPECT_FALSE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_EQ(cache.stats().bytes, 0);
}

TEST(CustomerCacheTest, AFillAfterAChangeOfItsCustomerIsIgnored) {
  CustomerCache cache(1 << 20);
  // The read began, then a write committed and was reported, then the read
  // (which may have seen the old state) tries to fill.
  const CustomerCache::Ticket stale = cache.BeginFill("cus_1");
  cache.Invalidate(Changed({"cus_1"}));
  cache.Fill(stale, Named("cus_1", "old"), kSources, kT0,
             absl::InfiniteFuture());
  v1::Customer out;
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));

  const CustomerCache::Ticket before_source = cache.BeginFill("cus_1");
  cache.Invalidate(SourceChanged("ds_1"));
  cache.Fill(before_source, Named("cus_1", "old"), kSources, kT0,
             absl::InfiniteFuture());
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));

  // A ticket taken after the change fills.
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "new"), kSources, kT0,
             absl::InfiniteFuture());
  ASSERT_TRUE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_EQ(out.name(), "new");
}

TEST(CustomerCacheTest, ClearDropsEveryEntryAndVoidsEveryTicket) {
  CustomerCache cache(1 << 20);
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "Ada"), kSources, kT0,
             absl::InfiniteFuture());
  const CustomerCache::Ticket before = cache.BeginFill("cus_2");
  cache.Clear();
  cache.Fill(before, Named("cus_2", "Bob"), kSources, kT0,
             absl::InfiniteFuture());
  v1::Customer out;
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_FALSE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_EQ(cache.stats().entries, 0);
  EXPECT_EQ(cache.stats().bytes, 0);
  // Tickets taken after it fill as usual.
  cache.Fill(cache.BeginFill("cus_2"), Named("cus_2", "Bob"), kSources, kT0,
             absl::InfiniteFuture());
  ASSERT_TRUE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_EQ(out.name(), "Bob");
}

TEST(CustomerCacheTest, ASourceChangeDropsOnlyTheCustomersWithFactsInIt) {
  CustomerCache cache(1 << 20);
  const std::vector<std::string> one = {"ds_1"}, two = {"ds_2"},
                                 both = {"ds_1", "ds_2"};
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "Ada"), one, kT0,
             absl::InfiniteFuture());
  cache.Fill(cache.BeginFill("cus_2"), Named("cus_2", "Bob"), two, kT0,
             absl::InfiniteFuture());
  cache.Fill(cache.BeginFill("cus_3"), Named("cus_3", "Cy"), both, kT0,
             absl::InfiniteFuture());
  // Reads that began before ds_2 changed, filling after it.
  const CustomerCache::Ticket before_1 = cache.BeginFill("cus_4");
  const CustomerCache::Ticket before_2 = cache.BeginFill("cus_5");
  cache.Invalidate(SourceChanged("ds_2"));

  v1::Customer out;
  EXPECT_TRUE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_FALSE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_FALSE(cache.Lookup("cus_3", kT0, &out));
  EXPECT_EQ(cache.stats().entries, 1);
  // Read under ds_1's settings only: still exact.
  cache.Fill(before_1, Named("cus_4", "Di"), one, kT0, absl::InfiniteFuture());
  EXPECT_TRUE(cache.Lookup("cus_4", kT0, &out));
  // Read under ds_2's old settings: ignored.
  cache.Fill(before_2, Named("cus_5", "Ed"), both, kT0, absl::InfiniteFuture());
  EXPECT_FALSE(cache.Lookup("cus_5", kT0, &out));
}

TEST(CustomerCacheTest, TheLeastRecentlyUsedGoFirstWhenFull) {
  // Room for about three entries.
  const v1::Customer probe = Named("cus_0", std::string(200, 'x'));
  CustomerCache sizing(1 << 20);
  sizing.Fill(sizing.BeginFill("cus_0"), probe, kSources, kT0,
              absl::InfiniteFuture());
  const size_t one = static_cast<size_t>(sizing.stats().bytes);
  CustomerCache cache(3 * one + one / 2);
  v1::Customer out;
  for (const char* uuid : {"cus_1", "cus_2", "cus_3"}) {
    cache.Fill(cache.BeginFill(uuid), Named(uuid, std::string(200, 'x')),
               kSources, kT0, absl::InfiniteFuture());
  }
  ASSERT_TRUE(cache.Lookup("cus_1", kT0, &out));  // now the most recent
  cache.Fill(cache.BeginFill("cus_4"), Named("cus_4", std::string(200, 'x')),
             kSources, kT0, absl::InfiniteFuture());
  EXPECT_FALSE(cache.Lookup("cus_2", kT0, &out));
  EXPECT_TRUE(cache.Lookup("cus_1", kT0, &out));
  EXPECT_TRUE(cache.Lookup("cus_3", kT0, &out));
  EXPECT_TRUE(cache.Lookup("cus_4", kT0, &out));
  EXPECT_EQ(cache.stats().entries, 3);
  EXPECT_LE(static_cast<size_t>(cache.stats().bytes), 3 * one + one / 2);
}

TEST(CustomerCacheTest, ZeroCapacityCachesNothing) {
  CustomerCache cache(0);
  cache.Fill(cache.BeginFill("cus_1"), Named("cus_1", "Ada"), kSources, kT0,
             absl::InfiniteFuture());
  v1::Customer out;
  EXPECT_FALSE(cache.Lookup("cus_1", kT0, &out));
}

// Writers bump a customer's version in a stand-in for the database and
// report it; readers read through the cache as GetCustomer does. A reader
// that starts after a change was reported must never get an older version.
TEST(CustomerCacheTest,
     ConcurrentReadersNeverSeeAVersionOlderThanTheLastReport) {
  CustomerCache cache(1 << 20);
  constexpr int kCustomers = 4;
  std::array<std::atomic<int>, kCustomers> committed{};  // the "database"
  std::array<std::atomic<int>, kCustomers> reported{};   // changes reported
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, hits{0};
  auto uuid = [](int c) { return "cus_" + std::to_string(c); };

  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int round = 1; round <= 3000 || hits.load() < 1000; ++round) {
      const int c = round % kCustomers;
      committed[c].fetch_add(1);             // commit
      cache.Invalidate(Changed({uuid(c)}));  // then report
      reported[c].store(committed[c].load());
      std::this_thread::yield();
    }
    stop = true;
  });
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      for (int i = r; !stop; ++i) {
        const int c = i % kCustomers;
        const int floor = reported[c].load();
        v1::Customer out;
        if (cache.Lookup(uuid(c), kT0, &out)) {
          ++hits;
          if (std::stoi(out.name()) < floor) ++stale;
          continue;
        }
        const CustomerCache::Ticket ticket = cache.BeginFill(uuid(c));
        const int version = committed[c].load();  // the "snapshot"
        if (version < floor) ++stale;
        cache.Fill(ticket, Named(uuid(c), std::to_string(version)), kSources,
                   kT0, absl::InfiniteFuture());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(hits.load(), 0);
}

// ---- GetCustomer through the server ----------------------------------------

class CachedGetCustomerTest : public ApiTest {
 protected:
  // What GetCustomer must answer now: the stored facts evaluated afresh.
  v1::Customer Fresh(const std::string& uuid) {
    v1::Customer out;
    auto evaluated =
        server_.server().store().EvaluateCustomer(uuid, server_.clock().Now());
    EXPECT_TRUE(evaluated.ok()) << evaluated.status();
    if (evaluated.ok()) {
      EvaluatedCustomerToProto(evaluated->customer, evaluated->evaluation,
                               evaluated->status_reason, &out);
    }
    return out;
  }

  // GetCustomer twice (the second normally from the cache), both equal to a
  // fresh evaluation.
  void ExpectExact(const std::string& uuid, const std::string& when) {
    const v1::Customer fresh = Fresh(uuid);
    for (int i = 0; i < 2; ++i) {
      const v1::Customer served = GetCustomer(uuid);
      EXPECT_TRUE(
          google::protobuf::util::MessageDifferencer::Equals(served, fresh))
          << when << " (read " << i
          << ")\nserved: " << served.ShortDebugString()
          << "\nfresh:  " << fresh.ShortDebugString();
    }
  }

  // Renames `uuid` as another process on the same database would (a second
  // recurrentd): its own backend and core, which share nothing with this
  // server but the database, and tell its cache nothing.
  void RenameElsewhere(const std::string& uuid, const std::string& name) {
    absl::StatusOr<std::unique_ptr<persistence::Backend>> backend =
        ::recurrent::testing::DefaultTestBackend().open(
            server_.db_path().parent_path().string());
    ASSERT_TRUE(backend.ok()) << backend.status();
    core::Store other(backend->get(), core::Store::Options(), nullptr);
    ASSERT_TRUE(other
                    .UpdateCustomer(
                        uuid,
                        [&name](persistence::Customer& c) {
                          c.name = name;
                          return absl::OkStatus();
                        },
                        server_.clock().Now())
                    .ok());
  }

  grpc::Status AddTags(const std::string& uuid, std::vector<std::string> tags,
                       bool remove = false) {
    grpc::ClientContext context;
    v1::Customer out;
    if (remove) {
      v1::RemoveCustomerTagsRequest request;
      request.set_customer_uuid(uuid);
      for (const std::string& tag : tags) request.add_tags(tag);
      return customers_->RemoveCustomerTags(&context, request, &out);
    }
    v1::AddCustomerTagsRequest request;
    request.set_customer_uuid(uuid);
    for (const std::string& tag : tags) request.add_tags(tag);
    return customers_->AddCustomerTags(&context, request, &out);
  }

  grpc::Status Rename(const std::string& uuid, const std::string& name) {
    grpc::ClientContext context;
    v1::UpdateCustomerRequest request;
    request.mutable_customer()->set_uuid(uuid);
    request.mutable_customer()->set_name(name);
    request.mutable_update_mask()->add_paths("name");
    v1::Customer out;
    return customers_->UpdateCustomer(&context, request, &out);
  }

};

TEST_F(CachedGetCustomerTest, EveryKindOfWriteIsSeenByTheNextRead) {
  const std::string source = CreateSource("Stripe");
  const std::string other = CreateSource("Other");
  const std::string customer = CreateCustomer(source, "c1");
  ExpectExact(customer, "created");

  // Three monthly invoices, the last one unpaid and due on 2025-03-01.
  std::vector<InvoiceSpec> specs = Monthly("sub-1", T("2025-01-01"), 3);
  specs[2].payments.clear();
  MustImport(customer, specs);
  ExpectExact(customer, "imported");
  ASSERT_EQ(GetCustomer(customer).status(), v1::CUSTOMER_STATUS_ACTIVE);

  // Time passes the unpaid due date: a transition, no write.
  server_.clock().Set(T("2025-03-02"));
  ExpectExact(customer, "past the due date");
  EXPECT_EQ(GetCustomer(customer).status(), v1::CUSTOMER_STATUS_PAST_DUE);

  SetAutoChurn(source, 14);
  ExpectExact(customer, "auto-churn 14");
  server_.clock().Set(T("2025-03-20"));
  ExpectExact(customer, "auto-churned");
  EXPECT_EQ(GetCustomer(customer).status(), v1::CUSTOMER_STATUS_CANCELLED);
  SetKeep(source);
  ExpectExact(customer, "keep again");
  EXPECT_EQ(GetCustomer(customer).status(), v1::CUSTOMER_STATUS_PAST_DUE);

  const std::vector<v1::Invoice> invoices = ListInvoices(customer);
  ASSERT_EQ(invoices.size(), 3u);
  ASSERT_TRUE(Pay(invoices[2].uuid(), "late-payment", T("2025-03-20")).ok());
  ExpectExact(customer, "paid late");
  EXPECT_EQ(GetCustomer(customer).status(), v1::CUSTOMER_STATUS_ACTIVE);

  ASSERT_TRUE(AddTags(customer, {"vip"}).ok());
  ExpectExact(customer, "tag added");
  ASSERT_TRUE(AddTags(customer, {"vip"}, /*remove=*/true).ok());
  ExpectExact(customer, "tag removed");
  ASSERT_TRUE(Rename(customer, "Ada").ok());
  ExpectExact(customer, "renamed");
  EXPECT_EQ(GetCustomer(customer).name(), "Ada");

  ASSERT_TRUE(DeleteInvoice(invoices[2].uuid()).ok());
  ExpectExact(customer, "invoice deleted");

  const std::string subscription =
      Subscriptions(customer, T("2025-03-20")).at(0).uuid();
  ASSERT_TRUE(Cancel(subscription, T("2025-03-20")).ok());
  ExpectExact(customer, "cancelled");

  const std::string merged = CreateCustomer(other, "o1");
  MustImport(merged, [&] {
    std::vector<InvoiceSpec> more = Monthly("sub-9", T("2025-03-01"), 1);
    for (InvoiceSpec& spec : more) spec.data_source_uuid = other;
    return more;
  }());
  ExpectExact(merged, "other source");
  ASSERT_TRUE(Merge(merged, customer).ok());
  ExpectExact(customer, "merged into");
  EXPECT_EQ(GetCustomer(customer).external_ids_size(), 2);

  {
    grpc::ClientContext context;
    v1::DeleteCustomerRequest request;
    request.set_uuid(customer);
    google::protobuf::Empty out;
    ASSERT_TRUE(customers_->DeleteCustomer(&context, request, &out).ok());
  }
  grpc::ClientContext context;
  v1::GetCustomerRequest request;
  request.set_uuid(customer);
  v1::Customer out;
  EXPECT_EQ(customers_->GetCustomer(&context, request, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  EXPECT_GT(server_.server().customer_cache().stats().hits, 10);
}

// A settings change of one source drops the cached answers of its
// customers (a merged one included) and keeps those of another source's.
TEST_F(CachedGetCustomerTest, ASettingsChangeKeepsOtherSourcesAnswersCached) {
  const std::string stripe = CreateSource("Stripe");
  const std::string other = CreateSource("Other");
  // Two monthly invoices of a subscription (service until 2025-03-01), the
  // second unpaid (past due since 2025-02-01) if `unpaid`.
  auto customer = [&](const std::string& source, const std::string& id,
                      bool unpaid) {
    const std::string uuid = CreateCustomer(source, id);
    std::vector<InvoiceSpec> specs = Monthly("sub-" + id, T("2025-01-01"), 2);
    for (InvoiceSpec& spec : specs) spec.data_source_uuid = source;
    if (unpaid) specs[1].payments.clear();
    MustImport(uuid, specs);
    return uuid;
  };
  const std::string in_stripe = customer(stripe, "s1", true);
  const std::string in_other = customer(other, "o1", true);
  // Past due through its Stripe subscription only.
  const std::string merged = customer(other, "o2", false);
  ASSERT_TRUE(Merge(customer(stripe, "s2", true), merged).ok());
  server_.clock().Set(T("2025-02-20"));
  for (const std::string& uuid : {in_stripe, in_other, merged}) {
    ExpectExact(uuid, "past due");
    EXPECT_EQ(GetCustomer(uuid).status(), v1::CUSTOMER_STATUS_PAST_DUE);
  }

  SetAutoChurn(stripe, 14);
  const CustomerCache::Stats before = server_.server().customer_cache().stats();
  EXPECT_EQ(GetCustomer(in_other).status(), v1::CUSTOMER_STATUS_PAST_DUE);
  EXPECT_EQ(server_.server().customer_cache().stats().hits, before.hits + 1);
  EXPECT_EQ(GetCustomer(in_stripe).status(), v1::CUSTOMER_STATUS_CANCELLED);
  EXPECT_EQ(GetCustomer(merged).status(), v1::CUSTOMER_STATUS_ACTIVE);
  EXPECT_EQ(server_.server().customer_cache().stats().misses,
            before.misses + 2);
  for (const std::string& uuid : {in_stripe, in_other, merged}) {
    ExpectExact(uuid, "stripe auto-churns");
  }
}

// Random histories: after every step, every customer read twice equals a
// fresh evaluation. Steps are writes of every kind and jumps of the clock.
TEST_F(CachedGetCustomerTest, RandomWritesAndClockJumpsNeverServeAStaleAnswer) {
  const std::string source = CreateSource("Stripe");
  std::vector<std::string> customers;
  for (int i = 0; i < 4; ++i) {
    customers.push_back(CreateCustomer(source, "c" + std::to_string(i)));
  }
  std::mt19937 random(20261125);
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random);
  };
  absl::Time now = T("2025-01-01");
  int next_invoice = 0;
  for (int step = 0; step < 120; ++step) {
    const std::string& customer = customers[pick(customers.size())];
    std::string what;
    switch (pick(7)) {
      case 0:
      case 1: {  // a month's invoice, paid on time, late, or not at all
        InvoiceSpec spec{"inv-" + std::to_string(next_invoice++),
                         "sub-" + std::to_string(pick(2)),
                         now,
                         now + absl::Hours(24 * 30),
                         4900,
                         now + absl::Hours(24 * pick(10))};
        if (pick(3) != 0) spec.payments.push_back(Payment{now});
        what = "import " + spec.external_id;
        Import(customer, {spec});  // may be refused (overlap): fine
        break;
      }
      case 2: {
        const std::vector<v1::Invoice> invoices = ListInvoices(customer);
        if (invoices.empty()) continue;
        what = "pay";
        Pay(invoices[pick(invoices.size())].uuid(),
            "pay-" + std::to_string(step), now);
        break;
      }
      case 3:
        what = "settings";
        if (pick(2) == 0) {
          SetAutoChurn(source, 1 + pick(30));
        } else {
          SetKeep(source);
        }
        break;
      case 4:
        what = "tag";
        AddTags(customer, {"t" + std::to_string(pick(3))}, pick(2) == 0);
        break;
      default:
        what = "clock";
        now += absl::Hours(pick(24 * 20));
        server_.clock().Set(now);
        break;
    }
    for (const std::string& uuid : customers) {
      ExpectExact(uuid, "step " + std::to_string(step) + " " + what);
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(server_.server().customer_cache().stats().hits, 100);
}

TEST_F(CachedGetCustomerTest, AnotherProcessesWriteReachesTheCacheByTheLog) {
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c");
  EXPECT_EQ(GetCustomer(customer).name(), "");  // now cached
  ASSERT_NO_FATAL_FAILURE(RenameElsewhere(customer, "Renamed elsewhere"));
  // Until this server reads the log (every poll interval; here by hand) it
  // serves its cached answer ...
  EXPECT_EQ(GetCustomer(customer).name(), "");
  // ... and once it has, the new one.
  ASSERT_TRUE(server_.server().change_follower().Poll().ok());
  EXPECT_EQ(GetCustomer(customer).name(), "Renamed elsewhere");
  ExpectExact(customer, "after another process's write");
}

TEST_F(CachedGetCustomerTest, ACacheThatStopsHearingOfOtherProcessesIsNotUsed) {
  // Polling on but never due: as if every read of the log failed.
  TestServerOptions options;
  options.change_log_poll_interval = absl::InfiniteDuration();
  RestartWith(options);
  const std::string source = CreateSource("s");
  const std::string customer = CreateCustomer(source, "c");
  EXPECT_EQ(GetCustomer(customer).name(), "");  // now cached
  const int64_t hits = server_.server().customer_cache().stats().hits;
  EXPECT_EQ(GetCustomer(customer).name(), "");
  EXPECT_EQ(server_.server().customer_cache().stats().hits, hits + 1);

  ASSERT_NO_FATAL_FAILURE(RenameElsewhere(customer, "Renamed elsewhere"));
  // Within --change_log_max_lag (1 s) of the last read of the log, the
  // cached answer is still served; past it, no longer: the database is
  // read, and the other process's write seen, though the log was not.
  server_.clock().Advance(absl::Seconds(1));
  EXPECT_EQ(GetCustomer(customer).name(), "");
  EXPECT_EQ(server_.server().customer_cache().stats().hits, hits + 2);
  const CustomerCache::Stats before = server_.server().customer_cache().stats();
  server_.clock().Advance(absl::Milliseconds(1));
  EXPECT_EQ(GetCustomer(customer).name(), "Renamed elsewhere");
  const CustomerCache::Stats after = server_.server().customer_cache().stats();
  EXPECT_EQ(after.hits, hits + 2);
  // Counted as bypassing the cache, not as a miss of it.
  EXPECT_EQ(after.bypasses, before.bypasses + 1);
  EXPECT_EQ(after.misses, before.misses);
  // Once the log is read again, the cache answers again.
  ASSERT_TRUE(server_.server().change_follower().Poll().ok());
  EXPECT_EQ(GetCustomer(customer).name(), "Renamed elsewhere");
  EXPECT_EQ(GetCustomer(customer).name(), "Renamed elsewhere");
  EXPECT_EQ(server_.server().customer_cache().stats().hits, hits + 3);
}

}  // namespace
}  // namespace recurrent::service::testing
