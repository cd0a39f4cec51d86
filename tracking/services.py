"""Every write to indicators, indicator periods and progress notes.

Keyword-only, atomic, one verb each; the page, the API, commands and tasks all call these,
so validation, role checks and history happen in exactly one place. `by=None` is a system
action (an operator's management command).

Note workflow (who may move a note where):

    draft ──submit (author)──▶ submitted ──approve (manager, not the author)──▶ approved
      ▲                            │
      │                       return (manager, comment required)
      │                            ▼
    edit (author) ◀──────────── returned ──submit (author)──▶ resubmitted ──▶ approve / return

Approved notes are never edited; `note_supersede` starts a new draft that replaces one.
Whether a note is sensitive (left out of the public-release document) is a publication
decision, not its content: the author sets it with the note, and a manager may change it
once the note reaches them — under review or approved — with `note_mark_sensitive`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Model
from django.db.models.expressions import RawSQL
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from strategy.concurrency import StaleVersion, adopt, apply_update, locked
from strategy.models import Node, Role, Strategy
from strategy.selectors import has_role, require_member, require_role
from strategy.services import check_flags
from tracking import status as st
from tracking.fiscal import describe_starts, period_starting
from tracking.markdown import render_markdown
from tracking.models import (
    Assessment,
    Indicator,
    IndicatorPeriod,
    NoteLink,
    NoteSource,
    NoteState,
    ProgressNote,
)
from tracking.selectors import node_computed_status

User = AbstractBaseUser


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

MAX_ABS_VALUE = Decimal("1e16")  # DecimalField(max_digits=20, decimal_places=4)


def _save(instance: Model, *, by: User | None, **kwargs: Any) -> None:
    instance._history_user = by
    instance.save(**kwargs)


def _clean(instance: Model, exclude: list[str] | None = None) -> None:
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def to_decimal(value: Any, field: str) -> Decimal | None:
    """Parse a number from a form, JSON or CSV; None and "" mean "no value"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError({field: "Enter a number."})
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: f"“{str(value)[:40]}” is not a number."}) from exc
    if not number.is_finite() or abs(number) >= MAX_ABS_VALUE:
        raise ValidationError({field: "Enter a finite number below 10^16."})
    return number.quantize(Decimal("0.0001"))


# --- Indicators ------------------------------------------------------------------------

INDICATOR_FIELDS = (
    "name",
    "definition",
    "unit",
    "direction",
    "baseline_value",
    "baseline_date",
    "data_source",
    "collection_method",
    "frequency",
    "cumulative_mode",
    "owner",
)


@transaction.atomic
def indicator_create(*, node: Node, name: str, by: User | None, **fields: Any) -> Indicator:
    require_role(by, node.strategy.mission_id, Role.MANAGER, "edit indicators")
    require_member(fields.get("owner"), node.strategy.mission_id)
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown indicator fields: {', '.join(sorted(unknown))}.")
    if "baseline_value" in fields:
        fields["baseline_value"] = to_decimal(fields["baseline_value"], "baseline_value")
    indicator = Indicator(node=node, name=name.strip(), **fields)
    _clean(indicator, exclude=["node", "owner"])
    if Indicator.objects.filter(node=node, name=indicator.name).exists():
        raise ValidationError(
            {"name": f"{node.label} already has an indicator called “{indicator.name}”."}
        )
    _save(indicator, by=by)
    return indicator


