"""Analyses in a report's "what changed" (snapshot, page, e-mail, PDF) and in the search
shared with the notes (PostgreSQL full-text, SQLite substring)."""

from datetime import date, datetime
from io import BytesIO

import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from tracking.analyses.services import analysis_create, analysis_link
from tracking.models import Cadence, Report
from tracking.reports import render
from tracking.reports.periods import period_for
from tracking.reports.selectors import report_content
from tracking.selectors import search

NOVEMBER = period_for(Cadence.MONTHLY, date(2026, 11, 1))
GENERATED = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.get_fixed_timezone(0))


def linked_on(when: datetime, tree, by, title: str, nodes):
    with time_machine.travel(when, tick=False):
        document = analysis_create(
            strategy=tree.strategy,
            by=by,
            title=title,
            author="Political section",
            document_date=when.date(),
            text="Sanctions enforcement at the ports weakened; nonproliferation suffers.",
        )
        analysis_link(document=document, nodes=nodes, by=by)
    return document


def test_what_changed_lists_the_analyses_linked_in_the_period(tree, personas):
    personas.analyst.first_name, personas.analyst.last_name = "Casey", "Nguyen"
    personas.analyst.save()
    utc = timezone.get_fixed_timezone(0)
    linked_on(datetime(2026, 10, 20, 9, tzinfo=utc), tree, personas.analyst, "Before", [tree.obj21])
    inside = linked_on(
        datetime(2026, 11, 12, 9, tzinfo=utc),
        tree,
        personas.analyst,
        "Ports",
        [tree.obj21, tree.goal2],
    )
    changes = report_content(strategy=tree.strategy, period=NOVEMBER, generated_at=GENERATED)[
        "changes"
    ]
    assert changes["new_analyses"] == [
        {
            "id": inside.id,
            "title": "Ports",
            "document_date": "2026-11-12",
            "author": "Political section",
            "confirmed_by": "Casey Nguyen",
            "nodes": ["2", "2.1"],
        }
    ]


def test_the_page_the_email_and_the_pdf_show_the_linked_analyses(tree, personas):
    utc = timezone.get_fixed_timezone(0)
    linked_on(datetime(2026, 11, 12, 9, tzinfo=utc), tree, personas.analyst, "Ports", [tree.obj21])
    content = report_content(strategy=tree.strategy, period=NOVEMBER, generated_at=GENERATED)
    report = Report(
        cadence="monthly", period_start=NOVEMBER.start, period_end=NOVEMBER.end,
        label=NOVEMBER.label, content=content, pdf=None,
    )  # fmt: skip
    message = render.render_report_email(
        report=report,
        recipient="reader@example.org",
        unsubscribe_url="https://tracker.example.org/u/abc/",
        report_url="https://tracker.example.org/reports/1/",
    )
    assert (
        '"Ports" by Political section, 12 Nov 2026 (on 2.1; confirmed by analyst)' in message.body
    )
    assert "<strong>Ports</strong> by Political section" in message.alternatives[0][0]
    pdf = render.report_pdf(content=content)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages).split())
    assert "Analyses linked" in text and "Ports by Political section" in text


def test_old_snapshots_without_analyses_still_render(tree):
    content = report_content(strategy=tree.strategy, period=NOVEMBER, generated_at=GENERATED)
    del content["changes"]["new_analyses"]
    report = Report(
        cadence="monthly", period_start=NOVEMBER.start, period_end=NOVEMBER.end,
        label=NOVEMBER.label, content=content, pdf=None,
    )  # fmt: skip
    message = render.render_report_email(
        report=report, recipient="r@example.org", unsubscribe_url="https://x.org/u/",
        report_url="https://x.org/r/",
    )  # fmt: skip
    assert "Analyses linked:\n- None" in message.body


def test_search_finds_analyses_by_their_full_text_for_members_only(tree, personas):
    document = analysis_create(
        strategy=tree.strategy,
        by=personas.analyst,
        title="Harbour reading",
        document_date=date(2024, 2, 1),
        text="Long text.\n\n" + "Filler paragraph. " * 200 + "\n\nThe dredging contracts stalled.",
    )
    hits = search(user=personas.viewer, q="dredging", limit=20)
    assert [(h["type"], h["id"]) for h in hits] == [("analysis", document.id)]
    assert "dredging" in hits[0]["snippet"]
    assert search(user=personas.outsider, q="dredging") == []
    loner = User.objects.create(username="loner")
    assert search(user=loner, q="dredging") == []


def test_the_api_search_returns_analyses(client, tree, personas):
    analysis_create(
        strategy=tree.strategy, by=personas.analyst, title="Dredging review",
        document_date=date(2024, 2, 1), text="Dredging stalled.",
    )  # fmt: skip
    client.force_login(personas.viewer)
    response = client.get(reverse("api:search"), {"q": "dredging"})
    assert response.status_code == 200
    assert [hit["type"] for hit in response.json()] == ["analysis"]
