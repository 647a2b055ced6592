"""The end-to-end flows through the balancer, each step landing on the other web replica than
the step before: register, upload (to the S3 store), sell, buy, pay by signed webhook,
refund, payout. No replica holds state another needs."""

import hashlib
import hmac
import json
import time
import uuid

import boto3
import httpx

from tests.cluster.conftest import login, manage, register
from tests.tracks.factories import wav_bytes
from veza.config import DEV_WEBHOOK_SECRET


class Steps:
    """Requests through the balancer, remembering which replica answered each one."""

    def __init__(self, client: httpx.Client):
        self.client = client
        self.served: list[str] = []

    def __call__(self, method: str, path: str, expected: int | tuple, **kwargs) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert response.status_code in expected, f"{method} {path}: {response.text}"
        self.served.append(response.headers["x-served-by"])
        return response

    def paid_webhook(self, payment_id: str) -> httpx.Response:
        raw = json.dumps(
            {
                "merchant_id": "veza_sandbox",
                "event_id": f"evt_cluster_{uuid.uuid4().hex}",
                "event_type": "payment_succeeded",
                "content": {
                    "type": "payment_details",
                    "object": {
                        "event_type": "payment_succeeded",
                        "payment_id": payment_id,
                        "status": "succeeded",
                    },
                },
            }
        ).encode()
        signature = hmac.new(DEV_WEBHOOK_SECRET.encode(), raw, hashlib.sha512).hexdigest()
        return self(
            "POST",
            "/api/v1/webhooks/hyperswitch",
            200,
            content=raw,
            headers={"Content-Type": "application/json", "X-Webhook-Signature-512": signature},
        )


def _until(read, done, *, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def _media_objects(app_env: dict) -> set[str]:
    endpoint = app_env["MEDIA_STORAGE_URL"].split("endpoint_url=")[1].split("&")[0]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=app_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=app_env["AWS_SECRET_ACCESS_KEY"],
    )
    listing = s3.list_objects_v2(Bucket="veza-media")
    return {item["Key"] for item in listing.get("Contents", [])}


def test_register_upload_sell_buy_pay_refund_and_pay_out_across_both_replicas(
    cluster, app_env, primary
):
    with httpx.Client(base_url=cluster["CLUSTER_URL"], timeout=30) as client:
        step = Steps(client)
        seller = register(client, "seller")
        step.served.append(seller["served_by"])
        # Staff grant the creator role (an admin-only change): arranged in the database.
        primary.execute("UPDATE accounts_user SET role = 'creator' WHERE id = %s", [seller["id"]])
        step.served.append(login(client, seller).headers["x-served-by"])

        before = _media_objects(app_env)
        track = step(
            "POST",
            "/api/v1/tracks",
            201,
            files={"file": ("song.wav", wav_bytes(), "audio/wav")},
            data={"title": f"Cluster song {uuid.uuid4().hex[:6]}"},
            headers=seller["headers"],
        ).json()
        assert _media_objects(app_env) - before, "the upload is not in the object store"
        seen = step("GET", f"/api/v1/tracks/{track['id']}", 200, headers=seller["headers"])
        assert seen.json()["title"] == track["title"]

        product = step(
            "POST",
            "/api/v1/marketplace/products",
            201,
            json={
                "title": "Cluster kit",
                "description": "made on two replicas",
                "price": 1999,
                "currency": "EUR",
                "product_type": "sample",
                "track_id": track["id"],
            },
            headers=seller["headers"],
        ).json()
        step(
            "PUT",
            "/api/v1/marketplace/seller/payout-method",
            (200, 201),
            json={"payout_type": "bank", "payout_token": "tok_cluster"},
            headers=seller["headers"],
        )

        def buy() -> tuple[dict, dict]:
            buyer = register(client, "buyer")
            step.served.append(buyer["served_by"])
            ordered = step(
                "POST",
                "/api/v1/marketplace/orders",
                201,
                json={"items": [{"product_id": product["id"]}]},
                headers=buyer["headers"],
            ).json()
            step.paid_webhook(ordered["payment"]["payment_id"])
            order = step(
                "GET",
                f"/api/v1/marketplace/orders/{ordered['order']['id']}",
                200,
                headers=buyer["headers"],
            ).json()
            assert order["status"] == "completed", order
            return buyer, order

        buyer, order = buy()
        step(
            "POST",
            f"/api/v1/marketplace/orders/{order['id']}/refund",
            (200, 201, 202),
            json={"reason": "changed my mind"},
            headers=buyer["headers"],
        )
        # The sandbox settles the refund by a signed webhook, sent from a worker.
        refunded = _until(
            lambda: step(
                "GET", f"/api/v1/marketplace/orders/{order['id']}", 200, headers=buyer["headers"]
            ).json(),
            lambda o: o["status"] == "refunded",
        )
        assert refunded["status"] == "refunded", refunded

        _, sold = buy()
        # The refund window has passed (arranged), then the payout run, as beat sends it.
        primary.execute(
            "UPDATE marketplace_order SET refund_deadline = now() - interval '1 hour' "
            "WHERE id = %s",
            [sold["id"]],
        )
        manage(app_env, "from payments.tasks import run_payouts; run_payouts.delay()")
        payouts = _until(
            lambda: step(
                "GET", "/api/v1/marketplace/seller/payouts", 200, headers=seller["headers"]
            ).json()["results"],
            lambda rows: rows and rows[0]["status"] == "paid",
        )
        assert [p["status"] for p in payouts] == ["paid"], payouts

    # Round robin: no two consecutive steps on the same replica, both replicas used.
    assert set(step.served) == {"web-a", "web-b"}
    repeats = [n for n in range(1, len(step.served)) if step.served[n] == step.served[n - 1]]
    assert repeats == [], step.served
