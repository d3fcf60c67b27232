#include "persistence/postgres_schema.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "persistence/postgres_customer_state.h"

namespace recurrent::persistence::postgres {
namespace {

constexpr Migration kMigrations[] = {
    {5, "everything of SQLite's versions 1-5",
     R"sql(
CREATE TABLE data_sources (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order
  uuid        TEXT NOT NULL UNIQUE,
  name        TEXT NOT NULL UNIQUE,
  system      TEXT NOT NULL,
  created_at  BIGINT NOT NULL
);

-- One row per saved version; the current one has the highest version. The
-- setting values are one record (core/settings.h, "key=value" lines).
CREATE TABLE settings_versions (
  data_source_id            BIGINT NOT NULL
                            REFERENCES data_sources(id) ON DELETE CASCADE,
  version                   BIGINT NOT NULL,
  applied_at                BIGINT NOT NULL,
  saved_at                  BIGINT NOT NULL,
  customers_reprocessed     BIGINT NOT NULL DEFAULT 0,
  auto_churns_reversed      BIGINT NOT NULL DEFAULT 0,
  auto_churns_applied       BIGINT NOT NULL DEFAULT 0,
  customers_status_changed  BIGINT NOT NULL DEFAULT 0,
  saved_by                  TEXT NOT NULL DEFAULT '',
  setting_values            TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (data_source_id, version)
);

-- A customer's primary source and external id are its external id with the
-- lowest position (customer_external_ids).
CREATE TABLE customers (
  id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid                   TEXT NOT NULL UNIQUE,
  name                   TEXT NOT NULL DEFAULT '',
  email                  TEXT NOT NULL DEFAULT '',
  company                TEXT NOT NULL DEFAULT '',
  country                TEXT NOT NULL DEFAULT '',
  state                  TEXT NOT NULL DEFAULT '',
  city                   TEXT NOT NULL DEFAULT '',
  zip                    TEXT NOT NULL DEFAULT '',
  lead_created_at        BIGINT,
  free_trial_started_at  BIGINT,
  status                 INTEGER NOT NULL,  -- CustomerStatus (row_codes.h)
  -- When the status may next change with no new data; NULL if never.
  next_transition_at     BIGINT,
  created_at             BIGINT NOT NULL,
  updated_at             BIGINT NOT NULL,
  -- Derived tags (R8) of the stored evaluation, sorted, one per line.
  derived_tags           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX customers_by_email ON customers (email, id);
CREATE INDEX customers_by_status ON customers (status, id);
CREATE INDEX customers_by_next_transition ON customers (next_transition_at)
  WHERE next_transition_at IS NOT NULL;

CREATE TABLE customer_external_ids (
  data_source_id  BIGINT NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id     TEXT NOT NULL,
  customer_id     BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  position        BIGINT NOT NULL,
  PRIMARY KEY (data_source_id, external_id)
);
CREATE INDEX customer_external_ids_by_customer
  ON customer_external_ids (customer_id, position);
CREATE INDEX customer_external_ids_by_source_customer
  ON customer_external_ids (data_source_id, customer_id);
CREATE INDEX customer_external_ids_by_external_id
  ON customer_external_ids (external_id);

CREATE TABLE customer_tags (
  customer_id  BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  tag          TEXT NOT NULL,
  PRIMARY KEY (customer_id, tag)
);

CREATE TABLE invoices (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- import order
  uuid            TEXT NOT NULL UNIQUE,
  customer_id     BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id  BIGINT NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id     TEXT NOT NULL,
  date            BIGINT NOT NULL,
  due_date        BIGINT,
  currency        TEXT NOT NULL,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX invoices_by_customer ON invoices (customer_id, id);
CREATE INDEX invoices_by_source ON invoices (data_source_id, id);

CREATE TABLE line_items (
  id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid                      TEXT NOT NULL UNIQUE,
  invoice_id                BIGINT NOT NULL
                            REFERENCES invoices(id) ON DELETE CASCADE,
  -- The invoice's customer_id (kept equal by merges), so that the source
  -- scan reads a page's line items with one range per customer.
  customer_id               BIGINT NOT NULL,
  data_source_id            BIGINT NOT NULL
                            REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id               TEXT NOT NULL,
  position                  BIGINT NOT NULL,
  type                      INTEGER NOT NULL,  -- LineItemTypeCode
  subscription_external_id  TEXT NOT NULL,
  plan_external_id          TEXT NOT NULL,
  service_period_start      BIGINT NOT NULL,
  service_period_end        BIGINT NOT NULL,
  amount_in_cents           BIGINT NOT NULL,
  quantity                  BIGINT NOT NULL,
  discount_amount_in_cents  BIGINT NOT NULL,
  tax_amount_in_cents       BIGINT NOT NULL,
  prorated                  INTEGER NOT NULL,  -- 0 or 1
  description               TEXT NOT NULL,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX line_items_by_invoice ON line_items (invoice_id, position);
CREATE INDEX line_items_by_customer
  ON line_items (customer_id, invoice_id, position);
CREATE INDEX line_items_by_subscription
  ON line_items (data_source_id, subscription_external_id);

CREATE TABLE transactions (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid             TEXT NOT NULL UNIQUE,
  invoice_id       BIGINT NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  customer_id      BIGINT NOT NULL,   -- the invoice's, as in line_items
  data_source_id   BIGINT NOT NULL
                   REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id      TEXT NOT NULL,
  type             INTEGER NOT NULL,  -- TransactionTypeCode
  result           INTEGER NOT NULL,  -- TransactionResultCode
  date             BIGINT NOT NULL,
  amount_in_cents  BIGINT,            -- NULL: the whole amount due
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX transactions_by_invoice ON transactions (invoice_id, date, id);
CREATE INDEX transactions_by_customer
  ON transactions (customer_id, invoice_id, date, id);

CREATE TABLE subscriptions (
  id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid                  TEXT NOT NULL UNIQUE,
  customer_id           BIGINT NOT NULL
                        REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id        BIGINT NOT NULL
                        REFERENCES data_sources(id) ON DELETE CASCADE,
  external_id           TEXT NOT NULL,
  status                INTEGER NOT NULL DEFAULT 1,  -- SubscriptionStatusCode
  started_at            BIGINT,
  past_due_since        BIGINT,
  cancelled_at          BIGINT,
  auto_churned          INTEGER NOT NULL DEFAULT 0,
  status_reason         TEXT NOT NULL DEFAULT '',
  current_period_start  BIGINT,
  current_period_end    BIGINT,
  UNIQUE (data_source_id, external_id)
);
CREATE INDEX subscriptions_by_customer ON subscriptions (customer_id, id);
CREATE INDEX subscriptions_by_source_customer
  ON subscriptions (data_source_id, customer_id);

CREATE TABLE cancellations (
  subscription_id  BIGINT NOT NULL
                   REFERENCES subscriptions(id) ON DELETE CASCADE,
  cancelled_at     BIGINT NOT NULL,
  recorded_at      BIGINT NOT NULL,
  PRIMARY KEY (subscription_id, cancelled_at)
);

CREATE TABLE subscription_events (
  id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid             TEXT NOT NULL UNIQUE,
  subscription_id  BIGINT NOT NULL
                   REFERENCES subscriptions(id) ON DELETE CASCADE,
  customer_id      BIGINT NOT NULL,
  data_source_id   BIGINT NOT NULL,
  type             INTEGER NOT NULL,  -- EventTypeCode
  occurred_at      BIGINT NOT NULL
);
CREATE INDEX subscription_events_by_customer
  ON subscription_events (customer_id, occurred_at, id);
CREATE INDEX subscription_events_by_source
  ON subscription_events (data_source_id, occurred_at, id);
CREATE INDEX subscription_events_by_subscription
  ON subscription_events (subscription_id);

CREATE TABLE api_keys (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  uuid           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL UNIQUE,
  role           INTEGER NOT NULL,  -- 1 reader, 2 writer, 3 admin
  secret_sha256  TEXT NOT NULL UNIQUE,
  created_at     BIGINT NOT NULL,
  revoked_at     BIGINT
);

CREATE TABLE audit_log (
  id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        BIGINT NOT NULL,
  key_uuid  TEXT NOT NULL,
  key_name  TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL
);

-- What committed writes changed, in commit order (records.h, ChangeRow).
-- Sequences come from change_log_head, updated by each writing transaction
-- just before its commit: the row lock of that update orders the commits
-- (contract point 6), which a SEQUENCE would not.
CREATE TABLE change_log (
  sequence                  BIGINT PRIMARY KEY,
  committed_at              BIGINT NOT NULL,
  kind                      INTEGER NOT NULL,  -- persistence::ChangeKind
  data_source_uuid          TEXT NOT NULL,
  customer_uuid             TEXT NOT NULL,
  customer_sources          TEXT NOT NULL,     -- source uuids, one per line
  event_uuid                TEXT,
  event_type                INTEGER,
  subscription_uuid         TEXT,
  subscription_external_id  TEXT,
  occurred_at               BIGINT,
  status                    INTEGER,
  previous_status           INTEGER
);
CREATE INDEX change_log_by_committed_at ON change_log (committed_at);
-- One row: the highest sequence ever appended (pruned rows included).
CREATE TABLE change_log_head (
  one        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  last_sequence  BIGINT NOT NULL
);
INSERT INTO change_log_head (last_sequence) VALUES (0);
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
ALTER TABLE subscription_events ALTER COLUMN status_after DROP DEFAULT;

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
ALTER TABLE customers ADD COLUMN mrr_digest BIGINT;

-- The customer's MRR movements (M4); id is the listing's tie-break.
CREATE TABLE mrr_movements (
  id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id     BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id  BIGINT NOT NULL
                  REFERENCES data_sources(id) ON DELETE CASCADE,
  currency        TEXT NOT NULL,
  occurred_at     BIGINT NOT NULL,
  month           BIGINT NOT NULL,  -- MrrMonthOf(occurred_at)
  type            INTEGER NOT NULL,  -- MrrMovementTypeCode
  mrr_change      BIGINT NOT NULL,
  mrr_after       BIGINT NOT NULL
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
  id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id             BIGINT NOT NULL
                          REFERENCES customers(id) ON DELETE CASCADE,
  data_source_id          BIGINT REFERENCES data_sources(id) ON DELETE CASCADE,
  in_total                INTEGER NOT NULL,
  at                      BIGINT NOT NULL,
  month                   BIGINT NOT NULL,  -- MrrMonthOf(at)
  currency                TEXT NOT NULL,
  past_due_mrr            BIGINT NOT NULL,
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
-- month and key, kept by the statement triggers below in the same
-- transaction as the rows, whatever removes them (a replacement, a
-- customer's or a source's cascade). Each statement adds its rows' sums in
-- key order, so concurrent writers lock rollup rows in one order. A
-- source's rows of mrr_delta_rollups have source_key = its id, all-sources
-- rows of a customer with several sources source_key 0.
CREATE TABLE mrr_movement_rollups (
  data_source_id  BIGINT NOT NULL,
  month           BIGINT NOT NULL,
  currency        TEXT NOT NULL,
  type            INTEGER NOT NULL,
  mrr_change      BIGINT NOT NULL,
  PRIMARY KEY (data_source_id, month, currency, type)
);
CREATE INDEX mrr_movement_rollups_by_month
  ON mrr_movement_rollups (month, currency, type, mrr_change);
CREATE TABLE mrr_delta_rollups (
  source_key              BIGINT NOT NULL,
  in_total                INTEGER NOT NULL,
  month                   BIGINT NOT NULL,
  currency                TEXT NOT NULL,
  past_due_mrr            BIGINT NOT NULL,
  mrr_active_customers    BIGINT NOT NULL,
  mrr_past_due_customers  BIGINT NOT NULL,
  lead_customers          BIGINT NOT NULL,
  active_customers        BIGINT NOT NULL,
  past_due_customers      BIGINT NOT NULL,
  cancelled_customers     BIGINT NOT NULL,
  PRIMARY KEY (source_key, in_total, month, currency)
);
CREATE INDEX mrr_delta_rollups_in_total
  ON mrr_delta_rollups (month, currency) WHERE in_total = 1;

CREATE FUNCTION mrr_movements_inserted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_movement_rollups AS r
    (data_source_id, month, currency, type, mrr_change)
  SELECT data_source_id, month, currency, type, SUM(mrr_change)
  FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (data_source_id, month, currency, type)
  DO UPDATE SET mrr_change = r.mrr_change + EXCLUDED.mrr_change;
  RETURN NULL;
END $$;
CREATE FUNCTION mrr_movements_deleted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_movement_rollups AS r
    (data_source_id, month, currency, type, mrr_change)
  SELECT data_source_id, month, currency, type, -SUM(mrr_change)
  FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (data_source_id, month, currency, type)
  DO UPDATE SET mrr_change = r.mrr_change + EXCLUDED.mrr_change;
  RETURN NULL;
END $$;
CREATE TRIGGER mrr_movements_rollup_insert AFTER INSERT ON mrr_movements
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mrr_movements_inserted();
CREATE TRIGGER mrr_movements_rollup_delete AFTER DELETE ON mrr_movements
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mrr_movements_deleted();

CREATE FUNCTION mrr_deltas_inserted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_delta_rollups AS r
    (source_key, in_total, month, currency, past_due_mrr,
     mrr_active_customers, mrr_past_due_customers, lead_customers,
     active_customers, past_due_customers, cancelled_customers)
  SELECT COALESCE(data_source_id, 0), in_total, month, currency,
    SUM(past_due_mrr), SUM(mrr_active_customers),
    SUM(mrr_past_due_customers), SUM(lead_customers), SUM(active_customers),
    SUM(past_due_customers), SUM(cancelled_customers)
  FROM new_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (source_key, in_total, month, currency) DO UPDATE SET
    past_due_mrr = r.past_due_mrr + EXCLUDED.past_due_mrr,
    mrr_active_customers =
        r.mrr_active_customers + EXCLUDED.mrr_active_customers,
    mrr_past_due_customers =
        r.mrr_past_due_customers + EXCLUDED.mrr_past_due_customers,
    lead_customers = r.lead_customers + EXCLUDED.lead_customers,
    active_customers = r.active_customers + EXCLUDED.active_customers,
    past_due_customers = r.past_due_customers + EXCLUDED.past_due_customers,
    cancelled_customers =
        r.cancelled_customers + EXCLUDED.cancelled_customers;
  RETURN NULL;
END $$;
CREATE FUNCTION mrr_deltas_deleted() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_delta_rollups AS r
    (source_key, in_total, month, currency, past_due_mrr,
     mrr_active_customers, mrr_past_due_customers, lead_customers,
     active_customers, past_due_customers, cancelled_customers)
  SELECT COALESCE(data_source_id, 0), in_total, month, currency,
    -SUM(past_due_mrr), -SUM(mrr_active_customers),
    -SUM(mrr_past_due_customers), -SUM(lead_customers),
    -SUM(active_customers), -SUM(past_due_customers),
    -SUM(cancelled_customers)
  FROM old_rows GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (source_key, in_total, month, currency) DO UPDATE SET
    past_due_mrr = r.past_due_mrr + EXCLUDED.past_due_mrr,
    mrr_active_customers =
        r.mrr_active_customers + EXCLUDED.mrr_active_customers,
    mrr_past_due_customers =
        r.mrr_past_due_customers + EXCLUDED.mrr_past_due_customers,
    lead_customers = r.lead_customers + EXCLUDED.lead_customers,
    active_customers = r.active_customers + EXCLUDED.active_customers,
    past_due_customers = r.past_due_customers + EXCLUDED.past_due_customers,
    cancelled_customers =
        r.cancelled_customers + EXCLUDED.cancelled_customers;
  RETURN NULL;
END $$;
CREATE TRIGGER mrr_deltas_rollup_insert AFTER INSERT ON mrr_deltas
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mrr_deltas_inserted();
CREATE TRIGGER mrr_deltas_rollup_delete AFTER DELETE ON mrr_deltas
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION mrr_deltas_deleted();
)sql"},
    {7, "customers' facts blobs, kept by triggers", R"sql(
-- Each customer's facts blob (persistence/customer_facts_blob.h), as in
-- SQLite's version 7: a copy of its external ids, tags, invoices (line
-- items, transactions) and cancellations, read by LoadCustomerState with
-- one statement. The triggers below drop a customer's blob whenever one of
-- those rows is written, cascades included, and mark it stale for the
-- writing transaction (xact), which rebuilds the blobs it marked from the
-- rows before it commits, under the locks of the customers' sources. No
-- blob: read the rows.
CREATE TABLE customer_facts (
  customer_id  BIGINT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
  facts        BYTEA NOT NULL
);
CREATE TABLE customer_facts_stale (
  customer_id  BIGINT PRIMARY KEY,
  xact         xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX customer_facts_stale_by_xact ON customer_facts_stale (xact);
CREATE FUNCTION mark_customer_facts_stale(ids BIGINT[]) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM customer_facts WHERE customer_id = ANY(ids);
  INSERT INTO customer_facts_stale (customer_id)
    SELECT DISTINCT c FROM unnest(ids) AS c WHERE c IS NOT NULL
    ON CONFLICT (customer_id) DO UPDATE SET xact = pg_current_xact_id();
$$;
CREATE FUNCTION customer_external_ids_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM new_rows));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER customer_external_ids_facts_insert AFTER INSERT ON customer_external_ids
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_external_ids_facts_stale();
CREATE TRIGGER customer_external_ids_facts_delete AFTER DELETE ON customer_external_ids
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_external_ids_facts_stale();
CREATE TRIGGER customer_external_ids_facts_update AFTER UPDATE ON customer_external_ids
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_external_ids_facts_stale();

CREATE FUNCTION customer_tags_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM new_rows));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER customer_tags_facts_insert AFTER INSERT ON customer_tags
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_tags_facts_stale();
CREATE TRIGGER customer_tags_facts_delete AFTER DELETE ON customer_tags
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_tags_facts_stale();
CREATE TRIGGER customer_tags_facts_update AFTER UPDATE ON customer_tags
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customer_tags_facts_stale();

CREATE FUNCTION invoices_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM new_rows));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER invoices_facts_insert AFTER INSERT ON invoices
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION invoices_facts_stale();
CREATE TRIGGER invoices_facts_delete AFTER DELETE ON invoices
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION invoices_facts_stale();
CREATE TRIGGER invoices_facts_update AFTER UPDATE ON invoices
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION invoices_facts_stale();

CREATE FUNCTION line_items_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM new_rows));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER line_items_facts_insert AFTER INSERT ON line_items
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION line_items_facts_stale();
CREATE TRIGGER line_items_facts_delete AFTER DELETE ON line_items
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION line_items_facts_stale();
CREATE TRIGGER line_items_facts_update AFTER UPDATE ON line_items
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION line_items_facts_stale();

CREATE FUNCTION transactions_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM new_rows));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER transactions_facts_insert AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_facts_stale();
CREATE TRIGGER transactions_facts_delete AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_facts_stale();
CREATE TRIGGER transactions_facts_update AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION transactions_facts_stale();

