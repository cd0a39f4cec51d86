"""A report snapshot in the formats people read: the HTML body (shared by the report page
and the PDF), the PDF, the XLSX of indicators, and the two e-mails (the report itself and
the weekly reminder digest).

Everything here works from stored JSON — `Report.content` (schema 1, see
`tracking.reports.selectors`) or `Reminder.items` — and runs no query, so a report reads
the same whenever it is rendered. Callers: `tracking.reports.services` (the PDF while
building a report, the e-mails while sending) and the report views (page, XLSX download).

User-written text (titles, note excerpts, names) reaches four kinds of output, each with
one guard: Django autoescaping in the HTML templates, XML escaping in the SVG charts, a
quote prefix against formulas in the XLSX, and a URL fetcher that lets WeasyPrint load
nothing but `data:` URIs and the project's own static files.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# The safe URL fetcher lives in `strategy.pdf` (the ICS document uses it too); its names
# stay importable from here.
from strategy.pdf import PDF_BASE_URL as PDF_BASE_URL
from strategy.pdf import RefusedResource as RefusedResource
from strategy.pdf import fetch_resource as _safe_fetch
from strategy.pdf import html_to_pdf
from tracking import status as st
from tracking.cells import neutralise

logger = logging.getLogger(__name__)

# Worst first, as in the report builder's counts.
STATUS_ORDER = sorted(st.SEVERITY, key=st.SEVERITY.__getitem__, reverse=True)
MILESTONE_STATES = {"overdue": "Overdue", "due": "Due", "done": "Done"}
CADENCE_WORDS = {"weekly": "weekly", "monthly": "monthly", "quarterly": "quarterly"}
SITE_NAME = "Strategy Tracker"


@dataclass(frozen=True)
class Tone:
    """The colours of one status, for places CSS classes cannot reach."""

    background: str
    text: str
    border: str


# The chip colours of static/css/app.css and report.css (every text pair ≥ 4.5:1), for the
# e-mails' inline styles and the SVG charts. The border keeps the pale chips (at risk, no
# data) visible as shapes on white.
TONES = {
    st.ON_TRACK: Tone("#17703a", "#ffffff", "#17703a"),
    st.AT_RISK: Tone("#f5b82e", "#2b1d00", "#8f6200"),
    st.OFF_TRACK: Tone("#b42318", "#ffffff", "#b42318"),
    st.ACHIEVED: Tone("#1d5fbf", "#ffffff", "#1d5fbf"),
    st.NOT_STARTED: Tone("#5b6675", "#ffffff", "#5b6675"),
    st.NO_DATA: Tone("#e8eaed", "#1f2937", "#8a929c"),
}


def tone(status: str | None) -> Tone:
    return TONES.get(status or st.NO_DATA, TONES[st.NO_DATA])


# --- Hydrating a snapshot for templates ---------------------------------------------------

_DATE_KEYS = frozenset(
    {
        "as_of",
        "since_date",
        "start",
        "end",
        "last_update",
        "due_on",
        "completed_on",
        "period_end",
        "document_date",
    }
)
_DATETIME_KEYS = frozenset({"generated_at"})


def _revive(value: Any, key: str = "") -> Any:
    """A copy of `value` with the ISO strings under date keys turned into dates."""
    if isinstance(value, dict):
        return {k: _revive(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_revive(v, key) for v in value]
    if isinstance(value, str) and key in _DATE_KEYS | _DATETIME_KEYS:
        try:
            if key in _DATETIME_KEYS:
                return datetime.fromisoformat(value)
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _nodes(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for section in content.get("sections", []) for node in section.get("nodes", [])]


def _bar_percent(progress: int | None, *, ceiling: int = 100) -> int:
    return max(0, min(ceiling, progress or 0))


def hydrate(content: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a snapshot for templates: ISO dates become `date`/`datetime` objects
    (so templates can use `|date`); numbers stay the strings they were reported as.

    It also adds what templates cannot compute, leaving every stored key as it was:
    - `status_rows`: [{status, label, assessment, computed, tone}] for the headline, worst
      first, every status listed;
    - `tone` (a `Tone`) beside every status: node channels, indicators, latest notes, new
      notes, and `from_tone`/`to_tone` on status changes — the e-mails' inline colours;
    - `bar_percent` (progress clamped to 0–100) on indicators, for progress bars;
    - `state_label` on milestones ("Overdue", "Due", "Done").
    """
    out = _revive(content)
    counts = out.get("counts") or {}
    out["status_rows"] = [
        {
            "status": status,
            "label": st.label(status),
            "assessment": (counts.get("assessment") or {}).get(status, 0),
            "computed": (counts.get("computed") or {}).get(status, 0),
            "tone": tone(status),
        }
        for status in STATUS_ORDER
    ]
    changes = out.get("changes") or {}
    for change in changes.get("status_changes", []):
        change["from_tone"], change["to_tone"] = tone(change.get("from")), tone(change.get("to"))
    for note in changes.get("new_notes", []):
        note["tone"] = tone(note.get("assessment"))
    for node in _nodes(out):
        for channel in ("assessment", "computed"):
            node[channel]["tone"] = tone(node[channel].get("status"))
        if node.get("latest_note"):
            node["latest_note"]["tone"] = tone(node["latest_note"].get("assessment"))
        for indicator in node.get("indicators", []):
            indicator["tone"] = tone(indicator.get("status"))
            indicator["bar_percent"] = _bar_percent(indicator.get("progress_percent"))
        for milestone in node.get("milestones", []):
            milestone["state_label"] = MILESTONE_STATES.get(milestone.get("state"), "")
    return out


