#include "core/invoices.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "engine/invoice.h"

namespace recurrent::core {
namespace {

using persistence::Invoice;
using persistence::LineItem;
using persistence::Transaction;

bool SameLineItem(const LineItem& a, const LineItem& b) {
  return a.external_id == b.external_id && a.type == b.type &&
         a.subscription_external_id == b.subscription_external_id &&
         a.plan_external_id == b.plan_external_id &&
         a.service_period_start == b.service_period_start &&
         a.service_period_end == b.service_period_end &&
         a.amount_in_cents == b.amount_in_cents && a.quantity == b.quantity &&
         a.discount_amount_in_cents == b.discount_amount_in_cents &&
         a.tax_amount_in_cents == b.tax_amount_in_cents &&
         a.prorated == b.prorated && a.description == b.description;
}

// Transactions as a set: ordered by (date, external id).
std::vector<Transaction> SortedTransactions(const Invoice& invoice) {
  std::vector<Transaction> sorted = invoice.transactions;
  std::sort(sorted.begin(), sorted.end(),
            [](const Transaction& a, const Transaction& b) {
              return std::tie(a.date, a.external_id) <
                     std::tie(b.date, b.external_id);
            });
  return sorted;
}

}  // namespace

absl::Time ToMicros(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

void Normalize(Transaction& transaction) {
  transaction.date = ToMicros(transaction.date);
}

void Normalize(Invoice& invoice) {
  invoice.date = ToMicros(invoice.date);
  if (invoice.due_date.has_value()) {
    invoice.due_date = ToMicros(*invoice.due_date);
  }
  for (LineItem& item : invoice.line_items) {
    item.service_period_start = ToMicros(item.service_period_start);
    item.service_period_end = ToMicros(item.service_period_end);
  }
  for (Transaction& transaction : invoice.transactions) Normalize(transaction);
  std::stable_sort(invoice.transactions.begin(), invoice.transactions.end(),
                   [](const Transaction& a, const Transaction& b) {
                     return a.date < b.date;
                   });
}

bool SameTransaction(const Transaction& a, const Transaction& b) {
  return a.external_id == b.external_id && a.type == b.type &&
         a.result == b.result && a.date == b.date &&
         a.amount_in_cents == b.amount_in_cents;
}

bool SameInvoice(const Invoice& stored, const Invoice& wanted) {
  const std::vector<Transaction> stored_transactions =
      SortedTransactions(stored);
  const std::vector<Transaction> wanted_transactions =
      SortedTransactions(wanted);
  return stored.customer_uuid == wanted.customer_uuid &&
         stored.data_source_uuid == wanted.data_source_uuid &&
         stored.external_id == wanted.external_id &&
         stored.date == wanted.date && stored.due_date == wanted.due_date &&
         stored.currency == wanted.currency &&
         std::equal(stored.line_items.begin(), stored.line_items.end(),
                    wanted.line_items.begin(), wanted.line_items.end(),
                    SameLineItem) &&
         std::equal(stored_transactions.begin(), stored_transactions.end(),
                    wanted_transactions.begin(), wanted_transactions.end(),
                    SameTransaction);
}

std::string DerivedLineItemId(absl::string_view invoice_external_id,
                              size_t position) {
  return absl::StrCat(invoice_external_id, "#li", position);
}

std::string DerivedTransactionId(absl::string_view invoice_external_id,
                                 size_t position) {
  return absl::StrCat(invoice_external_id, "#tr", position);
}

InvoiceAmounts AmountsAt(const Invoice& invoice, absl::Time as_of) {
  const engine::Invoice facts = persistence::ToEngine(invoice);
  InvoiceAmounts amounts;
  amounts.due_in_cents = engine::AmountDue(facts);
  amounts.paid_in_cents = engine::AmountPaidAt(facts, as_of);
  // An invoice not yet issued at `as_of` is not open then, whatever its
  // payments.
  amounts.open = invoice.date <= as_of && engine::IsOpenAt(facts, as_of);
  return amounts;
}

std::vector<std::string> CustomerSources(
    const persistence::Customer& customer) {
  std::vector<std::string> sources;
  for (const persistence::ExternalId& id : customer.external_ids) {
    if (std::find(sources.begin(), sources.end(), id.data_source_uuid) ==
        sources.end()) {
      sources.push_back(id.data_source_uuid);
    }
  }
  return sources;
}

absl::StatusOr<std::string> ResolveSource(
    size_t i, absl::string_view data_source_uuid,
    const std::vector<std::string>& sources, absl::string_view customer_uuid) {
  const std::string field = absl::StrCat("invoices[", i, "].data_source_uuid");
  if (data_source_uuid.empty()) {
    if (sources.size() == 1) return sources.front();
    return common::InvalidField(
        field, absl::StrCat("required, customer ", customer_uuid,
                            " spans several data sources"));
  }
  for (const std::string& source : sources) {
    if (source == data_source_uuid) return source;
  }
  return common::InvalidField(
      field, absl::StrCat("customer ", customer_uuid,
                          " has no external id in data source ",
                          data_source_uuid));
}

}  // namespace recurrent::core
