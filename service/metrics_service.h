// MetricsService: MRR and its movements from the stored MRR rows
// (core/mrr_metrics.h); see protos/recurrent/v1/metrics.proto and
// docs/api.md "MetricsService". Every RPC needs a READER key.
#ifndef RECURRENT_SERVICE_METRICS_SERVICE_H_
#define RECURRENT_SERVICE_METRICS_SERVICE_H_

#include "core/mrr_metrics.h"
#include "recurrent/v1/metrics.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe.
class MetricsServiceImpl final : public v1::MetricsService::CallbackService {
 public:
  // `metrics` is not owned and must outlive this service.
  MetricsServiceImpl(const ServiceEnv& env, core::MrrMetrics* metrics)
      : env_(env), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetMrr(grpc::CallbackServerContext* context,
                                   const v1::GetMrrRequest* request,
                                   v1::GetMrrResponse* response) override;
  grpc::ServerUnaryReactor* ListMrrMovements(
      grpc::CallbackServerContext* context,
      const v1::ListMrrMovementsRequest* request,
      v1::ListMrrMovementsResponse* response) override;
  grpc::ServerUnaryReactor* GetMrrSeries(
      grpc::CallbackServerContext* context,
      const v1::GetMrrSeriesRequest* request,
      v1::GetMrrSeriesResponse* response) override;

 private:
  const ServiceEnv env_;
  core::MrrMetrics* const metrics_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_METRICS_SERVICE_H_