CREATE FUNCTION cancellations_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT p.customer_id FROM new_rows r JOIN subscriptions p ON p.id = r.subscription_id));
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT p.customer_id FROM old_rows r JOIN subscriptions p ON p.id = r.subscription_id));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER cancellations_facts_insert AFTER INSERT ON cancellations
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION cancellations_facts_stale();
CREATE TRIGGER cancellations_facts_delete AFTER DELETE ON cancellations
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION cancellations_facts_stale();
CREATE TRIGGER cancellations_facts_update AFTER UPDATE ON cancellations
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION cancellations_facts_stale();

-- Deleting a subscription deletes its cancellations (whose trigger finds no
-- subscription then); moving one moves them.
CREATE FUNCTION subscriptions_facts_stale() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM mark_customer_facts_stale(ARRAY(SELECT customer_id FROM old_rows));
  ELSE
    PERFORM mark_customer_facts_stale(ARRAY[OLD.customer_id, NEW.customer_id]);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER subscriptions_facts_delete AFTER DELETE ON subscriptions
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_facts_stale();
-- A row trigger: a reprocess updates every subscription's evaluation, and
-- the WHEN clause skips those without running the function.
CREATE TRIGGER subscriptions_facts_update
  AFTER UPDATE OF customer_id, data_source_id, external_id ON subscriptions
  FOR EACH ROW
  WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id
        OR OLD.data_source_id IS DISTINCT FROM NEW.data_source_id
        OR OLD.external_id IS DISTINCT FROM NEW.external_id)
  EXECUTE FUNCTION subscriptions_facts_stale();

