"""Sign-in lockout (django-axes) as this site uses it: the backend, the locked-out page and
the audit log line. Decisions: docs/decisions/0019.

- `LockoutBackend` goes first in AUTHENTICATION_BACKENDS. For every sign-in form — ours and
  the admin's — it refuses a (username, client address) pair that failed
  AXES_FAILURE_LIMIT times within AXES_COOLOFF_MINUTES, before the password is checked.
- A call to `authenticate()` without a request is code, not a person at a form (the test
  client's `login()`, a shell): there is no address to count against, so it is neither
  counted nor locked, and Django's backend decides alone.
- API tokens never go through `authenticate()`, so lockouts cannot touch them.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

security_log = logging.getLogger("config.security")


class LockoutBackend(AxesStandaloneBackend):
    """Refuses locked-out sign-ins; signs nobody in itself."""

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message() -> str:
    minutes = settings.AXES_COOLOFF_MINUTES
    return (
        f"Too many failed sign-ins for this account from your address: signing in is "
        f"blocked for {minutes} minute{'s' if minutes != 1 else ''}. Wait, or ask an "
        f"administrator to unlock the account."
    )


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The sign-in page again, with the reason, answered 429 (axes calls this). An admin
    sign-in gets the same page: it is where the admin's form would have said it."""
    del original_response
    username = str((credentials or {}).get("username", ""))[:150]
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {"form": form, "locked_out": lockout_message(), "next": request.GET.get("next", "")},
        status=429,
    )


def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """Connected to axes' `user_locked_out`: one warning per lockout, for the audit trail."""
    security_log.warning(
        "Sign-in locked for %r from %s after %s failures (%s minutes)",
        str(username or "")[:150],
        ip_address or "?",
        settings.AXES_FAILURE_LIMIT,
        settings.AXES_COOLOFF_MINUTES,
    )
