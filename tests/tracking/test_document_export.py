"""Exporting a strategy as a document file — Markdown, Word or PDF, public or not, with or
without the appendix of indicators, milestones and notes — from `strategy_document`, the
export command, the API and the export page: it reads back as "no change", the appendix
shows the tracked data (and in public mode no sensitive note), and only the mission's
members may export."""

import io
import os
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import docx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from strategy.ics.extract import document_text
from strategy.ics.parser import parse_ics
from strategy.models import Node, Strategy
from strategy.services import strategy_import
from tests.api.conftest import client_for
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    ProgressNoteFactory,
)
from tracking.documents import DOCX_TYPE, strategy_document

FORMATS = ("md", "docx", "pdf")
FIELDS = ("kind", "code", "title", "description", "justification", "risks")
SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "ics-china.txt"
TODAY = date(2024, 3, 1)
# strategy_document, whatever the strategy's size (the mission loaded with the strategy):
# 1. the nodes — or, with the appendix, the six queries of strategy_tree (nodes,
# indicators, latest values, latest due periods, latest approved notes, milestones) —
# and in public mode 7. the latest approved non-sensitive note per node.
PLAIN_QUERIES = 1
APPENDIX_QUERIES = 6
PUBLIC_APPENDIX_QUERIES = 7


def squeeze(text: str) -> str:
    return " ".join(text.split())


def tree_of(rows) -> list[tuple[str, ...]]:
    return [tuple(squeeze(getattr(row, name)) for name in FIELDS) for row in rows]


def nodes_of(strategy: Strategy) -> list[Node]:
    return list(Node.objects.filter(strategy=strategy).order_by("sort_key"))


def reloaded(strategy: Strategy) -> Strategy:
    return Strategy.objects.select_related("mission").get(pk=strategy.pk)


def assert_reads_back_unchanged(strategy: Strategy, content: bytes) -> None:
    parsed = parse_ics(document_text(content, "export"))
    assert parsed.discrepancies == [] and parsed.warnings == []
    assert tree_of(parsed.items()) == tree_of(nodes_of(strategy))
    assert squeeze(parsed.com_priorities) == squeeze(strategy.com_priorities)
    result = strategy_import(document=parsed, strategy=strategy, dry_run=True, by=None)
    assert (result.created, result.updated, result.removed) == ([], [], [])


@pytest.fixture
def demo(db) -> Strategy:
    call_command("load_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    return reloaded(Strategy.objects.get(mission__slug="china"))


@pytest.fixture
def seeded(personas) -> Strategy:
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the seed document at {SEED}")
        pytest.skip("../shared/seeds/ics-china.txt is not beside this checkout")
    result = strategy_import(
        document=SEED.read_text(encoding="utf-8"), mission=personas.mission, by=None
    )
    return reloaded(result.strategy)


@pytest.fixture
def tracked(personas, tree) -> Strategy:
    """The small tree with narrative, an indicator with a value, two milestones and two
    approved notes on objective 1.1 — the later one sensitive."""
    tree.obj11.justification = "Tariffs average 18 percent.\n\nThey fell last year."
    tree.obj11.risks = "Elections."
    tree.obj11.risks_sensitive = True
    tree.obj11.save()
    indicator = IndicatorFactory(
        node=tree.obj11, name="Exports", unit="USD million", baseline_value=Decimal("12.5")
    )
    IndicatorPeriodFactory(indicator=indicator, target=Decimal("14"), actual=Decimal("13.25"))
    MilestoneFactory(node=tree.obj11, title="Sign the trade pact", due_on=date(2024, 1, 31))
    MilestoneFactory(
        node=tree.mgmt1,
        title="Sign the lease",
        due_on=date(2024, 6, 30),
        completed_on=date(2024, 2, 2),
    )
    ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        title="Tariff talks resumed",
        assessment="at_risk",
        as_of=date(2024, 1, 15),
        nodes=[tree.obj11],
    )
    ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        title="Confidential démarche outcome",
        assessment="off_track",
        as_of=date(2024, 2, 20),
        is_sensitive=True,
        nodes=[tree.obj11],
    )
    return reloaded(tree.strategy)


def markdown(strategy: Strategy, **options) -> str:
    document = strategy_document(strategy=strategy, fmt="md", today=TODAY, **options)
    return document.content.decode("utf-8")


