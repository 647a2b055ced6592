"""A fake Hyperswitch on a real local HTTP port: the only thing the tests fake.

It keeps payments, refunds and payouts in memory, deduplicates refunds on ``refund_id`` and
payouts on ``payout_id`` (400 ``HE_01`` on a repeat, as Hyperswitch does) and can be told to
misbehave per endpoint: refuse, fail with a 5xx, time out (before or after doing the work), or
answer garbage.

Every JSON request is checked against Hyperswitch's published request schema
(``tests/hyperswitch/openapi_subset.json``): an unknown field, a wrong type or enum or a missing
required field is answered 400 ``IR_06`` exactly as Hyperswitch's JSON deserialiser does, and is
recorded in ``violations`` — the ``psp`` fixture fails the test when that list is not empty.
Every answer the fake builds is checked against the published response schema before it is
sent; a mismatch is a bug of the fake and lands in ``response_errors`` (also failing the test).
Length and range notes (our ids are 36-character UUIDs where the generated schema says 30) are
kept in ``advisories`` and fail nothing. Error bodies are Hyperswitch's:
``{"error": {"type", "message", "code"}}`` with its codes (HE_01 duplicate, HE_02 not found,
IR_13 refund above the payment, IR_29 lapsed payout token...).
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.hyperswitch import spec

MERCHANT_ID = "merchant_veza_test"
PROFILE_ID = "pro_veza_test_profile"

# Hyperswitch's SubmitEvidenceRequest (api_models/src/disputes.rs). It is not part of the
# published v1 document at the vendored commit, so its field list lives here: every field is an
# optional string (a file id or a statement) except the required ``dispute_id``.
EVIDENCE_FIELDS = frozenset(
    {
        "dispute_id",
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "invoice_showing_distinct_transactions",
        "recurring_transaction_agreement",
        "uncategorized_file",
        "uncategorized_text",
    }
)


def error_body(code: str, message: str, error_type: str = "invalid_request") -> dict:
    """Hyperswitch's error envelope (``api_models::errors::types::ErrorResponse``)."""
    return {"error": {"type": error_type, "message": message, "code": code}}


UNAUTHORIZED = error_body("IR_01", "API key not provided or invalid API key used")
UNKNOWN_URL = error_body("IR_02", "Unrecognized request URL")
SERVER_ERROR = error_body("HE_00", "Something went wrong", "api")
REFUND_NOT_FOUND = error_body("HE_02", "Refund does not exist in our records")
PAYOUT_NOT_FOUND = error_body("HE_02", "Payout does not exist in our records")
DISPUTE_NOT_FOUND = error_body("HE_04", "Dispute does not exist in our records")
DUPLICATE_REFUND = error_body(
    "HE_01", "Duplicate refund request. Refund already attempted with the refund ID"
)
REFUND_ABOVE_PAYMENT = error_body("IR_13", "The refund amount exceeds the amount captured")
TOKEN_LAPSED = error_body("IR_29", "Token is invalid or expired")


def duplicate_payout(payout_id: str) -> dict:
    return error_body(
        "HE_01",
        f"The payout with the specified payout_id '{payout_id}' already exists in our records",
    )


@dataclass
class Call:
    method: str
    path: str
    headers: dict
    body: dict | None
    query: dict = field(default_factory=dict)  # ?a=1&b=2 → {"a": "1", "b": "2"}
    form: dict | None = None  # a multipart body's fields (files as bytes)

    @property
    def force_sync(self) -> bool | None:
        """The ``force_sync`` query parameter of a GET; None when absent."""
        value = self.query.get("force_sync")
        return None if value is None else value == "true"


