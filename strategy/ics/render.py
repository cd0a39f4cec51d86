"""Write a strategy back out as an ICS-shaped Markdown document.

Callers: `tracking.documents.strategy_document` (the export page, the API's
`/strategies/{id}/export/?format=md` and `manage.py export_strategy --format md`). The
document has the shape of `../shared/seeds/ics-china.txt` — title, mission, period and
dates, then the four numbered sections — and reads back through
`strategy.ics.parser.parse_ics` to the same tree with no discrepancies, so importing an
exported document into its own strategy changes nothing. What the document says is
decided in `strategy.ics.document` (also the public-release cuts and the appendix); this
module only writes it as Markdown. `docx_writer` and `pdf_writer` write the other formats.

Unlike the rest of this package, `render_markdown` reads the database: the strategy's
mission (unless already loaded) and its nodes, in one query whatever the tree's size.
"""

from __future__ import annotations

import re

from strategy.ics.document import (
    Appendix,
    Block,
    IcsDocument,
    ics_document,
    starts_block,
)
from strategy.models import Node, Strategy

# What a title must not bring into the document as Markdown: emphasis, code, links, HTML
# and backslashes. The parser undoes these escapes, so titles read back unchanged.
_TITLE_ESCAPE_RE = re.compile(r"([\\`*_\[\]<>]|&(?=#?\w+;))")
_HEADING_LEVEL = {1: "###", 2: "####"}


def render_markdown(
    *, strategy: Strategy, public: bool = False, appendix: Appendix | None = None
) -> str:
    """The strategy as an ICS-shaped Markdown document (see the module docstring)."""
    mission = strategy.mission
    nodes = list(Node.objects.filter(strategy=strategy).order_by("sort_key"))
    return render_document(
        strategy=strategy,
        mission_name=mission.country or mission.name,
        nodes=nodes,
        public=public,
        appendix=appendix,
    )


def render_document(
    *,
    strategy: Strategy,
    mission_name: str,
    nodes: list[Node],
    public: bool = False,
    appendix: Appendix | None = None,
) -> str:
    """The document from already loaded rows; `nodes` in document order (`sort_key`)."""
    document = ics_document(
        strategy=strategy, mission_name=mission_name, nodes=nodes, public=public, appendix=appendix
    )
    return write_markdown(document)


def write_markdown(document: IcsDocument) -> str:
    parts: list[str] = []
    for block in document.blocks:
        parts += _WRITERS[block.kind](block)
    return "\n\n".join(parts) + "\n"


def _narrative(block: Block) -> list[str]:
    """ "**Justification:** first paragraph" and the rest; the priorities have no label."""
    if not block.label:
        return [block.text]
    if starts_block(block.text):
        return [f"**{block.label}:**", block.text]
    return [f"**{block.label}:** {block.text}"]


def _item(block: Block) -> list[str]:
    line = f"**{block.label}: {_title(block.title)}**"
    if block.management:
        return [f"{_HEADING_LEVEL[block.level]} {line}"]
    return [line]


def _table(block: Block) -> list[str]:
    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(_cell(cell) for cell in cells) + " |"

    return [
        "\n".join(
            [row(block.columns), "| " + " | ".join("---" for _ in block.columns) + " |"]
            + [row(cells) for cells in block.rows]
        )
    ]


_WRITERS = {
    "banner": lambda block: [block.text],
    "title": lambda block: [f"# {block.text}"],
    "meta": lambda block: [block.text],
    "section": lambda block: [f"## {block.text}"],
    "entry": lambda block: [f"**{block.label}:** {_title(block.title)}"],
    "item": _item,
    "narrative": _narrative,
    "subheading": lambda block: [f"### {block.label}"],
    "table": _table,
    "note": lambda block: [_title(block.text)],
}


def _title(title: str) -> str:
    return _TITLE_ESCAPE_RE.sub(r"\\\1", " ".join(title.split()))


def _cell(text: str) -> str:
    return _title(text).replace("|", "\\|") or " "
