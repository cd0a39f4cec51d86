"""A strategy as one JSON document, and the restore of such a document.

Callers: the API's `/strategies/{id}/export/?format=json`, `manage.py export_strategy` and
`manage.py import_strategy_json`. The document carries everything tracked against a
strategy — its mission, tree, milestones, indicators with their periods, and progress
notes with their links, sources, workflow state and reviewers — so that importing it into
an empty instance and exporting again gives the same document (apart from
`exported_at`). Rows refer to nodes by (kind, code), to users by username and to other
notes by their index in `notes`; database ids never appear.

Not carried: note attachments (files), memberships, reports and subscriptions, history,
and created/updated timestamps and version counters (a restore starts them afresh).

    {
      "format": "strategy-tracker/1",
      "exported_at": "2025-05-01T12:00:00+00:00",
      "mission": {"name", "country", "slug"},
      "strategy": {"title", "kind", "period_start_fy", "period_end_fy", "approved_on",
                   "reviewed_on", "status", "com_priorities", "com_priorities_sensitive",
                   "freshness_days", "rollup"},
      "nodes": [{"kind", "code", "parent_code", "title", "description", "justification",
                 "risks", "description_sensitive", "justification_sensitive",
                 "risks_sensitive", "linkages", "owner"}],
      "milestones": [{"node_kind", "node_code", "title", "due_on", "completed_on", "owner"}],
      "indicators": [{"node_kind", "node_code", "name", "definition", "unit", "direction",
                      "baseline_value", "baseline_date", "data_source", "collection_method",
                      "frequency", "cumulative_mode", "owner",
                      "periods": [{"period_start", "period_end", "target", "actual",
                                   "comment", "recorded_by", "recorded_at"}]}],
      "notes": [{"title", "body", "assessment", "justification", "is_sensitive", "as_of",
                 "state", "author",
                 "submitted_at", "reviewed_by", "reviewed_at", "review_comment",
                 "approved_at", "links": [{"node_kind", "node_code", "is_primary"}],
                 "sources": [{"url", "label"}], "supersedes"}],
      "analyses": [{"title", "author", "document_date", "source_url", "text", "file_name",
                    "source_kind", "created_by",
                    "links": [{"node_kind", "node_code", "confirmed_by", "confirmed_at",
                               "score"}]}]
    }

Dates are ISO 8601 ("2025-05-01"), date-times ISO 8601 with their offset, decimals strings
("24.0000"), absent values null. The `*_sensitive` flags (left out of the public-release
document) default to false when a document has none, as older exports do not; so does
`analyses` (an empty list) in exports made before analyses existed. Lists are
in a fixed order (nodes in document order, notes in the order they were written), so two
exports of the same data are equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from strategy.models import (
    CODE_DEPTH,
    PARENT_KIND,
    Milestone,
    Mission,
    Node,
    NodeKind,
    Role,
    Strategy,
    code_sort_key,
)
from strategy.selectors import require_role
from strategy.services import NODE_EDITABLE_FIELDS, STRATEGY_FIELDS
from tracking.markdown import render_markdown
from tracking.models import (
    AnalysisDocument,
    AnalysisLink,
    Indicator,
    IndicatorPeriod,
    NoteLink,
    NoteSource,
    NoteState,
    ProgressNote,
)
from tracking.services import INDICATOR_FIELDS as SERVICE_INDICATOR_FIELDS
from tracking.services import NOTE_FLAGS, to_decimal

User = AbstractBaseUser

FORMAT = "strategy-tracker/1"
ANALYSIS_FIELDS = (
    "title",
    "author",
    "document_date",
    "source_url",
    "text",
    "file_name",
    "source_kind",
)
MAX_ERRORS = 50  # a document broken everywhere gets the first fifty messages, then a count

# The same field lists the services write; `owner` travels as a username, separately.
INDICATOR_FIELDS = tuple(f for f in SERVICE_INDICATOR_FIELDS if f != "owner")
NODE_FIELDS = tuple(f for f in NODE_EDITABLE_FIELDS if f != "owner")
NOTE_FIELDS = (
    "title",
    "body",
    "assessment",
    "justification",
    *NOTE_FLAGS,
    "as_of",
    "state",
    "submitted_at",
    "reviewed_at",
    "review_comment",
    "approved_at",
)


# --- Export ------------------------------------------------------------------------------


def strategy_export_json(*, strategy: Strategy, reader: User | None = None) -> dict[str, Any]:
    """The strategy and everything tracked against it, as a JSON-ready dict.

    `reader` is the person the export is for: they get what they may see, so other
    people's drafts are left out (superusers see all). `None` exports every note — the
    operator's backup (`manage.py export_strategy`).

    Nine queries whatever the size (plus the mission unless `strategy.mission` is
    loaded): nodes, periods, notes, note links, note sources, analyses, analysis links,
    milestones, indicators.
    """
    mission = strategy.mission
    nodes = list(
        Node.objects.filter(strategy=strategy)
        .order_by("sort_key")
        .values("id", "parent_id", "kind", "code", *NODE_FIELDS, "owner__username")
    )
    node_key = {node["id"]: (node["kind"], node["code"]) for node in nodes}

    def ref(node_id: int) -> dict[str, str]:
        kind, code = node_key[node_id]
        return {"node_kind": kind, "node_code": code}

    milestones = Milestone.objects.filter(node__strategy=strategy).order_by(
        "node__sort_key", "due_on", "id"
    )
    indicators = Indicator.objects.filter(node__strategy=strategy).order_by(
        "node__sort_key", "name", "id"
    )
    periods: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for period in (
        IndicatorPeriod.objects.filter(indicator__node__strategy=strategy)
        .order_by("indicator_id", "period_start")
        .values(
            "indicator_id",
            "period_start",
            "period_end",
            "target",
            "actual",
            "comment",
            "recorded_by__username",
            "recorded_at",
        )
    ):
        periods[period["indicator_id"]].append(
            {
                "period_start": _iso(period["period_start"]),
                "period_end": _iso(period["period_end"]),
                "target": _decimal(period["target"]),
                "actual": _decimal(period["actual"]),
                "comment": period["comment"],
                "recorded_by": period["recorded_by__username"],
                "recorded_at": _iso(period["recorded_at"]),
            }
        )
    # In the order they were written: a note can only supersede an older one, so
    # `supersedes` always points back up the list and a restore can write notes in order.
    note_rows = ProgressNote.objects.filter(strategy=strategy)
    if reader is not None and not reader.is_superuser:
        note_rows = note_rows.exclude(Q(state=NoteState.DRAFT) & ~Q(author=reader))
    notes = list(
        note_rows.order_by("id").values(
            "id", *NOTE_FIELDS, "author__username", "reviewed_by__username", "supersedes_id"
        )
    )
    note_index = {note["id"]: index for index, note in enumerate(notes)}
    links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in (
        NoteLink.objects.filter(note__strategy=strategy)
        .order_by("note_id", "-is_primary", "node__sort_key")
        .values("note_id", "node_id", "is_primary")
    ):
        links[link["note_id"]].append({**ref(link["node_id"]), "is_primary": link["is_primary"]})
    sources: dict[int, list[dict[str, str]]] = defaultdict(list)
    for source in (
        NoteSource.objects.filter(note__strategy=strategy)
        .order_by("note_id", "id")
        .values("note_id", "url", "label")
    ):
        sources[source["note_id"]].append({"url": source["url"], "label": source["label"]})
    analyses = list(
        AnalysisDocument.objects.filter(strategy=strategy)
        .order_by("id")
        .values("id", *ANALYSIS_FIELDS, "created_by__username")
    )
    analysis_links: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for link in (
        AnalysisLink.objects.filter(document__strategy=strategy)
        .order_by("document_id", "node__sort_key")
        .values("document_id", "node_id", "confirmed_by__username", "confirmed_at", "score")
    ):
        analysis_links[link["document_id"]].append(
            {
                **ref(link["node_id"]),
                "confirmed_by": link["confirmed_by__username"],
                "confirmed_at": _iso(link["confirmed_at"]),
                "score": link["score"],
            }
        )

    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "mission": {"name": mission.name, "country": mission.country, "slug": mission.slug},
        "strategy": {name: _iso(getattr(strategy, name)) for name in STRATEGY_FIELDS},
        "nodes": [
            {
                "kind": node["kind"],
                "code": node["code"],
                "parent_code": node_key[node["parent_id"]][1] if node["parent_id"] else None,
                **{name: node[name] for name in NODE_FIELDS},
                "owner": node["owner__username"],
            }
            for node in nodes
        ],
        "milestones": [
            {
                **ref(milestone["node_id"]),
                "title": milestone["title"],
                "due_on": _iso(milestone["due_on"]),
                "completed_on": _iso(milestone["completed_on"]),
                "owner": milestone["owner__username"],
            }
            for milestone in milestones.values(
                "node_id", "title", "due_on", "completed_on", "owner__username"
            )
        ],
        "indicators": [
            {
                **ref(indicator["node_id"]),
                **{name: _iso(_decimal(indicator[name])) for name in INDICATOR_FIELDS},
                "owner": indicator["owner__username"],
                "periods": periods[indicator["id"]],
            }
            for indicator in indicators.values(
                "id", "node_id", *INDICATOR_FIELDS, "owner__username"
            )
        ],
        "notes": [
            {
                "title": note["title"],
                "body": note["body"],
                "assessment": note["assessment"],
                "justification": note["justification"],
                "is_sensitive": note["is_sensitive"],
                "as_of": _iso(note["as_of"]),
                "state": note["state"],
                "author": note["author__username"],
                "submitted_at": _iso(note["submitted_at"]),
                "reviewed_by": note["reviewed_by__username"],
                "reviewed_at": _iso(note["reviewed_at"]),
                "review_comment": note["review_comment"],
                "approved_at": _iso(note["approved_at"]),
                "links": links[note["id"]],
                "sources": sources[note["id"]],
                "supersedes": note_index.get(note["supersedes_id"]),
            }
            for note in notes
        ],
        "analyses": [
            {
                **{name: _iso(analysis[name]) for name in ANALYSIS_FIELDS},
                "created_by": analysis["created_by__username"],
                "links": analysis_links[analysis["id"]],
            }
            for analysis in analyses
        ],
    }


def _iso(value: Any) -> Any:
    """Dates and date-times as ISO 8601 strings; anything else unchanged."""
    return value.isoformat() if isinstance(value, date | datetime) else value


def _decimal(value: Any) -> Any:
    """Decimals as plain strings ("24.0000", never "2.4E+1"); anything else unchanged."""
    return format(value, "f") if isinstance(value, Decimal) else value


# --- Import: reading the document --------------------------------------------------------


class _Invalid(Exception):
    """A value does not have the type or form the format asks for; the message says how."""


# A value reader takes the JSON value and returns the Python value, or raises _Invalid.
Reader = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be a string, not {_json_type(value)}.")
    if "\x00" in value:
        raise _Invalid("must not contain NUL characters.")
    return value


def _required_text(value: Any) -> str:
    if not _text(value).strip():
        raise _Invalid("must not be empty.")
    return value


def _nullable(read: Reader) -> Reader:
    def reader(value: Any) -> Any:
        return None if value is None else read(value)

    return reader


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid(f"must be a whole number, not {_json_type(value)}.")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {_json_type(value)}.")
    return value


def _date(value: Any) -> date:
    text = _text(value)
    try:
        parsed = parse_date(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Invalid(f"“{text[:40]}” is not a date (YYYY-MM-DD).")
    return parsed


def _datetime(value: Any) -> datetime:
    text = _text(value)
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise _Invalid(f"“{text[:40]}” is not an ISO 8601 date-time.")
    if timezone.is_naive(parsed):
        raise _Invalid(f"“{text[:40]}” has no time zone offset (e.g. +00:00).")
    return parsed


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(f"must be a number written as a string, not {_json_type(value)}.")
    if isinstance(value, str) and not value.strip():
        raise _Invalid("must be a number or null, not an empty string.")
    try:
        return to_decimal(value, "value")
    except ValidationError as exc:
        raise _Invalid(exc.messages[0]) from exc


def _score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _Invalid(f"must be a number, not {_json_type(value)}.")
    return float(value)


def _choice(values: list[str]) -> Reader:
    def reader(value: Any) -> str:
        if _text(value) not in values:
            raise _Invalid(f"“{value[:40]}” is not one of: {', '.join(values)}.")
        return value

    return reader


def _username(value: Any) -> str:
    name = _required_text(value)
    UserModel = get_user_model()
    try:
        UserModel._meta.get_field(UserModel.USERNAME_FIELD).clean(name, None)
    except ValidationError as exc:
        raise _Invalid(f"“{name[:40]}” is not a valid username: {exc.messages[0]}") from exc
    return name


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise _Invalid("must be a list of strings.")
    return [_text(tag) for tag in value]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "an object"
    )


@dataclass(frozen=True)
class _Key:
    """One key of an object in the document: how to read its value, and the value when
    the key is absent (`required` keys must be present)."""

    read: Reader
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class _Object:
    """A key holding one object (`many=False`) or a list of objects of one shape."""

    shape: dict[str, _Key | _Object]
    required: bool = False
    many: bool = True


_NODE_REF = {
    "node_kind": _Key(_choice(NodeKind.values), required=True),
    "node_code": _Key(_required_text, required=True),
}
_DOCUMENT: dict[str, _Key | _Object] = {
    "format": _Key(_text, required=True),
    "exported_at": _Key(_nullable(_text)),
    "mission": _Object(
        {
            "name": _Key(_required_text, required=True),
            "country": _Key(_text, default=""),
            "slug": _Key(_required_text, required=True),
        },
        required=True,
        many=False,
    ),
    "strategy": _Object(
        {
            "title": _Key(_required_text, required=True),
            "kind": _Key(_text, default=Strategy.Kind.ICS),
            "period_start_fy": _Key(_nullable(_integer)),
            "period_end_fy": _Key(_nullable(_integer)),
            "approved_on": _Key(_nullable(_date)),
            "reviewed_on": _Key(_nullable(_date)),
            "status": _Key(_text, default=Strategy.Status.DRAFT),
            "com_priorities": _Key(_text, default=""),
            "com_priorities_sensitive": _Key(_boolean, default=False),
            "freshness_days": _Key(_integer, default=90),
            "rollup": _Key(_text, default=Strategy.Rollup.WORST),
        },
        required=True,
        many=False,
    ),
    "nodes": _Object(
        {
            "kind": _Key(_choice(NodeKind.values), required=True),
            "code": _Key(_required_text, required=True),
            "parent_code": _Key(_nullable(_required_text)),
            "title": _Key(_required_text, required=True),
            "description": _Key(_text, default=""),
            "justification": _Key(_text, default=""),
            "risks": _Key(_text, default=""),
            "description_sensitive": _Key(_boolean, default=False),
            "justification_sensitive": _Key(_boolean, default=False),
            "risks_sensitive": _Key(_boolean, default=False),
            "linkages": _Key(_tags, default=[]),
            "owner": _Key(_nullable(_username)),
        },
        required=True,
    ),
    "milestones": _Object(
        {
            **_NODE_REF,
            "title": _Key(_required_text, required=True),
            "due_on": _Key(_date, required=True),
            "completed_on": _Key(_nullable(_date)),
            "owner": _Key(_nullable(_username)),
        }
    ),
    "indicators": _Object(
        {
            **_NODE_REF,
            "name": _Key(_required_text, required=True),
            "definition": _Key(_text, default=""),
            "unit": _Key(_text, default=""),
            "direction": _Key(_text, default="increase"),
            "baseline_value": _Key(_nullable(_number)),
            "baseline_date": _Key(_nullable(_date)),
            "data_source": _Key(_text, default=""),
            "collection_method": _Key(_text, default=""),
            "frequency": _Key(_text, default="quarterly"),
            "cumulative_mode": _Key(_text, default="non_cumulative"),
            "owner": _Key(_nullable(_username)),
            "periods": _Object(
                {
                    "period_start": _Key(_date, required=True),
                    "period_end": _Key(_date, required=True),
                    "target": _Key(_nullable(_number)),
                    "actual": _Key(_nullable(_number)),
                    "comment": _Key(_text, default=""),
                    "recorded_by": _Key(_nullable(_username)),
                    "recorded_at": _Key(_nullable(_datetime)),
                }
            ),
        }
    ),
    "notes": _Object(
        {
            "title": _Key(_required_text, required=True),
            "body": _Key(_text, default=""),
            "assessment": _Key(_text, required=True),
            "justification": _Key(_text, default=""),
            "is_sensitive": _Key(_boolean, default=False),
            "as_of": _Key(_date, required=True),
            "state": _Key(_text, required=True),
            "author": _Key(_username, required=True),
            "submitted_at": _Key(_nullable(_datetime)),
            "reviewed_by": _Key(_nullable(_username)),
            "reviewed_at": _Key(_nullable(_datetime)),
            "review_comment": _Key(_text, default=""),
            "approved_at": _Key(_nullable(_datetime)),
            "links": _Object(
                {**_NODE_REF, "is_primary": _Key(_boolean, default=False)}, required=True
            ),
            "sources": _Object(
                {"url": _Key(_required_text, required=True), "label": _Key(_text, default="")}
            ),
            "supersedes": _Key(_nullable(_integer)),
        }
    ),
    "analyses": _Object(
        {
            "title": _Key(_required_text, required=True),
            "author": _Key(_text, default=""),
            "document_date": _Key(_date, required=True),
            "source_url": _Key(_text, default=""),
            "text": _Key(_required_text, required=True),
            "file_name": _Key(_text, default=""),
            "source_kind": _Key(_text, default="pasted"),
            "created_by": _Key(_nullable(_username)),
            "links": _Object(
                {
                    **_NODE_REF,
                    "confirmed_by": _Key(_nullable(_username)),
                    "confirmed_at": _Key(_datetime, required=True),
                    "score": _Key(_nullable(_score)),
                }
            ),
        }
    ),
}


class _Errors:
    """Messages that each name the place in the document they are about."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")

    def add_model(self, path: str, exc: ValidationError) -> None:
        for name, messages in exc.message_dict.items():
            where = path if name == "__all__" else f"{path}.{name}"
            for message in messages:
                self.add(where, message)

    def raise_if_any(self) -> None:
        if not self.messages:
            return
        messages = self.messages[:MAX_ERRORS]
        if len(self.messages) > MAX_ERRORS:
            messages.append(f"… and {len(self.messages) - MAX_ERRORS} more problems.")
        raise ValidationError(messages)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _read_object(
    value: Any, shape: dict[str, _Key | _Object], path: str, errors: _Errors
) -> dict[str, Any]:
    """The object's values read by `shape`; every problem is added to `errors`."""
    if not isinstance(value, dict):
        errors.add(path or "document", f"must be an object, not {_json_type(value)}.")
        return {}
    for key in value:
        if key not in shape:
            errors.add(_join(path, str(key)), "is not a key of this format.")
    out: dict[str, Any] = {}
    for key, spec in shape.items():
        where = _join(path, key)
        if key not in value:
            if spec.required:
                errors.add(where, "is missing.")
            elif isinstance(spec, _Object):
                out[key] = [] if spec.many else {}
            else:
                out[key] = list(spec.default) if isinstance(spec.default, list) else spec.default
        elif isinstance(spec, _Object) and spec.many:
            items = value[key]
            if not isinstance(items, list):
                errors.add(where, f"must be a list, not {_json_type(items)}.")
                continue
            out[key] = [
                _read_object(item, spec.shape, f"{where}[{index}]", errors)
                for index, item in enumerate(items)
            ]
        elif isinstance(spec, _Object):
            out[key] = _read_object(value[key], spec.shape, where, errors)
        else:
            try:
                out[key] = spec.read(value[key])
            except _Invalid as exc:
                errors.add(where, str(exc))
    return out


