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

absl::Status Invalid(absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

}  // namespace

absl::Status ValidateFacts(const CustomerFacts& facts) {
  for (size_t i = 0; i < facts.invoices.size(); ++i) {
    const Invoice& invoice = facts.invoices[i];
    const std::string where =
        absl::StrCat("invoices[", i, "] (", invoice.external_id, ")");
    if (invoice.data_source_uuid.empty()) {
      return Invalid(where, "data_source_uuid is required");
    }
    if (invoice.due_date.has_value() && !IsFinite(*invoice.due_date)) {
      return Invalid(where, "due_date must be finite");
    }
    for (size_t j = 0; j < invoice.line_items.size(); ++j) {
      const LineItem& item = invoice.line_items[j];
      if (item.type == LineItemType::kOneTime) continue;
      const std::string item_where =
          absl::StrCat(where, ".line_items[", j, "]");
      if (item.subscription_external_id.empty()) {
        return Invalid(item_where, "subscription_external_id is required");
      }
      if (item.type != LineItemType::kSubscription) continue;
      if (!IsFinite(item.service_period_start) ||
          !IsFinite(item.service_period_end)) {
        return Invalid(item_where, "service period must be finite");
      }
      if (item.service_period_end <= item.service_period_start) {
        return Invalid(item_where,
                       "service_period_end must be after service_period_start");
      }
    }
    for (size_t j = 0; j < invoice.transactions.size(); ++j) {
      const Transaction& transaction = invoice.transactions[j];
      const std::string tx_where =
          absl::StrCat(where, ".transactions[", j, "]");
      if (!IsFinite(transaction.date)) {
        return Invalid(tx_where, "date must be finite");
      }
      if (transaction.amount_in_cents.has_value() &&
          *transaction.amount_in_cents < 0) {
        return Invalid(tx_where, "amount_in_cents must not be negative");
      }
    }
  }
  for (size_t i = 0; i < facts.cancellations.size(); ++i) {
    const Cancellation& cancellation = facts.cancellations[i];
    const std::string where = absl::StrCat("cancellations[", i, "]");
    if (cancellation.data_source_uuid.empty()) {
      return Invalid(where, "data_source_uuid is required");
    }
    if (!IsFinite(cancellation.cancelled_at)) {
      return Invalid(where, "cancelled_at must be finite");
    }
  }
  return absl::OkStatus();
}

}  // namespace recurrent::engine
