#include "clients/cli/views.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/chart.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"

namespace recurrent::cli {

void PrintSubscriptionTable(
    const google::protobuf::RepeatedPtrField<v1::Subscription>& subscriptions) {
  Table table({"UUID", "EXTERNAL ID", "STATUS", "MRR", "STARTED",
               "CURRENT PERIOD", "PAST DUE SINCE", "CANCELLED AT", "REASON"});
  for (const v1::Subscription& sub : subscriptions) {
    std::string status = SubscriptionStatusName(sub.status());
    if (sub.auto_churned()) absl::StrAppend(&status, " (auto-churned)");
    std::string period;
    if (sub.has_current_period_start() || sub.has_current_period_end()) {
      period = absl::StrCat(FormatTime(sub.current_period_start()), "..",
                            FormatTime(sub.current_period_end()));
    }
    table.AddRow({sub.uuid(), sub.external_id(), status,
                  FormatMoney(sub.mrr_in_cents(), sub.currency()),
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
    table.AddRow(
        {invoice.uuid(), invoice.external_id(), invoice.customer_uuid(),
         FormatTime(invoice.date()), FormatTime(invoice.due_date()),
         FormatMoney(invoice.amount_due_in_cents(), invoice.currency()),
         FormatMoney(invoice.amount_paid_in_cents(), invoice.currency()),
         invoice.open() ? "yes" : "no"});
  }
  table.Print(stdout);
}

Table MrrTotalsTable(const v1::GetMrrResponse& response) {
  Table table({"MRR", "ACTIVE MRR", "PAST-DUE MRR", "ACTIVE CUSTOMERS",
               "PAST-DUE CUSTOMERS"});
  for (const v1::MrrTotal& total : response.totals()) {
    table.AddRow({FormatMoney(total.mrr_in_cents(), total.currency()),
                  FormatMoney(total.active_mrr_in_cents(), total.currency()),
                  FormatMoney(total.past_due_mrr_in_cents(), total.currency()),
                  absl::StrCat(total.active_customers()),
                  absl::StrCat(total.past_due_customers())});
  }
  return table;
}

Table MrrMovementsTable(
    const google::protobuf::RepeatedPtrField<v1::MrrMovement>& movements) {
  Table table(
      {"OCCURRED AT", "TYPE", "CUSTOMER", "SOURCE", "CHANGE", "MRR AFTER"});
  for (const v1::MrrMovement& movement : movements) {
    table.AddRow(
        {FormatTime(movement.occurred_at()), MovementTypeName(movement.type()),
         movement.customer_uuid(), movement.data_source_uuid(),
         FormatMoney(movement.mrr_change_in_cents(), movement.currency()),
         FormatMoney(movement.mrr_after_in_cents(), movement.currency())});
  }
  return table;
}

Table MrrSeriesTable(const v1::GetMrrSeriesResponse& response) {
  using Field = int64_t (v1::MrrSeriesTotal::*)() const;
  constexpr Field kAmounts[] = {&v1::MrrSeriesTotal::mrr_in_cents,
                                &v1::MrrSeriesTotal::new_business_in_cents,
                                &v1::MrrSeriesTotal::expansion_in_cents,
                                &v1::MrrSeriesTotal::contraction_in_cents,
                                &v1::MrrSeriesTotal::churn_in_cents,
                                &v1::MrrSeriesTotal::reactivation_in_cents};
  Table table({"START", "MRR", "NEW BUSINESS", "EXPANSION", "CONTRACTION",
               "CHURN", "REACTIVATION", "LEADS", "ACTIVE", "PAST DUE",
               "CANCELLED"});
  for (const v1::MrrSeriesPoint& point : response.points()) {
    std::vector<std::string> row = {FormatTime(point.start_time())};
    for (Field amount : kAmounts) {
      row.push_back(absl::StrJoin(
          point.totals(), ", ",
          [amount](std::string* out, const v1::MrrSeriesTotal& total) {
            out->append(FormatMoney((total.*amount)(), total.currency()));
          }));
    }
    for (int64_t count :
         {point.lead_customers(), point.active_customers(),
          point.past_due_customers(), point.cancelled_customers()}) {
      row.push_back(absl::StrCat(count));
    }
    table.AddRow(std::move(row));
  }
  return table;
}

std::string MrrSeriesCharts(const v1::GetMrrSeriesResponse& response) {
  std::set<std::string> currencies;
  for (const v1::MrrSeriesPoint& point : response.points()) {
    for (const v1::MrrSeriesTotal& total : point.totals()) {
      currencies.insert(total.currency());
    }
  }
  std::vector<std::string> charts;
  for (const std::string& currency : currencies) {
    std::vector<Bar> bars;
    for (const v1::MrrSeriesPoint& point : response.points()) {
      int64_t mrr = 0;
      for (const v1::MrrSeriesTotal& total : point.totals()) {
        if (total.currency() == currency) mrr = total.mrr_in_cents();
      }
      bars.push_back(
          {FormatTime(point.start_time()), mrr, FormatMoney(mrr, currency)});
    }
    charts.push_back(absl::StrCat("MRR ", currency, "\n", BarChart(bars)));
  }
  return absl::StrJoin(charts, "\n");
}

}  // namespace recurrent::cli