def _read_document(data: Any) -> dict[str, Any]:
    """Check the document's shape (format marker, keys, types) and read its values."""
    errors = _Errors()
    if not isinstance(data, dict):
        errors.add("document", f"must be a JSON object, not {_json_type(data)}.")
    elif "format" not in data:
        errors.add("format", f"is missing: expected “{FORMAT}”.")
    elif data["format"] != FORMAT:
        errors.add(
            "format",
            f"is “{str(data['format'])[:40]}”, not “{FORMAT}”: "
            "this is not a strategy export this version can read.",
        )
    errors.raise_if_any()
    document = _read_object(data, _DOCUMENT, "", errors)
    errors.raise_if_any()
    return document


# --- Import: checking what the document says ----------------------------------------------


@dataclass
class _Plan:
    """Unsaved rows in the order they are written, and who each user reference names."""

    mission: Mission
    strategy: Strategy
    nodes: list[Node] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    periods: list[IndicatorPeriod] = field(default_factory=list)
    notes: list[ProgressNote] = field(default_factory=list)
    links: list[NoteLink] = field(default_factory=list)
    sources: list[NoteSource] = field(default_factory=list)
    analyses: list[AnalysisDocument] = field(default_factory=list)
    analysis_links: list[AnalysisLink] = field(default_factory=list)
    # (row, field name, username): filled in once users are found or created.
    user_refs: list[tuple[Model, str, str]] = field(default_factory=list)

    def refer(self, row: Model, name: str, username: str | None) -> None:
        if username is not None:
            self.user_refs.append((row, name, username))