@dataclass
class FakePSP:
    api_key: str = "test-psp-key"
    delay: float = 2.0  # longer than the tests' PSP_TIMEOUT: a "timeout"
    payment_mode: str = "ok"  # ok | refuse | error | timeout | malformed
    # ok | succeeded | refuse | error | error_after_create | timeout | timeout_after_create
    # | malformed
    refund_mode: str = "ok"
    get_mode: str = "ok"  # ok | error | timeout
    refund_status_on_get: str | None = None  # force the status GET answers
    # ok | refuse | error | timeout | timeout_after_create | token_expired (422 IR_29, nothing
    # is created)
    payout_mode: str = "ok"
    payout_status: str = "initiated"  # any PayoutStatus: a created payout's status
    payout_error_message: str | None = None  # carried by the payout answer when set
    payout_method_id: str | None = None  # carried by the payout answer when set
    payout_status_on_get: str | None = None  # force the status GET /payouts answers
    file_mode: str = "ok"  # ok | refuse | error  (POST /files)
    evidence_mode: str = "ok"  # ok | refuse | error  (POST /disputes/evidence)
    accept_mode: str = "ok"  # ok | refuse | error  (POST /disputes/accept/{id})
    payouts: dict = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    payments: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # file_id → {"purpose", "file_type", "file"}
    evidence: dict = field(default_factory=dict)  # dispute_id → the last evidence body
    accepted_disputes: list[str] = field(default_factory=list)
    disputes: dict = field(default_factory=dict)  # dispute_id → DisputeResponse (seed these)
    violations: list[str] = field(default_factory=list)  # requests Hyperswitch would reject
    response_errors: list[str] = field(default_factory=list)  # answers that break the schema
    advisories: list[str] = field(default_factory=list)  # length/range notes, not failures
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def calls_to(self, method: str, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    def settle_payout(self, payout_id: str, status: str) -> None:
        with self.lock:
            self.payouts[payout_id]["status"] = status

    def settle_refund(self, refund_id: str, status: str) -> None:
        with self.lock:
            self.refunds[refund_id]["status"] = status

    def add_dispute(self, dispute: dict) -> None:
        """Make a dispute known (as Hyperswitch would after a connector reported it)."""
        with self.lock:
            self.disputes[dispute["dispute_id"]] = dispute


def payment_id() -> str:
    """A payment id shaped like Hyperswitch's: ``pay_`` and 26 characters (30 in all)."""
    return f"pay_{uuid.uuid4().hex[:26]}"


def _multipart(content_type: str, raw: bytes) -> dict:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw
    )
    form = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            form[name] = payload if part.get_filename() else payload.decode(errors="replace")
    return form


