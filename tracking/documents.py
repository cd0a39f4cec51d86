"""A strategy as an ICS-shaped document file: Markdown, Word or PDF, optionally for public
release and with an appendix of indicators, milestones and latest notes.

Callers: the export page (`tracking.export_views`), the API's
`/strategies/{id}/export/?format=md|docx|pdf` and `manage.py export_strategy`. What the
document says and how each format looks is `strategy.ics` (document, render, docx_writer,
pdf_writer); this module reads the data, fills the appendix `strategy.ics` defines (which
cannot read tracking data itself) and picks the writer.

Queries, whatever the strategy's size (plus the mission when the caller did not load it):
without the appendix 1 (the nodes); with it the 6 of `strategy_tree`; in public mode with
the appendix 7, the last being the latest approved *non-sensitive* note per node, because
the tree's latest note may be a sensitive one.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.utils import timezone
from django.utils.text import slugify

from strategy.ics.document import (
    Appendix,
    AppendixEntry,
    AppendixIndicator,
    AppendixMilestone,
    AppendixNote,
    ics_document,
)
from strategy.models import Node, Strategy
from tracking import status as st
from tracking.selectors import TreeNode, latest_approved_notes, strategy_tree

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "docx": DOCX_TYPE,
    "pdf": "application/pdf",
}
FORMATS = tuple(CONTENT_TYPES)  # "md", "docx", "pdf"


class DocumentFile(NamedTuple):
    content: bytes
    content_type: str
    filename: str


def strategy_document(
    *,
    strategy: Strategy,
    fmt: str,
    public: bool = False,
    appendix: bool = False,
    today: date | None = None,
) -> DocumentFile:
    """The document file: its bytes, content type and a download name such as
    "china-ics-fy2024-2027-public.pdf". `fmt` is one of FORMATS (ValueError otherwise)."""
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown document format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    today = today or timezone.localdate()
    mission = strategy.mission
    if appendix:
        tree = strategy_tree(strategy=strategy, today=today)
        rows = tree.walk()
        nodes = [row.node for row in rows]
        notes = _public_notes(strategy) if public else None
        filled: Appendix | None = _appendix(rows, notes, today)
    else:
        nodes = list(Node.objects.filter(strategy=strategy).order_by("sort_key"))
        filled = None
    document = ics_document(
        strategy=strategy,
        mission_name=mission.country or mission.name,
        nodes=nodes,
        public=public,
        appendix=filled,
    )
    if fmt == "md":
        from strategy.ics.render import write_markdown

        content = write_markdown(document).encode("utf-8")
    elif fmt == "docx":
        from strategy.ics.docx_writer import write_docx

        content = write_docx(document)
    else:
        from strategy.ics.pdf_writer import write_pdf  # WeasyPrint: only when asked for

        content = write_pdf(document)
    return DocumentFile(content, CONTENT_TYPES[fmt], _filename(strategy, fmt, public))


def _filename(strategy: Strategy, fmt: str, public: bool) -> str:
    mission = strategy.mission
    parts = [mission.slug or slugify(mission.name) or "mission", strategy.kind]
    if strategy.period_start_fy and strategy.period_end_fy:
        parts.append(f"fy{strategy.period_start_fy}-{strategy.period_end_fy}")
    if public:
        parts.append("public")
    return "-".join(parts) + f".{fmt}"


def _public_notes(strategy: Strategy) -> dict[int, AppendixNote]:
    """The latest approved note of each node that is not sensitive (one query)."""
    return {
        row.node_id_: AppendixNote(
            title=row.summary.title,
            as_of=row.summary.as_of,
            assessment_label=st.label(row.summary.assessment),
        )
        for row in latest_approved_notes(strategy_ids=[strategy.id], publishable_only=True)
    }


def _appendix(
    rows: list[TreeNode], public_notes: dict[int, AppendixNote] | None, today: date
) -> Appendix:
    entries = []
    for row in rows:
        if public_notes is not None:
            note = public_notes.get(row.node.id)
        elif row.latest_note is not None:
            note = AppendixNote(
                title=row.latest_note.title,
                as_of=row.latest_note.as_of,
                assessment_label=st.label(row.latest_note.assessment),
            )
        else:
            note = None
        entries.append(
            AppendixEntry(
                kind=row.node.kind,
                code=row.node.code,
                indicators=tuple(
                    AppendixIndicator(
                        name=summary.indicator.name,
                        unit=summary.indicator.unit,
                        baseline=summary.indicator.baseline_value,
                        target=summary.target,
                        actual=summary.actual,
                        period_label=summary.period_label,
                        progress_percent=summary.progress_percent,
                        status_label=st.label(summary.status),
                    )
                    for summary in row.indicators
                ),
                milestones=tuple(
                    AppendixMilestone(
                        title=milestone.title,
                        due_on=milestone.due_on,
                        completed_on=milestone.completed_on,
                        overdue=milestone.is_overdue_on(today),
                    )
                    for milestone in row.milestones
                ),
                note=note,
            )
        )
    return Appendix(as_of=today, entries=tuple(entries))
