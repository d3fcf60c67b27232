// The rows a Recurrent backend stores, as plain structs.
//
// Two kinds live here. Resource records (DataSourceRow, Customer, Invoice,
// SubscriptionRef, SubscriptionEvent, ...) are what the API shows; the core
// (core/store.h) takes and returns them as they are. State rows
// (CustomerState, EvaluationWrite, ChangeRow) are what the core reads to
// evaluate a customer and writes to record the result; their meaning is the
// core's, their storage the backend's.
//
// Backends use the engine's plain types (facts, statuses, event types) as
// row payloads; they never call the engine.
#ifndef RECURRENT_PERSISTENCE_RECORDS_H_
#define RECURRENT_PERSISTENCE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "engine/evaluation.h"
#include "engine/facts.h"
#include "engine/mrr_types.h"

namespace recurrent::persistence {

using CustomerStatus = engine::CustomerStatus;

// Backend-assigned integer identity of a row: positive, unique in its table,
// stable for the row's life, increasing in insertion order. Never shown to
// API callers (they see uuids).
using RowKey = int64_t;

// ---- Paging ----------------------------------------------------------------

// The API's page size when a request gives none, and the largest it accepts
// (larger requests are clamped by the service).
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// `page_size` must be in 1..kMaxPageSize. `page_token` is empty for the
// first page, or a token returned by the previous page of the same query
// (kInvalidArgument otherwise). Results come in a stable order (creation
// order unless stated); a token stays valid when rows are inserted or
// deleted between pages, and no row is returned twice.
struct PageRequest {
  int page_size = kDefaultPageSize;
  std::string page_token;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

// ---- Data sources and settings ---------------------------------------------

// What saving a settings version (or a reprocess) did; see
// core::SourceSettings.
struct SettingsImpact {
  int64_t customers_reprocessed = 0;
  int64_t auto_churns_reversed = 0;
  int64_t auto_churns_applied = 0;
  // Customers whose status at `now` differs after from before.
  int64_t customers_status_changed = 0;
  // MRR at `now` after minus before, per currency, and the MRR (before) of
  // the subscriptions auto-churned at `now` after and not before; each
  // sorted by currency, zeros left out. Stored as SettingsRow::mrr_impact.
  std::vector<engine::MrrAmount> mrr_change;
  std::vector<engine::MrrAmount> churned_mrr;
};

// One saved version of a source's settings. The setting values are one
// record encoded by the core (core/settings.h); backends store it as is, so
// a new setting never changes a schema.
struct SettingsRow {
  std::string data_source_uuid;
  int64_t version = 0;    // 1 for a new source, +1 per saved change
  absl::Time applied_at;  // in force from this instant
  absl::Time saved_at;
  std::string saved_by;  // API key name; may be empty
  // Its counters; backends store impact.mrr_change and churned_mrr only as
  // `mrr_impact`, which the core encodes (core::EncodeMrrImpact).
  SettingsImpact impact;
  std::string mrr_impact;
  std::string values;  // core::EncodeSettingsValues
};

struct DataSourceRow {
  std::string uuid;  // "ds_…"
  std::string name;  // unique
  std::string system;
  absl::Time created_at;
  SettingsRow settings;  // the current (highest) version
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

// The fields of a customer that callers write (CreateCustomer,
// UpdateCustomer); everything else of a Customer is derived or managed.
struct CustomerFields {
  std::string name;
  std::string email;
  std::string company;
  std::string country;
  std::string state;
  std::string city;
  std::string zip;
  std::optional<absl::Time> lead_created_at;
  std::optional<absl::Time> free_trial_started_at;

