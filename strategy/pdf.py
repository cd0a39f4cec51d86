"""HTML to PDF with WeasyPrint, loading nothing but `data:` URIs and our own static files.

Callers: `strategy.ics.pdf_writer` (the ICS document) and `tracking.reports.render`
(status reports). Both render a template whose text is user-written, so the one guard
against it reaching out is here: the URL fetcher never opens a connection or a local path
itself; it answers `data:` URIs and files of the project's static folders and refuses
everything else (http, https, file:, other hosts) with a warning, and WeasyPrint leaves the
resource out.

WeasyPrint loads Pango when imported (~0.7 s), so it is imported lazily: only processes
that build PDFs pay.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import posixpath
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

logger = logging.getLogger(__name__)

# WeasyPrint resolves a template's relative URLs (/static/…) against this. The .invalid
# domain never resolves (RFC 2606) and is never contacted: the fetcher maps its static
# paths to files on disk and refuses everything else.
PDF_BASE_URL = "https://strategy-tracker.invalid/"


class RefusedResource(ValueError):
    """The PDF asked for something it may not load: remote, file:, or unknown."""


def _response(url: str, body: bytes, content_type: str) -> Any:
    from weasyprint.urls import URLFetcherResponse

    return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


def _data_response(url: str) -> Any:
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise RefusedResource("Malformed data: URI")
    params = [p.strip() for p in header.split(";")]
    if params[-1].lower() == "base64":
        params.pop()
        body = base64.b64decode(unquote(payload), validate=False)
    else:
        body = unquote_to_bytes(payload)
    content_type = ";".join(params) if params and params[0] else "text/plain;charset=US-ASCII"
    return _response(url, body, content_type)


def _static_name(url: str) -> str | None:
    """The static file name a URL points at (`css/report.css`), or None if it is not a
    static URL or tries to climb out of the static folders."""
    prefix = urljoin(PDF_BASE_URL, settings.STATIC_URL)
    if not url.startswith(prefix):
        return None
    name = posixpath.normpath(unquote(urlsplit(url[len(prefix) :]).path))
    if name in {".", ""} or name.startswith(("../", "/")) or name == ".." or "\x00" in name:
        return None
    return name


def _find_static(name: str) -> str | None:
    found = finders.find(name)
    if not found:
        # Production templates ask for hashed names (css/report.1a2b3c.css); the finders
        # know only the source names, which the manifest maps back.
        hashed = getattr(staticfiles_storage, "hashed_files", None) or {}
        source = next((src for src, dst in hashed.items() if dst == name), None)
        found = finders.find(source) if source else None
    return found if isinstance(found, str) else None


def fetch_resource(url: str) -> Any:
    """Everything WeasyPrint loads while rendering comes through here: a `data:` URI, or a
    file of the project's static folders. Anything else is refused with a warning."""
    if url.startswith("data:"):
        return _data_response(url)
    name = _static_name(url)
    path = _find_static(name) if name else None
    if path is None:
        logger.warning("PDF: refused to fetch %s", url[:200])
        raise RefusedResource(f"Only data: URIs and static files may be loaded: {url[:200]}")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if content_type.startswith("text/"):
        content_type += ";charset=utf-8"
    return _response(url, Path(path).read_bytes(), content_type)


@cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class StaticOnlyFetcher(URLFetcher):
        """A WeasyPrint fetcher that hands every URL to one function (`fetch_resource`, or
        a caller's wrapper around it) and never opens a connection or a path itself."""

        def __init__(self, fetch: Callable[[str], Any], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._fetch = fetch

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            return self._fetch(url)

    return StaticOnlyFetcher


def html_to_pdf(html: str, *, fetch: Callable[[str], Any] = fetch_resource) -> bytes:
    """The PDF of a standalone HTML document (its CSS sets the page size and margins).
    `fetch` answers every URL the document asks for; the default is the safe one."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=_fetcher_class()(fetch))
    return document.write_pdf()
