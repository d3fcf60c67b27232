#include "bench/synthetic_source.h"

#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "core/store.h"
#include "persistence/sqlite_backend.h"
#include "persistence/row_codes.h"

namespace recurrent::bench {
namespace {

using common::NewId;
namespace codes = persistence;

absl::Status SqlError(sqlite3* db, absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db)));
}

// A prepared INSERT; Bind* then Run().
class Insert {
 public:
  Insert(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "prepare %s: %s\n", sql, sqlite3_errmsg(db));
      std::abort();
    }
  }
  Insert(const Insert&) = delete;
  Insert& operator=(const Insert&) = delete;
  ~Insert() { sqlite3_finalize(stmt_); }

  Insert& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Insert& Time(int i, absl::Time t) { return Int(i, absl::ToUnixMicros(t)); }
  Insert& Text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Insert& Null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // Runs the insert; returns the new rowid.
  absl::StatusOr<int64_t> Run() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    if (rc != SQLITE_DONE) return SqlError(db_, "insert");
    return sqlite3_last_insert_rowid(db_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, sql);
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SourceKey(sqlite3* db, const std::string& name) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT id FROM data_sources WHERE name = ?", -1,
                     &stmt, nullptr);
  sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  int64_t key = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) key = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (key == 0) return absl::NotFoundError(name);
  return key;
}

absl::Time MonthStart(absl::CivilMonth month) {
  return absl::FromCivil(absl::CivilSecond(month), absl::UTCTimeZone());
}

class Loader {
 public:
  Loader(sqlite3* db, absl::Time now, SyntheticSourceStats& stats)
      : now_(now),
        now_month_(absl::ToCivilMonth(now, absl::UTCTimeZone())),
        stats_(stats),
        customer_(db,
                  "INSERT INTO customers (uuid, name, status, created_at,"
                  " updated_at) VALUES (?, ?, 1, ?, ?)"),
        external_id_(
            db,
            "INSERT INTO customer_external_ids (data_source_id,"
            " external_id, customer_id, position) VALUES (?, ?, ?, ?)"),
        subscription_(db,
                      "INSERT INTO subscriptions (uuid, customer_id,"
                      " data_source_id, external_id) VALUES (?, ?, ?, ?)"),
        cancellation_(db,
                      "INSERT INTO cancellations (subscription_id,"
                      " cancelled_at, recorded_at) VALUES (?, ?, ?)"),
        invoice_(db,
                 "INSERT INTO invoices (uuid, customer_id, data_source_id,"
                 " external_id, date, due_date, currency)"
                 " VALUES (?, ?, ?, ?, ?, ?, 'EUR')"),
        line_item_(db,
                   "INSERT INTO line_items (uuid, invoice_id, data_source_id,"
                   " external_id, position, type, subscription_external_id,"
                   " plan_external_id, service_period_start,"
                   " service_period_end, amount_in_cents, quantity,"
                   " discount_amount_in_cents, tax_amount_in_cents, prorated,"
                   " description) VALUES (?, ?, ?, ?, ?, ?, ?, 'plan-m', ?, ?,"
                   " ?, 1, 0, 0, 0, '')"),
        transaction_(db,
                     "INSERT INTO transactions (uuid, invoice_id,"
                     " data_source_id, external_id, type, result, date,"
                     " amount_in_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?)") {}

  // A new customer of `source` (external id `external_id`); returns its key.
  absl::StatusOr<int64_t> AddCustomer(int64_t source,
                                      const std::string& external_id) {
    RECURRENT_ASSIGN_OR_RETURN(
        const int64_t key, customer_.Text(1, NewId(common::kCustomerIdPrefix))
                               .Text(2, absl::StrCat("Customer ", external_id))
                               .Time(3, now_)
                               .Time(4, now_)
                               .Run());
    RECURRENT_RETURN_IF_ERROR(AddExternalId(source, external_id, key, 0));
    ++stats_.customers;
    return key;
  }

  absl::Status AddExternalId(int64_t source, const std::string& external_id,
                             int64_t customer, int position) {
    return external_id_.Int(1, source)
        .Text(2, external_id)
        .Int(3, customer)
        .Int(4, position)
        .Run()
        .status();
  }