# --- Round trips with the appendix ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_demo_with_its_appendix_reads_back_as_no_change(demo, fmt):
    document = strategy_document(strategy=demo, fmt=fmt, appendix=True)

    assert_reads_back_unchanged(demo, document.content)
    text = squeeze(document_text(document.content, "export"))
    assert "Appendix: Indicators and Milestones" in text
    assert "Latest approved note:" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_imported_seed_reads_back_as_no_change(seeded, fmt):
    document = strategy_document(strategy=seeded, fmt=fmt, appendix=True)
    assert_reads_back_unchanged(seeded, document.content)


def test_each_format_has_its_content_type_and_a_descriptive_file_name(tracked):
    for fmt, content_type in [("md", "text/markdown"), ("docx", DOCX_TYPE), ("pdf", "pdf")]:
        document = strategy_document(strategy=tracked, fmt=fmt, public=True)
        assert content_type in document.content_type
        assert document.filename == f"testland-ics-fy2022-2026-public.{fmt}"
    assert strategy_document(strategy=tracked, fmt="md").filename == "testland-ics-fy2022-2026.md"
    with pytest.raises(ValueError, match="Unknown document format"):
        strategy_document(strategy=tracked, fmt="odt")


# --- The appendix ---------------------------------------------------------------------------


def test_the_appendix_lists_latest_values_milestones_and_the_latest_note(tracked):
    text = markdown(tracked, appendix=True)

    appendix = text.split("## Appendix: Indicators and Milestones", 1)[1]
    assert "as of March 1, 2024" in appendix
    assert "### Mission Objective 1.1" in appendix
    assert "| Exports | USD million | 12.5 | 14 | 13.25 | FY2024 Q1 | 50 % | At risk |" in appendix
    assert "| Sign the trade pact | 31 Jan 2024 | Overdue |" in appendix
    assert "### Management Objective 1" in appendix
    assert "| Sign the lease | 30 Jun 2024 | Done 2 Feb 2024 |" in appendix
    assert "Latest approved note: “Confidential démarche outcome”, as of 20 Feb 2024" in appendix
    assert "### Mission Goal 2" not in appendix  # nothing tracked there


def test_the_public_appendix_shows_the_latest_note_that_is_not_sensitive(tracked):
    text = markdown(tracked, public=True, appendix=True)

    assert text.startswith("FOR PUBLIC RELEASE\n")
    assert "Latest approved note: “Tariff talks resumed”, as of 15 Jan 2024 — At risk." in text
    assert "Confidential" not in text
    assert "Elections." not in text  # the sensitive risks
    assert "Tariffs average 18 percent." in text


def test_the_document_costs_the_same_queries_for_a_small_and_the_demo_strategy(
    tracked, django_assert_num_queries
):
    call_command("load_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    demo = Strategy.objects.get(mission__slug="china")
    for pk in (tracked.pk, demo.pk):
        strategy = reloaded(Strategy(pk=pk))
        with django_assert_num_queries(PLAIN_QUERIES):
            strategy_document(strategy=strategy, fmt="md")
        with django_assert_num_queries(APPENDIX_QUERIES):
            strategy_document(strategy=strategy, fmt="md", appendix=True)
        with django_assert_num_queries(PUBLIC_APPENDIX_QUERIES):
            strategy_document(strategy=strategy, fmt="md", public=True, appendix=True)


# --- The command ----------------------------------------------------------------------------


def test_the_command_writes_a_pdf_to_a_file(tracked, tmp_path):
    path = tmp_path / "ics.pdf"
    err = StringIO()

    call_command(
        "export_strategy", str(tracked.pk), "--format", "pdf", "--output", str(path), stderr=err
    )

    assert path.read_bytes().startswith(b"%PDF")
    assert f"to {path}" in err.getvalue()
    assert "Tariffs average 18 percent." in squeeze(document_text(path.read_bytes(), "ics.pdf"))


def test_the_command_writes_a_word_file_to_binary_standard_output(tracked):
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")

    call_command("export_strategy", str(tracked.pk), "--format", "docx", "--public", stdout=out)

    word = docx.Document(io.BytesIO(out.buffer.getvalue()))
    assert word.paragraphs[0].text == "FOR PUBLIC RELEASE"


def test_the_command_refuses_binary_output_to_a_text_stream(tracked):
    with pytest.raises(CommandError, match="binary"):
        call_command("export_strategy", str(tracked.pk), "--format", "pdf", stdout=StringIO())


def test_the_command_prints_a_public_markdown_document_with_its_appendix(tracked):
    out = StringIO()

    call_command(
        "export_strategy", str(tracked.pk), "--format", "md", "--public", "--appendix", stdout=out
    )

    assert out.getvalue().startswith("FOR PUBLIC RELEASE\n")
    assert "## Appendix: Indicators and Milestones" in out.getvalue()


def test_the_command_keeps_json_whole(tracked):
    with pytest.raises(CommandError, match="md, docx and pdf only"):
        call_command("export_strategy", str(tracked.pk), "--public")


# --- The API --------------------------------------------------------------------------------


def api_url(strategy: Strategy) -> str:
    return reverse("api:strategy-export", kwargs={"pk": strategy.pk})


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("md", "text/markdown; charset=utf-8"), ("docx", DOCX_TYPE), ("pdf", "application/pdf")],
)
def test_a_viewer_downloads_each_format_from_the_api(tracked, personas, fmt, content_type):
    response = client_for(personas.viewer).get(api_url(tracked), {"format": fmt})

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="testland-ics-fy2022-2026.{fmt}"'
    )
    assert_reads_back_unchanged(tracked, response.content)