def _clean(row: Model, path: str, errors: _Errors, exclude: list[str]) -> None:
    """Field rules of the model (lengths, choices, URLs, blanks), as document messages."""
    try:
        row.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.add_model(path, exc)


def _plan(doc: dict[str, Any], mission_slug: str | None) -> _Plan:
    """Unsaved rows for everything the document says, after checking that it holds
    together: valid codes and parents, references to nodes and notes that exist, no
    duplicates, and the rules the database enforces."""
    errors = _Errors()
    mission = Mission(**{**doc["mission"], "slug": mission_slug or doc["mission"]["slug"]})
    _clean(mission, "mission", errors, exclude=[])
    strategy = Strategy(mission=mission, **doc["strategy"])
    _clean(strategy, "strategy", errors, exclude=["mission"])
    start, end = strategy.period_start_fy, strategy.period_end_fy
    if start is not None and end is not None and end < start:
        errors.add("strategy.period_end_fy", f"{end} is before period_start_fy {start}.")
    if isinstance(strategy.freshness_days, int) and strategy.freshness_days < 1:
        errors.add("strategy.freshness_days", "must be at least 1.")
    plan = _Plan(mission=mission, strategy=strategy)

    nodes = _plan_nodes(plan, doc["nodes"], errors)
    _plan_milestones(plan, doc["milestones"], nodes, errors)
    _plan_indicators(plan, doc["indicators"], nodes, errors)
    _plan_notes(plan, doc["notes"], nodes, errors)
    _plan_analyses(plan, doc["analyses"], nodes, errors)
    errors.raise_if_any()
    return plan


