#include "engine/facts.h"

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace recurrent::engine {
namespace {

bool IsFinite(absl::Time t) {
  return t != absl::InfinitePast() && t != absl::InfiniteFuture();
}

// Location strings are built only when a check fails: validation runs on
// every evaluation.
std::string InvoiceWhere(size_t i, const Invoice& invoice) {
  return absl::StrCat("invoices[", i, "] (", invoice.external_id, ")");
}

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

absl::Status ValidateLineItem(size_t i, const Invoice& invoice, size_t j) {
  const LineItem& item = invoice.line_items[j];
  auto where = [&] {
    return absl::StrCat(InvoiceWhere(i, invoice), ".line_items[", j, "]");
  };
  if (item.amount_in_cents > kMaxAmountInCents ||
      item.amount_in_cents < -kMaxAmountInCents) {
    return Invalid(where(), absl::StrCat("amount_in_cents must be within ±",
                                         kMaxAmountInCents));
  }
  if (item.tax_amount_in_cents > kMaxAmountInCents ||
      item.tax_amount_in_cents < -kMaxAmountInCents) {
    return Invalid(where(), absl::StrCat("tax_amount_in_cents must be within ±",
                                         kMaxAmountInCents));
  }
  if (item.type == LineItemType::kOneTime) return absl::OkStatus();
  if (item.subscription_external_id.empty()) {
    return Invalid(where(), "subscription_external_id is required");
  }
  if (item.type != LineItemType::kSubscription) return absl::OkStatus();
  if (!IsFinite(item.service_period_start) ||
      !IsFinite(item.service_period_end)) {
    return Invalid(where(), "service period must be finite");
  }
  if (item.service_period_end <= item.service_period_start) {
    return Invalid(where(),
                   "service_period_end must be after service_period_start");
  }
  return absl::OkStatus();
}

absl::Status ValidateTransaction(size_t i, const Invoice& invoice, size_t j) {
  const Transaction& transaction = invoice.transactions[j];
  auto where = [&] {
    return absl::StrCat(InvoiceWhere(i, invoice), ".transactions[", j, "]");
  };
  if (!IsFinite(transaction.date)) {
    return Invalid(where(), "date must be finite");
  }
  if (transaction.amount_in_cents.has_value() &&
      *transaction.amount_in_cents < 0) {
    return Invalid(where(), "amount_in_cents must not be negative");
  }
  if (transaction.amount_in_cents.value_or(0) > kMaxAmountInCents) {
    return Invalid(where(), absl::StrCat("amount_in_cents must be at most ",
                                         kMaxAmountInCents));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateFacts(const CustomerFacts& facts) {
  for (size_t i = 0; i < facts.invoices.size(); ++i) {
    const Invoice& invoice = facts.invoices[i];
    if (invoice.data_source_uuid.empty()) {
      return Invalid(InvoiceWhere(i, invoice), "data_source_uuid is required");
    }
    if (invoice.due_date.has_value() && !IsFinite(*invoice.due_date)) {
      return Invalid(InvoiceWhere(i, invoice), "due_date must be finite");
    }
    for (size_t j = 0; j < invoice.line_items.size(); ++j) {
      if (absl::Status s = ValidateLineItem(i, invoice, j); !s.ok()) return s;
    }
    for (size_t j = 0; j < invoice.transactions.size(); ++j) {
      if (absl::Status s = ValidateTransaction(i, invoice, j); !s.ok()) {
        return s;
      }
    }
  }
  for (size_t i = 0; i < facts.cancellations.size(); ++i) {
    const Cancellation& cancellation = facts.cancellations[i];
    if (cancellation.data_source_uuid.empty()) {
      return Invalid(absl::StrCat("cancellations[", i, "]"),
                     "data_source_uuid is required");
    }
    if (!IsFinite(cancellation.cancelled_at)) {
      return Invalid(absl::StrCat("cancellations[", i, "]"),
                     "cancelled_at must be finite");
    }
  }
  return absl::OkStatus();
}

}  // namespace recurrent::engine
