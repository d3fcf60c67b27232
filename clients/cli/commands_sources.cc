// recurrentctl sources ... and settings ...: SourceSettingsService.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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

// One row per settings version; `result` is the RESULT column ("" to omit).
Table SettingsTable(bool with_result) {
  std::vector<std::string> headers = {"VERSION", "PAST-DUE HANDLING",
                                      "APPLIED AT"};
  if (with_result) headers.push_back("RESULT");
  for (const char* header :
       {"REPROCESSED", "CHURNS APPLIED", "CHURNS REVERSED", "STATUS CHANGES"}) {
    headers.push_back(header);
  }
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

int SourcesDelete(Session& session, const ParsedArgs& args) {
  v1::DeleteDataSourceRequest request;
  request.set_uuid(args.positional()[0]);
  google::protobuf::Empty empty;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().DeleteDataSource(context, request, &empty);
      })) {
    return rc;
  }
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
    auto at = ParseTimeFlag("effective-at", args.Get("effective-at"));
    if (!at.ok()) return session.UsageError(at.status());
    *request.mutable_effective_at() = *at;
  }
  v1::UpdateSettingsResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().UpdateSettings(context, request, &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  std::string result = request.dry_run()    ? "dry run (nothing changed)"
                       : response.applied() ? "applied"
                                            : "unchanged (already in force)";
  Table table = SettingsTable(/*with_result=*/true);
  std::vector<std::string> row = SettingsCells(response.settings());
  if (request.dry_run()) {
    // The response carries the settings in force; show the requested ones.
    row[0] = "";
    row[1] = HandlingName(request.past_due_handling());
    row[2] =
        request.has_effective_at() ? FormatTime(request.effective_at()) : "now";
  }
  row.push_back(result);
  for (std::string& cell : ImpactCells(response.impact())) {
    row.push_back(std::move(cell));
  }
  table.AddRow(std::move(row));
  table.Print(stdout);
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
               "STATUS CHANGES"});
  for (const v1::SettingsVersion& version : response.versions()) {
    std::vector<std::string> row = SettingsCells(version.settings());
    row.push_back(FormatTime(version.saved_at()));
    row.push_back(version.saved_by());
    for (std::string& cell : ImpactCells(version.impact())) {
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
  v1::ReprocessDataSourceResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.sources().ReprocessDataSource(context, request,
                                                     &response);
      })) {
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
       "external ids.",
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
       "anything.",
       {{"auto-churn-after", "DAYS", "Auto-churn after DAYS days past due."},
        {"keep", "", "Keep past-due subscriptions until cancelled."},
        {"effective-at", "DATE",
         "When the settings take effect (default now; never in the future)."},
        {"dry-run", "", "Show the impact; change nothing."}},
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
       "",
       {},
       1,
       1,
       {"recurrentctl settings reprocess ds_…"},
       SettingsReprocess});
  return commands;
}

}  // namespace recurrent::cli
