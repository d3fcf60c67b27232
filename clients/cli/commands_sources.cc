// recurrentctl sources ... and settings ...: SourceSettingsService.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"

namespace recurrent::cli {
namespace {

void PrintSources(Session& session, const v1::ListDataSourcesResponse& list) {
  if (session.json()) return session.PrintJson(list);
  Table table(
      {"UUID", "NAME", "SYSTEM", "PAST-DUE HANDLING", "VERSION", "CREATED"});
  for (const v1::DataSource& source : list.data_sources()) {
    table.AddRow({source.uuid(), source.name(), source.system(),
                  HandlingName(source.settings().past_due_handling()),
                  absl::StrCat(source.settings().version()),
                  FormatTime(source.created_at())});
  }
  table.Print(stdout);
}

void PrintSource(Session& session, const v1::DataSource& source) {
  if (session.json()) return session.PrintJson(source);
  v1::ListDataSourcesResponse list;
  *list.add_data_sources() = source;
  PrintSources(session, list);
}

// MRR CHANGE and CHURNED MRR: what a settings version did to MRR now.
constexpr const char* kMrrImpactHeaders[] = {"MRR CHANGE", "CHURNED MRR"};

std::vector<std::string> MrrImpactCells(const v1::SettingsImpact& impact) {
  return {FormatMoneyList(impact.mrr_change()),
          FormatMoneyList(impact.churned_mrr())};
}

// One row per settings version; `result` is the RESULT column ("" to omit).
Table SettingsTable(bool with_result) {
  std::vector<std::string> headers = {"VERSION", "PAST-DUE HANDLING",
                                      "APPLIED AT"};
  if (with_result) headers.push_back("RESULT");
  for (const char* header :
       {"REPROCESSED", "CHURNS APPLIED", "CHURNS REVERSED", "STATUS CHANGES"}) {
    headers.push_back(header);
  }
  for (const char* header : kMrrImpactHeaders) headers.push_back(header);
  return Table(std::move(headers));
}

std::vector<std::string> ImpactCells(const v1::SettingsImpact& impact) {
  return {absl::StrCat(impact.customers_reprocessed()),
          absl::StrCat(impact.auto_churns_applied()),
          absl::StrCat(impact.auto_churns_reversed()),
          absl::StrCat(impact.customers_status_changed())};
}

std::vector<std::string> SettingsCells(const v1::SourceSettings& settings) {
  return {absl::StrCat(settings.version()),
          HandlingName(settings.past_due_handling()),
          FormatTime(settings.applied_at())};
}

// --- sources ---------------------------------------------------------------

int SourcesCreate(Session& session, const ParsedArgs& args) {
  if (args.Get("name").empty()) {
    return session.UsageError(absl::InvalidArgumentError("--name is required"));
  }
  v1::CreateDataSourceRequest request;
  request.set_name(args.Get("name"));
  request.set_system(args.Get("system"));
  v1::DataSource source;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().CreateDataSource(context, request, &source);
      })) {
    return rc;
  }
  PrintSource(session, source);
  return kExitOk;
}

int SourcesList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListDataSourcesResponse all;
  if (int rc = FetchAllPages(
          session, *paging, v1::ListDataSourcesRequest(),
          [&](grpc::ClientContext* context,
              const v1::ListDataSourcesRequest& request,
              v1::ListDataSourcesResponse* page) {
            return session.sources().ListDataSources(context, request, page);
          },
          [](v1::ListDataSourcesResponse* response) {
            return response->mutable_data_sources();
          },
          &all)) {
    return rc;
  }
  PrintSources(session, all);
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int SourcesGet(Session& session, const ParsedArgs& args) {
  v1::GetDataSourceRequest request;
  request.set_uuid(args.positional()[0]);
  v1::DataSource source;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().GetDataSource(context, request, &source);
      })) {
    return rc;
  }
  PrintSource(session, source);
  return kExitOk;
}

// DeleteDataSource ran out of time: a delete that started on the server
// commits all the same, so look the source up and say whether it did.
int SourcesDeleteDeadlineExceeded(Session& session, const grpc::Status& status,
                                  const std::string& uuid) {
  session.RpcFailed(status);
  v1::GetDataSourceRequest get;
  get.set_uuid(uuid);
  v1::DataSource source;
  const grpc::Status checked =
      session.RpcStatus([&](grpc::ClientContext* context) {
        return session.sources().GetDataSource(context, get, &source);
      });
  if (checked.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::fprintf(stderr,
                 "recurrentctl: data source %s was deleted all the same\n",
                 uuid.c_str());
    return kExitOk;
  }
  if (checked.ok()) {
    std::fprintf(stderr,
                 "recurrentctl: data source %s is not deleted yet; if the "
                 "server started the delete, it still commits: check "
                 "'recurrentctl sources get %s' before sending it again\n",
                 uuid.c_str(), uuid.c_str());
  } else {
    std::fprintf(stderr,
                 "recurrentctl: could not look the data source up (%s); a "
                 "delete the server started still commits: see "
                 "'recurrentctl sources get %s'\n",
                 checked.error_message().c_str(), uuid.c_str());
  }
  return ExitCodeFor(status.error_code());
}