def _handler(psp: FakePSP):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _raw(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body, raw: bytes | None = None, schema: str | None = None):
            if raw is None:
                self._check_answer(status, body, schema)
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _check_answer(self, status: int, body, schema: str | None) -> None:
            where = f"{self.command} {self.path} → {status}"
            if status >= 400:
                error = body.get("error") if isinstance(body, dict) else None
                if not (
                    isinstance(error, dict)
                    and set(error) == {"type", "message", "code"}
                    and all(isinstance(v, str) for v in error.values())
                ):
                    psp.response_errors.append(f"{where}: not Hyperswitch's error body: {body}")
                return
            if schema is None:
                return
            for problem in spec.problems(schema, body):
                psp.response_errors.append(f"{where}: {schema}: {problem}")
            psp.advisories.extend(f"{where}: {schema}: {a}" for a in spec.advisories(schema, body))

        def _record(self, body, form=None) -> Call:
            parts = urlsplit(self.path)
            query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            call = Call(self.command, self.path, dict(self.headers), body, query, form)
            with psp.lock:
                psp.calls.append(call)
            return call

        def _invalid(self, schema: str, body) -> bool:
            """Answer 400 IR_06 (and record it) when the body breaks ``schema``; else False."""
            if not isinstance(body, dict):
                found = ["<body>: not a JSON object"]
            else:
                found = spec.problems(schema, body, request=True)
                psp.advisories.extend(
                    f"{self.command} {self.path}: {schema}: {a}"
                    for a in spec.advisories(schema, body)
                )
            if not found:
                return False
            psp.violations.extend(f"{self.command} {self.path}: {schema}: {p}" for p in found)
            unknown = spec.unknown_fields(schema, body) if isinstance(body, dict) else []
            if unknown:
                message = f"Json deserialize error: unknown field `{unknown[0]}`"
            else:
                message = f"Json deserialize error: {found[0]}"
            self._send(400, error_body("IR_06", message))
            return True

        def do_POST(self):
            raw = self._raw()
            path = urlsplit(self.path).path
            content_type = self.headers.get("Content-Type") or ""
            if content_type.startswith("multipart/form-data"):
                form = _multipart(content_type, raw)
                self._record(None, form)
                if self.headers.get("api-key") != psp.api_key:
                    return self._send(401, UNAUTHORIZED)
                if path == "/files":
                    return self._create_file(form)
                return self._send(404, UNKNOWN_URL)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self._record(body)
            if self.headers.get("api-key") != psp.api_key:
                return self._send(401, UNAUTHORIZED)
            if path == "/payments":
                return self._payments(body)
            if path == "/refunds":
                return self._create_refund(body)
            if path == "/payouts/create":
                return self._create_payout(body)
            if path == "/disputes/evidence":
                return self._submit_evidence(body)
            if path.startswith("/disputes/accept/"):
                return self._accept_dispute(path.removeprefix("/disputes/accept/"), body)
            if path == "/files":  # a file upload that is not multipart
                psp.violations.append(f"POST /files: not multipart/form-data ({content_type})")
                return self._send(400, error_body("IR_04", "Missing required param: file"))
            return self._send(404, UNKNOWN_URL)

        def do_GET(self):
            self._record(None)
            if self.headers.get("api-key") != psp.api_key:
                return self._send(401, UNAUTHORIZED)
            path = urlsplit(self.path).path
            if path.startswith("/payouts/"):
                return self._get_payout(path.removeprefix("/payouts/"))
            if not path.startswith("/refunds/"):
                return self._send(404, UNKNOWN_URL)
            refund_id = path.removeprefix("/refunds/")
            if psp.get_mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, SERVER_ERROR)
            if psp.get_mode == "error":
                return self._send(500, SERVER_ERROR)
            with psp.lock:
                refund = psp.refunds.get(refund_id)
            if refund is None:
                return self._send(404, REFUND_NOT_FOUND)
            if psp.refund_status_on_get:
                refund = {**refund, "status": psp.refund_status_on_get}
            return self._send(200, refund, schema="RefundResponse")

        def _get_payout(self, payout_id):
            if psp.get_mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, SERVER_ERROR)
            if psp.get_mode == "error":
                return self._send(500, SERVER_ERROR)
            with psp.lock:
                payout = psp.payouts.get(payout_id)
            if payout is None:
                return self._send(404, PAYOUT_NOT_FOUND)
            if psp.payout_status_on_get:
                payout = {**payout, "status": psp.payout_status_on_get}
            return self._send(200, payout, schema="PayoutCreateResponse")

        def _create_payout(self, body):
            if self._invalid("PayoutsCreateRequest", body):
                return None
            mode = psp.payout_mode
            if mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, SERVER_ERROR)
            if mode == "refuse":
                # A definite refusal before anything is created (Hyperswitch's generic
                # invalid-request code with the reason as its message).
                return self._send(400, error_body("IR_06", "Invalid payout method"))
            if mode == "token_expired":
                return self._send(422, TOKEN_LAPSED)
            if mode == "error":
                return self._send(500, SERVER_ERROR)
            payout_id = body.get("payout_id") or f"payout_{uuid.uuid4().hex[:23]}"
            with psp.lock:
                duplicate = payout_id in psp.payouts
                if not duplicate:
                    payout = {
                        "payout_id": payout_id,
                        "merchant_id": MERCHANT_ID,
                        "amount": body["amount"],
                        "currency": body["currency"],
                        "connector": "adyenplatform",
                        "payout_type": body.get("payout_type"),
                        "auto_fulfill": bool(body.get("auto_fulfill")),
                        "customer_id": body.get("customer_id") or "cus_veza_generated",
                        "client_secret": f"{payout_id}_secret_{uuid.uuid4().hex[:20]}",
                        "return_url": "https://veza.example/payouts/return",
                        "business_country": "FR",
                        "description": body.get("description"),
                        "entity_type": "Individual",
                        "recurring": False,
                        "metadata": body.get("metadata"),
                        "status": psp.payout_status,
                        "error_message": psp.payout_error_message,
                        "profile_id": PROFILE_ID,
                        "created": "2025-01-06T06:00:00.000Z",
                        "payout_method_id": psp.payout_method_id,
                    }
                    psp.payouts[payout_id] = payout
                payout = psp.payouts[payout_id]
            if duplicate:
                return self._send(400, duplicate_payout(payout_id))
            if mode == "timeout_after_create":
                time.sleep(psp.delay)
            return self._send(200, payout, schema="PayoutCreateResponse")

        def _payments(self, body):
            if self._invalid("PaymentsCreateRequest", body):
                return None
            mode = psp.payment_mode
            if mode == "timeout":
                time.sleep(psp.delay)
            if mode == "refuse":
                return self._send(400, error_body("IR_28", "Currency not supported"))
            if mode == "error":
                return self._send(500, SERVER_ERROR)
            if mode == "malformed":
                return self._send(200, None, raw=b"<html>oops</html>")
            new_id = payment_id()
            with psp.lock:
                psp.payments[new_id] = body
            return self._send(
                200,
                {
                    "payment_id": new_id,
                    "merchant_id": MERCHANT_ID,
                    "status": "requires_payment_method",
                    "amount": body["amount"],
                    "net_amount": body["amount"],
                    "amount_capturable": body["amount"],
                    "processor_merchant_id": MERCHANT_ID,
                    "client_secret": f"{new_id}_secret_x",
                    "currency": body["currency"],
                    "payment_method": None,
                    "attempt_count": 1,
                    "metadata": body.get("metadata"),
                    "profile_id": PROFILE_ID,
                },
                schema="PaymentsCreateResponseOpenApi",
            )

        def _create_refund(self, body):
            if self._invalid("RefundRequest", body):
                return None
            mode = psp.refund_mode
            refund_id = body.get("refund_id") or f"ref_{uuid.uuid4().hex[:26]}"
            if mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, SERVER_ERROR)
            if mode == "refuse":
                return self._send(400, REFUND_ABOVE_PAYMENT)
            if mode == "error":
                return self._send(500, SERVER_ERROR)
            if mode == "malformed":
                return self._send(200, None, raw=b"not json at all")
            with psp.lock:
                # As Hyperswitch validates: the amount against what the payment captured and
                # its other refunds first, then the refund id. So a retried *full* refund (its
                # first attempt already took everything) is 400 IR_13, not HE_01.
                payment = psp.payments.get(body["payment_id"])
                if payment is not None:
                    taken = sum(
                        r.get("amount") or 0
                        for r in psp.refunds.values()
                        if r["payment_id"] == body["payment_id"] and r["status"] != "failed"
                    )
                    asked = body.get("amount") or payment["amount"]
                    if taken + asked > payment["amount"]:
                        return self._send(400, REFUND_ABOVE_PAYMENT)
                if refund_id in psp.refunds:
                    duplicate = True
                else:
                    duplicate = False
                    psp.refunds[refund_id] = {
                        "refund_id": refund_id,
                        "payment_id": body["payment_id"],
                        "amount": body.get("amount"),
                        "currency": "EUR",
                        "status": "succeeded" if mode == "succeeded" else "pending",
                        "reason": body.get("reason"),
                        "metadata": body.get("metadata"),
                        "connector": "stripe",
                        "profile_id": PROFILE_ID,
                        "created_at": "2025-01-06T10:00:00.000Z",
                        "updated_at": "2025-01-06T10:00:00.000Z",
                    }
                refund = psp.refunds[refund_id]
            if duplicate:
                return self._send(400, DUPLICATE_REFUND)
            if mode == "timeout_after_create":
                time.sleep(psp.delay)
            if mode == "error_after_create":
                return self._send(502, SERVER_ERROR)
            return self._send(200, refund, schema="RefundResponse")

        def _create_file(self, form: dict):
            problems = []
            if form.get("purpose") != "dispute_evidence":
                problems.append(f"purpose must be 'dispute_evidence', got {form.get('purpose')!r}")
            if not isinstance(form.get("file"), bytes) or not form["file"]:
                problems.append("a non-empty `file` part is required")
            if not form.get("file_type"):
                problems.append("`file_type` is required")
            if problems:
                psp.violations.extend(f"POST /files: {p}" for p in problems)
                return self._send(
                    400, error_body("IR_04", f"Missing required param: {problems[0]}")
                )
            if psp.file_mode == "refuse":
                return self._send(400, error_body("HE_03", "File validation failed"))
            if psp.file_mode == "error":
                return self._send(500, SERVER_ERROR)
            file_id = f"file_{uuid.uuid4().hex[:20]}"
            with psp.lock:
                psp.files[file_id] = dict(form)
            return self._send(200, {"file_id": file_id})

        def _submit_evidence(self, body):
            problems = []
            if not isinstance(body, dict):
                problems.append("<body>: not a JSON object")
            else:
                problems += [f"{k}: unknown field" for k in sorted(set(body) - EVIDENCE_FIELDS)]
                if not isinstance(body.get("dispute_id"), str):
                    problems.append("dispute_id: missing or not a string")
                problems += [
                    f"{k}: must be a string or null"
                    for k, v in body.items()
                    if v is not None and not isinstance(v, str)
                ]
            if problems:
                psp.violations.extend(f"POST /disputes/evidence: {p}" for p in problems)
                return self._send(
                    400, error_body("IR_06", f"Json deserialize error: {problems[0]}")
                )
            if psp.evidence_mode == "refuse":
                return self._send(400, error_body("HE_03", "Dispute status validation failed"))
            if psp.evidence_mode == "error":
                return self._send(500, SERVER_ERROR)
            with psp.lock:
                psp.evidence[body["dispute_id"]] = body
                dispute = psp.disputes.get(body["dispute_id"])
            if dispute is None:
                # Hyperswitch answers its SubmitEvidenceResponse; the fake echoes what it kept.
                return self._send(200, {"dispute_id": body["dispute_id"]})
            challenged = {**dispute, "dispute_status": "dispute_challenged"}
            return self._send(200, challenged, schema="DisputeResponse")

        def _accept_dispute(self, dispute_id: str, body):
            if body not in (None, {}):
                psp.violations.append(f"POST /disputes/accept/{dispute_id}: takes no body")
                return self._send(400, error_body("IR_06", "Json deserialize error: no body"))
            if psp.accept_mode == "refuse":
                return self._send(400, error_body("HE_03", "Dispute status validation failed"))
            if psp.accept_mode == "error":
                return self._send(500, SERVER_ERROR)
            with psp.lock:
                psp.accepted_disputes.append(dispute_id)
                dispute = psp.disputes.get(dispute_id)
                if dispute is not None:
                    dispute = psp.disputes[dispute_id] = {
                        **dispute,
                        "dispute_status": "dispute_accepted",
                    }
            if dispute is None:
                return self._send(404, DISPUTE_NOT_FOUND)
            return self._send(200, dispute, schema="DisputeResponse")

    return Handler


class RunningPSP:
    def __init__(self):
        self.psp = FakePSP()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.psp))
        self.server.daemon_threads = True
        self.psp.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePSP:
        self.thread.start()
        return self.psp

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
