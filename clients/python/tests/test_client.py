"""Tests of the recurrent Python client.

The live tests need a running recurrentd at $RECURRENT_ADDR (host:port) and
fail without one; tests/e2e/python_client_test.sh starts one and runs

    RECURRENT_ADDR=127.0.0.1:PORT /usr/bin/python3 -m unittest discover -s clients/python/tests -v

The offline tests (conversions, error decoding) need no server.
"""

import datetime as dt
import itertools
import os
import sys
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import grpc  # noqa: E402

import recurrent  # noqa: E402
from recurrent import Invoice, LineItem, Transaction  # noqa: E402
from recurrent.convert import enum_number  # noqa: E402
from recurrent.errors import (bad_request_violations, error_details,  # noqa: E402
                              from_rpc_error)
from recurrent.v1 import (change_feed_pb2, customer_pb2, invoice_pb2,  # noqa: E402
                          metrics_pb2)

UTC = dt.timezone.utc


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def monthly_invoice(month, paid=True, key="k", year=2024):
    """A EUR 49.00 monthly invoice of subscription "sub-KEY", due on issue;
    external ids include KEY (they are unique per data source)."""
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1)
    ids = "%s-%d-%02d" % (key, year, month)
    return Invoice(
        external_id="INV-" + ids, date=start, due_date=start, currency="EUR",
        line_items=[LineItem("LI-" + ids, 4900, "sub-" + key, start, end)],
        transactions=[Transaction("TR-" + ids, start)] if paid else [])


# -- offline ------------------------------------------------------------------

def _varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number, payload):
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    payload = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details, trailing=()):
        self._code, self._details, self._trailing = code, details, trailing

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        return self._trailing


def _any(type_name, payload):
    return _field(3, _field(1, "type.googleapis.com/google.rpc." + type_name) +
                  _field(2, payload))