  // A subscription `name` of `customer` in `source` with `months` monthly
  // invoices, ending at the month containing now unless `rng` says it
  // ended earlier.
  absl::Status AddSubscription(int64_t source, int64_t customer,
                               const std::string& name, int months,
                               std::mt19937_64& rng) {
    const bool ended = rng() % 100 < 30;
    const int ended_months_ago = ended ? 1 + static_cast<int>(rng() % 12) : 0;
    const absl::CivilMonth first = now_month_ - (months - 1) - ended_months_ago;
    RECURRENT_ASSIGN_OR_RETURN(
        const int64_t key,
        subscription_.Text(1, NewId(common::kSubscriptionIdPrefix))
            .Int(2, customer)
            .Int(3, source)
            .Text(4, name)
            .Run());
    ++stats_.subscriptions;
    for (int m = 0; m < months; ++m) {
      RECURRENT_RETURN_IF_ERROR(AddInvoice(source, customer, name, m,
                                           MonthStart(first + m),
                                           MonthStart(first + m + 1), rng));
    }
    if (ended && rng() % 100 < 70) {
      const absl::Time at = MonthStart(first + months) - absl::Hours(72);
      RECURRENT_RETURN_IF_ERROR(
          cancellation_.Int(1, key).Time(2, at).Time(3, at).Run().status());
      ++stats_.cancellations;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status AddInvoice(int64_t source, int64_t customer,
                          const std::string& subscription, int month,
                          absl::Time start, absl::Time end,
                          std::mt19937_64& rng) {
    const std::string id = absl::StrCat(subscription, "-", month);
    const absl::Time due = start + absl::Hours(24 * 7);
    RECURRENT_ASSIGN_OR_RETURN(const int64_t invoice,
                               invoice_.Text(1, NewId(common::kInvoiceIdPrefix))
                                   .Int(2, customer)
                                   .Int(3, source)
                                   .Text(4, absl::StrCat("inv-", id))
                                   .Time(5, start)
                                   .Time(6, due)
                                   .Run());
    ++stats_.invoices;
    int64_t amount = 4900;
    RECURRENT_RETURN_IF_ERROR(AddLineItem(source, invoice, id, 0,
                                          engine::LineItemType::kSubscription,
                                          subscription, start, end, 4900));
    if (rng() % 100 < 10) {
      RECURRENT_RETURN_IF_ERROR(AddLineItem(source, invoice, id, 1,
                                            engine::LineItemType::kOneTime, "",
                                            start, end, 1000));
      amount += 1000;
    }
    const int kind = static_cast<int>(rng() % 100);
    if (kind >= 88 + 8 && kind < 88 + 8 + 3) return absl::OkStatus();  // never
    absl::Time paid = start + absl::Hours(24 * static_cast<int>(rng() % 7));
    std::optional<int64_t> paid_amount;
    if (kind >= 88 && kind < 96) {
      paid = due + absl::Hours(24 * (1 + static_cast<int>(rng() % 40)));
    } else if (kind >= 99) {
      paid = due;
      paid_amount = amount / 2;
    }
    if (rng() % 100 < 5) {
      RECURRENT_RETURN_IF_ERROR(AddTransaction(
          source, invoice, id + "-f", engine::TransactionResult::kFailed,
          paid - absl::Hours(24), amount));
    }
    return AddTransaction(source, invoice, id,
                          engine::TransactionResult::kSuccessful, paid,
                          paid_amount);
  }

  absl::Status AddLineItem(int64_t source, int64_t invoice,
                           const std::string& id, int position,
                           engine::LineItemType type,
                           const std::string& subscription, absl::Time start,
                           absl::Time end, int64_t amount) {
    ++stats_.line_items;
    return line_item_.Text(1, NewId(common::kLineItemIdPrefix))
        .Int(2, invoice)
        .Int(3, source)
        .Text(4, absl::StrCat("li-", id, "-", position))
        .Int(5, position)
        .Int(6, codes::LineItemTypeCode(type))
        .Text(7, subscription)
        .Time(8, start)
        .Time(9, end)
        .Int(10, amount)
        .Run()
        .status();
  }

  absl::Status AddTransaction(int64_t source, int64_t invoice,
                              const std::string& id,
                              engine::TransactionResult result, absl::Time date,
                              std::optional<int64_t> amount) {
    ++stats_.transactions;
    transaction_.Text(1, NewId(common::kTransactionIdPrefix))
        .Int(2, invoice)
        .Int(3, source)
        .Text(4, absl::StrCat("tr-", id))
        .Int(5, codes::TransactionTypeCode(engine::TransactionType::kPayment))
        .Int(6, codes::TransactionResultCode(result))
        .Time(7, date);
    if (amount.has_value()) {
      transaction_.Int(8, *amount);
    } else {
      transaction_.Null(8);
    }
    return transaction_.Run().status();
  }

  const absl::Time now_;
  const absl::CivilMonth now_month_;
  SyntheticSourceStats& stats_;
  Insert customer_, external_id_, subscription_, cancellation_, invoice_,
      line_item_, transaction_;
};

absl::Status LoadRows(const SyntheticSourceOptions& options,
                      SyntheticSourceStats& stats) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(options.path.c_str(), &raw) != SQLITE_OK) {
    return SqlError(raw, "open");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, &sqlite3_close);
  RECURRENT_RETURN_IF_ERROR(Exec(raw, "PRAGMA synchronous = OFF"));
  RECURRENT_RETURN_IF_ERROR(Exec(
      raw,
      absl::StrCat("PRAGMA cache_size = ", -1024 * options.cache_mb).c_str()));
  RECURRENT_ASSIGN_OR_RETURN(const int64_t bench,
                             SourceKey(raw, kBenchSourceName));
  RECURRENT_ASSIGN_OR_RETURN(const int64_t other, SourceKey(raw, "other"));
  RECURRENT_RETURN_IF_ERROR(Exec(raw, "BEGIN"));
  {
    Loader loader(raw, options.now, stats);
    for (int c = 0; c < options.customers; ++c) {
      std::mt19937_64 rng(options.seed * 1'000'003 + c);
      const std::string external_id = absl::StrCat("cus-", c);
      RECURRENT_ASSIGN_OR_RETURN(const int64_t customer,
                                 loader.AddCustomer(bench, external_id));
      const int subscriptions = 1 + static_cast<int>(rng() % 4);
      for (int s = 0; s < subscriptions; ++s) {
        RECURRENT_RETURN_IF_ERROR(loader.AddSubscription(
            bench, customer, absl::StrCat("sub-", c, "-", s),
            12 / subscriptions, rng));
      }
      if (c % 100 == 0) {  // merged with a customer of "other"
        RECURRENT_RETURN_IF_ERROR(
            loader.AddExternalId(other, external_id, customer, 1));
        RECURRENT_RETURN_IF_ERROR(loader.AddSubscription(
            other, customer, absl::StrCat("osub-", c), 3, rng));
      }
      if (c % 10 == 0) {  // a customer of "other" only
        std::mt19937_64 other_rng(options.seed * 2'000'003 + c);
        const std::string other_id = absl::StrCat("ocus-", c);
        RECURRENT_ASSIGN_OR_RETURN(const int64_t only,
                                   loader.AddCustomer(other, other_id));
        RECURRENT_RETURN_IF_ERROR(loader.AddSubscription(
            other, only, absl::StrCat("osub-only-", c), 12, other_rng));
      }
      if ((c + 1) % 20000 == 0) {
        std::printf("  generated %d customers\n", c + 1);
        std::fflush(stdout);
      }
    }
  }
  return Exec(raw, "COMMIT");
}

}  // namespace

