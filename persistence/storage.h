// Storage: the durable home of Recurrent's data sources, settings and
// customers, behind an interface so that a second backend can be added.
//
// The service layer depends only on this header; SqliteStorage
// (persistence/sqlite_storage.h) is the embedded default. Every method is
// thread-safe. Multi-row changes are atomic: a method that returns an error
// has changed nothing.
//
// Errors (absl::Status codes):
//   kNotFound          a named resource does not exist
//   kAlreadyExists     a uniqueness rule would be broken
//   kInvalidArgument   a malformed page token
//   kFailedPrecondition a request that conflicts with the stored state
//   kUnavailable       the database is busy (locked); retry later
//   kResourceExhausted the database or disk is full
//   kInternal          anything else (the message never contains SQL)
// Messages name the resource (e.g. "customer cus_123 not found") and are safe
// to show to API callers.
//
// Storage never reads the clock: callers pass `now`.
#ifndef RECURRENT_PERSISTENCE_STORAGE_H_
#define RECURRENT_PERSISTENCE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace recurrent::persistence {

// ---- Data sources and settings --------------------------------------------

enum class PastDueMode { kKeep = 1, kAutoChurn = 2 };

struct PastDueHandling {
  PastDueMode mode = PastDueMode::kKeep;
  int auto_churn_after_days = 0;  // 1..90 with kAutoChurn, 0 with kKeep

  friend bool operator==(const PastDueHandling& a, const PastDueHandling& b) {
    return a.mode == b.mode &&
           a.auto_churn_after_days == b.auto_churn_after_days;
  }
};

// What a settings change did.
struct SettingsImpact {
  int64_t customers_reprocessed = 0;
  int64_t auto_churns_reversed = 0;
  int64_t auto_churns_applied = 0;
  int64_t customers_status_changed = 0;
};

// One version of a source's settings.
struct SourceSettings {
  std::string data_source_uuid;
  PastDueHandling past_due_handling;
  int64_t version = 0;    // 1 for a new source, +1 per saved change
  absl::Time applied_at;  // in force from this instant
  absl::Time saved_at;    // when this version was written
  SettingsImpact impact;  // what saving it did (zero for version 1)
};

struct DataSource {
  std::string uuid;  // "ds_…"
  std::string name;  // unique
  std::string system;
  absl::Time created_at;
  SourceSettings settings;  // the current version
};

// ---- Customers -------------------------------------------------------------

enum class CustomerStatus {
  kLead = 1,
  kActive = 2,
  kPastDue = 3,
  kCancelled = 4
};

struct ExternalId {
  std::string data_source_uuid;
  std::string external_id;

  friend bool operator==(const ExternalId& a, const ExternalId& b) {
    return a.data_source_uuid == b.data_source_uuid &&
           a.external_id == b.external_id;
  }
};

struct Customer {
  std::string uuid;              // "cus_…"; assigned by CreateCustomer
  std::string data_source_uuid;  // primary source
  std::string external_id;       // id in the primary source
  // Every (source, external id) of the customer, the primary one first, then
  // in the order they were added (merges append). Output of reads; ignored
  // by CreateCustomer, which stores {data_source_uuid, external_id}.
  std::vector<ExternalId> external_ids;
  std::string name;
  std::string email;
  std::string company;
  std::string country;
  std::string state;
  std::string city;
  std::string zip;
  std::optional<absl::Time> lead_created_at;
  std::optional<absl::Time> free_trial_started_at;
  CustomerStatus status = CustomerStatus::kLead;
  std::vector<std::string> tags;  // user tags, sorted, unique
  absl::Time created_at;
  absl::Time updated_at;
};

// Filters of ListCustomers; empty/unset fields do not filter.
struct CustomerFilter {
  // Customers with an external id in this source (merged customers match
  // every source they span).
  std::string data_source_uuid;
  // Customers with this external id (in `data_source_uuid` if given).
  std::string external_id;
  std::string email;  // exact match
  std::optional<CustomerStatus> status;
};

// ---- Paging ----------------------------------------------------------------

// `page_size` must be in 1..1000 (the service applies defaults and clamps).
// `page_token` is empty for the first page, or a token returned by the
// previous page of the same query (kInvalidArgument otherwise). Results come
// in a stable order (creation order); a token stays valid when rows are
// inserted or deleted between pages, and no row is returned twice.
struct PageRequest {
  int page_size = 50;
  std::string page_token;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// ---- The interface ---------------------------------------------------------

class Storage {
 public:
  virtual ~Storage() = default;