def report_filename(*, content: dict[str, Any], extension: str) -> str:
    """`<mission slug>-<period label slug>.<extension>`, e.g. china-week-of-9-nov-2026.pdf."""
    mission = slugify(content["strategy"].get("mission_slug") or content["strategy"]["mission"])
    return f"{mission}-{slugify(content['period']['label'])}.{extension}"


# --- SVG charts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """One chart: a `data:image/svg+xml` URI for an <img>, its alt text, and for
    indicator charts the id of the node it belongs to."""

    src: str
    alt: str
    node_id: int | None = None


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CHART_WIDTH = 640
CHART_FONT = "font-family=\"'DejaVu Sans', sans-serif\""
INK = "#1f2933"
MUTED = "#56606b"
TRACK = "#f3f5f8"
LINE = "#d5dae1"


def _xml(text: object) -> str:
    """Text safe inside an SVG text node or a double-quoted attribute."""
    return escape(_XML_ILLEGAL.sub("", str(text)), {'"': "&quot;", "'": "&apos;"})


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(*, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" role="img" {CHART_FONT} font-size="11" '
        f'fill="{INK}"><title>{_xml(title)}</title>{"".join(body)}</svg>'
    )


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _count_phrase(counts: dict[str, int]) -> str:
    parts = [f"{n} {st.label(s).lower()}" for s in STATUS_ORDER if (n := counts.get(s, 0))]
    return ", ".join(parts) or "none"


def _headline_chart(counts: dict[str, Any]) -> Chart | None:
    """Two stacked bars — analysts' assessment and computed status — of objectives by
    status, with a legend that names each colour."""
    channels = [
        ("Assessment", counts.get("assessment") or {}),
        ("Indicators", counts.get("computed") or {}),
    ]
    if not any(sum(c.values()) for _, c in channels):
        return None
    left, width, row = 112, CHART_WIDTH - 120, 30
    body: list[str] = []
    for index, (name, channel) in enumerate(channels):
        y = 6 + index * row
        body.append(f'<text x="0" y="{y + 14}" font-weight="bold">{_xml(name)}</text>')
        total = sum(channel.values()) or 1
        x = float(left)
        for status in STATUS_ORDER:
            n = channel.get(status, 0)
            if not n:
                continue
            w = width * n / total
            t = tone(status)
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="20" fill="{t.background}" '
                f'stroke="#ffffff" stroke-width="1"/>'
            )
            if w >= 18:
                body.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 14}" text-anchor="middle" '
                    f'fill="{t.text}" font-weight="bold">{n}</text>'
                )
            x += w
    legend_y = 6 + len(channels) * row + 6
    x = 0.0
    shown = [s for s in STATUS_ORDER if any(c.get(s, 0) for _, c in channels)]
    for status in shown:
        label, t = st.label(status), tone(status)
        body.append(
            f'<rect x="{x:.1f}" y="{legend_y}" width="12" height="12" fill="{t.background}" '
            f'stroke="{t.border}"/><text x="{x + 17:.1f}" y="{legend_y + 10}">{_xml(label)}</text>'
        )
        x += 17 + len(label) * 7 + 16
    alt = "Objectives by status. " + " ".join(
        f"{name}: {_count_phrase(channel)}." for name, channel in channels
    )
    return Chart(src=_data_uri(_svg(height=legend_y + 18, title=alt, body=body)), alt=alt)


def _indicator_chart(node: dict[str, Any]) -> Chart:
    """One horizontal bar per indicator: progress towards target, 0–120 %, with a dashed
    line at 100 % and the percentage and status written beside each bar."""
    left, width, row = 244, 276, 22  # names take the 236 px left of the bars
    scale = width / 120
    indicators = node["indicators"]
    body: list[str] = []
    phrases: list[str] = []
    for index, indicator in enumerate(indicators):
        y = 4 + index * row
        name, status = indicator.get("name", ""), indicator.get("status") or st.NO_DATA
        label = indicator.get("status_label") or st.label(status)
        percent = indicator.get("progress_percent")
        body.append(
            f'<text x="0" y="{y + 12}"><title>{_xml(name)}</title>{_xml(_clip(name, 36))}</text>'
            f'<rect x="{left}" y="{y}" width="{width}" height="16" fill="{TRACK}"/>'
        )
        if percent is None:
            value = f"No value · {label}"
            phrases.append(f"{name}: no value yet")
        else:
            t = tone(status)
            bar = _bar_percent(percent, ceiling=120) * scale
            if bar:
                body.append(
                    f'<rect x="{left}" y="{y + 1}" width="{bar:.1f}" height="14" '
                    f'fill="{t.background}" stroke="{t.border}"/>'
                )
            value = f"{percent} % · {label}"
            phrases.append(f"{name}: {percent} % ({label.lower()})")
        body.append(f'<text x="{left + width + 8}" y="{y + 12}">{_xml(value)}</text>')
    axis_y = 4 + len(indicators) * row
    full = left + 100 * scale
    body.append(
        f'<line x1="{full:.1f}" y1="0" x2="{full:.1f}" y2="{axis_y}" stroke="{INK}" '
        f'stroke-width="1.2" stroke-dasharray="4 3"/>'
        f'<line x1="{left}" y1="{axis_y}" x2="{left + width}" y2="{axis_y}" stroke="{LINE}"/>'
    )
    for tick in (0, 50, 100):  # 120 % is the right edge: no room for its label beside 100 %
        x = left + tick * scale
        anchor = "start" if tick == 0 else "middle"
        body.append(
            f'<text x="{x:.1f}" y="{axis_y + 13}" text-anchor="{anchor}" fill="{MUTED}" '
            f'font-size="10">{tick} %</text>'
        )
    subject = f"{node.get('kind_label', '')} {node.get('code', '')}".strip()
    alt = (
        f"Progress towards target of the indicators of {subject}: "
        + "; ".join(phrases)
        + ". The dashed line marks 100 %."
    )
    svg = _svg(height=axis_y + 18, title=alt, body=body)
    return Chart(src=_data_uri(svg), alt=alt, node_id=node.get("id"))


def report_charts(*, content: dict[str, Any]) -> dict[str, Any]:
    """The report's charts (from raw or hydrated content), drawn here rather than by
    JavaScript so the PDF and the page show the same images:
    `{"headline": Chart | None, "nodes": [Chart, …]}` — one chart per node that has
    indicators, in tree order, each with `node_id`."""
    return {
        "headline": _headline_chart(content.get("counts") or {}),
        "nodes": [_indicator_chart(node) for node in _nodes(content) if node.get("indicators")],
    }


# --- PDF ----------------------------------------------------------------------------------


def fetch_resource(url: str) -> Any:
    """Everything WeasyPrint loads while rendering a report PDF comes through here (see
    `strategy.pdf.fetch_resource`): a `data:` URI or a static file, nothing else."""
    return _safe_fetch(url)


def report_pdf(*, content: dict[str, Any]) -> bytes:
    """The report as an A4 PDF (template tracking/reports/pdf.html), charts as images."""
    hydrated = hydrate(content)
    html = render_to_string(
        "tracking/reports/pdf.html",
        {"content": hydrated, "charts": report_charts(content=hydrated)},
    )
    # Looked up at call time, so a test's stand-in for `fetch_resource` sees every URL.
    return html_to_pdf(html, fetch=lambda url: fetch_resource(url))


# --- XLSX ---------------------------------------------------------------------------------

INDICATOR_COLUMNS = [
    ("Code", 9),
    ("Node", 42),
    ("Indicator", 42),
    ("Unit", 12),
    ("Direction", 11),
    ("Baseline", 12),
    ("Target", 12),
    ("Actual", 12),
    ("Period", 12),
    ("Progress %", 11),
    ("Status", 12),
    ("Late period", 12),
]
OBJECTIVE_COLUMNS = [
    ("Code", 9),
    ("Kind", 24),
    ("Title", 50),
    ("Assessment", 13),
    ("Computed", 13),
    ("Stale", 8),
    ("Last update", 13),
    ("Latest note", 50),
]


def _cell_text(text: str) -> str:
    """User text for a cell: control characters XLSX cannot hold dropped, then a leading
    formula character neutralised (`tracking.cells`, shared with the CSV export)."""
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))


def _number(value: str | None) -> Decimal | str | None:
    """A snapshot's decimal string as a number cell; anything unparsable stays text."""
    if value in (None, ""):
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError):
        return str(value)


