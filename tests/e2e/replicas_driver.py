"""Load and checks for replicas_test.sh: several recurrentd on one PostgreSQL.

  replicas_driver.py setup ADDRS STATE            data sources and customers
  replicas_driver.py load ADDRS STATE SECONDS     the mixed write load; logs
                                                  every call
  replicas_driver.py check ADDRS STATE LOG...     everything acknowledged is
                                                  stored, reprocess changes
                                                  nothing, the change feed
                                                  chains, no transition was
                                                  re-evaluated twice (LOGs:
                                                  the replicas' stderr)
  replicas_driver.py check-feed ADDRS STATE       the change-feed checks alone
  replicas_driver.py outage-down ADDRS STATE I    the database is stopped:
                                                  replica I says NOT_SERVING
                                                  and refuses calls
  replicas_driver.py outage-up ADDRS STATE I SEC  the database is back:
                                                  replica I serves again
  replicas_driver.py keys ADDRS                   API keys created or revoked
                                                  on one replica take effect
                                                  on the others (last: from
                                                  then on every call needs a
                                                  key)

ADDRS is a comma-separated list of host:port, one per replica.

`load` runs IMPORTERS (env, default 3) importer threads, two for payments
and one each for explicit cancellations, merges and settings changes, for
SECONDS. Every call goes to the next replica in turn; a call that fails with
UNAVAILABLE is retried on the next one (up to three attempts; retrying is
safe for imports, payments, cancellations and settings, whose repeats are
no-ops; merges are not retried). Before each attempt a thread appends a
"try" line to its log (JSON, with what the call writes), and after the
answer an "ack" line (OK, with what the answer says) or an "err" line (the
code), each flushed at once. Only the servers are killed, never this
process, so a log is never cut short.

What the load makes happen as time passes (the replicas' re-evaluators must
apply it): every invoice has a SUBSCRIPTION line item, some a ONE_TIME fee.
  A  due 1-6 s after the import; paid at a random time up to twice as far
     (before or after its due date)
  B  due 1-6 s after the import and unpaid: PAST_DUE while the load runs;
     then 1-5 s later paid (55%), cancelled explicitly (40%), or neither
  C  due X days (X = 1 or 2) before the import, less 1-6 s: past due at once;
     under auto-churn after X days it churns 1-6 s after the import (earlier
     or a day later under the other settings); paid 2-10 s after the import
     (a payment cures a churn, so some are churned, then no longer)
  D  a service period that starts 1-6 s after the import, no due date
Payments and cancellations are sent when their time comes, by their own
threads. Everything else lies a day or more away, so once the latest of
these times has passed nothing is due and the stored state must be final.
"""

import datetime
import heapq
import json
import os
import random
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

import grpc  # noqa: E402
import recurrent  # noqa: E402,F401  (puts the generated stubs on the path)
from recurrent.v1 import api_key_pb2, api_key_pb2_grpc  # noqa: E402
from recurrent.v1 import change_feed_pb2, change_feed_pb2_grpc  # noqa: E402
from recurrent.v1 import customer_pb2, customer_pb2_grpc  # noqa: E402
from recurrent.v1 import invoice_pb2, invoice_pb2_grpc  # noqa: E402
from recurrent.v1 import source_settings_pb2, source_settings_pb2_grpc  # noqa: E402