int SourcesDelete(Session& session, const ParsedArgs& args) {
  v1::DeleteDataSourceRequest request;
  request.set_uuid(args.positional()[0]);
  // That it exists before, so that after a deadline "gone" means deleted.
  v1::GetDataSourceRequest get;
  get.set_uuid(request.uuid());
  v1::DataSource before;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().GetDataSource(context, get, &before);
      })) {
    return rc;
  }
  session.UseSourceWideTimeout();
  google::protobuf::Empty empty;
  const grpc::Status status =
      session.RpcStatus([&](grpc::ClientContext* context) {
        return session.sources().DeleteDataSource(context, request, &empty);
      });
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return SourcesDeleteDeadlineExceeded(session, status, request.uuid());
  }
  if (!status.ok()) return session.RpcFailed(status);
  if (session.json()) {
    session.PrintJson(empty);
  } else {
    std::printf("data source %s deleted\n", request.uuid().c_str());
  }
  return kExitOk;
}

// --- settings --------------------------------------------------------------

int SettingsGet(Session& session, const ParsedArgs& args) {
  v1::GetSettingsRequest request;
  request.set_data_source_uuid(args.positional()[0]);
  v1::SourceSettings settings;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().GetSettings(context, request, &settings);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(settings);
    return kExitOk;
  }
  Table table({"DATA SOURCE", "VERSION", "PAST-DUE HANDLING", "APPLIED AT"});
  table.AddRow({settings.data_source_uuid(), absl::StrCat(settings.version()),
                HandlingName(settings.past_due_handling()),
                FormatTime(settings.applied_at())});
  table.Print(stdout);
  return kExitOk;
}

// The subscriptions a settings change changes (UpdateSettings with
// list_changes), and how many the list leaves out.
void PrintChanges(const v1::UpdateSettingsResponse& response) {
  std::printf("\nChanged subscriptions\n");
  Table table({"CUSTOMER", "CUSTOMER EXTERNAL ID", "SUBSCRIPTION",
               "EXTERNAL ID", "STATUS BEFORE", "STATUS AFTER", "CHURNS ADDED",
               "CHURNS REMOVED"});
  auto times = [](const auto& list) {
    return absl::StrJoin(list, ",", [](std::string* out, const auto& time) {
      out->append(FormatTime(time));
    });
  };
  for (const v1::SubscriptionChange& change : response.changes()) {
    table.AddRow({change.customer_uuid(), change.customer_external_id(),
                  change.subscription_uuid(), change.subscription_external_id(),
                  SubscriptionStatusName(change.status_before()),
                  SubscriptionStatusName(change.status_after()),
                  times(change.auto_churns_added()),
                  times(change.auto_churns_removed())});
  }
  table.Print(stdout);
  if (response.changes_not_listed() > 0) {
    std::printf("… and %lld more not listed\n",
                static_cast<long long>(response.changes_not_listed()));
  }
}

// UpdateSettings ran out of time: a change that started on the server
// commits all the same, so look at the history and say whether it did.
int SettingsDeadlineExceeded(Session& session, const grpc::Status& status,
                             const v1::UpdateSettingsRequest& request,
                             const v1::SourceSettings& before) {
  session.RpcFailed(status);
  v1::ListSettingsHistoryRequest history_request;
  history_request.set_data_source_uuid(request.data_source_uuid());
  v1::ListSettingsHistoryResponse history;
  grpc::Status checked =
      session.RpcStatus([&](grpc::ClientContext* context) {
        return session.sources().ListSettingsHistory(context, history_request,
                                                     &history);
      });
  if (!checked.ok()) {
    std::fprintf(stderr,
                 "recurrentctl: could not check the settings history (%s); "
                 "a change the server started still commits: see "
                 "'recurrentctl settings history %s'\n",
                 checked.error_message().c_str(),
                 request.data_source_uuid().c_str());
    return ExitCodeFor(status.error_code());
  }
  for (const v1::SettingsVersion& version : history.versions()) {
    const v1::SourceSettings& settings = version.settings();
    if (settings.version() > before.version() &&
        settings.past_due_handling().mode() ==
            request.past_due_handling().mode() &&
        settings.past_due_handling().auto_churn_after_days() ==
            request.past_due_handling().auto_churn_after_days()) {
      std::fprintf(stderr,
                   "recurrentctl: the change was applied all the same: "
                   "settings version %lld (see 'recurrentctl settings history "
                   "%s')\n",
                   static_cast<long long>(settings.version()),
                   request.data_source_uuid().c_str());
      return kExitOk;
    }
  }
  std::fprintf(stderr,
               "recurrentctl: the change is not applied yet (the current "
               "version is still %lld); if the server started it, it still "
               "commits: check 'recurrentctl settings history %s' before "
               "sending it again\n",
               static_cast<long long>(before.version()),
               request.data_source_uuid().c_str());
  return ExitCodeFor(status.error_code());
}

