// Builders of invoices for the Storage conformance tests.
#ifndef RECURRENT_TESTS_CORE_INVOICE_FIXTURES_H_
#define RECURRENT_TESTS_CORE_INVOICE_FIXTURES_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/store.h"
#include "engine/evaluation.h"

namespace recurrent::persistence {

// Failure messages show events readably.
inline void PrintTo(const SubscriptionEvent& event, std::ostream* os) {
  *os << engine::EventTypeName(event.type) << "@"
      << absl::FormatTime(event.occurred_at) << "->"
      << engine::SubscriptionStatusName(event.status_after) << " "
      << event.subscription.external_id << " " << event.uuid;
}

}  // namespace recurrent::persistence

namespace recurrent::core::testing {

using persistence::LineItem;

// Midnight UTC of a calendar day.
inline absl::Time Day(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

// A SUBSCRIPTION line item of `subscription` for [start, end).
inline LineItem SubscriptionItem(const std::string& external_id,
                                 const std::string& subscription,
                                 absl::Time start, absl::Time end,
                                 int64_t amount_in_cents = 4900) {
  LineItem item;
  item.external_id = external_id;
  item.type = engine::LineItemType::kSubscription;
  item.subscription_external_id = subscription;
  item.plan_external_id = "plan-monthly";
  item.service_period_start = start;
  item.service_period_end = end;
  item.amount_in_cents = amount_in_cents;
  item.quantity = 1;
  return item;
}

inline Transaction Payment(const std::string& external_id, absl::Time date,
                           std::optional<int64_t> amount = std::nullopt) {
  Transaction transaction;
  transaction.external_id = external_id;
  transaction.type = engine::TransactionType::kPayment;
  transaction.result = engine::TransactionResult::kSuccessful;
  transaction.date = date;
  transaction.amount_in_cents = amount;
  return transaction;
}

// A EUR invoice dated `date`, due `due_date` (none if nullopt), with one
// SUBSCRIPTION line item "<external_id>-li" of `subscription` for
// [start, end).
inline Invoice MonthlyInvoice(const std::string& external_id,
                              const std::string& subscription, absl::Time start,
                              absl::Time end,
                              std::optional<absl::Time> due_date) {
  Invoice invoice;
  invoice.external_id = external_id;
  invoice.date = start;
  invoice.due_date = due_date;
  invoice.currency = "EUR";
  invoice.line_items.push_back(
      SubscriptionItem(external_id + "-li", subscription, start, end));
  return invoice;
}

// Every field of `invoice` (uuids included) as text, for comparisons whose
// failures show what differs.
inline std::string Dump(const Invoice& invoice) {
  auto time = [](absl::Time t) { return absl::FormatTime(t); };
  std::string out = absl::StrCat(
      invoice.uuid, " ", invoice.external_id,
      " customer=", invoice.customer_uuid, " source=", invoice.data_source_uuid,
      " date=", time(invoice.date),
      " due=", invoice.due_date.has_value() ? time(*invoice.due_date) : "none",
      " ", invoice.currency, "\n");
  for (const LineItem& item : invoice.line_items) {
    absl::StrAppend(
        &out, "  li ", item.uuid, " ", item.external_id,
        " type=", static_cast<int>(item.type),
        " sub=", item.subscription_external_id, " plan=", item.plan_external_id,
        " [", time(item.service_period_start), ", ",
        time(item.service_period_end), ") amount=", item.amount_in_cents,
        " qty=", item.quantity, " discount=", item.discount_amount_in_cents,
        " tax=", item.tax_amount_in_cents, " prorated=", item.prorated, " '",
        item.description, "'\n");
  }
  for (const Transaction& t : invoice.transactions) {
    absl::StrAppend(&out, "  tr ", t.uuid, " ", t.external_id,
                    " type=", static_cast<int>(t.type),
                    " result=", static_cast<int>(t.result),
                    " date=", time(t.date), " amount=",
                    t.amount_in_cents.has_value()
                        ? absl::StrCat(*t.amount_in_cents)
                        : "none",
                    "\n");
  }
  return out;
}

inline std::vector<std::string> Dump(const std::vector<Invoice>& invoices) {
  std::vector<std::string> out;
  for (const Invoice& invoice : invoices) out.push_back(Dump(invoice));
  return out;
}

}  // namespace recurrent::core::testing

#endif  // RECURRENT_TESTS_CORE_INVOICE_FIXTURES_H_
