"""The OpenAPI schema is a contract the server keeps: schemathesis fuzzes every operation of
the served schema against a live server on PostgreSQL (where NUL bytes, over-long strings and
out-of-range numbers really fail) with every check it has — no 5xx, only documented status
codes, responses valid against their schema, schema-valid requests accepted and
schema-violating ones refused, security as documented, 405 for undocumented methods — once
without credentials, once as a listener and once as a creator.

Fixed seed and a bounded number of examples per operation, so a run is reproducible and takes
a few minutes (three roles); it runs in the PostgreSQL run of ``.ci/run`` and skips on SQLite.
Reproduce one failure with ``pytest tests/fuzz -k '<METHOD /path>'`` on PostgreSQL.
"""

import os
import traceback
from collections.abc import Callable

import pytest
import schemathesis
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from accounts.models import User
from accounts.tokens import issue_tokens
from developer import services as developer
from developer.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests.factories import AdminFactory, CreatorFactory, UserFactory
from tests.marketplace.factories import ProductFactory, completed_order
from tests.playlists.factories import PlaylistFactory, PlaylistTrackFactory
from tests.tracks.factories import TrackFactory, TrackShareFactory

pytestmark = [pytest.mark.postgres, pytest.mark.fuzz]

# FUZZ_EXAMPLES: fewer for a quick look, more for a deeper search.
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the fixed seed: the same cases on every run
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)

# Operations left out of the signed-in runs: each ends the fuzzer's own session or account, so
# every later case would test only the 401 of a revoked token. Their own tests cover them.
ENDS_THE_SESSION: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/logout"): "revokes every token of the user",
    ("POST", "/api/v1/auth/password/reset"): "revokes every token of the user",
    ("DELETE", "/api/v1/auth/sessions/{id}"): "ends a session",
    ("DELETE", "/api/v1/users/me"): "schedules the account's erasure",
}

# Operations where a request valid against the schema is refused for a reason no schema can
# state (a relation between fields, the database's state): the token must be one we sent,
# the name must be free, the password must not be common, an anonymous report needs an email.
# The contract fixes these 400s; only "schema-valid requests are accepted" (ST202) is left out
# for them, every other check still runs.
STATEFUL_REFUSALS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/register"): "taken email/username, Django's password validators",
    ("POST", "/api/v1/auth/verify-email"): "invalid_token unless we sent it",
    ("POST", "/api/v1/auth/password/reset"): "invalid_token unless we sent it; password strength",
    ("POST", "/api/v1/reports"): "anonymous reports need reporter_email",
    ("POST", "/api/v1/tracks"): "the file's bytes must be audio of an allowed format",
    ("POST", "/api/v1/marketplace/products/{id}/file"): "the bytes must be an allowed format",
    ("PUT", "/api/v1/marketplace/products/{id}/file"): "the bytes must be an allowed format",
    ("POST", "/api/v1/marketplace/orders"): "the products must exist, be active, not be yours",
    ("POST", "/api/v1/marketplace/orders/{id}/refund"): "the order's state and window",
    ("POST", "/api/v1/playlists/{id}/collaborators"): "user_id must name a user",
    ("POST", "/api/v1/marketplace/products"): "track_id must name one of your tracks",
    ("POST", "/api/v1/developer/webhooks"): "the target host must resolve to a public address",
    ("PATCH", "/api/v1/developer/webhooks/{id}"): "the target host must resolve",
    ("GET", "/api/v1/marketplace/seller/statement"): "`from` must come before `to`",
}


@pytest.fixture
def api_schema(live_server, settings):
    if connection.vendor != "postgresql":
        pytest.skip("the fuzz run needs PostgreSQL (CI runs it there)")
    # 429s would hide every later answer of an operation; the limits have their own tests.
    settings.DISABLE_RATE_LIMIT_FOR_TESTS = True
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    # The API ignores a query parameter or body member it does not know (README, "API
    # conventions"), as OpenAPI allows; schemathesis would otherwise invent undeclared ones and
    # expect a refusal the contract never promised.
    schema.config.generation.update(allow_extra_parameters=False)
    return schema


def _world(fuzzer: User) -> dict[str, dict]:
    """The objects the fuzzer can reach, as the path parameters that name them, so cases go
    past the 404 of a random id. The fuzzer owns them (its track, playlist, pack, order)."""
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
    return {path: {k: str(v) for k, v in params.items()} for path, params in known.items()}


def _fuzz(
    schema, headers_for, known: dict[str, dict], excluded=frozenset()
) -> tuple[set[str], list[str], int]:
    """Run every operation's cases with every check; the labels exercised, one report per
    failing operation and the number of requests made."""
    exercised: set[str] = set()
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last: until then every operation can find the objects of the world.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        if key in excluded:
            continue
        skipped_checks = [positive_data_acceptance] if key in STATEFUL_REFUSALS else []
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
            nonlocal calls
            calls += 1
            # Every built-in check (but the one a stateful refusal cannot pass).
            case.call_and_validate(headers=headers_for(), excluded_checks=skipped_checks)
            exercised.add(operation.label)

        try:
            run()
        except (Exception, BaseExceptionGroup):  # schemathesis reports a FailureGroup
            failures.append(f"{operation.label}:\n{traceback.format_exc(limit=1)[-3000:]}")
    return exercised, failures, calls


def _assert_clean(exercised: set[str], failures: list[str], calls: int) -> None:
    print(f"{len(exercised)} operations, {calls} cases, {len(failures)} failing operations")
    assert not failures, f"{len(failures)} failing operations:\n\n" + "\n\n".join(failures)
    # A run that called nothing (a schema that failed to load, every case rejected) cannot pass.
    assert len(exercised) >= 60, f"only {len(exercised)} operations exercised: {sorted(exercised)}"


def test_the_schema_holds_without_credentials(api_schema):
    known = _world(AdminFactory(username="fuzzer", email="fuzzer@example.test"))
    _assert_clean(*_fuzz(api_schema, dict, known))


def _signed_in(user: User) -> Callable[[], dict]:
    def bearer() -> dict:
        # A fresh token each time: a role change made by a fuzzed case revokes earlier ones.
        return {"Authorization": f"Bearer {issue_tokens(User.objects.get(pk=user.pk))['access']}"}

    return bearer


def test_the_schema_holds_for_a_listener(api_schema):
    listener = UserFactory(username="listener", email="listener@example.test")
    known = _world(listener)
    _assert_clean(*_fuzz(api_schema, _signed_in(listener), known, ENDS_THE_SESSION))


def test_the_schema_holds_for_a_creator(api_schema):
    creator = CreatorFactory(username="creator", email="creator@example.test")
    known = _world(creator)
    _assert_clean(*_fuzz(api_schema, _signed_in(creator), known, ENDS_THE_SESSION))