  friend bool operator==(const CustomerFields& a, const CustomerFields& b) {
    return std::tie(a.name, a.email, a.company, a.country, a.state, a.city,
                    a.zip, a.lead_created_at, a.free_trial_started_at) ==
           std::tie(b.name, b.email, b.company, b.country, b.state, b.city,
                    b.zip, b.lead_created_at, b.free_trial_started_at);
  }
  friend bool operator!=(const CustomerFields& a, const CustomerFields& b) {
    return !(a == b);
  }
};

struct Customer : CustomerFields {
  std::string uuid;              // "cus_…"
  std::string data_source_uuid;  // primary source
  std::string external_id;       // id in the primary source
  // Every (source, external id) of the customer, the primary one first, then
  // in the order they were added (merges append).
  std::vector<ExternalId> external_ids;
  // The stored evaluation (as of the customer's last recompute).
  CustomerStatus status = CustomerStatus::kLead;
  // One sentence explaining `status` (engine/customer_reason.h), stored with
  // it; empty in a database migrated before it was stored, until the
  // customer's next recompute.
  std::string status_reason;
  std::vector<std::string> tags;  // user tags, sorted, unique
  // Derived tags (R8) of the stored evaluation, sorted.
  std::vector<std::string> derived_tags;
  absl::Time created_at;
  absl::Time updated_at;  // last change of the fields or tags
  // Not a column: the MRR (M3) at the instant of the answer, per currency
  // over all sources, sorted by currency, zeros left out; filled by the core
  // where it answers with one: evaluated (engine::MrrTimeline::CustomerMrrAt)
  // or read from the stored MRR rows (core::Store::ListCustomersWithMrr).
  std::vector<engine::MrrAmount> mrr;
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
  // What else the caller's query filters on that the backend does not (the
  // core's status at as_of): part of the page token's fingerprint only, so
  // that a token is refused by a query with other such filters.
  std::string token_scope;
};

// ---- Invoices --------------------------------------------------------------

struct LineItem {
  std::string uuid;         // "li_…"
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

// A payment or refund of an invoice (the API's Transaction).
struct Transaction {
  std::string uuid;         // "tr_…"
  std::string external_id;  // unique per data source
  engine::TransactionType type = engine::TransactionType::kPayment;
  engine::TransactionResult result = engine::TransactionResult::kSuccessful;
  absl::Time date;
  std::optional<int64_t> amount_in_cents;
};

struct Invoice {
  std::string uuid;         // "inv_…"
  std::string external_id;  // unique per data source
  std::string customer_uuid;
  std::string data_source_uuid;
  absl::Time date;
  std::optional<absl::Time> due_date;
  std::string currency;
  std::vector<LineItem> line_items;       // in import order
  std::vector<Transaction> transactions;  // in date order, then import order
};

// The engine's view of a stored invoice (its facts).
inline engine::Invoice ToEngine(Invoice invoice) {
  engine::Invoice out;
  out.data_source_uuid = std::move(invoice.data_source_uuid);
  out.external_id = std::move(invoice.external_id);
  out.currency = std::move(invoice.currency);
  out.due_date = invoice.due_date;
  out.line_items.reserve(invoice.line_items.size());
  for (LineItem& item : invoice.line_items) {
    out.line_items.push_back(engine::LineItem{
        item.type, std::move(item.subscription_external_id),
        item.service_period_start, item.service_period_end,
        item.amount_in_cents, item.tax_amount_in_cents, item.prorated});
  }
  out.transactions.reserve(invoice.transactions.size());
  for (const Transaction& transaction : invoice.transactions) {
    out.transactions.push_back(
        engine::Transaction{transaction.type, transaction.result,
                            transaction.date, transaction.amount_in_cents});
  }
  return out;
}

// Filters of ListInvoices; empty fields do not filter.
struct InvoiceFilter {
  std::string customer_uuid;
  std::string data_source_uuid;
  std::string external_id;
  // As CustomerFilter::token_scope (the core's `open` filter).
  std::string token_scope;
};

// ---- Subscriptions and events ----------------------------------------------

// A subscription's identity.
struct SubscriptionRef {
  std::string uuid;  // "sub_…"
  std::string customer_uuid;
  std::string data_source_uuid;
  std::string external_id;
};

// A stored subscription event (R9).
struct SubscriptionEvent {
  std::string uuid;  // "evt_…"
  engine::EventType type = engine::EventType::kStarted;
  SubscriptionRef subscription;
  absl::Time occurred_at;
  // The subscription's status from occurred_at on (engine::SubscriptionEvent
  // ::status_after).
  engine::SubscriptionStatus status_after = engine::SubscriptionStatus::kActive;
};

// Filters of ListEvents; at least one of customer_uuid and data_source_uuid
// is set.
struct EventFilter {
  std::string customer_uuid;
  std::string data_source_uuid;
  absl::Time as_of = absl::InfiniteFuture();  // occurred_at <= as_of
};

// ---- A customer's evaluation state -----------------------------------------

struct SubscriptionRow {
  RowKey key = 0;
  RowKey source_key = 0;
  SubscriptionRef ref;
  // The stored evaluation (the columns written by the last recompute; its
  // identity fields and `events` are left empty).
  engine::SubscriptionEvaluation evaluation;
};

// A stored event. Its uuid is not loaded: the core derives it from the
// other fields (core/event_ids.h).
struct EventRow {
  RowKey key = 0;
  RowKey subscription_key = 0;
  engine::EventType type = engine::EventType::kStarted;
  absl::Time occurred_at;
  engine::SubscriptionStatus status_after = engine::SubscriptionStatus::kActive;
};

// Everything about one customer that its evaluation reads or replaces.
struct CustomerState {
  RowKey key = 0;
  // The customer record. A source scan (SourceScan) fills only uuid,
  // external ids (data_source_uuid, external_id and external_ids), status,
  // status_reason and derived_tags.
  Customer customer;
  std::optional<absl::Time> next_transition_at;
  // Its facts: every invoice (all sources) and explicit cancellation.
  engine::CustomerFacts facts;
  // The current settings of every source the customer has an external id or
  // an invoice in. Empty from a source scan (the caller has them all).
  std::vector<SettingsRow> settings;
  std::vector<SubscriptionRow> subscriptions;  // creation order
  // Every stored event, in no particular order; left empty unless asked for.
  std::vector<EventRow> events;
  // The digest of the stored MRR rows (MrrWrite::digest), or nullopt if
  // none were ever written (a customer migrated from an older schema).
  std::optional<int64_t> mrr_digest;
};

// ---- Derived MRR (docs/semantics.md M1-M6) ---------------------------------
//
// A customer's MRR history is stored as two kinds of rows, both replaced
// whole whenever it changes: its movements (M4), and "deltas" from which
// GetMrr and GetMrrSeries sum what they count at an instant. Every quantity
// Q at instant t in a scope is SUM(delta of Q WHERE at <= t), so an interval
// is a range scan. The core (core/mrr_rows.h) decides the rows; backends
// only store and sum them.

// A change, at `at`, of what the customer counts for in one scope and
// currency. A scope is one data source (`data_source_uuid`) or, with an
// empty uuid, all of the customer's sources together. Rows with `in_total`
// make the all-sources sums: a customer with one source has only that
// source's rows, with in_total; a customer with several has per-source rows
// without it and all-sources rows with it.
struct MrrDelta {
  std::string data_source_uuid;  // empty: all the customer's sources
  bool in_total = false;
  absl::Time at;          // absl::InfinitePast() for the initial state
  std::string currency;   // may be empty on a row of status counts only
  int64_t past_due_mrr_in_cents = 0;  // MRR of PAST_DUE subscriptions
  // Customers with MRR > 0 in the currency whose status is ACTIVE/PAST_DUE.
  int64_t mrr_active_customers = 0;
  int64_t mrr_past_due_customers = 0;
  // Customers by status (R7), whatever the row's currency.
  int64_t lead_customers = 0;
  int64_t active_customers = 0;
  int64_t past_due_customers = 0;
  int64_t cancelled_customers = 0;

