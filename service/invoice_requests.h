// Parsing of InvoiceService requests: each Parse* function checks a request
// completely and returns the typed values the handler needs, or an
// INVALID_ARGUMENT status naming the offending field (InvalidField,
// service/errors.h). Handlers parse before calling the core, so a rejected
// request changes nothing.
#ifndef RECURRENT_SERVICE_INVOICE_REQUESTS_H_
#define RECURRENT_SERVICE_INVOICE_REQUESTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "persistence/records.h"
#include "recurrent/v1/invoice.pb.h"

namespace recurrent::service {

// At most this many invoices per ImportInvoices call.
inline constexpr int kMaxInvoicesPerImport = 1000;

// Checks every invoice of the batch (ids, ISO 4217 currency, dates, service
// periods, line item types, quantities, transactions, duplicate external ids
// within the batch) and converts it; field paths read like
// "invoices[2].line_items[0].service_period_end".
absl::StatusOr<std::vector<persistence::Invoice>> ParseImportInvoices(
    const v1::ImportInvoicesRequest& request);

absl::StatusOr<persistence::Transaction> ParseAddTransaction(
    const v1::AddTransactionRequest& request);

absl::StatusOr<persistence::InvoiceFilter> ParseInvoiceFilter(
    const v1::ListInvoicesRequest& request);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_INVOICE_REQUESTS_H_
