"""The ICS document a strategy exports to, as a flat list of neutral blocks.

`ics_document` decides *what* the document says — title and dates, the four numbered
sections, every narrative field, the public-release cuts, the appendix — and the writers
decide how it looks: `render` (Markdown), `docx_writer` (Word), `pdf_writer` (WeasyPrint).
All three read back through `strategy.ics.parser.parse_ics` to the same tree and narrative,
so an exported document imports into its own strategy as "no change".

Public release (`public=True`): "FOR PUBLIC RELEASE" heads the document (and every page of
the DOCX and PDF, as the source documents print it); a narrative field whose `*_sensitive`
flag is set, and the Chief of Mission priorities when `com_priorities_sensitive` is set,
are left out whole — label and text.

The appendix is plain data (`Appendix`) that `tracking` fills from its tree selector and
that this package only lays out, so `strategy` never imports `tracking`. It comes after the
four sections under an "Appendix" heading; the parser reads nothing in an appendix, so its
tables never become narrative or nodes. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from strategy.ics.parser import literal, read_line
from strategy.models import Node, NodeKind, Strategy

PUBLIC_BANNER = "FOR PUBLIC RELEASE"
APPENDIX_HEADING = "Appendix: Indicators and Milestones"
SECTIONS = (
    "1. Chief of Mission Priorities",
    "2. Mission Strategic Framework",
    "3. Mission Goals and Objectives",
    "4. Management Objectives",
)
NARRATIVE_LABELS = (
    ("description", "Description and Linkages"),
    ("justification", "Justification"),
    ("risks", "Risks"),
)
INDICATOR_COLUMNS = (
    "Indicator",
    "Unit",
    "Baseline",
    "Target",
    "Actual",
    "Period",
    "Progress",
    "Status",
)
MILESTONE_COLUMNS = ("Milestone", "Due", "Status")


# --- The appendix: plain data, filled by tracking -------------------------------------------


@dataclass(frozen=True)
class AppendixIndicator:
    """An indicator with its latest reported value (`tracking.selectors.IndicatorSummary`)."""

    name: str
    unit: str = ""
    baseline: Decimal | None = None
    target: Decimal | None = None
    actual: Decimal | None = None
    period_label: str = ""  # of the latest value: "FY2024 Q1"
    progress_percent: int | None = None
    status_label: str = ""  # "On track"


@dataclass(frozen=True)
class AppendixMilestone:
    title: str
    due_on: date
    completed_on: date | None = None
    overdue: bool = False


@dataclass(frozen=True)
class AppendixNote:
    """The node's latest approved note (in public mode: latest approved non-sensitive)."""

    title: str
    as_of: date
    assessment_label: str  # "At risk"


@dataclass(frozen=True)
class AppendixEntry:
    """What the appendix says about one node, named by kind and code."""

    kind: str  # a NodeKind value
    code: str
    indicators: tuple[AppendixIndicator, ...] = ()
    milestones: tuple[AppendixMilestone, ...] = ()
    note: AppendixNote | None = None


@dataclass(frozen=True)
class Appendix:
    as_of: date
    entries: tuple[AppendixEntry, ...] = ()


