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
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/settings.h"

namespace recurrent::persistence {

// ---- Data sources and settings --------------------------------------------

// The engine's enums, under the names this interface has always used. The
// SQLite backend stores them as stable integer codes (sqlite_codes.h), never
// as their C++ values.
using PastDueMode = engine::PastDueMode;
using CustomerStatus = engine::CustomerStatus;

struct PastDueHandling {
  PastDueMode mode = PastDueMode::kKeep;
  int auto_churn_after_days = 0;  // 1..90 with kAutoChurn, 0 with kKeep

  friend bool operator==(const PastDueHandling& a, const PastDueHandling& b) {
    return a.mode == b.mode &&
           a.auto_churn_after_days == b.auto_churn_after_days;
  }
};

// What a settings change (or a reprocess) did. An auto-churn is an
// AUTO_CHURNED event (subscription, instant) at or before `now`; "reversed"
// ones are present before and gone after, "applied" ones are new.
//
// "After" is the engine's evaluation at `now` of the stored facts under the
// settings in force after the call (what is stored). "Before" is:
//  - for UpdateSettings (and its dry run): the evaluation at `now` of the
//    same facts under the settings in force before the call. It does not
//    depend on when the stored statuses were last recomputed, so a preview
//    counts only what the settings change does; it equals
//    engine::Evaluate(snapshot.facts, snapshot.settings, now) per customer.
//  - for ReprocessDataSource: the stored state, i.e. the stored AUTO_CHURNED
//    events at or before `now` and the stored customer status. A reprocess
//    changes nothing but stale stored results, so that is what it counts.
struct SettingsImpact {
  int64_t customers_reprocessed = 0;
  int64_t auto_churns_reversed = 0;
  int64_t auto_churns_applied = 0;
  // Customers whose status at `now` differs after from before.
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
  // Who saved it: the API key name of the caller (NewSettings::saved_by);
  // empty for version 1 and for changes made without authentication.
  std::string saved_by;
};

struct DataSource {
  std::string uuid;  // "ds_…"
  std::string name;  // unique
  std::string system;
  absl::Time created_at;
  SourceSettings settings;  // the current version
};

// ---- Customers -------------------------------------------------------------

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
  // Derived tags (R8) of the stored evaluation, sorted. Output of reads.
  std::vector<std::string> derived_tags;
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

// ---- Invoices, subscriptions and events (issue 4) --------------------------

struct LineItem {
  std::string uuid;         // "li_…"; assigned on import
  std::string external_id;  // unique per data source
  engine::LineItemType type = engine::LineItemType::kSubscription;
  std::string subscription_external_id;
  std::string plan_external_id;
  absl::Time service_period_start;
  absl::Time service_period_end;
  int64_t amount_in_cents = 0;
  int32_t quantity = 0;
  int64_t discount_amount_in_cents = 0;
  int64_t tax_amount_in_cents = 0;
  bool prorated = false;
  std::string description;
};

struct Transaction {
  std::string uuid;         // "tr_…"; assigned on import
  std::string external_id;  // unique per data source
  engine::TransactionType type = engine::TransactionType::kPayment;
  engine::TransactionResult result = engine::TransactionResult::kSuccessful;
  absl::Time date;
  std::optional<int64_t> amount_in_cents;
};

struct Invoice {
  std::string uuid;         // "inv_…"; assigned on import
  std::string external_id;  // unique per data source
  std::string customer_uuid;
  // On import, empty means the customer's only source (see ImportInvoices).
  std::string data_source_uuid;
  absl::Time date;
  std::optional<absl::Time> due_date;
  std::string currency;
  std::vector<LineItem> line_items;       // in import order
  std::vector<Transaction> transactions;  // in date order, then import order
};

// Filters of ListInvoices; empty fields do not filter.
struct InvoiceFilter {
  std::string customer_uuid;
  std::string data_source_uuid;
  std::string external_id;
};

// A subscription's identity. Subscriptions are created by the first imported
// SUBSCRIPTION or TRIAL line item that names them (R1).
struct SubscriptionRef {
  std::string uuid;  // "sub_…"
  std::string customer_uuid;
  std::string data_source_uuid;
  std::string external_id;
};

// Everything needed to evaluate one customer with the engine at any instant:
// its facts, the current settings of every source it has facts in, and the
// identity of each subscription (to present the engine's results).
struct CustomerSnapshot {
  Customer customer;
  engine::CustomerFacts facts;
  engine::SettingsMap settings;
  std::vector<SubscriptionRef> subscriptions;
};

// A stored subscription event (R9). Stored events are every event of the
// customer's timeline as computed from the facts known at the last write,
// including projected future ones; reads filter by occurred_at <= as_of.
struct SubscriptionEvent {
  std::string uuid;  // "evt_…"; stable while the event stays the same
  engine::EventType type = engine::EventType::kStarted;
  SubscriptionRef subscription;
  absl::Time occurred_at;
};

// Filters of ListSubscriptionEvents; at least one of customer_uuid and
// data_source_uuid is set.
struct EventFilter {
  std::string customer_uuid;
  std::string data_source_uuid;
  absl::Time as_of = absl::InfiniteFuture();  // occurred_at <= as_of
};

// ---- Paging ----------------------------------------------------------------

// `page_size` must be in 1..1000 (the service applies defaults and clamps).
// `page_token` is empty for the first page, or a token returned by the
// previous page of the same query (kInvalidArgument otherwise). Results come
// in a stable order (creation order); a token stays valid when rows are
// inserted or deleted between pages, and no row is returned twice.
// A page of 0 means kDefaultPageSize to the API; larger than kMaxPageSize is
// clamped by the service.
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

struct PageRequest {
  int page_size = kDefaultPageSize;
  std::string page_token;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// ---- Change notifications --------------------------------------------------

// Which customers a committed write may have changed, as Storage tells its
// listener (Storage::SetChangeListener).
struct CustomerChanges {
  bool all = false;                // any customer may have changed
  std::vector<std::string> uuids;  // otherwise: these customers
};
using ChangeListener = std::function<void(const CustomerChanges&)>;

// ---- The interface ---------------------------------------------------------

// Most user tags one customer may carry (AddCustomerTags).
inline constexpr int kMaxTagsPerCustomer = 100;

class Storage {
 public:
  virtual ~Storage() = default;

