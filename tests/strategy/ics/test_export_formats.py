"""The ICS document in three formats — Markdown, Word and PDF — reads back through the
importer (`document_text` → `parse_ics` → `strategy_import`) to the same tree and
narrative; the public-release version leaves out exactly what is sensitive and says so;
an appendix is never read as narrative or nodes; user text survives as text."""

import io
import re
from datetime import date
from decimal import Decimal
from io import StringIO

import docx
import pytest
from django.core.management import call_command
from pypdf import PdfReader

from strategy.ics import pdf_writer
from strategy.ics.document import (
    Appendix,
    AppendixEntry,
    AppendixIndicator,
    AppendixMilestone,
    AppendixNote,
    IcsDocument,
    ics_document,
)
from strategy.ics.docx_writer import write_docx
from strategy.ics.extract import document_text
from strategy.ics.parser import line_shape, literal, parse_ics, read_line
from strategy.ics.render import render_markdown, write_markdown
from strategy.models import Node, NodeKind, Strategy
from strategy.pdf import fetch_resource
from strategy.services import strategy_import
from tests.factories import NodeFactory

FORMATS = ("md", "docx", "pdf")
FIELDS = ("kind", "code", "title", "description", "justification", "risks")
HOSTILE_TITLE = "Trade *and* invest_ment with <b>partners</b> & <script>alert(1)</script>, R&amp;D"
HOSTILE_NARRATIVE = (
    "Sanctions <script>alert('x')</script> & *emphasis* work; see "
    '<img src="http://example.invalid/x.png"> and the U.S.-China—talks.'
)


def write(document: IcsDocument, fmt: str) -> bytes:
    if fmt == "md":
        return write_markdown(document).encode("utf-8")
    if fmt == "docx":
        return write_docx(document)
    return pdf_writer.write_pdf(document)


def nodes_of(strategy: Strategy) -> list[Node]:
    return list(Node.objects.filter(strategy=strategy).order_by("sort_key"))


def document_of(strategy: Strategy, **options) -> IcsDocument:
    mission = strategy.mission
    return ics_document(
        strategy=strategy,
        mission_name=mission.country or mission.name,
        nodes=nodes_of(strategy),
        **options,
    )


def squeeze(text: str) -> str:
    return " ".join(text.split())


def text_of(data: bytes) -> str:
    """What the importer extracts, on one line (the PDF's no-break spaces made plain)."""
    return squeeze(document_text(data, "export"))


def tree_of(rows) -> list[tuple[str, ...]]:
    """Kind, code, title and narrative of parsed items or nodes, spaces normalised."""
    return [tuple(squeeze(getattr(row, name)) for name in FIELDS) for row in rows]


def assert_round_trip(strategy: Strategy, data: bytes) -> None:
    """The export reads back to the strategy's tree and narrative, and importing it into
    the strategy changes nothing."""
    parsed = parse_ics(document_text(data, "export"))
    assert parsed.discrepancies == [] and parsed.warnings == []
    assert tree_of(parsed.items()) == tree_of(nodes_of(strategy))
    assert squeeze(parsed.com_priorities) == squeeze(strategy.com_priorities)
    assert (parsed.approved_on, parsed.reviewed_on) == (strategy.approved_on, strategy.reviewed_on)
    assert (parsed.period_start_fy, parsed.period_end_fy) == (
        strategy.period_start_fy,
        strategy.period_end_fy,
    )
    result = strategy_import(document=parsed, strategy=strategy, dry_run=True, by=None)
    assert (result.created, result.updated, result.removed) == ([], [], [])
    assert result.unchanged == len(nodes_of(strategy))


