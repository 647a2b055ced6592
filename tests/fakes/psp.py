"""A fake Hyperswitch on a real local HTTP port: the only thing the tests fake.

It keeps payments and refunds in memory, deduplicates refunds on ``refund_id`` (400 on a
repeat, as Hyperswitch does) and can be told to misbehave per endpoint: refuse, fail with a
5xx, time out (before or after doing the work), or answer garbage.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Call:
    method: str
    path: str
    headers: dict
    body: dict | None


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
    # ok | refuse | error | timeout | timeout_after_create
    payout_mode: str = "ok"
    payout_status: str = "initiated"  # what a created payout's status is
    payouts: dict = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    payments: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
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


def _handler(psp: FakePSP):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _read(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                return None

        def _send(self, status: int, body, raw: bytes | None = None):
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _record(self, body):
            with psp.lock:
                psp.calls.append(Call(self.command, self.path, dict(self.headers), body))

        def do_POST(self):
            body = self._read()
            self._record(body)
            if self.headers.get("api-key") != psp.api_key:
                return self._send(401, {"error": {"message": "API key not provided or invalid"}})
            if self.path == "/payments":
                return self._payments(body)
            if self.path == "/refunds":
                return self._create_refund(body)
            if self.path == "/payouts/create":
                return self._create_payout(body)
            return self._send(404, {"error": {"message": "Unrecognized request URL"}})

        def do_GET(self):
            self._record(None)
            if self.headers.get("api-key") != psp.api_key:
                return self._send(401, {"error": {"message": "API key not provided or invalid"}})
            if self.path.startswith("/payouts/"):
                return self._get_payout(self.path.split("/payouts/", 1)[1].split("?", 1)[0])
            if not self.path.startswith("/refunds/"):
                return self._send(404, {"error": {"message": "Unrecognized request URL"}})
            refund_id = self.path.split("/refunds/", 1)[1].split("?", 1)[0]
            if psp.get_mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, {"error": {"message": "late"}})
            if psp.get_mode == "error":
                return self._send(500, {"error": {"message": "Internal server error"}})
            with psp.lock:
                refund = psp.refunds.get(refund_id)
            if refund is None:
                return self._send(
                    404, {"error": {"message": "Refund does not exist in our records"}}
                )
            if psp.refund_status_on_get:
                refund = {**refund, "status": psp.refund_status_on_get}
            return self._send(200, refund)

        def _get_payout(self, payout_id):
            if psp.get_mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, {"error": {"message": "late"}})
            if psp.get_mode == "error":
                return self._send(500, {"error": {"message": "Internal server error"}})
            with psp.lock:
                payout = psp.payouts.get(payout_id)
            if payout is None:
                return self._send(404, {"error": {"message": "Payout does not exist"}})
            return self._send(200, payout)

        def _create_payout(self, body):
            mode = psp.payout_mode
            if mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, {"error": {"message": "late"}})
            if mode == "refuse":
                return self._send(400, {"error": {"message": "Invalid payout method"}})
            if mode == "error":
                return self._send(500, {"error": {"message": "Internal server error"}})
            payout_id = body.get("payout_id")
            with psp.lock:
                duplicate = payout_id in psp.payouts
                if not duplicate:
                    psp.payouts[payout_id] = {
                        "payout_id": payout_id,
                        "amount": body.get("amount"),
                        "currency": body.get("currency"),
                        "status": psp.payout_status,
                        "customer_id": body.get("customer_id"),
                    }
                payout = psp.payouts[payout_id]
            if duplicate:
                return self._send(400, {"error": {"message": "Payout already exists"}})
            if mode == "timeout_after_create":
                time.sleep(psp.delay)
            return self._send(200, payout)

        def _payments(self, body):
            mode = psp.payment_mode
            if mode == "timeout":
                time.sleep(psp.delay)
            if mode == "refuse":
                return self._send(400, {"error": {"message": "Currency not supported"}})
            if mode == "error":
                return self._send(500, {"error": {"message": "Something went wrong"}})
            if mode == "malformed":
                return self._send(200, None, raw=b"<html>oops</html>")
            payment_id = f"pay_{uuid.uuid4().hex[:20]}"
            with psp.lock:
                psp.payments[payment_id] = body
            return self._send(
                200,
                {
                    "payment_id": payment_id,
                    "status": "requires_payment_method",
                    "client_secret": f"{payment_id}_secret_x",
                    "amount": body["amount"],
                    "currency": body["currency"],
                },
            )

        def _create_refund(self, body):
            mode = psp.refund_mode
            refund_id = body.get("refund_id")
            if mode == "timeout":
                time.sleep(psp.delay)
                return self._send(504, {"error": {"message": "late"}})
            if mode == "refuse":
                return self._send(
                    400, {"error": {"message": "Refund amount exceeds the payment amount"}}
                )
            if mode == "error":
                return self._send(500, {"error": {"message": "Internal server error"}})
            if mode == "malformed":
                return self._send(200, None, raw=b"not json at all")
            with psp.lock:
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
                        "metadata": body.get("metadata"),
                    }
                refund = psp.refunds[refund_id]
            if duplicate:
                return self._send(
                    400,
                    {"error": {"message": "Duplicate refund request. Refund already attempted"}},
                )
            if mode == "timeout_after_create":
                time.sleep(psp.delay)
            if mode == "error_after_create":
                return self._send(502, {"error": {"message": "Bad gateway"}})
            return self._send(200, refund)

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