  friend bool operator==(const MrrDelta& a, const MrrDelta& b) {
    return a.data_source_uuid == b.data_source_uuid &&
           a.in_total == b.in_total && a.at == b.at &&
           a.currency == b.currency &&
           a.past_due_mrr_in_cents == b.past_due_mrr_in_cents &&
           a.mrr_active_customers == b.mrr_active_customers &&
           a.mrr_past_due_customers == b.mrr_past_due_customers &&
           a.lead_customers == b.lead_customers &&
           a.active_customers == b.active_customers &&
           a.past_due_customers == b.past_due_customers &&
           a.cancelled_customers == b.cancelled_customers;
  }
};

// A customer's stored MRR rows: replaces all it had (backends keep the
// leading rows it repeats: persistence/mrr_sums.h, CommonPrefix).
struct MrrWrite {
  int64_t digest = 0;  // of everything below; stored on the customer
  std::vector<engine::MrrMovement> movements;
  std::vector<MrrDelta> deltas;
};

// A stored movement with its customer.
struct MrrMovementRow {
  std::string customer_uuid;
  engine::MrrMovement movement;
};

// Filters of ListMrrMovements; empty/unset fields do not filter.
struct MrrMovementFilter {
  std::string data_source_uuid;
  std::string customer_uuid;
  std::optional<absl::Time> start;  // start <= occurred_at
  std::optional<absl::Time> end;    // occurred_at < end
};

// The sums of the MRR rows of a scope over one interval, per currency
// (sorted; the counts by status may be on any currency's entry, the empty
// one included: add them up). A currency whose sums are all 0 is left out.
struct MrrSums {
  std::string currency;
  // Movement changes by engine::MrrMovementType (its enumerator order).
  int64_t movements_in_cents[5] = {0, 0, 0, 0, 0};
  int64_t past_due_mrr_in_cents = 0;
  int64_t mrr_active_customers = 0;
  int64_t mrr_past_due_customers = 0;
  int64_t lead_customers = 0;
  int64_t active_customers = 0;
  int64_t past_due_customers = 0;
  int64_t cancelled_customers = 0;
};

// Writes that make a customer's stored evaluation a new one.
struct EvaluationWrite {
  struct SubscriptionUpdate {
    RowKey key = 0;
    engine::SubscriptionEvaluation evaluation;  // identity and events unused
  };
  struct NewEvent {
    std::string uuid;
    RowKey subscription_key = 0;
    RowKey source_key = 0;
    engine::EventType type = engine::EventType::kStarted;
    absl::Time occurred_at;
    engine::SubscriptionStatus status_after =
        engine::SubscriptionStatus::kActive;
  };
  struct CustomerUpdate {
    CustomerStatus status = CustomerStatus::kLead;
    std::string status_reason;
    std::vector<std::string> derived_tags;  // sorted
    std::optional<absl::Time> next_transition_at;
  };