def _label(kind: str, code: str) -> str:
    return f"{NodeKind(kind).label.lower()} “{code}”"


def _plan_nodes(
    plan: _Plan, items: list[dict[str, Any]], errors: _Errors
) -> dict[tuple[str, str], Node]:
    nodes: dict[tuple[str, str], Node] = {}
    paths: dict[tuple[str, str], str] = {}
    parent_codes: dict[tuple[str, str], str | None] = {}
    for index, item in enumerate(items):
        path = f"nodes[{index}]"
        kind, code = item["kind"], item["code"].strip()
        if not Node.code_is_valid(kind, code):
            errors.add(
                f"{path}.code",
                f"“{code[:20]}” is not a valid code for a {NodeKind(kind).label.lower()} "
                f"({CODE_DEPTH[kind]} dot-separated number(s), e.g. "
                f"“{'.'.join(['1'] * CODE_DEPTH[kind])}”).",
            )
            continue
        if (kind, code) in nodes:
            errors.add(path, f"repeats the {_label(kind, code)} of {paths[(kind, code)]}.")
            continue
        node = Node(
            strategy=plan.strategy,
            kind=kind,
            code=code,
            sort_key=code_sort_key(kind, code),
            **{name: item[name] for name in NODE_FIELDS},
        )
        _clean(node, path, errors, exclude=["strategy", "parent", "owner"])
        plan.refer(node, "owner", item["owner"])
        nodes[(kind, code)], paths[(kind, code)] = node, path
        parent_codes[(kind, code)] = item["parent_code"]

    # Parents: every non-root names an existing node of the parent kind whose code its
    # own code extends. Written in document order, so parents always come first.
    for key in sorted(nodes, key=lambda key: code_sort_key(*key)):
        node = nodes[key]
        path, parent_code = paths[key], parent_codes[key]
        parent_kind = PARENT_KIND[node.kind]
        if parent_kind is None:
            if parent_code is not None:
                errors.add(
                    f"{path}.parent_code",
                    f"a {NodeKind(node.kind).label.lower()} has no parent; use null.",
                )
            plan.nodes.append(node)
            continue
        parent = nodes.get((parent_kind, (parent_code or "").strip()))
        if parent_code is None:
            errors.add(
                f"{path}.parent_code",
                f"a {NodeKind(node.kind).label.lower()} needs the code of its "
                f"{NodeKind(parent_kind).label.lower()}.",
            )
        elif parent is None:
            errors.add(
                f"{path}.parent_code",
                f"there is no {_label(parent_kind, parent_code[:20])} in nodes.",
            )
        elif not node.code.startswith(parent.code + "."):
            errors.add(
                f"{path}.code",
                f"“{node.code}” must start with its parent's code “{parent.code}.”.",
            )
        else:
            node.parent, node.parent_kind = parent, parent.kind
            plan.nodes.append(node)
    return nodes