DAY = 86400
SOURCES = int(os.environ.get("SOURCES", "2"))
CUSTOMERS = int(os.environ.get("CUSTOMERS", "100"))  # per source
IMPORTERS = int(os.environ.get("IMPORTERS", "3"))
MAX_DELAY = 6.0  # the latest a transition lies after its import, in seconds
TIMEOUT = 15.0  # per call
CHANNEL_OPTIONS = [
    ("grpc.enable_http_proxy", 0),
    # A restarted replica is found again within a second.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
KEEP = source_settings_pb2.PAST_DUE_MODE_KEEP
AUTO = source_settings_pb2.PAST_DUE_MODE_AUTO_CHURN
STATUS_CHANGED = change_feed_pb2.CHANGE_TYPE_CUSTOMER_STATUS_CHANGED
PUBLISHED = change_feed_pb2.CHANGE_TYPE_EVENT_PUBLISHED
RETRACTED = change_feed_pb2.CHANGE_TYPE_EVENT_RETRACTED
LEAD = customer_pb2.CUSTOMER_STATUS_LEAD
# Codes that say nothing was done: the request was refused as it was.
REFUSED = {"NOT_FOUND", "INVALID_ARGUMENT", "FAILED_PRECONDITION",
           "ALREADY_EXISTS", "RESOURCE_EXHAUSTED"}


def status_name(value):
    return customer_pb2.CustomerStatus.Name(value).replace("CUSTOMER_STATUS_", "")


def ts(seconds):
    from google.protobuf import timestamp_pb2
    t = timestamp_pb2.Timestamp()
    t.FromMicroseconds(int(round(seconds * 1e6)))
    return t


def micros(timestamp):
    return timestamp.seconds * 1000000 + timestamp.nanos // 1000


class Replica:
    def __init__(self, addr):
        self.addr = addr
        self.channel = grpc.insecure_channel(addr, options=CHANNEL_OPTIONS)
        self.sources = source_settings_pb2_grpc.SourceSettingsServiceStub(self.channel)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.invoices = invoice_pb2_grpc.InvoiceServiceStub(self.channel)
        self.changes = change_feed_pb2_grpc.ChangeFeedServiceStub(self.channel)
        self.keys = api_key_pb2_grpc.ApiKeyServiceStub(self.channel)
        # grpc.health.v1.Health/Check with raw bytes: the request
        # HealthCheckRequest{service: ""} is empty, and the answer's field 1
        # (varint) is the status.
        self.health_check = self.channel.unary_unary("/grpc.health.v1.Health/Check")

    def health(self):
        try:
            answer = self.health_check(b"", timeout=2)
        except grpc.RpcError as e:
            return "RPC_" + e.code().name
        status = 0
        if len(answer) >= 2 and answer[0] == 0x08:
            status = answer[1]
        return {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING"}.get(status, str(status))


def connect(addrs):
    return [Replica(a) for a in addrs.split(",")]


class Log:
    """One thread's log: a JSON object per line, flushed per line."""

    def __init__(self, path):
        self.out = open(path, "a")

    def write(self, **entry):
        self.out.write(json.dumps(entry, sort_keys=True) + "\n")
        self.out.flush()


class Caller:
    """Sends calls round robin over the replicas and logs them."""

    def __init__(self, replicas, log, offset):
        self.replicas = replicas
        self.log = log
        self.turn = offset

    def call(self, kind, name, method, request, what, answer=None, attempts=3):
        """Returns (response or None, code). `method(replica)` gives the stub
        method; `what` describes the write; `answer(response)` what to log of
        an OK answer."""
        code = "UNAVAILABLE"
        for _ in range(attempts):
            r = self.turn % len(self.replicas)
            self.turn += 1
            started = time.time()
            self.log.write(ev="try", kind=kind, name=name, replica=r, t=started, what=what)
            try:
                response = method(self.replicas[r])(request, timeout=TIMEOUT)
            except grpc.RpcError as e:
                code = e.code().name
                self.log.write(ev="err", kind=kind, name=name, replica=r, t=started,
                               end=time.time(), code=code, details=e.details())
                if code == "UNAVAILABLE":
                    continue
                return None, code
            self.log.write(ev="ack", kind=kind, name=name, replica=r, t=started,
                           end=time.time(), what=what,
                           answer=answer(response) if answer else {})
            return response, "OK"
        return None, code


# ---- setup -----------------------------------------------------------------


def setup(addrs, state):
    replica = connect(addrs)[0]
    customers = []
    for s in range(SOURCES):
        source = replica.sources.CreateDataSource(
            source_settings_pb2.CreateDataSourceRequest(name="replicas-%d" % s), timeout=10)
        for c in range(CUSTOMERS):
            request = customer_pb2.CreateCustomerRequest()
            request.customer.data_source_uuid = source.uuid
            request.customer.external_id = "c%d-%d" % (s, c)
            request.customer.name = "Customer %d-%d" % (s, c)
            made = replica.customers.CreateCustomer(request, timeout=10)
            customers.append({"uuid": made.uuid, "source": source.uuid,
                              "external_id": made.external_id})
    with open(os.path.join(state, "setup.json"), "w") as out:
        json.dump({"customers": customers}, out)
    print("setup: %d sources, %d customers" % (SOURCES, len(customers)))


def read_setup(state):
    with open(os.path.join(state, "setup.json")) as f:
        return json.load(f)


# ---- load ------------------------------------------------------------------


class Schedule:
    """Items to act on at a time, earliest first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.heap = []
        self.n = 0

    def push(self, when, item):
        with self.lock:
            heapq.heappush(self.heap, (when, self.n, item))
            self.n += 1

    def pop_due(self):
        with self.lock:
            if self.heap and self.heap[0][0] <= time.time():
                return heapq.heappop(self.heap)[2]
            return None


class Shared:
    def __init__(self, customers, deadline):
        self.lock = threading.Lock()
        self.live = list(customers)  # customers the load may still use
        self.initial = len(customers)
        self.payments = Schedule()  # (invoice uuid, invoice external id, source)
        self.cancellations = Schedule()  # (customer, subscription external id)
        self.deadline = deadline

    def running(self):
        return time.time() < self.deadline

    def pick_customer(self):
        with self.lock:
            return random.choice(self.live)


def make_batch(customer, prefix, now, kinds="AAABBCD"):
    """An ImportInvoicesRequest and what it writes. Kind Q: a started
    subscription with no due date, which brings no transition."""
    request = invoice_pb2.ImportInvoicesRequest(customer_uuid=customer["uuid"])
    written = []
    for k in range(random.randint(3, 5)):
        kind = random.choice(kinds)
        delay = random.uniform(1.0, MAX_DELAY)
        amount = random.choice((900, 1900, 4900))
        invoice = request.invoices.add()
        invoice.external_id = "%s-i%d" % (prefix, k)
        invoice.data_source_uuid = customer["source"]
        invoice.currency = "EUR"
        due = None
        at = now + delay  # when the invoice's transition falls due
        if kind == "Q":
            date, start, end, at = now - DAY, now - DAY, now + 30 * DAY, now
        elif kind in "AB":
            date, start, end, due = now - DAY, now - DAY, now + 30 * DAY, now + delay
        elif kind == "C":
            days = random.choice((1, 2))
            date, start, end = now - (days + 1) * DAY, now - (days + 1) * DAY, now + 30 * DAY
            due = now - days * DAY + delay
        else:
            date, start, end = now, now + delay, now + delay + 30 * DAY
        invoice.date.CopyFrom(ts(date))
        if due is not None:
            invoice.due_date.CopyFrom(ts(due))
        item = invoice.line_items.add()
        item.external_id = invoice.external_id + "-sub"
        item.type = invoice_pb2.LINE_ITEM_TYPE_SUBSCRIPTION
        item.subscription_external_id = "%s-s%d" % (prefix, k)
        item.service_period_start.CopyFrom(ts(start))
        item.service_period_end.CopyFrom(ts(end))
        item.amount_in_cents = amount
        item.quantity = 1
        items = [[item.external_id, amount]]
        if random.random() < 0.4:
            fee = invoice.line_items.add()
            fee.external_id = invoice.external_id + "-fee"
            fee.type = invoice_pb2.LINE_ITEM_TYPE_ONE_TIME
            fee.amount_in_cents = 1500
            fee.quantity = 1
            fee.description = "setup fee"
            items.append([fee.external_id, 1500])
        written.append({
            "external_id": invoice.external_id, "kind": kind,
            "subscription": item.subscription_external_id,
            "due": micros(invoice.due_date) if due is not None else None,
            "at": at, "items": items,
        })
    return request, written


def importer(replicas, state, shared, thread):
    caller = Caller(replicas, Log(os.path.join(state, "log-import-%d" % thread)), thread)
    n = 0
    while shared.running():
        customer = shared.pick_customer()
        prefix = "t%d-b%d" % (thread, n)
        n += 1
        request, written = make_batch(customer, prefix, time.time())
        response, _ = caller.call(
            "batch", prefix, lambda r: r.invoices.ImportInvoices, request,
            {"customer": customer["uuid"], "source": customer["source"],
             "invoices": written},
            answer=lambda resp: {"invoices": {i.external_id: i.uuid for i in resp.invoices}})
        if response is None:
            continue
        uuids = {i.external_id: i.uuid for i in response.invoices}
        now = time.time()
        for inv in written:
            payment = (uuids[inv["external_id"]], inv["external_id"], customer["source"])
            fate = random.random()
            if inv["kind"] == "A":
                shared.payments.push(now + 2 * random.uniform(0, inv["at"] - now), payment)
            elif inv["kind"] == "B" and fate < 0.55:
                shared.payments.push(inv["at"] + random.uniform(1, 5), payment)
            elif inv["kind"] == "B" and fate < 0.95:
                shared.cancellations.push(inv["at"] + random.uniform(1, 5),
                                          (customer["uuid"], inv["subscription"]))
            elif inv["kind"] == "C":
                shared.payments.push(now + random.uniform(2, 10), payment)
        time.sleep(random.uniform(0, 0.05))


def payer(replicas, state, shared, thread):
    caller = Caller(replicas, Log(os.path.join(state, "log-pay-%d" % thread)), thread)
    while shared.running():
        item = shared.payments.pop_due()
        if item is None:
            time.sleep(0.02)
            continue
        invoice_uuid, invoice_ext, source = item
        request = invoice_pb2.AddTransactionRequest(invoice_uuid=invoice_uuid)
        request.transaction.external_id = invoice_ext + "-pay"
        request.transaction.type = invoice_pb2.TRANSACTION_TYPE_PAYMENT
        request.transaction.result = invoice_pb2.TRANSACTION_RESULT_SUCCESSFUL
        request.transaction.date.CopyFrom(ts(time.time() - 0.5))
        caller.call("pay", request.transaction.external_id,
                    lambda r: r.invoices.AddTransaction, request,
                    {"invoice": invoice_ext, "invoice_uuid": invoice_uuid, "source": source},
                    answer=lambda resp: {"uuid": resp.uuid})


def find_subscription(replica, customer, external_id):
    token = ""
    while True:
        page = replica.customers.ListSubscriptions(
            customer_pb2.ListSubscriptionsRequest(customer_uuid=customer, page_size=1000,
                                                  page_token=token), timeout=TIMEOUT)
        for s in page.subscriptions:
            if s.external_id == external_id:
                return s
        token = page.next_page_token
        if not token:
            return None


def canceller(replicas, state, shared):
    caller = Caller(replicas, Log(os.path.join(state, "log-cancel")), 2)
    n = 0
    while shared.running():
        item = shared.cancellations.pop_due()
        if item is None:
            time.sleep(0.02)
            continue
        customer, sub_ext = item
        try:
            sub = find_subscription(replicas[n % len(replicas)], customer, sub_ext)
        except grpc.RpcError:
            sub = None  # merged away, or the replica is down: another one
        n += 1
        if sub is None:
            continue
        request = customer_pb2.CancelSubscriptionRequest(subscription_uuid=sub.uuid)
        caller.call("cancel", sub_ext, lambda r: r.customers.CancelSubscription, request,
                    {"customer": customer, "subscription_uuid": sub.uuid},
                    answer=lambda resp: {"status": resp.status,
                                         "cancelled_at": micros(resp.cancelled_at)})


def merger(replicas, state, shared):
    caller = Caller(replicas, Log(os.path.join(state, "log-merge")), 0)
    n = 0
    while shared.running():
        time.sleep(random.uniform(0.6, 1.2))
        with shared.lock:
            if len(shared.live) <= shared.initial * 0.6:
                return
            a, b = random.sample(shared.live, 2)
            # `a` is not used again from now on, whatever the answer.
            shared.live.remove(a)
        name = "m%d" % n
        n += 1
        request = customer_pb2.MergeCustomersRequest(from_customer_uuid=a["uuid"],
                                                     into_customer_uuid=b["uuid"])
        caller.call("merge", name, lambda r: r.customers.MergeCustomers, request,
                    {"from": a["uuid"], "into": b["uuid"]},
                    answer=lambda resp: {"external_ids": [[e.data_source_uuid, e.external_id]
                                                          for e in resp.external_ids]},
                    attempts=1)


HANDLINGS = [(KEEP, 0), (AUTO, 1), (AUTO, 2)]


def settings_changer(replicas, state, shared, sources):
    caller = Caller(replicas, Log(os.path.join(state, "log-settings")), 1)
    current = {s: (KEEP, 0) for s in sources}
    n = 0
    while shared.running():
        time.sleep(random.uniform(1.0, 1.8))
        source = sources[n % len(sources)]
        mode, days = random.choice([h for h in HANDLINGS if h != current[source]])
        request = source_settings_pb2.UpdateSettingsRequest(data_source_uuid=source)
        request.past_due_handling.mode = mode
        request.past_due_handling.auto_churn_after_days = days
        response, _ = caller.call(
            "settings", "u%d" % n, lambda r: r.sources.UpdateSettings, request,
            {"source": source, "mode": mode, "days": days},
            answer=lambda resp: {
                "version": resp.settings.version, "applied": resp.applied,
                "mode": resp.settings.past_due_handling.mode,
                "days": resp.settings.past_due_handling.auto_churn_after_days,
                "impact": [resp.impact.customers_reprocessed, resp.impact.auto_churns_reversed,
                           resp.impact.auto_churns_applied, resp.impact.customers_status_changed]})
        if response is not None:
            current[source] = (mode, days)
        n += 1


def load(addrs, state, seconds):
    replicas = connect(addrs)
    customers = read_setup(state)["customers"]
    sources = sorted({c["source"] for c in customers})
    started = time.time()
    shared = Shared(customers, started + seconds)
    threads = [threading.Thread(target=importer, args=(replicas, state, shared, t))
               for t in range(IMPORTERS)]
    threads += [threading.Thread(target=payer, args=(replicas, state, shared, t))
                for t in range(2)]
    threads += [threading.Thread(target=canceller, args=(replicas, state, shared)),
                threading.Thread(target=merger, args=(replicas, state, shared)),
                threading.Thread(target=settings_changer,
                                 args=(replicas, state, shared, sources))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = read_logs(state)
    acks = sum(1 for e in entries if e["ev"] == "ack")
    tries = sum(1 for e in entries if e["ev"] == "try")
    print("load: %.1f s, %d attempts, %d acknowledged" % (time.time() - started, tries, acks))


# ---- checks ----------------------------------------------------------------


def read_logs(state):
    entries = []
    for name in sorted(os.listdir(state)):
        if name.startswith("log-"):
            with open(os.path.join(state, name)) as f:
                for line in f:
                    entries.append(json.loads(line))
    return entries


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, description, problems):
        if problems:
            self.failed += 1
            print("not ok - %s" % description)
            for p in problems[:15]:
                print("    PROBLEM: %s" % p)
            if len(problems) > 15:
                print("    ... and %d more" % (len(problems) - 15))
        else:
            print("ok - %s" % description)
        sys.stdout.flush()


def pages(call, request, field, token_field="page_token"):
    out = []
    while True:
        response = call(request, timeout=TIMEOUT)
        out.extend(getattr(response, field))
        if not response.next_page_token:
            return out
        setattr(request, token_field, response.next_page_token)


def walk_changes(replica, after=""):
    changes = []
    cursor = after
    while True:
        page = replica.changes.ListChanges(
            change_feed_pb2.ListChangesRequest(after_cursor=cursor, page_size=1000),
            timeout=TIMEOUT)
        if not page.changes:
            return changes, page.next_cursor or cursor
        changes.extend(page.changes)
        cursor = page.next_cursor


def feed_checks(report, replicas, live, state=None):
    """The change-feed checks; `live` maps uuid -> Customer (ListCustomers).
    Returns (changes, last cursor, status rows checked)."""
    changes, cursor = walk_changes(replicas[0])
    if state is not None:  # for a post-mortem
        with open(os.path.join(state, "feed.jsonl"), "w") as out:
            for c in changes:
                out.write(json.dumps({
                    "cursor": c.cursor, "type": c.type, "customer": c.customer_uuid,
                    "committed_at": micros(c.committed_at) / 1e6,
                    "status": c.customer_status, "previous": c.previous_customer_status,
                    "event": c.event.uuid, "event_type": c.event.type,
                    "subscription": c.event.subscription_external_id,
                    "occurred_at": micros(c.event.occurred_at) / 1e6}) + "\n")
    # Cursors strictly increase.
    order = [c.cursor for c in changes]
    report.check("the change feed (%d rows) comes in strictly increasing cursor order"
                 % len(changes),
                 ["cursor %s after %s" % (b, a) for a, b in zip(order, order[1:]) if b <= a])

    last = {}
    problems = []
    rows = 0
    for c in changes:
        if c.type != STATUS_CHANGED:
            continue
        rows += 1
        before = last.get(c.customer_uuid, LEAD)
        if c.previous_customer_status != before:
            problems.append("%s at %s: previous %s, but the row before says %s" % (
                c.customer_uuid, c.cursor, status_name(c.previous_customer_status),
                status_name(before)))
        if c.customer_status == c.previous_customer_status:
            problems.append("%s at %s: %s -> %s, not a change" % (
                c.customer_uuid, c.cursor, status_name(c.previous_customer_status),
                status_name(c.customer_status)))
        last[c.customer_uuid] = c.customer_status
    report.check("%d CUSTOMER_STATUS_CHANGED rows of %d customers chain (each previous status "
                 "is the one before, starting from LEAD; never the same twice)"
                 % (rows, len(last)), problems)

    problems = []
    for uuid, customer in live.items():
        expected = last.get(uuid, LEAD)
        if customer.status != expected:
            problems.append("%s: stored status %s (ListCustomers), the feed's last %s" % (
                uuid, status_name(customer.status), status_name(expected)))
        for i, r in enumerate(replicas):
            got = r.customers.GetCustomer(customer_pb2.GetCustomerRequest(uuid=uuid),
                                          timeout=TIMEOUT).status
            if got != expected:
                problems.append("%s: GetCustomer on replica %d says %s, the feed's last %s" % (
                    uuid, i, status_name(got), status_name(expected)))
        request = customer_pb2.GetCustomerRequest(uuid=uuid)
        request.as_of.CopyFrom(ts(time.time()))
        got = replicas[1 % len(replicas)].customers.GetCustomer(request, timeout=TIMEOUT).status
        if got != expected:
            problems.append("%s: GetCustomer(as_of=now) says %s, the feed's last %s" % (
                uuid, status_name(got), status_name(expected)))
    report.check("each of %d customers' current status (GetCustomer on every replica, also "
                 "with as_of=now, and the stored one) is its last feed status (%d with rows, "
                 "the others LEAD)" % (len(live), sum(1 for u in live if u in last)), problems)

    events = {}
    problems = []
    for c in changes:
        if c.type not in (PUBLISHED, RETRACTED):
            continue
        uuid = c.event.uuid
        previous = events.get(uuid)
        if c.type == PUBLISHED and previous is not None and previous[0] == PUBLISHED:
            problems.append("event %s published twice in a row (%s)" % (uuid, c.cursor))
        if c.type == RETRACTED and (previous is None or previous[0] == RETRACTED):
            problems.append("event %s retracted %s (%s)" % (
                uuid, "before any publication" if previous is None else "twice in a row",
                c.cursor))
        events[uuid] = (c.type, c.event)
    report.check("%d events: publications and retractions alternate, starting with a "
                 "publication" % len(events), problems)

    # Replaying the feed gives ListSubscriptionEvents as of now (docs/api.md).
    replayed = {u: e for u, (t, e) in events.items() if t == PUBLISHED}
    listed = {}
    for s in sorted({e.data_source_uuid for e in replayed.values()} |
                    {c.data_source_uuid for c in live.values()}):
        for e in pages(replicas[2 % len(replicas)].customers.ListSubscriptionEvents,
                       customer_pb2.ListSubscriptionEventsRequest(data_source_uuid=s,
                                                                  page_size=1000),
                       "events"):
            listed[e.uuid] = e
    problems = []
    for u in sorted(set(replayed) | set(listed)):
        a, b = replayed.get(u), listed.get(u)
        if a is None:
            problems.append("event %s (%s of %s) is listed but not published in the feed" % (
                u, b.type, b.customer_uuid))
        elif b is None:
            problems.append("event %s (%s of %s) is published in the feed but not listed" % (
                u, a.type, a.customer_uuid))
        elif (a.type, a.customer_uuid, micros(a.occurred_at)) != \
                (b.type, b.customer_uuid, micros(b.occurred_at)):
            problems.append("event %s: feed %s/%s, listed %s/%s" % (
                u, a.type, a.customer_uuid, b.type, b.customer_uuid))
    report.check("replaying the feed gives ListSubscriptionEvents (%d events now)"
                 % len(listed), problems)
    return changes, cursor, rows


def list_live(replica):
    return {c.uuid: c for c in pages(replica.customers.ListCustomers,
                                     customer_pb2.ListCustomersRequest(page_size=1000),
                                     "customers")}


def check(addrs, state, logs):
    replicas = connect(addrs)
    report = Report()
    entries = read_logs(state)
    setup_data = read_setup(state)
    originals = {c["uuid"]: c for c in setup_data["customers"]}
    sources = sorted({c["source"] for c in originals.values()})

    # Nothing may still be due: wait until the latest transition the load
    # scheduled has passed, and the re-evaluators' next round (200 ms) too.
    latest = max([inv["at"] for e in entries if e["ev"] == "try" and e["kind"] == "batch"
                  for inv in e["what"]["invoices"]] + [time.time()])
    wait = latest + 1.5 - time.time()
    if wait > 0:
        time.sleep(wait)

    tries = [e for e in entries if e["ev"] == "try"]
    acks = [e for e in entries if e["ev"] == "ack"]
    errs = [e for e in entries if e["ev"] == "err"]

    def acked(kind):
        return [e for e in acks if e["kind"] == kind]

    # -- the load itself
    per_replica = [sum(1 for e in acks if e["replica"] == r) for r in range(len(replicas))]
    span = (max(e["end"] for e in acks) - min(e["t"] for e in acks)) if acks else 0
    problems = ["replica %d acknowledged nothing" % r for r, n in enumerate(per_replica) if n == 0]
    if span < 30:
        problems.append("the acknowledged calls span only %.1f s" % span)
    for kind in ("batch", "pay", "cancel", "merge", "settings"):
        if not acked(kind):
            problems.append("no %s was acknowledged" % kind)
    restarts = []
    kills_file = os.path.join(state, "kills")
    if os.path.exists(kills_file):
        with open(kills_file) as f:
            for line in f:
                what, r, t = line.split()
                if what == "restart":
                    restarts.append((int(r), float(t)))
    for r, t in restarts:
        if not any(e["replica"] == r and e["t"] > t for e in acks):
            problems.append("replica %d acknowledged nothing after its restart at %.3f" % (r, t))
    report.check("the load ran %.1f s over %d replicas: acknowledged per replica %s, and by "
                 "each restarted replica after its restart (%d restarts)"
                 % (span, len(replicas), per_replica, len(restarts)), problems)

    # Merges moved `from` away in some calls: NOT_FOUND is expected there.
    unexpected = [e for e in errs if e["code"] != "UNAVAILABLE" and not (
        e["code"] == "NOT_FOUND" and e["kind"] in ("batch", "pay", "cancel", "merge"))]
    codes = {}
    for e in errs:
        codes[e["code"]] = codes.get(e["code"], 0) + 1
    report.check("no call failed but with UNAVAILABLE (a replica killed or a conflict) or "
                 "NOT_FOUND (a merged-away customer) (errors: %s)" % codes,
                 ["%s %s on replica %d: %s %s" % (e["kind"], e["name"], e["replica"], e["code"],
                                                  e.get("details")) for e in unexpected])

    # -- what is stored
    reader = replicas[0]
    live = list_live(reader)
    invoices = {}
    for s in sources:
        for inv in pages(reader.invoices.ListInvoices,
                         invoice_pb2.ListInvoicesRequest(data_source_uuid=s, page_size=1000),
                         "invoices"):
            invoices[(inv.data_source_uuid, inv.external_id)] = inv

    # Customers and merges: each original customer's external id lives on
    # exactly one live customer, the first live one along its merges.
    holders = {}
    for c in live.values():
        for e in c.external_ids:
            holders.setdefault((e.data_source_uuid, e.external_id), []).append(c.uuid)
    merged_into = {}
    for e in tries:
        if e["kind"] == "merge":
            merged_into[e["what"]["from"]] = e["what"]["into"]
    survivor = {}
    problems = []
    for uuid, c in originals.items():
        found = holders.get((c["source"], c["external_id"]), [])
        if len(found) != 1:
            problems.append("external id %s of %s is on %d live customers %s" % (
                c["external_id"], uuid, len(found), found))
            continue
        expected = uuid
        seen = set()
        while expected not in live and expected in merged_into and expected not in seen:
            seen.add(expected)
            expected = merged_into[expected]
        if found[0] != expected:
            problems.append("external id %s of %s is on %s; along its merges the first live "
                            "customer is %s" % (c["external_id"], uuid, found[0], expected))
        survivor[uuid] = found[0]
    for uuid in live:
        if uuid not in originals:
            problems.append("live customer %s was never created by the test" % uuid)
    acked_merges = acked("merge")
    for e in acked_merges:
        a = e["what"]["from"]
        if a in live:
            problems.append("merge %s acknowledged but %s is still listed" % (e["name"], a))
        try:
            reader.customers.GetCustomer(customer_pb2.GetCustomerRequest(uuid=a), timeout=TIMEOUT)
            problems.append("merge %s acknowledged but GetCustomer(%s) answers" % (e["name"], a))
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                problems.append("GetCustomer(%s): %s" % (a, error.code().name))
        ids = {tuple(x) for x in e["answer"]["external_ids"]}
        if (originals[a]["source"], originals[a]["external_id"]) not in ids:
            problems.append("merge %s: the answer lacks %s's external id" % (e["name"], a))
    tried_merges = sum(1 for e in tries if e["kind"] == "merge")
    report.check("merges: %d acknowledged (%d tried) are done (the merged-away customer is "
                 "NOT_FOUND, its external ids live on the survivor); every external id of the "
                 "%d customers is on exactly one of the %d live customers, the first live one "
                 "along its merges" % (len(acked_merges), tried_merges, len(originals),
                                       len(live)), problems)

    # Batches: all or nothing, acknowledged ones stored, contents as sent.
    batches = {}
    for e in tries:
        if e["kind"] == "batch":
            batches[e["name"]] = e["what"]
    acked_batches = {e["name"] for e in acked("batch")}
    refused = {}
    for e in errs:
        if e["kind"] == "batch" and e["code"] in REFUSED:
            refused[e["name"]] = e["code"]
    ever_unknown = {e["name"] for e in errs if e["kind"] == "batch" and e["code"] not in REFUSED}
    problems = []
    stored_batches = 0
    stored_invoices = 0
    for name, what in sorted(batches.items()):
        stored = [invoices.get((what["source"], inv["external_id"])) for inv in what["invoices"]]
        n = sum(1 for s in stored if s is not None)
        if n not in (0, len(stored)):
            problems.append("batch %s partly stored: %d of %d invoices" % (name, n, len(stored)))
        if name in acked_batches and n != len(stored):
            problems.append("acknowledged batch %s lost (%d of %d invoices)" % (
                name, n, len(stored)))
        if name in refused and name not in acked_batches and name not in ever_unknown and n:
            problems.append("batch %s was refused (%s) but stored" % (name, refused[name]))
        if n == len(stored):
            stored_batches += 1
        for inv, got in zip(what["invoices"], stored):
            if got is None:
                continue
            stored_invoices += 1
            items = sorted([li.external_id, li.amount_in_cents] for li in got.line_items)
            if items != sorted(inv["items"]):
                problems.append("invoice %s has line items %s, sent %s" % (
                    inv["external_id"], items, inv["items"]))
            sub = [li.subscription_external_id for li in got.line_items
                   if li.type == invoice_pb2.LINE_ITEM_TYPE_SUBSCRIPTION]
            if sub != [inv["subscription"]]:
                problems.append("invoice %s: subscription line items %s, sent %s" % (
                    inv["external_id"], sub, inv["subscription"]))
            due = micros(got.due_date) if got.HasField("due_date") else None
            if due != inv["due"]:
                problems.append("invoice %s: due %s, sent %s" % (inv["external_id"], due,
                                                                 inv["due"]))
            owner = survivor.get(what["customer"])
            if got.customer_uuid != owner:
                problems.append("invoice %s belongs to %s; its customer %s lives on as %s" % (
                    inv["external_id"], got.customer_uuid, what["customer"], owner))
    sent = {(b["source"], inv["external_id"]) for b in batches.values() for inv in b["invoices"]}
    for key in invoices:
        if key not in sent:
            problems.append("invoice %s stored but never sent" % (key,))
    report.check("invoices: %d acknowledged batches stored whole with every line item; of %d "
                 "attempted, none partly stored (%d stored whole, %d invoices); each invoice "
                 "belongs to its customer's survivor" % (len(acked_batches), len(batches),
                                                         stored_batches, stored_invoices),
                 problems)

    # Payments.
    problems = []
    for e in acked("pay"):
        w = e["what"]
        inv = invoices.get((w["source"], w["invoice"]))
        tx = [t for t in inv.transactions if t.external_id == e["name"]] if inv else []
        if not tx:
            problems.append("acknowledged payment %s (invoice %s) is not stored" % (
                e["name"], w["invoice"]))
        elif tx[0].type != invoice_pb2.TRANSACTION_TYPE_PAYMENT or \
                tx[0].result != invoice_pb2.TRANSACTION_RESULT_SUCCESSFUL or \
                tx[0].uuid != e["answer"]["uuid"]:
            problems.append("payment %s stored as %s" % (e["name"], tx[0]))
    tried_pay = {e["name"] for e in tries if e["kind"] == "pay"}
    for inv in invoices.values():
        for t in inv.transactions:
            if t.external_id not in tried_pay:
                problems.append("payment %s stored but never sent" % t.external_id)
    report.check("payments: %d acknowledged are stored (%d tried)" % (
        len(acked("pay")), len(tried_pay)), problems)

    # Explicit cancellations: only of subscriptions that neither churn nor
    # restart during the test, so CANCELLED (not automatically) is theirs.
    subscriptions = {}
    for uuid in live:
        for s in pages(reader.customers.ListSubscriptions,
                       customer_pb2.ListSubscriptionsRequest(customer_uuid=uuid, page_size=1000),
                       "subscriptions"):
            subscriptions[s.uuid] = s
    cancelled_events = set()
    for s in sources:
        for ev in pages(reader.customers.ListSubscriptionEvents,
                        customer_pb2.ListSubscriptionEventsRequest(data_source_uuid=s,
                                                                   page_size=1000), "events"):
            if ev.type == customer_pb2.SUBSCRIPTION_EVENT_TYPE_CANCELLED:
                cancelled_events.add(ev.subscription_uuid)
    problems = []
    for e in acked("cancel"):
        sub = subscriptions.get(e["what"]["subscription_uuid"])
        if sub is None:
            problems.append("cancelled subscription %s (%s) is gone" % (
                e["name"], e["what"]["subscription_uuid"]))
            continue
        if sub.status != customer_pb2.SUBSCRIPTION_STATUS_CANCELLED or sub.auto_churned:
            problems.append("acknowledged cancellation of %s: now %s (auto_churned %s)" % (
                e["name"], customer_pb2.SubscriptionStatus.Name(sub.status), sub.auto_churned))
        elif micros(sub.cancelled_at) != e["answer"]["cancelled_at"]:
            problems.append("%s cancelled at %d, the answer said %d" % (
                e["name"], micros(sub.cancelled_at), e["answer"]["cancelled_at"]))
        if sub.uuid not in cancelled_events:
            problems.append("%s has no CANCELLED event" % e["name"])
    report.check("cancellations: %d acknowledged are in force (CANCELLED, not automatically, "
                 "at the acknowledged time, with a CANCELLED event)" % len(acked("cancel")),
                 problems)

    # Settings versions.
    problems = []
    versions_total = 0
    for s in sources:
        history = [v.settings for v in reader.sources.ListSettingsHistory(
            source_settings_pb2.ListSettingsHistoryRequest(data_source_uuid=s),
            timeout=TIMEOUT).versions]
        versions_total += len(history)
        numbers = [v.version for v in history]
        if numbers != list(range(1, len(history) + 1)):
            problems.append("source %s: versions %s" % (s, numbers))
        by_version = {v.version: v for v in history}
        mine = [e for e in acked("settings") if e["what"]["source"] == s]
        tried_here = sum(1 for e in tries if e["kind"] == "settings" and e["what"]["source"] == s)
        applied = [e for e in mine if e["answer"]["applied"]]
        if not len(applied) <= len(history) - 1 <= tried_here:
            problems.append("source %s: %d versions after the first, %d acknowledged as "
                            "applied, %d attempts" % (s, len(history) - 1, len(applied),
                                                      tried_here))
        for e in mine:
            v = by_version.get(e["answer"]["version"])
            want = (e["what"]["mode"], e["what"]["days"])
            if v is None:
                problems.append("settings %s acknowledged as version %d, which is not in the "
                                "history" % (e["name"], e["answer"]["version"]))
            elif (v.past_due_handling.mode, v.past_due_handling.auto_churn_after_days) != want:
                problems.append("settings %s: version %d is %s, sent %s" % (
                    e["name"], v.version, (v.past_due_handling.mode,
                                           v.past_due_handling.auto_churn_after_days), want))
        for i, r in enumerate(replicas):
            now = r.sources.GetSettings(source_settings_pb2.GetSettingsRequest(
                data_source_uuid=s), timeout=TIMEOUT)
            if history and (now.version, now.past_due_handling) != \
                    (history[-1].version, history[-1].past_due_handling):
                problems.append("source %s: replica %d says version %d, the history ends at "
                                "%d" % (s, i, now.version, history[-1].version))
    report.check("settings: %d acknowledged updates are versions of the history with what was "
                 "sent; versions run 1..n (%d in all); every replica reports the last"
                 % (len(acked("settings")), versions_total), problems)

    # The change feed.
    changes, cursor, status_rows = feed_checks(report, replicas, live, state)

    # The re-evaluators' logs (each line prefixed with when it was written;
    # a line is written after its transaction committed).
    seen = {}
    problems = []
    early = []
    # "[SECONDS ]TIME info re-evaluated customer=cus_… due_at=…" (common/log.h).
    line = re.compile(r"^(?:([0-9.]+) )?\S+ info re-evaluated customer=(cus_\S+) due_at=(\S+)")
    per_log = {}
    for path in logs:
        name = os.path.basename(path)
        with open(path, errors="replace") as f:
            for text in f:
                m = line.search(text)
                if not m:
                    continue
                per_log[name] = per_log.get(name, 0) + 1
                logged = float(m.group(1)) if m.group(1) else None
                key = (m.group(2), m.group(3))
                try:
                    due = datetime.datetime.fromisoformat(key[1]).timestamp()
                except ValueError:
                    problems.append("%s re-evaluated with no due time (%s) in %s" % (
                        key[0], key[1], name))
                    continue
                if logged is not None and logged < due:
                    early.append("%s due at %s re-evaluated and logged %.3f s before that "
                                 "(%s)" % (key[0], key[1], due - logged, name))
                where = "%s at due%+.3fs" % (name, logged - due) if logged else name
                if key in seen:
                    problems.append("%s due at %s re-evaluated twice: %s and %s" % (
                        key[0], key[1], seen[key], where))
                else:
                    seen[key] = where
    if not seen:
        problems.append("no 're-evaluated' line in any replica's log")
    report.check("re-evaluations: %d (customer, due at) pairs, none twice across replicas and "
                 "restarts (per log: %s)" % (len(seen), per_log), problems)
    report.check("no customer was re-evaluated before it was due (a line logged, after its "
                 "commit, before its due time)", early)

    # ReprocessDataSource changes nothing: the stored state is final.
    problems = []
    for i, s in enumerate(sources):
        r = replicas[i % len(replicas)]
        impact = r.sources.ReprocessDataSource(
            source_settings_pb2.ReprocessDataSourceRequest(data_source_uuid=s),
            timeout=60).impact
        if impact.auto_churns_reversed or impact.auto_churns_applied or \
                impact.customers_status_changed:
            problems.append("reprocess of %s on replica %d: %d churns reversed, %d applied, %d "
                            "customers changed (of %d)" % (
                                s, i % len(replicas), impact.auto_churns_reversed,
                                impact.auto_churns_applied, impact.customers_status_changed,
                                impact.customers_reprocessed))
    after, _ = walk_changes(replicas[1 % len(replicas)], cursor)
    for c in after[:10]:
        problems.append("a change after the reprocess: %s %s %s" % (
            change_feed_pb2.ChangeType.Name(c.type), c.customer_uuid, c.cursor))
    report.check("ReprocessDataSource of each source changes nothing (zero impact; no change "
                 "row after it: %d)" % len(after), problems)

    print("summary: %d acknowledged writes (%d batches, %d payments, %d cancellations, %d "
          "merges, %d settings) of %d attempts; %d re-evaluations; %d status changes and %d "
          "feed rows checked" % (len(acks), len(acked_batches), len(acked("pay")),
                                 len(acked("cancel")), len(acked_merges),
                                 len(acked("settings")), len(tries), len(seen), status_rows,
                                 len(changes)))
    return 1 if report.failed else 0


def check_feed(addrs, state):
    replicas = connect(addrs)
    report = Report()
    feed_checks(report, replicas, list_live(replicas[0]))
    return 1 if report.failed else 0


# ---- the database outage -----------------------------------------------------


def outage_down(addrs, state, which):
    replicas = connect(addrs)
    r = replicas[which]
    started = time.time()
    status = r.health()
    while status != "NOT_SERVING" and time.time() - started < 10:
        time.sleep(0.1)
        status = r.health()
    took = time.time() - started
    if status != "NOT_SERVING":
        print("replica %d still says %s %.1f s after the database stopped" % (which, status, took))
        return 1
    # Each replica checks the database every second: all of them follow.
    others = [x.health() for x in replicas]
    while any(h != "NOT_SERVING" for h in others) and time.time() - started < 5:
        time.sleep(0.1)
        others = [x.health() for x in replicas]
    customer = read_setup(state)["customers"][0]
    source = customer["source"]
    codes = []
    for k in range(3):
        try:
            r.sources.GetDataSource(source_settings_pb2.GetDataSourceRequest(uuid=source),
                                    timeout=10)
            codes.append("read:OK")
        except grpc.RpcError as e:
            codes.append("read:" + e.code().name)
        request, _ = make_batch(customer, "during-outage-%d" % k, time.time(), "Q")
        try:
            r.invoices.ImportInvoices(request, timeout=10)
            codes.append("write:OK")
        except grpc.RpcError as e:
            codes.append("write:" + e.code().name)
    bad = [c for c in codes if not c.endswith("UNAVAILABLE")]
    print("replica %d NOT_SERVING %.1f s after the database stopped (all replicas within "
          "5 s: %s); its calls answered %s" % (which, took, others, codes))
    if took > 5 or bad or any(h != "NOT_SERVING" for h in others):
        return 1
    return 0


def outage_up(addrs, state, which, seconds):
    replicas = connect(addrs)
    r = replicas[which]
    started = time.time()
    customer = read_setup(state)["customers"][-1]
    source = customer["source"]
    serving = read_ok = write_ok = None
    last = {}
    prefix = "after-outage-%d" % int(started)
    request, _ = make_batch(customer, prefix, started, "Q")
    while time.time() - started < seconds and write_ok is None:
        if serving is None:
            health = r.health()
            if health == "SERVING":
                serving = time.time() - started
            else:
                last["health"] = health
        if read_ok is None:
            try:
                r.sources.GetDataSource(source_settings_pb2.GetDataSourceRequest(uuid=source),
                                        timeout=5)
                read_ok = time.time() - started
            except grpc.RpcError as e:
                last["read"] = e.code().name
        if read_ok is not None:
            try:
                # The survivor of the last customer (it may have been merged).
                lookup = r.customers.ListCustomers(customer_pb2.ListCustomersRequest(
                    data_source_uuid=source, external_id=customer["external_id"]), timeout=5)
                request.customer_uuid = lookup.customers[0].uuid
                r.invoices.ImportInvoices(request, timeout=5)
                write_ok = time.time() - started
            except grpc.RpcError as e:
                last["write"] = e.code().name
        time.sleep(0.1)
    while serving is None and time.time() - started < seconds:
        health = r.health()
        if health == "SERVING":
            serving = time.time() - started
        else:
            last["health"] = health
        time.sleep(0.1)
    print("replica %d after the database came back: SERVING after %s s, GetDataSource after "
          "%s s, ImportInvoices after %s s (last failures %s)" % (
              which, "%.1f" % serving if serving is not None else "never",
              "%.1f" % read_ok if read_ok is not None else "never",
              "%.1f" % write_ok if write_ok is not None else "never", last))
    if serving is None or read_ok is None or write_ok is None:
        return 1
    # The write is visible on every replica once they serve again.
    problems = []
    for i, x in enumerate(replicas):
        for _ in range(100):
            try:
                found = x.invoices.ListInvoices(invoice_pb2.ListInvoicesRequest(
                    data_source_uuid=source, external_id=request.invoices[0].external_id),
                    timeout=5).invoices
                if found:
                    break
            except grpc.RpcError:
                pass
            time.sleep(0.1)
        else:
            problems.append(i)
    if problems:
        print("the write after the outage is not visible on replicas %s" % problems)
        return 1
    return 0


def keys(addrs):
    """The first key made on replica 0 switches authentication on at every
    replica; a key made on replica 1 works on replica 2; revoked on replica
    0, it is refused by every replica and ends the watch it opened on
    replica 2. Each within 5 s (the replicas reload keys every second)."""
    replicas = connect(addrs)
    problems = []

    def bearer(secret):
        return (("authorization", "Bearer " + secret),) if secret else None

    def code_of(replica, secret):
        try:
            replica.sources.ListDataSources(source_settings_pb2.ListDataSourcesRequest(),
                                            metadata=bearer(secret), timeout=5)
            return "OK"
        except grpc.RpcError as e:
            return e.code().name

    def within(description, predicate, seconds=5.0):
        started = time.time()
        while not predicate():
            if time.time() - started > seconds:
                problems.append(description)
                print("not ok - %s: not within %.0f s" % (description, seconds))
                return
            time.sleep(0.05)
        print("ok - %s, after %.2f s" % (description, time.time() - started))

    admin = replicas[0].keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(
        name="e2e-admin", role=api_key_pb2.API_KEY_ROLE_ADMIN), timeout=TIMEOUT).api_key
    for i in (1, 2):
        within("replica %d refuses calls without a key once replica 0 made the first" % i,
               lambda i=i: code_of(replicas[i], "") == "UNAUTHENTICATED")
    reader = replicas[1].keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(
        name="e2e-reader", role=api_key_pb2.API_KEY_ROLE_READER),
        metadata=bearer(admin), timeout=TIMEOUT)
    within("replica 2 accepts a key made on replica 1",
           lambda: code_of(replicas[2], reader.api_key) == "OK")

    watch = replicas[2].changes.WatchChanges(change_feed_pb2.WatchChangesRequest(),
                                             metadata=bearer(reader.api_key), timeout=60)
    watch.initial_metadata()  # replica 2 holds it
    replicas[0].keys.RevokeApiKey(api_key_pb2.RevokeApiKeyRequest(uuid=reader.key.uuid),
                                  metadata=bearer(admin), timeout=TIMEOUT)
    for i in (1, 2):
        within("replica %d refuses a key revoked on replica 0" % i,
               lambda i=i: code_of(replicas[i], reader.api_key) == "UNAUTHENTICATED")
    ended = {}

    def follow():
        try:
            for _ in watch:
                pass
            ended["code"] = "OK"
        except grpc.RpcError as e:
            ended["code"] = e.code().name

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    follower.join(5)
    if ended.get("code") == "UNAUTHENTICATED":
        print("ok - the watch opened with it on replica 2 ended with UNAUTHENTICATED")
    else:
        problems.append("watch")
        print("not ok - the watch opened with it on replica 2 ended with %s" %
              ended.get("code", "nothing within 5 s"))
        watch.cancel()
    return 1 if problems else 0


def main():
    command = sys.argv[1]
    if command == "setup":
        setup(sys.argv[2], sys.argv[3])
    elif command == "load":
        load(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif command == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
    elif command == "check-feed":
        sys.exit(check_feed(sys.argv[2], sys.argv[3]))
    elif command == "health":
        print(connect(sys.argv[2])[0].health())
    elif command == "outage-down":
        sys.exit(outage_down(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    elif command == "outage-up":
        sys.exit(outage_up(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
    elif command == "keys":
        sys.exit(keys(sys.argv[2]))
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
