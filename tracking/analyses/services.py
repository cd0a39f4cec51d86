"""Every write of analysis documents and their links.

Who may do what (per mission): analysts and managers add analyses and confirm or remove
links; the person who added an analysis, or a manager, edits or deletes it. Links are only
ever made here, from nodes a person chose — the ranker's suggestions are never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from strategy.concurrency import apply_update, locked
from strategy.ics.extract import DocumentError, _sniff, document_text
from strategy.models import Node, Role, Strategy
from strategy.selectors import has_role, require_role
from tracking.analyses.models import AnalysisDocument, AnalysisLink, SourceKind

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # an uploaded file
MAX_TEXT_CHARS = 1_000_000  # the stored text, pasted or extracted
MAX_TITLE_CHARS = 300
UPDATABLE = ("title", "author", "document_date", "source_url", "text")

_KINDS = {"text": SourceKind.TEXT, "pdf": SourceKind.PDF, "docx": SourceKind.DOCX}
_REFUSED = {
    "zip": "is a ZIP archive; upload a PDF, Word (.docx), text or Markdown file.",
    "doc": "is an old Word 97-2003 (.doc) file; save it as .docx, PDF or plain text.",
    "rtf": "is a Rich Text (.rtf) file; save it as .docx, PDF or plain text.",
}


def check_upload_size(*, size: int, file_name: str = "") -> None:
    """Refuse a file over the limit before reading it (ValidationError on `file`)."""
    if size > MAX_UPLOAD_BYTES:
        label = f"“{file_name}”" if file_name else "The file"
        raise ValidationError(
            {
                "file": f"{label} is {size / 2**20:.1f} MB; at most "
                f"{MAX_UPLOAD_BYTES // 2**20} MB can be uploaded."
            }
        )


def read_upload(*, data: bytes, file_name: str = "") -> tuple[str, str]:
    """(text, source kind) of an uploaded analysis, with the ICS import's extraction.
    ValidationError on the `file` field, in words for the person who uploaded it."""
    label = f"“{file_name}”" if file_name else "The file"
    check_upload_size(size=len(data), file_name=file_name)
    kind = _sniff(data)  # the ICS import's own format check: by content, not by name
    if kind in _REFUSED:
        raise ValidationError({"file": f"{label} {_REFUSED[kind]}"})
    try:
        text = document_text(data, file_name)
    except DocumentError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    return text, _KINDS[kind]


def _check_text(text: str, field: str = "text") -> str:
    if "\x00" in text:
        raise ValidationError({field: "The text contains NUL characters; paste plain text."})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValidationError({field: "Paste the analysis or upload a file."})
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(
            {
                field: f"The text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are kept. "
                "Split the analysis into parts."
            }
        )
    return text


def _check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = dict(fields)
    for name in ("title", "author", "source_url"):
        if name in clean:
            value = clean[name] if clean[name] is not None else ""
            if "\x00" in value:
                errors[name] = "Contains NUL characters."
            clean[name] = value.strip()
    if "title" in clean and not clean["title"]:
        errors["title"] = "Give the analysis a title."
    if len(clean.get("title", "")) > MAX_TITLE_CHARS:
        errors["title"] = f"At most {MAX_TITLE_CHARS} characters."
    if len(clean.get("author", "")) > 200:
        errors["author"] = "At most 200 characters."
    if clean.get("source_url"):
        try:
            URLValidator(schemes=["http", "https"])(clean["source_url"])
        except ValidationError:
            errors["source_url"] = "Enter a web address starting with http:// or https://."
        if len(clean["source_url"]) > 1000:
            errors["source_url"] = "At most 1000 characters."
    if "document_date" in clean and not isinstance(clean["document_date"], date):
        errors["document_date"] = "Give the date of the document."
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def analysis_create(
    *,
    strategy: Strategy,
    by,
    title: str,
    document_date: date,
    text: str = "",
    file_data: bytes | None = None,
    file_name: str = "",
    author: str = "",
    source_url: str = "",
) -> AnalysisDocument:
    """Attach an analysis to a strategy, from pasted `text` or an uploaded file's bytes."""
    require_role(by, strategy.mission_id, Role.ANALYST, "add analyses")
    fields = _check_fields(
        {"title": title, "author": author, "source_url": source_url, "document_date": document_date}
    )
    if file_data is not None and text.strip():
        raise ValidationError({"text": "Paste the text or upload a file, not both."})
    if file_data is not None:
        text, kind = read_upload(data=file_data, file_name=file_name)
        text = _check_text(text, "file")
    else:
        text, kind, file_name = _check_text(text), SourceKind.PASTED, ""
    document = AnalysisDocument(
        strategy=strategy,
        text=text,
        file_name=file_name[:255],
        source_kind=kind,
        created_by=by,
        **fields,
    )
    document._history_user = by
    document.save()
    return document


