"""The per-IP login limit stays strict; the per-account lock cannot shut the owner out."""

import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
HOME = "192.0.2.10"  # where the victim usually signs in from


def _login(api_client, user, *, ip: str, password: str = DEFAULT_PASSWORD):
    return api_client.post(
        LOGIN, {"email": user.email, "password": password}, REMOTE_ADDR=ip, format="json"
    )


def _attack(api_client, user, *, addresses: int, per_address: int) -> list[int]:
    return [
        _login(api_client, user, ip=f"203.0.113.{a}", password=f"guess-{a}-{n}").status_code
        for a in range(addresses)
        for n in range(per_address)
    ]


def test_per_ip_limit_is_strict_even_for_the_right_password(api_client, user, settings):
    assert settings.AUTH_RATE_LIMIT_LOGIN_ATTEMPTS == 5
    assert _attack(api_client, user, addresses=1, per_address=6) == [401] * 5 + [429]
    refused = _login(api_client, user, ip="203.0.113.0")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def test_failures_from_many_addresses_do_not_lock_the_owner_out_by_default(api_client, user):
    # Five failures from each of eight addresses: every address is stopped by its own limit.
    codes = _attack(api_client, user, addresses=8, per_address=6)
    assert codes.count(401) == 40 and codes.count(429) == 8
    # The owner, from an address never seen before, still signs in.
    response = _login(api_client, user, ip="198.51.100.77")
    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(user.id)


def test_past_the_account_threshold_a_new_address_waits_but_a_known_one_signs_in(
    api_client, user, settings
):
    settings.AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS = 12
    assert _login(api_client, user, ip=HOME).status_code == 200  # the owner's usual address

    codes = _attack(api_client, user, addresses=3, per_address=4)
    assert codes == [401] * 12

    stranger = _login(api_client, user, ip="198.51.100.1")
    assert stranger.status_code == 429
    assert int(stranger["Retry-After"]) > 0
    # The lock does not apply where the owner signed in before.
    home = _login(api_client, user, ip=HOME)
    assert home.status_code == 200
    assert home.json()["user"]["email"] == user.email


def test_a_known_address_of_one_account_does_not_exempt_another(api_client, user, settings):
    settings.AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS = 4
    other = UserFactory()
    assert _login(api_client, other, ip=HOME).status_code == 200
    assert _attack(api_client, user, addresses=2, per_address=2) == [401] * 4
    assert _login(api_client, user, ip=HOME).status_code == 429
    assert _login(api_client, other, ip=HOME).status_code == 200


def test_a_known_address_is_still_held_to_the_per_ip_limit(api_client, user, settings):
    assert _login(api_client, user, ip=HOME).status_code == 200
    codes = [_login(api_client, user, ip=HOME, password=f"bad-{n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    assert _login(api_client, user, ip=HOME).status_code == 429


def test_a_successful_sign_in_clears_the_account_failures(api_client, user, settings):
    settings.AUTH_RATE_LIMIT_ACCOUNT_ATTEMPTS = 4
    assert _attack(api_client, user, addresses=1, per_address=3) == [401] * 3
    assert _login(api_client, user, ip="198.51.100.2").status_code == 200
    assert _attack(api_client, user, addresses=2, per_address=2)[2:] == [401, 401]
    assert _login(api_client, user, ip="198.51.100.3").status_code == 429
