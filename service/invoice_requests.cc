// Parsing of InvoiceService requests.
#include "service/invoice_requests.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "core/invoices.h"
#include "service/convert.h"
#include "service/errors.h"
#include "service/field_checks.h"
#include "service/iso_codes.h"

namespace recurrent::service {
namespace {

constexpr int kMaxLineItemsPerInvoice = 1000;
constexpr int32_t kMaxQuantity = 1'000'000'000;

// An amount of money: at most engine::kMaxAmountInCents, in absolute value
// if it may be negative (a discount line), else not negative.
absl::Status CheckAmount(int64_t cents, const std::string& field,
                         bool may_be_negative) {
  if (cents < 0 && !may_be_negative) {
    return InvalidField(field, "must not be negative");
  }
  if (cents > engine::kMaxAmountInCents || cents < -engine::kMaxAmountInCents) {
    return InvalidField(
        field, absl::StrCat("must be at most ", engine::kMaxAmountInCents,
                            " cents in absolute value"));
  }
  return absl::OkStatus();
}
constexpr int kMaxTransactionsPerInvoice = 1000;

// Remembers the first field path that used each key, to name duplicates.
class DuplicateChecker {
 public:
  absl::Status Check(const std::string& key, absl::string_view field,
                     absl::string_view what) {
    auto [it, inserted] = first_.try_emplace(key, std::string(field));
    if (inserted) return absl::OkStatus();
    return InvalidField(field, absl::StrCat("duplicates the ", what, " at ",
                                            it->second, " in this request"));
  }

