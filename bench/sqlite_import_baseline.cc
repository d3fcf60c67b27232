// sqlite-import-baseline: the ceiling of the storage layer for imports.
// Inserts the fact rows one ImportInvoices call writes (a batch of
// --invoices invoices x --line_items line items, one payment each, and the
// batch's subscriptions) with prepared statements, one transaction per batch,
// on a connection with recurrentd's writer pragmas (WAL, synchronous=FULL,
// foreign_keys=ON, 64 MiB cache), into customers of source "bench" of a
// seeded database. No lookups, no evaluation, no RPC. See docs/performance.md,
// section "Service".
//
//   sqlite-import-baseline --db=/tmp/recurrent-bench/100k.db --duration=10s
//
// Prints "RESULT label=sqlite_import batches_per_s=... rows_per_s=...", rows
// counted as invoices + line items + transactions (as the load generator).
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "common/ids.h"
#include "persistence/row_codes.h"

ABSL_FLAG(std::string, db, "", "seeded database (rows are added to it)");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "not measured");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "measured");
ABSL_FLAG(int, invoices, 100, "invoices per batch");
ABSL_FLAG(int, line_items, 3, "line items per invoice");

namespace recurrent::bench {
namespace {

namespace codes = persistence;
using common::NewId;

[[noreturn]] void Die(sqlite3* db, const std::string& what) {
  std::fprintf(stderr, "sqlite-import-baseline: %s: %s\n", what.c_str(),
               db != nullptr ? sqlite3_errmsg(db) : "");
  std::exit(1);
}

void Exec(sqlite3* db, const char* sql) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Die(db, sql);
  }
}