  // Sets the function called after every write that may have changed what
  // GetCustomerSnapshot returns for some customer, other than its stored
  // evaluation: its existence, fields, tags, external ids or facts, or the
  // settings of a source it has facts in. (A recompute that only brings the
  // stored evaluation up to date, such as RecomputeDueCustomers or
  // ReprocessDataSource, is not reported: it changes no input of the
  // engine.) The function runs on the writing thread after the commit and
  // before the write returns, so a caller that has seen a write acknowledged
  // is never served a copy from before it; it may also run after a write
  // that failed and changed nothing. It must be quick and must not call this
  // Storage. Set it before the storage is shared between threads.
  virtual void SetChangeListener(ChangeListener listener) = 0;

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
  // keeps its next external id as primary, loses the invoices and
  // subscriptions of the deleted source, and is recomputed at `now`.
  // kNotFound if there is no such source.
  virtual absl::Status DeleteDataSource(absl::string_view uuid,
                                        absl::Time now) = 0;

  // The current settings. kNotFound if there is no such source.
  virtual absl::StatusOr<SourceSettings> GetSettings(
      absl::string_view data_source_uuid) = 0;
  // Save and reprocess (issue 5). Atomically reads the current settings and
  // passes them to `decide`, which returns the new version's content,
  // std::nullopt to change nothing, or an error to abort (returned as is;
  // `decide` must not call this Storage).
  //
  // With a new version: saves it as version current+1 (saved_at = now) and
  // recomputes, at `now` and under the new settings, every customer that has
  // a subscription in the source (merged customers included), all in one
  // transaction: readers see the old or the new state, never a mix, and a
  // failure or crash part-way leaves the old settings and statuses intact.
  // The version records the impact. Writes to the source wait for it; reads
  // are served throughout.
  //
  // With `dry_run`, computes the same impact and changes nothing (it does not
  // block writers). With std::nullopt, changes nothing and reports a zero
  // impact. kNotFound if there is no such source.
  struct NewSettings {
    PastDueHandling past_due_handling;
    absl::Time applied_at;
    // Recorded as the version's saved_by (an API key name; may be empty).
    std::string saved_by;
  };
  using SettingsDecision =
      std::function<absl::StatusOr<std::optional<NewSettings>>(
          const SourceSettings& current)>;
  struct SettingsUpdate {
    SourceSettings settings;  // in force after the call
    SettingsImpact impact;    // exact; also for a dry run
    bool applied = false;     // a new version was saved
  };
  virtual absl::StatusOr<SettingsUpdate> UpdateSettings(
      absl::string_view data_source_uuid, const SettingsDecision& decide,
      bool dry_run, absl::Time now) = 0;
  // Recomputes every customer that has a subscription in the source under its
  // current settings at `now` (for an operator after an upgrade), atomically
  // as above, and returns the impact; saves no new version. kNotFound if
  // there is no such source.
  virtual absl::StatusOr<SettingsImpact> ReprocessDataSource(
      absl::string_view data_source_uuid, absl::Time now) = 0;
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
  // is absent; kInvalidArgument if they are the same customer;
  // kResourceExhausted, merging nothing, if `into` would carry more than
  // kMaxTagsPerCustomer user tags.
  virtual absl::StatusOr<Customer> MergeCustomers(absl::string_view from_uuid,
                                                  absl::string_view into_uuid,
                                                  absl::Time now) = 0;
  // Adds/removes user tags (idempotent) and returns the customer.
  // kNotFound if absent; AddCustomerTags fails with kResourceExhausted, and
  // adds nothing, if the customer would have more than kMaxTagsPerCustomer
  // tags.
  virtual absl::StatusOr<Customer> AddCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) = 0;
  virtual absl::StatusOr<Customer> RemoveCustomerTags(
      absl::string_view uuid, const std::vector<std::string>& tags,
      absl::Time now) = 0;
  // ---- Invoices (issue 4) ----
  //
  // Every write below that touches a customer recomputes, in the same
  // transaction, that customer's evaluation with the engine at `now` and
  // stores it: subscription rows, every event of the timeline, customer
  // status, derived tags and next_transition_at (updated_at is left alone:
  // it tracks edits of the customer's own fields). Times are stored with
  // microsecond precision. kInvalidArgument if the engine rejects the facts
  // (the service validates them first).