 private:
  absl::flat_hash_map<std::string, std::string> first_;
};

// Leaves external_id empty if the request gives none.
absl::StatusOr<persistence::Transaction> ParseTransaction(
    const v1::Transaction& in, const std::string& path) {
  persistence::Transaction out;
  RECURRENT_RETURN_IF_ERROR(
      CheckOptionalExternalId(in.external_id(), path + ".external_id"));
  out.external_id = in.external_id();
  switch (in.type()) {
    case v1::TRANSACTION_TYPE_PAYMENT:
      out.type = engine::TransactionType::kPayment;
      break;
    case v1::TRANSACTION_TYPE_REFUND:
      out.type = engine::TransactionType::kRefund;
      break;
    default:
      return InvalidField(path + ".type",
                          "must be TRANSACTION_TYPE_PAYMENT or "
                          "TRANSACTION_TYPE_REFUND");
  }
  switch (in.result()) {
    case v1::TRANSACTION_RESULT_SUCCESSFUL:
      out.result = engine::TransactionResult::kSuccessful;
      break;
    case v1::TRANSACTION_RESULT_FAILED:
      out.result = engine::TransactionResult::kFailed;
      break;
    default:
      return InvalidField(path + ".result",
                          "must be TRANSACTION_RESULT_SUCCESSFUL or "
                          "TRANSACTION_RESULT_FAILED");
  }
  RECURRENT_ASSIGN_OR_RETURN(
      out.date, RequiredTime(in.has_date(), in.date(), path + ".date"));
  if (in.has_amount_in_cents()) {
    RECURRENT_RETURN_IF_ERROR(
        CheckAmount(in.amount_in_cents(), path + ".amount_in_cents", false));
    out.amount_in_cents = in.amount_in_cents();
  }
  return out;
}

// Leaves external_id empty if the request gives none.
absl::StatusOr<persistence::LineItem> ParseLineItem(const v1::LineItem& in,
                                                    const std::string& path) {
  persistence::LineItem out;
  RECURRENT_RETURN_IF_ERROR(
      CheckOptionalExternalId(in.external_id(), path + ".external_id"));
  out.external_id = in.external_id();
  switch (in.type()) {
    case v1::LINE_ITEM_TYPE_SUBSCRIPTION:
      out.type = engine::LineItemType::kSubscription;
      break;
    case v1::LINE_ITEM_TYPE_ONE_TIME:
      out.type = engine::LineItemType::kOneTime;
      break;
    case v1::LINE_ITEM_TYPE_TRIAL:
      out.type = engine::LineItemType::kTrial;
      break;
    default:
      return InvalidField(path + ".type",
                          "must be LINE_ITEM_TYPE_SUBSCRIPTION, "
                          "LINE_ITEM_TYPE_ONE_TIME or LINE_ITEM_TYPE_TRIAL");
  }
  const bool recurring = out.type != engine::LineItemType::kOneTime;
  if (recurring) {
    RECURRENT_RETURN_IF_ERROR(CheckExternalId(
        in.subscription_external_id(), path + ".subscription_external_id"));
  } else {
    RECURRENT_RETURN_IF_ERROR(CheckOptionalExternalId(
        in.subscription_external_id(), path + ".subscription_external_id"));
  }
  out.subscription_external_id = in.subscription_external_id();
  RECURRENT_RETURN_IF_ERROR(CheckOptionalExternalId(
      in.plan_external_id(), path + ".plan_external_id"));
  out.plan_external_id = in.plan_external_id();
  // A SUBSCRIPTION line item needs its service period; other types may carry
  // one, and then it must be well formed too.
  if (out.type == engine::LineItemType::kSubscription ||
      in.has_service_period_start() || in.has_service_period_end()) {
    RECURRENT_ASSIGN_OR_RETURN(
        out.service_period_start,
        RequiredTime(in.has_service_period_start(), in.service_period_start(),
                     path + ".service_period_start"));
    RECURRENT_ASSIGN_OR_RETURN(
        out.service_period_end,
        RequiredTime(in.has_service_period_end(), in.service_period_end(),
                     path + ".service_period_end"));
    // Times are stored to the microsecond (core/invoices.h, Normalize).
    if (absl::ToUnixMicros(out.service_period_end) <=
        absl::ToUnixMicros(out.service_period_start)) {
      return InvalidField(path + ".service_period_end",
                          "must be at least a microsecond after "
                          "service_period_start");
    }
  }
  if (in.quantity() < 0 || in.quantity() > kMaxQuantity) {
    return InvalidField(path + ".quantity",
                        absl::StrCat("must be between 0 and ", kMaxQuantity));
  }
  RECURRENT_RETURN_IF_ERROR(
      CheckAmount(in.amount_in_cents(), path + ".amount_in_cents", true));
  RECURRENT_RETURN_IF_ERROR(CheckAmount(in.discount_amount_in_cents(),
                                        path + ".discount_amount_in_cents",
                                        false));
  RECURRENT_RETURN_IF_ERROR(CheckAmount(in.tax_amount_in_cents(),
                                        path + ".tax_amount_in_cents", false));
  RECURRENT_RETURN_IF_ERROR(
      CheckText(in.description(), kMaxTextLength, path + ".description"));
  out.amount_in_cents = in.amount_in_cents();
  out.quantity = in.quantity();
  out.discount_amount_in_cents = in.discount_amount_in_cents();
  out.tax_amount_in_cents = in.tax_amount_in_cents();
  out.prorated = in.prorated();
  out.description = in.description();
  return out;
}

// Gives each of `items` (line items or transactions of the invoice at
// `path`, named `list` there) sent without an external id the one `derive`
// makes from its 1-based position. kInvalidArgument naming the field if an
// explicit id equals the id derived for another item of the list, which
// would make them one.
template <typename Item>
absl::Status DeriveMissingIds(
    std::vector<Item>& items, const std::string& path, absl::string_view list,
    absl::FunctionRef<std::string(size_t position)> derive) {
  absl::flat_hash_map<std::string, size_t> derived;  // id -> index
  for (size_t j = 0; j < items.size(); ++j) {
    if (items[j].external_id.empty()) derived.emplace(derive(j + 1), j);
  }
  if (derived.empty()) return absl::OkStatus();
  for (size_t j = 0; j < items.size(); ++j) {
    if (items[j].external_id.empty()) continue;
    auto it = derived.find(items[j].external_id);
    if (it == derived.end()) continue;
    return InvalidField(
        absl::StrCat(path, ".", list, "[", j, "].external_id"),
        absl::StrCat("\"", items[j].external_id, "\" is the id derived for ",
                     path, ".", list, "[", it->second,
                     "], which has no external_id"));
  }
  for (auto& [id, j] : derived) items[j].external_id = id;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<persistence::Invoice>> ParseImportInvoices(
    const v1::ImportInvoicesRequest& request) {
  RECURRENT_RETURN_IF_ERROR(CheckId(
      request.customer_uuid(), common::kCustomerIdPrefix, "customer_uuid"));
  if (request.invoices().empty()) {
    return InvalidField("invoices", "at least one invoice is required");
  }
  if (request.invoices_size() > kMaxInvoicesPerImport) {
    return InvalidField(
        "invoices",
        absl::StrCat("at most ", kMaxInvoicesPerImport,
                     " invoices per call, got ", request.invoices_size()));
  }
  // External ids are unique per data source; "" stands for the customer's
  // own source here, which the storage resolves.
  DuplicateChecker invoice_ids, line_item_ids, transaction_ids;
  std::vector<persistence::Invoice> invoices;
  invoices.reserve(request.invoices_size());
  for (int i = 0; i < request.invoices_size(); ++i) {
    const v1::Invoice& in = request.invoices(i);
    const std::string path = absl::StrCat("invoices[", i, "]");
    persistence::Invoice out;
    out.customer_uuid = request.customer_uuid();
    if (!in.customer_uuid().empty() &&
        in.customer_uuid() != request.customer_uuid()) {
      return InvalidField(path + ".customer_uuid",
                          "must be empty or equal to the request's "
                          "customer_uuid");
    }
    RECURRENT_RETURN_IF_ERROR(
        CheckExternalId(in.external_id(), path + ".external_id"));
    out.external_id = in.external_id();
    if (!in.data_source_uuid().empty()) {
      RECURRENT_RETURN_IF_ERROR(CheckId(in.data_source_uuid(),
                                        common::kDataSourceIdPrefix,
                                        path + ".data_source_uuid"));
    }
    out.data_source_uuid = in.data_source_uuid();
    const std::string source_key = out.data_source_uuid + '\n';
    RECURRENT_RETURN_IF_ERROR(invoice_ids.Check(
        source_key + out.external_id, path + ".external_id", "invoice"));
    RECURRENT_ASSIGN_OR_RETURN(
        out.date, RequiredTime(in.has_date(), in.date(), path + ".date"));
    if (in.has_due_date()) {
      RECURRENT_ASSIGN_OR_RETURN(
          absl::Time due_date,
          TimeFromProto(in.due_date(), path + ".due_date"));
      if (due_date < out.date) {
        return InvalidField(path + ".due_date",
                            "must not be before the invoice date");
      }
      out.due_date = due_date;
    }
    if (!IsIsoCurrencyCode(in.currency())) {
      return InvalidField(
          path + ".currency",
          absl::StrCat("must be an ISO 4217 code such as \"EUR\", got \"",
                       Excerpt(in.currency(), 16), "\""));
    }
    out.currency = in.currency();
    if (in.line_items().empty()) {
      return InvalidField(path + ".line_items",
                          "at least one line item is required");
    }
    if (in.line_items_size() > kMaxLineItemsPerInvoice) {
      return InvalidField(
          path + ".line_items",
          absl::StrCat("at most ", kMaxLineItemsPerInvoice, " per invoice"));
    }
    if (in.transactions_size() > kMaxTransactionsPerInvoice) {
      return InvalidField(
          path + ".transactions",
          absl::StrCat("at most ", kMaxTransactionsPerInvoice, " per invoice"));
    }
    for (int j = 0; j < in.line_items_size(); ++j) {
      RECURRENT_ASSIGN_OR_RETURN(
          persistence::LineItem item,
          ParseLineItem(in.line_items(j),
                        absl::StrCat(path, ".line_items[", j, "]")));
      out.line_items.push_back(std::move(item));
    }
    for (int k = 0; k < in.transactions_size(); ++k) {
      RECURRENT_ASSIGN_OR_RETURN(
          persistence::Transaction tx,
          ParseTransaction(in.transactions(k),
                           absl::StrCat(path, ".transactions[", k, "]")));
      out.transactions.push_back(std::move(tx));
    }
    RECURRENT_RETURN_IF_ERROR(DeriveMissingIds(
        out.line_items, path, "line_items", [&](size_t position) {
          return core::DerivedLineItemId(out.external_id, position);
        }));
    RECURRENT_RETURN_IF_ERROR(DeriveMissingIds(
        out.transactions, path, "transactions", [&](size_t position) {
          return core::DerivedTransactionId(out.external_id, position);
        }));
    for (size_t j = 0; j < out.line_items.size(); ++j) {
      RECURRENT_RETURN_IF_ERROR(line_item_ids.Check(
          source_key + out.line_items[j].external_id,
          absl::StrCat(path, ".line_items[", j, "].external_id"), "line item"));
    }
    for (size_t k = 0; k < out.transactions.size(); ++k) {
      RECURRENT_RETURN_IF_ERROR(transaction_ids.Check(
          source_key + out.transactions[k].external_id,
          absl::StrCat(path, ".transactions[", k, "].external_id"),
          "transaction"));
    }
    invoices.push_back(std::move(out));
  }
  return invoices;
}

absl::StatusOr<persistence::Transaction> ParseAddTransaction(
    const v1::AddTransactionRequest& request) {
  RECURRENT_RETURN_IF_ERROR(CheckId(request.invoice_uuid(),
                                    common::kInvoiceIdPrefix, "invoice_uuid"));
  if (!request.has_transaction()) {
    return InvalidField("transaction", "required");
  }
  if (request.transaction().external_id().empty()) {
    // Unlike on import, nothing to derive one from: a re-sent call could
    // not be told from a second payment.
    return InvalidField("transaction.external_id",
                        "required by AddTransaction, so that a re-sent call "
                        "is not taken for a second payment");
  }
  return ParseTransaction(request.transaction(), "transaction");
}

absl::StatusOr<absl::Time> ParseGetInvoice(const v1::GetInvoiceRequest& request,
                                           absl::Time now) {
  RECURRENT_RETURN_IF_ERROR(
      CheckId(request.uuid(), common::kInvoiceIdPrefix, "uuid"));
  return ParseAsOf(request.has_as_of(), request.as_of(), now);
}

absl::StatusOr<InvoiceQuery> ParseListInvoices(
    const v1::ListInvoicesRequest& request, absl::Time now) {
  InvoiceQuery query;
  persistence::InvoiceFilter& filter = query.filter;
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(
      request.customer_uuid(), common::kCustomerIdPrefix, "customer_uuid"));
  RECURRENT_RETURN_IF_ERROR(CheckOptionalId(request.data_source_uuid(),
                                            common::kDataSourceIdPrefix,
                                            "data_source_uuid"));
  RECURRENT_RETURN_IF_ERROR(
      CheckLength(request.external_id(), kMaxExternalIdLength, "external_id"));
  filter.customer_uuid = request.customer_uuid();
  filter.data_source_uuid = request.data_source_uuid();
  filter.external_id = request.external_id();
  RECURRENT_ASSIGN_OR_RETURN(
      query.as_of, ParseAsOf(request.has_as_of(), request.as_of(), now));
  if (request.has_open()) {
    query.open_at = core::OpenAt{request.open(), query.as_of};
  }
  RECURRENT_ASSIGN_OR_RETURN(
      query.page, ParsePage(request.page_size(), request.page_token()));
  return query;
}

}  // namespace recurrent::service