# --- Blocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One piece of the document; `kind` says which, the writers switch on it:

    banner     "FOR PUBLIC RELEASE" (`text`)
    title      the strategy kind, "Integrated Country Strategy" (`text`)
    meta       a line under the title: mission, period, approval and review dates (`text`)
    section    "2. Mission Strategic Framework" (`text`), and the appendix heading
    entry      a framework line: `label` "Mission Goal 1", `title`, `level` 1–3
    item       a detailed item's heading: `label`, `title`, `level`, `management`
    narrative  Markdown `text` under an optional bold `label` ("Justification"); no label
               for the Chief of Mission priorities
    subheading the appendix's node heading: `label` only ("Mission Objective 1.1")
    table      appendix table: `columns` and `rows` of plain strings
    note       a plain appendix sentence (`text`)
    """

    kind: str
    text: str = ""
    label: str = ""
    title: str = ""
    level: int = 1
    management: bool = False
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class IcsDocument:
    title: str  # "Integrated Country Strategy — China": file properties, PDF title
    public: bool
    blocks: tuple[Block, ...] = field(default_factory=tuple)


_LEVEL = {
    NodeKind.MISSION_GOAL: 1,
    NodeKind.MISSION_OBJECTIVE: 2,
    NodeKind.SUB_OBJECTIVE: 3,
    NodeKind.MANAGEMENT_OBJECTIVE: 1,
    NodeKind.MANAGEMENT_SUB_OBJECTIVE: 2,
}


def ics_document(
    *,
    strategy: Strategy,
    mission_name: str,
    nodes: list[Node],
    public: bool = False,
    appendix: Appendix | None = None,
) -> IcsDocument:
    """The document of a strategy from already loaded rows; `nodes` in document order
    (`sort_key`). See the module docstring for `public` and `appendix`."""
    kind_label = Strategy.Kind(strategy.kind).label
    blocks: list[Block] = []
    if public:
        blocks.append(Block("banner", text=PUBLIC_BANNER))
    blocks.append(Block("title", text=kind_label))
    if mission_name.strip():
        blocks.append(Block("meta", text=" ".join(mission_name.split())))
    if strategy.period_start_fy and strategy.period_end_fy:
        blocks.append(Block("meta", text=f"FY {strategy.period_start_fy}-{strategy.period_end_fy}"))
    if strategy.approved_on:
        blocks.append(Block("meta", text=f"Originally Approved: {long_date(strategy.approved_on)}"))
    if strategy.reviewed_on:
        blocks.append(
            Block("meta", text=f"Reviewed and Updated: {long_date(strategy.reviewed_on)}")
        )

    blocks.append(Block("section", text=SECTIONS[0]))
    if not (public and strategy.com_priorities_sensitive) and clean_markdown(
        strategy.com_priorities
    ):
        blocks.append(Block("narrative", text=clean_markdown(strategy.com_priorities)))

    blocks.append(Block("section", text=SECTIONS[1]))
    blocks += [
        Block("entry", label=node.label, title=node.title, level=_LEVEL[node.kind])
        for node in nodes
    ]
    blocks.append(Block("section", text=SECTIONS[2]))
    blocks += _details([node for node in nodes if not node.is_management], public)
    blocks.append(Block("section", text=SECTIONS[3]))
    blocks += _details([node for node in nodes if node.is_management], public)
    if appendix is not None:
        blocks += _appendix(appendix, nodes)
    name = " ".join(mission_name.split())
    return IcsDocument(
        title=f"{kind_label} — {name}" if name else kind_label,
        public=public,
        blocks=tuple(blocks),
    )


def _details(nodes: list[Node], public: bool) -> list[Block]:
    blocks: list[Block] = []
    for node in nodes:
        blocks.append(
            Block(
                "item",
                label=node.label,
                title=node.title,
                level=_LEVEL[node.kind],
                management=node.is_management,
            )
        )
        for name, label in NARRATIVE_LABELS:
            if public and getattr(node, f"{name}_sensitive"):
                continue
            text = clean_markdown(getattr(node, name))
            if text:
                blocks.append(Block("narrative", label=label, text=text))
    return blocks


def _appendix(appendix: Appendix, nodes: list[Node]) -> list[Block]:
    """Per node that has indicators, milestones or a note, in document order."""
    labels = {(node.kind, node.code): node.label for node in nodes}
    blocks = [
        Block("section", text=APPENDIX_HEADING),
        Block(
            "note",
            text=f"Indicators with their latest reported values, milestones and the latest "
            f"approved progress note of each goal and objective, as of {long_date(appendix.as_of)}.",
        ),
    ]
    entries = [e for e in appendix.entries if e.indicators or e.milestones or e.note]
    if not entries:
        blocks.append(Block("note", text="No indicators, milestones or approved notes yet."))
    for entry in entries:
        label = labels.get((entry.kind, entry.code)) or f"{NodeKind(entry.kind).label} {entry.code}"
        blocks.append(Block("subheading", label=label))
        if entry.indicators:
            blocks.append(
                Block(
                    "table",
                    columns=INDICATOR_COLUMNS,
                    rows=tuple(_indicator_row(i) for i in entry.indicators),
                )
            )
        if entry.milestones:
            blocks.append(
                Block(
                    "table",
                    columns=MILESTONE_COLUMNS,
                    rows=tuple(_milestone_row(m) for m in entry.milestones),
                )
            )
        if entry.note:
            note = entry.note
            blocks.append(
                Block(
                    "note",
                    text=f"Latest approved note: “{' '.join(note.title.split())}”, as of "
                    f"{short_date(note.as_of)} — {note.assessment_label}.",
                )
            )
    return blocks


def _indicator_row(indicator: AppendixIndicator) -> tuple[str, ...]:
    progress = "" if indicator.progress_percent is None else f"{indicator.progress_percent} %"
    return (
        " ".join(indicator.name.split()),
        indicator.unit,
        number(indicator.baseline),
        number(indicator.target),
        number(indicator.actual),
        indicator.period_label,
        progress,
        indicator.status_label,
    )


def _milestone_row(milestone: AppendixMilestone) -> tuple[str, ...]:
    if milestone.completed_on:
        state = f"Done {short_date(milestone.completed_on)}"
    else:
        state = "Overdue" if milestone.overdue else "Due"
    return (" ".join(milestone.title.split()), short_date(milestone.due_on), state)


# --- Text helpers shared by the writers -------------------------------------------------------


def clean_markdown(text: str) -> str:
    """Narrative is Markdown already: only line endings and surrounding blank lines change."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def long_date(value: date) -> str:
    """ "March 14, 2025", as ICS documents write their dates."""
    return f"{value:%B} {value.day}, {value.year}"