@transaction.atomic
def indicator_update(
    *, indicator: Indicator, by: User | None, expected_version: int | None = None, **fields: Any
) -> Indicator:
    require_role(by, indicator.node.strategy.mission_id, Role.MANAGER, "edit indicators")
    unknown = set(fields) - set(INDICATOR_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown indicator fields: {', '.join(sorted(unknown))}.")
    if (
        "frequency" in fields
        and fields["frequency"] != indicator.frequency
        and indicator.periods.exists()
    ):
        raise ValidationError(
            {"frequency": "The frequency cannot change once periods are recorded."}
        )
    if "baseline_value" in fields:
        fields["baseline_value"] = to_decimal(fields["baseline_value"], "baseline_value")
    if fields.get("owner") is not None:
        require_member(fields["owner"], indicator.node.strategy.mission_id)
    apply_update(
        indicator,
        fields=fields,
        by=by,
        expected_version=expected_version,
        clean_exclude=["node", "owner"],
    )
    return indicator


@transaction.atomic
def indicator_delete(
    *, indicator: Indicator, by: User | None, expected_version: int | None = None
) -> None:
    """Delete an indicator that has no recorded actuals (its targets go with it)."""
    require_role(by, indicator.node.strategy.mission_id, Role.MANAGER, "edit indicators")
    fresh = locked(indicator, expected_version)
    if fresh.periods.filter(actual__isnull=False).exists():
        raise ValidationError(f"“{fresh.name}” has recorded values and cannot be deleted.")
    for period in fresh.periods.all():
        period._history_user = by
        period.delete()
    fresh._history_user = by
    fresh.delete()


@transaction.atomic
def indicator_period_record(
    *,
    indicator: Indicator,
    period_start: date,
    by: User | None,
    actual: Any = UNSET,
    target: Any = UNSET,
    comment: Any = UNSET,
    today: date | None = None,
    expected_version: int | None = None,
) -> tuple[IndicatorPeriod, bool]:
    """Record an actual (analysts) and/or a target (managers) for one period: an upsert
    keyed by (indicator, period start). Returns (period, changed). Writing the values a
    period already has changes nothing and writes no history."""
    mission_id = indicator.node.strategy.mission_id
    require_role(by, mission_id, Role.ANALYST, "record indicator values")
    if target is not UNSET:
        require_role(by, mission_id, Role.MANAGER, "set indicator targets")
    period_info = period_starting(period_start, indicator.frequency)
    if period_info is None:
        raise ValidationError(
            {
                "period_start": f"{period_start:%-d %b %Y} is not the start of a "
                f"{indicator.get_frequency_display().lower()} period; they start on "
                f"{describe_starts(indicator.frequency)}."
            }
        )
    today = today or timezone.localdate()
    values: dict[str, Any] = {}
    if actual is not UNSET:
        values["actual"] = to_decimal(actual, "actual")
        if values["actual"] is not None and period_start > today:
            raise ValidationError({"actual": f"{period_info.label} has not started yet."})
    if target is not UNSET:
        values["target"] = to_decimal(target, "target")
    if comment is not UNSET:
        values["comment"] = str(comment or "").strip()
    period = (
        IndicatorPeriod.objects.select_for_update()
        .filter(indicator=indicator, period_start=period_start)
        .first()
    )
    if period is None:
        if expected_version is not None:
            raise StaleVersion(0, expected_version)
        period = IndicatorPeriod(
            indicator=indicator, period_start=period_start, period_end=period_info.end
        )
        created = True
    else:
        created = False
        if expected_version is not None and period.version != expected_version:
            raise StaleVersion(period.version, expected_version)
        values = {k: v for k, v in values.items() if getattr(period, k) != v}
        if not values:
            return period, False
        period.version += 1
    for k, v in values.items():
        setattr(period, k, v)
    if "actual" in values:
        period.recorded_by = by
        period.recorded_at = timezone.now()
    if created:
        try:
            with transaction.atomic():
                _save(period, by=by)
        except IntegrityError:
            # Someone created the same period a moment ago: update theirs instead.
            return indicator_period_record(
                indicator=indicator, period_start=period_start, by=by, actual=actual, target=target,
                comment=comment, today=today,
            )  # fmt: skip
    else:
        _save(period, by=by)
    return period, True


# --- Progress notes --------------------------------------------------------------------

NOTE_CONTENT_FIELDS = ("title", "body", "assessment", "as_of", "justification")
NOTE_FLAGS = ("is_sensitive",)
NOTE_FIELDS = (*NOTE_CONTENT_FIELDS, *NOTE_FLAGS)  # what the author may change
# Where a manager may mark a note sensitive (or publishable): drafts and returned notes
# are the author's, who sets the flag with the note.
NOTE_MARKABLE_STATES = (NoteState.SUBMITTED, NoteState.RESUBMITTED, NoteState.APPROVED)


def _validate_nodes(
    strategy: Strategy, nodes: Iterable[Node], primary: Node | None
) -> tuple[list[Node], Node]:
    nodes = list(dict.fromkeys(nodes))
    if not nodes:
        raise ValidationError({"nodes": "Link the note to at least one objective or goal."})
    if any(node.strategy_id != strategy.id for node in nodes):
        raise ValidationError({"nodes": "Every linked node must belong to the note's strategy."})
    primary = primary or nodes[0]
    if primary not in nodes:
        raise ValidationError({"primary_node": "The primary node must be one of the linked nodes."})
    return nodes, primary


def _validate_content(values: dict[str, Any], today: date) -> None:
    check_flags(values, NOTE_FLAGS)
    if "assessment" in values and values["assessment"] not in Assessment.values:
        raise ValidationError({"assessment": "Choose an assessment."})
    if "title" in values and not str(values["title"]).strip():
        raise ValidationError({"title": "Give the note a title."})
    if values.get("as_of") and values["as_of"] > today:
        raise ValidationError({"as_of": "The as-of date cannot be in the future."})


def _set_sources(note: ProgressNote, sources: Iterable[Any], by: User | None) -> None:
    wanted: list[tuple[str, str]] = []
    for source in sources:
        url, label = (
            (source.get("url", ""), source.get("label", ""))
            if isinstance(source, dict)
            else (source, "")
        )
        wanted.append((str(url).strip(), str(label).strip()))
    current = list(note.sources.all())
    if [(s.url, s.label) for s in current] == wanted:
        return
    for s in current:
        s._history_user = by
        s.delete()
    for url, label in wanted:
        source = NoteSource(note=note, url=url, label=label)
        try:
            _clean(source, exclude=["note"])
        except ValidationError as exc:
            raise ValidationError({"sources": f"“{url[:80]}” is not a valid link."}) from exc
        _save(source, by=by)


def _set_links(note: ProgressNote, nodes: list[Node], primary: Node, by: User | None) -> None:
    wanted = {node.id: node.id == primary.id for node in nodes}
    current = {link.node_id: link for link in note.links.all()}
    if {k: v.is_primary for k, v in current.items()} == wanted:
        return
    for node_id, link in current.items():
        if node_id not in wanted or link.is_primary != wanted[node_id]:
            link._history_user = by
            link.delete()
    for node_id, is_primary in wanted.items():
        link = current.get(node_id)
        if link is None or link.is_primary != is_primary:
            _save(NoteLink(note=note, node_id=node_id, is_primary=is_primary), by=by)


@transaction.atomic
def note_create(
    *,
    strategy: Strategy,
    author: User,
    title: str,
    assessment: str,
    as_of: date,
    nodes: Iterable[Node],
    primary_node: Node | None = None,
    body: str = "",
    justification: str = "",
    is_sensitive: bool = False,
    sources: Iterable[Any] = (),
    supersedes: ProgressNote | None = None,
    today: date | None = None,
) -> ProgressNote:
    """Start a draft note by `author` (an analyst or above of the strategy's mission)."""
    require_role(author, strategy.mission_id, Role.ANALYST, "write progress notes")
    today = today or timezone.localdate()
    node_list, primary = _validate_nodes(strategy, nodes, primary_node)
    _validate_content(
        {"title": title, "assessment": assessment, "as_of": as_of, "is_sensitive": is_sensitive},
        today,
    )
    if supersedes is not None and (
        supersedes.strategy_id != strategy.id or supersedes.state != NoteState.APPROVED
    ):
        raise ValidationError(
            {"supersedes": "Only an approved note of the same strategy can be superseded."}
        )
    note = ProgressNote(
        strategy=strategy,
        author=author,
        title=title.strip(),
        body=body,
        body_html=render_markdown(body),
        assessment=assessment,
        as_of=as_of,
        justification=justification.strip(),
        is_sensitive=is_sensitive,
        supersedes=supersedes,
    )
    _clean(note, exclude=["strategy", "author", "supersedes", "reviewed_by"])
    _save(note, by=author)
    _set_links(note, node_list, primary, author)
    _set_sources(note, sources, author)
    return note


def _lock(note: ProgressNote, expected_version: int | None) -> ProgressNote:
    """Re-read the note under a row lock; StaleVersion if it moved past `expected_version`."""
    return locked(note, expected_version)


def _finish(fresh: ProgressNote, note: ProgressNote, by: User | None) -> ProgressNote:
    fresh.version += 1
    _save(fresh, by=by)
    adopt(note, fresh)
    return note


@transaction.atomic
def note_update(
    *,
    note: ProgressNote,
    by: User,
    expected_version: int | None = None,
    nodes: Iterable[Node] | None = None,
    primary_node: Node | None = None,
    sources: Iterable[Any] | None = None,
    today: date | None = None,
    **fields: Any,
) -> ProgressNote:
    """Edit a draft or returned note (its content and whether it is sensitive). Only its
    author may; approved notes never change (a manager may still mark one sensitive:
    `note_mark_sensitive`)."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.ANALYST, "edit progress notes")
    if by is None or by.pk != fresh.author_id:
        raise PermissionDenied("Only the author may edit a note.")
    if not fresh.is_editable:
        raise ValidationError(
            "Approved notes cannot be edited; write a new note that supersedes it."
            if fresh.state == NoteState.APPROVED
            else "A note under review cannot be edited; a manager must return it first."
        )
    _validate_content(fields, today or timezone.localdate())
    for k, v in fields.items():
        setattr(fresh, k, v.strip() if isinstance(v, str) and k != "body" else v)
    fresh.body_html = render_markdown(fresh.body)
    _clean(fresh, exclude=["strategy", "author", "supersedes", "reviewed_by"])
    if nodes is not None or primary_node is not None:
        current = [link.node for link in fresh.links.select_related("node")]
        node_list, primary = _validate_nodes(
            fresh.strategy, nodes if nodes is not None else current, primary_node
        )
        _set_links(fresh, node_list, primary, by)
    if sources is not None:
        _set_sources(fresh, sources, by)
    return _finish(fresh, note, by)


def justification_required(*, note: ProgressNote, today: date | None = None) -> str:
    """Why this note needs a justification ("" when it does not)."""
    if note.assessment == Assessment.OFF_TRACK:
        return "A note that says “off track” needs a justification."
    primary = next(
        (link.node for link in note.links.select_related("node__strategy") if link.is_primary), None
    )
    if primary is None:
        return ""
    computed = node_computed_status(node=primary, today=today)
    if st.disagrees(note.assessment, computed.status):
        return (
            f"The indicators say {computed.label.lower()} ({computed.reason}); explain why "
            f"your assessment is {st.label(note.assessment).lower()}."
        )
    return ""


@transaction.atomic
def note_submit(
    *, note: ProgressNote, by: User, expected_version: int | None = None, today: date | None = None
) -> ProgressNote:
    """Send a draft (or a returned note) to the managers for review."""
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.ANALYST, "submit progress notes")
    if by.pk != fresh.author_id:
        raise PermissionDenied("Only the author may submit a note.")
    if fresh.state not in (NoteState.DRAFT, NoteState.RETURNED):
        raise ValidationError(f"A {fresh.get_state_display().lower()} note cannot be submitted.")
    if not fresh.body.strip():
        raise ValidationError({"body": "Write the assessment before submitting."})
    reason = justification_required(note=fresh, today=today)
    if reason and not fresh.justification.strip():
        raise ValidationError({"justification": reason})
    fresh.state = (
        NoteState.RESUBMITTED if fresh.state == NoteState.RETURNED else NoteState.SUBMITTED
    )
    fresh.submitted_at = timezone.now()
    return _finish(fresh, note, by)


@transaction.atomic
def note_approve(
    *, note: ProgressNote, by: User, comment: str = "", expected_version: int | None = None
) -> ProgressNote:
    """A manager approves a submitted note; it then counts as the node's assessment."""
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.MANAGER, "approve progress notes")
    if by.pk == fresh.author_id:
        raise PermissionDenied("You cannot approve your own note; another manager must review it.")
    if not fresh.is_awaiting_review:
        raise ValidationError(f"A {fresh.get_state_display().lower()} note cannot be approved.")
    now = timezone.now()
    fresh.state = NoteState.APPROVED
    fresh.reviewed_by = by
    fresh.reviewed_at = now
    fresh.approved_at = now
    fresh.review_comment = comment.strip()
    return _finish(fresh, note, by)


