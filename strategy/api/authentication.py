"""`Authorization: Token <key>` (or `Bearer <key>`) for tools calling the API.

Keys are `strategy.models.ApiToken`s, created and revoked on the token page
(`strategy.views`) or by `manage.py create_api_token` / `revoke_api_token`. Only the
SHA-256 digest of a key is stored, so a key is found by its digest. Listed first in
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] (config/settings.py) so that a request
without credentials gets 401 with `WWW-Authenticate`, not 403.

A refused key always gets the same answer, whether it is unknown, revoked, expired or
its user is inactive; the reason goes to the "strategy.auth" log with the key's prefix.
A malformed header says what is wrong with it. Why our own model and not knox:
docs/decisions/0010-own-api-tokens.md.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from strategy.models import ApiToken
from strategy.services import api_token_digest

logger = logging.getLogger("strategy.auth")

SCHEMES = ("token", "bearer")  # compared case-insensitively
MAX_KEY_LENGTH = 200  # our keys are 46 characters; anything far longer is not one
KEY_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+")  # secrets.token_urlsafe plus the "st_" marker
PREFIX_LENGTH = 11  # as stored in ApiToken.prefix: "st_" and 8 characters
LAST_USED_EVERY = timedelta(seconds=60)  # write last_used_at at most this often per token

INVALID = "Invalid or expired token."


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticate as the token's user; `request.auth` is the `ApiToken`."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if isinstance(header, bytes):  # the test client may pass bytes
            header = header.decode("latin-1")
        parts = header.split()
        if not parts or parts[0].lower() not in SCHEMES:
            return None  # not ours: another authentication class may take it
        key = self._key_from(parts)
        return self._authenticate_key(key)

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'

    def _key_from(self, parts: list[str]) -> str:
        scheme = parts[0]
        if len(parts) == 1:
            raise self._refuse(f"Invalid {scheme} header: no key given.", key="")
        if len(parts) > 2:
            raise self._refuse(
                f"Invalid {scheme} header: the key must not contain spaces.", key=parts[1]
            )
        key = parts[1]
        if len(key) > MAX_KEY_LENGTH:
            raise self._refuse(f"Invalid {scheme} header: the key is too long to be one.", key=key)
        if not KEY_CHARACTERS.fullmatch(key):
            raise self._refuse(
                f"Invalid {scheme} header: the key contains characters a key never has.",
                key=key,
            )
        return key

    def _authenticate_key(self, key: str):
        token = ApiToken.objects.select_related("user").filter(digest=api_token_digest(key)).first()
        now = timezone.now()
        if token is None:
            raise self._refuse(INVALID, key=key, reason="unknown key")
        if token.revoked_at is not None:
            raise self._refuse(INVALID, key=key, reason=f"revoked token {token.pk}")
        if not token.is_active_at(now):
            raise self._refuse(INVALID, key=key, reason=f"expired token {token.pk}")
        if not token.user.is_active:
            raise self._refuse(INVALID, key=key, reason=f"inactive user {token.user_id}")
        self._touch(token, now)
        return (token.user, token)

    def _touch(self, token: ApiToken, now) -> None:
        """Record use at most once a minute: no query when the row just read is recent,
        otherwise one conditional UPDATE (so concurrent requests write once). `update()`
        keeps it out of any history."""
        cutoff = now - LAST_USED_EVERY
        if token.last_used_at is not None and token.last_used_at >= cutoff:
            return
        updated = (
            ApiToken.objects.filter(pk=token.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff))
            .update(last_used_at=now)
        )
        if updated:
            token.last_used_at = now

    @staticmethod
    def _refuse(message: str, *, key: str, reason: str = "") -> AuthenticationFailed:
        # Only the public prefix is logged, with anything odd replaced: never the key.
        prefix = re.sub(r"[^A-Za-z0-9_-]", "?", key[:PREFIX_LENGTH])
        logger.warning(
            "API token refused (prefix %s): %s", prefix or "-", reason or message.rstrip(".")
        )
        return AuthenticationFailed(message)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the scheme in /api/schema/ so the docs page can send a key."""

    target_class = "strategy.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A key from the API tokens page (/account/tokens/), sent as "
                "`Authorization: Bearer <key>` or `Authorization: Token <key>`."
            ),
        }
