"""Optional two-factor sign-in with a TOTP app (django-otp), and the password change page.
Decisions: docs/decisions/0020.

How it fits together:

- Anyone may turn two-factor on for their own account (/account/two-factor/): the page
  shows a new secret (text, otpauth link and QR code) and switches it on once a code from
  the app confirms it.
- With OTP_REQUIRED_FOR_MANAGERS=true it is mandatory for managers and admins of any
  mission and for staff and superusers.
- At sign-in (`user_logged_in`), `remember_two_factor_state` stores in the session what
  this session still owes: nothing, a code, or an enrolment. The gate middleware then
  only reads the session, so people without two-factor cost no query per request.
- `two_factor_gate` sends a session that owes a code to the verification page, and one
  that owes an enrolment to the enrolment page, before any other page (the admin's
  included). Browser calls of the API with such a session get 403. Requests that carry an
  `Authorization` header (API tokens) are not sessions and pass untouched.
- Wrong codes are logged to `config.security`; django-otp slows down guessing itself
  (each failure doubles the wait before the next code is checked).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

security_log = logging.getLogger("config.security")

# What the session still owes before any page: nothing, a code, or an enrolment.
STATE_KEY = "_two_factor"
OFF, VERIFY, ENROL = "off", "verify", "enrol"
DEVICE_NAME = "Authenticator app"


def two_factor_required(user) -> bool:
    """True when OTP_REQUIRED_FOR_MANAGERS is on and `user` is staff, a superuser, or a
    manager or admin of any mission."""
    if not settings.OTP_REQUIRED_FOR_MANAGERS:
        return False
    if user.is_staff or user.is_superuser:
        return True
    from strategy.models import Membership, Role

    return Membership.objects.filter(user=user, role__in=[Role.MANAGER, Role.ADMIN]).exists()


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def state_for(user) -> str:
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return VERIFY
    return ENROL if two_factor_required(user) else OFF


def remember_two_factor_state(sender, request, user, **kwargs) -> None:
    """On sign-in: what this session owes (read by the gate on every request)."""
    if request is not None and hasattr(request, "session"):
        request.session[STATE_KEY] = state_for(user)


def _verified(request: HttpRequest) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def _open_paths() -> tuple[str, ...]:
    """Pages a session that owes a code may still open: the two two-factor pages, sign-out,
    and static files."""
    return (
        reverse("two-factor-verify"),
        reverse("two-factor-setup"),
        reverse("logout"),
        reverse("login"),
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL,
    )


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url}, safe='/')}"


def two_factor_gate(get_response: Callable[[HttpRequest], HttpResponse]):
    """Send a signed-in session that owes a code (or an enrolment) there first."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if "HTTP_AUTHORIZATION" in request.META or not hasattr(request, "session"):
            return get_response(request)
        state = request.session.get(STATE_KEY)
        if state == OFF or not request.user.is_authenticated:
            return get_response(request)
        if state is None:  # a session from before two-factor existed: decide once
            state = request.session[STATE_KEY] = state_for(request.user)
        if state == OFF or _verified(request) or request.path.startswith(_open_paths()):
            return get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "detail": "Finish two-factor sign-in in the browser first.",
                    "code": "two_factor_required",
                    "fields": {},
                },
                status=403,
            )
        target = "two-factor-verify" if state == VERIFY else "two-factor-setup"
        return redirect(_with_next(reverse(target), request.get_full_path()))

    return middleware


# --- Pages ------------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit():
            raise forms.ValidationError("Enter the digits your app shows.")
        return code


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _check(request: HttpRequest, device: TOTPDevice, form: CodeForm, what: str) -> bool:
    """Verify the form's code on `device`; on failure add the error and log it."""
    allowed, _ = device.verify_is_allowed()
    if allowed and device.verify_token(form.cleaned_data["code"]):
        return True
    security_log.warning(
        "Two-factor code refused (%s) for %s from %s",
        what,
        request.user.get_username(),
        request.META.get("REMOTE_ADDR", "?"),
    )
    form.add_error(
        "code",
        "That code is not right, or was already used. Wait for the next code and try again."
        if allowed
        else "Too many wrong codes: wait a little before the next try.",
    )
    return False


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in: a code from the user's app."""
    if _verified(request):
        return redirect(_next_url(request))
    device = confirmed_device(request.user)
    if device is None:  # removed since sign-in
        request.session[STATE_KEY] = state_for(request.user)
        if request.session[STATE_KEY] == ENROL:
            return redirect(_with_next(reverse("two-factor-setup"), _next_url(request)))
        return redirect(_next_url(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and _check(request, device, form, "sign-in"):
        otp_login(request, device)
        security_log.info("Two-factor sign-in: %s", request.user.get_username())
        return redirect(_next_url(request))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
        status=status,
    )


def _qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Turn two-factor on (a new secret, confirmed with a code) or off (with a code, only
    when not required)."""
    user = request.user
    device = confirmed_device(user)
    required = two_factor_required(user)
    action = request.POST.get("action", "")
    if device is not None:
        if not _verified(request):  # enrolled in another session since this sign-in
            return redirect(_with_next(reverse("two-factor-verify"), request.get_full_path()))
        if request.method == "POST" and action == "disable" and not required:
            form = CodeForm(request.POST)
            if form.is_valid() and _check(request, device, form, "turning off"):
                with transaction.atomic():
                    TOTPDevice.objects.filter(user=user).delete()
                request.session.pop(DEVICE_ID_SESSION_KEY, None)
                request.session[STATE_KEY] = OFF
                security_log.info("Two-factor turned off by %s", user.get_username())
                messages.success(request, "Two-factor sign-in is off for your account.")
                return redirect("two-factor-setup")
            status = 400
        else:
            form, status = CodeForm(), 200
        return render(
            request,
            "registration/two_factor_setup.html",
            {"device": device, "required": required, "form": form},
            status=status,
        )

    # Not enrolled: one pending (unconfirmed) device holds the secret being set up.
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and _check(request, pending, form, "enrolment"):
        with transaction.atomic():
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        otp_login(request, pending)
        request.session[STATE_KEY] = VERIFY
        security_log.info("Two-factor turned on by %s", user.get_username())
        messages.success(request, "Two-factor sign-in is on: from now on, sign-in asks for a code.")
        return redirect(_next_url(request) if request.POST.get("next") else "two-factor-setup")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "device": None,
            "required": required,
            "form": form,
            "secret": _secret_text(pending),
            "otpauth_url": pending.config_url,
            "qr": _qr_data_uri(pending.config_url),
            "next": request.GET.get("next") or request.POST.get("next") or "",
        },
        status=400 if form.is_bound else 200,
    )


def _secret_text(device: TOTPDevice) -> str:
    """The secret in base32, grouped by four for typing into an app by hand."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


class _PasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, new twice, AUTH_PASSWORD_VALIDATORS)."""


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change your password. The validators refuse short, common, all-digit and
    name-like passwords; other sessions of the account end, this one continues."""
    form = _PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        security_log.info("Password changed: %s", user.get_username())
        messages.success(request, "Your password is changed. Other sessions are signed out.")
        return redirect("password-change")
    return render(
        request,
        "registration/password_change.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )
