"""The Hyperswitch HTTP client, exactly as the contract's outbound section describes."""

import logging
import threading

import httpx

from payments.providers.base import (
    PaymentProvider,
    PaymentResult,
    PayoutResult,
    ProviderError,
    RefundResult,
    payout_status,
    refund_status,
)

logger = logging.getLogger(__name__)

_clients: dict[tuple, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(base_url: str, api_key: str, timeout: float) -> httpx.Client:
    """One pooled client per configuration, shared by the threads of a process."""
    key = (base_url, api_key, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = httpx.Client(
                base_url=base_url,
                timeout=httpx.Timeout(timeout),
                headers={"api-key": api_key, "Accept": "application/json"},
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            )
            _clients[key] = client
        return client


def _error_code(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    code = error.get("code") if isinstance(error, dict) else None
    return code[:16] if isinstance(code, str) else ""


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or f"HTTP {response.status_code}")[:500]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:500]
        for key in ("error_message", "message", "detail"):
            if body.get(key):
                return str(body[key])[:500]
    return f"HTTP {response.status_code}"


class HyperswitchProvider(PaymentProvider):
    def __init__(self, *, base_url: str, api_key: str, timeout: float):
        self.http = _client(base_url, api_key, timeout)

    def _call(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ProviderError(
                f"The payment provider did not answer in time ({type(exc).__name__}).",
                outcome_unknown=True,
            ) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"The payment provider could not be reached ({type(exc).__name__}).",
                outcome_unknown=True,
            ) from exc
        if response.status_code >= 500:
            raise ProviderError(
                _error_message(response), status_code=response.status_code, outcome_unknown=True
            )
        if response.status_code >= 400:
            raise ProviderError(
                _error_message(response),
                status_code=response.status_code,
                not_found=response.status_code == 404,
                code=_error_code(response),
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                "The payment provider sent a malformed answer.",
                status_code=response.status_code,
                outcome_unknown=True,
            ) from exc
        if not isinstance(body, dict):
            raise ProviderError(
                "The payment provider sent a malformed answer.",
                status_code=response.status_code,
                outcome_unknown=True,
            )
        return body

    def create_payment(self, *, amount: int, currency: str, order_id: str) -> PaymentResult:
        body = self._call(
            "POST",
            "/payments",
            json={
                "amount": amount,
                "currency": currency,
                "confirm": False,
                "metadata": {"order_id": order_id},
            },
        )
        payment_id, status = body.get("payment_id"), body.get("status")
        if not isinstance(payment_id, str) or not payment_id:
            raise ProviderError(
                "The payment provider's answer has no payment_id.", outcome_unknown=True
            )
        return PaymentResult(
            payment_id=payment_id,
            status=str(status or ""),
            client_secret=str(body.get("client_secret") or ""),
        )

    def create_refund(
        self, *, payment_id: str, refund_id: str, amount: int, reason: str, order_id: str
    ) -> RefundResult:
        # The provider rejects unknown fields: exactly these, nothing more.
        body = self._call(
            "POST",
            "/refunds",
            json={
                "payment_id": payment_id,
                "refund_id": refund_id,
                "amount": amount,
                "reason": reason,
                "metadata": {"order_id": order_id},
            },
        )
        return _refund_result(body)

    def get_refund(self, refund_id: str) -> RefundResult:
        body = self._call("GET", f"/refunds/{refund_id}", params={"force_sync": "true"})
        return _refund_result(body)

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
        # The provider rejects unknown fields: exactly the contract's body, nothing more. The
        # saved method replaces the widget's token, which lapses.
        method = (
            {"payout_method_id": payout_method_id}
            if payout_method_id
            else {"payout_token": payout_token}
        )
        body = self._call(
            "POST",
            "/payouts/create",
            json={
                "payout_id": payout_id,
                "amount": amount,
                "currency": currency,
                "customer_id": seller_id,
                "payout_type": payout_type,
                **method,
                "confirm": True,
                "auto_fulfill": True,
                "description": f"Veza payout {payout_id}",
                "metadata": {"seller_id": seller_id},
            },
        )
        return _payout_result(body)

    def get_payout(self, payout_id: str) -> PayoutResult:
        # force_sync: the connector's status, not the one Hyperswitch last stored.
        body = self._call("GET", f"/payouts/{payout_id}", params={"force_sync": "true"})
        return _payout_result(body)

    def upload_file(self, *, content: bytes, filename: str, file_type: str) -> str:
        body = self._call(
            "POST",
            "/files",
            data={"purpose": "dispute_evidence", "file_type": file_type},
            files={"file": (filename, content, file_type)},
        )
        file_id = body.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise ProviderError(
                "The payment provider's file answer has no file_id.", outcome_unknown=True
            )
        return file_id

    def submit_evidence(
        self, *, dispute_id: str, receipt_file_id: str, service_documentation_file_id: str
    ) -> None:
        # Hyperswitch's SubmitEvidenceRequest: the dispute and file ids per category, no more.
        self._call(
            "POST",
            "/disputes/evidence",
            json={
                "dispute_id": dispute_id,
                "receipt": receipt_file_id,
                "service_documentation": service_documentation_file_id,
            },
        )

    def accept_dispute(self, *, dispute_id: str) -> None:
        self._call("POST", f"/disputes/accept/{dispute_id}")


def _payout_result(body: dict) -> PayoutResult:
    payout_id, status = body.get("payout_id"), body.get("status")
    if not isinstance(payout_id, str) or not payout_id or not isinstance(status, str):
        raise ProviderError(
            "The payment provider's payout answer is malformed.", outcome_unknown=True
        )
    amount = body.get("amount")
    method_id = body.get("payout_method_id")
    return PayoutResult(
        payout_id=payout_id,
        status=payout_status(status),
        amount=amount if isinstance(amount, int) else None,
        currency=body.get("currency"),
        error_message=body.get("error_message"),
        provider_status=status.strip().lower()[:40],
        payout_method_id=method_id[:128] if isinstance(method_id, str) and method_id else None,
    )


def _refund_result(body: dict) -> RefundResult:
    refund_id, status = body.get("refund_id"), body.get("status")
    if not isinstance(refund_id, str) or not refund_id or not isinstance(status, str):
        raise ProviderError(
            "The payment provider's refund answer is malformed.", outcome_unknown=True
        )
    amount = body.get("amount")
    return RefundResult(
        refund_id=refund_id,
        payment_id=str(body.get("payment_id") or ""),
        status=refund_status(status),
        amount=amount if isinstance(amount, int) else None,
        currency=body.get("currency"),
        error_message=body.get("error_message"),
    )
