"""Each scope against each endpoint group: allowed, or 403 ``insufficient_scope``; a JWT is
never affected."""

import pytest

from tests.factories import UserFactory
from veza.scopes import SCOPES

# (method, path, the scope it needs)
GROUPS = [
    ("get", "/api/v1/tracks", "tracks:read"),
    ("post", "/api/v1/tracks", "tracks:write"),
    ("get", "/api/v1/playlists", "playlists:read"),
    ("post", "/api/v1/playlists", "playlists:write"),
    ("get", "/api/v1/marketplace/products", "marketplace:read"),
    ("get", "/api/v1/marketplace/orders", "orders:read"),
    ("get", "/api/v1/marketplace/licenses", "orders:read"),
    ("get", "/api/v1/marketplace/seller/balance", "seller:read"),
    ("get", "/api/v1/marketplace/seller/payouts", "seller:read"),
    ("get", "/api/v1/developer/webhooks", "webhooks:manage"),
    ("post", "/api/v1/developer/webhooks", "webhooks:manage"),
]


@pytest.mark.parametrize("scope", SCOPES)
def test_each_scope_opens_its_endpoint_group_and_no_other(scope, make_key, key_client, db):
    owner = UserFactory(role="creator")
    _, key = make_key(owner, [scope])
    client = key_client(key)

    for method, path, needed in GROUPS:
        response = getattr(client, method)(path, {}, format="json")
        if needed == scope:
            assert response.status_code not in (401, 403), (method, path, response.json())
        else:
            assert response.status_code == 403, (method, path, scope)
            assert response.json()["code"] == "insufficient_scope", (method, path, scope)


def test_writes_without_a_write_scope_refuse_keys(make_key, key_client, db):
    _, key = make_key(UserFactory(role="creator"))  # every scope

    response = key_client(key).post("/api/v1/marketplace/products", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "api_key_not_allowed"
    response = key_client(key).put("/api/v1/marketplace/seller/payout-method", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "api_key_not_allowed"


def test_a_jwt_request_is_not_affected_by_scopes(client_for, user):
    assert client_for(user).get("/api/v1/developer/webhooks").status_code == 200
    assert client_for(user).get("/api/v1/auth/me").status_code == 200


def test_a_key_acts_as_its_owner(make_key, key_client, user, client_for):
    playlist = client_for(user).post("/api/v1/playlists", {"title": "Mine", "is_public": False})
    _, key = make_key(user, ["playlists:read"])
    _, stranger_key = make_key(UserFactory(), ["playlists:read"])

    assert key_client(key).get(f"/api/v1/playlists/{playlist.json()['id']}").status_code == 200
    stranger = key_client(stranger_key).get(f"/api/v1/playlists/{playlist.json()['id']}")
    assert stranger.status_code == 404