@pytest.fixture
def demo(db) -> Strategy:
    call_command("load_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    return Strategy.objects.select_related("mission").get(mission__slug="china")


@pytest.fixture
def seeded(personas, seed_text) -> Strategy:
    """The China seed document imported into the persona mission."""
    result = strategy_import(document=seed_text, mission=personas.mission, by=None)
    return Strategy.objects.select_related("mission").get(pk=result.strategy.pk)


@pytest.fixture
def narrated(tree) -> Strategy:
    """The small tree with priorities and narrative in every field kind."""
    strategy = tree.strategy
    strategy.com_priorities = "Trade first.\n\nSecurity second."
    strategy.approved_on = strategy.reviewed_on = None
    strategy.save()
    tree.goal1.description = "Goal one matters. It supports NSS Pillar 2."
    tree.goal1.linkages = ["NSS Pillar 2"]
    tree.goal1.save()
    tree.obj11.justification = "Tariffs average 18 percent.\n\nThey fell last year."
    tree.obj11.risks = "Elections may stall the talks."
    tree.obj11.save()
    tree.mgmt1.justification = "The lease ends in 2026."
    tree.mgmt1.save()
    return strategy


# --- Round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_demo_strategy_round_trips_through_each_format(demo, fmt):
    assert_round_trip(demo, write(document_of(demo), fmt))


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_seed_document_round_trips_through_each_format(seeded, fmt):
    assert len(nodes_of(seeded)) == 16
    assert_round_trip(seeded, write(document_of(seeded), fmt))


def test_the_markdown_writer_is_the_markdown_export(demo):
    assert write_markdown(document_of(demo)) == render_markdown(strategy=demo)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_titles_and_narrative_come_back_as_text(narrated, tree, fmt):
    tree.goal1.title = HOSTILE_TITLE
    tree.goal1.description = HOSTILE_NARRATIVE
    tree.goal1.save()

    parsed = parse_ics(document_text(write(document_of(narrated), fmt), "export"))

    goal = parsed.roots[0]
    assert goal.title == HOSTILE_TITLE
    # Narrative is Markdown: every format reads back as the Markdown document does —
    # emphasis markers gone, tags that are not markup kept as text.
    from_markdown = parse_ics(write_markdown(document_of(narrated))).roots[0].description
    assert squeeze(goal.description) == squeeze(from_markdown)
    assert "<script>alert('x')</script> & emphasis work" in goal.description
    assert "U.S.-China—talks." in goal.description
    assert parsed.discrepancies == []


def test_titles_are_escaped_only_where_they_would_read_as_markup():
    assert literal("Trade & investment (2024)", after="Mission Goal 1: ") == (
        "Trade & investment (2024)"
    )
    escaped = literal("Cut *red* tape", after="Mission Goal 1: ")
    assert escaped == r"Cut \*red\* tape"
    assert read_line(f"Mission Goal 1: {escaped}") == "Mission Goal 1: Cut *red* tape"


# --- Public release -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_public_release_leaves_out_exactly_the_sensitive_narrative(narrated, tree, fmt):
    narrated.com_priorities_sensitive = True
    narrated.save()
    tree.obj11.justification_sensitive = True
    tree.obj11.save()
    tree.mgmt1.risks = "Permits."
    tree.mgmt1.risks_sensitive = True
    tree.mgmt1.save()

    data = write(document_of(narrated, public=True), fmt)

    assert text_of(data).startswith("FOR PUBLIC RELEASE")
    parsed = parse_ics(document_text(data, "export"))
    items = {(item.kind, item.code): item for item in parsed.items()}
    obj11 = items[(NodeKind.MISSION_OBJECTIVE, "1.1")]
    assert (obj11.justification, obj11.risks) == ("", "Elections may stall the talks.")
    assert items[(NodeKind.MISSION_GOAL, "1")].description.startswith("Goal one matters.")
    mgmt1 = items[(NodeKind.MANAGEMENT_OBJECTIVE, "1")]
    assert (mgmt1.justification, mgmt1.risks) == ("The lease ends in 2026.", "")
    assert parsed.com_priorities == ""
    for secret in ("Tariffs average", "They fell last year", "Permits", "Trade first"):
        assert secret not in text_of(data)
    assert parsed.discrepancies == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_the_public_version_says_for_public_release(narrated, fmt):
    text = text_of(write(document_of(narrated), fmt))
    assert "PUBLIC RELEASE" not in text
    assert "Tariffs average 18 percent." in text


def test_the_public_word_file_carries_the_banner_in_every_header_and_footer(narrated):
    word = docx.Document(io.BytesIO(write_docx(document_of(narrated, public=True))))
    section = word.sections[0]
    assert "FOR PUBLIC RELEASE" in section.header.paragraphs[0].text
    assert "FOR PUBLIC RELEASE" in section.footer.paragraphs[0].text
    assert word.paragraphs[0].text == "FOR PUBLIC RELEASE"


def test_every_page_of_the_public_pdf_says_for_public_release(seeded):
    reader = PdfReader(io.BytesIO(pdf_writer.write_pdf(document_of(seeded, public=True))))
    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 3
    for number, text in enumerate(pages, start=1):
        assert "FOR PUBLIC RELEASE" in text
        assert f"Page {number} of {len(pages)}" in text


# --- The appendix ---------------------------------------------------------------------------

# Appendix text that would be structure anywhere else in the document.
DECOY_APPENDIX = Appendix(
    as_of=date(2026, 11, 20),
    entries=(
        AppendixEntry(
            kind=NodeKind.MISSION_OBJECTIVE,
            code="1.1",
            indicators=(
                AppendixIndicator(
                    name="Mission Goal 9: a decoy goal",
                    unit="USD million",
                    baseline=Decimal("12.5000"),
                    target=Decimal("14"),
                    actual=Decimal("13.2500"),
                    period_label="FY2024 Q1",
                    progress_percent=50,
                    status_label="At risk",
                ),
            ),
            milestones=(
                AppendixMilestone(
                    title="Justification: not narrative",
                    due_on=date(2026, 1, 31),
                    overdue=True,
                ),
            ),
            note=AppendixNote(
                title="Management Objective 7: a decoy",
                as_of=date(2026, 10, 1),
                assessment_label="On track",
            ),
        ),
        AppendixEntry(kind=NodeKind.MISSION_GOAL, code="2"),
    ),
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_appendix_is_not_read_as_narrative_or_nodes(narrated, fmt):
    data = write(document_of(narrated, appendix=DECOY_APPENDIX), fmt)

    text = text_of(data)
    for shown in ("Mission Goal 9: a decoy goal", "13.25", "Overdue", "Management Objective 7"):
        assert shown in text
    assert_round_trip(narrated, data)


def test_the_appendix_in_word_is_tables_under_a_heading(narrated):
    word = docx.Document(io.BytesIO(write_docx(document_of(narrated, appendix=DECOY_APPENDIX))))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings[-1] == "Appendix: Indicators and Milestones"
    indicators, milestones = word.tables
    assert [c.text for c in indicators.rows[0].cells][:3] == ["Indicator", "Unit", "Baseline"]
    assert [c.text for c in indicators.rows[1].cells][2:7] == [
        "12.5",
        "14",
        "13.25",
        "FY2024 Q1",
        "50 %",
    ]
    assert [c.text for c in milestones.rows[1].cells] == [
        "Justification: not narrative",
        "31 Jan 2026",
        "Overdue",
    ]


# --- What each format looks like ------------------------------------------------------------


def test_the_word_file_uses_heading_styles_bold_labels_and_its_properties(narrated, tree):
    NodeFactory(
        parent=tree.mgmt1,
        kind=NodeKind.MANAGEMENT_SUB_OBJECTIVE,
        code="1.1",
        title="New chancery",
        justification="Leases end.",
    )
    word = docx.Document(io.BytesIO(write_docx(document_of(narrated))))

    styled = [(p.style.name, p.text) for p in word.paragraphs if p.text]
    assert styled[0] == ("Title", "Integrated Country Strategy")
    assert ("Heading 1", "2. Mission Strategic Framework") in styled
    assert ("Heading 2", "Mission Goal 1: Prosperity") in styled
    assert ("Heading 3", "Mission Objective 1.1: Exports grow") in styled
    assert ("Heading 4", "Sub-Objective 1.1.1: Trade missions") in styled
    assert ("Heading 2", "Management Objective 1: Facilities") in styled
    assert ("Heading 3", "Management Sub-Objective 1.1: New chancery") in styled
    label = next(p for p in word.paragraphs if p.text.startswith("Justification:"))
    assert label.runs[0].text == "Justification:" and label.runs[0].bold
    entry = next(p for p in word.paragraphs if p.text.startswith("Mission Objective 1.1:"))
    assert entry.runs[0].bold and entry.style.name == "Normal"
    assert word.core_properties.title == "Integrated Country Strategy — Testland"
    assert word.core_properties.author == "Strategy Tracker"


def test_the_pdf_is_a4_with_page_numbers_and_its_title(seeded):
    reader = PdfReader(io.BytesIO(pdf_writer.write_pdf(document_of(seeded))))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata.title == "Integrated Country Strategy — Testland"
    assert reader.metadata.author == "Strategy Tracker"
    last = reader.pages[-1].extract_text()
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in last


def test_the_pdf_never_breaks_a_word_or_ends_a_line_on_a_sentence(seeded):
    text = document_text(pdf_writer.write_pdf(document_of(seeded)), "export")
    lines = [line.strip() for line in text.split("\n")]
    assert not [line for line in lines if re.search(r"[A-Za-z]-$", line)]
    # Inside a paragraph a line never ends a sentence: only paragraph ends do, and those
    # lines are short (see pdf_writer).
    longest = max(len(line) for line in lines)
    full_stops = [line for line in lines if line.endswith(".") and len(line) > 0.8 * longest]
    assert full_stops == []


def test_the_pdf_loads_nothing_but_its_own_stylesheet(narrated, tree):
    tree.goal1.title = '<img src="http://example.invalid/x.png"> <link href="file:///etc/passwd">'
    tree.goal1.description = HOSTILE_NARRATIVE
    tree.goal1.save()
    fetched: list[str] = []

    def recording(url: str):
        fetched.append(url)
        return fetch_resource(url)

    text = text_of(pdf_writer.write_pdf(document_of(narrated), fetch=recording))

    assert fetched == ["https://strategy-tracker.invalid/static/css/ics-document.css"]
    assert '<img src="http://example.invalid/x.png">' in text


# --- What the parser learned for exports ----------------------------------------------------


ANNEX = """Integrated Country Strategy

Freedonia

## Mission Goals and Objectives

**Mission Goal 1:** Trade grows.

**Justification:** Because it must.

## Annex A: Indicators

Mission Goal 2: Not a goal of the strategy

Justification: not narrative either

## Management Objectives

**Management Objective 1:** Fix the roof.
"""


def test_an_annex_names_items_without_adding_them():
    parsed = parse_ics(ANNEX)
    assert [(i.kind, i.code) for i in parsed.items()] == [
        ("mission_goal", "1"),
        ("management_objective", "1"),
    ]
    assert parsed.roots[0].justification == "Because it must."


WRAPPED = """Mission Goal 1: Trade grows.
Description and Linkages: We write a long description that wraps over several
lines of text in the way that a PDF's text layer gives them, one by one, with
no blank line between the paragraphs of the narrative, and the officers of Mission
China follow it with care
Short unpunctuated ending
Then a new paragraph starts with a capital letter and goes on as long as the
others do, until it too ends with a full stop.
"""


def test_a_short_line_without_full_stop_ends_its_paragraph_in_wrapped_text():
    assert parse_ics(WRAPPED).roots[0].description.split("\n\n") == [
        "We write a long description that wraps over several lines of text in the way that "
        "a PDF's text layer gives them, one by one, with no blank line between the "
        "paragraphs of the narrative, and the officers of Mission China follow it with care",
        "Short unpunctuated ending",
        "Then a new paragraph starts with a capital letter and goes on as long as the "
        "others do, until it too ends with a full stop.",
    ]


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("the United States", "text"),
        ("Goal 2: Promote freedom", "item"),
        ("Justification: because", "label"),
        ("- a bullet", "bullet"),
        ("12", "furniture"),
        ("public.", "furniture"),
        ("Management Objectives", "section"),
    ],
)
def test_line_shape_tells_a_writer_what_a_line_would_read_as(text, shape):
    assert line_shape(text) == shape
