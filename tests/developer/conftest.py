import pytest
from rest_framework.test import APIClient

from developer import services
from veza.scopes import SCOPES


@pytest.fixture
def make_key(db):
    """``make_key(user, scopes)`` → (APIKey, clear key)."""

    def make(user, scopes=SCOPES, name="ci"):
        return services.create_api_key(owner=user, name=name, scopes=list(scopes))

    return make


@pytest.fixture
def key_client():
    """``key_client(key)`` → an APIClient sending ``Authorization: Api-Key <key>``."""

    def make(key: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    return make


class Receiver:
    """A webhook receiver on 127.0.0.1: records each request, answers from ``statuses``
    (the last one repeats)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.statuses = [204]
        self.redirect_to: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's spelling
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                status = receiver.statuses[index]
                self.send_response(status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def make_endpoint(db):
    """``make_endpoint(owner, url, events)`` → a WebhookEndpoint (its secret included)."""
    from veza.events import EVENT_TYPES

    def make(owner, url, events=EVENT_TYPES):
        return services.create_endpoint(owner=owner, url=url, events=list(events))

    return make