absl::Status GenerateSyntheticSource(const SyntheticSourceOptions& options,
                                     SyntheticSourceStats& stats) {
  persistence::SqliteBackend::Options backend_options;
  backend_options.path = options.path;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        std::unique_ptr<persistence::SqliteBackend> backend,
        persistence::SqliteBackend::Open(backend_options));
    const auto storage = std::make_unique<core::Store>(
        backend.get(), core::Store::Options(), nullptr);
    RECURRENT_RETURN_IF_ERROR(
        storage->CreateDataSource(kBenchSourceName, "custom", options.now)
            .status());
    RECURRENT_RETURN_IF_ERROR(
        storage->CreateDataSource("other", "custom", options.now).status());
  }
  absl::Time start = absl::Now();
  RECURRENT_RETURN_IF_ERROR(LoadRows(options, stats));
  std::printf("  rows loaded in %.1f s\n",
              absl::ToDoubleSeconds(absl::Now() - start));
  // The stored evaluations, as imports would have left them.
  RECURRENT_ASSIGN_OR_RETURN(
      std::unique_ptr<persistence::SqliteBackend> backend,
      persistence::SqliteBackend::Open(backend_options));
  const auto storage = std::make_unique<core::Store>(
      backend.get(), core::Store::Options(), nullptr);
  RECURRENT_ASSIGN_OR_RETURN(persistence::Page<core::DataSource> sources,
                             storage->ListDataSources({100, ""}));
  for (const core::DataSource& source : sources.items) {
    start = absl::Now();
    RECURRENT_RETURN_IF_ERROR(
        storage->ReprocessDataSource(source.uuid, options.now).status());
    std::printf("  initial evaluation of source '%s' stored in %.1f s\n",
                source.name.c_str(),
                absl::ToDoubleSeconds(absl::Now() - start));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::bench