  // Imports `invoices` for the customer, all or nothing. For each invoice:
  // an empty data_source_uuid means the customer's only source
  // (kInvalidArgument "invoices[i].data_source_uuid: …" if it spans several);
  // the source must be one of the customer's (kInvalidArgument). An invoice
  // whose (source, external_id) is stored already is a no-op if its content
  // is identical (same customer, fields, line items and transactions, uuids
  // aside) and kAlreadyExists naming the invoice otherwise; line item and
  // transaction external ids are unique per source likewise (kAlreadyExists
  // naming them). A subscription_external_id that belongs to another customer
  // of the same source is kFailedPrecondition. Returns the invoices as stored
  // (with uuids), in request order. kNotFound if the customer is absent.
  virtual absl::StatusOr<std::vector<Invoice>> ImportInvoices(
      absl::string_view customer_uuid, const std::vector<Invoice>& invoices,
      absl::Time now) = 0;
  // kNotFound if absent.
  virtual absl::StatusOr<Invoice> GetInvoice(absl::string_view uuid) = 0;
  // In import order. A filter naming an absent customer or source matches
  // nothing.
  virtual absl::StatusOr<Page<Invoice>> ListInvoices(
      const InvoiceFilter& filter, const PageRequest& page) = 0;
  // Deletes the invoice (its line items and transactions) and recomputes
  // its customer. Subscriptions left with no line item are deleted.
  virtual absl::Status DeleteInvoice(absl::string_view uuid,
                                     absl::Time now) = 0;
  // Adds a transaction to an invoice and recomputes its customer. An
  // identical transaction with the same external id is a no-op returning the
  // stored one; a different one is kAlreadyExists. kNotFound if the invoice
  // is absent.
  virtual absl::StatusOr<Transaction> AddTransaction(
      absl::string_view invoice_uuid, const Transaction& transaction,
      absl::Time now) = 0;

  // ---- Subscriptions and events (issue 4) ----

  // kNotFound if absent.
  virtual absl::StatusOr<SubscriptionRef> GetSubscription(
      absl::string_view uuid) = 0;
  // Records an explicit cancellation at `cancelled_at` and recomputes the
  // customer; recording the same instant again is a no-op. kNotFound if the
  // subscription is absent.
  virtual absl::Status CancelSubscription(absl::string_view subscription_uuid,
                                          absl::Time cancelled_at,
                                          absl::Time now) = 0;
  // The customer with its facts. kNotFound if absent.
  virtual absl::StatusOr<CustomerSnapshot> GetCustomerSnapshot(
      absl::string_view customer_uuid) = 0;
  // Stored events matching `filter`, ordered by (occurred_at, then a stable
  // tie-break). kNotFound if a named customer or source is absent;
  // kInvalidArgument if neither is named. `as_of` may change between pages
  // of one listing (it is not part of the page token's query).
  virtual absl::StatusOr<Page<SubscriptionEvent>> ListSubscriptionEvents(
      const EventFilter& filter, const PageRequest& page) = 0;

  // Recomputes (at `now`) up to `limit` customers whose stored
  // next_transition_at is at or before `now`, oldest first, in one write
  // transaction, and returns how many it recomputed. Used by the background
  // re-evaluator; an index makes finding them cheap.
  virtual absl::StatusOr<int> RecomputeDueCustomers(absl::Time now,
                                                    int limit) = 0;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_STORAGE_H_