// A prepared statement: Bind* then Run().
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_,
                           nullptr) != SQLITE_OK) {
      Die(db, sql);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Time(int i, absl::Time t) { return Int(i, absl::ToUnixMicros(t)); }
  Stmt& Text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  // Steps once; returns the row of a query, or the new rowid of an insert.
  int64_t Run() {
    const int rc = sqlite3_step(stmt_);
    int64_t value = sqlite3_last_insert_rowid(db_);
    if (rc == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt_, 0);
    } else if (rc != SQLITE_DONE) {
      Die(db_, "step");
    }
    sqlite3_reset(stmt_);
    return value;
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

int Run() {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(absl::GetFlag(FLAGS_db).c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Die(raw, "open");
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, &sqlite3_close);
  sqlite3_busy_timeout(raw, 5000);
  // recurrentd's writer connection (persistence/sqlite_backend.cc).
  Exec(raw, "PRAGMA journal_mode = WAL");
  Exec(raw, "PRAGMA foreign_keys = ON");
  Exec(raw, "PRAGMA cache_size = -65536");
  Exec(raw, "PRAGMA synchronous = FULL");

  int64_t source = 0;
  std::vector<int64_t> customers;
  {
    Stmt find(raw, "SELECT id FROM data_sources WHERE name = 'bench'");
    source = find.Run();
    Stmt list(raw,
              "SELECT customer_id FROM customer_external_ids"
              " WHERE data_source_id = ? ORDER BY customer_id");
    list.Int(1, source);
    while (sqlite3_step(list.get()) == SQLITE_ROW) {
      customers.push_back(sqlite3_column_int64(list.get(), 0));
    }
  }
  if (source == 0 || customers.empty()) Die(nullptr, "no source 'bench'");

  Stmt subscription(raw,
                    "INSERT INTO subscriptions (uuid, customer_id,"
                    " data_source_id, external_id) VALUES (?, ?, ?, ?)");
  Stmt invoice(raw,
               "INSERT INTO invoices (uuid, customer_id, data_source_id,"
               " external_id, date, due_date, currency)"
               " VALUES (?, ?, ?, ?, ?, ?, 'EUR')");
  Stmt line_item(raw,
                 "INSERT INTO line_items (uuid, invoice_id, data_source_id,"
                 " external_id, position, type, subscription_external_id,"
                 " plan_external_id, service_period_start,"
                 " service_period_end, amount_in_cents, quantity,"
                 " discount_amount_in_cents, tax_amount_in_cents, prorated,"
                 " description) VALUES (?, ?, ?, ?, ?, ?, ?, 'plan', ?, ?,"
                 " ?, 1, 0, 0, 0, '')");
  Stmt transaction(raw,
                   "INSERT INTO transactions (uuid, invoice_id,"
                   " data_source_id, external_id, type, result, date,"
                   " amount_in_cents) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)");

  const int invoices = absl::GetFlag(FLAGS_invoices);
  const int line_items = absl::GetFlag(FLAGS_line_items);
  const int64_t rows_per_batch = int64_t{invoices} * (line_items + 2);
  const std::string run = absl::StrCat("sb-", absl::ToUnixMillis(absl::Now()));
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilMonth last = absl::ToCivilMonth(absl::Now(), utc);
  size_t next_customer = std::mt19937_64(1)() % customers.size();

  auto batch = [&](int64_t seq) {
    const int64_t customer = customers[next_customer++ % customers.size()];
    const std::string prefix = absl::StrCat(run, "-", seq);
    Exec(raw, "BEGIN IMMEDIATE");
    for (int j = 0; j + 1 < line_items || j == 0; ++j) {
      subscription.Text(1, NewId(common::kSubscriptionIdPrefix))
          .Int(2, customer)
          .Int(3, source)
          .Text(4, absl::StrCat("sub-", prefix, "-", j))
          .Run();
    }
    for (int i = 0; i < invoices; ++i) {
      const absl::CivilMonth month = last - (invoices - 1 - i);
      const absl::Time start = absl::FromCivil(month, utc);
      const absl::Time end = absl::FromCivil(month + 1, utc);
      const absl::Time due = start + absl::Hours(24 * 7);
      const std::string id = absl::StrCat(prefix, "-", i);
      const int64_t key = invoice.Text(1, NewId(common::kInvoiceIdPrefix))
                              .Int(2, customer)
                              .Int(3, source)
                              .Text(4, absl::StrCat("inv-", id))
                              .Time(5, start)
                              .Time(6, due)
                              .Run();
      for (int j = 0; j < line_items; ++j) {
        const bool one_time = j == line_items - 1 && line_items > 1;
        line_item.Text(1, NewId(common::kLineItemIdPrefix))
            .Int(2, key)
            .Int(3, source)
            .Text(4, absl::StrCat("li-", id, "-", j))
            .Int(5, j)
            .Int(6, codes::LineItemTypeCode(
                        one_time ? engine::LineItemType::kOneTime
                                 : engine::LineItemType::kSubscription))
            .Text(7, one_time ? std::string()
                              : absl::StrCat("sub-", prefix, "-", j))
            .Time(8, start)
            .Time(9, end)
            .Int(10, one_time ? 500 : 2900)
            .Run();
      }
      transaction.Text(1, NewId(common::kTransactionIdPrefix))
          .Int(2, key)
          .Int(3, source)
          .Text(4, absl::StrCat("tr-", id))
          .Int(5, codes::TransactionTypeCode(engine::TransactionType::kPayment))
          .Int(6, codes::TransactionResultCode(
                      engine::TransactionResult::kSuccessful))
          .Time(7, due)
          .Run();
    }
    Exec(raw, "COMMIT");
  };

  int64_t seq = 0;
  const absl::Time warm_end = absl::Now() + absl::GetFlag(FLAGS_warmup);
  while (absl::Now() < warm_end) batch(seq++);
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  int64_t measured = 0;
  while (absl::Now() < end) {
    batch(seq++);
    ++measured;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "sqlite_import: %lld batches of %lld rows in %.1f s: %.1f batches/s, "
      "%.0f rows/s (one transaction per batch, synchronous=FULL, WAL)\n",
      static_cast<long long>(measured), static_cast<long long>(rows_per_batch),
      seconds, measured / seconds, measured * rows_per_batch / seconds);
  std::printf("RESULT label=sqlite_import batches_per_s=%.1f rows_per_s=%.0f\n",
              measured / seconds, measured * rows_per_batch / seconds);
  return 0;
}

}  // namespace
}  // namespace recurrent::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return recurrent::bench::Run();
}