def test_the_api_gives_the_public_version_with_its_appendix(tracked, personas):
    response = client_for(personas.viewer).get(
        api_url(tracked), {"format": "md", "public": "true", "appendix": "true"}
    )

    text = response.content.decode()
    assert text.startswith("FOR PUBLIC RELEASE\n") and "## Appendix" in text
    assert "Confidential" not in text and "Elections." not in text
    assert response["Content-Disposition"].endswith('-public.md"')


@pytest.mark.parametrize(
    "query",
    [{"format": "odt"}, {"format": "md", "public": "maybe"}, {"format": "pdf", "appendix": "2"}],
)
def test_the_api_refuses_an_unknown_format_or_flag(tracked, personas, query):
    response = client_for(personas.viewer).get(api_url(tracked), query)
    assert response.status_code == 400


def test_the_api_export_of_another_mission_is_not_found(tracked, tree, personas):
    client = client_for(personas.outsider)
    assert client.get(api_url(tracked), {"format": "pdf"}).status_code == 404
    assert client_for(personas.viewer).get(api_url(tree.other_strategy)).status_code == 404
    assert client_for(None).get(api_url(tracked), {"format": "md"}).status_code in (401, 403)


# --- The export page ------------------------------------------------------------------------


def page_url(strategy: Strategy) -> str:
    return reverse("strategy-export", args=[strategy.pk])


def test_the_strategy_page_links_to_the_export_page(client, tracked, personas):
    client.force_login(personas.viewer)
    response = client.get(reverse("strategy-detail", args=[tracked.pk]))
    assert f'href="{page_url(tracked)}"' in response.content.decode()


def test_a_viewer_sees_the_export_form(client, tracked, personas):
    client.force_login(personas.viewer)

    response = client.get(page_url(tracked))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('type="radio" name="format"') == 3
    assert 'name="public"' in html and 'name="appendix"' in html
    assert 'value="pdf"' in html and "checked" in html


def test_the_form_downloads_the_chosen_document(client, tracked, personas):
    client.force_login(personas.viewer)

    response = client.get(page_url(tracked), {"format": "docx", "public": "on", "appendix": "on"})

    assert response.status_code == 200
    assert response["Content-Type"] == DOCX_TYPE
    assert response["Content-Disposition"] == (
        'attachment; filename="testland-ics-fy2022-2026-public.docx"'
    )
    text = squeeze(document_text(response.content, "export.docx"))
    assert text.startswith("FOR PUBLIC RELEASE")
    assert "Appendix: Indicators and Milestones" in text
    assert "Confidential" not in text


def test_the_form_shows_an_unknown_format_as_an_error(client, tracked, personas):
    client.force_login(personas.viewer)

    response = client.get(page_url(tracked), {"format": "odt"})

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_export_page_is_not_found_for_another_mission(client, tracked, personas):
    client.force_login(personas.outsider)
    assert client.get(page_url(tracked)).status_code == 404
    assert client.get(page_url(tracked), {"format": "md"}).status_code == 404


def test_the_export_page_asks_to_sign_in(client, tracked):
    response = client.get(page_url(tracked), {"format": "md"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
