"""Request parsers of the API: size-limited, NUL-free, strict JSON.

Kept apart from `strategy.api.base` because REST framework imports the parser classes
named in settings while `rest_framework.views` is still loading.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import BaseParser, JSONParser


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request is too large."
    default_code = "too_large"


def read_body(stream, limit: int | None = None) -> bytes:
    """Read a request body, refusing more than `limit` bytes with 413."""
    limit = limit or settings.API_MAX_BODY_BYTES
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The request body is over {limit:,} bytes.")
    return data


def _reject_nul(value: Any, path: str = "") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise exceptions.ParseError(
                f"NUL bytes are not allowed (at {path or 'the top level'})."
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key, path)
            _reject_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_nul(item, f"{path}[{index}]")


class StrictJSONParser(JSONParser):
    """JSON only within the size limit, with no NUL bytes and no NaN/Infinity."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_body(stream)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}") from exc
        _reject_nul(data)
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class CSVParser(BaseParser):
    """text/csv bodies, handed to the view as text (the bulk endpoint parses rows)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_body(stream)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError("CSV must be UTF-8 encoded.") from exc
        if "\x00" in text:
            raise exceptions.ParseError("NUL bytes are not allowed.")
        return text


class PlainTextParser(CSVParser):
    """text/plain and text/markdown bodies (document import)."""

    media_type = "text/*"
