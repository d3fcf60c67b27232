#include "service/source_settings_service.h"

#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/field_checks.h"
#include "service/source_settings_requests.h"

namespace recurrent::service {

void SourceSettingsServiceImpl::RecordReprocess(
    std::chrono::steady_clock::time_point started,
    const core::SettingsImpact& impact) const {
  if (env_.reprocess_metrics == nullptr) return;
  env_.reprocess_metrics->Record(
      absl::FromChrono(std::chrono::steady_clock::now() - started),
      impact.customers_reprocessed);
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::CreateDataSource(
    grpc::CallbackServerContext* context,
    const v1::CreateDataSourceRequest* request, v1::DataSource* response) {
  return Dispatch(
      context, env_, Role::kAdmin,
      [this, request, response](const Caller& caller) {
        RECURRENT_ASSIGN_OR_RETURN(NewDataSource source,
                                   ParseCreateDataSource(*request));
        const absl::Time now = env_.clock->Now();
        RECURRENT_ASSIGN_OR_RETURN(
            core::DataSource created,
            env_.store->CreateDataSource(source.name, source.system, now));
        env_.access->Audit(caller, "SourceSettingsService.CreateDataSource",
                           created.uuid, now);
        DataSourceToProto(created, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::GetDataSource(
    grpc::CallbackServerContext* context,
    const v1::GetDataSourceRequest* request, v1::DataSource* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_RETURN_IF_ERROR(
        CheckId(request->uuid(), common::kDataSourceIdPrefix, "uuid"));
    RECURRENT_ASSIGN_OR_RETURN(core::DataSource source,
                               env_.store->GetDataSource(request->uuid()));
    DataSourceToProto(source, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::ListDataSources(
    grpc::CallbackServerContext* context,
    const v1::ListDataSourcesRequest* request,
    v1::ListDataSourcesResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::PageRequest page_request,
        ParsePage(request->page_size(), request->page_token()));
    RECURRENT_ASSIGN_OR_RETURN(persistence::Page<core::DataSource> page,
                               env_.store->ListDataSources(page_request));
    for (const core::DataSource& source : page.items) {
      DataSourceToProto(source, response->add_data_sources());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::DeleteDataSource(
    grpc::CallbackServerContext* context,
    const v1::DeleteDataSourceRequest* request,
    google::protobuf::Empty* response) {
  return Dispatch(
      context, env_, Role::kAdmin, [this, request](const Caller& caller) {
        RECURRENT_RETURN_IF_ERROR(
            CheckId(request->uuid(), common::kDataSourceIdPrefix, "uuid"));
        const absl::Time now = env_.clock->Now();
        RECURRENT_RETURN_IF_ERROR(
            env_.store->DeleteDataSource(request->uuid(), now));
        env_.access->Audit(caller, "SourceSettingsService.DeleteDataSource",
                           request->uuid(), now);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::GetSettings(
    grpc::CallbackServerContext* context, const v1::GetSettingsRequest* request,
    v1::SourceSettings* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_RETURN_IF_ERROR(CheckId(request->data_source_uuid(),
                                      common::kDataSourceIdPrefix,
                                      "data_source_uuid"));
    RECURRENT_ASSIGN_OR_RETURN(
        core::SourceSettings settings,
        env_.store->GetSettings(request->data_source_uuid()));
    SettingsToProto(settings, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::UpdateSettings(
    grpc::CallbackServerContext* context,
    const v1::UpdateSettingsRequest* request,
    v1::UpdateSettingsResponse* response) {
  return Dispatch(
      context, env_, Role::kAdmin,
      [this, request, response](const Caller& caller) {
        const absl::Time now = env_.clock->Now();
        RECURRENT_ASSIGN_OR_RETURN(SettingsChange change,
                                   ParseUpdateSettings(*request, now));
        auto decide = [&](const core::SourceSettings& current)
            -> absl::StatusOr<std::optional<core::NewSettings>> {
          // Saving what is already in force without a new effective_at changes
          // nothing (a dry run of it previews exactly that).
          if (current.past_due_handling == change.past_due_handling &&
              !change.effective_at) {
            return std::nullopt;
          }
          return core::NewSettings{change.past_due_handling,
                                   change.effective_at.value_or(now),
                                   caller.key_name};
        };
        const auto started = std::chrono::steady_clock::now();
        RECURRENT_ASSIGN_OR_RETURN(
            core::Store::SettingsUpdate update,
            env_.store->UpdateSettings(request->data_source_uuid(), decide,
                                       change.dry_run, now,
                                       change.list_changes));
        if (update.applied) RecordReprocess(started, update.impact);
        if (update.applied) {
          env_.access->Audit(caller, "SourceSettingsService.UpdateSettings",
                             absl::StrCat(request->data_source_uuid(),
                                          " version ", update.settings.version),
                             now);
        }
        SettingsToProto(update.settings, response->mutable_settings());
        ImpactToProto(update.impact, response->mutable_impact());
        response->set_applied(update.applied);
        for (const core::SubscriptionChange& listed : update.changes) {
          SubscriptionChangeToProto(listed, response->add_changes());
        }
        response->set_changes_not_listed(update.changes_not_listed);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::ListSettingsHistory(
    grpc::CallbackServerContext* context,
    const v1::ListSettingsHistoryRequest* request,
    v1::ListSettingsHistoryResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_RETURN_IF_ERROR(CheckId(request->data_source_uuid(),
                                      common::kDataSourceIdPrefix,
                                      "data_source_uuid"));
    RECURRENT_ASSIGN_OR_RETURN(
        std::vector<core::SourceSettings> versions,
        env_.store->ListSettingsHistory(request->data_source_uuid()));
    for (const core::SourceSettings& version : versions) {
      v1::SettingsVersion* out = response->add_versions();
      SettingsToProto(version, out->mutable_settings());
      *out->mutable_saved_at() = TimeToProto(version.saved_at);
      ImpactToProto(version.impact, out->mutable_impact());
      out->set_saved_by(version.saved_by);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* SourceSettingsServiceImpl::ReprocessDataSource(
    grpc::CallbackServerContext* context,
    const v1::ReprocessDataSourceRequest* request,
    v1::ReprocessDataSourceResponse* response) {
  return Dispatch(
      context, env_, Role::kAdmin,
      [this, request, response](const Caller& caller) {
        RECURRENT_RETURN_IF_ERROR(CheckId(request->data_source_uuid(),
                                          common::kDataSourceIdPrefix,
                                          "data_source_uuid"));
        const absl::Time now = env_.clock->Now();
        const auto started = std::chrono::steady_clock::now();
        RECURRENT_ASSIGN_OR_RETURN(
            core::SettingsImpact impact,
            env_.store->ReprocessDataSource(request->data_source_uuid(), now));
        RecordReprocess(started, impact);
        env_.access->Audit(caller, "SourceSettingsService.ReprocessDataSource",
                           request->data_source_uuid(), now);
        ImpactToProto(impact, response->mutable_impact());
        return absl::OkStatus();
      });
}

}  // namespace recurrent::service
