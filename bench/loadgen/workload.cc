#include "bench/loadgen/workload.h"

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace recurrent::bench {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
}

std::unique_ptr<grpc::ClientContext> SetupContext() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(60));
  return context;
}

}  // namespace

absl::StatusOr<std::string> FindDataSourceUuid(grpc::Channel& channel,
                                               const std::string& name) {
  auto stub = v1::SourceSettingsService::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  v1::ListDataSourcesRequest request;
  request.set_page_size(1000);
  while (true) {
    v1::ListDataSourcesResponse response;
    const grpc::Status status =
        stub->ListDataSources(SetupContext().get(), request, &response);
    if (!status.ok()) return FromGrpc(status, "ListDataSources");
    for (const v1::DataSource& source : response.data_sources()) {
      if (source.name() == name) return source.uuid();
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return absl::NotFoundError(absl::StrCat("no data source named ", name));
}

absl::StatusOr<std::vector<std::string>> FetchCustomerUuids(
    grpc::Channel& channel, const std::string& data_source_uuid, int limit) {
  auto stub = v1::CustomerService::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  std::vector<std::string> uuids;
  v1::ListCustomersRequest request;
  request.set_data_source_uuid(data_source_uuid);
  request.set_page_size(1000);
  while (static_cast<int>(uuids.size()) < limit) {
    v1::ListCustomersResponse response;
    const grpc::Status status =
        stub->ListCustomers(SetupContext().get(), request, &response);
    if (!status.ok()) return FromGrpc(status, "ListCustomers");
    for (const v1::Customer& customer : response.customers()) {
      uuids.push_back(customer.uuid());
    }
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (static_cast<int>(uuids.size()) > limit) uuids.resize(limit);
  return uuids;
}

absl::StatusOr<std::vector<std::string>> FetchPastDuePageTokens(
    grpc::Channel& channel, int page_size, int limit) {
  auto stub = v1::CustomerService::NewStub(
      std::shared_ptr<grpc::Channel>(&channel, [](grpc::Channel*) {}));
  std::vector<std::string> tokens = {""};
  v1::ListCustomersRequest request;
  request.set_status(v1::CUSTOMER_STATUS_PAST_DUE);
  request.set_page_size(page_size);
  while (static_cast<int>(tokens.size()) < limit) {
    v1::ListCustomersResponse response;
    const grpc::Status status =
        stub->ListCustomers(SetupContext().get(), request, &response);
    if (!status.ok()) return FromGrpc(status, "ListCustomers");
    if (response.next_page_token().empty()) break;
    tokens.push_back(response.next_page_token());
    request.set_page_token(response.next_page_token());
  }
  return tokens;
}

int64_t RowsPerBatch(const ImportShape& shape) {
  return int64_t{shape.invoices} * (1 + shape.line_items + 1);
}

v1::ImportInvoicesRequest MakeImportRequest(const ImportShape& shape,
                                            const std::string& customer_uuid,
                                            const std::string& data_source_uuid,
                                            const std::string& run_id,
                                            int64_t seq, absl::Time now) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilMonth last = absl::ToCivilMonth(now, utc);
  const std::string prefix = absl::StrCat("lg-", run_id, "-", seq);
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer_uuid);
  request.mutable_invoices()->Reserve(shape.invoices);
  for (int i = 0; i < shape.invoices; ++i) {
    const absl::CivilMonth month = last - (shape.invoices - 1 - i);
    const absl::Time start = absl::FromCivil(month, utc);
    const absl::Time end = absl::FromCivil(month + 1, utc);
    const absl::Time due = start + absl::Hours(24 * 7);
    const std::string id = absl::StrCat(prefix, "-", i);
    v1::Invoice* invoice = request.add_invoices();
    invoice->set_external_id(absl::StrCat("inv-", id));
    invoice->set_data_source_uuid(data_source_uuid);
    SetTime(start, invoice->mutable_date());
    SetTime(due, invoice->mutable_due_date());
    invoice->set_currency("EUR");
    for (int j = 0; j < shape.line_items; ++j) {
      v1::LineItem* item = invoice->add_line_items();
      item->set_external_id(absl::StrCat("li-", id, "-", j));
      // The last line item is a one-time fee, the others subscriptions.
      const bool one_time = j == shape.line_items - 1 && shape.line_items > 1;
      item->set_type(one_time ? v1::LINE_ITEM_TYPE_ONE_TIME
                              : v1::LINE_ITEM_TYPE_SUBSCRIPTION);
      if (!one_time) {
        item->set_subscription_external_id(
            absl::StrCat("sub-", prefix, "-", j));
        item->set_plan_external_id(j == 0 ? "plan-base" : "plan-addon");
      }
      SetTime(start, item->mutable_service_period_start());
      SetTime(end, item->mutable_service_period_end());
      item->set_amount_in_cents(one_time ? 500 : 2900);
      item->set_quantity(1);
    }
    v1::Transaction* payment = invoice->add_transactions();
    payment->set_external_id(absl::StrCat("tr-", id));
    payment->set_type(v1::TRANSACTION_TYPE_PAYMENT);
    payment->set_result(v1::TRANSACTION_RESULT_SUCCESSFUL);
    SetTime(due, payment->mutable_date());
  }
  return request;
}

v1::GetMrrSeriesRequest MakeMrrSeriesRequest(
    const std::string& data_source_uuid, int months, absl::Time now) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilMonth month = absl::ToCivilMonth(now, utc);
  v1::GetMrrSeriesRequest request;
  request.set_data_source_uuid(data_source_uuid);
  SetTime(absl::FromCivil(month - (months - 1), utc),
          request.mutable_start_time());
  SetTime(absl::FromCivil(month + 1, utc), request.mutable_end_time());
  request.set_interval(v1::SERIES_INTERVAL_MONTH);
  return request;
}

}  // namespace recurrent::bench