int SettingsSet(Session& session, const ParsedArgs& args) {
  const bool keep = args.GetBool("keep");
  const bool churn = args.Has("auto-churn-after");
  if (keep == churn) {
    return session.UsageError(absl::InvalidArgumentError(
        "give exactly one of --auto-churn-after=DAYS and --keep"));
  }
  v1::UpdateSettingsRequest request;
  request.set_data_source_uuid(args.positional()[0]);
  request.set_dry_run(args.GetBool("dry-run"));
  v1::PastDueHandling* handling = request.mutable_past_due_handling();
  if (keep) {
    handling->set_mode(v1::PAST_DUE_MODE_KEEP);
  } else {
    absl::StatusOr<int> days =
        ParseIntFlag("auto-churn-after", args.Get("auto-churn-after"));
    if (!days.ok()) return session.UsageError(days.status());
    handling->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
    handling->set_auto_churn_after_days(*days);
  }
  if (args.Has("effective-at")) {
    auto at =
        ParseTimeFlag("effective-at", args.Get("effective-at"), session.Now());
    if (!at.ok()) return session.UsageError(at.status());
    *request.mutable_effective_at() = *at;
  }
  request.set_list_changes(args.GetBool("list-changes"));
  session.UseSourceWideTimeout();
  // The version in force before the call, to tell after a deadline whether
  // the change was applied.
  v1::GetSettingsRequest get;
  get.set_data_source_uuid(request.data_source_uuid());
  v1::SourceSettings before;
  if (!request.dry_run()) {
    if (int rc = session.Rpc([&](grpc::ClientContext* context) {
          return session.sources().GetSettings(context, get, &before);
        })) {
      return rc;
    }
  }
  v1::UpdateSettingsResponse response;
  grpc::Status status = session.RpcStatus([&](grpc::ClientContext* context) {
    return session.sources().UpdateSettings(context, request, &response);
  });
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      !request.dry_run()) {
    return SettingsDeadlineExceeded(session, status, request, before);
  }
  if (!status.ok()) return session.RpcFailed(status);
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  std::string result = request.dry_run()    ? "dry run (not saved)"
                       : response.applied() ? "applied"
                                            : "unchanged (already in force)";
  Table table = SettingsTable(/*with_result=*/true);
  std::vector<std::string> row = SettingsCells(response.settings());
  row.push_back(result);
  for (std::string& cell : ImpactCells(response.impact())) {
    row.push_back(std::move(cell));
  }
  for (std::string& cell : MrrImpactCells(response.impact())) {
    row.push_back(std::move(cell));
  }
  table.AddRow(std::move(row));
  table.Print(stdout);
  if (request.list_changes()) PrintChanges(response);
  return kExitOk;
}

int SettingsHistory(Session& session, const ParsedArgs& args) {
  v1::ListSettingsHistoryRequest request;
  request.set_data_source_uuid(args.positional()[0]);
  v1::ListSettingsHistoryResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().ListSettingsHistory(context, request,
                                                     &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table({"VERSION", "PAST-DUE HANDLING", "APPLIED AT", "SAVED AT",
               "SAVED BY", "REPROCESSED", "CHURNS APPLIED", "CHURNS REVERSED",
               "STATUS CHANGES", kMrrImpactHeaders[0], kMrrImpactHeaders[1]});
  for (const v1::SettingsVersion& version : response.versions()) {
    std::vector<std::string> row = SettingsCells(version.settings());
    row.push_back(FormatTime(version.saved_at()));
    row.push_back(version.saved_by());
    for (std::string& cell : ImpactCells(version.impact())) {
      row.push_back(std::move(cell));
    }
    for (std::string& cell : MrrImpactCells(version.impact())) {
      row.push_back(std::move(cell));
    }
    table.AddRow(std::move(row));
  }
  table.Print(stdout);
  return kExitOk;
}

int SettingsReprocess(Session& session, const ParsedArgs& args) {
  v1::ReprocessDataSourceRequest request;
  request.set_data_source_uuid(args.positional()[0]);
  session.UseSourceWideTimeout();
  v1::ReprocessDataSourceResponse response;
  grpc::Status status = session.RpcStatus([&](grpc::ClientContext* context) {
    return session.sources().ReprocessDataSource(context, request, &response);
  });
  if (!status.ok()) {
    const int rc = session.RpcFailed(status);
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      std::fprintf(stderr,
                   "recurrentctl: a reprocess the server started runs to "
                   "its end all the same\n");
    }
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  Table table(
      {"REPROCESSED", "CHURNS APPLIED", "CHURNS REVERSED", "STATUS CHANGES"});
  table.AddRow(ImpactCells(response.impact()));
  table.Print(stdout);
  return kExitOk;
}

}  // namespace

