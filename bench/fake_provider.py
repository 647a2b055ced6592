"""A small, fast stand-in for Hyperswitch's payment creation, for the benchmark's POST /orders.

    python -m bench.fake_provider --port 8763 [--api-key bench]

Threaded, in memory, answering ``POST /payments`` with the fields the project reads of
Hyperswitch's ``PaymentsCreateResponse`` (``payment_id`` shaped like Hyperswitch's, ``status``,
``client_secret``, amount and currency echoed), and 401 ``IR_01`` / 404 ``IR_02`` in
Hyperswitch's error envelope otherwise. Unlike tests/fakes/psp.py it checks no JSON schema on
the hot path: the load measures the project, not the fake. HTTP/1.1 keep-alive, so the
project's pooled httpx client reuses its connections as it would with the real provider.
"""

import argparse
import json
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MERCHANT_ID = "merchant_veza_bench"
UNAUTHORIZED = {
    "error": {
        "type": "invalid_request",
        "message": "API key not provided or invalid API key used",
        "code": "IR_01",
    }
}
UNKNOWN_URL = {
    "error": {"type": "invalid_request", "message": "Unrecognized request URL", "code": "IR_02"}
}


def payment_answer(body: dict) -> dict:
    """What Hyperswitch answers to an unconfirmed payment creation (the fields we read)."""
    payment_id = f"pay_{uuid.uuid4().hex[:26]}"
    return {
        "payment_id": payment_id,
        "merchant_id": MERCHANT_ID,
        "status": "requires_payment_method",
        "amount": body.get("amount"),
        "net_amount": body.get("amount"),
        "currency": body.get("currency"),
        "client_secret": f"{payment_id}_secret_{uuid.uuid4().hex[:20]}",
        "metadata": body.get("metadata"),
    }


def make_handler(api_key: str):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the provider's API

        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass  # one line per request would cost more than the answer

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("api-key") != api_key:
                return self._send(401, UNAUTHORIZED)
            if self.path.split("?", 1)[0] != "/payments":
                return self._send(404, UNKNOWN_URL)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return self._send(
                    400,
                    {
                        "error": {
                            "type": "invalid_request",
                            "message": "Json deserialize error",
                            "code": "IR_06",
                        }
                    },
                )
            return self._send(200, payment_answer(body))

        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path == "/health":
                return self._send(200, {"status": "ok"})
            return self._send(404, UNKNOWN_URL)

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the project's workers open their pools at once


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", default="bench")
    args = parser.parse_args()
    server = Server((args.host, args.port), make_handler(args.api_key))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