def _node_for(
    item: dict[str, Any], nodes: dict[tuple[str, str], Node], path: str, errors: _Errors
) -> Node | None:
    kind, code = item["node_kind"], item["node_code"].strip()
    node = nodes.get((kind, code))
    if node is None:
        errors.add(f"{path}.node_code", f"there is no {_label(kind, code[:20])} in nodes.")
    return node


def _plan_milestones(
    plan: _Plan, items: list[dict[str, Any]], nodes: dict[tuple[str, str], Node], errors: _Errors
) -> None:
    for index, item in enumerate(items):
        path = f"milestones[{index}]"
        node = _node_for(item, nodes, path, errors)
        milestone = Milestone(
            node=node,
            title=item["title"],
            due_on=item["due_on"],
            completed_on=item["completed_on"],
        )
        _clean(milestone, path, errors, exclude=["node", "owner"])
        plan.refer(milestone, "owner", item["owner"])
        plan.milestones.append(milestone)


def _plan_indicators(
    plan: _Plan, items: list[dict[str, Any]], nodes: dict[tuple[str, str], Node], errors: _Errors
) -> None:
    seen: dict[tuple[str, str, str], str] = {}
    for index, item in enumerate(items):
        path = f"indicators[{index}]"
        node = _node_for(item, nodes, path, errors)
        indicator = Indicator(node=node, **{name: item[name] for name in INDICATOR_FIELDS})
        _clean(indicator, path, errors, exclude=["node", "owner"])
        key = (item["node_kind"], item["node_code"].strip(), item["name"].strip())
        if key in seen:
            errors.add(f"{path}.name", f"“{key[2][:80]}” repeats {seen[key]} on the same node.")
        seen.setdefault(key, path)
        plan.refer(indicator, "owner", item["owner"])
        plan.indicators.append(indicator)
        starts: dict[date, str] = {}
        for number, values in enumerate(item["periods"]):
            where = f"{path}.periods[{number}]"
            period = IndicatorPeriod(
                indicator=indicator, **{k: v for k, v in values.items() if k != "recorded_by"}
            )
            _clean(period, where, errors, exclude=["indicator", "recorded_by"])
            if period.period_end <= period.period_start:
                errors.add(f"{where}.period_end", "must be after period_start.")
            if period.period_start in starts:
                errors.add(
                    f"{where}.period_start",
                    f"{period.period_start.isoformat()} repeats {starts[period.period_start]}.",
                )
            starts.setdefault(period.period_start, where)
            plan.refer(period, "recorded_by", values["recorded_by"])
            plan.periods.append(period)


