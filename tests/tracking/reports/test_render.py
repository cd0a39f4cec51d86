"""A report snapshot renders into every format people read — PDF, XLSX, the page body and
the e-mails — shows user-written text as text, and makes the PDF fetch nothing remote.

Contents are built by hand (schema 1, see tracking.reports.selectors): no database.
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
import xml.etree.ElementTree as ET
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from openpyxl import load_workbook
from pypdf import PdfReader

from tracking.models import Reminder, Report
from tracking.reports import render

HOSTILE = '<script>alert(1)</script> <img src="http://example.invalid/x.png"> "quotes" & ampersands'
STATIC_PREFIX = render.PDF_BASE_URL + settings.STATIC_URL.lstrip("/")
OBJECTIVE_TITLES = [
    "Widen market access for Testland exporters",
    "Strengthen maritime law enforcement cooperation",
    "Modernise the embassy's IT platform",
]


def _status(status: str, reason: str = "") -> dict[str, str]:
    return {"status": status, "label": render.st.label(status), "reason": reason}


def _node(
    node_id: int,
    code: str,
    kind: str,
    title: str,
    *,
    assessment: str = "no_data",
    computed: str = "no_data",
    stale: bool = False,
    note: dict[str, Any] | None = None,
    indicators: list[dict[str, Any]] | None = None,
    milestones: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    kind_labels = {
        "mission_goal": "Mission Goal",
        "mission_objective": "Mission Objective",
        "management_objective": "Management Objective",
    }
    return {
        "id": node_id,
        "code": code,
        "kind": kind,
        "kind_label": kind_labels[kind],
        "title": title,
        "depth": code.count("."),
        "owner": "Dana Analyst",
        "assessment": _status(assessment, f"{code} is {assessment}: note of 2 Nov"),
        "computed": _status(computed),
        "disagreement": assessment != computed,
        "is_stale": stale,
        "freshness": "updated 120 days ago" if stale else "updated 6 days ago",
        "last_update": "2026-07-18" if stale else "2026-11-09",
        "latest_note": note,
        "indicators": indicators or [],
        "milestones": milestones or [],
    }


def _indicator(
    indicator_id: int, name: str, *, actual: str | None, progress: int | None, status: str
) -> dict[str, Any]:
    return {
        "id": indicator_id,
        "name": name,
        "unit": "visits",
        "direction": "increase",
        "baseline": "10",
        "target": "30.5",
        "actual": actual,
        "period_label": "FY2027 Q1",
        "progress_percent": progress,
        "status": status,
        "status_label": render.st.label(status),
        "late_period_label": "" if actual else "FY2026 Q4",
    }


def make_content(*, note_title: str = "Talks resumed", excerpt: str = "Good week.") -> dict:
    """A valid schema-1 snapshot: 2 goals, 3 objectives (one management), indicators,
    milestones, and changes since a previous report."""
    note = {
        "id": 41,
        "title": note_title,
        "as_of": "2026-11-12",
        "assessment": "at_risk",
        "assessment_label": "At risk",
        "excerpt": excerpt,
    }
    goal1 = _node(1, "1", "mission_goal", "A prosperous partnership", assessment="at_risk")
    obj11 = _node(
        2,
        "1.1",
        "mission_objective",
        OBJECTIVE_TITLES[0],
        assessment="at_risk",
        computed="off_track",
        note=note,
        indicators=[
            _indicator(7, "Trade missions held", actual="25", progress=79, status="at_risk"),
            _indicator(8, "Export licences approved", actual=None, progress=None, status="no_data"),
            _indicator(9, "Joint ventures signed", actual="60", progress=148, status="on_track"),
        ],
    )
    goal2 = _node(3, "2", "mission_goal", "A secure region", assessment="on_track")
    obj21 = _node(
        4,
        "2.1",
        "mission_objective",
        OBJECTIVE_TITLES[1],
        assessment="on_track",
        computed="on_track",
        indicators=[
            _indicator(10, "Joint patrols", actual="12", progress=96, status="on_track"),
        ],
    )
    mo1 = _node(
        5,
        "1",
        "management_objective",
        OBJECTIVE_TITLES[2],
        stale=True,
        milestones=[
            {
                "title": "Replace network switches",
                "due_on": "2026-10-31",
                "completed_on": None,
                "state": "overdue",
                "owner": "Sam Manager",
            },
            {
                "title": "Move to the new mail system",
                "due_on": "2026-09-30",
                "completed_on": "2026-10-20",
                "state": "done",
                "owner": "",
            },
        ],
    )
    empty = {s: 0 for s in render.STATUS_ORDER}
    return {
        "schema": 1,
        "strategy": {
            "id": 7,
            "title": "Integrated Country Strategy — Testland",
            "mission": "Testland",
            "mission_slug": "testland",
            "period_label": "FY2024–FY2028",
            "status": "approved",
        },
        "period": {
            "cadence": "weekly",
            "cadence_label": "Weekly",
            "label": "Week of 9 Nov 2026",
            "start": "2026-11-09",
            "end": "2026-11-15",
        },
        "as_of": "2026-11-15",
        "generated_at": "2026-11-16T07:00:00+00:00",
        "counts": {
            "total": 3,
            "assessment": {**empty, "at_risk": 1, "on_track": 1, "no_data": 1},
            "computed": {**empty, "off_track": 1, "on_track": 1, "no_data": 1},
            "stale": 1,
            "late_indicators": 1,
            "overdue_milestones": 1,
            "disagreements": 1,
        },
        "changes": {
            "since": {"report_id": 3, "label": "Week of 2 Nov 2026", "as_of": "2026-11-08"},
            "since_date": "2026-11-08",
            "status_changes": [
                {
                    "code": "1.1",
                    "title": OBJECTIVE_TITLES[0],
                    "channel": "computed",
                    "channel_label": "Indicators",
                    "from": "at_risk",
                    "from_label": "At risk",
                    "to": "off_track",
                    "to_label": "Off track",
                }
            ],
            "new_notes": [
                {
                    "id": 41,
                    "title": note_title,
                    "as_of": "2026-11-12",
                    "assessment": "at_risk",
                    "assessment_label": "At risk",
                    "author": "Dana Analyst",
                    "nodes": ["1.1"],
                }
            ],
            "missed_milestones": [
                {
                    "code": "1",
                    "node_title": OBJECTIVE_TITLES[2],
                    "title": "Replace network switches",
                    "due_on": "2026-10-31",
                    "owner": "Sam Manager",
                }
            ],
            "late_data": [
                {
                    "code": "1.1",
                    "indicator": "Export licences approved",
                    "period_label": "FY2026 Q4",
                    "period_end": "2026-09-30",
                }
            ],
        },
        "sections": [
            {
                "kind": "mission_goal",
                "title": "Mission Goals",
                "nodes": [goal1, obj11, goal2, obj21],
            },
            {"kind": "management_objective", "title": "Management Objectives", "nodes": [mo1]},
        ],
    }


@pytest.fixture
def content() -> dict:
    return make_content()


@pytest.fixture
def hostile_content() -> dict:
    return make_content(note_title=HOSTILE, excerpt=f"Excerpt: {HOSTILE}")


def _report(content: dict, pdf: bytes | None = b"%PDF-1.7 stub") -> Report:
    return Report(
        cadence="weekly",
        period_start=date(2026, 11, 9),
        period_end=date(2026, 11, 15),
        label=content["period"]["label"],
        content=content,
        pdf=pdf,
    )


def _email(content: dict, **kwargs: Any):
    return render.render_report_email(
        report=_report(content, **kwargs),
        recipient="reader@example.org",
        unsubscribe_url="https://tracker.example.org/subscriptions/unsubscribe/abc/",
        report_url="https://tracker.example.org/reports/12/",
    )


def _html(message) -> str:
    return message.alternatives[0][0]


def _pdf_text(pdf: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    return " ".join(text.split())


def _escaped_hostile_html_ok(html: str) -> None:
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=&quot;http://example.invalid/x.png&quot;&gt;" in html
    assert "&quot;quotes&quot; &amp; ampersands" in html


# --- Hydration and charts ----------------------------------------------------------------


def test_hydrate_turns_iso_strings_into_dates_and_keeps_numbers_as_strings(content):
    hydrated = render.hydrate(content)
    node = hydrated["sections"][0]["nodes"][1]
    assert hydrated["as_of"] == date(2026, 11, 15)
    assert hydrated["generated_at"].isoformat() == "2026-11-16T07:00:00+00:00"
    assert hydrated["period"]["start"] == date(2026, 11, 9)
    assert hydrated["changes"]["since"]["as_of"] == date(2026, 11, 8)
    assert node["latest_note"]["as_of"] == date(2026, 11, 12)
    assert node["indicators"][0]["target"] == "30.5"
    assert node["indicators"][2]["bar_percent"] == 100
    assert content["as_of"] == "2026-11-15"  # the stored snapshot is untouched


def test_chart_svgs_are_well_formed_with_hostile_names_kept_as_text(content):
    content["sections"][0]["nodes"][1]["indicators"][0]["name"] = HOSTILE[:30] + "\x0b"
    charts = render.report_charts(content=content)
    assert charts["headline"] is not None
    assert [c.node_id for c in charts["nodes"]] == [2, 4]
    svg = base64.b64decode(charts["nodes"][0].src.split(",", 1)[1]).decode()
    root = ET.fromstring(svg)  # noqa: S314 -- our own SVG; raises if any text broke the XML
    texts = "".join(root.itertext())
    assert "<script>alert(1)</script> <img" in texts
    assert "148 % · On track" in texts  # over-achievement is written, the bar is clamped
    assert "stroke-dasharray" in svg
    assert "Trade missions held" not in charts["nodes"][0].alt  # the renamed one
    assert "Joint ventures signed: 148 % (on track)" in charts["nodes"][0].alt


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_text_has_every_objective_title_the_period_and_status_words(content):
    pdf = render.report_pdf(content=content)
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    for title in OBJECTIVE_TITLES:
        assert title in text
    assert "Week of 9 Nov 2026" in text
    for word in ("On track", "At risk", "Off track", "No data", "Stale", "Overdue"):
        assert word in text
    assert "Page 1 of" in text


def test_pdf_shows_hostile_text_as_text_and_fetches_nothing_remote(hostile_content, monkeypatch):
    fetched: list[str] = []
    original = render.fetch_resource

    def recording(url: str):
        fetched.append(url)
        return original(url)

    monkeypatch.setattr(render, "fetch_resource", recording)
    text = _pdf_text(render.report_pdf(content=hostile_content))
    assert '<script>alert(1)</script> <img src="http://example.invalid/x.png">' in text
    assert '"quotes" & ampersands' in text
    assert f"{STATIC_PREFIX}css/report.css" in fetched
    assert any(url.startswith("data:image/svg+xml;base64,") for url in fetched)
    assert all(url.startswith(("data:", STATIC_PREFIX)) for url in fetched), fetched


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/x.png",
        "https://example.invalid/x.css",
        "file:///etc/passwd",
        "ftp://example.invalid/x",
        f"{STATIC_PREFIX}../../../etc/passwd",
        f"{STATIC_PREFIX}%2e%2e/%2e%2e/etc/passwd",
        f"{STATIC_PREFIX}css/no-such-file.css",
        "https://strategy-tracker.invalid/media/secret.pdf",
    ],
)
def test_pdf_fetcher_refuses_anything_but_data_and_static_files(url, caplog):
    with pytest.raises(render.RefusedResource):
        render.fetch_resource(url)
    assert "refused" in caplog.text


def test_pdf_fetcher_serves_data_uris_and_static_files():
    png = render.fetch_resource("data:text/plain;base64," + base64.b64encode(b"hi").decode())
    assert png.read() == b"hi"
    plain = render.fetch_resource("data:,a%20b")
    assert plain.read() == b"a b"
    css = render.fetch_resource(f"{STATIC_PREFIX}css/report.css")
    assert css.content_type == "text/css"
    expected = Path(settings.BASE_DIR, "static", "css", "report.css").read_bytes()
    assert css.read() == expected


# --- XLSX ----------------------------------------------------------------------------------


def test_xlsx_has_numbers_as_numbers_and_a_frozen_bold_header(content):
    workbook = load_workbook(BytesIO(render.report_xlsx(content=content)))
    assert workbook.sheetnames == ["Indicators", "Objectives"]
    assert workbook.properties.creator == "Strategy Tracker"
    assert "Week of 9 Nov 2026" in workbook.properties.title
    sheet = workbook["Indicators"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Code", "Node", "Indicator"]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:L5"
    first = {name: cell.value for name, cell in zip(header, sheet[2], strict=True)}
    assert first["Baseline"] == 10
    assert first["Target"] == 30.5
    assert first["Actual"] == 25
    assert first["Progress %"] == 79
    assert first["Status"] == "At risk"
    missing = {name: cell.value for name, cell in zip(header, sheet[3], strict=True)}
    assert missing["Actual"] is None
    assert missing["Late period"] == "FY2026 Q4"
    objectives = workbook["Objectives"]
    assert objectives.max_row == 6  # header + 5 nodes
    assert objectives["G2"].is_date


@pytest.mark.parametrize("title", ['=HYPERLINK("http://x")', "+1", "-1", "@SUM(A1)", "\t=1+1"])
def test_xlsx_neutralises_formula_injection(content, title):
    node = content["sections"][0]["nodes"][1]
    node["title"] = title
    node["indicators"][0]["name"] = title
    workbook = load_workbook(BytesIO(render.report_xlsx(content=content)))
    for cell in (workbook["Indicators"]["B2"], workbook["Indicators"]["C2"]):
        assert cell.data_type == "s"
        assert cell.value == "'" + title
    assert workbook["Objectives"]["C3"].value == "'" + title


# --- Report e-mail ---------------------------------------------------------------------------


def test_report_email_has_one_text_body_one_html_alternative_and_the_pdf(content):
    message = _email(content)
    parsed = email.message_from_bytes(message.message().as_bytes())
    types = [part.get_content_type() for part in parsed.walk() if not part.is_multipart()]
    assert types == ["text/plain", "text/html", "application/pdf"]
    attachment = next(p for p in parsed.walk() if p.get_content_type() == "application/pdf")
    assert attachment.get_filename() == "testland-week-of-9-nov-2026.pdf"
    assert attachment.get_payload(decode=True) == b"%PDF-1.7 stub"
    assert message.to == ["reader@example.org"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert parsed["List-Unsubscribe"] == (
        "<https://tracker.example.org/subscriptions/unsubscribe/abc/>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_report_email_subject_counts_off_track_and_stale(content):
    assert _email(content).subject == (
        "[Testland] Weekly status report — Week of 9 Nov 2026: 1 off track, 1 stale"
    )


def test_report_email_subject_stays_one_line_when_names_have_newlines(content):
    content["strategy"]["mission"] = "Testland\nBcc: everyone@example.org"
    content["period"]["label"] = "Week of\r\n9 Nov 2026"
    message = _email(content)
    assert "\n" not in message.subject and "\r" not in message.subject
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    assert parsed["Subject"].strip().startswith("[Testland Bcc: everyone@example.org] Weekly")
    assert parsed["Bcc"] is None


def test_report_email_without_a_pdf_has_no_attachment(content):
    message = _email(content, pdf=None)
    assert message.attachments == []
    assert "attached as a PDF" not in message.body


def test_report_email_html_is_self_contained_and_escapes_user_text(hostile_content):
    html = _html(_email(hostile_content))
    _escaped_hostile_html_ok(html)
    assert "<link" not in html and "<style" not in html
    assert not re.search(r"""src=["']?https?:""", html)
    assert 'href="https://tracker.example.org/reports/12/"' in html
    assert 'href="https://tracker.example.org/subscriptions/unsubscribe/abc/"' in html
    assert "because reader@example.org is on its distribution list" in html
    assert "max-width:640px" in html
    assert 'width="79%"' in html  # the progress bar of "Trade missions held"


