"""With STAFF_REQUIRE_2FA on, the back-office asks every staff member for a TOTP code after the
password, takes one without a device through enrolment first, and serves no admin page before
the second factor. Wrong codes are audited and limited; recovery codes work once."""

import base64
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor.services import new_recovery_codes
from audit.models import AuditLog
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

VERIFY = "/admin/second-factor/verify/"
ENROL = "/admin/second-factor/enrol/"
ADMIN_PAGES = [
    "/admin/",
    "/admin/accounts/user/",
    "/admin/payments/refund/",
    "/admin/audit/auditlog/",
    "/admin/marketplace/order/",
    "/admin/accounts/user/add/",
]


@pytest.fixture(autouse=True)
def second_factor_on(settings):
    settings.STAFF_REQUIRE_2FA = True
    settings.STAFF_OTP_MAX_FAILURES = 5
    settings.STAFF_OTP_FAILURE_WINDOW = 15


@pytest.fixture
def staff_member(db):
    return AdminFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def signed_in(staff_member) -> Client:
    """Past the password (as the admin's sign-in leaves a session), not past the code."""
    client = Client()
    client.force_login(staff_member)
    return client


def code_for(device: TOTPDevice) -> str:
    """The device's current code (RFC 6238), as the authenticator app would show it."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return device, list(new_recovery_codes(user))


def test_without_a_device_every_admin_page_leads_to_enrolment(signed_in):
    for url in ADMIN_PAGES:
        response = signed_in.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{ENROL}?next="), url


def test_with_a_device_every_admin_page_leads_to_the_code_form(signed_in, staff_member):
    enrolled(staff_member)

    for url in ADMIN_PAGES:
        response = signed_in.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{VERIFY}?next="), url
    # Nor does a POST reach an admin view.
    assert signed_in.post("/admin/accounts/user/add/", {}).status_code == 302


def test_enrolment_shows_a_qr_code_and_the_secret_then_the_first_code_confirms_it(
    signed_in, staff_member
):
    page = signed_in.get(f"{ENROL}?next=/admin/audit/auditlog/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body
    secret = re.search(r'id="otp-secret"[^>]*>([A-Z2-7]+)<', body).group(1)
    device = TOTPDevice.objects.get(user=staff_member, confirmed=False)
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # Reloading keeps the secret already scanned.
    assert secret in signed_in.get(ENROL).content.decode()

    done = signed_in.post(ENROL, {"code": code_for(device), "next": "/admin/audit/auditlog/"})

    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert sorted(
        StaticToken.objects.filter(device__user=staff_member).values_list("token", flat=True)
    ) == sorted(codes)
    assert AuditLog.objects.filter(action="admin.otp_enrolled", actor=staff_member).count() == 1
    assert signed_in.get("/admin/audit/auditlog/").status_code == 200
    assert signed_in.get("/admin/").status_code == 200


def test_a_right_code_opens_the_back_office_and_returns_to_the_page_asked_for(
    signed_in, staff_member
):
    device, _ = enrolled(staff_member)

    response = signed_in.post(VERIFY, {"code": code_for(device), "next": "/admin/payments/refund/"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/payments/refund/"
    assert signed_in.get("/admin/payments/refund/").status_code == 200


def test_a_code_from_another_host_is_not_followed(signed_in, staff_member):
    device, _ = enrolled(staff_member)

    response = signed_in.post(VERIFY, {"code": code_for(device), "next": "https://evil.test/"})

    assert response["Location"] == "/admin/"


def test_a_wrong_code_is_refused_audited_and_counted(signed_in, staff_member):
    device, _ = enrolled(staff_member)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"

    response = signed_in.post(VERIFY, {"code": wrong})

    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert signed_in.get("/admin/").status_code == 302
    entry = AuditLog.objects.get(action="admin.otp_failed")
    assert entry.actor == staff_member
    assert entry.details == {"stage": "verification", "failures": 1, "limit": 5}


def test_a_wrong_code_at_enrolment_is_audited_too(signed_in, staff_member):
    signed_in.get(ENROL)

    response = signed_in.post(ENROL, {"code": "000000x"})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=staff_member, confirmed=True).exists()
    assert AuditLog.objects.get(action="admin.otp_failed").details["stage"] == "enrolment"


def test_five_wrong_codes_lock_the_form_even_for_the_right_code(signed_in, staff_member):
    device, recovery = enrolled(staff_member)
    right = code_for(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answers = [signed_in.post(VERIFY, {"code": wrong}).status_code for _ in range(5)]
    locked = signed_in.post(VERIFY, {"code": right})

    assert answers == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many wrong codes" in locked.content.decode()
    assert signed_in.post(VERIFY, {"code": recovery[0]}).status_code == 429
    assert signed_in.get("/admin/").status_code == 302
    assert AuditLog.objects.filter(action="admin.otp_failed").count() == 5
    # The lock is the account's: another staff member is not affected.
    other = Client()
    colleague = AdminFactory(is_staff=True, is_superuser=True)
    other.force_login(colleague)
    colleague_device, _ = enrolled(colleague)
    assert other.post(VERIFY, {"code": code_for(colleague_device)}).status_code == 302


def test_a_recovery_code_works_once(staff_member):
    _, recovery = enrolled(staff_member)
    first, second = Client(), Client()
    first.force_login(staff_member)
    second.force_login(staff_member)

    used = first.post(VERIFY, {"code": recovery[0].upper()})
    again = second.post(VERIFY, {"code": recovery[0]})

    assert used.status_code == 302
    assert first.get("/admin/").status_code == 200
    assert again.status_code == 200 and "not right" in again.content.decode()
    assert second.get("/admin/").status_code == 302
    assert StaticToken.objects.filter(device__user=staff_member).count() == 9
    entry = AuditLog.objects.get(action="admin.otp_recovery_code_used")
    assert entry.details == {"remaining": 9}


def test_a_code_is_not_accepted_twice(staff_member):
    device, _ = enrolled(staff_member)
    code = code_for(device)
    first, second = Client(), Client()
    first.force_login(staff_member)
    second.force_login(staff_member)

    assert first.post(VERIFY, {"code": code}).status_code == 302
    assert second.post(VERIFY, {"code": code}).status_code == 200  # replayed: refused


def test_signing_out_is_possible_before_the_second_factor(signed_in):
    assert signed_in.post("/admin/logout/").status_code == 200
    assert signed_in.get("/admin/").status_code == 302


def test_a_non_staff_user_never_reaches_the_code_form(db):
    client = Client()
    client.force_login(UserFactory())

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get(VERIFY)["Location"].startswith("/admin/login/")


def test_with_the_setting_off_the_password_is_enough(settings, signed_in):
    settings.STAFF_REQUIRE_2FA = False

    assert signed_in.get("/admin/").status_code == 200


def test_the_password_sign_in_alone_does_not_pass(staff_member):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff_member.email, "password": DEFAULT_PASSWORD, "next": "/admin/"},
        follow=True,
    )

    assert response.redirect_chain[0] == ("/admin/", 302)
    assert response.redirect_chain[-1][0].startswith(f"{ENROL}?next=")
    assert response.status_code == 200 and b'id="otp-secret"' in response.content


def test_production_without_the_second_factor_starts_with_a_warning():
    from veza.config import warnings

    assert warnings({"APP_ENV": "production", "STAFF_REQUIRE_2FA": False}) == [
        "STAFF_REQUIRE_2FA is off in production: the back-office asks staff for their "
        "password only."
    ]
    assert warnings({"APP_ENV": "production", "STAFF_REQUIRE_2FA": True}) == []
    assert warnings({"APP_ENV": "development", "STAFF_REQUIRE_2FA": False}) == []