  // Creates a data source with settings version 1 (mode kKeep, applied_at =
  // saved_at = created_at = now). kAlreadyExists if the name is taken.
  virtual absl::StatusOr<DataSource> CreateDataSource(absl::string_view name,
                                                      absl::string_view system,
                                                      absl::Time now) = 0;
  // kNotFound if there is no such source.
  virtual absl::StatusOr<DataSource> GetDataSource(absl::string_view uuid) = 0;
  virtual absl::StatusOr<Page<DataSource>> ListDataSources(
      const PageRequest& page) = 0;
  // Deletes the source, its settings history, and its customers' external
  // ids in it. A customer left with no external id is deleted with
  // everything it owns; a merged customer whose primary source is deleted
  // keeps its next external id as primary. kNotFound if there is no such
  // source.
  virtual absl::Status DeleteDataSource(absl::string_view uuid) = 0;

  // The current settings. kNotFound if there is no such source.
  virtual absl::StatusOr<SourceSettings> GetSettings(
      absl::string_view data_source_uuid) = 0;
  // Atomically reads the current settings, passes them to `decide`, and if
  // `decide` returns a new version's content, saves it as version current+1
  // with `saved_at = now`. `decide` returns std::nullopt to save nothing, or
  // an error to abort (returned as is). Returns the settings in force after
  // the call. kNotFound if there is no such source. `decide` runs inside the
  // write transaction: it must not call this Storage (it would deadlock).
  struct NewSettings {
    PastDueHandling past_due_handling;
    absl::Time applied_at;
    SettingsImpact impact;
  };
  using SettingsDecision =
      std::function<absl::StatusOr<std::optional<NewSettings>>(
          const SourceSettings& current)>;
  virtual absl::StatusOr<SourceSettings> UpdateSettings(
      absl::string_view data_source_uuid, const SettingsDecision& decide,
      absl::Time now) = 0;
  // Every version, oldest first. kNotFound if there is no such source.
  virtual absl::StatusOr<std::vector<SourceSettings>> ListSettingsHistory(
      absl::string_view data_source_uuid) = 0;

  // Creates a customer from `customer` (uuid, external_ids, status, tags and
  // times are ignored; status starts as kLead). kNotFound if the source does
  // not exist; kAlreadyExists if (data_source_uuid, external_id) is taken,
  // by any customer's primary or merged external id.
  virtual absl::StatusOr<Customer> CreateCustomer(const Customer& customer,
                                                  absl::Time now) = 0;
  // kNotFound if there is no such customer.
  virtual absl::StatusOr<Customer> GetCustomer(absl::string_view uuid) = 0;
  // Atomically reads the customer, lets `mutate` change its writable fields
  // (name, email, company, country, state, city, zip, lead_created_at,
  // free_trial_started_at; changes to other fields are ignored), stores it
  // with updated_at = now and returns it. An error from `mutate` aborts and
  // is returned as is. kNotFound if there is no such customer. Like
  // `decide` above, `mutate` must not call this Storage.
  using CustomerMutation = std::function<absl::Status(Customer& customer)>;
  virtual absl::StatusOr<Customer> UpdateCustomer(
      absl::string_view uuid, const CustomerMutation& mutate,
      absl::Time now) = 0;
  // Deletes the customer and everything it owns. kNotFound if absent.
  virtual absl::Status DeleteCustomer(absl::string_view uuid) = 0;
  virtual absl::StatusOr<Page<Customer>> ListCustomers(
      const CustomerFilter& filter, const PageRequest& page) = 0;
  // Moves everything of `from` (external ids, tags, and later invoices and
  // subscriptions) to `into`, deletes `from`, and returns `into`. lead and
  // trial dates become the earliest set value of the two. kNotFound if either
  // is absent; kInvalidArgument if they are the same customer.
  virtual absl::StatusOr<Customer> MergeCustomers(absl::string_view from_uuid,
                                                  absl::string_view into_uuid,
                                                  absl::Time now) = 0;
  // Adds/removes user tags (idempotent) and returns the customer.
  // kNotFound if absent.
  virtual absl::StatusOr<Customer> AddCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) = 0;
  virtual absl::StatusOr<Customer> RemoveCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) = 0;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_STORAGE_H_