class OfflineTest(unittest.TestCase):
    def test_error_info_and_retry_info_are_decoded(self):
        error_info = (_field(1, "OVERLOADED") + _field(2, "recurrent") +
                      _field(3, _field(1, "queue") + _field(2, "writes")))
        retry_info = _field(1, _field(1, 2) + _field(2, 500000000))  # 2.5 s
        status = _field(1, 8) + _field(2, "server is overloaded; retry later") + \
            _any("ErrorInfo", error_info) + _any("RetryInfo", retry_info)
        details = error_details(status)
        self.assertEqual((details.reason, details.domain, details.metadata,
                          details.retry_delay),
                         ("OVERLOADED", "recurrent", {"queue": "writes"}, 2.5))
        error = from_rpc_error(FakeRpcError(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "server is overloaded; retry later",
            (("grpc-status-details-bin", status),)))
        self.assertIsInstance(error, recurrent.ResourceExhausted)
        self.assertEqual((error.reason, error.retry_delay, error.retryable),
                         ("OVERLOADED", 2.5, True))
        # Without RetryInfo a retry does not help, whatever the code.
        full = _field(1, 8) + _any("ErrorInfo", _field(1, "DISK_FULL"))
        error = from_rpc_error(FakeRpcError(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "disk full",
            (("grpc-status-details-bin", full),)))
        self.assertEqual((error.reason, error.retry_delay, error.retryable),
                         ("DISK_FULL", None, False))
        # Unreadable details decode to nothing rather than raise.
        self.assertIsNone(error_details(b"\xff\xff").reason)

    def test_datetime_round_trip_keeps_the_instant_in_utc(self):
        berlin = dt.timezone(dt.timedelta(hours=2))
        value = dt.datetime(2025, 3, 1, 10, 30, 5, 123456, tzinfo=berlin)
        ts = recurrent.to_timestamp(value)
        self.assertEqual(ts.ToJsonString(), "2025-03-01T08:30:05.123456Z")
        back = recurrent.to_datetime(ts)
        self.assertEqual(back, value)
        self.assertEqual(back.utcoffset(), dt.timedelta(0))
        self.assertEqual(recurrent.to_datetime(recurrent.to_timestamp(
            dt.datetime(1960, 5, 6, 7, 8, 9, 1, tzinfo=UTC))),
            dt.datetime(1960, 5, 6, 7, 8, 9, 1, tzinfo=UTC))

    def test_dates_and_strings_are_utc_and_naive_datetimes_are_refused(self):
        self.assertEqual(recurrent.to_timestamp(dt.date(2025, 2, 1)).ToJsonString(),
                         "2025-02-01T00:00:00Z")
        self.assertEqual(recurrent.to_timestamp("2025-02-01T12:00:00Z").ToJsonString(),
                         "2025-02-01T12:00:00Z")
        with self.assertRaises(ValueError):
            recurrent.to_timestamp(dt.datetime(2025, 2, 1))
        with self.assertRaises(ValueError):
            recurrent.to_timestamp("2025-02-01T12:00:00")
        with self.assertRaises(TypeError):
            recurrent.to_timestamp(1738368000)

    def test_enum_names(self):
        status = customer_pb2.CustomerStatus.DESCRIPTOR
        for name in ("PAST_DUE", "past-due", "CUSTOMER_STATUS_PAST_DUE", 3):
            self.assertEqual(enum_number(status, name), customer_pb2.CUSTOMER_STATUS_PAST_DUE)
        with self.assertRaisesRegex(ValueError, "LEAD, ACTIVE, PAST_DUE, CANCELLED"):
            enum_number(status, "overdue")
        record = recurrent.Record(customer_pb2.Subscription(
            status=customer_pb2.SUBSCRIPTION_STATUS_CANCELLED))
        self.assertEqual(record.status, "CANCELLED")
        self.assertIsNone(record.cancelled_at)

    def test_invoices_from_dataclasses_dicts_and_messages_agree(self):
        invoice = monthly_invoice(2)
        as_dict = {
            "external_id": "INV-k-2024-02", "date": dt.date(2024, 2, 1),
            "due_date": "2024-02-01T00:00:00Z", "currency": "EUR",
            "line_items": [{"external_id": "LI-k-2024-02", "amount_in_cents": 4900,
                            "subscription_external_id": "sub-k",
                            "service_period_start": dt.date(2024, 2, 1),
                            "service_period_end": dt.datetime(2024, 3, 1, tzinfo=UTC)}],
            "transactions": [{"external_id": "TR-k-2024-02", "date": dt.date(2024, 2, 1)}]}
        proto = invoice.to_proto()
        self.assertEqual(recurrent.invoices.invoice_proto(as_dict), proto)
        self.assertIs(recurrent.invoices.invoice_proto(proto), proto)
        self.assertEqual(proto.line_items[0].type, invoice_pb2.LINE_ITEM_TYPE_SUBSCRIPTION)
        self.assertEqual(proto.transactions[0].type, invoice_pb2.TRANSACTION_TYPE_PAYMENT)
        self.assertFalse(proto.transactions[0].HasField("amount_in_cents"))
        with self.assertRaises(TypeError):
            recurrent.invoices.invoice_proto(["INV-1"])

    def test_errors_by_code_with_field_from_the_message(self):
        error = from_rpc_error(FakeRpcError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "invoices[2].line_items[0].service_period_end: must be after service_period_start"))
        self.assertIsInstance(error, recurrent.InvalidArgument)
        self.assertIsInstance(error, recurrent.RecurrentError)
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.field, "invoices[2].line_items[0].service_period_end")
        self.assertEqual(error.violations, [])
        for code, cls in [(grpc.StatusCode.NOT_FOUND, recurrent.NotFound),
                          (grpc.StatusCode.ALREADY_EXISTS, recurrent.AlreadyExists),
                          (grpc.StatusCode.FAILED_PRECONDITION, recurrent.FailedPrecondition),
                          (grpc.StatusCode.UNAVAILABLE, recurrent.Unavailable),
                          (grpc.StatusCode.DATA_LOSS, recurrent.RecurrentError)]:
            error = from_rpc_error(FakeRpcError(code, "customer cus_x not found"))
            self.assertIs(type(error), cls)
            self.assertIsNone(error.field)
            self.assertEqual(str(error), "%s: customer cus_x not found" % code.name)

    def test_errors_read_bad_request_details(self):
        violation = _field(1, "customer.country") + _field(2, "must be an ISO code")
        bad_request = _field(1, violation)
        any_detail = _field(1, "type.googleapis.com/google.rpc.BadRequest") + _field(2, bad_request)
        other = _field(1, "type.googleapis.com/google.rpc.DebugInfo") + _field(2, b"\x0a\x01x")
        status = _field(1, 3) + _field(2, "customer.country: must be an ISO code") + \
            _field(3, other) + _field(3, any_detail)
        self.assertEqual(bad_request_violations(status),
                         [("customer.country", "must be an ISO code")])
        self.assertEqual(bad_request_violations(b"\xff\xff"), [])
        error = from_rpc_error(FakeRpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "bad request",
            (("grpc-status-details-bin", status),)))
        self.assertEqual(error.field, "customer.country")

    def test_update_settings_needs_exactly_one_mode(self):
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            with self.assertRaises(ValueError):
                client.update_settings("ds_x")
            with self.assertRaises(ValueError):
                client.update_settings("ds_x", keep=True, auto_churn_after_days=3)
            with self.assertRaises(TypeError):
                client.update_customer("cus_x", uuid="cus_y")

    def test_series_interval_takes_names_and_the_enum(self):
        descriptor = metrics_pb2.SeriesInterval.DESCRIPTOR
        for value in ("day", "DAY", "SERIES_INTERVAL_DAY", metrics_pb2.SERIES_INTERVAL_DAY):
            self.assertEqual(enum_number(descriptor, value), metrics_pb2.SERIES_INTERVAL_DAY)
        self.assertEqual(enum_number(descriptor, "week"), metrics_pb2.SERIES_INTERVAL_WEEK)
        self.assertEqual(enum_number(descriptor, "Month"), metrics_pb2.SERIES_INTERVAL_MONTH)
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            with self.assertRaises(ValueError) as caught:
                client.get_mrr_series(dt.date(2024, 1, 1), dt.date(2024, 2, 1), "year")
            self.assertIn("DAY, WEEK, MONTH", str(caught.exception))


    def test_a_watch_resumes_from_its_start_cursor_before_any_change(self):
        start = "%020d" % 7
        feed = _FakeFeed([
            # Ends (a restart) before its first change.
            _FakeStream((("recurrent-start-cursor", start),), [],
                        FakeRpcError(grpc.StatusCode.UNAVAILABLE, "restarting")),
            _FakeStream((("recurrent-start-cursor", start),), ["%020d" % 8]),
        ])
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            client._changes = feed
            watch = client.watch_changes(reconnect_delay=0)
            self.assertEqual(next(watch).cursor, "%020d" % 8)
            watch.close()
        # Not "" again: that would skip what committed while disconnected.
        self.assertEqual(feed.cursors, ["", start])

    def test_a_watch_waits_the_servers_delay_and_drops_repeats(self):
        retry_info = _field(1, _field(2, 300000000))  # 0.3 s
        status = _field(1, 14) + _field(2, "shutting down") + _any("RetryInfo", retry_info)
        feed = _FakeFeed([
            _FakeStream((), ["%020d" % 1, "%020d" % 2], FakeRpcError(
                grpc.StatusCode.UNAVAILABLE, "shutting down",
                (("grpc-status-details-bin", status),))),
            # At least once: the change at the cursor comes again.
            _FakeStream((), ["%020d" % 2, "%020d" % 3]),
        ])
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            client._changes = feed
            got = [c.cursor for c in client.watch_changes(after="%020d" % 0,
                                                          reconnect_delay=0)]
        self.assertEqual(got, ["%020d" % 1, "%020d" % 2, "%020d" % 3])
        self.assertEqual(feed.cursors, ["%020d" % 0, "%020d" % 2])
        self.assertGreaterEqual(feed.times[1] - feed.times[0], 0.3)


    def test_a_watch_resumes_after_what_its_filter_skipped(self):
        # The server ended the watch after examining up to 40 (its filter
        # matched nothing after 5): the next watch starts there, not at 5.
        resume = (("recurrent-resume-cursor", "%020d" % 40),)
        feed = _FakeFeed([
            _FakeStream((), ["%020d" % 5], FakeRpcError(
                grpc.StatusCode.UNAVAILABLE, "shutting down", resume)),
            # A resume cursor below the last one received is ignored.
            _FakeStream((), [], FakeRpcError(
                grpc.StatusCode.UNAVAILABLE, "shutting down",
                (("recurrent-resume-cursor", "%020d" % 3),))),
            _FakeStream((), ["%020d" % 41]),
        ])
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            client._changes = feed
            got = [c.cursor for c in client.watch_changes(
                customer="cus_a", after="%020d" % 0, reconnect_delay=0)]
        self.assertEqual(got, ["%020d" % 5, "%020d" % 41])
        self.assertEqual(feed.cursors, ["%020d" % 0, "%020d" % 40, "%020d" % 40])

    def test_a_pager_iterates_from_the_first_page_each_time(self):
        pages = {
            "": customer_pb2.ListCustomersResponse(
                customers=[customer_pb2.Customer(uuid="cus_1")], next_page_token="t2"),
            "t2": customer_pb2.ListCustomersResponse(
                customers=[customer_pb2.Customer(uuid="cus_2")]),
        }
        fetched = []

        def fetch(request):
            fetched.append(request.page_token)
            return pages[request.page_token]

        pager = recurrent.client.Pager(fetch, customer_pb2.ListCustomersRequest(), "customers")
        self.assertEqual([c.uuid for c in pager], ["cus_1", "cus_2"])
        self.assertEqual([c.uuid for c in pager], ["cus_1", "cus_2"])
        self.assertEqual(fetched, ["", "t2", "t2"])  # the first page once

    def test_list_changes_follows_pages_that_skipped_everything(self):
        feed = _FakeFeed([])
        # The first page matched nothing (the filter) but moved on.
        feed.pages[""] = change_feed_pb2.ListChangesResponse(next_cursor="%020d" % 5)
        feed.pages["%020d" % 5] = change_feed_pb2.ListChangesResponse(
            changes=[change_feed_pb2.Change(cursor="%020d" % 7)], next_cursor="%020d" % 7)
        with recurrent.RecurrentClient("127.0.0.1:1") as client:  # never connects
            client._changes = feed
            got = [c.cursor for c in client.list_changes(customer="cus_x")]
        self.assertEqual(got, ["%020d" % 7])
        self.assertEqual(feed.cursors, ["", "%020d" % 5, "%020d" % 7])


