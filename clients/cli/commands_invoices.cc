// recurrentctl invoices ...: InvoiceService.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"
#include "clients/cli/views.h"
#include "google/protobuf/util/json_util.h"

namespace recurrent::cli {
namespace {

// Reads PATH, or stdin for "-".
absl::StatusOr<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin),
                       std::istreambuf_iterator<char>());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read ", path));
  }
  return text.str();
}

int InvoicesImport(Session& session, const ParsedArgs& args) {
  if (args.Get("file").empty()) {
    return session.UsageError(absl::InvalidArgumentError(
        "--file is required (a JSON file, or - for stdin)"));
  }
  const std::string path = args.Get("file");
  absl::StatusOr<std::string> text = ReadInput(path);
  if (!text.ok()) return session.LocalError(text.status());
  // A bare array is the list of invoices.
  std::string json = *text;
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(json), "[")) {
    json = absl::StrCat("{\"invoices\": ", json, "}");
  }
  v1::ImportInvoicesRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &request);
  if (!parsed.ok()) {
    return session.LocalError(absl::InvalidArgumentError(absl::StrCat(
        path == "-" ? "stdin" : path,
        ": not invoices in the protobuf JSON mapping ({\"invoices\": [...]} "
        "or [...]): ",
        std::string(parsed.message()))));
  }
  const std::string& customer = args.positional()[0];
  if (!request.customer_uuid().empty() && request.customer_uuid() != customer) {
    return session.UsageError(absl::InvalidArgumentError(
        absl::StrCat("the file names customer ", request.customer_uuid(),
                     ", not ", customer)));
  }
  request.set_customer_uuid(customer);
  v1::ImportInvoicesResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.invoices().ImportInvoices(context, request, &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  PrintInvoiceTable(response.invoices());
  return kExitOk;
}

int InvoicesGet(Session& session, const ParsedArgs& args) {
  v1::GetInvoiceRequest request;
  request.set_uuid(args.positional()[0]);
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  v1::ListInvoicesResponse list;
  v1::Invoice* invoice = list.add_invoices();
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.invoices().GetInvoice(context, request, invoice);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(*invoice);
  } else {
    session.PrintAsOf(AsOf(request));
    PrintInvoiceTable(list.invoices());
  }
  return kExitOk;
}

int InvoicesList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListInvoicesRequest request;
  request.set_customer_uuid(args.Get("customer"));
  request.set_data_source_uuid(args.Get("source"));
  request.set_external_id(args.Get("external-id"));
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  if (args.Has("open")) request.set_open(args.GetBool("open"));
  v1::ListInvoicesResponse all;
  if (int rc = FetchAllPages(
          session, *paging, request,
          [&](grpc::ClientContext* context,
              const v1::ListInvoicesRequest& page_request,
              v1::ListInvoicesResponse* page) {
            return session.invoices().ListInvoices(context, page_request, page);
          },
          [](v1::ListInvoicesResponse* response) {
            return response->mutable_invoices();
          },
          &all)) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(all);
    return kExitOk;
  }
  session.PrintAsOf(AsOf(request));
  PrintInvoiceTable(all.invoices());
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int InvoicesDelete(Session& session, const ParsedArgs& args) {
  v1::DeleteInvoiceRequest request;
  request.set_uuid(args.positional()[0]);
  google::protobuf::Empty empty;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.invoices().DeleteInvoice(context, request, &empty);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(empty);
  } else {
    std::printf("invoice %s deleted\n", request.uuid().c_str());
  }
  return kExitOk;
}

