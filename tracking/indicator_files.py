"""Indicator values as files: download a strategy's values as CSV, and upload CSV or XLSX
back — on a page (/strategies/<pk>/indicator-values/upload/) and through the API
(`POST /api/v1/indicator-periods/bulk/` with Content-Type text/csv or the XLSX type).

Both uploads end in `tracking.services.indicator_periods_bulk`: all rows or none, every
bad row named. Files are checked before anything is parsed:

- size: at most INDICATOR_FILE_MAX_BYTES (the page says so; the API answers 413);
- type: the name ends in .csv or .xlsx, and the content is what the name says (an XLSX is
  a zip archive; a CSV is UTF-8 text without NUL bytes);
- XLSX: parsed by openpyxl, which uses defusedxml when it is installed
  (`openpyxl.xml.DEFUSEDXML`; without it we refuse XLSX rather than parse unprotected), so
  entity declarations — "billion laughs", external entities — are refused; the archive's
  unpacked size is capped (XLSX_MAX_UNPACKED_BYTES) before openpyxl opens it, against zip
  bombs. Decisions: docs/decisions/0021.

Columns: indicator (id), period_start (YYYY-MM-DD), and any of actual, target, comment.
Other columns — the download's node and indicator names, for people — are ignored, so a
downloaded file can be edited and uploaded again. Text cells the download neutralised
against formulas ("'=…", see `tracking.cells`) lose that apostrophe on the way back in.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl.xml
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from strategy.api.parsers import read_body
from strategy.models import Role
from strategy.selectors import has_role, visible_strategies
from tracking.cells import neutralise, restore
from tracking.models import IndicatorPeriod
from tracking.services import BULK_FIELDS, indicator_periods_bulk

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# An XLSX of 20,000 rows unpacks to a few MiB; a zip bomb to gigabytes.
XLSX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
XLSX_MAX_MEMBERS = 1000
KEY_COLUMNS = {"indicator", "period_start"}


ENTITIES_REFUSED = (
    "The workbook contains XML entity declarations, which are refused (they can expand "
    "without end or read other files). Save it again from a spreadsheet program and "
    "upload that."
)
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!doctype", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class FileRefused(ValueError):
    """An upload refused before any row was read; the message says why, for people."""


# --- Reading ------------------------------------------------------------------------------


def _cell(value: Any) -> str | None:
    """A cell as the text the bulk service reads; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    text = restore(str(value).strip())
    return text or None


def _rows(header: list[Any], records) -> list[dict[str, str]]:
    names = [str(name).strip().lower() if name is not None else "" for name in header]
    if not set(names) >= KEY_COLUMNS:
        raise FileRefused(
            "The first row must name the columns, including indicator and period_start "
            "(and any of actual, target, comment)."
        )
    rows = []
    for record in records:
        row = {}
        for name, value in zip(names, record, strict=False):
            cell = _cell(value)
            if name in BULK_FIELDS and cell is not None:
                row[name] = cell
        if row:
            rows.append(row)
    if not rows:
        raise FileRefused("The file has a header row but no values under it.")
    return rows


