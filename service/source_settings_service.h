// SourceSettingsService: data sources and their past-due handling settings.
#ifndef RECURRENT_SERVICE_SOURCE_SETTINGS_SERVICE_H_
#define RECURRENT_SERVICE_SOURCE_SETTINGS_SERVICE_H_

#include <chrono>

#include "recurrent/v1/source_settings.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe. Adapts requests to Storage; see protos/recurrent/v1/
// source_settings.proto for the contract of each method.
class SourceSettingsServiceImpl final
    : public v1::SourceSettingsService::CallbackService {
 public:
  explicit SourceSettingsServiceImpl(const ServiceEnv& env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateDataSource(
      grpc::CallbackServerContext* context,
      const v1::CreateDataSourceRequest* request,
      v1::DataSource* response) override;
  grpc::ServerUnaryReactor* GetDataSource(
      grpc::CallbackServerContext* context,
      const v1::GetDataSourceRequest* request,
      v1::DataSource* response) override;
  grpc::ServerUnaryReactor* ListDataSources(
      grpc::CallbackServerContext* context,
      const v1::ListDataSourcesRequest* request,
      v1::ListDataSourcesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteDataSource(
      grpc::CallbackServerContext* context,
      const v1::DeleteDataSourceRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* GetSettings(grpc::CallbackServerContext* context,
                                        const v1::GetSettingsRequest* request,
                                        v1::SourceSettings* response) override;
  grpc::ServerUnaryReactor* UpdateSettings(
      grpc::CallbackServerContext* context,
      const v1::UpdateSettingsRequest* request,
      v1::UpdateSettingsResponse* response) override;
  grpc::ServerUnaryReactor* ListSettingsHistory(
      grpc::CallbackServerContext* context,
      const v1::ListSettingsHistoryRequest* request,
      v1::ListSettingsHistoryResponse* response) override;
  grpc::ServerUnaryReactor* ReprocessDataSource(
      grpc::CallbackServerContext* context,
      const v1::ReprocessDataSourceRequest* request,
      v1::ReprocessDataSourceResponse* response) override;

 private:
  // Counts a reprocess that began at `started` in env_.reprocess_metrics.
  void RecordReprocess(std::chrono::steady_clock::time_point started,
                       const core::SettingsImpact& impact) const;

  const ServiceEnv env_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_SOURCE_SETTINGS_SERVICE_H_
