"""The payments app's models, one module per workflow, re-exported here: the app label,
the migration history and every ``from payments.models import …`` stay as they were."""

from payments.models.disputes import Dispute, DisputeEvidence, DisputeShare
from payments.models.intake import EventOutcome, WebhookEvent
from payments.models.ledger import AppendOnlyQuerySet, LedgerEntry, SellerBalance
from payments.models.notes import DisputeNote, InternalNote, PayoutNote, RefundNote
from payments.models.payouts import Payout, PayoutMethod
from payments.models.refunds import Refund, RefundItem, RefundSyncBatch
from payments.models.sandbox import SandboxObject
from payments.models.transfers import SellerTransfer

__all__ = [
    "AppendOnlyQuerySet",
    "Dispute",
    "DisputeEvidence",
    "DisputeNote",
    "DisputeShare",
    "EventOutcome",
    "InternalNote",
    "LedgerEntry",
    "Payout",
    "PayoutMethod",
    "PayoutNote",
    "RefundNote",
    "Refund",
    "RefundItem",
    "RefundSyncBatch",
    "SandboxObject",
    "SellerBalance",
    "SellerTransfer",
    "WebhookEvent",
]