def test_report_email_text_is_readable_and_shows_user_text_verbatim(hostile_content):
    body = _email(hostile_content).body
    assert HOSTILE in body
    assert "&amp;" not in body and "&lt;" not in body
    for heading in ("AT A GLANCE", "WHAT CHANGED SINCE WEEK OF 2 NOV 2026", "MISSION GOALS"):
        assert heading in body
    assert "Management Objective 1: Modernise the embassy's IT platform" in body
    assert "- Joint ventures signed: 148 % of target — On track" in body
    assert "View in the app: https://tracker.example.org/reports/12/" in body
    assert "Unsubscribe: https://tracker.example.org/subscriptions/unsubscribe/abc/" in body
    assert "You receive this weekly report on" in body
    assert "\n\n\n" not in body


# --- Page body -------------------------------------------------------------------------------


def test_page_body_escapes_user_text_and_has_no_inline_style_or_script(hostile_content):
    hydrated = render.hydrate(hostile_content)
    html = render_to_string(
        "tracking/reports/_report_body.html",
        {"content": hydrated, "charts": render.report_charts(content=hydrated)},
    )
    _escaped_hostile_html_ok(html.replace('<img class="report-chart"', ""))
    assert "style=" not in html
    assert html.count('<img class="report-chart" src="data:image/svg+xml;base64,') == 3
    assert html.index("Status at a glance") < html.index("What changed since Week of 2 Nov")
    assert html.index("What changed since") < html.index("Mission Goals")
    assert html.index("Mission Goals") < html.index("Management Objectives")
    assert '<th scope="col">' in html and "<caption>" in html


