"""Payment counters on /metrics. Order/refund/webhook *state* is read from the database at
scrape time (a collector), so it is right whatever the number of processes."""

import logging

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

logger = logging.getLogger(__name__)

orders_placed = Counter("veza_orders_placed_total", "Orders placed, by outcome.", ["outcome"])
webhook_signature_failures = Counter(
    "veza_webhook_signature_failures_total", "Webhook deliveries refused for their signature."
)
webhook_events = Counter(
    "veza_webhook_events_total",
    "Webhook deliveries handled, by kind and outcome.",
    ["kind", "outcome"],
)
refund_transitions = Counter(
    "veza_refund_transitions_total", "Refund state changes, by new status.", ["status"]
)
refund_reconciliations = Counter(
    "veza_refund_reconciliations_total",
    "Reconciliation of pending refunds, by outcome.",
    ["outcome"],
)


class DatabaseStateCollector:
    FAMILIES = ("veza_orders_by_status", "veza_refunds_by_status", "veza_webhook_events_stored")

    def describe(self):
        # Registration asks for the names only: no database access at import time.
        for name in self.FAMILIES:
            yield GaugeMetricFamily(name, name)

    def collect(self):
        from django.db.models import Count

        from marketplace.models import Order
        from payments.models import Refund, WebhookEvent

        families = [
            ("veza_orders_by_status", "Orders by status.", Order, "status"),
            ("veza_refunds_by_status", "Refunds by status.", Refund, "status"),
            (
                "veza_webhook_events_stored",
                "Stored webhook events by outcome.",
                WebhookEvent,
                "outcome",
            ),
        ]
        for name, doc, model, field in families:
            gauge = GaugeMetricFamily(name, doc, labels=[field])
            try:
                rows = model.objects.values(field).annotate(n=Count("pk")).order_by()
                for row in rows:
                    gauge.add_metric([row[field]], row["n"])
            except Exception:  # noqa: BLE001 - a scrape must not fail because the DB did
                logger.warning("metrics: could not read %s", name)
            yield gauge


def register() -> None:
    if any(isinstance(c, DatabaseStateCollector) for c in list(REGISTRY._collector_to_names)):
        return  # registered already (autoreload, repeated app loading)
    REGISTRY.register(DatabaseStateCollector())
