"""Load and checks for crash_safety_test.sh.

  crash_driver.py setup ADDR STATE          creates a source and a customer
  crash_driver.py load ADDR STATE ROUND     imports and pays until the server
                                            goes away; logs every call
  crash_driver.py check DB STATE            checks the database against the log

`load` runs THREADS (env, default 2) threads. Each imports batches of BATCH
(env, default 20) invoices of one customer, then pays the first invoice of
the batch with AddTransaction. Before a call it appends "try ..." to its log,
and after an OK answer "ack ...", with the call's start and end times and
its code, so `check` knows which writes were acknowledged and which batches
were attempted. The log is flushed after every line (only the server is
killed, never this process).
"""

import os
import sqlite3
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))

import grpc  # noqa: E402
import recurrent  # noqa: E402,F401  (puts the generated stubs on the path)
from recurrent.v1 import customer_pb2, customer_pb2_grpc  # noqa: E402
from recurrent.v1 import invoice_pb2, invoice_pb2_grpc  # noqa: E402
from recurrent.v1 import source_settings_pb2, source_settings_pb2_grpc  # noqa: E402

BATCH = int(os.environ.get("BATCH", "20"))
THREADS = int(os.environ.get("THREADS", "2"))
DAY = 86400
START = 1704067200  # 2024-01-01


def setup(addr, state):
    channel = grpc.insecure_channel(addr)
    sources = source_settings_pb2_grpc.SourceSettingsServiceStub(channel)
    customers = customer_pb2_grpc.CustomerServiceStub(channel)
    source = sources.CreateDataSource(
        source_settings_pb2.CreateDataSourceRequest(name="crash"), timeout=10)
    with open(os.path.join(state, "customers"), "w") as out:
        for t in range(THREADS):
            request = customer_pb2.CreateCustomerRequest()
            request.customer.data_source_uuid = source.uuid
            request.customer.external_id = "crash-%d" % t
            out.write(customers.CreateCustomer(request, timeout=10).uuid + "\n")


def make_batch(customer, prefix):
    request = invoice_pb2.ImportInvoicesRequest(customer_uuid=customer)
    for k in range(BATCH):
        invoice = request.invoices.add()
        invoice.external_id = "%s-%d" % (prefix, k)
        invoice.currency = "EUR"
        invoice.date.seconds = START + k * 30 * DAY
        item = invoice.line_items.add()
        item.external_id = "%s-%d-li" % (prefix, k)
        item.type = invoice_pb2.LINE_ITEM_TYPE_SUBSCRIPTION
        item.subscription_external_id = prefix
        item.service_period_start.seconds = START + k * 30 * DAY
        item.service_period_end.seconds = START + (k + 1) * 30 * DAY
        item.amount_in_cents = 4900
    return request


def load_thread(addr, state, round_no, thread, customer, errors):
    # A connection of its own: channels to one address otherwise share one,
    # whose calls at once the server bounds (--max_concurrent_streams).
    channel = grpc.insecure_channel(addr, options=[("grpc.use_local_subchannel_pool", 1)])
    invoices = invoice_pb2_grpc.InvoiceServiceStub(channel)
    log = open(os.path.join(state, "log-%s-%d" % (round_no, thread)), "w")

    def call(kind, name, fn, request):
        log.write("try %s %s\n" % (kind, name))
        log.flush()
        started = time.time()
        try:
            response = fn(request, timeout=10)
            code = "OK"
        except grpc.RpcError as e:
            response, code = None, e.code().name
        log.write("%s %s %s %.6f %.6f %s\n" % (
            "ack" if code == "OK" else "err", kind, name, started, time.time(), code))
        log.flush()
        return response

    batch = 0
    while True:
        prefix = "r%s-t%d-b%d" % (round_no, thread, batch)
        response = call("batch", prefix, invoices.ImportInvoices,
                        make_batch(customer, prefix))
        if response is None:
            break
        payment = invoice_pb2.AddTransactionRequest(invoice_uuid=response.invoices[0].uuid)
        payment.transaction.external_id = prefix + "-pay"
        payment.transaction.type = invoice_pb2.TRANSACTION_TYPE_PAYMENT
        payment.transaction.result = invoice_pb2.TRANSACTION_RESULT_SUCCESSFUL
        payment.transaction.date.seconds = START + DAY
        if call("pay", prefix + "-pay", invoices.AddTransaction, payment) is None:
            break
        batch += 1
    log.close()