@transaction.atomic
def note_return(
    *, note: ProgressNote, by: User, comment: str, expected_version: int | None = None
) -> ProgressNote:
    """A manager sends a submitted note back to its author with a comment saying why."""
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.MANAGER, "return progress notes")
    if by.pk == fresh.author_id:
        raise PermissionDenied("You cannot review your own note; another manager must.")
    if not (comment or "").strip():
        raise ValidationError({"comment": "Say what the author should change."})
    if not fresh.is_awaiting_review:
        raise ValidationError(f"A {fresh.get_state_display().lower()} note cannot be returned.")
    fresh.state = NoteState.RETURNED
    fresh.reviewed_by = by
    fresh.reviewed_at = timezone.now()
    fresh.review_comment = comment.strip()
    return _finish(fresh, note, by)


@transaction.atomic
def note_mark_sensitive(
    *, note: ProgressNote, sensitive: bool, by: User | None, expected_version: int | None = None
) -> ProgressNote:
    """A manager marks a note under review or approved as sensitive (left out of the
    public-release document) or as publishable again. Only the flag changes — the note's
    content never does — with a version bump and a history row; marking it as it already
    is writes nothing."""
    if not isinstance(sensitive, bool):
        raise ValidationError({"sensitive": "Choose true or false."})
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.MANAGER, "mark progress notes sensitive")
    if fresh.state not in NOTE_MARKABLE_STATES:
        raise ValidationError(
            f"A {fresh.get_state_display().lower()} note is its author's: they mark it "
            "sensitive when they edit it."
        )
    if fresh.is_sensitive == sensitive:
        adopt(note, fresh)
        return note
    fresh.is_sensitive = sensitive
    return _finish(fresh, note, by)


