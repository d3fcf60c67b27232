// libFuzzer target: request validation of every RPC.
//
// The first input byte picks one of the 32 request types; the rest is parsed
// as that message (arbitrary protobuf bytes, as a hostile client could
// send). Bytes that do not parse are dropped, as gRPC would. A parsed
// request goes through the function its handler parses it with before
// touching storage (service/*_requests.h; the id-only handlers' one CheckId
// call), and
// the result through ToGrpcStatus. Nothing may crash, and a rejection must
// be INVALID_ARGUMENT naming a field.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/ids.h"
#include "google/protobuf/stubs/logging.h"
#include "recurrent/v1/api_key.pb.h"
#include "recurrent/v1/change_feed.pb.h"
#include "recurrent/v1/customer.pb.h"
#include "recurrent/v1/invoice.pb.h"
#include "recurrent/v1/metrics.pb.h"
#include "recurrent/v1/source_settings.pb.h"
#include "service/api_key_requests.h"
#include "service/change_feed_requests.h"
#include "service/customer_requests.h"
#include "service/errors.h"
#include "service/field_checks.h"
#include "service/invoice_requests.h"
#include "service/metrics_requests.h"
#include "service/source_settings_requests.h"

namespace recurrent::service {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1735689600);
// The request types Check knows (its cases 0..kRequestTypes-1).
constexpr int kRequestTypes = 32;

template <typename Request>
bool Parse(const uint8_t* data, size_t size, Request& request) {
  return request.ParseFromArray(data, static_cast<int>(size));
}

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "request_fuzzer: %s\n", what);
    std::abort();
  }
}

void Judge(const absl::Status& status) {
  const grpc::Status converted = ToGrpcStatus(status);
  if (status.ok()) {
    Require(converted.ok(), "OK converts to OK");
    return;
  }
  Require(status.code() == absl::StatusCode::kInvalidArgument,
          "validation fails only with INVALID_ARGUMENT");
  Require(FieldOf(status).has_value(), "a rejection names its field");
  Require(converted.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
          "converted to INVALID_ARGUMENT");
}

template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& result) {
  return result.status();
}

// Runs the checks of request type `kind` on `data`.
void Check(int kind, const uint8_t* data, size_t size) {
  switch (kind) {
#define RECURRENT_CASE(n, Type, expr)  \
  case n: {                            \
    v1::Type request;                  \
    if (!Parse(data, size, request)) { \
      return;                          \
    }                                  \
    Judge(expr);                       \
    return;                            \
  }
    // SourceSettingsService
    RECURRENT_CASE(0, CreateDataSourceRequest,
                   StatusOf(ParseCreateDataSource(request)))
    RECURRENT_CASE(1, GetDataSourceRequest,
                   CheckId(request.uuid(), common::kDataSourceIdPrefix, "uuid"))
    RECURRENT_CASE(
        2, ListDataSourcesRequest,
        StatusOf(ParsePage(request.page_size(), request.page_token())))
    RECURRENT_CASE(3, DeleteDataSourceRequest,
                   CheckId(request.uuid(), common::kDataSourceIdPrefix, "uuid"))
    RECURRENT_CASE(4, GetSettingsRequest,
                   CheckId(request.data_source_uuid(),
                           common::kDataSourceIdPrefix, "data_source_uuid"))
    RECURRENT_CASE(5, UpdateSettingsRequest,
                   StatusOf(ParseUpdateSettings(request, kNow)))
    RECURRENT_CASE(6, ListSettingsHistoryRequest,
                   CheckId(request.data_source_uuid(),
                           common::kDataSourceIdPrefix, "data_source_uuid"))
    RECURRENT_CASE(7, ReprocessDataSourceRequest,
                   CheckId(request.data_source_uuid(),
                           common::kDataSourceIdPrefix, "data_source_uuid"))
    // CustomerService
    RECURRENT_CASE(8, CreateCustomerRequest,
                   StatusOf(ParseCreateCustomer(request)))
    RECURRENT_CASE(9, GetCustomerRequest,
                   StatusOf(ParseGetCustomer(request, kNow)))
    RECURRENT_CASE(10, UpdateCustomerRequest,
                   StatusOf(ParseUpdateCustomer(request)))
    RECURRENT_CASE(11, DeleteCustomerRequest,
                   CheckId(request.uuid(), common::kCustomerIdPrefix, "uuid"))
    RECURRENT_CASE(12, ListCustomersRequest,
                   StatusOf(ParseListCustomers(request, kNow)))
    RECURRENT_CASE(13, MergeCustomersRequest,
                   StatusOf(ParseMergeCustomers(request)))
    RECURRENT_CASE(14, AddCustomerTagsRequest,
                   StatusOf(ParseAddCustomerTags(request)))
    RECURRENT_CASE(15, RemoveCustomerTagsRequest,
                   StatusOf(ParseRemoveCustomerTags(request)))
    RECURRENT_CASE(16, ListSubscriptionsRequest,
                   StatusOf(ParseListSubscriptions(request, kNow)))
    RECURRENT_CASE(17, CancelSubscriptionRequest,
                   StatusOf(ParseCancelSubscription(request, kNow)))
    RECURRENT_CASE(18, ListSubscriptionEventsRequest,
                   StatusOf(ParseListSubscriptionEvents(request, kNow)))
    // InvoiceService
    RECURRENT_CASE(19, ImportInvoicesRequest,
                   StatusOf(ParseImportInvoices(request)))
    RECURRENT_CASE(20, GetInvoiceRequest,
                   StatusOf(ParseGetInvoice(request, kNow)))
    RECURRENT_CASE(21, ListInvoicesRequest,
                   StatusOf(ParseListInvoices(request, kNow)))
    RECURRENT_CASE(22, DeleteInvoiceRequest,
                   CheckId(request.uuid(), common::kInvoiceIdPrefix, "uuid"))
    RECURRENT_CASE(23, AddTransactionRequest,
                   StatusOf(ParseAddTransaction(request)))
    // ApiKeyService
    RECURRENT_CASE(24, CreateApiKeyRequest,
                   StatusOf(ParseCreateApiKey(request)))
    RECURRENT_CASE(
        25, ListApiKeysRequest,
        StatusOf(ParsePage(request.page_size(), request.page_token())))
    RECURRENT_CASE(26, RevokeApiKeyRequest,
                   CheckId(request.uuid(), common::kApiKeyIdPrefix, "uuid"))
    // ChangeFeedService
    RECURRENT_CASE(27, ListChangesRequest, StatusOf(ParseListChanges(request)))
    RECURRENT_CASE(28, WatchChangesRequest,
                   StatusOf(ParseWatchChanges(request)))
    // MetricsService
    RECURRENT_CASE(29, GetMrrRequest, StatusOf(ParseGetMrr(request, kNow)))
    RECURRENT_CASE(30, ListMrrMovementsRequest,
                   StatusOf(ParseListMrrMovements(request)))
    RECURRENT_CASE(31, GetMrrSeriesRequest,
                   StatusOf(ParseGetMrrSeries(request)))
#undef RECURRENT_CASE
    default:
      return;
  }
}

}  // namespace
}  // namespace recurrent::service

// Invalid UTF-8 in string fields is rejected by the parser (as gRPC would);
// its log line per input would drown the fuzzer's output.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  recurrent::service::Check(data[0] % recurrent::service::kRequestTypes,
                            data + 1, size - 1);
  return 0;
}