def short_date(value: date) -> str:
    """ "2 May 2024", as the app shows dates."""
    return f"{value.day} {value:%b %Y}"


def number(value: Decimal | None) -> str:
    """ "12.5", "1,250", "" for no value: as stored, without trailing zeros."""
    if value is None:
        return ""
    return f"{value.normalize():,f}"


@dataclass(frozen=True)
class TextBlock:
    """A Markdown block (text between blank lines, or one list item) as lines of text the
    parser reads back to what it reads from the Markdown document: markup gone, escaped
    where a character would otherwise read as markup."""

    lines: tuple[str, ...]
    list_item: bool = False


# A list item: "- ", "* ", "+ ", "•", "1. ", "2) ", "a) ", "(b) " (the parser's bullets).
_LIST_ITEM_RE = re.compile(r"(?:[-*+•▪◦●‣]\s+|\(?(?:\d{1,2}|[a-h])[.)]\s+)")


def text_blocks(markdown: str) -> list[list[TextBlock]]:
    """Narrative Markdown as paragraphs (what blank lines separate), each a list of
    `TextBlock`s: one for plain lines, one per list item. DOCX and PDF show these; a blank
    line between paragraphs is the parser's paragraph break."""
    paragraphs: list[list[TextBlock]] = []
    for chunk in re.split(r"\n\s*\n", clean_markdown(markdown)):
        blocks: list[TextBlock] = []
        for raw in chunk.split("\n"):
            text = read_line(raw)
            if not text:
                continue
            line = literal(text)
            if _LIST_ITEM_RE.match(text) or not blocks:
                blocks.append(TextBlock((line,), list_item=bool(_LIST_ITEM_RE.match(text))))
            else:
                last = blocks[-1]
                blocks[-1] = TextBlock((*last.lines, line), last.list_item)
        if blocks:
            paragraphs.append(blocks)
    return paragraphs


def heading_text(label: str, title: str) -> str:
    """ "Mission Goal 1: <title>", the title escaped only where it would read as markup."""
    return f"{label}: {literal(title, after=f'{label}: ')}"


# A narrative whose first paragraph opens a block (list, heading, quote, table, code
# fence) keeps it on its own lines instead of after the bold label.
_BLOCK_START_RE = re.compile(r"(?:[-*+]\s|\d{1,3}[.)]\s|#|>|\||```|~~~)")


def starts_block(markdown: str) -> bool:
    """Whether the narrative opens with a block, which goes on its own lines instead of
    after the bold label."""
    return bool(_BLOCK_START_RE.match(markdown))