def load(addr, state, round_no):
    with open(os.path.join(state, "customers")) as f:
        customers = f.read().split()
    threads = [threading.Thread(target=load_thread,
                                args=(addr, state, round_no, t, customers[t], None))
               for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def read_logs(state):
    tried, acked, answers = set(), set(), []
    for name in sorted(os.listdir(state)):
        if not name.startswith("log-"):
            continue
        with open(os.path.join(state, name)) as f:
            for line in f:
                parts = line.split()
                if not parts or len(parts) < 3:
                    continue  # a line cut short cannot be: the driver is not killed
                if parts[0] == "try":
                    tried.add((parts[1], parts[2]))
                elif parts[0] in ("ack", "err") and len(parts) == 6:
                    if parts[0] == "ack":
                        acked.add((parts[1], parts[2]))
                    answers.append((float(parts[3]), float(parts[4]), parts[5]))
    return tried, acked, answers


def check(db_path, state):
    tried, acked, _ = read_logs(state)
    db = sqlite3.connect(db_path)
    problems = []
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append("integrity_check: " + integrity)
    counts = {}
    for (ext,) in db.execute("SELECT external_id FROM invoices"):
        prefix = ext.rsplit("-", 1)[0]
        counts[prefix] = counts.get(prefix, 0) + 1
    payments = {ext for (ext,) in db.execute("SELECT external_id FROM transactions")}
    for (ext,) in db.execute(
            "SELECT i.external_id FROM invoices i WHERE NOT EXISTS"
            " (SELECT 1 FROM line_items l WHERE l.invoice_id = i.id)"):
        problems.append("invoice %s stored without its line item" % ext)
    batches = {name for kind, name in tried if kind == "batch"}
    for prefix in sorted(set(counts) | batches):
        n = counts.get(prefix, 0)
        if n not in (0, BATCH):
            problems.append("batch %s partly stored: %d of %d invoices" % (prefix, n, BATCH))
        if prefix not in batches:
            problems.append("batch %s stored but never sent" % prefix)
        if ("batch", prefix) in acked and n != BATCH:
            problems.append("acknowledged batch %s lost (%d invoices)" % (prefix, n))
    for kind, name in acked:
        if kind == "pay" and name not in payments:
            problems.append("acknowledged payment %s lost" % name)
    for p in problems[:20]:
        print("PROBLEM: " + p)
    stored = sum(1 for c in counts.values() if c == BATCH)
    print("check: %d batches tried, %d acknowledged, %d stored, %d payments; %s"
          % (len(batches), sum(1 for k, _ in acked if k == "batch"), stored,
             len(payments), "ok" if not problems else "FAILED"))
    return 0 if not problems else 1


def main():
    command = sys.argv[1]
    if command == "setup":
        setup(sys.argv[2], sys.argv[3])
    elif command == "load":
        load(sys.argv[2], sys.argv[3], sys.argv[4])
    elif command == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    elif command == "sigterm-check":
        # Calls sent well before the signal finish OK; calls sent around or
        # after it may be refused (UNAVAILABLE) or cancelled by the shutdown
        # before they started (CANCELLED); and some call in flight at the
        # signal finished OK. "Around" is generous (0.5 s) because a loaded
        # CI machine may take a while to deliver a call.
        _, _, answers = read_logs(sys.argv[2])
        signalled = float(sys.argv[3])
        bad = [a for a in answers
               if a[2] != "OK" and not (a[2] in ("UNAVAILABLE", "CANCELLED")
                                        and a[0] >= signalled - 0.5)]
        spanning_ok = [a for a in answers if a[0] < signalled < a[1] and a[2] == "OK"]
        print("sigterm: %d answers, %d in flight at the signal finished OK, %d bad %s"
              % (len(answers), len(spanning_ok), len(bad), bad[:3]))
        sys.exit(0 if not bad and spanning_ok else 1)
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
