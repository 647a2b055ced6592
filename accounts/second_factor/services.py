"""Enrolment and verification of the staff second factor; every failure audited and counted."""

import base64
from dataclasses import dataclass
from enum import Enum

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.throttling import SecondFactorFailures
from audit.services import record

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def required_for(user) -> bool:
    """Whether this user must pass the second factor before the back-office."""
    return bool(settings.STAFF_REQUIRE_2FA and user.is_authenticated and user.is_staff)


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice

    @property
    def secret(self) -> str:
        """The key as authenticator apps take it by hand: base32, no padding."""
        return base64.b32encode(self.device.bin_key).decode().rstrip("=")

    @property
    def otpauth_url(self) -> str:
        return self.device.config_url

    def qr_svg(self) -> str:
        image = qrcode.make(self.otpauth_url, image_factory=qrcode.image.svg.SvgPathImage)
        return image.to_string(encoding="unicode")


def start_enrolment(*, user: User) -> Enrolment:
    """The user's unconfirmed TOTP device, made on first call: reloading the page keeps the
    secret already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return Enrolment(device=device)


class Outcome(Enum):
    VERIFIED = "verified"
    RECOVERY_CODE_USED = "recovery_code_used"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    recovery_codes: tuple[str, ...] = ()  # only on a confirmed enrolment: shown once
    retry_after: int = 0  # seconds, when LOCKED

    @property
    def passed(self) -> bool:
        return self.outcome in (Outcome.VERIFIED, Outcome.RECOVERY_CODE_USED)


def _normalised(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()[:32]


def confirm_enrolment(*, request, code: str) -> Verification:
    """The first code from the new device confirms it; the recovery codes are made then."""
    user = request.user
    failures = SecondFactorFailures(user)
    if failures.locked():
        return Verification(Outcome.LOCKED, retry_after=failures.retry_after())
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(_normalised(code)):
        return _failed(request=request, failures=failures, stage="enrolment")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One authenticator per staff member: an old device (a lost phone) stops working.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = new_recovery_codes(user)
        record(action="admin.otp_enrolled", actor=user, target=user, request=request)
    django_otp.login(request, device)
    failures.clear()
    return Verification(Outcome.VERIFIED, recovery_codes=codes)


def verify(*, request, code: str) -> Verification:
    """A code from the authenticator app, or one of the recovery codes (each works once)."""
    user = request.user
    failures = SecondFactorFailures(user)
    if failures.locked():
        return Verification(Outcome.LOCKED, retry_after=failures.retry_after())
    code = _normalised(code)
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if code.isdigit() and device.verify_token(code):
            django_otp.login(request, device)
            failures.clear()
            return Verification(Outcome.VERIFIED)
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        # verify_token deletes the matching token: a recovery code works once.
        if device.verify_token(code):
            django_otp.login(request, device)
            failures.clear()
            remaining = device.token_set.count()
            record(
                action="admin.otp_recovery_code_used",
                actor=user,
                target=user,
                request=request,
                details={"remaining": remaining},
            )
            return Verification(Outcome.RECOVERY_CODE_USED)
    return _failed(request=request, failures=failures, stage="verification")


def _failed(*, request, failures: "SecondFactorFailures", stage: str) -> Verification:
    count = failures.add()
    record(
        action="admin.otp_failed",
        actor=request.user,
        target=request.user,
        request=request,
        details={"stage": stage, "failures": count, "limit": failures.limit},
    )
    if failures.locked():
        return Verification(Outcome.LOCKED, retry_after=failures.retry_after())
    return Verification(Outcome.WRONG_CODE)


def new_recovery_codes(user: User) -> tuple[str, ...]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = tuple(StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT))
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
