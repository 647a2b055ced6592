"""A local stand-in for Hyperswitch, for laptops and demos (refused in production).

It answers at once and then settles what it was asked — payment succeeded, refund
succeeded — by sending *signed* webhook events through the very same inbound code path,
from a Celery task, once Veza has recorded the provider id (``on_recorded``).
"""

import hashlib
import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import Dispute, SandboxObject
from payments.providers.base import (
    PaymentProvider,
    PaymentResult,
    PayoutResult,
    ProviderError,
    RefundResult,
    payout_status,
    refund_status,
)
from veza.tasks import enqueue_on_commit

DELIVER_TASK = "payments.tasks.deliver_sandbox_webhook"
Kind = SandboxObject.Kind


def _get(kind: str, ident: str) -> dict | None:
    row = SandboxObject.objects.filter(kind=kind, provider_id=ident).first()
    return row.data if row else None


def _create(kind: str, ident: str, data: dict) -> bool:
    """Store what the sandbox was asked; False when it holds that id already (a retry)."""
    try:
        with transaction.atomic():
            SandboxObject.objects.create(kind=kind, provider_id=ident, data=data)
    except IntegrityError:
        return False
    return True


def _update(kind: str, ident: str, **changes) -> dict | None:
    with transaction.atomic():
        row = SandboxObject.objects.select_for_update().filter(kind=kind, provider_id=ident).first()
        if row is None:
            return None
        row.data = {**row.data, **changes}
        row.save(update_fields=["data", "updated_at"])
        return row.data


