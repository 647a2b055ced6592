"""A stand-in for the EU's VIES REST API on a local port: ``POST /check-vat-number``.

Answers as the real service does (``{"countryCode", "vatNumber", "requestDate", "valid",
"name", "address", ...}``); ``mode`` makes it say invalid, report a member state down
(``valid: false`` with ``userError: MS_UNAVAILABLE``), fail with a 500 or hang past the
client's timeout.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeVies:
    def __init__(self):
        self.mode = "valid"  # valid | invalid | ms_unavailable | error | timeout
        self.calls: list[dict] = []
        self.url = ""


def _handler(vies: FakeVies):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            vies.calls.append({"path": self.path, "body": body})
            if self.path != "/check-vat-number":
                return self._send(404, {"errorWrappers": [{"error": "NOT_FOUND"}]})
            if vies.mode == "timeout":
                time.sleep(1.5)
                return self._send(200, {"valid": True})
            if vies.mode == "error":
                return self._send(500, {"actionSucceed": False, "errorWrappers": []})
            answer = {
                "countryCode": body.get("countryCode"),
                "vatNumber": body.get("vatNumber"),
                "requestDate": "2026-12-02T10:00:00.000Z",
                "valid": vies.mode == "valid",
                "requestIdentifier": "",
                "name": "Example GmbH" if vies.mode == "valid" else "---",
                "address": "Musterstr. 1, Berlin" if vies.mode == "valid" else "---",
                "traderName": "---",
                "traderStreet": "---",
                "traderPostalCode": "---",
                "traderCity": "---",
                "traderCompanyType": "---",
                "traderNameMatch": "NOT_PROCESSED",
                "traderStreetMatch": "NOT_PROCESSED",
                "traderPostalCodeMatch": "NOT_PROCESSED",
                "traderCityMatch": "NOT_PROCESSED",
                "traderCompanyTypeMatch": "NOT_PROCESSED",
            }
            if vies.mode == "ms_unavailable":
                answer["userError"] = "MS_UNAVAILABLE"
            elif vies.mode == "invalid":
                answer["userError"] = "INVALID"
            else:
                answer["userError"] = "VALID"
            return self._send(200, answer)

        def _send(self, status: int, body: dict):
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            try:
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class RunningVies:
    def __init__(self):
        self.vies = FakeVies()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.vies))
        self.server.daemon_threads = True
        self.vies.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeVies:
        self.thread.start()
        return self.vies

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
