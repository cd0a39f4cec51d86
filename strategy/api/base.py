"""What every API endpoint shares: parsing, pagination, the error shape, ETags, scoping.

Errors — one shape everywhere:
    {"detail": "human summary", "code": "invalid", "fields": {"title": ["…"], …}}
Service exceptions map onto HTTP: ValidationError → 400, PermissionDenied → 403,
StaleVersion → 412 (If-Match no longer matches). Objects of missions the caller does not
belong to never reach a view: querysets are scoped first, so they are 404.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from strategy.concurrency import StaleVersion
from strategy.selectors import user_roles


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it; fetch it again and retry."
    default_code = "precondition_failed"


# --- Errors ----------------------------------------------------------------------------


def _fields_from(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _fields_from(value).items():
                    out[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list):
                messages: list[str] = []
                for index, item in enumerate(value):
                    if isinstance(item, dict):
                        for sub_key, sub_value in _fields_from(item).items():
                            out[f"{key}[{index}].{sub_key}"] = sub_value
                    else:
                        messages.append(str(item))
                if messages:
                    out[key] = messages
            else:
                out[key] = [str(value)]
        return out
    return {}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Translate service and framework exceptions into the one error shape."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, StaleVersion):
        exc = PreconditionFailed(str(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    fields: dict[str, list[str]] = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _fields_from(detail)
            if isinstance(detail, dict)
            else {"non_field_errors": [str(d) for d in detail]}
        )
        summary = "; ".join(
            f"{k}: {' '.join(v)}" if k != "non_field_errors" else " ".join(v)
            for k, v in fields.items()
        )
        code = "invalid"
    else:
        summary = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        code = getattr(exc, "default_code", "error")
        if isinstance(getattr(exc, "detail", None), exceptions.ErrorDetail):
            code = exc.detail.code or code
    response.data = {"detail": summary or "Invalid input.", "code": code, "fields": fields}
    return response


# --- ETags and If-Match ------------------------------------------------------------------

_ETAG = re.compile(r'^\s*(W/)?"(?P<tag>[^"]*)"\s*$')


def etag_for(obj) -> str:
    return f'"{obj._meta.model_name}-{obj.pk}-v{obj.version}"'


def expected_version(request, obj) -> int | None:
    """The version an `If-Match` header asks for: None without the header (unconditional),
    the current version for `*`, and -1 (never matches) for any other object's tag."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    header = header.strip()
    if header == "*":
        return obj.version
    match = _ETAG.match(header)
    prefix = f"{obj._meta.model_name}-{obj.pk}-v"
    if (
        match
        and match.group("tag").startswith(prefix)
        and match.group("tag")[len(prefix) :].isdigit()
    ):
        return int(match.group("tag")[len(prefix) :])
    return -1


class ETagMixin:
    """Adds `ETag` to single-object responses of a viewset whose model has `version`."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        obj = getattr(self, "_etag_object", None)
        if obj is not None and 200 <= response.status_code < 300 and response.status_code != 204:
            response["ETag"] = etag_for(obj)
        return response

    def get_object(self):
        obj = super().get_object()
        self._etag_object = obj
        return obj

    def tag(self, obj) -> None:
        """Mark `obj` (e.g. a freshly created one) as the response's ETag source."""
        self._etag_object = obj


# --- Scoping ----------------------------------------------------------------------------


def visible_mission_ids(user) -> list[int] | None:
    """Mission ids the user may see; None means all (superusers)."""
    if user.is_superuser:
        return None
    return list(user_roles(user))


def scope(queryset, user, mission_field: str):
    """Limit `queryset` to rows of the user's missions (via `mission_field`, e.g.
    "strategy__mission_id")."""
    ids = visible_mission_ids(user)
    return queryset if ids is None else queryset.filter(**{f"{mission_field}__in": ids})