class SandboxProvider(PaymentProvider):
    def create_payment(self, *, amount: int, currency: str, order_id: str) -> PaymentResult:
        payment_id = f"pay_sbx_{uuid.uuid4().hex}"
        _create(
            Kind.PAYMENT,
            payment_id,
            {"amount": amount, "currency": currency, "order_id": order_id},
        )
        return PaymentResult(
            payment_id=payment_id,
            status="requires_payment_method",
            client_secret=f"{payment_id}_secret_{uuid.uuid4().hex[:12]}",
        )

    def create_refund(
        self, *, payment_id: str, refund_id: str, amount: int, reason: str, order_id: str
    ) -> RefundResult:
        result = {
            "refund_id": refund_id,
            "payment_id": payment_id,
            "amount": amount,
            "status": "pending",
        }
        if not _create(Kind.REFUND, refund_id, result):
            raise ProviderError("Duplicate refund request.", status_code=400)
        return RefundResult(
            refund_id=refund_id,
            payment_id=payment_id,
            status=refund_status("pending"),
            amount=amount,
        )

    def get_refund(self, refund_id: str) -> RefundResult:
        data = _get(Kind.REFUND, refund_id)
        if data is None:
            raise ProviderError("Refund not found.", status_code=404, not_found=True)
        return RefundResult(
            refund_id=data["refund_id"],
            payment_id=data["payment_id"],
            status=refund_status(data["status"]),
            amount=data["amount"],
        )

    def create_payout(
        self,
        *,
        payout_id: str,
        amount: int,
        currency: str,
        seller_id: str,
        payout_type: str,
        payout_token: str,
        payout_method_id: str | None = None,
    ) -> PayoutResult:
        # As Hyperswitch: a widget token starting with expired_ has lapsed (422 IR_29, nothing
        # created); once used, the method is saved and its id returned for later payouts.
        if not payout_method_id and payout_token.startswith("expired_"):
            raise ProviderError("Token is invalid or expired", status_code=422, code="IR_29")
        method_id = payout_method_id or (
            f"pm_sbx_{hashlib.sha256(f'{seller_id}:{payout_token}'.encode()).hexdigest()[:24]}"
        )
        data = {
            "payout_id": payout_id,
            "amount": amount,
            "currency": currency,
            "status": "initiated",
            "payout_method_id": method_id,
            # A token starting with fail_ makes the demo show a failed payout.
            "outcome": "failed" if payout_token.startswith("fail_") else "success",
        }
        if not _create(Kind.PAYOUT, payout_id, data):
            raise ProviderError("Duplicate payout request.", status_code=400)
        return self.get_payout(payout_id)

    def get_payout(self, payout_id: str) -> PayoutResult:
        data = _get(Kind.PAYOUT, payout_id)
        if data is None:
            raise ProviderError("Payout not found.", status_code=404, not_found=True)
        return PayoutResult(
            payout_id=data["payout_id"],
            status=payout_status(data["status"]),
            amount=data["amount"],
            currency=data["currency"],
            error_message=data.get("error_message"),
            provider_status=data["status"],
            payout_method_id=data.get("payout_method_id"),
        )

    def on_recorded(
        self,
        *,
        payment_id: str | None = None,
        refund_id: str | None = None,
        payout_id: str | None = None,
    ) -> None:
        if payout_id:
            data = _get(Kind.PAYOUT, payout_id)
            if data is None:
                return
            status = data["outcome"]
            error = "The sandbox refused this payout token." if status == "failed" else None
            _update(Kind.PAYOUT, payout_id, status=status, error_message=error)
            event = {
                "event_type": f"payout_{status}",
                "payout_id": payout_id,
                "status": status,
                "amount": data["amount"],
                "currency": data["currency"],
                **({"error_message": error} if error else {}),
            }
        elif payment_id:
            event = {
                "event_type": "payment_succeeded",
                "payment_id": payment_id,
                "status": "succeeded",
            }
        elif refund_id:
            _update(Kind.REFUND, refund_id, status="succeeded")
            event = {
                "event_type": "refund_succeeded",
                "refund_id": refund_id,
                "status": "succeeded",
            }
        else:
            return
        envelope = {
            "merchant_id": "veza_sandbox",
            "event_id": f"evt_sbx_{uuid.uuid4().hex}",
            "event_type": event["event_type"],
            "content": {
                "type": "payout_details"
                if payout_id
                else ("refund_details" if refund_id else "payment_details"),
                "object": event,
            },
        }
        # By name: the task module imports the inbound path, which imports the providers.
        enqueue_on_commit(DELIVER_TASK, envelope=envelope)

    def raise_dispute(
        self, *, payment_id: str, amount: int, currency: str, outcome: str | None = None
    ) -> str:
        """The buyer's bank disputes a payment: ``dispute_opened`` now, then — when
        ``outcome`` is given (won, lost, accepted, cancelled, expired) — the decision, each a
        signed webhook through the real inbound path. Returns the provider's dispute id."""
        dispute_id = f"dp_sbx_{uuid.uuid4().hex}"
        for event in ["opened", *([outcome] if outcome else [])]:
            self.settle_dispute(
                dispute_id=dispute_id,
                payment_id=payment_id,
                amount=amount,
                currency=currency,
                outcome=event,
            )
        return dispute_id

    def settle_dispute(
        self, *, dispute_id: str, payment_id: str, amount: int, currency: str, outcome: str
    ) -> None:
        now = timezone.now()
        envelope = {
            "merchant_id": "veza_sandbox",
            "event_id": f"evt_sbx_{uuid.uuid4().hex}",
            "event_type": f"dispute_{outcome}",
            "content": {
                "type": "dispute_details",
                "object": {
                    "dispute_id": dispute_id,
                    "payment_id": payment_id,
                    "amount": str(amount),
                    "currency": currency,
                    "dispute_stage": "dispute",
                    "dispute_status": f"dispute_{outcome}",
                    "connector_reason": "sandbox: fraudulent",
                    "challenge_required_by": (now + timedelta(days=7)).isoformat(),
                    "created_at": now.isoformat(),
                },
            },
        }
        enqueue_on_commit(DELIVER_TASK, envelope=envelope)

    def upload_file(self, *, content: bytes, filename: str, file_type: str) -> str:
        file_id = f"file_sbx_{uuid.uuid4().hex}"
        # What was uploaded, not the bytes: the sandbox only has to answer for it.
        _create(
            Kind.FILE,
            file_id,
            {
                "filename": filename,
                "file_type": file_type,
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
        return file_id

    def submit_evidence(
        self, *, dispute_id: str, receipt_file_id: str, service_documentation_file_id: str
    ) -> None:
        missing = [
            ident
            for ident in (receipt_file_id, service_documentation_file_id)
            if _get(Kind.FILE, ident) is None
        ]
        if missing:
            raise ProviderError(f"Unknown file id {missing[0]}.", status_code=400)
        evidence = {
            "dispute_id": dispute_id,
            "receipt": receipt_file_id,
            "service_documentation": service_documentation_file_id,
        }
        # A repeat replaces the evidence, as Hyperswitch's does.
        if not _create(Kind.EVIDENCE, dispute_id, evidence):
            _update(Kind.EVIDENCE, dispute_id, **evidence)

    def accept_dispute(self, *, dispute_id: str) -> None:
        """Concede: then, like Hyperswitch, report the dispute ``dispute_accepted``."""
        dispute = (
            Dispute.objects.select_related("order").filter(provider_dispute_id=dispute_id).first()
        )
        if dispute is None or not dispute.order.hyperswitch_payment_id:
            raise ProviderError("Dispute not found.", status_code=404, not_found=True)
        if not _create(Kind.DISPUTE, dispute_id, {"status": "accepted"}):
            _update(Kind.DISPUTE, dispute_id, status="accepted")
        self.settle_dispute(
            dispute_id=dispute_id,
            payment_id=dispute.order.hyperswitch_payment_id,
            amount=dispute.amount,
            currency=dispute.currency,
            outcome="accepted",
        )