std::vector<Command> SourceCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {"sources",
       "create",
       "",
       "Create a data source (a billing system).",
       "A new source keeps past-due subscriptions until they are cancelled "
       "(settings version 1,\nmode keep). Names are unique.",
       {{"name", "NAME", "Unique, human-readable name (required)."},
        {"system", "SYSTEM", "Billing system, e.g. stripe (default: custom)."}},
       0,
       0,
       {"recurrentctl sources create --name=Stripe --system=stripe"},
       SourcesCreate});
  commands.push_back({"sources",
                      "list",
                      "",
                      "List data sources in creation order.",
                      "",
                      PagingFlags(),
                      0,
                      0,
                      {"recurrentctl sources list --output=json"},
                      SourcesList});
  commands.push_back({"sources",
                      "get",
                      "DATA_SOURCE_UUID",
                      "Show one data source with its current settings.",
                      "",
                      {},
                      1,
                      1,
                      {"recurrentctl sources get ds_…"},
                      SourcesGet});
  commands.push_back(
      {"sources",
       "delete",
       "DATA_SOURCE_UUID",
       "Delete a data source and everything that belongs to it.",
       "Customers that belong only to this source are deleted with their "
       "invoices and\nsubscriptions; merged customers keep their other "
       "external ids.\nThe call's deadline is 10 minutes unless --timeout is "
       "given; when it passes,\nrecurrentctl looks the source up and says "
       "whether it was deleted all the same.",
       {},
       1,
       1,
       {"recurrentctl sources delete ds_…"},
       SourcesDelete});

  commands.push_back({"settings",
                      "get",
                      "DATA_SOURCE_UUID",
                      "Show the current past-due settings of a data source.",
                      "",
                      {},
                      1,
                      1,
                      {"recurrentctl settings get ds_…"},
                      SettingsGet});
  commands.push_back(
      {"settings",
       "set",
       "DATA_SOURCE_UUID",
       "Change how past-due subscriptions are handled, and reprocess.",
       "--auto-churn-after=DAYS cancels subscriptions past due for DAYS "
       "(1-90) days; --keep\nkeeps them past due until cancelled. Saving "
       "reverses earlier automatic cancellations\nand applies the new rule "
       "atomically; --dry-run previews the impact without changing\n"
       "anything.\nThe call's deadline is 10 minutes unless --timeout is given; "
       "when it passes, the\nsettings history tells whether the change was "
       "applied (a started change commits).",
       {{"auto-churn-after", "DAYS", "Auto-churn after DAYS days past due."},
        {"keep", "", "Keep past-due subscriptions until cancelled."},
        {"effective-at", "DATE",
         "When the settings take effect (default now; never in the future)."},
        {"dry-run", "", "Show the impact; change nothing."},
        {"list-changes", "",
         "Also list the subscriptions that change (the first 1,000)."}},
       1,
       1,
       {"recurrentctl settings set ds_… --auto-churn-after=14 --dry-run",
        "recurrentctl settings set ds_… --keep --effective-at=2025-01-01"},
       SettingsSet});
  commands.push_back({"settings",
                      "history",
                      "DATA_SOURCE_UUID",
                      "List every settings version, oldest first, with its "
                      "impact.",
                      "",
                      {},
                      1,
                      1,
                      {"recurrentctl settings history ds_…"},
                      SettingsHistory});
  commands.push_back(
      {"settings",
       "reprocess",
       "DATA_SOURCE_UUID",
       "Recompute every customer of a data source under its current settings.",
       "The call's deadline is 10 minutes unless --timeout is given.",
       {},
       1,
       1,
       {"recurrentctl settings reprocess ds_…"},
       SettingsReprocess});
  return commands;
}

}  // namespace recurrent::cli