def _sheet(ws: Worksheet, columns: list[tuple[str, int]], rows: Iterable[list[Any]]) -> None:
    ws.append([name for name, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EAED")
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for index, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        ws.append([_cell_text(v) if isinstance(v, str) else v for v in row])
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(ws.max_row, 1)}"


def _indicator_rows(nodes: list[dict[str, Any]]) -> Iterable[list[Any]]:
    for node in nodes:
        for i in node.get("indicators", []):
            yield [
                node["code"],
                node["title"],
                i["name"],
                i.get("unit") or "",
                (i.get("direction") or "").capitalize(),
                _number(i.get("baseline")),
                _number(i.get("target")),
                _number(i.get("actual")),
                i.get("period_label") or "",
                i.get("progress_percent"),
                i.get("status_label") or st.label(i.get("status") or st.NO_DATA),
                i.get("late_period_label") or "",
            ]


def _objective_rows(nodes: list[dict[str, Any]]) -> Iterable[list[Any]]:
    for node in nodes:
        note = node.get("latest_note") or {}
        yield [
            node["code"],
            node.get("kind_label", ""),
            node["title"],
            node["assessment"]["label"],
            node["computed"]["label"],
            "Yes" if node.get("is_stale") else "No",
            node.get("last_update"),
            note.get("title", ""),
        ]


def report_xlsx(*, content: dict[str, Any]) -> bytes:
    """The indicator table (sheet "Indicators") and the objectives with both statuses
    (sheet "Objectives") as a workbook; numbers are numbers, dates are dates."""
    hydrated = hydrate(content)
    nodes = _nodes(hydrated)
    workbook = Workbook()
    indicators = workbook.active
    indicators.title = "Indicators"
    _sheet(indicators, INDICATOR_COLUMNS, _indicator_rows(nodes))
    _sheet(workbook.create_sheet("Objectives"), OBJECTIVE_COLUMNS, _objective_rows(nodes))
    strategy, period = hydrated["strategy"], hydrated["period"]
    workbook.properties.title = _XML_ILLEGAL.sub(
        "", f"{strategy['mission']} — {strategy['title']} — {period['label']}"
    )
    workbook.properties.subject = "Status report: indicators and objectives"
    workbook.properties.creator = SITE_NAME
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- E-mails ------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    """Header-safe: whitespace, newlines included, collapsed to single spaces."""
    return " ".join(text.split())


def _tidy_text(text: str) -> str:
    """Template output as a plain-text body: no trailing spaces (but the "-- " signature
    delimiter keeps its own), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _off_track(content: dict[str, Any]) -> int:
    """Objectives off track in either channel (goals only repeat their children)."""
    return sum(
        1
        for node in _nodes(content)
        if node.get("kind") != "mission_goal"
        and st.OFF_TRACK in (node["assessment"].get("status"), node["computed"].get("status"))
    )


def render_report_email(
    *, report: Any, recipient: str, unsubscribe_url: str, report_url: str
) -> EmailMultiAlternatives:
    """A report as an e-mail: text body, HTML alternative, the stored PDF attached, and
    one-click unsubscribe headers (RFC 8058). The caller sets Message-ID."""
    content = hydrate(report.content)
    context: dict[str, Any] = {
        "report": report,
        "content": content,
        "recipient": recipient,
        "unsubscribe_url": unsubscribe_url,
        "report_url": report_url,
        "cadence_word": CADENCE_WORDS.get(content["period"].get("cadence"), ""),
        "off_track": _off_track(content),
    }
    context["subject"] = _one_line(render_to_string("tracking/email/report_subject.txt", context))
    message = EmailMultiAlternatives(
        subject=context["subject"],
        body=_tidy_text(render_to_string("tracking/email/report_body.txt", context)),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("tracking/email/report_body.html", context), "text/html"
    )
    if report.pdf is not None:
        message.attach(
            report_filename(content=content, extension="pdf"), bytes(report.pdf), "application/pdf"
        )
    return message


REMINDER_KINDS = ("stale_nodes", "late_indicators", "overdue_milestones")
REMINDER_NOUNS = {
    "stale_nodes": ("stale objective", "stale objectives"),
    "late_indicators": ("late indicator value", "late indicator values"),
    "overdue_milestones": ("overdue milestone", "overdue milestones"),
}


def _absolute(site_url: str, path: str | None) -> str:
    # Only site-relative paths: "//host/…" or "https://…" would send the reader elsewhere.
    if not path or not path.startswith("/") or path.startswith("//"):
        return site_url + "/"
    return site_url + path


def _reminder_groups(items: dict[str, Any], *, site_url: str) -> list[dict[str, Any]]:
    """Items grouped by mission and strategy (alphabetically), each with an absolute `url`
    and its dates as dates."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in REMINDER_KINDS:
        for raw in items.get(kind) or []:
            item = _revive(raw)
            item["url"] = _absolute(site_url, item.get("path"))
            key = (item.get("mission", ""), item.get("strategy", ""))
            group = groups.setdefault(
                key, {"mission": key[0], "strategy": key[1], **{k: [] for k in REMINDER_KINDS}}
            )
            group[kind].append(item)
    return [groups[key] for key in sorted(groups, key=lambda k: (k[0].casefold(), k[1].casefold()))]


def _reminder_summary(counts: dict[str, int]) -> str:
    """ "2 stale objectives, 1 late indicator value and 1 overdue milestone"."""
    parts = [
        f"{n} {REMINDER_NOUNS[kind][n != 1]}" for kind in REMINDER_KINDS if (n := counts[kind])
    ]
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else "nothing overdue"


def render_reminder_email(*, reminder: Any, site_url: str) -> EmailMultiAlternatives:
    """The weekly digest of what a person owns that needs them: stale nodes, late
    indicator values, overdue milestones — grouped by mission and strategy, with links."""
    site_url = site_url.rstrip("/")
    items = reminder.items or {}
    counts = {kind: len(items.get(kind) or []) for kind in REMINDER_KINDS}
    context: dict[str, Any] = {
        "reminder": reminder,
        "user": reminder.user,
        "week_start": reminder.week_start,
        "groups": _reminder_groups(items, site_url=site_url),
        "counts": counts,
        "summary": _reminder_summary(counts),
        "app_url": site_url + "/",
    }
    context["subject"] = _one_line(render_to_string("tracking/email/reminder_subject.txt", context))
    message = EmailMultiAlternatives(
        subject=context["subject"],
        body=_tidy_text(render_to_string("tracking/email/reminder_body.txt", context)),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("tracking/email/reminder_body.html", context), "text/html"
    )
    return message