@transaction.atomic
def note_delete(*, note: ProgressNote, by: User, expected_version: int | None = None) -> None:
    """The author deletes a note that was never approved and is not under review."""
    fresh = _lock(note, expected_version)
    require_role(by, fresh.strategy.mission_id, Role.ANALYST, "delete progress notes")
    if by.pk != fresh.author_id:
        raise PermissionDenied("Only the author may delete a note.")
    if not fresh.is_editable:
        raise ValidationError("Only draft or returned notes can be deleted.")
    fresh._history_user = by
    fresh.delete()


@transaction.atomic
def note_supersede(*, note: ProgressNote, by: User, today: date | None = None) -> ProgressNote:
    """Start a new draft that will replace an approved note (which itself never changes)."""
    if note.state != NoteState.APPROVED:
        raise ValidationError("Only approved notes are superseded; edit drafts directly.")
    links = list(note.links.select_related("node"))
    return note_create(
        strategy=note.strategy,
        author=by,
        title=note.title,
        body=note.body,
        assessment=note.assessment,
        justification=note.justification,
        is_sensitive=note.is_sensitive,
        as_of=today or timezone.localdate(),
        nodes=[link.node for link in links],
        primary_node=next((link.node for link in links if link.is_primary), None),
        sources=[{"url": s.url, "label": s.label} for s in note.sources.all()],
        supersedes=note,
        today=today,
    )


