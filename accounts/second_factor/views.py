"""The back-office's second-factor pages, served by the admin site (behind its sign-in)."""

from django import forms
from django.contrib import admin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.second_factor import services
from accounts.second_factor.services import Outcome


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _page(request, template: str, context: dict, *, status: int = 200, retry_after: int = 0):
    context = {
        **admin.site.each_context(request),
        # No navigation nor user tools: nothing of the back-office before the second factor.
        "has_permission": False,
        "is_nav_sidebar_enabled": False,
        "next": _next_url(request),
        **context,
    }
    response = render(request, template, context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _locked(request, verification):
    minutes = max(1, round(verification.retry_after / 60))
    return _page(
        request,
        "admin/second_factor/locked.html",
        {"title": "Too many wrong codes", "minutes": minutes},
        status=429,
        retry_after=verification.retry_after,
    )


def verify_view(request):
    if not services.required_for(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    if not services.has_confirmed_device(request.user):
        return redirect(f"{reverse('admin:second_factor_enrol')}?{request.GET.urlencode()}")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        verification = services.verify(request=request, code=form.cleaned_data["code"])
        if verification.outcome == Outcome.LOCKED:
            return _locked(request, verification)
        if verification.passed:
            return redirect(_next_url(request))
        error = "That code is not right. Try the current code from your app, or a recovery code."
    return _page(
        request,
        "admin/second_factor/verify.html",
        {"title": "Second factor", "form": form, "error": error},
    )


def enrol_view(request):
    if not services.required_for(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    if services.has_confirmed_device(request.user):
        return redirect(f"{reverse('admin:second_factor_verify')}?{request.GET.urlencode()}")
    enrolment = services.start_enrolment(user=request.user)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        verification = services.confirm_enrolment(request=request, code=form.cleaned_data["code"])
        if verification.outcome == Outcome.LOCKED:
            return _locked(request, verification)
        if verification.passed:
            return _page(
                request,
                "admin/second_factor/recovery_codes.html",
                {"title": "Your recovery codes", "codes": verification.recovery_codes},
            )
        error = "That code is not right. Check the time on your phone and try the next code."
    return _page(
        request,
        "admin/second_factor/enrol.html",
        {
            "title": "Set up your second factor",
            "form": form,
            "error": error,
            "secret": enrolment.secret,
            "qr_svg": enrolment.qr_svg(),
        },
    )