-- Every existing customer's blob is built by this migration's transaction
-- (postgres_schema.cc, after this SQL), with writers kept out meanwhile.
LOCK TABLE customers, customer_external_ids, customer_tags, invoices,
  line_items, transactions, subscriptions, cancellations IN SHARE MODE;
INSERT INTO customer_facts_stale (customer_id) SELECT id FROM customers;
)sql"},
    {8, "MRR sums over all sources from the per-source indexes", R"sql(
-- As SQLite's version 8: the sums over all sources read the per-source
-- covering indexes (persistence/postgres_mrr.cc, SumMrrRows), so the two
-- covering indexes ordered by time that only they used go; the movements
-- keep a narrow one in ListMrrMovements' order.
DROP INDEX mrr_movements_by_time;
CREATE INDEX mrr_movements_by_time ON mrr_movements (occurred_at, id);
DROP INDEX mrr_deltas_in_total;
DROP INDEX mrr_deltas_by_source;
CREATE INDEX mrr_deltas_by_source
  ON mrr_deltas (data_source_id, at, currency, past_due_mrr,
                 mrr_active_customers, mrr_past_due_customers, lead_customers,
                 active_customers, past_due_customers, cancelled_customers,
                 in_total);
)sql"},
    {9, "MRR rollups added at commit, in key order", R"sql(
-- PostgreSQL's own (SQLite runs one write transaction at a time): the
-- statement triggers above took rollup rows statement by statement, so two
-- transactions could take the all-sources rows (source_key 0) of two months
-- in opposite orders and deadlock. Now they add their sums to pending rows
-- of their own transaction, and the commit moves them into the rollups in
-- one statement in key order (postgres_mrr.h, ApplyPendingRollups): writers
-- take rollup rows only at commit, all in one order. The pending rows of a
-- transaction are invisible to others and gone when it commits.
CREATE TABLE mrr_movement_rollups_pending (
  data_source_id  BIGINT NOT NULL,
  month           BIGINT NOT NULL,
  currency        TEXT NOT NULL,
  type            INTEGER NOT NULL,
  mrr_change      BIGINT NOT NULL
);
CREATE TABLE mrr_delta_rollups_pending (
  source_key              BIGINT NOT NULL,
  in_total                INTEGER NOT NULL,
  month                   BIGINT NOT NULL,
  currency                TEXT NOT NULL,
  past_due_mrr            BIGINT NOT NULL,
  mrr_active_customers    BIGINT NOT NULL,
  mrr_past_due_customers  BIGINT NOT NULL,
  lead_customers          BIGINT NOT NULL,
  active_customers        BIGINT NOT NULL,
  past_due_customers      BIGINT NOT NULL,
  cancelled_customers     BIGINT NOT NULL
);
CREATE OR REPLACE FUNCTION mrr_movements_inserted() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_movement_rollups_pending
  SELECT data_source_id, month, currency, type, SUM(mrr_change)
  FROM new_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mrr_movements_deleted() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_movement_rollups_pending
  SELECT data_source_id, month, currency, type, -SUM(mrr_change)
  FROM old_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mrr_deltas_inserted() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_delta_rollups_pending
  SELECT COALESCE(data_source_id, 0), in_total, month, currency,
    SUM(past_due_mrr), SUM(mrr_active_customers),
    SUM(mrr_past_due_customers), SUM(lead_customers), SUM(active_customers),
    SUM(past_due_customers), SUM(cancelled_customers)
  FROM new_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION mrr_deltas_deleted() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mrr_delta_rollups_pending
  SELECT COALESCE(data_source_id, 0), in_total, month, currency,
    -SUM(past_due_mrr), -SUM(mrr_active_customers),
    -SUM(mrr_past_due_customers), -SUM(lead_customers),
    -SUM(active_customers), -SUM(past_due_customers),
    -SUM(cancelled_customers)
  FROM old_rows GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END $$;
)sql"},
    {10, "MRR rollup sums that cannot overflow", R"sql(
-- PostgreSQL's own. MRR is bounded per customer (the engine saturates it at
-- the int64 range), but the rollups add up every customer's: in BIGINT a sum
-- past the range failed the commit (numeric value out of range) of every
-- later write adding to that month, currency and source, whoever made it.
-- NUMERIC cannot overflow; reads clamp a sum beyond the int64 range
-- (Statement::ColumnInt64). The customer counts stay BIGINT.
ALTER TABLE mrr_movement_rollups ALTER COLUMN mrr_change TYPE NUMERIC;
ALTER TABLE mrr_movement_rollups_pending ALTER COLUMN mrr_change TYPE NUMERIC;
ALTER TABLE mrr_delta_rollups ALTER COLUMN past_due_mrr TYPE NUMERIC;
ALTER TABLE mrr_delta_rollups_pending ALTER COLUMN past_due_mrr TYPE NUMERIC;
)sql"},
    // Append new migrations here. Versions up to 8 are numbered as
    // SQLite's; 9 and 10 are PostgreSQL's own, so a change made in both
    // backends takes the next free number in each: {11, "...", R"sql(...)sql"},
};

