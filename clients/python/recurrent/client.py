"""RecurrentClient: every recurrent.v1 RPC as a Python method."""

import grpc
from google.protobuf import field_mask_pb2

from recurrent.convert import Record, enum_number, to_timestamp
from recurrent.errors import DeadlineExceeded, from_rpc_error
from recurrent.invoices import invoice_proto, transaction_proto
from recurrent.v1 import (api_key_pb2, api_key_pb2_grpc, change_feed_pb2,
                          change_feed_pb2_grpc, customer_pb2,
                          customer_pb2_grpc, invoice_pb2, invoice_pb2_grpc,
                          metrics_pb2, metrics_pb2_grpc, source_settings_pb2,
                          source_settings_pb2_grpc)

__all__ = ["RecurrentClient", "Pager"]

# The default deadline, in seconds, of the calls that reprocess a data source
# (update_settings, reprocess_data_source): seconds to minutes on a large one.
SETTINGS_TIMEOUT = 600.0


class Pager:
    """The items of a paged list: iterate over it to follow every page, or
    read one page at a time.

        pager = client.list_customers(page_size=50)      # fetches page 1
        first = pager.page                               # its items (a list)
        token = pager.next_page_token                    # "" after the last
        later = client.list_customers(page_size=50, page_token=token)

    Attributes:
      page: the Records of the page fetched last.
      next_page_token: the token of the page after it ("" when it was the
        last); pass it as ``page_token=`` to continue the same listing.
    """

    def __init__(self, fetch, request, field):
        self._fetch = fetch
        self._request = request
        self._field = field
        self._load(fetch(request))  # errors surface at the call
        self._first = (self.page, self.next_page_token)

    def _load(self, response):
        self.page = [Record(item) for item in getattr(response, self._field)]
        self.next_page_token = response.next_page_token

    def __iter__(self):
        # Each iteration starts again from the first page (fetched once).
        self.page, self.next_page_token = self._first
        while True:
            yield from self.page
            if not self.next_page_token:
                return
            self._request.page_token = self.next_page_token
            self._load(self._fetch(self._request))

_CUSTOMER_FIELDS = ("name", "email", "company", "country", "state", "city",
                    "zip", "lead_created_at", "free_trial_started_at")
_TIME_FIELDS = ("lead_created_at", "free_trial_started_at")


