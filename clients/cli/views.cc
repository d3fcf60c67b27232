#include "clients/cli/views.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"

namespace recurrent::cli {

void PrintSubscriptionTable(
    const google::protobuf::RepeatedPtrField<v1::Subscription>& subscriptions) {
  Table table({"UUID", "EXTERNAL ID", "STATUS", "STARTED", "CURRENT PERIOD",
               "PAST DUE SINCE", "CANCELLED AT", "REASON"});
  for (const v1::Subscription& sub : subscriptions) {
    std::string status = SubscriptionStatusName(sub.status());
    if (sub.auto_churned()) absl::StrAppend(&status, " (auto-churned)");
    std::string period;
    if (sub.has_current_period_start() || sub.has_current_period_end()) {
      period = absl::StrCat(FormatTime(sub.current_period_start()), "..",
                            FormatTime(sub.current_period_end()));
    }
    table.AddRow({sub.uuid(), sub.external_id(), status,
                  FormatTime(sub.started_at()), period,
                  FormatTime(sub.past_due_since()),
                  FormatTime(sub.cancelled_at()), sub.status_reason()});
  }
  table.Print(stdout);
}

void PrintEventTable(
    const google::protobuf::RepeatedPtrField<v1::SubscriptionEvent>& events) {
  Table table({"OCCURRED AT", "TYPE", "STATUS AFTER", "SUBSCRIPTION",
               "EXTERNAL ID", "CUSTOMER", "UUID"});
  for (const v1::SubscriptionEvent& event : events) {
    table.AddRow({FormatTime(event.occurred_at()), EventTypeName(event.type()),
                  SubscriptionStatusName(event.status_after()),
                  event.subscription_uuid(), event.subscription_external_id(),
                  event.customer_uuid(), event.uuid()});
  }
  table.Print(stdout);
}

void PrintInvoiceTable(
    const google::protobuf::RepeatedPtrField<v1::Invoice>& invoices) {
  Table table({"UUID", "EXTERNAL ID", "CUSTOMER", "DATE", "DUE DATE", "AMOUNT",
               "PAID", "OPEN"});
  for (const v1::Invoice& invoice : invoices) {
    table.AddRow({invoice.uuid(), invoice.external_id(),
                  invoice.customer_uuid(), FormatTime(invoice.date()),
                  FormatTime(invoice.due_date()),
                  FormatMoney(invoice.amount_due_in_cents(), invoice.currency()),
                  FormatMoney(invoice.amount_paid_in_cents(),
                              invoice.currency()),
                  invoice.open() ? "yes" : "no"});
  }
  table.Print(stdout);
}

}  // namespace recurrent::cli