def read_csv(raw: bytes) -> list[dict[str, str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "This is not a UTF-8 CSV file. Save it as “CSV UTF-8” and upload it again."
        ) from exc
    if "\x00" in text:
        raise FileRefused("This is not a text CSV file (it contains NUL bytes).")
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise FileRefused(f"The CSV cannot be read: {exc}.") from exc
    if not records:
        raise FileRefused("The file is empty.")
    return _rows(records[0], records[1:])


def read_xlsx(raw: bytes) -> list[dict[str, str]]:
    """The first sheet's rows. Refuses anything that is not a plain, modest workbook."""
    if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise FileRefused("XLSX upload is switched off: the XML protection is missing.")
    if not raw.startswith(b"PK\x03\x04"):
        raise FileRefused("This is not an XLSX workbook. Save it as “Excel Workbook (.xlsx)”.")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
            if len(members) > XLSX_MAX_MEMBERS or (
                sum(m.file_size for m in members) > XLSX_MAX_UNPACKED_BYTES
            ):
                raise FileRefused(
                    f"The workbook unpacks to more than {filesizeformat(XLSX_MAX_UNPACKED_BYTES)}; "
                    "upload the values in a smaller file."
                )
            # No part of a real workbook declares a DTD. openpyxl parses sheets with
            # defusedxml and the other parts with lxml without resolving entities; refusing
            # any declaration up front gives one clear answer whichever parser would meet it.
            for member in members:
                data = archive.read(member)
                if any(marker in data for marker in _DTD_MARKERS):
                    raise FileRefused(ENTITIES_REFUSED)
    except zipfile.BadZipFile as exc:
        raise FileRefused("This XLSX workbook is damaged and cannot be opened.") from exc
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            records = sheet.iter_rows(values_only=True)
            header = next(records, None)
            if header is None:
                raise FileRefused("The workbook's first sheet is empty.")
            return _rows(list(header), records)
        finally:
            workbook.close()
    except FileRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a malformed archive
        if _caused_by(exc, DefusedXmlException):
            raise FileRefused(ENTITIES_REFUSED) from exc
        raise FileRefused(
            "This XLSX workbook cannot be read. Save it again from a spreadsheet program."
        ) from exc


def read_upload(name: str, raw: bytes) -> list[dict[str, str]]:
    """Rows of an uploaded file, by its name's extension (and checked against content)."""
    limit = settings.INDICATOR_FILE_MAX_BYTES
    if len(raw) > limit:
        raise FileRefused(
            f"“{name}” is {filesizeformat(len(raw))}; the limit is {filesizeformat(limit)}."
        )
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        return read_xlsx(raw)
    if lowered.endswith(".csv"):
        if raw.startswith(b"PK\x03\x04"):
            raise FileRefused(f"“{name}” is a spreadsheet workbook, not a CSV: rename it to .xlsx.")
        return read_csv(raw)
    raise FileRefused(f"“{name}” is neither .csv nor .xlsx. Upload a CSV or an XLSX file.")


class XLSXParser(BaseParser):
    """XLSX request bodies for the bulk endpoint, parsed into rows (a list of dicts)."""

    media_type = XLSX_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_body(stream, settings.INDICATOR_FILE_MAX_BYTES)
        try:
            return read_xlsx(raw)
        except FileRefused as exc:
            raise exceptions.ParseError(str(exc)) from exc


# --- Writing ------------------------------------------------------------------------------


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def indicator_values_csv(*, strategy, user) -> str:
    """Every recorded period of the strategy's indicators, in the upload's columns (the
    target column only for managers, who alone may set targets) plus names for people."""
    managers = has_role(user, strategy.mission_id, Role.MANAGER)
    columns = ["indicator", "period_start", "actual", *(["target"] if managers else [])]
    columns += ["comment", "node", "indicator_name", "period_end"]
    periods = (
        IndicatorPeriod.objects.filter(indicator__node__strategy=strategy)
        .select_related("indicator__node")
        .order_by("indicator__node__sort_key", "indicator__name", "indicator_id", "period_start")
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for period in periods:
        node = period.indicator.node
        row = [str(period.indicator_id), period.period_start.isoformat(), _number(period.actual)]
        if managers:
            row.append(_number(period.target))
        row += [
            neutralise(period.comment or ""),
            neutralise(f"{node.code} {node.title}"),
            neutralise(period.indicator.name),
            period.period_end.isoformat() if period.period_end else "",
        ]
        writer.writerow(row)
    return "\ufeff" + buffer.getvalue()  # the BOM tells Excel it is UTF-8


# --- Pages --------------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text="Columns: indicator, period_start, and any of actual, target, comment.",
    )


def _strategy(request: HttpRequest, pk: int):
    return get_object_or_404(visible_strategies(user=request.user).select_related("mission"), pk=pk)


@login_required
@require_GET
def values_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The strategy's indicator values as CSV (anyone who can see the strategy)."""
    strategy = _strategy(request, pk)
    response = HttpResponse(
        indicator_values_csv(strategy=strategy, user=request.user),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"{slugify(strategy.title)[:60] or 'strategy'}-indicator-values.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _row_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field.replace('rows[', 'Row ').replace('].', ', ')}: {message}"
            for field, messages_ in exc.message_dict.items()
            for message in messages_
        ]
    return list(exc.messages)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def values_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a CSV or XLSX of indicator values: all rows recorded, or none."""
    strategy = _strategy(request, pk)
    if not has_role(request.user, strategy.mission_id, Role.ANALYST):
        return render(
            request,
            "tracking/forbidden.html",
            {"reason": "You need the analyst role to record indicator values."},
            status=403,
        )
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        limit = settings.INDICATOR_FILE_MAX_BYTES
        try:
            if upload.size > limit:
                raise FileRefused(
                    f"“{upload.name}” is {filesizeformat(upload.size)}; the limit is "
                    f"{filesizeformat(limit)}."
                )
            rows = read_upload(upload.name, upload.read())
            if len(rows) > settings.BULK_MAX_ROWS:
                raise FileRefused(
                    f"{len(rows):,} rows; at most {settings.BULK_MAX_ROWS:,} per upload."
                )
            result = indicator_periods_bulk(rows=rows, by=request.user)
        except FileRefused as exc:
            form.add_error("file", str(exc))
        except PermissionDenied as exc:
            errors = [str(exc)]
        except ValidationError as exc:
            errors = _row_errors(exc)
        else:
            messages.success(
                request,
                f"Uploaded {len(rows)} row{'s' if len(rows) != 1 else ''}: {result.created} "
                f"new, {result.updated} updated, {result.unchanged} unchanged.",
            )
            return redirect("strategy-detail", pk=strategy.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "tracking/indicator_upload.html",
        {
            "strategy": strategy,
            "form": form,
            "errors": errors,
            "max_size": filesizeformat(settings.INDICATOR_FILE_MAX_BYTES),
            "max_rows": settings.BULK_MAX_ROWS,
            "can_set_targets": has_role(request.user, strategy.mission_id, Role.MANAGER),
        },
        status=status,
    )