class RecurrentClient:
    """A client of a Recurrent server.

        with RecurrentClient("127.0.0.1:50051") as client:
            source = client.create_data_source("Stripe", system="stripe")
            for customer in client.list_customers(data_source_uuid=source.uuid):
                print(customer.external_id, customer.status)

    Methods return ``Record`` views of the response messages (datetimes,
    short enum names; ``.proto`` for the message itself) and raise a
    ``RecurrentError`` subclass (InvalidArgument, NotFound, AlreadyExists,
    FailedPrecondition, …) when the server refuses a call. ``list_*``
    methods of paged lists return iterators that fetch further pages as
    they go; the first page is fetched (and any error raised) by the call
    itself. Times given as arguments are aware datetimes, dates (midnight
    UTC) or ISO 8601 strings.

    Args:
      address: "host:port" of the server (plaintext).
      timeout: seconds each call may take (DEADLINE_EXCEEDED after).
      channel: an existing grpc.Channel to use instead of ``address`` (for
        TLS or custom options); it is closed by close() all the same, e.g.
        ``grpc.secure_channel(address, grpc.ssl_channel_credentials(
        root_certificates=ca_pem, private_key=key_pem,
        certificate_chain=cert_pem))`` for (mutual) TLS.
      api_key: an API key ("rk_…") sent with every call as
        "authorization: Bearer <key>"; None sends none (a server without
        keys, on loopback). Calls then raise Unauthenticated for a missing,
        unknown or revoked key and PermissionDenied when its role is too low.
      settings_timeout: seconds update_settings and reprocess_data_source
        may take (default 600: they reprocess a whole source).
    """

    def __init__(self, address="127.0.0.1:50051", timeout=10.0, channel=None,
                 api_key=None, settings_timeout=SETTINGS_TIMEOUT):
        self.address = address
        self.timeout = timeout
        self.settings_timeout = settings_timeout
        self._metadata = (("authorization", "Bearer " + api_key),) if api_key else None
        self._channel = channel if channel is not None else grpc.insecure_channel(address)
        self._sources = source_settings_pb2_grpc.SourceSettingsServiceStub(self._channel)
        self._customers = customer_pb2_grpc.CustomerServiceStub(self._channel)
        self._invoices = invoice_pb2_grpc.InvoiceServiceStub(self._channel)
        self._changes = change_feed_pb2_grpc.ChangeFeedServiceStub(self._channel)
        self._keys = api_key_pb2_grpc.ApiKeyServiceStub(self._channel)
        self._metrics = metrics_pb2_grpc.MetricsServiceStub(self._channel)

    def close(self):
        """Closes the channel."""
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    # -- plumbing ------------------------------------------------------------

    def _call(self, method, request, timeout=None):
        try:
            return method(request, timeout=timeout or self.timeout,
                          metadata=self._metadata)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def _record(self, method, request):
        return Record(self._call(method, request))

    def _pages(self, method, request, field, page_size=None, page_token=None):
        request.page_size = page_size or 0
        request.page_token = page_token or ""
        return Pager(lambda r: self._call(method, r), request, field)

    @staticmethod
    def _set_time(message, field, value):
        if value is not None:
            getattr(message, field).CopyFrom(to_timestamp(value))

    # -- SourceSettingsService ----------------------------------------------

    def create_data_source(self, name, system=None):
        """Creates a data source (mode KEEP, settings version 1). ``system``
        defaults to "custom". AlreadyExists if the name is taken."""
        return self._record(self._sources.CreateDataSource,
                            source_settings_pb2.CreateDataSourceRequest(
                                name=name, system=system or ""))

    def get_data_source(self, uuid):
        """The data source with its current settings; NotFound if unknown."""
        return self._record(self._sources.GetDataSource,
                            source_settings_pb2.GetDataSourceRequest(uuid=uuid))

    def list_data_sources(self, page_size=None, page_token=None):
        """Every data source, in creation order: a Pager (iterate over it,
        or read ``.page`` and ``.next_page_token``)."""
        return self._pages(self._sources.ListDataSources,
                           source_settings_pb2.ListDataSourcesRequest(),
                           "data_sources", page_size, page_token)

    def delete_data_source(self, uuid):
        """Deletes a data source and everything that belongs only to it."""
        self._call(self._sources.DeleteDataSource,
                   source_settings_pb2.DeleteDataSourceRequest(uuid=uuid))

    def get_settings(self, data_source_uuid):
        """The current SourceSettings of a data source."""
        return self._record(self._sources.GetSettings,
                            source_settings_pb2.GetSettingsRequest(
                                data_source_uuid=data_source_uuid))

    def update_settings(self, data_source_uuid, *, auto_churn_after_days=None,
                        keep=False, dry_run=False, effective_at=None,
                        list_changes=False):
        """Changes a source's past-due handling and reprocesses its customers.

        Give exactly one of ``auto_churn_after_days=N`` (AUTO_CHURN after N
        days past due, 1..90) or ``keep=True`` (KEEP: past due until
        cancelled explicitly). With ``dry_run=True`` nothing changes and the
        result previews the impact. ``effective_at`` (default now, never in
        the future) becomes the settings' ``applied_at``. With
        ``list_changes=True`` the result also lists the subscriptions that
        change (``.changes``: the first 1,000, and ``.changes_not_listed``).

        Returns the UpdateSettingsResponse: ``.settings`` (the proposed
        record: the saved version, or for a dry run the version it would be
        saved as), ``.impact`` (customers_reprocessed, auto_churns_reversed,
        auto_churns_applied, customers_status_changed) and ``.applied``
        (False for a dry run or when the settings were already in force).

        The call may take ``settings_timeout`` seconds. When that passes it
        raises DeadlineExceeded with ``.applied``: True when the settings
        history shows the change saved all the same, False when it does not
        (yet: a change the server started still commits; look at
        list_settings_history before sending it again), None when the history
        could not be read.
        """
        if keep == (auto_churn_after_days is not None):
            raise ValueError("give exactly one of auto_churn_after_days=N or keep=True")
        if keep:
            handling = source_settings_pb2.PastDueHandling(
                mode=source_settings_pb2.PAST_DUE_MODE_KEEP)
        else:
            handling = source_settings_pb2.PastDueHandling(
                mode=source_settings_pb2.PAST_DUE_MODE_AUTO_CHURN,
                auto_churn_after_days=auto_churn_after_days)
        request = source_settings_pb2.UpdateSettingsRequest(
            data_source_uuid=data_source_uuid, past_due_handling=handling,
            dry_run=dry_run, list_changes=list_changes)
        self._set_time(request, "effective_at", effective_at)
        before = None if dry_run else self.get_settings(data_source_uuid)
        try:
            return Record(self._call(self._sources.UpdateSettings, request,
                                     timeout=self.settings_timeout))
        except DeadlineExceeded as error:
            if before is None:
                raise
            error.applied = self._applied_after(before, handling)
            if error.applied:
                error.message += "; the change was applied all the same"
            elif error.applied is False:
                error.message += ("; not applied yet (a change the server "
                                  "started still commits: check the settings "
                                  "history before sending it again)")
            error.args = ("%s: %s" % (error.code.name, error.message),)
            raise

    def _applied_after(self, before, handling):
        """Whether a settings version newer than ``before`` with ``handling``
        is in the history; None if the history cannot be read."""
        try:
            versions = self.list_settings_history(before.data_source_uuid)
        except Exception:  # noqa: BLE001 - any failure means "unknown"
            return None
        return any(v.settings.version > before.version and
                   v.proto.settings.past_due_handling == handling
                   for v in versions)

    def list_settings_history(self, data_source_uuid):
        """Every settings version of a source, oldest first (a list of
        SettingsVersion: settings, saved_at, impact)."""
        response = self._call(self._sources.ListSettingsHistory,
                              source_settings_pb2.ListSettingsHistoryRequest(
                                  data_source_uuid=data_source_uuid))
        return [Record(v) for v in response.versions]

    def reprocess_data_source(self, data_source_uuid):
        """Recomputes every customer of a source; returns the SettingsImpact."""
        response = self._call(self._sources.ReprocessDataSource,
                              source_settings_pb2.ReprocessDataSourceRequest(
                                  data_source_uuid=data_source_uuid),
                              timeout=self.settings_timeout)
        return Record(response.impact)

    # -- CustomerService ----------------------------------------------------

    def create_customer(self, data_source_uuid, external_id, *, name=None,
                        email=None, company=None, country=None, state=None,
                        city=None, zip=None, lead_created_at=None,
                        free_trial_started_at=None):
        """Creates a customer of a data source. ``external_id`` is unique in
        the source (AlreadyExists); ``country`` is ISO 3166-1 alpha-2."""
        customer = customer_pb2.Customer(
            data_source_uuid=data_source_uuid, external_id=external_id,
            name=name or "", email=email or "", company=company or "",
            country=country or "", state=state or "", city=city or "",
            zip=zip or "")
        self._set_time(customer, "lead_created_at", lead_created_at)
        self._set_time(customer, "free_trial_started_at", free_trial_started_at)
        return self._record(self._customers.CreateCustomer,
                            customer_pb2.CreateCustomerRequest(customer=customer))

    def get_customer(self, uuid, as_of=None):
        """A customer with its status and tags at ``as_of`` (default now; may
        be in the future)."""
        request = customer_pb2.GetCustomerRequest(uuid=uuid)
        self._set_time(request, "as_of", as_of)
        return self._record(self._customers.GetCustomer, request)

    def update_customer(self, uuid, **fields):
        """Updates exactly the given fields, e.g.
        ``update_customer(uuid, email="ada@example.com", city="London")``;
        None or "" clears a field. Writable: name, email, company, country,
        state, city, zip, lead_created_at, free_trial_started_at."""
        unknown = sorted(set(fields) - set(_CUSTOMER_FIELDS))
        if unknown:
            raise TypeError("update_customer: not writable: %s" % ", ".join(unknown))
        customer = customer_pb2.Customer(uuid=uuid)
        for name, value in fields.items():
            if name in _TIME_FIELDS:
                self._set_time(customer, name, value)
            else:
                setattr(customer, name, value or "")
        request = customer_pb2.UpdateCustomerRequest(
            customer=customer, update_mask=field_mask_pb2.FieldMask(paths=list(fields)))
        return self._record(self._customers.UpdateCustomer, request)

    def delete_customer(self, uuid):
        """Deletes a customer with its invoices and subscriptions."""
        self._call(self._customers.DeleteCustomer,
                   customer_pb2.DeleteCustomerRequest(uuid=uuid))

    def list_customers(self, *, data_source_uuid=None, external_id=None,
                       email=None, status=None, as_of=None, page_size=None,
                       page_token=None):
        """The customers matching every given filter, in a stable order, with
        their status and reason at ``as_of`` (default now; may be in the
        future): a Pager. ``status`` ("LEAD", "ACTIVE", "PAST_DUE" or
        "CANCELLED") matches the status at ``as_of``."""
        request = customer_pb2.ListCustomersRequest(
            data_source_uuid=data_source_uuid or "", external_id=external_id or "",
            email=email or "",
            status=enum_number(customer_pb2.CustomerStatus.DESCRIPTOR, status))
        self._set_time(request, "as_of", as_of)
        return self._pages(self._customers.ListCustomers, request, "customers",
                           page_size, page_token)

    def merge_customers(self, from_uuid, into_uuid):
        """Moves everything of ``from_uuid`` into ``into_uuid`` (then deleted);
        returns the merged customer."""
        return self._record(self._customers.MergeCustomers,
                            customer_pb2.MergeCustomersRequest(
                                from_customer_uuid=from_uuid,
                                into_customer_uuid=into_uuid))

    def add_customer_tags(self, customer_uuid, tags):
        """Adds user tags (a string or an iterable); returns the customer."""
        return self._record(self._customers.AddCustomerTags,
                            customer_pb2.AddCustomerTagsRequest(
                                customer_uuid=customer_uuid, tags=_strings(tags)))

    def remove_customer_tags(self, customer_uuid, tags):
        """Removes user tags (a string or an iterable); returns the customer."""
        return self._record(self._customers.RemoveCustomerTags,
                            customer_pb2.RemoveCustomerTagsRequest(
                                customer_uuid=customer_uuid, tags=_strings(tags)))

    def list_subscriptions(self, customer_uuid, as_of=None, page_size=None):
        """A customer's started subscriptions with their status, reason,
        periods and past-due/cancellation times at ``as_of`` (default now;
        may be in the future), in creation order. Returns a list (every
        page fetched)."""
        request = customer_pb2.ListSubscriptionsRequest(customer_uuid=customer_uuid)
        self._set_time(request, "as_of", as_of)
        return list(self._pages(self._customers.ListSubscriptions, request,
                                "subscriptions", page_size))

    def cancel_subscription(self, subscription_uuid, cancelled_at=None):
        """Cancels a subscription explicitly at ``cancelled_at`` (default
        now, never in the future); returns it. FailedPrecondition if it has
        not started by then."""
        request = customer_pb2.CancelSubscriptionRequest(subscription_uuid=subscription_uuid)
        self._set_time(request, "cancelled_at", cancelled_at)
        return self._record(self._customers.CancelSubscription, request)

    def list_subscription_events(self, customer_uuid=None, *, data_source_uuid=None,
                                 as_of=None, page_size=None, page_token=None):
        """The subscription events of a customer and/or a data source that
        occurred up to ``as_of`` (default now), in time order: a Pager. Each
        event has ``type`` ("STARTED", "PAST_DUE", "RECOVERED", "CANCELLED",
        "AUTO_CHURNED", "REACTIVATED"), ``occurred_at`` and ``status_after``
        (the subscription's status from then on)."""
        request = customer_pb2.ListSubscriptionEventsRequest(
            customer_uuid=customer_uuid or "", data_source_uuid=data_source_uuid or "")
        self._set_time(request, "as_of", as_of)
        return self._pages(self._customers.ListSubscriptionEvents, request, "events",
                           page_size, page_token)

    # -- InvoiceService -----------------------------------------------------

    def import_invoices(self, customer_uuid, invoices):
        """Imports 1 to 1,000 invoices of one customer, all or nothing.

        ``invoices`` is an iterable of ``recurrent.Invoice``, dicts with the
        same keys, or invoice_pb2.Invoice messages. Re-sending an identical
        invoice is a no-op. Returns the stored invoices (a list)."""
        request = invoice_pb2.ImportInvoicesRequest(
            customer_uuid=customer_uuid, invoices=[invoice_proto(i) for i in invoices])
        response = self._call(self._invoices.ImportInvoices, request)
        return [Record(i) for i in response.invoices]

    def get_invoice(self, uuid, as_of=None):
        """One invoice with its line items and transactions, and its
        ``amount_due_in_cents``, ``amount_paid_in_cents`` and ``open`` at
        ``as_of`` (default now)."""
        request = invoice_pb2.GetInvoiceRequest(uuid=uuid)
        self._set_time(request, "as_of", as_of)
        return self._record(self._invoices.GetInvoice, request)

    def list_invoices(self, *, customer_uuid=None, data_source_uuid=None,
                      external_id=None, open=None, as_of=None, page_size=None,
                      page_token=None):
        """The invoices matching every given filter, in import order, with
        their amounts at ``as_of`` (default now): a Pager. ``open=True``
        (False) keeps only the invoices open (not open) at ``as_of``."""
        request = invoice_pb2.ListInvoicesRequest(
            customer_uuid=customer_uuid or "", data_source_uuid=data_source_uuid or "",
            external_id=external_id or "")
        if open is not None:
            request.open = open
        self._set_time(request, "as_of", as_of)
        return self._pages(self._invoices.ListInvoices, request, "invoices",
                           page_size, page_token)

    def delete_invoice(self, uuid):
        """Deletes an invoice (subscriptions left with no line item go)."""
        self._call(self._invoices.DeleteInvoice, invoice_pb2.DeleteInvoiceRequest(uuid=uuid))

    def add_transaction(self, invoice_uuid, transaction):
        """Records a payment or refund for an invoice: a
        ``recurrent.Transaction``, a dict or a Transaction message. Returns
        the stored transaction."""
        return self._record(self._invoices.AddTransaction,
                            invoice_pb2.AddTransactionRequest(
                                invoice_uuid=invoice_uuid,
                                transaction=transaction_proto(transaction)))

    # -- ApiKeyService -------------------------------------------------------

    def create_api_key(self, name, role):
        """Creates an API key; ``role`` is "READER", "WRITER" or "ADMIN".
        Returns the CreateApiKeyResponse: ``.api_key`` (the secret to pass as
        ``RecurrentClient(api_key=…)``, returned only here, once) and ``.key``
        (uuid, name, role, created_at). Needs an ADMIN key, except for the
        first key of a server (loopback only)."""
        return self._record(self._keys.CreateApiKey, api_key_pb2.CreateApiKeyRequest(
            name=name, role=enum_number(api_key_pb2.ApiKeyRole.DESCRIPTOR, role)))

    def list_api_keys(self, page_size=None, page_token=None):
        """Every API key (never its secret), revoked ones included, in
        creation order: a Pager."""
        return self._pages(self._keys.ListApiKeys, api_key_pb2.ListApiKeysRequest(),
                           "keys", page_size, page_token)

    def revoke_api_key(self, uuid):
        """Revokes a key (calls with it fail with Unauthenticated from then
        on); returns it. Revoking a revoked key returns it unchanged."""
        return self._record(self._keys.RevokeApiKey,
                            api_key_pb2.RevokeApiKeyRequest(uuid=uuid))

    # -- MetricsService ------------------------------------------------------

    def get_mrr(self, data_source_uuid=None, as_of=None):
        """Monthly recurring revenue at ``as_of`` (default now; may be in the
        future) of one data source, or of every source when None.

        Returns the GetMrrResponse: ``.as_of``, ``.totals`` (one per currency
        with MRR, ordered by currency: ``currency``, ``mrr_in_cents``,
        ``active_mrr_in_cents``, ``past_due_mrr_in_cents``,
        ``active_customers``, ``past_due_customers``), ``.lead_customers``
        and ``.cancelled_customers``. NotFound for an unknown source."""
        request = metrics_pb2.GetMrrRequest(data_source_uuid=data_source_uuid or "")
        self._set_time(request, "as_of", as_of)
        return self._record(self._metrics.GetMrr, request)

    def list_mrr_movements(self, *, data_source_uuid=None, customer_uuid=None,
                           start_time=None, end_time=None, page_size=None,
                           page_token=None):
        """The MRR movements with ``start_time`` <= occurred_at < ``end_time``
        (either None: unbounded), filtered by source and customer, in time
        order: a Pager. Each has ``type`` ("NEW_BUSINESS", "EXPANSION",
        "CONTRACTION", "CHURN", "REACTIVATION"), ``customer_uuid``,
        ``data_source_uuid``, ``currency``, ``occurred_at``,
        ``mrr_change_in_cents`` (after minus before) and
        ``mrr_after_in_cents``."""
        request = metrics_pb2.ListMrrMovementsRequest(
            data_source_uuid=data_source_uuid or "", customer_uuid=customer_uuid or "")
        self._set_time(request, "start_time", start_time)
        self._set_time(request, "end_time", end_time)
        return self._pages(self._metrics.ListMrrMovements, request, "movements",
                           page_size, page_token)

    def get_mrr_series(self, start_time, end_time, interval, data_source_uuid=None):
        """MRR and its movements per ``interval`` ("day", "week" from Monday
        or "month", UTC; or a SeriesInterval value) over [start_time,
        end_time), of one data source or of every source when None.

        Returns the GetMrrSeriesResponse: ``.points``, one per interval, each
        with ``start_time``, ``totals`` (per currency: ``mrr_in_cents`` at the
        end of the interval and the sums of its movements,
        ``new_business_in_cents``, ``expansion_in_cents``,
        ``contraction_in_cents``, ``churn_in_cents``,
        ``reactivation_in_cents``) and the customers by status at its end
        (``lead_customers``, ``active_customers``, ``past_due_customers``,
        ``cancelled_customers``). InvalidArgument beyond 1,000 points."""
        request = metrics_pb2.GetMrrSeriesRequest(
            data_source_uuid=data_source_uuid or "",
            interval=enum_number(metrics_pb2.SeriesInterval.DESCRIPTOR, interval),
            start_time=to_timestamp(start_time), end_time=to_timestamp(end_time))
        return self._record(self._metrics.GetMrrSeries, request)

    # -- the change feed -----------------------------------------------------

    def list_changes(self, *, source=None, customer=None, after=None,
                     page_size=None):
        """Iterates over the changes after cursor ``after`` (default: the
        oldest kept) in commit order, following pages to the current end of
        the log. Each is a Record with ``cursor``, ``type``
        ("EVENT_PUBLISHED", "EVENT_RETRACTED", "CUSTOMER_STATUS_CHANGED"),
        ``committed_at``, ``customer_uuid``, ``event`` and the statuses.
        Keep the last ``cursor`` to poll again from there."""
        request = change_feed_pb2.ListChangesRequest(
            data_source_uuid=source or "", customer_uuid=customer or "",
            after_cursor=after or "", page_size=page_size or 0)
        response = self._call(self._changes.ListChanges, request)

        def iterate(response):
            while True:
                for change in response.changes:
                    yield Record(change)
                # The end of the log: nothing returned and nothing skipped
                # (a page may be empty but move on, past changes the filters
                # skipped).
                if not response.changes and response.next_cursor == request.after_cursor:
                    return
                request.after_cursor = response.next_cursor
                response = self._call(self._changes.ListChanges, request)
        return iterate(response)

    def watch_changes(self, *, source=None, customer=None, after=None,
                      reconnect_delay=1.0):
        """Yields every change after cursor ``after`` (default: only those
        committed from now on), then each change as it commits, forever.

        When the stream ends with UNAVAILABLE (a server restart or shutdown,
        a lost connection, a read-only replica that has not replayed
        ``after`` yet: CHANGE_LOG_BEHIND) it reconnects after
        ``reconnect_delay`` seconds, or the longer delay the server asks for
        (RetryInfo), and resumes after the last cursor it yielded, so no
        change is skipped; a change at or below that cursor (resent after a
        reconnect) is dropped, so none repeats. Other errors are raised (OutOfRange when ``after`` is older
        than the log's retention). Stop by closing the generator."""
        import time
        cursor = after or ""
        while True:
            request = change_feed_pb2.WatchChangesRequest(
                data_source_uuid=source or "", customer_uuid=customer or "",
                after_cursor=cursor)
            stream = self._changes.WatchChanges(request, metadata=self._metadata)
            try:
                if not cursor:
                    # Where the stream starts: a reconnect before the first
                    # change resumes from there, missing nothing.
                    for key, value in stream.initial_metadata() or ():
                        if key == _START_CURSOR_METADATA_KEY:
                            cursor = value
                for change in stream:
                    # Cursors have one length, so they compare as strings.
                    if cursor and change.cursor <= cursor:
                        continue
                    cursor = change.cursor
                    yield Record(change)
                return
            except grpc.RpcError as error:
                # Past what the watch's filters skipped since the last change.
                for key, value in error.trailing_metadata() or ():
                    if (key == _RESUME_CURSOR_METADATA_KEY and len(value) == 20
                            and value > cursor):
                        cursor = value
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise from_rpc_error(error) from None
                delay = max(reconnect_delay, from_rpc_error(error).retry_delay or 0)
            finally:
                stream.cancel()
            time.sleep(delay)


# WatchChanges' initial metadata: the cursor the stream starts after
# (common/metadata_keys.h on the server).
_START_CURSOR_METADATA_KEY = "recurrent-start-cursor"
# Its trailing metadata: the cursor to resume after (past what its filters
# skipped).
_RESUME_CURSOR_METADATA_KEY = "recurrent-resume-cursor"


def _strings(values):
    return [values] if isinstance(values, str) else list(values)