def _may_edit(by, document: AnalysisDocument) -> None:
    mission_id = document.strategy.mission_id
    require_role(by, mission_id, Role.ANALYST, "change analyses")
    if by is None or has_role(by, mission_id, Role.MANAGER):
        return
    if document.created_by_id != by.pk:
        raise PermissionDenied(
            "Only the person who added an analysis, or a manager, may change it."
        )


@transaction.atomic
def analysis_update(
    *, document: AnalysisDocument, by, expected_version: int | None = None, **fields: Any
) -> AnalysisDocument:
    """Edit an analysis' title, author, date, source link or text."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    _may_edit(by, document)
    fields = _check_fields(fields)
    if "text" in fields:
        fields["text"] = _check_text(fields["text"] or "")
    apply_update(document, fields=fields, by=by, expected_version=expected_version)
    return document


@transaction.atomic
def analysis_delete(*, document: AnalysisDocument, by, expected_version: int | None = None) -> None:
    """Delete an analysis and its links (history keeps both)."""
    _may_edit(by, document)
    fresh = locked(document, expected_version)
    for link in fresh.links.all():
        link._history_user = by
        link.delete()
    fresh._history_user = by
    fresh.delete()


def _bump(document: AnalysisDocument, by) -> None:
    fresh = locked(document)
    fresh.version += 1
    fresh._history_user = by
    fresh.save(update_fields=["version", "updated_at"])
    document.version, document.updated_at = fresh.version, fresh.updated_at


@transaction.atomic
def analysis_link(
    *,
    document: AnalysisDocument,
    nodes: Iterable[Node],
    by,
    scores: Mapping[int, float] | None = None,
    expected_version: int | None = None,
) -> list[AnalysisLink]:
    """Confirm that the analysis bears on `nodes` (of its own strategy). Nodes already
    linked stay as they were; returns the links made now. `scores` are the ranker's scores
    by node id, kept with the link (nodes added by hand have none)."""
    require_role(by, document.strategy.mission_id, Role.ANALYST, "link analyses to objectives")
    locked(document, expected_version)
    nodes = list(dict.fromkeys(nodes))
    if not nodes:
        raise ValidationError({"nodes": "Choose at least one goal or objective."})
    foreign = [n for n in nodes if n.strategy_id != document.strategy_id]
    if foreign:
        raise ValidationError(
            {"nodes": "Only goals and objectives of this analysis' own strategy can be linked."}
        )
    existing = set(
        AnalysisLink.objects.filter(document=document, node__in=nodes).values_list(
            "node_id", flat=True
        )
    )
    now = timezone.now()
    made = []
    for node in nodes:
        if node.pk in existing:
            continue
        score = (scores or {}).get(node.pk)
        link = AnalysisLink(
            document=document,
            node=node,
            confirmed_by=by,
            confirmed_at=now,
            score=float(score) if score is not None else None,
        )
        link._history_user = by
        link.save()
        made.append(link)
    if made:
        _bump(document, by)
    return made


@transaction.atomic
def analysis_unlink(
    *, document: AnalysisDocument, node: Node, by, expected_version: int | None = None
) -> None:
    """Remove a confirmed link."""
    require_role(by, document.strategy.mission_id, Role.ANALYST, "unlink analyses")
    locked(document, expected_version)
    link = AnalysisLink.objects.filter(document=document, node=node).first()
    if link is None:
        raise ValidationError({"node": f"This analysis is not linked to {node.code}."})
    link._history_user = by
    link.delete()
    _bump(document, by)
