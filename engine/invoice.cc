#include "engine/invoice.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "common/saturating.h"

namespace recurrent::engine {
namespace {

using common::SaturatingAdd;

bool IsSuccessfulPayment(const Transaction& transaction) {
  return transaction.type == TransactionType::kPayment &&
         transaction.result == TransactionResult::kSuccessful;
}

}  // namespace

int64_t AmountDue(const Invoice& invoice) {
  int64_t due = 0;
  for (const LineItem& item : invoice.line_items) {
    due = SaturatingAdd(due, item.amount_in_cents);
  }
  return due;
}

absl::Time FullyPaidAt(const Invoice& invoice) {
  const int64_t due = AmountDue(invoice);
  if (due <= 0) return absl::InfinitePast();
  // (date, amount) of each successful payment; most invoices have one.
  absl::InlinedVector<std::pair<absl::Time, int64_t>, 4> payments;
  for (const Transaction& transaction : invoice.transactions) {
    if (!IsSuccessfulPayment(transaction)) continue;
    payments.emplace_back(transaction.date,
                          transaction.amount_in_cents.value_or(due));
  }
  std::sort(payments.begin(), payments.end());
  int64_t paid = 0;
  for (const auto& [date, amount] : payments) {
    paid = SaturatingAdd(paid, amount);
    if (paid >= due) return date;
  }
  return absl::InfiniteFuture();
}

int64_t AmountPaidAt(const Invoice& invoice, absl::Time t) {
  const int64_t due = AmountDue(invoice);
  if (due <= 0) return 0;
  int64_t paid = 0;
  for (const Transaction& transaction : invoice.transactions) {
    if (!IsSuccessfulPayment(transaction) || transaction.date > t) continue;
    paid = SaturatingAdd(paid, transaction.amount_in_cents.value_or(due));
    if (paid >= due) return due;
  }
  return paid;
}

}  // namespace recurrent::engine
