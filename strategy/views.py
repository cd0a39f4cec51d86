"""HTML pages of `strategy`: the signed-in user's API tokens (/account/tokens/).

Thin: the form parses, `strategy.services.api_token_create` / `api_token_revoke` do the
work. A new key is shown once, in the response to the POST that created it (never in a
URL, the session or a message) and that response is not cached. The other pages of the
tracker live in `tracking`, because they show statuses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from strategy import services
from strategy.models import ApiToken
from strategy.services import TOKEN_MAX_EXPIRY_DAYS as MAX_EXPIRY_DAYS


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “indicator pipeline”.",
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text=f"Optional, 1–{MAX_EXPIRY_DAYS}. Leave empty for a token that lasts until you revoke it.",
        # A text box with a numeric keypad: styled like the other fields, no spinner.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
    )

    def expires_at(self):
        days = self.cleaned_data.get("expires_days")
        return timezone.now() + timedelta(days=days) if days else None


class TokenRow(NamedTuple):
    token: ApiToken
    status: str  # active, expired or revoked
    chip: str  # the status chip's colour class in app.css


def _rows(user) -> list[TokenRow]:
    now = timezone.now()
    rows = []
    for token in ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"):
        if token.revoked_at is not None:
            rows.append(TokenRow(token, "revoked", "not_started"))
        elif not token.is_active_at(now):
            rows.append(TokenRow(token, "expired", "no_data"))
        else:
            rows.append(TokenRow(token, "active", "on_track"))
    return rows


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's tokens and a form to create one; a successful POST shows the key once."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            token, key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            response = render(
                request,
                "strategy/api_token_created.html",
                {
                    "token": token,
                    "key": key,
                    "example_url": request.build_absolute_uri("/api/v1/missions/"),
                },
            )
            add_never_cache_headers(response)  # Cache-Control: …no-store…
            return response
    return render(
        request,
        "strategy/api_tokens.html",
        {"form": form, "rows": _rows(request.user), "max_expiry_days": MAX_EXPIRY_DAYS},
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own tokens; anyone else's is a 404."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"Revoked “{token.name}”: tools using it are refused from now on.")
    return redirect("api-tokens")
