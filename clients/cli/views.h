// The tables several recurrentctl commands print: subscriptions, events and
// invoices, each a row per item with the same columns wherever it appears;
// and the MRR views of `recurrentctl mrr`.
#ifndef RECURRENT_CLIENTS_CLI_VIEWS_H_
#define RECURRENT_CLIENTS_CLI_VIEWS_H_

#include <string>

#include "clients/cli/table.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"
#include "recurrent/v1/metrics.pb.h"

namespace recurrent::cli {

// UUID, EXTERNAL ID, STATUS ("cancelled (auto-churned)"), MRR ("49.00 EUR"),
// STARTED, CURRENT PERIOD, PAST DUE SINCE, CANCELLED AT, REASON; to stdout.
void PrintSubscriptionTable(
    const google::protobuf::RepeatedPtrField<v1::Subscription>& subscriptions);

// OCCURRED AT, TYPE, STATUS AFTER, SUBSCRIPTION, EXTERNAL ID, CUSTOMER, UUID;
// to stdout.
void PrintEventTable(
    const google::protobuf::RepeatedPtrField<v1::SubscriptionEvent>& events);

// UUID, EXTERNAL ID, CUSTOMER, DATE, DUE DATE, AMOUNT, PAID, OPEN (the
// server's amounts at the request's instant); to stdout.
void PrintInvoiceTable(
    const google::protobuf::RepeatedPtrField<v1::Invoice>& invoices);

// GetMrr's totals, a row per currency: MRR, ACTIVE MRR, PAST-DUE MRR,
// ACTIVE CUSTOMERS, PAST-DUE CUSTOMERS (amounts with their currency).
Table MrrTotalsTable(const v1::GetMrrResponse& response);

// MRR movements, a row each: OCCURRED AT, TYPE ("new-business"), CUSTOMER,
// SOURCE, CHANGE, MRR AFTER.
Table MrrMovementsTable(
    const google::protobuf::RepeatedPtrField<v1::MrrMovement>& movements);

// A row per point: START, then MRR and the five movement sums (NEW
// BUSINESS, EXPANSION, CONTRACTION, CHURN, REACTIVATION), each listing the
// point's currencies ("49.00 EUR, 12.00 USD"), then the customer counts at
// the end of the interval: LEADS, ACTIVE, PAST DUE, CANCELLED.
Table MrrSeriesTable(const v1::GetMrrSeriesResponse& response);

// A bar chart (chart.h) of the MRR at each point per currency, in currency
// order, each headed "MRR EUR" and separated by a blank line; a point
// without the currency counts 0. "" when no point has a total.
std::string MrrSeriesCharts(const v1::GetMrrSeriesResponse& response);

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_VIEWS_H_
