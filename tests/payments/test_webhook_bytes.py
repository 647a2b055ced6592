"""Whatever bytes a correctly signed body holds, the webhook answers 200 or 400, never 500,
and keeps a trace of the delivery that PostgreSQL accepts (run on both databases in CI)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.models import WebhookEvent

pytestmark = pytest.mark.django_db

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "refund_succeeded", "dispute_lost", "x" * 500]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "event_type",
                    "event_id",
                    "payment_id",
                    "refund_id",
                    "dispute_id",
                    "payout_id",
                    "status",
                    "amount",
                    "content",
                    "object",
                    "metadata",
                    "\x00",
                ]
            ),
            children,
            max_size=6,
        ),
    ),
    max_leaves=20,
)


def _encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()  # \ud800 and \u0000 as escapes


raw_bodies = st.one_of(
    json_values.map(_encode),
    st.binary(max_size=200),
    st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.just(b'{"event_type": "refund_succeeded", "refund_id": NaN}'),
    st.just(b'{"event_id": "' + b"e" * 5000 + b'", "event_type": "payment_succeeded"}'),
    st.just(b'{"amount": 1' + b"0" * 5000 + b"}"),
    st.just(b'{"event_type": "refund_succeeded", "refund_id": "\xff\xfe"}'),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=raw_bodies)
def test_any_signed_body_is_answered_without_a_server_error_and_traced(post_webhook, body):
    before = WebhookEvent.objects.count()
    response = post_webhook(body)
    assert response.status_code in (200, 400), (response.status_code, body[:200])
    assert response["Content-Type"].startswith("application/json")
    # every delivery leaves a row (processed, duplicate, ignored or error)
    assert WebhookEvent.objects.count() == before + 1
    stored = WebhookEvent.objects.order_by("-received_at").first()
    assert "\x00" not in json.dumps(stored.payload)


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_type": "refund_succeeded", "refund_id": "r\\u0000x"}',
        b'{"event_type": "payment_succeeded", "payment_id": "\\ud800"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"event_type": "dispute_opened", "content": {"object": {"dispute_id": "d", '
        b'"payment_id": "p", "amount": "99999999999999999999999"}}}',
    ],
    ids=["nul", "lone-surrogate", "deep-nesting", "huge-amount"],
)
def test_hostile_bodies_that_once_broke_the_intake(post_webhook, body):
    response = post_webhook(body)
    assert response.status_code in (200, 400)
    assert WebhookEvent.objects.count() == 1
