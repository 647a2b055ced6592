"""No input is a 500: schemathesis fuzzes every operation of the served OpenAPI schema against
a live server on PostgreSQL (where NUL bytes, over-long strings and out-of-range numbers
really fail), once without credentials and once with a valid bearer token.

Fixed seed and a bounded number of examples per operation, so a run is reproducible and takes
a couple of minutes; it runs in the PostgreSQL run of ``.ci/run`` and skips on SQLite.
Reproduce one failure with ``pytest tests/fuzz -k '<METHOD /path>'`` on PostgreSQL.
"""

import traceback

import pytest
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from accounts.models import User
from accounts.tokens import issue_tokens
from developer import services as developer
from developer.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order
from tests.playlists.factories import PlaylistFactory, PlaylistTrackFactory
from tests.tracks.factories import TrackFactory, TrackShareFactory

pytestmark = [pytest.mark.postgres, pytest.mark.fuzz]

EXAMPLES_PER_OPERATION = 20
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the fixed seed: the same cases on every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

# Operations left out of the fuzz run, each with the follow-up that owns it. Keep it short.
EXCLUDED: dict[tuple[str, str], str] = {}


@pytest.fixture
def api_schema(live_server, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the fuzz run needs PostgreSQL (CI runs it there)")
    # 429s would hide every later answer of an operation; the limits have their own tests.
    settings.DISABLE_RATE_LIMIT_FOR_TESTS = True
    return schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")


def _world() -> tuple[User, dict[str, dict]]:
    """The fuzzer (an admin: every operation is open to it) and the objects it can reach, as
    the path parameters that name them, so cases go past the 404 of a random id."""
    fuzzer = AdminFactory(username="fuzzer", email="fuzzer@example.test")
    other = UserFactory()
    track = TrackFactory(creator=fuzzer, with_file=True, is_downloadable=True)
    share = TrackShareFactory(track=track)
    playlist = PlaylistFactory(owner=fuzzer)
    PlaylistTrackFactory(playlist=playlist, track=track)
    product = ProductFactory(seller=CreatorFactory(), product_type="track", track=track)
    pack = ProductFactory(seller=fuzzer, product_type="pack")
    order = completed_order(buyer=fuzzer, products=[product])
    api_key, _ = developer.create_api_key(owner=fuzzer, name="fuzz", scopes=["tracks:read"])
    # Made directly: registration resolves the host, and the fuzz run has no DNS to ask.
    endpoint = WebhookEndpoint.objects.create(
        owner=fuzzer,
        url="https://hooks.example.com/in",
        events=["track.ready"],
        secret=developer.new_secret(),
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=OutboxEvent.objects.create(type="ping", data={})
    )
    hooks = {"id": endpoint.pk}
    tracks = {"id": track.pk}
    playlists = {"id": playlist.pk}
    known = {
        "/api/v1/tracks/{id}": tracks,
        "/api/v1/tracks/{id}/download": tracks,
        "/api/v1/tracks/{id}/history": tracks,
        "/api/v1/tracks/{id}/like": tracks,
        "/api/v1/tracks/{id}/likes": tracks,
        "/api/v1/tracks/{id}/share": tracks,
        "/api/v1/tracks/{id}/stats": tracks,
        "/api/v1/internal/tracks/{id}/stream-ready": tracks,
        "/api/v1/tracks/share/{share_id}": {"share_id": share.pk},
        "/api/v1/tracks/shared/{token}": {"token": share.token},
        "/api/v1/playlists/{id}": playlists,
        "/api/v1/playlists/{id}/collaborators": playlists,
        "/api/v1/playlists/{id}/tracks": playlists,
        "/api/v1/playlists/{id}/collaborators/{user_id}": {**playlists, "user_id": other.pk},
        "/api/v1/playlists/{id}/tracks/{track_id}": {**playlists, "track_id": track.pk},
        "/api/v1/marketplace/products/{id}": {"id": product.pk},
        "/api/v1/marketplace/products/{id}/file": {"id": pack.pk},
        "/api/v1/marketplace/download/{product_id}": {"product_id": product.pk},
        "/api/v1/marketplace/orders/{id}": {"id": order.pk},
        "/api/v1/marketplace/orders/{id}/refund": {"id": order.pk},
        "/api/v1/users/{id}": {"id": fuzzer.pk},
        "/api/v1/users/{id}/completion": {"id": fuzzer.pk},
        "/api/v1/users/by-username/{username}": {"username": fuzzer.username},
        "/api/v1/developer/api-keys/{id}": {"id": api_key.pk},
        "/api/v1/developer/webhooks/{id}": hooks,
        "/api/v1/developer/webhooks/{id}/test": hooks,
        "/api/v1/developer/webhooks/{id}/deliveries": hooks,
        "/api/v1/developer/webhooks/{id}/deliveries/{delivery_id}/redeliver": {
            **hooks,
            "delivery_id": delivery.pk,
        },
    }
    return fuzzer, {path: {k: str(v) for k, v in params.items()} for path, params in known.items()}


def _fuzz(schema, headers_for, known: dict[str, dict]) -> tuple[set[str], list[str]]:
    """Run every operation's cases; the labels exercised and one report per failing one."""
    exercised: set[str] = set()
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last: until then every operation can find the objects of the world.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if operation.path in known:
            strategies.append(
                operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters=known[operation.path]
                )
            )

        @FUZZ_SETTINGS
        @given(case=st.one_of(strategies))
        def run(case):
            case.call_and_validate(headers=headers_for(), checks=[not_a_server_error])
            exercised.add(operation.label)

        try:
            run()
        except (Exception, BaseExceptionGroup):  # schemathesis reports a FailureGroup
            failures.append(f"{operation.label}:\n{traceback.format_exc(limit=1)[-3000:]}")
    return exercised, failures


def _assert_clean(exercised: set[str], failures: list[str]) -> None:
    assert not failures, "\n\n".join(failures)
    # A run that called nothing (a schema that failed to load, every case rejected) cannot pass.
    assert len(exercised) >= 60, f"only {len(exercised)} operations exercised: {sorted(exercised)}"


def test_no_input_is_a_server_error_without_credentials(api_schema):
    _, known = _world()
    _assert_clean(*_fuzz(api_schema, dict, known))


def test_no_input_is_a_server_error_with_a_bearer_token(api_schema):
    fuzzer, known = _world()

    def bearer() -> dict:
        # A fresh token each time: a fuzzed logout or password change revokes earlier ones.
        user = User.objects.get(pk=fuzzer.pk)
        return {"Authorization": f"Bearer {issue_tokens(user)['access']}"}

    _assert_clean(*_fuzz(api_schema, bearer, known))