  RowKey customer_key = 0;
  std::vector<SubscriptionUpdate> subscriptions;
  std::vector<RowKey> deleted_events;
  std::vector<NewEvent> inserted_events;  // inserted in this order
  std::optional<CustomerUpdate> customer;
  // Replaces the customer's MRR rows and digest when set.
  std::optional<MrrWrite> mrr;

  bool empty() const {
    return subscriptions.empty() && deleted_events.empty() &&
           inserted_events.empty() && !customer.has_value() &&
           !mrr.has_value();
  }
};

// ---- The change log --------------------------------------------------------

// Stored as these numbers; never renumber.
enum class ChangeKind {
  // A subscription event became published: it is known and due
  // (occurred_at <= now).
  kEventPublished = 1,
  // A published event disappeared (same uuid as its publication).
  kEventRetracted = 2,
  // The customer's status as of now changed.
  kCustomerStatusChanged = 3,
  // The customer's record or facts changed (fields, tags, external ids,
  // invoices, cancellations; created, merged or deleted): what GetCustomer
  // answers may differ for a reason other than time passing.
  kCustomerChanged = 4,
  // The source's settings changed, or it was deleted: every customer with
  // facts in it may answer differently.
  kSourceChanged = 5,
};

// One change-log row. Rows are appended in the transaction of the write that
// made the change, so the log holds exactly the committed changes.
struct ChangeRow {
  int64_t sequence = 0;  // assigned on append; increases in commit order
  absl::Time committed_at;
  ChangeKind kind = ChangeKind::kCustomerChanged;
  // The event's source; the customer's primary source; the changed source.
  std::string data_source_uuid;
  std::string customer_uuid;  // empty for kSourceChanged
  // kCustomerStatusChanged: every source the customer has an external id in.
  std::vector<std::string> customer_sources;
  // kEventPublished, kEventRetracted.
  SubscriptionEvent event;
  // kCustomerStatusChanged.
  CustomerStatus status = CustomerStatus::kLead;
  CustomerStatus previous_status = CustomerStatus::kLead;
};

// What the metrics report of the stored data (ReadTransaction::
// ReadStorageStats).
struct StorageStats {
  // The earliest instant at which a stored customer status may change with
  // no new data (customers.next_transition_at); nullopt if none ever will.
  // Once it is past, the re-evaluator has that much to catch up.
  std::optional<absl::Time> earliest_transition_at;
  // Rows in the change log, and when the oldest of them was committed.
  int64_t change_log_rows = 0;
  std::optional<absl::Time> oldest_change_at;
  // The database's size as the database reports it, bytes (SQLite: its pages
  // without the write-ahead log; PostgreSQL: pg_database_size()).
  int64_t database_bytes = 0;
};

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_RECORDS_H_
