#include "service/metrics_service.h"

#include <vector>

#include "common/status_macros.h"
#include "service/convert.h"
#include "service/metrics_requests.h"

namespace recurrent::service {
namespace {

v1::MrrMovementType MovementTypeToProto(engine::MrrMovementType type) {
  switch (type) {
    case engine::MrrMovementType::kNewBusiness:
      return v1::MRR_MOVEMENT_TYPE_NEW_BUSINESS;
    case engine::MrrMovementType::kExpansion:
      return v1::MRR_MOVEMENT_TYPE_EXPANSION;
    case engine::MrrMovementType::kContraction:
      return v1::MRR_MOVEMENT_TYPE_CONTRACTION;
    case engine::MrrMovementType::kChurn:
      return v1::MRR_MOVEMENT_TYPE_CHURN;
    case engine::MrrMovementType::kReactivation:
      return v1::MRR_MOVEMENT_TYPE_REACTIVATION;
  }
  return v1::MRR_MOVEMENT_TYPE_UNSPECIFIED;
}

int64_t Moved(const core::MrrSeriesTotal& total,
              engine::MrrMovementType type) {
  return total.movements_in_cents[static_cast<int>(type)];
}

}  // namespace

grpc::ServerUnaryReactor* MetricsServiceImpl::GetMrr(
    grpc::CallbackServerContext* context, const v1::GetMrrRequest* request,
    v1::GetMrrResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const MrrQuery query,
                               ParseGetMrr(*request, env_.clock->Now()));
    RECURRENT_ASSIGN_OR_RETURN(
        const core::MrrSnapshot snapshot,
        metrics_->GetMrr(query.data_source_uuid, query.as_of));
    *response->mutable_as_of() = TimeToProto(snapshot.as_of);
    for (const core::MrrTotal& total : snapshot.totals) {
      v1::MrrTotal* out = response->add_totals();
      out->set_currency(total.currency);
      out->set_mrr_in_cents(total.mrr_in_cents);
      out->set_active_mrr_in_cents(total.active_mrr_in_cents);
      out->set_past_due_mrr_in_cents(total.past_due_mrr_in_cents);
      out->set_active_customers(total.active_customers);
      out->set_past_due_customers(total.past_due_customers);
    }
    response->set_lead_customers(snapshot.lead_customers);
    response->set_cancelled_customers(snapshot.cancelled_customers);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::ListMrrMovements(
    grpc::CallbackServerContext* context,
    const v1::ListMrrMovementsRequest* request,
    v1::ListMrrMovementsResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const MrrMovementQuery query,
                               ParseListMrrMovements(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        const persistence::Page<persistence::MrrMovementRow> page,
        metrics_->ListMovements(query.filter, query.page));
    for (const persistence::MrrMovementRow& row : page.items) {
      const engine::MrrMovement& m = row.movement;
      v1::MrrMovement* out = response->add_movements();
      out->set_type(MovementTypeToProto(m.type));
      out->set_customer_uuid(row.customer_uuid);
      out->set_data_source_uuid(m.data_source_uuid);
      out->set_currency(m.currency);
      *out->mutable_occurred_at() = TimeToProto(m.occurred_at);
      out->set_mrr_change_in_cents(m.mrr_change_in_cents);
      out->set_mrr_after_in_cents(m.mrr_after_in_cents);
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetMrrSeries(
    grpc::CallbackServerContext* context,
    const v1::GetMrrSeriesRequest* request,
    v1::GetMrrSeriesResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const MrrSeriesQuery query,
                               ParseGetMrrSeries(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        const std::vector<core::MrrSeriesPoint> points,
        metrics_->GetSeries(query.data_source_uuid, query.start, query.end,
                            query.interval));
    using Type = engine::MrrMovementType;
    for (const core::MrrSeriesPoint& point : points) {
      v1::MrrSeriesPoint* out = response->add_points();
      *out->mutable_start_time() = TimeToProto(point.start);
      for (const core::MrrSeriesTotal& total : point.totals) {
        v1::MrrSeriesTotal* t = out->add_totals();
        t->set_currency(total.currency);
        t->set_mrr_in_cents(total.mrr_in_cents);
        t->set_new_business_in_cents(Moved(total, Type::kNewBusiness));
        t->set_expansion_in_cents(Moved(total, Type::kExpansion));
        t->set_contraction_in_cents(Moved(total, Type::kContraction));
        t->set_churn_in_cents(Moved(total, Type::kChurn));
        t->set_reactivation_in_cents(Moved(total, Type::kReactivation));
      }
      out->set_lead_customers(point.lead_customers);
      out->set_active_customers(point.active_customers);
      out->set_past_due_customers(point.past_due_customers);
      out->set_cancelled_customers(point.cancelled_customers);
    }
    return absl::OkStatus();
  });
}

}  // namespace recurrent::service