// The migration that adds customers' facts blobs, built after its SQL.
constexpr int kFactsBlobVersion = 7;

absl::Status TooNew(int64_t version) {
  return absl::FailedPreconditionError(
      absl::StrCat("database schema version ", version,
                   " is newer than this build supports (",
                   LatestSchemaVersion(), "); upgrade recurrentd"));
}

absl::StatusOr<int64_t> ReadVersionRow(Connection& connection) {
  return connection.QueryInt64("SELECT max(version) FROM schema_version");
}

absl::StatusOr<bool> HasSchemaVersionTable(Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(
      const int64_t found,
      connection.QueryInt64(
          "SELECT (to_regclass('schema_version') IS NOT NULL)::integer"));
  return found != 0;
}

// The version, after creating the table on an empty database. A current
// database is only read: a role without CREATE on the schema may run it.
absl::StatusOr<int64_t> CurrentVersion(Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(const bool versioned,
                             HasSchemaVersionTable(connection));
  if (versioned) return ReadVersionRow(connection);
  RECURRENT_RETURN_IF_ERROR(
      connection.Execute("CREATE TABLE IF NOT EXISTS schema_version (version "
                         "INTEGER NOT NULL)"));
  return 0;
}

}  // namespace

absl::StatusOr<int64_t> SchemaVersion(Connection& connection) {
  RECURRENT_ASSIGN_OR_RETURN(const bool versioned,
                             HasSchemaVersionTable(connection));
  if (!versioned) return 0;
  return ReadVersionRow(connection);
}

