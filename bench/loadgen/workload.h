// What the load generator sends: the customers it reads, the pages it lists
// and the invoice batches it imports (bench/loadgen/loadgen.cc).
#ifndef RECURRENT_BENCH_LOADGEN_WORKLOAD_H_
#define RECURRENT_BENCH_LOADGEN_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "recurrent/v1/customer.grpc.pb.h"
#include "recurrent/v1/invoice.grpc.pb.h"
#include "recurrent/v1/metrics.grpc.pb.h"
#include "recurrent/v1/source_settings.grpc.pb.h"

namespace recurrent::bench {

// The uuid of the data source named `name`; kNotFound if there is none.
absl::StatusOr<std::string> FindDataSourceUuid(grpc::Channel& channel,
                                               const std::string& name);

// Uuids of up to `limit` customers with an external id in the source
// `data_source_uuid` (every customer if empty), paging with ListCustomers.
absl::StatusOr<std::vector<std::string>> FetchCustomerUuids(
    grpc::Channel& channel, const std::string& data_source_uuid, int limit);

// Every page token of ListCustomers(status=PAST_DUE, page_size) ("" for the
// first page), at most `limit` of them, so that the list scenario can ask
// for random pages.
absl::StatusOr<std::vector<std::string>> FetchPastDuePageTokens(
    grpc::Channel& channel, int page_size, int limit);

// Shape of an imported batch.
struct ImportShape {
  int invoices = 100;
  // Per invoice: two subscription line items (two subscriptions of the
  // batch) and a one-time fee; one successful payment on the due date.
  int line_items = 3;
};

// Fact rows one batch writes: invoices, line items and transactions.
int64_t RowsPerBatch(const ImportShape& shape);

// A batch of `shape.invoices` monthly invoices (the last one in the month of
// `now`) for `customer_uuid` in source `data_source_uuid`, with external ids
// unique to (`run_id`, `seq`).
v1::ImportInvoicesRequest MakeImportRequest(const ImportShape& shape,
                                            const std::string& customer_uuid,
                                            const std::string& data_source_uuid,
                                            const std::string& run_id,
                                            int64_t seq, absl::Time now);

// GetMrrSeries of `data_source_uuid`, monthly over the month of `now` and
// the `months` - 1 before it (UTC).
v1::GetMrrSeriesRequest MakeMrrSeriesRequest(
    const std::string& data_source_uuid, int months, absl::Time now);

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_LOADGEN_WORKLOAD_H_