def _plan_notes(
    plan: _Plan, items: list[dict[str, Any]], nodes: dict[tuple[str, str], Node], errors: _Errors
) -> None:
    for index, item in enumerate(items):
        path = f"notes[{index}]"
        note = ProgressNote(
            strategy=plan.strategy,
            body_html=render_markdown(item["body"]),
            **{name: item[name] for name in NOTE_FIELDS},
        )
        _clean(note, path, errors, exclude=["strategy", "author", "reviewed_by", "supersedes"])
        if note.state == NoteState.APPROVED:
            if item["reviewed_by"] is None:
                errors.add(f"{path}.reviewed_by", "an approved note needs its reviewer.")
            if note.approved_at is None:
                errors.add(f"{path}.approved_at", "an approved note needs its approval time.")
        if note.state == NoteState.RETURNED and not note.review_comment.strip():
            errors.add(f"{path}.review_comment", "a returned note needs the reviewer's comment.")
        supersedes = item["supersedes"]
        if supersedes is not None:
            if not 0 <= supersedes < index:
                errors.add(
                    f"{path}.supersedes",
                    f"must be the index of an earlier note (0–{index - 1}), not {supersedes}."
                    if index
                    else "the first note cannot supersede another.",
                )
            else:
                note.supersedes = plan.notes[supersedes]
        plan.refer(note, "author", item["author"])
        plan.refer(note, "reviewed_by", item["reviewed_by"])
        plan.notes.append(note)

        linked: set[tuple[str, str]] = set()
        primaries = 0
        for number, values in enumerate(item["links"]):
            where = f"{path}.links[{number}]"
            node = _node_for(values, nodes, where, errors)
            key = (values["node_kind"], values["node_code"].strip())
            if key in linked:
                errors.add(where, f"links the {_label(*key)} twice.")
            linked.add(key)
            primaries += values["is_primary"]
            plan.links.append(NoteLink(note=note, node=node, is_primary=values["is_primary"]))
        if primaries > 1:
            errors.add(f"{path}.links", "only one link may be primary.")
        for number, values in enumerate(item["sources"]):
            source = NoteSource(note=note, url=values["url"].strip(), label=values["label"])
            _clean(source, f"{path}.sources[{number}]", errors, exclude=["note"])
            plan.sources.append(source)