def test_page_body_says_none_when_nothing_changed(content):
    content["changes"].update(
        since=None,
        status_changes=[],
        new_notes=[],
        new_analyses=[],
        missed_milestones=[],
        late_data=[],
    )
    html = render_to_string(
        "tracking/reports/_report_body.html", {"content": render.hydrate(content)}
    )
    assert "What changed since 9 Nov 2026" in html
    assert html.count("None.") == 5


# --- Reminder e-mail ---------------------------------------------------------------------------


def test_reminder_email_lists_all_three_kinds_grouped_with_absolute_links():
    items = {
        "stale_nodes": [
            {
                "mission": "Zedland",
                "strategy": "ICS Zedland",
                "code": "3.1",
                "title": "Zed stale objective",
                "last_update": None,
                "path": "/nodes/31/",
            },
            {
                "mission": "Testland",
                "strategy": "ICS Testland",
                "code": "1.1",
                "title": HOSTILE,
                "last_update": "2026-07-01",
                "path": "/nodes/12/",
            },
        ],
        "late_indicators": [
            {
                "mission": "Testland",
                "strategy": "ICS Testland",
                "code": "1.2",
                "indicator": "Visits recorded",
                "period_label": "FY2026 Q4",
                "period_end": "2026-09-30",
                "path": "/nodes/13/",
            }
        ],
        "overdue_milestones": [
            {
                "mission": "Testland",
                "strategy": "ICS Testland",
                "code": "2",
                "title": "Open the annex",
                "due_on": "2026-10-31",
                "path": "//evil.example/phish",
            }
        ],
    }
    reminder = Reminder(
        user=User(username="dana", first_name="Dana"),
        week_start=date(2026, 11, 9),
        email="dana@example.org",
        items=items,
    )
    message = render.render_reminder_email(reminder=reminder, site_url="https://t.example.org/")
    html, text = _html(message), message.body
    assert message.to == ["dana@example.org"]
    assert message.subject == (
        "Strategy Tracker reminder — week of 9 Nov 2026: "
        "2 stale objectives, 1 late indicator value and 1 overdue milestone"
    )
    for body in (html, text):
        # Grouped: Testland's three items come before Zedland's heading.
        testland, zedland = body.index("Testland"), body.index("Zedland")
        assert testland < body.index("Visits recorded") < body.index("Open the annex") < zedland
        assert zedland < body.index("Zed stale objective")
        assert "https://t.example.org/nodes/12/" in body
        assert "https://t.example.org/nodes/13/" in body
        assert "https://t.example.org/nodes/31/" in body
        assert "evil.example" not in body
        assert "never updated" in body and "last updated 1 Jul 2026" in body
    assert 'href="https://t.example.org/nodes/12/"' in html
    _escaped_hostile_html_ok(html)
    assert HOSTILE in text
    assert "Hello Dana," in text