// After a payment: the invoice now, and the status now of the subscriptions
// it bills.
int PrintInvoiceStatus(Session& session, const std::string& invoice_uuid) {
  v1::GetInvoiceRequest get;
  get.set_uuid(invoice_uuid);
  google::protobuf::RepeatedPtrField<v1::Invoice> invoices;
  v1::Invoice* invoice = invoices.Add();
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.invoices().GetInvoice(context, get, invoice);
      })) {
    return rc;
  }
  std::printf("\nInvoice now\n");
  PrintInvoiceTable(invoices);
  absl::flat_hash_set<std::string> billed;
  for (const v1::LineItem& item : invoice->line_items()) {
    if (!item.subscription_external_id().empty()) {
      billed.insert(item.subscription_external_id());
    }
  }
  if (billed.empty()) return kExitOk;
  v1::ListSubscriptionsRequest list;
  list.set_customer_uuid(invoice->customer_uuid());
  v1::ListSubscriptionsResponse subscriptions;
  if (int rc = FetchSubscriptions(session, Paging(), list, &subscriptions)) {
    return rc;
  }
  google::protobuf::RepeatedPtrField<v1::Subscription> shown;
  for (v1::Subscription& sub : *subscriptions.mutable_subscriptions()) {
    if (billed.contains(sub.external_id())) *shown.Add() = std::move(sub);
  }
  std::printf("\nIts subscriptions now\n");
  PrintSubscriptionTable(shown);
  return kExitOk;
}