def _plan_analyses(
    plan: _Plan, items: list[dict[str, Any]], nodes: dict[tuple[str, str], Node], errors: _Errors
) -> None:
    for index, item in enumerate(items):
        path = f"analyses[{index}]"
        analysis = AnalysisDocument(
            strategy=plan.strategy, **{name: item[name] for name in ANALYSIS_FIELDS}
        )
        _clean(analysis, path, errors, exclude=["strategy", "created_by"])
        if "\x00" in analysis.text:
            errors.add(f"{path}.text", "contains NUL characters.")
        plan.refer(analysis, "created_by", item["created_by"])
        plan.analyses.append(analysis)
        linked: set[tuple[str, str]] = set()
        for number, values in enumerate(item["links"]):
            where = f"{path}.links[{number}]"
            node = _node_for(values, nodes, where, errors)
            key = (values["node_kind"], values["node_code"].strip())
            if key in linked:
                errors.add(where, f"links the {_label(*key)} twice.")
            linked.add(key)
            link = AnalysisLink(
                document=analysis,
                node=node,
                confirmed_at=values["confirmed_at"],
                score=values["score"],
            )
            plan.refer(link, "confirmed_by", values["confirmed_by"])
            plan.analysis_links.append(link)


# --- Import: writing ---------------------------------------------------------------------


