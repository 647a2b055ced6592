"""The README's 20-line receiver verifies a real delivery (and refuses a wrong secret)."""

import re
import threading
from http.server import HTTPServer
from pathlib import Path

import pytest

from developer.models import WebhookDelivery
from developer.services import send_ping

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver(secret: str):
    """The README's receiver class, its secret set to ``secret``; not its serve_forever."""
    section = README.read_text().split("### Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = code.replace('"whsec_…"', repr(secret))
    code = "\n".join(line for line in code.splitlines() if "serve_forever" not in line)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["Receiver"]


@pytest.mark.parametrize("right_secret", [True, False])
def test_the_readme_receiver_verifies_a_delivery(
    right_secret, settings, make_endpoint, user, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    server = HTTPServer(("127.0.0.1", 0), None)
    url = f"http://127.0.0.1:{server.server_port}/"
    endpoint = make_endpoint(user, url, ["order.completed"])
    secret = endpoint.secret if right_secret else "whsec_" + "A" * 32
    server.RequestHandlerClass = readme_receiver(secret)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send_ping(endpoint=endpoint)
    finally:
        server.shutdown()
        server.server_close()

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.response_status_code == (204 if right_secret else 400)
    assert delivery.status == ("succeeded" if right_secret else "pending")
