"""Write a strategy back out as an ICS-shaped Markdown document.

Callers: the API's `/strategies/{id}/export/?format=md` and `manage.py export_strategy
--format md`. The document has the shape of `../shared/seeds/ics-china.txt` — title, mission,
period and dates, then the four numbered sections — and reads back through
`strategy.ics.parser.parse_ics` to the same tree with no discrepancies, so importing an
exported document into its own strategy changes nothing.

Unlike the rest of this package, `render_markdown` reads the database: the strategy's
mission (unless already loaded) and its nodes, in one query whatever the tree's size.
Indicators, notes and milestones are not part of an ICS document; the JSON export
(`tracking.exports`) carries those.
"""

from __future__ import annotations

import re
from datetime import date

from strategy.models import Node, NodeKind, Strategy

# What a title must not bring into the document as Markdown: emphasis, code, links, HTML
# and backslashes. The parser undoes these escapes, so titles read back unchanged.
_TITLE_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>]|&(?=#?\w+;))")
# A narrative whose first paragraph opens a block (list, heading, quote, table, code
# fence) keeps it on its own lines instead of after the bold label.
_BLOCK_START_RE = re.compile(r"(?:[-*+]\s|\d{1,3}[.)]\s|#|>|\||```|~~~)")

NARRATIVE_LABELS = (
    ("description", "Description and Linkages"),
    ("justification", "Justification"),
    ("risks", "Risks"),
)
_HEADING_LEVEL = {NodeKind.MANAGEMENT_OBJECTIVE: "###", NodeKind.MANAGEMENT_SUB_OBJECTIVE: "####"}


def render_markdown(*, strategy: Strategy) -> str:
    """The strategy as an ICS-shaped Markdown document (see the module docstring)."""
    mission = strategy.mission
    nodes = list(Node.objects.filter(strategy=strategy).order_by("sort_key"))
    return render_document(
        strategy=strategy, mission_name=mission.country or mission.name, nodes=nodes
    )


def render_document(*, strategy: Strategy, mission_name: str, nodes: list[Node]) -> str:
    """The document from already loaded rows; `nodes` in document order (`sort_key`)."""
    blocks = [f"# {Strategy.Kind(strategy.kind).label}"]
    if mission_name.strip():
        blocks.append(_one_line(mission_name))
    if strategy.period_start_fy and strategy.period_end_fy:
        blocks.append(f"FY {strategy.period_start_fy}-{strategy.period_end_fy}")
    if strategy.approved_on:
        blocks.append(f"Originally Approved: {_date(strategy.approved_on)}")
    if strategy.reviewed_on:
        blocks.append(f"Reviewed and Updated: {_date(strategy.reviewed_on)}")

    blocks.append("## 1. Chief of Mission Priorities")
    priorities = _markdown(strategy.com_priorities)
    if priorities:
        blocks.append(priorities)

    blocks.append("## 2. Mission Strategic Framework")
    blocks += [f"**{node.label}:** {_title(node.title)}" for node in nodes]

    blocks.append("## 3. Mission Goals and Objectives")
    for node in nodes:
        if not node.is_management:
            blocks.append(f"**{node.label}: {_title(node.title)}**")
            blocks += _narrative(node)

    blocks.append("## 4. Management Objectives")
    for node in nodes:
        if node.is_management:
            blocks.append(f"{_HEADING_LEVEL[node.kind]} **{node.label}: {_title(node.title)}**")
            blocks += _narrative(node)
    return "\n\n".join(blocks) + "\n"


def _narrative(node: Node) -> list[str]:
    """ "**Justification:** first paragraph" and the rest, for each field the node has."""
    blocks: list[str] = []
    for name, label in NARRATIVE_LABELS:
        text = _markdown(getattr(node, name))
        if not text:
            continue
        if _BLOCK_START_RE.match(text):
            blocks += [f"**{label}:**", text]
        else:
            blocks.append(f"**{label}:** {text}")
    return blocks


def _markdown(text: str) -> str:
    """Narrative is Markdown already: only line endings and surrounding blank lines change."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _title(title: str) -> str:
    return _TITLE_ESCAPE_RE.sub(r"\\\1", _one_line(title))


def _date(value: date) -> str:
    """ "March 14, 2025", as ICS documents write their dates."""
    return f"{value:%B} {value.day}, {value.year}"
