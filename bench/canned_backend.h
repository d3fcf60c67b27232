// CannedBackend: a Backend that serves rows captured once from a real
// database, from memory, without SQLite. bench/baseline_server.cc runs the
// real Server (and core) over it, so that its GetCustomer and ListCustomers
// cost everything recurrentd's do (gRPC, the Executor, validation, the
// core, the engine's evaluation, conversion to protos) except storage: the
// ceiling of the RPC layer on this machine.
//
// Serves: LoadCustomerState and GetCustomer (any uuid: a captured
// customer's, the one with that uuid if captured), ListCustomers (always the
// captured page, as the last page), GetDataSource, ListDataSources and
// CurrentSettings; the change log is empty and no customer is ever due.
// Every other call fails with kUnimplemented.
//
// Thread-safe (read-only after Capture).
#ifndef RECURRENT_BENCH_CANNED_BACKEND_H_
#define RECURRENT_BENCH_CANNED_BACKEND_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "persistence/backend.h"

namespace recurrent::bench {

class CannedBackend final : public persistence::Backend {
 public:
  // Captures from `source`: its data sources, the first page of `page_size`
  // customers of the source named `source_name` with status `status`, and
  // their states.
  static absl::StatusOr<std::unique_ptr<CannedBackend>> Capture(
      persistence::Backend& source, const std::string& source_name,
      persistence::CustomerStatus status, int page_size);

  int captured_customers() const { return static_cast<int>(rows_.page.size()); }

  absl::StatusOr<std::unique_ptr<persistence::ReadTransaction>> BeginRead(
      ReadKind kind) override;
  absl::StatusOr<std::unique_ptr<persistence::WriteTransaction>> BeginWrite()
      override;
  absl::Status CheckHealth() override { return absl::OkStatus(); }

  // What the transactions serve.
  struct Rows {
    std::vector<persistence::DataSourceRow> sources;
    std::vector<persistence::Customer> page;
    std::map<std::string, persistence::CustomerState, std::less<>> states;
  };

 private:
  CannedBackend() = default;

  Rows rows_;
};

}  // namespace recurrent::bench

#endif  // RECURRENT_BENCH_CANNED_BACKEND_H_