# --- Bulk indicator values -------------------------------------------------------------


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


BULK_FIELDS = {"indicator", "period_start", "actual", "target", "comment"}


def _bulk_row_errors(
    row: Any,
    indicators: dict[int, Indicator],
    by: User,
    today: date,
    memo: dict[tuple, Any] | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Validate one row; returns (errors by field, clean values). `memo` keeps role checks
    and fiscal periods between rows: 10,000 rows touch a few missions and months."""
    memo = {} if memo is None else memo

    def remembered(key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    errors: dict[str, str] = {}
    if not isinstance(row, dict):
        return {"row": "Each row must be an object with indicator and period_start."}, {}
    unknown = set(row) - BULK_FIELDS
    if unknown:
        errors["row"] = f"Unknown fields: {', '.join(sorted(map(str, unknown)))}."
    clean: dict[str, Any] = {}
    indicator_id = row.get("indicator")
    try:
        indicator = (
            indicators.get(int(indicator_id)) if not isinstance(indicator_id, bool) else None
        )
    except (TypeError, ValueError):
        indicator = None
    if indicator is None:
        errors["indicator"] = f"No indicator {str(indicator_id)[:20]!r} among your missions."
    try:
        start = date.fromisoformat(str(row.get("period_start", "")).strip())
    except ValueError:
        start = None
        errors["period_start"] = "Give the period start as YYYY-MM-DD."
    for name in ("actual", "target"):
        if name in row:
            try:
                clean[name] = to_decimal(row[name], name)
            except ValidationError as exc:
                errors[name] = exc.message_dict[name][0]
    if "comment" in row:
        if row["comment"] is not None and not isinstance(row["comment"], str | int | float):
            errors["comment"] = "The comment must be text."
        else:
            clean["comment"] = str(row["comment"] or "").strip()[:5000]
    if "actual" not in row and "target" not in row and "comment" not in row:
        errors["row"] = "Give at least one of actual, target or comment."
    if indicator is not None:
        mission_id = indicator.mission_id  # annotated by indicator_periods_bulk
        may = {
            role: remembered(("role", mission_id, role), lambda r=role: has_role(by, mission_id, r))
            for role in (Role.ANALYST, Role.MANAGER)
        }
        if not may[Role.ANALYST]:
            errors["indicator"] = "You need the analyst role to record values for this indicator."
        elif "target" in row and not may[Role.MANAGER]:
            errors["target"] = "You need the manager role to set targets."
        if start is not None:
            period = remembered(
                ("period", start, indicator.frequency),
                lambda: period_starting(start, indicator.frequency),
            )
            if period is None:
                errors["period_start"] = (
                    f"{start} does not start a {indicator.get_frequency_display().lower()} period "
                    f"(they start on {describe_starts(indicator.frequency)})."
                )
            else:
                clean["period_end"] = period.end
                if clean.get("actual") is not None and start > today:
                    errors["actual"] = f"{period.label} has not started yet."
    clean.update({"indicator": indicator, "period_start": start})
    return errors, clean


@transaction.atomic
def indicator_periods_bulk(*, rows: list[Any], by: User, today: date | None = None) -> BulkResult:
    """Upsert many indicator values at once, keyed by (indicator, period start).

    All or nothing: every row is validated first and one bad row rejects the batch with a
    ValidationError naming every bad row (`rows[N].field`, N counted from 1). Queries do
    not grow with the number of rows: indicators in one query, existing periods in one,
    then one insert and one update (each with its history rows).
    """
    today = today or timezone.localdate()
    ids = set()
    for row in rows:
        if isinstance(row, dict):
            try:
                if not isinstance(row.get("indicator"), bool):
                    ids.add(int(row.get("indicator")))
            except (TypeError, ValueError):
                pass
    ids_list = [i for i in ids if 0 < i < 2**63]
    memo: dict[tuple, Any] = {}  # role checks and fiscal periods, shared with the validator
    indicators = {
        i.id: i
        # Only what validation reads: one object per indicator, the mission as a column.
        for i in Indicator.objects.filter(id__in=_id_set(ids_list))
        .annotate(mission_id=F("node__strategy__mission_id"))
        .only("id", "frequency", "node_id")
    }
    viewer = {}
    for mission_id in {i.mission_id for i in indicators.values()}:
        viewer[mission_id] = memo[("role", mission_id, Role.VIEWER)] = has_role(
            by, mission_id, Role.VIEWER
        )
    indicators = {k: i for k, i in indicators.items() if viewer[i.mission_id]}
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    seen: dict[tuple[int, date], int] = {}
    for number, row in enumerate(rows, start=1):
        row_errors, clean = _bulk_row_errors(row, indicators, by, today, memo)
        key = (
            (clean.get("indicator").id, clean["period_start"])
            if clean.get("indicator") and clean.get("period_start")
            else None
        )
        if key and key in seen and not row_errors:
            row_errors["period_start"] = f"Same indicator and period as row {seen[key]}."
        if key:
            seen.setdefault(key, number)
        for field_name, message in row_errors.items():
            errors[f"rows[{number}].{field_name}"] = [message]
        cleaned.append(clean)
    if errors:
        bad = sorted({int(k.split("]")[0][5:]) for k in errors})
        shown = ", ".join(map(str, bad[:20])) + (" …" if len(bad) > 20 else "")
        errors["non_field_errors"] = [
            f"{len(bad)} of {len(rows)} rows are invalid (rows {shown}); nothing was written."
        ]
        raise ValidationError(errors)

    # Plain rows, not model instances: 10,000 instances cost more than the writes (#6).
    existing = {
        (row["indicator_id"], row["period_start"]): row
        for row in IndicatorPeriod.objects.filter(
            indicator_id__in=_id_set(list(indicators)),
            period_start__in=list({c["period_start"] for c in cleaned}),
        )
        .order_by()
        .values(*_PERIOD_COLUMNS)
    }
    now = timezone.now()
    by_id = getattr(by, "pk", None)
    to_create: list[dict[str, Any]] = []
    to_update: list[dict[str, Any]] = []
    result = BulkResult()
    for clean in cleaned:
        values = {k: clean[k] for k in ("actual", "target", "comment") if k in clean}
        indicator_id = clean["indicator"].id
        row = existing.get((indicator_id, clean["period_start"]))
        if row is None:
            recorded = values.get("actual") is not None
            to_create.append(
                {
                    "indicator_id": indicator_id,
                    "period_start": clean["period_start"],
                    "period_end": clean["period_end"],
                    "target": values.get("target"),
                    "actual": values.get("actual"),
                    "comment": values.get("comment", ""),
                    "recorded_by_id": by_id if recorded else None,
                    "recorded_at": now if recorded else None,
                }
            )
            continue
        changed = {k: v for k, v in values.items() if row[k] != v}
        if not changed:
            result.unchanged += 1
            continue
        row.update(changed)
        if "actual" in changed:
            row["recorded_by_id"], row["recorded_at"] = by_id, now
        row["version"] += 1
        to_update.append(row)
    if to_create:
        _bulk_create_periods(to_create, by=by, now=now)
    if to_update:
        _bulk_update_periods(to_update, by=by, now=now)
    result.created, result.updated = len(to_create), len(to_update)
    return result


def _id_set(ids: list[int]) -> Any:
    """The right side of `id__in`: on PostgreSQL one array parameter (`IN (SELECT
    unnest(…))`) instead of 5,000 placeholders, each of which Django prepares in Python."""
    if connection.vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::bigint[])", [_pg_array(ids)])


_PERIOD_UPDATE_FIELDS = ["actual", "target", "comment", "recorded_by", "recorded_at", "version"]
_PERIOD_COLUMNS = (
    "id", "indicator_id", "period_start", "period_end", "target", "actual", "comment",
    "recorded_by_id", "recorded_at", "version", "created_at",
)  # fmt: skip


def _bulk_create_periods(rows: list[dict[str, Any]], *, by: User, now: datetime) -> None:
    """Insert new periods and their history rows. On PostgreSQL one `INSERT … SELECT FROM
    unnest(…)` with a column of values per array, then one `INSERT … SELECT` for history."""
    if connection.vendor != "postgresql":
        periods = [IndicatorPeriod(**row) for row in rows]
        bulk_create_with_history(periods, IndicatorPeriod, batch_size=None, default_user=by)
        return
    columns = ("indicator_id", "period_start", "period_end", "target", "actual", "comment",
               "recorded_by_id", "recorded_at")  # fmt: skip
    types = ("bigint", "date", "date", "numeric", "numeric", "text", "bigint", "timestamptz")
    arrays = [_pg_array(row[c] for row in rows) for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tracking_indicatorperiod ({', '.join(columns)}, version, "  # noqa: S608
            "created_at, updated_at) SELECT v.*, 1, %s, %s FROM unnest("
            f"{', '.join(f'%s::{t}[]' for t in types)}) AS v RETURNING id",
            [now, now, *arrays],
        )
        ids = [r[0] for r in cursor.fetchall()]
    _period_history(ids, history_type="+", by=by, now=now)


def _bulk_update_periods(rows: list[dict[str, Any]], *, by: User, now: datetime) -> None:
    """Write changed periods and their history rows. On PostgreSQL one
    `UPDATE … FROM unnest(…)`: Django's bulk_update builds a CASE per field listing every
    row, which PostgreSQL evaluates per row — quadratic, 30 s for 5,000 rows (issue #6)."""
    if connection.vendor != "postgresql":
        periods = [IndicatorPeriod(**row, updated_at=now) for row in rows]
        bulk_update_with_history(
            periods, IndicatorPeriod, [*_PERIOD_UPDATE_FIELDS, "updated_at"],
            batch_size=None, default_user=by,
        )  # fmt: skip
        return
    columns = ("id", "actual", "target", "comment", "recorded_by_id", "recorded_at", "version")
    types = ("bigint", "numeric", "numeric", "text", "bigint", "timestamptz", "integer")
    arrays = [_pg_array(row[c] for row in rows) for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tracking_indicatorperiod AS t SET actual = v.actual, target = v.target, "  # noqa: S608
            "comment = v.comment, recorded_by_id = v.recorded_by_id, "
            "recorded_at = v.recorded_at, version = v.version, updated_at = %s FROM unnest("
            f"{', '.join(f'%s::{t}[]' for t in types)}) AS v ({', '.join(columns)}) "
            "WHERE t.id = v.id",
            [now, *arrays],
        )
    _period_history([row["id"] for row in rows], history_type="~", by=by, now=now)


def _pg_array(values: Iterable[Any]) -> str:
    """One PostgreSQL array literal (`{1,NULL,"a \\"b\\""}`), sent as a single parameter
    and cast by the query: the server parses 5,000 elements of text far quicker than the
    `ARRAY[…]` expression psycopg2 would write for a list (one cast per element)."""

    def element(value: Any) -> str:
        if value is None:
            return "NULL"
        text = value.isoformat() if isinstance(value, date | datetime) else str(value)
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join(map(element, values)) + "}"


def _period_history(ids: list[int], *, history_type: str, by: User, now: datetime) -> None:
    """simple-history's rows for these periods, copied from the table by one
    INSERT … SELECT (PostgreSQL) — what `bulk_history_create` writes, without building
    10,000 historical objects in Python."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_historicalindicatorperiod (id, indicator_id, period_start, "
            "period_end, target, actual, comment, recorded_by_id, recorded_at, version, "
            "created_at, updated_at, history_date, history_change_reason, history_type, "
            "history_user_id) SELECT id, indicator_id, period_start, period_end, target, "
            "actual, comment, recorded_by_id, recorded_at, version, created_at, updated_at, "
            "%s, NULL, %s, %s FROM tracking_indicatorperiod WHERE id = ANY(%s::bigint[]) ORDER BY id",
            [now, history_type, getattr(by, "pk", None), _pg_array(ids)],
        )