class _FakeStream:
    """A WatchChanges call: its initial metadata, changes, then an error (or
    the end)."""

    def __init__(self, metadata, cursors, error=None):
        self._metadata, self._cursors, self._error = metadata, cursors, error

    def initial_metadata(self):
        return self._metadata

    def __iter__(self):
        for cursor in self._cursors:
            yield change_feed_pb2.Change(cursor=cursor)
        if self._error is not None:
            raise self._error

    def cancel(self):
        pass


class _FakeFeed:
    """A ChangeFeedService stub that answers WatchChanges with `streams`, in
    order, and ListChanges from `pages`; it records each call's cursor (and
    each watch's time)."""

    def __init__(self, streams):
        self.streams, self.cursors, self.times = list(streams), [], []
        self.pages = {}  # ListChanges: the page for each after_cursor

    def ListChanges(self, request, timeout=None, metadata=None):
        self.cursors.append(request.after_cursor)
        return self.pages.get(request.after_cursor, change_feed_pb2.ListChangesResponse(
            next_cursor=request.after_cursor))

    def WatchChanges(self, request, metadata=None):
        import time
        self.cursors.append(request.after_cursor)
        self.times.append(time.monotonic())
        return self.streams.pop(0)


# -- against a live server ---------------------------------------------------

class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        address = os.environ.get("RECURRENT_ADDR")
        if not address:
            raise RuntimeError("set RECURRENT_ADDR=host:port of a running recurrentd")
        cls.client = recurrent.RecurrentClient(address, timeout=30)
        cls.source = cls.client.create_data_source(unique("python-test"), system="stripe")

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def new_customer(self, **fields):
        return self.client.create_customer(self.source.uuid, unique("cus"), **fields)

    def test_invalid_argument_names_the_field(self):
        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.new_customer(country="Germany")
        error = caught.exception
        self.assertEqual(error.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(error.field, "customer.country")
        self.assertTrue(error.message.startswith("customer.country: "), error.message)

        customer = self.new_customer()
        bad = monthly_invoice(1, key="invalid")
        bad.line_items[0].service_period_end = dt.date(2023, 12, 1)
        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.client.import_invoices(customer.uuid, [monthly_invoice(2, key="invalid"), bad])
        self.assertEqual(caught.exception.field, "invoices[1].line_items[0].service_period_end")
        self.assertEqual(list(self.client.list_invoices(customer_uuid=customer.uuid)), [])

        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.client.update_settings(self.source.uuid, auto_churn_after_days=91)
        self.assertEqual(caught.exception.field, "past_due_handling.auto_churn_after_days")

    def test_not_found_already_exists_failed_precondition(self):
        with self.assertRaises(recurrent.NotFound) as caught:
            self.client.get_customer("cus_doesnotexistdoesnote")
        self.assertEqual(caught.exception.code, grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(recurrent.AlreadyExists):
            self.client.create_data_source(self.source.name)
        customer = self.new_customer()
        self.client.import_invoices(customer.uuid, [monthly_invoice(1, key="precondition")])
        sub = self.client.list_subscriptions(customer.uuid)[0]
        with self.assertRaises(recurrent.FailedPrecondition):
            self.client.cancel_subscription(sub.uuid, cancelled_at=dt.date(2023, 6, 1))

    def test_paged_lists_follow_every_page(self):
        source = self.client.create_data_source(unique("paging"))
        created = [self.client.create_customer(source.uuid, "c%d" % i).uuid for i in range(7)]
        calls = []
        real_call = self.client._call
        self.client._call = lambda method, request: calls.append(1) or real_call(method, request)
        try:
            listed = [c.uuid for c in self.client.list_customers(
                data_source_uuid=source.uuid, page_size=2)]
            self.assertEqual(listed, created)
            self.assertEqual(len(calls), 4)
            del calls[:]
            first = list(itertools.islice(self.client.list_customers(
                data_source_uuid=source.uuid, page_size=2), 3))
            self.assertEqual([c.uuid for c in first], created[:3])
            self.assertEqual(len(calls), 2)  # stops early
        finally:
            del self.client._call
        # The first page is fetched by the call: errors are not deferred.
        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.client.list_customers(data_source_uuid="cus_wrongkind")
        self.assertEqual(caught.exception.field, "data_source_uuid")

        customer = self.client.get_customer(created[0])
        self.client.import_invoices(customer.uuid, [monthly_invoice(m, paid=m != 2, key="paging")
                                                    for m in (1, 2, 3)])
        events = list(self.client.list_subscription_events(customer.uuid, page_size=1))
        self.assertEqual([(e.type, e.occurred_at) for e in events],
                         [("STARTED", dt.datetime(2024, 1, 1, tzinfo=UTC)),
                          ("PAST_DUE", dt.datetime(2024, 2, 1, tzinfo=UTC))])
        by_source = list(self.client.list_subscription_events(data_source_uuid=source.uuid))
        self.assertEqual([e.uuid for e in by_source], [e.uuid for e in events])

    def test_page_tokens_in_and_out(self):
        source = self.client.create_data_source(unique("tokens"))
        created = [self.client.create_customer(source.uuid, "t%d" % i).uuid for i in range(5)]
        pager = self.client.list_customers(data_source_uuid=source.uuid, page_size=2)
        self.assertEqual([c.uuid for c in pager.page], created[:2])
        self.assertTrue(pager.next_page_token)
        rest = self.client.list_customers(data_source_uuid=source.uuid, page_size=2,
                                          page_token=pager.next_page_token)
        self.assertEqual([c.uuid for c in rest.page], created[2:4])
        self.assertEqual([c.uuid for c in rest], created[2:])  # follows the rest
        self.assertEqual(rest.next_page_token, "")
        with self.assertRaises(recurrent.InvalidArgument):
            self.client.list_customers(data_source_uuid=source.uuid, page_token="garbage")

    def test_fields_that_explain_statuses(self):
        source = self.client.create_data_source(unique("explain"))
        customer = self.client.create_customer(source.uuid, "explain-1")
        self.client.import_invoices(customer.uuid, [
            monthly_invoice(1, key="explain"), monthly_invoice(2, paid=False, key="explain")])
        feb10 = dt.date(2024, 2, 10)
        [listed] = self.client.list_customers(data_source_uuid=source.uuid, as_of=feb10)
        self.assertEqual(listed.status, "PAST_DUE")
        self.assertTrue(listed.status_reason.startswith(
            "Subscription sub-explain: Past due since 2024-02-01"), listed.status_reason)
        self.assertEqual([c.uuid for c in self.client.list_customers(
            data_source_uuid=source.uuid, status="ACTIVE", as_of=dt.date(2024, 1, 15))],
            [customer.uuid])
        events = list(self.client.list_subscription_events(customer.uuid, as_of=feb10))
        self.assertEqual([(e.type, e.status_after) for e in events],
                         [("STARTED", "ACTIVE"), ("PAST_DUE", "PAST_DUE")])
        [unpaid] = self.client.list_invoices(customer_uuid=customer.uuid, open=True, as_of=feb10)
        self.assertEqual((unpaid.external_id, unpaid.amount_due_in_cents,
                          unpaid.amount_paid_in_cents, unpaid.open),
                         ("INV-explain-2024-02", 4900, 0, True))
        self.assertEqual(self.client.get_invoice(unpaid.uuid, as_of=dt.date(2024, 1, 15)).open,
                         False)  # not issued yet
        preview = self.client.update_settings(source.uuid, auto_churn_after_days=14,
                                              dry_run=True, list_changes=True)
        self.assertEqual((preview.settings.version, preview.applied), (2, False))
        [change] = preview.changes
        self.assertEqual((change.subscription_external_id, change.status_before,
                          change.status_after, change.auto_churns_added,
                          preview.changes_not_listed),
                         ("sub-explain", "PAST_DUE", "CANCELLED",
                          [dt.datetime(2024, 2, 15, tzinfo=UTC)], 0))

    def test_settings_deadline_says_whether_the_change_was_applied(self):
        source = self.client.create_data_source(unique("deadline"))
        hurried = recurrent.RecurrentClient(self.client.address, timeout=30,
                                            settings_timeout=1e-6)
        with hurried, self.assertRaises(recurrent.DeadlineExceeded) as caught:
            hurried.update_settings(source.uuid, auto_churn_after_days=14)
        error = caught.exception
        # The history was read: the answer is yes or no, and said.
        self.assertIn(error.applied, (True, False))
        self.assertRegex(error.message, "applied all the same|not applied yet")
        self.assertEqual(self.client.settings_timeout, recurrent.client.SETTINGS_TIMEOUT)

    def test_change_feed_lists_and_watches(self):
        source = self.client.create_data_source(unique("feed"))
        customer = self.client.create_customer(source.uuid, "feed-1")
        self.client.import_invoices(customer.uuid, [monthly_invoice(1, key="feed")])
        changes = list(self.client.list_changes(source=source.uuid, page_size=1))
        self.assertIn(("EVENT_PUBLISHED", "STARTED"),
                      [(c.type, c.event.type) for c in changes])
        self.assertTrue(all(c.customer_uuid == customer.uuid for c in changes))
        cursor = changes[-1].cursor
        self.assertEqual(list(self.client.list_changes(source=source.uuid, after=cursor)), [])

        # The February renewal, paid: the missed-renewal PAST_DUE of Feb 1 is
        # retracted and one on Mar 1 published.
        self.client.import_invoices(customer.uuid, [monthly_invoice(2, key="feed")])
        expected = [c.cursor for c in self.client.list_changes(source=source.uuid, after=cursor)]
        self.assertTrue(expected)
        watch = self.client.watch_changes(source=source.uuid, after=cursor)
        got = [next(watch).cursor for _ in expected]
        watch.close()
        self.assertEqual(got, expected)

        with self.assertRaises(recurrent.InvalidArgument) as caught:
            list(self.client.list_changes(after="garbage"))
        self.assertEqual(caught.exception.field, "after_cursor")

    def test_datetimes_round_trip(self):
        paris = dt.timezone(dt.timedelta(hours=1))
        lead = dt.datetime(2024, 11, 30, 23, 59, 58, 250000, tzinfo=paris)
        customer = self.new_customer(name="Grace", lead_created_at=lead)
        for read in (customer, self.client.get_customer(customer.uuid)):
            self.assertEqual(read.lead_created_at, lead)
            self.assertEqual(read.lead_created_at.tzinfo, UTC)
            self.assertEqual(read.lead_created_at.isoformat(), "2024-11-30T22:59:58.250000+00:00")
            self.assertIsNone(read.free_trial_started_at)
            self.assertIsInstance(read.created_at, dt.datetime)
        updated = self.client.update_customer(customer.uuid, email="grace@example.com",
                                              lead_created_at=dt.date(2024, 1, 2))
        self.assertEqual(updated.lead_created_at, dt.datetime(2024, 1, 2, tzinfo=UTC))
        self.assertEqual((updated.email, updated.name), ("grace@example.com", "Grace"))

        [invoice] = self.client.import_invoices(customer.uuid, [monthly_invoice(1, paid=False, key="times")])
        self.assertEqual(invoice.due_date, dt.datetime(2024, 1, 1, tzinfo=UTC))
        [sub] = self.client.list_subscriptions(customer.uuid, as_of=dt.date(2024, 1, 20))
        self.assertEqual((sub.status, sub.past_due_since), ("PAST_DUE", invoice.due_date))
        self.assertIsNone(sub.cancelled_at)
        self.assertEqual(sub.current_period_end, dt.datetime(2024, 2, 1, tzinfo=UTC))

        paid_at = dt.datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
        transaction = self.client.add_transaction(
            invoice.uuid, {"external_id": "TR-late", "date": paid_at, "amount_in_cents": 4900})
        self.assertEqual((transaction.date, transaction.amount_in_cents), (paid_at, 4900))
        [sub] = self.client.list_subscriptions(customer.uuid, as_of=dt.date(2024, 1, 20))
        self.assertEqual(sub.status, "ACTIVE")
        cancelled = self.client.cancel_subscription(sub.uuid, cancelled_at=dt.date(2024, 1, 25))
        self.assertEqual(cancelled.cancelled_at, dt.datetime(2024, 1, 25, tzinfo=UTC))
        self.assertEqual(self.client.get_customer(customer.uuid, as_of=dt.date(2024, 1, 24)).status,
                         "ACTIVE")
        self.assertEqual(self.client.get_customer(customer.uuid).status, "CANCELLED")

    def test_settings_dry_run_and_history(self):
        source = self.client.create_data_source(unique("settings"))
        preview = self.client.update_settings(source.uuid, auto_churn_after_days=7, dry_run=True)
        self.assertFalse(preview.applied)
        self.assertEqual(self.client.get_settings(source.uuid).version, 1)
        effective = dt.datetime(2024, 5, 1, tzinfo=UTC)
        result = self.client.update_settings(source.uuid, auto_churn_after_days=7,
                                             effective_at=effective)
        self.assertTrue(result.applied)
        self.assertEqual(result.settings.applied_at, effective)
        self.assertEqual(result.settings.past_due_handling.mode, "AUTO_CHURN")
        back = self.client.update_settings(source.uuid, keep=True)
        self.assertEqual(back.settings.past_due_handling.to_dict(),
                         {"mode": "KEEP", "auto_churn_after_days": 0})
        history = self.client.list_settings_history(source.uuid)
        self.assertEqual([v.settings.version for v in history], [1, 2, 3])
        self.assertEqual(self.client.get_data_source(source.uuid).settings.version, 3)

    def test_every_other_call(self):
        source = self.client.create_data_source(unique("calls"))
        self.assertIn(source.uuid, [s.uuid for s in self.client.list_data_sources(page_size=1)])
        ada = self.client.create_customer(source.uuid, "ada", email="ada@example.com")
        grace = self.client.create_customer(source.uuid, "grace")
        [invoice] = self.client.import_invoices(ada.uuid, [monthly_invoice(1, key="calls")])
        self.assertEqual(self.client.get_invoice(invoice.uuid), invoice)
        self.assertEqual([i.uuid for i in self.client.list_invoices(
            data_source_uuid=source.uuid, external_id="INV-calls-2024-01")], [invoice.uuid])
        self.assertEqual([c.uuid for c in self.client.list_customers(email="ada@example.com",
                                                                     data_source_uuid=source.uuid)],
                         [ada.uuid])
        self.assertEqual([c.uuid for c in self.client.list_customers(
            data_source_uuid=source.uuid, status="lead")], [grace.uuid])
        merged = self.client.merge_customers(ada.uuid, grace.uuid)
        self.assertEqual(sorted(e.external_id for e in merged.external_ids), ["ada", "grace"])
        with self.assertRaises(recurrent.NotFound):
            self.client.get_customer(ada.uuid)
        impact = self.client.reprocess_data_source(source.uuid)
        self.assertEqual(impact.customers_reprocessed, 1)
        self.client.delete_invoice(invoice.uuid)
        self.assertEqual(self.client.list_subscriptions(grace.uuid), [])
        self.client.delete_customer(grace.uuid)
        self.client.delete_data_source(source.uuid)
        with self.assertRaises(recurrent.NotFound):
            self.client.get_data_source(source.uuid)

    def test_api_keys(self):
        # Creating the first key turns authentication on: a server of its own.
        address = os.environ.get("RECURRENT_KEYS_ADDR")
        if not address:
            self.skipTest("set RECURRENT_KEYS_ADDR to a fresh recurrentd without keys")
        with recurrent.RecurrentClient(address) as anonymous:
            created = anonymous.create_api_key("python-admin", "admin")
            self.assertTrue(created.api_key.startswith("rk_"), created.api_key)
            self.assertEqual((created.key.name, created.key.role), ("python-admin", "ADMIN"))
            with self.assertRaises(recurrent.Unauthenticated):
                anonymous.list_api_keys()
        with recurrent.RecurrentClient(address, api_key=created.api_key) as admin:
            reader = admin.create_api_key("python-reader", "READER")
            pager = admin.list_api_keys(page_size=1)
            self.assertEqual([k.name for k in pager.page], ["python-admin"])
            self.assertEqual([k.name for k in pager], ["python-admin", "python-reader"])
            revoked = admin.revoke_api_key(reader.key.uuid)
            self.assertIsNotNone(revoked.revoked_at)
        with recurrent.RecurrentClient(address, api_key=reader.api_key) as gone:
            with self.assertRaises(recurrent.Unauthenticated):
                gone.list_data_sources()

    def test_mrr(self):
        source = self.client.create_data_source(unique("mrr"))
        ada = self.client.create_customer(source.uuid, "mrr-ada")
        ben = self.client.create_customer(source.uuid, "mrr-ben")
        # ada: EUR 49.00 a month, January to March 2024, paid; ben: the same
        # from February, March unpaid.
        self.client.import_invoices(ada.uuid, [monthly_invoice(m, key="mrr-ada")
                                               for m in (1, 2, 3)])
        self.client.import_invoices(ben.uuid, [monthly_invoice(m, paid=m != 3, key="mrr-ben")
                                               for m in (2, 3)])
        mrr = self.client.get_mrr(source.uuid, as_of=dt.date(2024, 3, 10))
        self.assertEqual(mrr.as_of, dt.datetime(2024, 3, 10, tzinfo=UTC))
        [eur] = mrr.totals
        self.assertEqual((eur.currency, eur.mrr_in_cents, eur.active_mrr_in_cents,
                          eur.past_due_mrr_in_cents, eur.active_customers,
                          eur.past_due_customers), ("EUR", 9800, 4900, 4900, 1, 1))
        self.assertEqual((mrr.lead_customers, mrr.cancelled_customers), (0, 0))
        self.assertEqual(self.client.get_mrr(source.uuid, as_of=dt.date(2023, 12, 1)).totals, [])
        # Every source: at least this one's.
        everywhere = self.client.get_mrr(as_of=dt.date(2024, 3, 10))
        self.assertGreaterEqual(everywhere.totals[0].mrr_in_cents, 9800)
        # The customer's and the subscription's MRR on reads.
        self.assertEqual([(a.currency, a.mrr_in_cents) for a in
                          self.client.get_customer(ben.uuid, as_of=dt.date(2024, 3, 10)).mrr],
                         [("EUR", 4900)])
        [sub] = self.client.list_subscriptions(ben.uuid, as_of=dt.date(2024, 3, 10))
        self.assertEqual((sub.status, sub.mrr_in_cents, sub.currency), ("PAST_DUE", 4900, "EUR"))

        # Auto-churn after 14 days, previewed: ben's MRR goes on 15 March,
        # ada's on 15 April (her plan was not renewed); under KEEP both are
        # past due now and keep their MRR.
        preview = self.client.update_settings(source.uuid, auto_churn_after_days=14,
                                              dry_run=True)
        self.assertEqual([(a.currency, a.mrr_in_cents) for a in preview.impact.mrr_change],
                         [("EUR", -9800)])
        self.assertEqual([(a.currency, a.mrr_in_cents) for a in preview.impact.churned_mrr],
                         [("EUR", 9800)])
        self.client.update_settings(source.uuid, auto_churn_after_days=14)

        movements = list(self.client.list_mrr_movements(data_source_uuid=source.uuid,
                                                        page_size=1))
        self.assertEqual([(m.type, m.customer_uuid, m.occurred_at.date(),
                           m.mrr_change_in_cents, m.mrr_after_in_cents, m.currency)
                          for m in movements],
                         [("NEW_BUSINESS", ada.uuid, dt.date(2024, 1, 1), 4900, 4900, "EUR"),
                          ("NEW_BUSINESS", ben.uuid, dt.date(2024, 2, 1), 4900, 4900, "EUR"),
                          ("CHURN", ben.uuid, dt.date(2024, 3, 15), -4900, 0, "EUR"),
                          ("CHURN", ada.uuid, dt.date(2024, 4, 15), -4900, 0, "EUR")])
        pager = self.client.list_mrr_movements(customer_uuid=ben.uuid,
                                               start_time=dt.date(2024, 3, 1),
                                               end_time="2024-04-01T00:00:00Z", page_size=1)
        self.assertEqual([m.type for m in pager.page], ["CHURN"])
        self.assertEqual(pager.next_page_token, "")
        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.client.list_mrr_movements(start_time=dt.date(2024, 3, 1),
                                           end_time=dt.date(2024, 2, 1))
        self.assertEqual(caught.exception.field, "end_time")

        series = self.client.get_mrr_series(dt.date(2024, 1, 1), dt.date(2024, 5, 1), "month",
                                            data_source_uuid=source.uuid)
        self.assertEqual([p.start_time.date() for p in series.points],
                         [dt.date(2024, m, 1) for m in (1, 2, 3, 4)])
        self.assertEqual([[(t.currency, t.mrr_in_cents, t.new_business_in_cents,
                            t.churn_in_cents) for t in p.totals] for p in series.points],
                         [[("EUR", 4900, 4900, 0)], [("EUR", 9800, 4900, 0)],
                          [("EUR", 4900, 0, -4900)], [("EUR", 0, 0, -4900)]])
        self.assertEqual([(p.active_customers, p.cancelled_customers) for p in series.points],
                         [(1, 0), (2, 0), (1, 1), (0, 2)])
        weeks = self.client.get_mrr_series(dt.date(2024, 3, 1), dt.date(2024, 3, 15),
                                           metrics_pb2.SERIES_INTERVAL_WEEK,
                                           data_source_uuid=source.uuid)
        # Weeks start on Monday: 26 February, 4 and 11 March 2024.
        self.assertEqual([p.start_time.date() for p in weeks.points],
                         [dt.date(2024, 2, 26), dt.date(2024, 3, 4), dt.date(2024, 3, 11)])
        with self.assertRaises(recurrent.InvalidArgument) as caught:
            self.client.get_mrr_series(dt.date(2020, 1, 1), dt.date(2024, 1, 1), "day")
        self.assertEqual(caught.exception.field, "end_time")
        with self.assertRaises(recurrent.NotFound):
            self.client.get_mrr("ds_aaaaaaaaaaaaaaaaaaaa")

    def test_tags(self):
        customer = self.new_customer()
        tagged = self.client.add_customer_tags(customer.uuid, ["vip", "beta"])
        self.assertEqual(sorted(tagged.tags), ["beta", "vip"])
        self.assertEqual(sorted(self.client.get_customer(customer.uuid).tags), ["beta", "vip"])
        self.assertEqual(self.client.remove_customer_tags(customer.uuid, "beta").tags, ["vip"])


if __name__ == "__main__":
    unittest.main()