absl::Span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return Migrations().back().version; }

absl::StatusOr<int> ApplyMigrations(Connection& connection) {
  // Held for the session (released below, or when the connection ends):
  // replicas starting together migrate one at a time.
  RECURRENT_RETURN_IF_ERROR(connection.Execute(
      absl::StrCat("SELECT pg_advisory_lock(", kLockClassMigration, ", 0)")
          .c_str()));
  const auto migrate = [&]() -> absl::StatusOr<int> {
    RECURRENT_ASSIGN_OR_RETURN(const int64_t initial,
                               CurrentVersion(connection));
    if (initial > LatestSchemaVersion()) return TooNew(initial);
    int64_t current = initial;
    for (const Migration& migration : Migrations()) {
      if (migration.version <= current) continue;
      if (current != 0 && current != migration.version - 1) {
        return absl::InternalError(
            absl::StrCat("schema migrations are not contiguous at version ",
                         migration.version));
      }
      RECURRENT_RETURN_IF_ERROR(connection.Execute("BEGIN"));
      absl::Status applied = connection.Execute(migration.sql);
      if (applied.ok() && migration.version == kFactsBlobVersion) {
        // The blobs of every customer, in this transaction.
        applied = RebuildAllStaleCustomerFacts(connection);
      }
      if (applied.ok()) {
        applied = connection.Execute(
            absl::StrCat("DELETE FROM schema_version;"
                         " INSERT INTO schema_version VALUES (",
                         migration.version, ")")
                .c_str());
      }
      if (applied.ok()) applied = connection.Execute("COMMIT");
      if (!applied.ok()) {
        (void)connection.Execute("ROLLBACK");
        return applied;
      }
      current = migration.version;
    }
    return static_cast<int>(initial);
  };
  absl::StatusOr<int> result = migrate();
  (void)connection.Execute(
      absl::StrCat("SELECT pg_advisory_unlock(", kLockClassMigration, ", 0)")
          .c_str());
  return result;
}

}  // namespace recurrent::persistence::postgres
