"""Python client of Recurrent, the subscription-status gRPC service.

    import datetime as dt
    import recurrent

    with recurrent.RecurrentClient("127.0.0.1:50051") as client:
        source = client.create_data_source("Stripe", system="stripe")
        customer = client.create_customer(source.uuid, "cus_001", name="Ada")
        for sub in client.list_subscriptions(customer.uuid, as_of=dt.date(2025, 3, 1)):
            print(sub.status, sub.status_reason)

Contents:
  RecurrentClient                      every RPC as a method (recurrent.client)
  Invoice, LineItem, Transaction       readable invoice input (recurrent.invoices)
  Record                               the read-only view returned by the client
  RecurrentError and its subclasses    errors per gRPC code (recurrent.errors)
  to_timestamp, to_datetime, UTC       time conversions (recurrent.convert)
  recurrent.v1                         the generated protobuf and gRPC modules
                                       (customer_pb2, invoice_pb2, …)

The generated modules are made by ../generate.sh (Debian's protoc and
grpc_python_plugin) into _gen/ on first import when missing or older than
the protos.
"""

from recurrent import _stubs

_stubs.ensure_generated()
# The generated modules live in _gen/recurrent/v1 and import each other as
# `recurrent.v1.…`: make that folder part of this package.
__path__.append(_stubs.GEN_PACKAGE_DIR)  # noqa: F821 (module attribute)

from recurrent.convert import UTC, Record, to_datetime, to_timestamp  # noqa: E402
from recurrent.errors import (  # noqa: E402
    AlreadyExists, DeadlineExceeded, FailedPrecondition, Internal,
    InvalidArgument, NotFound, OutOfRange, PermissionDenied, RecurrentError,
    ResourceExhausted, Unauthenticated, Unavailable, Unimplemented)
from recurrent.invoices import Invoice, LineItem, Transaction  # noqa: E402
from recurrent.client import RecurrentClient  # noqa: E402

__all__ = [
    "RecurrentClient", "Invoice", "LineItem", "Transaction", "Record",
    "RecurrentError", "InvalidArgument", "NotFound", "AlreadyExists",
    "FailedPrecondition", "OutOfRange", "ResourceExhausted", "Unavailable",
    "DeadlineExceeded", "Unimplemented", "Internal",
    "UTC", "to_timestamp", "to_datetime",
]
