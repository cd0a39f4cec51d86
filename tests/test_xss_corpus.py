"""Hostile text in every user-written field, read back from every place it is shown:
pages, the report e-mail (HTML and text), the report PDF, the XLSX and the CSV of
indicator values. Nothing may come out as live markup, a `javascript:` link, an evaluated
template or a spreadsheet formula (issue #7, content).

The corpus goes into mission and strategy names, node titles, an indicator's name, unit
and comment, a note's title and Markdown body, and the people's names. Each page must
show the text (escaped), so a field that silently disappeared would fail too.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from strategy.models import Mission, Node, Strategy
from tracking.models import Indicator
from tracking.reports.render import render_report_email, report_xlsx
from tracking.reports.services import report_build, report_request
from tracking.services import (
    indicator_create,
    indicator_period_record,
    note_approve,
    note_create,
    note_submit,
)

pytestmark = pytest.mark.django_db

# One entry per trick. Each carries its own marker word (x1…x12) so a test can tell
# which field it came from.
CORPUS = [
    "<script>alert('x1')</script>",
    "\"><img src=x onerror=alert('x2')>",
    "'><svg onload=alert('x3')>",
    '<svg/onload=alert("x4")>',
    "</title><iframe src=//evil.example/x5></iframe>",
    "<style>body{display:none}</style>x6",
    "{{ 7|add:1 }} {% now 'Y' %} ${7*7} x7",
    "\u202egnp.exe x8 \u202c",  # right-to-left override
    "Zero\u200bwidth\ufeff and\u2028separators x9 \U0001f4a5",
    '=HYPERLINK("http://evil.example","x10")',
    "+SUM(1,1) x11",
    "@cmd x12",
]
FORMULA_TITLE = '=HYPERLINK("http://evil.example","x10")'
MARKDOWN_BODY = "\n\n".join(
    [
        "Normal *emphasis* then [a javascript link](javascript:alert('md1')).",
        "[encoded](jAvAsCrIpT:alert('md2')) and [data](data:text/html;base64,PHNjcmlwdD4=)",
        "<a href=\"javascript:alert('md3')\">raw html link</a>",
        "<img src=x onerror=\"alert('md4')\">",
        "<script>alert('md5')</script>",
        '[ok](https://example.org/ "t\\"onmouseover=alert(md6)")',
        *CORPUS,
    ]
)


class _LiveMarkup(HTMLParser):
    """Collects every element or attribute in parsed HTML that could run or load
    something a user wrote: event handlers, script/iframe/svg/style/object elements, and
    script-capable URLs. Escaped text is data to the parser, so it never counts."""

    DANGEROUS_TAGS = {"iframe", "svg", "style", "object", "embed", "frame", "base"}
    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for attribute, value in attrs:
            if attribute.startswith("on"):
                self.found.append(f"<{tag} {attribute}={value!r}>")
            if attribute in self.URL_ATTRIBUTES and value:
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                charts = tag == "img" and url.startswith("data:image/svg+xml")
                if url.startswith(("javascript:", "vbscript:")) or (
                    url.startswith("data:") and not charts
                ):
                    self.found.append(f"<{tag} {attribute}={value[:60]!r}>")
        if tag in self.DANGEROUS_TAGS or (
            tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh"
        ):
            self.found.append(f"<{tag}>")
        if tag == "script":
            src = attributes.get("src") or ""
            if attributes.get("type") != "application/json" and not src.startswith("/static/"):
                self.found.append(f"<script {attributes}>")


def live_markup(html: str) -> list[str]:
    parser = _LiveMarkup()
    parser.feed(html)
    parser.close()
    return parser.found


def name(index: int) -> str:
    return CORPUS[index % len(CORPUS)]


@pytest.fixture
def hostile(tree, personas):
    """The small tree with hostile text everywhere a person can write."""
    mission = Mission.objects.get(pk=personas.mission.pk)
    mission.name = f"Mission {name(0)}"
    mission.save()
    Strategy.objects.filter(pk=tree.strategy.pk).update(title=f"ICS {name(1)}")
    for index, node in enumerate(
        [tree.goal1, tree.obj11, tree.obj12, tree.sub111, tree.goal2, tree.obj21, tree.mgmt1]
    ):
        Node.objects.filter(pk=node.pk).update(title=f"{node.code} {name(index + 2)}")
    Node.objects.filter(pk=tree.obj21.pk).update(title=FORMULA_TITLE)  # starts with "="
    for user in (personas.analyst, personas.manager):
        User.objects.filter(pk=user.pk).update(first_name=name(3), last_name=name(0))
    analyst = User.objects.get(pk=personas.analyst.pk)
    manager = User.objects.get(pk=personas.manager.pk)
    node = Node.objects.get(pk=tree.obj11.pk)
    indicator = indicator_create(
        node=node, name=f"Visits {name(9)}", unit="@SUM(1+1)", by=manager, baseline_value=1
    )
    indicator_period_record(
        indicator=indicator,
        period_start=date(2026, 7, 1),
        target="10",
        by=manager,
    )
    indicator_period_record(
        indicator=indicator,
        period_start=date(2026, 7, 1),
        actual="4",
        comment=f"-1 {name(0)}",
        by=analyst,
    )
    note = note_create(
        strategy=tree.strategy,
        author=analyst,
        title=f"{name(10)} {name(1)}",
        assessment="at_risk",
        as_of=date(2026, 11, 10),
        nodes=[node],
        body=MARKDOWN_BODY,
        justification=name(2),
    )
    note_submit(note=note, by=analyst)
    note = note_approve(note=note, by=manager, comment=name(4))
    return {"node": node, "note": note, "indicator": Indicator.objects.get(pk=indicator.pk)}


def assert_safe_page(html: str, *must_show: str) -> None:
    assert not live_markup(html), live_markup(html)
    assert "{% now" in html or "{{ 7|add:1 }}" in html or not must_show
    for text in must_show:
        assert text in html, f"{text!r} is not on the page"


ESCAPED_SCRIPT = "&lt;script&gt;alert(&#x27;x1&#x27;)&lt;/script&gt;"
ESCAPED_IMG = "&quot;&gt;&lt;img src=x onerror=alert(&#x27;x2&#x27;)&gt;"


def test_pages_show_the_text_and_no_markup(client, personas, tree, hostile):
    client.force_login(personas.manager)
    pages = {
        "home": (reverse("home"), [ESCAPED_SCRIPT]),
        "strategy": (
            reverse("strategy-detail", args=[tree.strategy.pk]),
            [ESCAPED_IMG, "{{ 7|add:1 }} {% now &#x27;Y&#x27; %}"],
        ),
        "node": (
            reverse("node-detail", args=[hostile["node"].pk]),
            ["Visits =HYPERLINK(&quot;http://evil.example&quot;", "\u202egnp.exe x8"],
        ),
        "note": (reverse("note-detail", args=[hostile["note"].pk]), [ESCAPED_IMG]),
        "history": (reverse("note-history", args=[hostile["note"].pk]), []),
        "my notes": (reverse("my-notes"), []),
    }
    for label, (url, must_show) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, label
        html = response.content.decode()
        assert not live_markup(html), (label, live_markup(html))
        for text in must_show:
            assert text in html, (label, text)


def test_markdown_links_to_scripts_are_dropped(client, personas, hostile):
    client.force_login(personas.manager)
    html = client.get(reverse("note-detail", args=[hostile["note"].pk])).content.decode()
    assert not re.search(r"href=\"(?!https?:|mailto:|/|#)", html)  # only safe schemes
    assert "javascript:alert" not in html.replace("javascript:alert(&#x27;md", "")
    assert "<em>emphasis</em>" in html  # Markdown itself still renders
    assert 'href="https://example.org/"' in html
    assert not live_markup(html)


@pytest.fixture
def report(hostile, tree, personas):
    report = report_request(strategy=tree.strategy, by=personas.manager)
    report_build(report_id=report.pk)
    report.refresh_from_db()
    assert report.state == "ready"
    return report


def test_the_report_page_email_pdf_and_xlsx(client, personas, report):
    client.force_login(personas.manager)
    page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert not live_markup(page) and ESCAPED_SCRIPT in page

    message = render_report_email(
        report=report,
        recipient="reader@example.org",
        unsubscribe_url="https://tracker.example/unsubscribe/abc/",
        report_url="https://tracker.example/reports/1/",
    )
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    assert not live_markup(html) and ESCAPED_SCRIPT in html
    # Plain text is shown as text by mail clients: the words come through unescaped.
    assert "Mission <script>alert('x1')</script>" in text
    assert "&lt;" not in text
    assert "\n" not in parsed["Subject"]

    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(report.pdf)).pages)
    # The fallback font for the emoji and direction marks is extracted as UTF-16 code
    # units; pypdf leaves their high bytes in as NULs.
    pdf_text = pdf_text.replace("\x00", "")
    # Read back as the characters people typed: shown as text, not taken as markup.
    assert "<script>alert('x1')</script>" in pdf_text
    assert "onerror=alert('x2')" in pdf_text

    workbook = load_workbook(io.BytesIO(report_xlsx(content=report.content)))
    cells = [c for ws in workbook for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + FORMULA_TITLE in texts  # a node title
    assert "'@SUM(1+1)" in texts  # the indicator's unit
    assert f"'{name(10)} {name(1)}" in texts  # the latest note's title
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_the_csv_of_indicator_values_neutralises_formulas(client, personas, tree, hostile):
    client.force_login(personas.manager)
    response = client.get(reverse("indicator-values-csv", args=[tree.strategy.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'-1 <script>alert('x1')</script>" in cells  # the comment, quoted
