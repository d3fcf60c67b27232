"""Readable invoice input: Invoice, LineItem and Transaction.

    recurrent.Invoice(
        external_id="INV-2025-02", date=date(2025, 2, 1), due_date=date(2025, 2, 1),
        currency="EUR",
        line_items=[recurrent.LineItem(
            external_id="LI-2025-02", subscription_external_id="sub-001",
            plan_external_id="pro-monthly", amount_in_cents=4900,
            service_period_start=date(2025, 2, 1), service_period_end=date(2025, 3, 1))],
        transactions=[recurrent.Transaction(external_id="TR-2025-02", date=date(2025, 2, 1))])

Wherever the client takes one of these it also takes a dict with the same
keys (nested dicts for line items and transactions) or the protobuf message.
Times are aware datetimes, dates (midnight UTC) or ISO 8601 strings; enums
are short names ("SUBSCRIPTION", "PAYMENT", "SUCCESSFUL").
"""

import dataclasses
from collections.abc import Mapping
from typing import Any, List, Optional

from recurrent.convert import enum_number, to_timestamp
from recurrent.v1 import invoice_pb2

__all__ = ["Invoice", "LineItem", "Transaction",
           "invoice_proto", "line_item_proto", "transaction_proto"]


@dataclasses.dataclass
class LineItem:
    """A line item; by default a SUBSCRIPTION line item of quantity 1.

    SUBSCRIPTION line items need subscription_external_id and a service
    period [service_period_start, service_period_end).
    """
    external_id: str
    amount_in_cents: int
    subscription_external_id: str = ""
    service_period_start: Any = None
    service_period_end: Any = None
    plan_external_id: str = ""
    type: str = "SUBSCRIPTION"  # or "ONE_TIME", "TRIAL"
    quantity: int = 1
    discount_amount_in_cents: int = 0
    tax_amount_in_cents: int = 0
    prorated: bool = False
    description: str = ""

    def to_proto(self):
        item = invoice_pb2.LineItem(
            external_id=self.external_id,
            type=enum_number(invoice_pb2.LineItemType.DESCRIPTOR, self.type),
            subscription_external_id=self.subscription_external_id,
            plan_external_id=self.plan_external_id,
            amount_in_cents=self.amount_in_cents,
            quantity=self.quantity,
            discount_amount_in_cents=self.discount_amount_in_cents,
            tax_amount_in_cents=self.tax_amount_in_cents,
            prorated=self.prorated,
            description=self.description)
        if self.service_period_start is not None:
            item.service_period_start.CopyFrom(to_timestamp(self.service_period_start))
        if self.service_period_end is not None:
            item.service_period_end.CopyFrom(to_timestamp(self.service_period_end))
        return item


@dataclasses.dataclass
class Transaction:
    """A transaction; by default a successful payment of the whole amount due
    (amount_in_cents=None)."""
    external_id: str
    date: Any
    type: str = "PAYMENT"  # or "REFUND"
    result: str = "SUCCESSFUL"  # or "FAILED"
    amount_in_cents: Optional[int] = None

    def to_proto(self):
        transaction = invoice_pb2.Transaction(
            external_id=self.external_id,
            type=enum_number(invoice_pb2.TransactionType.DESCRIPTOR, self.type),
            result=enum_number(invoice_pb2.TransactionResult.DESCRIPTOR, self.result),
            date=to_timestamp(self.date))
        if self.amount_in_cents is not None:
            transaction.amount_in_cents = self.amount_in_cents
        return transaction


@dataclasses.dataclass
class Invoice:
    """An invoice to import. due_date is optional (without one the invoice
    never makes a subscription past due); data_source_uuid defaults to the
    customer's source."""
    external_id: str
    date: Any
    currency: str
    line_items: List[Any] = dataclasses.field(default_factory=list)
    due_date: Any = None
    transactions: List[Any] = dataclasses.field(default_factory=list)
    data_source_uuid: str = ""

    def to_proto(self):
        invoice = invoice_pb2.Invoice(
            external_id=self.external_id,
            data_source_uuid=self.data_source_uuid,
            currency=self.currency,
            date=to_timestamp(self.date),
            line_items=[line_item_proto(i) for i in self.line_items],
            transactions=[transaction_proto(t) for t in self.transactions])
        if self.due_date is not None:
            invoice.due_date.CopyFrom(to_timestamp(self.due_date))
        return invoice


def _proto(value, cls, message_cls):
    if isinstance(value, message_cls):
        return value
    if isinstance(value, Mapping):
        value = cls(**value)
    if isinstance(value, cls):
        return value.to_proto()
    raise TypeError("expected a %s, a dict or a %s message, got %r"
                    % (cls.__name__, message_cls.DESCRIPTOR.full_name, value))


def invoice_proto(value):
    """An invoice_pb2.Invoice from an Invoice, a dict or an Invoice message."""
    return _proto(value, Invoice, invoice_pb2.Invoice)


def line_item_proto(value):
    """An invoice_pb2.LineItem from a LineItem, a dict or a LineItem message."""
    return _proto(value, LineItem, invoice_pb2.LineItem)


def transaction_proto(value):
    """An invoice_pb2.Transaction from a Transaction, a dict or a message."""
    return _proto(value, Transaction, invoice_pb2.Transaction)
