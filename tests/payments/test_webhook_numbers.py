"""A signed body that is JSON but holds a number no database stores (``1e999`` is infinity
to Python's parser, ``1`` followed by 5000 zeros is past its integer limit): the number is
unusable, so it is kept as its text, and the event is answered as if it had no such field.
Never a 500, always a stored row (run on both databases in CI)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.models import Order
from payments.models import Dispute, SellerBalance, WebhookEvent
from tests.factories import CreatorFactory
from tests.marketplace.factories import ProductFactory, completed_order

pytestmark = pytest.mark.django_db


def dispute_body(payment_id: str, amount: bytes) -> bytes:
    return (
        b'{"merchant_id": "m", "event_id": "evt_dp_absurd", "event_type": "dispute_opened", '
        b'"content": {"type": "dispute_details", "object": {"dispute_id": "dp_absurd", '
        b'"payment_id": "' + payment_id.encode() + b'", "amount": ' + amount + b", "
        b'"currency": "EUR", "dispute_stage": "dispute", "dispute_status": "dispute_opened"}}}'
    )


@pytest.mark.parametrize(
    "amount", [b"1e999", b"-1e999", b"1E+400", b"1" + b"0" * 5000, b"-" + b"9" * 400]
)
def test_a_dispute_with_an_absurd_amount_is_held_as_one_with_no_usable_amount(post_webhook, amount):
    seller = CreatorFactory()
    order = completed_order(products=[ProductFactory(seller=seller, price=1000)])

    response = post_webhook(dispute_body(order.hyperswitch_payment_id, amount))

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "processed"}
    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.amount) == ("opened", order.total_amount)  # all of it
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED
    assert SellerBalance.objects.get(seller=seller).held == 900
    event = WebhookEvent.objects.get()
    assert event.outcome == WebhookEvent.Outcome.PROCESSED
    assert event.payload["content"]["object"]["amount"] == amount.decode()  # kept as text


def test_an_absurd_number_on_the_error_path_is_stored_as_text(post_webhook):
    # A refund event without a refund id is refused (400) and stored as an error.
    response = post_webhook(b'{"event_type": "refund_succeeded", "amount": 1e999}')

    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.payload["amount"]) == ("error", "1e999")


def test_an_absurd_number_for_an_unknown_payment_is_ignored_and_stored(post_webhook):
    response = post_webhook(dispute_body("pay_nobody", b"1e999"))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert WebhookEvent.objects.get().payload["content"]["object"]["amount"] == "1e999"


# --- any signed JSON-ish body --------------------------------------------------------------
absurd_numbers = st.one_of(
    st.integers(min_value=309, max_value=10**6).map(lambda e: f"1e{e}"),
    st.integers(min_value=309, max_value=10**6).map(lambda e: f"-9.5E+{e}"),
    st.integers(min_value=1, max_value=10**6).map(lambda e: f"1e-{e}"),
    st.integers(min_value=40, max_value=6000).map(lambda n: "7" * n),
    st.integers(min_value=40, max_value=6000).map(lambda n: "-" + "3" * n),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "0e99999", "-0.0"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers().map(str),
)
# Text that JSON escapes but no database stores raw: NUL and lone surrogates.
hostile_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\x00", "\ud800", "a\udfffb", "dispute_opened", "refund_succeeded"]),
).map(lambda s: json.dumps(s, ensure_ascii=True))
keys = st.sampled_from(
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
        "\\u0000",
        "\\ud800",
    ]
)
json_ish = st.recursive(
    st.one_of(absurd_numbers, hostile_text, st.sampled_from(["true", "null"])),
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.lists(st.tuples(keys, children), max_size=5).map(
            lambda kvs: "{" + ",".join(f'"{k}":{v}' for k, v in kvs) + "}"
        ),
    ),
    max_leaves=15,
)
event_types = st.sampled_from(
    ["dispute_opened", "dispute_lost", "refund_succeeded", "payout_success", "payment_succeeded"]
)


@st.composite
def signed_bodies(draw) -> bytes:
    """An object with an event type and an ``amount``, nested like one of the three shapes."""
    fields = (
        f'"event_type":"{draw(event_types)}","amount":{draw(absurd_numbers)},'
        f'"dispute_id":"dp_x","payment_id":{draw(hostile_text)},"extra":{draw(json_ish)}'
    )
    shape = draw(st.sampled_from(["flat", "nested", "envelope", "any"]))
    if shape == "flat":
        return ("{" + fields + "}").encode()
    if shape == "nested":
        return ('{"event_type":"dispute_opened","object":{' + fields + "}}").encode()
    if shape == "envelope":
        return ('{"event_id":"e","content":{"object":{' + fields + "}}}").encode()
    return draw(json_ish).encode()


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=signed_bodies())
def test_any_signed_json_ish_body_is_answered_without_a_server_error_and_stored(post_webhook, body):
    WebhookEvent.objects.all().delete()  # each example starts from no stored event
    response = post_webhook(body)
    assert response.status_code < 500, (response.status_code, body[:300])
    assert response.status_code in (200, 400)
    stored = WebhookEvent.objects.get()  # every delivery leaves its row
    json.dumps(stored.payload, allow_nan=False)  # strict JSON: no NaN or Infinity
    assert not any(unstorable(text) for text in strings_in(stored.payload))


def strings_in(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value


def unstorable(text: str) -> bool:
    """NUL or a lone surrogate: what PostgreSQL refuses in text and jsonb."""
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)