@transaction.atomic
def strategy_import_json(
    *, data: dict[str, Any], by: User | None = None, mission_slug: str | None = None
) -> Strategy:
    """Restore a strategy from `strategy_export_json`'s document; returns the new strategy.

    The document is checked whole before anything is written — shape (format marker,
    keys, types), then meaning (codes, parents, references, duplicates, the database's
    rules) — and every problem is raised in one ValidationError whose messages start with
    the place they are about ("indicators[3].periods[2].period_start: …"). Writing is one
    transaction: on any error nothing is left behind.

    The mission is found by slug (`mission_slug`, else the document's) and created when
    missing; it must not already have a strategy with the document's title. Users are
    found by username; **usernames the instance does not know are created as inactive
    users with unusable passwords** (they cannot sign in until an administrator activates
    them and sets a password), so authors, reviewers and owners survive the trip.

    This is a restore, not a workflow: rows are written directly with the document's
    states, reviewers and timestamps, version counters start at 1, and each row's history
    names `by` (None: an operator's command). Creating a mission or users takes a
    superuser; otherwise `by` must be a manager of the existing mission.
    """
    plan = _plan(_read_document(data), mission_slug)
    mission = Mission.objects.filter(slug=plan.mission.slug).first()
    if mission is None:
        if by is not None and not by.is_superuser:
            raise PermissionDenied("Only a superuser may create missions.")
        _save(plan.mission, by)
        mission = plan.mission
    else:
        require_role(by, mission.id, Role.MANAGER, "import strategies")
    if mission.strategies.filter(title=plan.strategy.title).exists():
        raise ValidationError(
            f"strategy.title: mission “{mission.slug}” already has a strategy titled "
            f"“{plan.strategy.title[:80]}”; import into another mission (--mission) or "
            "rename one of them."
        )
    users = _users({username for _row, _name, username in plan.user_refs}, by)
    for row, name, username in plan.user_refs:
        setattr(row, name, users[username])

    plan.strategy.mission = mission
    try:
        # Each list only refers to rows of the lists before it (a note to earlier notes).
        for rows in (
            [plan.strategy],
            plan.nodes,
            plan.milestones,
            plan.indicators,
            plan.periods,
            plan.notes,
            plan.links,
            plan.sources,
            plan.analyses,
            plan.analysis_links,
        ):
            for row in rows:
                _save(row, by)
    except (IntegrityError, DataError) as exc:
        raise ValidationError(f"The document breaks a database rule: {exc}") from exc
    return plan.strategy


def _save(row: Model, by: User | None) -> None:
    row._history_user = by
    row.save()


def _users(usernames: set[str], by: User | None) -> dict[str, User]:
    """The users the document names, creating the missing ones (inactive, no password)."""
    UserModel = get_user_model()
    lookup = f"{UserModel.USERNAME_FIELD}__in"
    found = {
        user.get_username(): user
        for user in UserModel._default_manager.filter(**{lookup: sorted(usernames)})
    }
    missing = sorted(usernames - set(found))
    if missing and by is not None and not by.is_superuser:
        raise PermissionDenied(
            f"Only a superuser may create users; unknown usernames: {', '.join(missing[:20])}."
        )
    for username in missing:
        user = UserModel(**{UserModel.USERNAME_FIELD: username}, is_active=False)
        user.set_unusable_password()
        user.save()
        found[username] = user
    return found
