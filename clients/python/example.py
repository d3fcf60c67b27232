#!/usr/bin/env python3
"""Recurrent Python client example: a year of invoices, then auto-churn.

Creates a data source and a customer, imports the customer's 2024 monthly
invoices of a EUR 49.00 plan (all paid on time except June's, and not renewed
after December), prints the subscription's status at a few instants under the
default past-due handling (KEEP), previews and then applies "auto-churn after
14 days", and prints the statuses again with the subscription events and the
customer's status and tags.

    /usr/bin/python3 clients/python/example.py --addr=127.0.0.1:50051

Everything printed is determined by the data, except the line starting with
"ids:" (new ids every run). Run it against a server with a clock past
2025-01-15. Generated stubs are made on first import (clients/python/generate.sh).
"""

import argparse
import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recurrent  # noqa: E402
from recurrent import Invoice, LineItem, Transaction  # noqa: E402

SUBSCRIPTION = "sub-ada-pro"
UNPAID_MONTH = 6
INSTANTS = [dt.date(2024, 3, 15), dt.date(2024, 6, 10), dt.date(2024, 6, 20),
            dt.date(2024, 8, 15), dt.date(2025, 1, 10), dt.date(2025, 2, 1)]


def monthly_invoices(year):
    """One invoice per month of `year`, due on issue, paid on issue except
    in UNPAID_MONTH."""
    invoices = []
    for month in range(1, 13):
        start = dt.date(year, month, 1)
        end = dt.date(year + month // 12, month % 12 + 1, 1)
        paid = [] if month == UNPAID_MONTH else [
            Transaction(external_id="TR-%d-%02d" % (year, month), date=start)]
        invoices.append(Invoice(
            external_id="INV-%d-%02d" % (year, month), date=start, due_date=start,
            currency="EUR", transactions=paid,
            line_items=[LineItem(
                external_id="LI-%d-%02d" % (year, month), amount_in_cents=4900,
                subscription_external_id=SUBSCRIPTION, plan_external_id="pro-monthly",
                service_period_start=start, service_period_end=end)]))
    return invoices


def create_source(client, name):
    """Creates a source named `name`, or `name 2`, `name 3`… if taken."""
    for n in range(1, 1000):
        try:
            return client.create_data_source(name if n == 1 else "%s %d" % (name, n))
        except recurrent.AlreadyExists:
            continue
    raise SystemExit("no free data source name")


def impact_text(impact):
    return ("customers_reprocessed=%d auto_churns_reversed=%d "
            "auto_churns_applied=%d customers_status_changed=%d" % (
                impact.customers_reprocessed, impact.auto_churns_reversed,
                impact.auto_churns_applied, impact.customers_status_changed))


def print_statuses(client, customer_uuid, label):
    for instant in INSTANTS:
        for sub in client.list_subscriptions(customer_uuid, as_of=instant):
            print("status[%s] %s %s: %s - %s" % (
                label, instant.isoformat(), sub.external_id, sub.status, sub.status_reason))
        customer = client.get_customer(customer_uuid, as_of=instant)
        print("customer[%s] %s: %s" % (label, instant.isoformat(), customer.status))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default=os.environ.get("RECURRENT_ADDR", "127.0.0.1:50051"),
                        help="host:port of recurrentd (default $RECURRENT_ADDR or %(default)s)")
    args = parser.parse_args()

    with recurrent.RecurrentClient(args.addr, timeout=30) as client:
        source = create_source(client, "Example Billing")
        customer = client.create_customer(source.uuid, "ada", name="Ada Lovelace",
                                          email="ada@example.com", country="GB")
        invoices = client.import_invoices(customer.uuid, monthly_invoices(2024))
        subscription = client.list_subscriptions(customer.uuid)[0]
        print("ids: source %s customer %s subscription %s" % (
            source.uuid, customer.uuid, subscription.uuid))
        print("imported %d invoices %s..%s, %s unpaid" % (
            len(invoices), invoices[0].external_id, invoices[-1].external_id,
            invoices[UNPAID_MONTH - 1].external_id))
        print("settings: version %d, %s" % (
            source.settings.version, source.settings.past_due_handling.mode))
        print_statuses(client, customer.uuid, "keep")

        preview = client.update_settings(source.uuid, auto_churn_after_days=14, dry_run=True)
        print("dry run, auto-churn after 14 days: applied=%s, %s" % (
            preview.applied, impact_text(preview.impact)))
        result = client.update_settings(source.uuid, auto_churn_after_days=14)
        handling = result.settings.past_due_handling
        print("update, auto-churn after 14 days: applied=%s, %s" % (
            result.applied, impact_text(result.impact)))
        print("settings: version %d, %s after %d days; impact as previewed: %s" % (
            result.settings.version, handling.mode, handling.auto_churn_after_days,
            "yes" if result.impact == preview.impact else "NO"))
        print_statuses(client, customer.uuid, "auto-churn")

        for event in client.list_subscription_events(customer.uuid):
            print("event %s %s %s" % (event.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                      event.subscription_external_id, event.type))
        customer = client.get_customer(customer.uuid)
        print("customer status: %s" % customer.status)
        print("customer tags: %s" % ", ".join(customer.tags))


if __name__ == "__main__":
    try:
        main()
    except recurrent.RecurrentError as error:
        print("example: %s" % error, file=sys.stderr)
        sys.exit(1)
