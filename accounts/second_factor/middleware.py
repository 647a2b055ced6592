from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from accounts.second_factor import services


class StaffSecondFactorMiddleware:
    """With ``STAFF_REQUIRE_2FA``, no admin page is served to a staff member whose session
    has not passed the second factor: every admin URL but the sign-in, the sign-out and the
    second factor's own pages redirects to the code form (or to enrolment, for a staff member
    without a confirmed device). Sits after django-otp's ``OTPMiddleware``, which tells
    whether the session is verified (``request.user.is_verified()``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def admin_prefix(self) -> str:
        return reverse("admin:index")

    @cached_property
    def open_paths(self) -> frozenset[str]:
        names = ("login", "logout", "second_factor_verify", "second_factor_enrol")
        return frozenset(reverse(f"admin:{name}") for name in names)

    def __call__(self, request):
        if (
            settings.STAFF_REQUIRE_2FA
            and request.path.startswith(self.admin_prefix)
            and request.path not in self.open_paths
        ):
            user = request.user
            if services.required_for(user) and not user.is_verified():
                name = "verify" if services.has_confirmed_device(user) else "enrol"
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse(f'admin:second_factor_{name}')}?{query}")
        return self.get_response(request)
