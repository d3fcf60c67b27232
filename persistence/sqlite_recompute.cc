#include "persistence/sqlite_recompute.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/sqlite_codes.h"
#include "persistence/sqlite_data_sources.h"
#include "persistence/sqlite_events.h"
#include "persistence/sqlite_invoices.h"

namespace recurrent::persistence::sqlite {
namespace {

engine::Invoice ToEngine(Invoice invoice) {
  engine::Invoice out;
  out.data_source_uuid = std::move(invoice.data_source_uuid);
  out.external_id = std::move(invoice.external_id);
  out.currency = std::move(invoice.currency);
  out.due_date = invoice.due_date;
  out.line_items.reserve(invoice.line_items.size());
  for (LineItem& item : invoice.line_items) {
    out.line_items.push_back(
        engine::LineItem{item.type, std::move(item.subscription_external_id),
                         item.service_period_start, item.service_period_end,
                         item.amount_in_cents});
  }
  out.transactions.reserve(invoice.transactions.size());
  for (const Transaction& transaction : invoice.transactions) {
    out.transactions.push_back(
        engine::Transaction{transaction.type, transaction.result,
                            transaction.date, transaction.amount_in_cents});
  }
  return out;
}

absl::StatusOr<engine::SettingsMap> LoadSettings(Connection& db,
                                                 int64_t customer_key) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT d.uuid, s.past_due_mode, s.auto_churn_after_days,"
                 " s.applied_at FROM data_sources d"
                 " JOIN settings_versions s ON s.data_source_id = d.id"
                 " AND s.version = (SELECT MAX(version) FROM settings_versions"
                 " WHERE data_source_id = d.id)"
                 " WHERE d.id IN (SELECT data_source_id"
                 " FROM customer_external_ids WHERE customer_id = ?1"
                 " UNION SELECT data_source_id FROM invoices"
                 " WHERE customer_id = ?1)"));
  stmt.BindInt64(1, customer_key);
  return ReadSettingsMap(stmt);
}

}  // namespace

absl::StatusOr<CustomerFactsRows> LoadCustomerFacts(Connection& db,
                                                    int64_t customer_key) {
  CustomerFactsRows loaded;
  RECURRENT_ASSIGN_OR_RETURN(std::vector<Invoice> invoices,
                             LoadCustomerInvoices(db, customer_key));
  loaded.facts.invoices.reserve(invoices.size());
  for (Invoice& invoice : invoices) {
    loaded.facts.invoices.push_back(ToEngine(std::move(invoice)));
  }
  RECURRENT_ASSIGN_OR_RETURN(loaded.facts.cancellations,
                             LoadCustomerCancellations(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(loaded.settings, LoadSettings(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(loaded.subscriptions,
                             LoadCustomerSubscriptions(db, customer_key));
  return loaded;
}

absl::StatusOr<StoredCustomer> LoadStoredCustomer(Connection& db,
                                                  int64_t customer_key) {
  StoredCustomer stored;
  stored.key = customer_key;
  {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                               db.Prepare("SELECT uuid, status, derived_tags,"
                                          " next_transition_at FROM customers"
                                          " WHERE id = ?"));
    stmt.BindInt64(1, customer_key);
    RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
    if (!found) {
      return absl::InternalError(
          absl::StrCat("customer #", customer_key, " not found"));
    }
    stored.uuid = stmt.ColumnText(0);
    RECURRENT_ASSIGN_OR_RETURN(stored.status,
                               CustomerStatusFromCode(stmt.ColumnInt64(1)));
    stored.derived_tags = stmt.ColumnText(2);
    stored.next_transition_at = stmt.ColumnOptionalTime(3);
  }
  RECURRENT_ASSIGN_OR_RETURN(std::vector<Invoice> invoices,
                             LoadCustomerInvoices(db, customer_key));
  stored.facts.invoices.reserve(invoices.size());
  for (Invoice& invoice : invoices) {
    stored.facts.invoices.push_back(ToEngine(std::move(invoice)));
  }
  RECURRENT_ASSIGN_OR_RETURN(stored.facts.cancellations,
                             LoadCustomerCancellations(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(stored.subscriptions,
                             LoadStoredSubscriptions(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(stored.events,
                             LoadCustomerStoredEvents(db, customer_key));
  return stored;
}

absl::Status RecomputeCustomer(Connection& db, int64_t customer_key,
                               absl::Time now) {
  RECURRENT_ASSIGN_OR_RETURN(const StoredCustomer stored,
                             LoadStoredCustomer(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(const engine::SettingsMap settings,
                             LoadSettings(db, customer_key));
  RECURRENT_ASSIGN_OR_RETURN(const CustomerUpdate update,
                             PlanRecompute(stored, settings, now));
  RECURRENT_ASSIGN_OR_RETURN(EvaluationWriter writer,
                             EvaluationWriter::Create(db));
  return writer.Apply(update);
}

absl::StatusOr<int> RecomputeDue(Connection& db, absl::Time now, int limit) {
  std::vector<int64_t> due;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT id FROM customers WHERE next_transition_at <= ?"
                   " ORDER BY next_transition_at LIMIT ?"));
    stmt.BindTime(1, now);
    stmt.BindInt64(2, limit);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      due.push_back(stmt.ColumnInt64(0));
    }
  }
  for (const int64_t key : due) {
    const absl::Status status = RecomputeCustomer(db, key, now);
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      std::fprintf(stderr,
                   "recurrent/persistence: cannot re-evaluate customer #%lld:"
                   " %s\n",
                   static_cast<long long>(key),
                   std::string(status.message()).c_str());
      RECURRENT_ASSIGN_OR_RETURN(
          Statement stmt, db.Prepare("UPDATE customers SET next_transition_at ="
                                     " NULL WHERE id = ?"));
      stmt.BindInt64(1, key);
      RECURRENT_RETURN_IF_ERROR(stmt.Run());
      continue;
    }
    RECURRENT_RETURN_IF_ERROR(status);
  }
  return static_cast<int>(due.size());
}

}  // namespace recurrent::persistence::sqlite