int InvoicesPay(Session& session, const ParsedArgs& args) {
  if (args.Get("external-id").empty()) {
    return session.UsageError(
        absl::InvalidArgumentError("--external-id is required"));
  }
  v1::AddTransactionRequest request;
  request.set_invoice_uuid(args.positional()[0]);
  v1::Transaction* transaction = request.mutable_transaction();
  transaction->set_external_id(args.Get("external-id"));
  transaction->set_type(args.GetBool("refund") ? v1::TRANSACTION_TYPE_REFUND
                                               : v1::TRANSACTION_TYPE_PAYMENT);
  transaction->set_result(args.GetBool("failed")
                              ? v1::TRANSACTION_RESULT_FAILED
                              : v1::TRANSACTION_RESULT_SUCCESSFUL);
  auto at = ParseTimeFlag("at", args.Get("at", "now"), session.Now());
  if (!at.ok()) return session.UsageError(at.status());
  *transaction->mutable_date() = *at;
  if (args.Has("amount-cents")) {
    auto cents = ParseInt64Flag("amount-cents", args.Get("amount-cents"));
    if (!cents.ok()) return session.UsageError(cents.status());
    transaction->set_amount_in_cents(*cents);
  }
  v1::Transaction response;
  const grpc::Status status =
      session.RpcStatus([&](grpc::ClientContext* context) {
        return session.invoices().AddTransaction(context, request, &response);
      });
  if (!status.ok()) {
    const int rc = session.RpcFailed(status);
    if (rc == kExitUnavailable && !args.Has("at")) {
      // A re-send is a no-op only if identical, date included.
      std::fprintf(stderr,
                   "recurrentctl: it may have been recorded all the same; "
                   "retry with --at=%s so that a retry of a recorded "
                   "transaction is a no-op\n",
                   absl::FormatTime(absl::RFC3339_full,
                                    absl::FromUnixSeconds(at->seconds()) +
                                        absl::Nanoseconds(at->nanos()),
                                    absl::UTCTimeZone())
                       .c_str());
    }
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table(
      {"UUID", "EXTERNAL ID", "INVOICE", "TYPE", "RESULT", "DATE", "AMOUNT"});
  table.AddRow({response.uuid(), response.external_id(), request.invoice_uuid(),
                TransactionTypeName(response.type()),
                TransactionResultName(response.result()),
                FormatTime(response.date()),
                response.has_amount_in_cents()
                    ? FormatMoney(response.amount_in_cents(), "")
                    : "amount due"});
  table.Print(stdout);
  if (PrintInvoiceStatus(session, request.invoice_uuid()) != kExitOk) {
    // The transaction is recorded: a retry must not be suggested.
    std::fprintf(stderr,
                 "recurrentctl: the transaction is recorded (above); only "
                 "showing the invoice failed\n");
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> InvoiceCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {"invoices",
       "import",
       "CUSTOMER_UUID",
       "Import invoices for one customer from a JSON file, all or nothing.",
       "The file holds {\"invoices\": [...]} or a bare array of invoices in "
       "the protobuf JSON\nmapping (lowerCamelCase names, enum names, RFC 3339 "
       "times, int64 amounts as\nstrings or numbers), 1 to 1,000 invoices. "
       "Re-importing identical invoices is a no-op.\nExample invoice:\n"
       "  {\"externalId\": \"INV-1\", \"date\": \"2025-02-01T00:00:00Z\", "
       "\"dueDate\": \"2025-02-01T00:00:00Z\",\n"
       "   \"currency\": \"EUR\", \"lineItems\": [{\"externalId\": \"LI-1\", "
       "\"type\": \"LINE_ITEM_TYPE_SUBSCRIPTION\",\n"
       "   \"subscriptionExternalId\": \"sub-1\", \"servicePeriodStart\": "
       "\"2025-02-01T00:00:00Z\",\n"
       "   \"servicePeriodEnd\": \"2025-03-01T00:00:00Z\", \"amountInCents\": "
       "4900, \"quantity\": 1}]}",
       {{"file", "PATH", "The JSON file; - reads stdin (required)."}},
       1,
       1,
       {"recurrentctl invoices import cus_… --file=invoices.json",
        "cat invoices.json | recurrentctl invoices import cus_… --file=-"},
       InvoicesImport});
  commands.push_back({"invoices",
                      "get",
                      "INVOICE_UUID",
                      "Show an invoice with its amount due and paid.",
                      "Paid and open are evaluated now, or at --as-of.",
                      {{"as-of", "DATE", "Evaluate at DATE (may be future)."}},
                      1,
                      1,
                      {"recurrentctl invoices get inv_… --output=json"},
                      InvoicesGet});
  std::vector<FlagSpec> list_flags = {
      {"customer", "CUSTOMER_UUID", "Only this customer's invoices."},
      {"source", "DATA_SOURCE_UUID", "Only this data source's invoices."},
      {"external-id", "ID", "Only the invoice with this external id."},
      {"open", "",
       "Only invoices open (not fully paid) at --as-of; "
       "--open=false: only those paid."},
      {"as-of", "DATE", "Evaluate paid and open at DATE (default now)."}};
  for (FlagSpec& flag : PagingFlags()) list_flags.push_back(flag);
  commands.push_back({"invoices",
                      "list",
                      "",
                      "List invoices in import order, with amounts paid and open.",
                      "",
                      list_flags,
                      0,
                      0,
                      {"recurrentctl invoices list --customer=cus_…"},
                      InvoicesList});
  commands.push_back({"invoices",
                      "delete",
                      "INVOICE_UUID",
                      "Delete an invoice.",
                      "Subscriptions left without any line item disappear.",
                      {},
                      1,
                      1,
                      {"recurrentctl invoices delete inv_…"},
                      InvoicesDelete});
  commands.push_back(
      {"invoices",
       "pay",
       "INVOICE_UUID",
       "Record a payment (or refund) for an invoice.",
       "A payment without --amount-cents pays the whole amount due. "
       "Re-sending an identical\ntransaction (the same --at too) is a no-op; "
       "a different one with the same external id\nis ALREADY_EXISTS. When a "
       "call fails without --at, the error says which --at to retry with.",
       {{"external-id", "ID", "The transaction's id (required)."},
        {"amount-cents", "CENTS", "Amount in cents (default: amount due)."},
        {"at", "DATE", "When it happened (default now)."},
        {"refund", "", "Record a refund instead of a payment."},
        {"failed", "", "Record a failed transaction."}},
       1,
       1,
       {"recurrentctl invoices pay inv_… --external-id=TR-1 --at=2025-02-20",
        "recurrentctl invoices pay inv_… --external-id=TR-2 --refund "
        "--amount-cents=500"},
       InvoicesPay});
  return commands;
}

}  // namespace recurrent::cli
