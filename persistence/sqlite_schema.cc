#include "persistence/sqlite_schema.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/sqlite_scoped_transaction.h"

namespace recurrent::persistence::sqlite {
namespace {

constexpr Migration kMigrations[] = {
    {1, "data sources, settings versions, customers, external ids, tags",
     R"sql(
CREATE TABLE data_sources (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order
  uuid        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL UNIQUE,
  system      TEXT NOT NULL,
  created_at  INTEGER NOT NULL
);

-- One row per saved version; the current one has the highest version.
CREATE TABLE settings_versions (
  data_source_id            INTEGER NOT NULL
                            REFERENCES data_sources(id) ON DELETE CASCADE,
  version                   INTEGER NOT NULL,
  past_due_mode             INTEGER NOT NULL,  -- PastDueMode
  auto_churn_after_days     INTEGER NOT NULL,
  applied_at                INTEGER NOT NULL,
  saved_at                  INTEGER NOT NULL,
  customers_reprocessed     INTEGER NOT NULL DEFAULT 0,
  auto_churns_reversed      INTEGER NOT NULL DEFAULT 0,
  auto_churns_applied       INTEGER NOT NULL DEFAULT 0,
  customers_status_changed  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (data_source_id, version)
) WITHOUT ROWID;

-- A customer's primary source and external id are its external id with the
-- lowest position (customer_external_ids).
CREATE TABLE customers (
  id                     INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order
  uuid                   TEXT NOT NULL UNIQUE,
  name                   TEXT NOT NULL DEFAULT '',
  email                  TEXT NOT NULL DEFAULT '',
  company                TEXT NOT NULL DEFAULT '',
  country                TEXT NOT NULL DEFAULT '',
  state                  TEXT NOT NULL DEFAULT '',
  city                   TEXT NOT NULL DEFAULT '',
  zip                    TEXT NOT NULL DEFAULT '',
  lead_created_at        INTEGER,
  free_trial_started_at  INTEGER,
  status                 INTEGER NOT NULL,  -- CustomerStatus
  -- When the status may next change with no new data (e.g. a past-due
  -- customer being auto-churned); NULL if never. For the re-evaluator.
  next_transition_at     INTEGER,
  created_at             INTEGER NOT NULL,
  updated_at             INTEGER NOT NULL
);
CREATE INDEX customers_by_email ON customers (email, id);
CREATE INDEX customers_by_status ON customers (status, id);
CREATE INDEX customers_by_next_transition ON customers (next_transition_at)
  WHERE next_transition_at IS NOT NULL;

-- Every (source, external id) of every customer; unique across primary and
-- merged ids. Merges move rows to the surviving customer, appending them
-- (higher positions).
CREATE TABLE customer_external_ids (
  data_source_id  INTEGER NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id     TEXT NOT NULL,
  customer_id     INTEGER NOT NULL
                  REFERENCES customers(id) ON DELETE CASCADE,
  position        INTEGER NOT NULL,
  PRIMARY KEY (data_source_id, external_id)
) WITHOUT ROWID;
CREATE INDEX customer_external_ids_by_customer
  ON customer_external_ids (customer_id, position);
CREATE INDEX customer_external_ids_by_source_customer
  ON customer_external_ids (data_source_id, customer_id);
CREATE INDEX customer_external_ids_by_external_id
  ON customer_external_ids (external_id);

CREATE TABLE customer_tags (
  customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  tag          TEXT NOT NULL,
  PRIMARY KEY (customer_id, tag)
) WITHOUT ROWID;
)sql"},
    {2,
     "invoices, line items, transactions, subscriptions, cancellations,"
     " events; customers' derived tags",
     R"sql(
-- Derived tags (R8) of the stored evaluation, sorted, one per line.
ALTER TABLE customers ADD COLUMN derived_tags TEXT NOT NULL DEFAULT '';

CREATE TABLE invoices (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- import order
  uuid            TEXT NOT NULL UNIQUE,
  customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id  INTEGER NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id     TEXT NOT NULL,
  date            INTEGER NOT NULL,
  due_date        INTEGER,
  currency        TEXT NOT NULL,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX invoices_by_customer ON invoices (customer_id, id);
CREATE INDEX invoices_by_source ON invoices (data_source_id, id);

-- data_source_id repeats the invoice's, for per-source uniqueness.
CREATE TABLE line_items (
  id                        INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid                      TEXT NOT NULL UNIQUE,
  invoice_id                INTEGER NOT NULL
                            REFERENCES invoices(id) ON DELETE CASCADE,
  data_source_id            INTEGER NOT NULL
                            REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id               TEXT NOT NULL,
  position                  INTEGER NOT NULL,  -- import order in the invoice
  type                      INTEGER NOT NULL,  -- LineItemTypeCode
  subscription_external_id  TEXT NOT NULL,
  plan_external_id          TEXT NOT NULL,
  service_period_start      INTEGER NOT NULL,
  service_period_end        INTEGER NOT NULL,
  amount_in_cents           INTEGER NOT NULL,
  quantity                  INTEGER NOT NULL,
  discount_amount_in_cents  INTEGER NOT NULL,
  tax_amount_in_cents       INTEGER NOT NULL,
  prorated                  INTEGER NOT NULL,
  description               TEXT NOT NULL,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX line_items_by_invoice ON line_items (invoice_id, position);
CREATE INDEX line_items_by_subscription
  ON line_items (data_source_id, subscription_external_id);

CREATE TABLE transactions (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- import order
  uuid             TEXT NOT NULL UNIQUE,
  invoice_id       INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  data_source_id   INTEGER NOT NULL
                   REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id      TEXT NOT NULL,
  type             INTEGER NOT NULL,  -- TransactionTypeCode
  result           INTEGER NOT NULL,  -- TransactionResultCode
  date             INTEGER NOT NULL,
  amount_in_cents  INTEGER,           -- NULL: the whole amount due
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX transactions_by_invoice ON transactions (invoice_id, date, id);

-- One row per (source, subscription_external_id) of SUBSCRIPTION or TRIAL
-- line items, with its evaluation at the last recompute.
CREATE TABLE subscriptions (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  uuid                  TEXT NOT NULL UNIQUE,
  customer_id           INTEGER NOT NULL
                        REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id        INTEGER NOT NULL
                        REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id           TEXT NOT NULL,
  status                INTEGER NOT NULL DEFAULT 1,  -- SubscriptionStatusCode
  started_at            INTEGER,
  past_due_since        INTEGER,
  cancelled_at          INTEGER,
  auto_churned          INTEGER NOT NULL DEFAULT 0,
  status_reason         TEXT NOT NULL DEFAULT '',
  current_period_start  INTEGER,
  current_period_end    INTEGER,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id, id);

-- Explicit cancellations (R4); one per instant.
CREATE TABLE cancellations (
  subscription_id  INTEGER NOT NULL
                   REFERENCES subscriptions(id) ON DELETE CASCADE,
  cancelled_at     INTEGER NOT NULL,
  recorded_at      INTEGER NOT NULL,
  PRIMARY KEY (subscription_id, cancelled_at)
) WITHOUT ROWID;

-- Every event of each customer's timeline at the last recompute, future
-- ones included; customer_id and data_source_id repeat the subscription's
-- for the listing indexes.
CREATE TABLE subscription_events (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,  -- tie-break
  uuid             TEXT NOT NULL UNIQUE,
  subscription_id  INTEGER NOT NULL
                   REFERENCES subscriptions(id) ON DELETE CASCADE,
  customer_id      INTEGER NOT NULL,
  data_source_id   INTEGER NOT NULL,
  type             INTEGER NOT NULL,  -- EventTypeCode
  occurred_at      INTEGER NOT NULL
);
CREATE INDEX subscription_events_by_customer
  ON subscription_events (customer_id, occurred_at, id);
CREATE INDEX subscription_events_by_source
  ON subscription_events (data_source_id, occurred_at, id);
CREATE INDEX subscription_events_by_subscription
  ON subscription_events (subscription_id);
)sql"},
    {3, "index of the customers with a subscription in a source (reprocess)",
     R"sql(
-- Reprocessing a source walks its customers in key order
-- (persistence/sqlite_source_scan.h).
CREATE INDEX subscriptions_by_source_customer
  ON subscriptions (data_source_id, customer_id);
)sql"},
    {4, "API keys, who saved each settings version, audit log",
     R"sql(
-- API keys (persistence/api_key_store.h). The key itself is never stored:
-- only its SHA-256, in lowercase hex.
CREATE TABLE api_keys (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order
  uuid           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL UNIQUE,
  role           INTEGER NOT NULL,  -- 1 reader, 2 writer, 3 admin
  secret_sha256  TEXT NOT NULL UNIQUE,
  created_at     INTEGER NOT NULL,
  revoked_at     INTEGER
);

-- The name of the API key that saved the version ('' if none).
ALTER TABLE settings_versions ADD COLUMN saved_by TEXT NOT NULL DEFAULT '';

-- Settings changes, reprocesses, deletes, merges and key management, with
-- the key that made them. Append-only.
CREATE TABLE audit_log (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  at        INTEGER NOT NULL,
  key_uuid  TEXT NOT NULL,  -- '' when the server ran without keys
  key_name  TEXT NOT NULL,
  action    TEXT NOT NULL,  -- the RPC, e.g. "CustomerService.DeleteCustomer"
  target    TEXT NOT NULL   -- the ids acted on, e.g. "cus_…" or "cus_… -> cus_…"
);
)sql"},
    {5, "settings as one record; the change log",
     R"sql(
-- The setting values of a version as one record (core/settings.h,
-- EncodeSettingsValues: "key=value" lines), so that a new setting needs no
-- schema change. Existing rows get exactly what the encoder gives for their
-- past_due_mode code (1 KEEP, 2 AUTO_CHURN); a code no build ever wrote
-- becomes a mode the decoder rejects (kInternal on read, as before).
ALTER TABLE settings_versions
  ADD COLUMN setting_values TEXT NOT NULL DEFAULT '';
UPDATE settings_versions SET setting_values = CASE past_due_mode
  WHEN 1 THEN 'past_due_handling.mode=keep' || char(10)
  WHEN 2 THEN 'past_due_handling.mode=auto_churn' || char(10) ||
    'past_due_handling.auto_churn_after_days=' || auto_churn_after_days ||
    char(10)
  ELSE 'past_due_handling.mode=code_' || past_due_mode || char(10)
END;
-- SQLite 3.35+ drops plain columns of WITHOUT ROWID tables in place.
ALTER TABLE settings_versions DROP COLUMN past_due_mode;
ALTER TABLE settings_versions DROP COLUMN auto_churn_after_days;

-- What committed writes changed, in commit order (persistence/records.h,
-- ChangeRow). No foreign keys: rows outlive what they describe.
-- AUTOINCREMENT: a sequence is never reused, even after pruning.
CREATE TABLE change_log (
  sequence                  INTEGER PRIMARY KEY AUTOINCREMENT,
  committed_at              INTEGER NOT NULL,
  kind                      INTEGER NOT NULL,  -- persistence::ChangeKind
  data_source_uuid          TEXT NOT NULL,
  customer_uuid             TEXT NOT NULL,     -- '' for a source change
  customer_sources          TEXT NOT NULL,     -- source uuids, one per line
  -- Event rows (published, retracted):
  event_uuid                TEXT,
  event_type                INTEGER,           -- EventTypeCode
  subscription_uuid         TEXT,
  subscription_external_id  TEXT,
  occurred_at               INTEGER,
  -- Status rows:
  status                    INTEGER,           -- CustomerStatusCode
  previous_status           INTEGER            -- CustomerStatusCode
);
)sql"},
    {6,
     "the customer's status reason; each event's status after it; derived MRR",
     R"sql(
-- One sentence explaining the stored status (engine/customer_reason.h),
-- written with it by every recompute. '' until then in a migrated database.
ALTER TABLE customers ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';

-- The MRR part of a settings version's impact (core::EncodeMrrImpact:
-- "mrr_change EUR 1200" and "churned_mrr EUR 4900" lines); '' for none.
ALTER TABLE settings_versions ADD COLUMN mrr_impact TEXT NOT NULL DEFAULT '';

-- Each event's status_after (engine::SubscriptionEvent): the subscription's
-- status from the event on, computed by the engine and written with the
-- event by every recompute. Existing rows get the status their type usually
-- leads to (SubscriptionStatusCode by EventTypeCode: ACTIVE 2 after STARTED 1,
-- RECOVERED 3 and REACTIVATED 6; PAST_DUE 3 after PAST_DUE 2; CANCELLED 4
-- after CANCELLED 4 and AUTO_CHURNED 5), the best value without the facts:
-- a STARTED or REACTIVATED straight into PAST_DUE says ACTIVE until the
-- customer's next recompute replaces the event.
ALTER TABLE subscription_events
  ADD COLUMN status_after INTEGER NOT NULL DEFAULT 2;
UPDATE subscription_events SET status_after = CASE type
  WHEN 2 THEN 3 WHEN 4 THEN 4 WHEN 5 THEN 4 ELSE 2 END;
-- (SQLite keeps the column's DEFAULT; every insert names the column.)

-- The same for the change log's event rows (published, retracted); NULL on
-- other rows.
ALTER TABLE change_log ADD COLUMN event_status_after INTEGER;
UPDATE change_log SET event_status_after = CASE event_type
  WHEN 2 THEN 3 WHEN 4 THEN 4 WHEN 5 THEN 4 ELSE 2 END
  WHERE kind IN (1, 2);

-- Derived MRR (docs/semantics.md M1-M6; persistence/records.h, MrrWrite):
-- each customer's rows are written by every recompute whose MRR differs from
-- the stored one (customers.mrr_digest, NULL until the first such recompute,
-- e.g. in a migrated database until its sources are reprocessed) and
-- replaced whole. They go with their customer (ON DELETE CASCADE); rows of
-- a deleted source go with it, and its remaining customers are recomputed.
ALTER TABLE customers ADD COLUMN mrr_digest INTEGER;

-- The customer's MRR movements (M4); id is the listing's tie-break.
CREATE TABLE mrr_movements (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id  INTEGER NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  currency        TEXT NOT NULL,
  occurred_at     INTEGER NOT NULL,
  month           INTEGER NOT NULL,  -- MrrMonthOf(occurred_at)
  type            INTEGER NOT NULL,  -- MrrMovementTypeCode
  mrr_change      INTEGER NOT NULL,
  mrr_after       INTEGER NOT NULL
);
-- Covering the sums per source and over all sources (GetMrr, GetMrrSeries).
CREATE INDEX mrr_movements_by_source
  ON mrr_movements (data_source_id, occurred_at, currency, type, mrr_change);
CREATE INDEX mrr_movements_by_time
  ON mrr_movements (occurred_at, currency, type, mrr_change);
CREATE INDEX mrr_movements_by_customer
  ON mrr_movements (customer_id, occurred_at);

-- What the customer counts for from `at` on, as changes (MrrDelta): a sum
-- up to an instant is the state at it. data_source_id NULL: all the
-- customer's sources; in_total: counted in the all-sources sums. mrr_*:
-- customers with MRR in the currency by status; the others: customers by
-- status, whatever the row's currency.
CREATE TABLE mrr_deltas (
  id                      INTEGER PRIMARY KEY,  -- write order
  customer_id             INTEGER NOT NULL
                          REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id          INTEGER REFERENCES data_sources(id) ON DELETE CASCADE,
  in_total                INTEGER NOT NULL,
  at                      INTEGER NOT NULL,
  month                   INTEGER NOT NULL,  -- MrrMonthOf(at)
  currency                TEXT NOT NULL,
  past_due_mrr            INTEGER NOT NULL,
  mrr_active_customers    INTEGER NOT NULL,
  mrr_past_due_customers  INTEGER NOT NULL,
  lead_customers          INTEGER NOT NULL,
  active_customers        INTEGER NOT NULL,
  past_due_customers      INTEGER NOT NULL,
  cancelled_customers     INTEGER NOT NULL
);
CREATE INDEX mrr_deltas_by_customer ON mrr_deltas (customer_id, id);
-- Covering the sums per source and over all sources.
CREATE INDEX mrr_deltas_by_source
  ON mrr_deltas (data_source_id, at, currency, past_due_mrr,
                 mrr_active_customers, mrr_past_due_customers, lead_customers,
                 active_customers, past_due_customers, cancelled_customers);
CREATE INDEX mrr_deltas_in_total
  ON mrr_deltas (at, currency, past_due_mrr, mrr_active_customers,
                 mrr_past_due_customers, lead_customers, active_customers,
                 past_due_customers, cancelled_customers)
  WHERE in_total = 1;

-- Monthly rollups (persistence/mrr_sums.h): the sums of the rows above per
-- month and key, kept by the triggers below in the same transaction as the
-- rows, whatever removes them (a replacement, a customer's or a source's
-- cascade). A source's rows of mrr_delta_rollups have source_key = its id,
-- all-sources rows of a customer with several sources source_key 0.
CREATE TABLE mrr_movement_rollups (
  data_source_id  INTEGER NOT NULL,
  month           INTEGER NOT NULL,
  currency        TEXT NOT NULL,
  type            INTEGER NOT NULL,
  mrr_change      INTEGER NOT NULL,
  PRIMARY KEY (data_source_id, month, currency, type)
) WITHOUT ROWID;
CREATE INDEX mrr_movement_rollups_by_month
  ON mrr_movement_rollups (month, currency, type, mrr_change);
CREATE TABLE mrr_delta_rollups (
  source_key              INTEGER NOT NULL,
  in_total                INTEGER NOT NULL,
  month                   INTEGER NOT NULL,
  currency                TEXT NOT NULL,
  past_due_mrr            INTEGER NOT NULL,
  mrr_active_customers    INTEGER NOT NULL,
  mrr_past_due_customers  INTEGER NOT NULL,
  lead_customers          INTEGER NOT NULL,
  active_customers        INTEGER NOT NULL,
  past_due_customers      INTEGER NOT NULL,
  cancelled_customers     INTEGER NOT NULL,
  PRIMARY KEY (source_key, in_total, month, currency)
) WITHOUT ROWID;
CREATE INDEX mrr_delta_rollups_in_total
  ON mrr_delta_rollups (month, currency) WHERE in_total = 1;

CREATE TRIGGER mrr_movements_rollup_insert AFTER INSERT ON mrr_movements
BEGIN
  INSERT INTO mrr_movement_rollups
    (data_source_id, month, currency, type, mrr_change)
  VALUES (NEW.data_source_id, NEW.month, NEW.currency, NEW.type,
          NEW.mrr_change)
  ON CONFLICT (data_source_id, month, currency, type)
  DO UPDATE SET mrr_change = mrr_change + excluded.mrr_change;
END;
CREATE TRIGGER mrr_movements_rollup_delete AFTER DELETE ON mrr_movements
BEGIN
  UPDATE mrr_movement_rollups SET mrr_change = mrr_change - OLD.mrr_change
  WHERE data_source_id = OLD.data_source_id AND month = OLD.month
    AND currency = OLD.currency AND type = OLD.type;
END;
CREATE TRIGGER mrr_deltas_rollup_insert AFTER INSERT ON mrr_deltas
BEGIN
  INSERT INTO mrr_delta_rollups
    (source_key, in_total, month, currency, past_due_mrr,
     mrr_active_customers, mrr_past_due_customers, lead_customers,
     active_customers, past_due_customers, cancelled_customers)
  VALUES (COALESCE(NEW.data_source_id, 0), NEW.in_total, NEW.month,
          NEW.currency, NEW.past_due_mrr, NEW.mrr_active_customers,
          NEW.mrr_past_due_customers, NEW.lead_customers,
          NEW.active_customers, NEW.past_due_customers,
          NEW.cancelled_customers)
  ON CONFLICT (source_key, in_total, month, currency) DO UPDATE SET
    past_due_mrr = past_due_mrr + excluded.past_due_mrr,
    mrr_active_customers =
        mrr_active_customers + excluded.mrr_active_customers,
    mrr_past_due_customers =
        mrr_past_due_customers + excluded.mrr_past_due_customers,
    lead_customers = lead_customers + excluded.lead_customers,
    active_customers = active_customers + excluded.active_customers,
    past_due_customers = past_due_customers + excluded.past_due_customers,
    cancelled_customers = cancelled_customers + excluded.cancelled_customers;
END;
CREATE TRIGGER mrr_deltas_rollup_delete AFTER DELETE ON mrr_deltas
BEGIN
  UPDATE mrr_delta_rollups SET
    past_due_mrr = past_due_mrr - OLD.past_due_mrr,
    mrr_active_customers = mrr_active_customers - OLD.mrr_active_customers,
    mrr_past_due_customers =
        mrr_past_due_customers - OLD.mrr_past_due_customers,
    lead_customers = lead_customers - OLD.lead_customers,
    active_customers = active_customers - OLD.active_customers,
    past_due_customers = past_due_customers - OLD.past_due_customers,
    cancelled_customers = cancelled_customers - OLD.cancelled_customers
  WHERE source_key = COALESCE(OLD.data_source_id, 0)
    AND in_total = OLD.in_total AND month = OLD.month
    AND currency = OLD.currency;
END;
)sql"},
    {7, "customers' facts blobs, kept by triggers", R"sql(
-- Each customer's facts blob (persistence/customer_facts_blob.h): a copy of
-- its external ids, tags, invoices (line items, transactions) and
-- cancellations, read by LoadCustomerState with one statement. The
-- triggers below drop a customer's blob whenever one of those rows is
-- written, cascades included, and mark it stale; the write transaction
-- rebuilds its stale customers' blobs from the rows before it commits, so
-- a committed blob always equals the rows. No blob: read the rows.
CREATE TABLE customer_facts (
  customer_id  INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
  facts        BLOB NOT NULL
);
-- Customers whose blob this transaction must rebuild; empty once committed
-- (except right after this migration: every customer, rebuilt when the
-- backend opens).
CREATE TABLE customer_facts_stale (
  customer_id  INTEGER PRIMARY KEY
);
INSERT INTO customer_facts_stale SELECT id FROM customers;

CREATE TRIGGER external_ids_stale_insert AFTER INSERT ON customer_external_ids
BEGIN
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER external_ids_stale_delete AFTER DELETE ON customer_external_ids
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
END;

CREATE TRIGGER external_ids_stale_update AFTER UPDATE ON customer_external_ids
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER tags_stale_insert AFTER INSERT ON customer_tags
BEGIN
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER tags_stale_delete AFTER DELETE ON customer_tags
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
END;

CREATE TRIGGER tags_stale_update AFTER UPDATE ON customer_tags
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER invoices_stale_insert AFTER INSERT ON invoices
BEGIN
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER invoices_stale_delete AFTER DELETE ON invoices
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
END;

CREATE TRIGGER invoices_stale_update AFTER UPDATE ON invoices
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;

CREATE TRIGGER line_items_stale_insert AFTER INSERT ON line_items
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = NEW.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = NEW.invoice_id;
END;

CREATE TRIGGER line_items_stale_delete AFTER DELETE ON line_items
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = OLD.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = OLD.invoice_id;
END;

CREATE TRIGGER line_items_stale_update AFTER UPDATE ON line_items
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = OLD.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = OLD.invoice_id;
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = NEW.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = NEW.invoice_id;
END;

CREATE TRIGGER transactions_stale_insert AFTER INSERT ON transactions
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = NEW.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = NEW.invoice_id;
END;

CREATE TRIGGER transactions_stale_delete AFTER DELETE ON transactions
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = OLD.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = OLD.invoice_id;
END;

CREATE TRIGGER transactions_stale_update AFTER UPDATE ON transactions
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = OLD.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = OLD.invoice_id;
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM invoices WHERE id = NEW.invoice_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM invoices WHERE id = NEW.invoice_id;
END;

CREATE TRIGGER cancellations_stale_insert AFTER INSERT ON cancellations
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM subscriptions WHERE id = NEW.subscription_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM subscriptions WHERE id = NEW.subscription_id;
END;

CREATE TRIGGER cancellations_stale_delete AFTER DELETE ON cancellations
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM subscriptions WHERE id = OLD.subscription_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM subscriptions WHERE id = OLD.subscription_id;
END;

CREATE TRIGGER cancellations_stale_update AFTER UPDATE ON cancellations
BEGIN
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM subscriptions WHERE id = OLD.subscription_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM subscriptions WHERE id = OLD.subscription_id;
  DELETE FROM customer_facts WHERE customer_id IN (SELECT customer_id FROM subscriptions WHERE id = NEW.subscription_id);
  INSERT OR IGNORE INTO customer_facts_stale SELECT customer_id FROM subscriptions WHERE id = NEW.subscription_id;
END;

CREATE TRIGGER subscriptions_stale_delete AFTER DELETE ON subscriptions
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
END;

CREATE TRIGGER subscriptions_stale_update AFTER UPDATE OF customer_id, data_source_id, external_id ON subscriptions
BEGIN
  DELETE FROM customer_facts WHERE customer_id = OLD.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (OLD.customer_id);
  DELETE FROM customer_facts WHERE customer_id = NEW.customer_id;
  INSERT OR IGNORE INTO customer_facts_stale VALUES (NEW.customer_id);
END;
)sql"},
    {8, "MRR sums over all sources from the per-source indexes", R"sql(
-- Every MRR row updated four covering indexes ordered by time, two of them
-- only for the sums over all sources: half of a large reprocess's apply
-- (docs/performance.md, "A measured million"). Those sums now add up the
-- per-source ranges (persistence/sqlite_mrr.cc, SumMrrRows): the deltas'
-- per-source index also covers in_total, and the movements keep a narrow
-- index in time order for ListMrrMovements over all sources.
DROP INDEX mrr_movements_by_time;
CREATE INDEX mrr_movements_by_time ON mrr_movements (occurred_at);
DROP INDEX mrr_deltas_in_total;
DROP INDEX mrr_deltas_by_source;
CREATE INDEX mrr_deltas_by_source
  ON mrr_deltas (data_source_id, at, currency, past_due_mrr,
                 mrr_active_customers, mrr_past_due_customers, lead_customers,
                 active_customers, past_due_customers, cancelled_customers,
                 in_total);
)sql"},
    // Append new migrations here: {9, "...", R"sql(...)sql"}. (PostgreSQL
    // has versions 9 and 10 of its own, persistence/postgres_schema.cc: a
    // change made in both backends takes the next free number in each.)
};

}  // namespace

absl::Span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return Migrations().back().version; }

absl::Status ApplyMigrations(Connection& connection) {
  const auto too_new = [](int64_t version) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", version,
                     " is newer than this build supports (",
                     LatestSchemaVersion(), "); upgrade recurrentd"));
  };
  RECURRENT_ASSIGN_OR_RETURN(const int64_t initial,
                             connection.QueryInt64("PRAGMA user_version"));
  if (initial > LatestSchemaVersion()) return too_new(initial);
  for (const Migration& migration : Migrations()) {
    if (migration.version <= initial) continue;
    ScopedTransaction txn(connection);
    RECURRENT_RETURN_IF_ERROR(txn.Begin(ScopedTransaction::Kind::kImmediate));
    // Read again under the write lock: another process may have migrated.
    RECURRENT_ASSIGN_OR_RETURN(const int64_t current,
                               connection.QueryInt64("PRAGMA user_version"));
    if (current > LatestSchemaVersion()) return too_new(current);
    if (current >= migration.version) continue;
    if (current != migration.version - 1) {
      return absl::InternalError(
          absl::StrCat("schema migrations are not contiguous at version ",
                       migration.version));
    }
    RECURRENT_RETURN_IF_ERROR(connection.Execute(migration.sql));
    // PRAGMA takes no parameters; the version is a compile-time constant.
    RECURRENT_RETURN_IF_ERROR(connection.Execute(
        absl::StrCat("PRAGMA user_version = ", migration.version).c_str()));
    RECURRENT_RETURN_IF_ERROR(txn.Commit());
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence::sqlite
