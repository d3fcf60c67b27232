// recurrentctl mrr ...: MetricsService (MRR, its movements and a series).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"
#include "clients/cli/views.h"

namespace recurrent::cli {
namespace {

// Sets `request`'s start_time from --start and end_time from --end, each
// when given (unset otherwise). INVALID_ARGUMENT for a bad date.
template <typename Request>
absl::Status ParseTimeRange(const ParsedArgs& args, absl::Time now,
                            Request* request) {
  using Setter = google::protobuf::Timestamp* (Request::*)();
  for (auto [flag, field] :
       {std::pair<const char*, Setter>{"start", &Request::mutable_start_time},
        std::pair<const char*, Setter>{"end", &Request::mutable_end_time}}) {
    if (!args.Has(flag)) continue;
    absl::StatusOr<google::protobuf::Timestamp> time =
        ParseTimeFlag(flag, args.Get(flag), now);
    if (!time.ok()) return time.status();
    *(request->*field)() = *time;
  }
  return absl::OkStatus();
}

int MrrGet(Session& session, const ParsedArgs& args) {
  v1::GetMrrRequest request;
  request.set_data_source_uuid(args.Get("source"));
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  v1::GetMrrResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.metrics().GetMrr(context, request, &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  session.PrintAsOf(AsOf(request));
  MrrTotalsTable(response).Print(stdout);
  std::printf("Lead customers: %lld, cancelled customers: %lld\n",
              static_cast<long long>(response.lead_customers()),
              static_cast<long long>(response.cancelled_customers()));
  return kExitOk;
}

int MrrMovements(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListMrrMovementsRequest request;
  request.set_data_source_uuid(args.Get("source"));
  request.set_customer_uuid(args.Get("customer"));
  if (absl::Status s = ParseTimeRange(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  v1::ListMrrMovementsResponse all;
  if (int rc = FetchAllPages(
          session, *paging, request,
          [&](grpc::ClientContext* context,
              const v1::ListMrrMovementsRequest& page_request,
              v1::ListMrrMovementsResponse* page) {
            return session.metrics().ListMrrMovements(context, page_request,
                                                      page);
          },
          [](v1::ListMrrMovementsResponse* response) {
            return response->mutable_movements();
          },
          &all)) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(all);
    return kExitOk;
  }
  MrrMovementsTable(all.movements()).Print(stdout);
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int MrrSeries(Session& session, const ParsedArgs& args) {
  for (const char* required : {"start", "end", "interval"}) {
    if (!args.Has(required)) {
      return session.UsageError(absl::InvalidArgumentError(
          absl::StrCat("--", required, " is required")));
    }
  }
  v1::GetMrrSeriesRequest request;
  request.set_data_source_uuid(args.Get("source"));
  if (absl::Status s = ParseTimeRange(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  absl::StatusOr<v1::SeriesInterval> interval =
      ParseSeriesInterval("interval", args.Get("interval"));
  if (!interval.ok()) return session.UsageError(interval.status());
  request.set_interval(*interval);
  v1::GetMrrSeriesResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.metrics().GetMrrSeries(context, request, &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  MrrSeriesTable(response).Print(stdout);
  if (args.GetBool("chart")) {
    const std::string charts = MrrSeriesCharts(response);
    if (!charts.empty()) std::printf("\n%s", charts.c_str());
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> MetricsCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {"mrr",
       "get",
       "",
       "Show MRR per currency now or at --as-of, with customer counts.",
       "MRR from subscriptions active and past due (which keep contributing "
       "until cancelled),\nthe customers with MRR by status, and the lead and "
       "cancelled customers. Without\n--source: every data source.",
       {{"source", "DATA_SOURCE_UUID", "Only this data source."},
        {"as-of", "DATE", "Evaluate at DATE (default now; may be future)."}},
       0,
       0,
       {"recurrentctl mrr get --source=ds_… --as-of=2025-04-15"},
       MrrGet});
  std::vector<FlagSpec> movement_flags = {
      {"source", "DATA_SOURCE_UUID", "Only movements of this data source."},
      {"customer", "CUSTOMER_UUID", "Only movements of this customer."},
      {"start", "DATE", "Only movements at or after DATE."},
      {"end", "DATE", "Only movements before DATE."}};
  for (FlagSpec& flag : PagingFlags()) movement_flags.push_back(flag);
  commands.push_back(
      {"mrr",
       "movements",
       "",
       "List MRR movements in time order.",
       "Each movement is one customer's MRR change in one source and "
       "currency at one instant:\nnew-business, expansion, contraction, "
       "churn or reactivation.",
       movement_flags,
       0,
       0,
       {"recurrentctl mrr movements --source=ds_… --start=2025-01-01 "
        "--limit=20"},
       MrrMovements});
  commands.push_back(
      {"mrr",
       "series",
       "",
       "Show MRR and its movements per day, week or month.",
       "One row per interval (UTC; weeks start on Monday) overlapping "
       "[--start, --end): the\nMRR at its end, the sums of its movements by "
       "type, and the customers by status at its\nend. --chart adds a bar "
       "chart of the MRR per interval, one per currency.",
       {{"start", "DATE", "Start of the series (required)."},
        {"end", "DATE", "End of the series, excluded (required)."},
        {"interval", "INTERVAL", "day, week or month (required)."},
        {"source", "DATA_SOURCE_UUID", "Only this data source."},
        {"chart", "", "Also draw the MRR as a bar chart."}},
       0,
       0,
       {"recurrentctl mrr series --start=2025-01-01 --end=2026-01-01 "
        "--interval=month --chart"},
       MrrSeries});
  return commands;
}

}  // namespace recurrent::cli
