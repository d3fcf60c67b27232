// The tables several recurrentctl commands print: subscriptions, events and
// invoices, each a row per item with the same columns wherever it appears.
#ifndef RECURRENT_CLIENTS_CLI_VIEWS_H_
#define RECURRENT_CLIENTS_CLI_VIEWS_H_

#include "google/protobuf/repeated_ptr_field.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"

namespace recurrent::cli {

// UUID, EXTERNAL ID, STATUS ("cancelled (auto-churned)"), STARTED, CURRENT
// PERIOD, PAST DUE SINCE, CANCELLED AT, REASON; to stdout.
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

}  // namespace recurrent::cli

#endif  // RECURRENT_CLIENTS_CLI_VIEWS_H_
