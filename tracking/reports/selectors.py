"""Reads for reports: the snapshot a report stores, and the lists pages and API show.

`report_content` turns `tracking.selectors.strategy_tree` — the same tree the strategy
page and the API use — into the plain JSON a Report keeps forever. Its shape (schema 1):

    {
      "schema": 1,
      "strategy": {id, title, mission, mission_slug, period_label, status},
      "period": {cadence, cadence_label, label, start, end},
      "as_of": "YYYY-MM-DD", "generated_at": ISO datetime,
      "counts": {total, assessment: {status: n}, computed: {status: n}, stale,
                 late_indicators, overdue_milestones, disagreements},
      "changes": {
        "since": {report_id, label, as_of} | null, "since_date": "YYYY-MM-DD",
        "status_changes": [{code, title, channel, channel_label, from, from_label, to, to_label}],
        "new_notes": [{id, title, as_of, assessment, assessment_label, author, nodes: [code]}],
        "new_analyses": [{id, title, document_date, author, confirmed_by, nodes: [code]}],
        "missed_milestones": [{code, node_title, title, due_on, owner}],
        "late_data": [{code, indicator, period_label, period_end}],
      },
      "sections": [{kind, title, nodes: [node, …]}],   # goals then management, tree order
    }
    node = {id, code, kind, kind_label, title, depth, owner,
            assessment: {status, label, reason}, computed: {status, label, reason},
            disagreement, is_stale, freshness, last_update,
            latest_note: {id, title, as_of, assessment, assessment_label, excerpt} | null,
            indicators: [{id, name, unit, direction, baseline, target, actual, period_label,
                          progress_percent, status, status_label, late_period_label}],
            milestones: [{title, due_on, completed_on, state, owner}]}  # state: overdue|due|done

Dates are ISO strings and numbers are decimal strings, so the snapshot survives JSON
exactly; `tracking.reports.render` turns them back for display.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.text import Truncator

from strategy.models import NodeKind, Role, Strategy
from strategy.selectors import missions_with_role, user_roles
from tracking import status as st
from tracking.fiscal import period_containing
from tracking.markdown import plain_text
from tracking.models import (
    AnalysisLink,
    Cadence,
    Delivery,
    IndicatorPeriod,
    NoteLink,
    NoteState,
    ProgressNote,
    Report,
    ReportState,
    Subscription,
)
from tracking.reports.periods import ReportPeriod
from tracking.selectors import TreeNode, strategy_tree

SCHEMA = 1
EXCERPT_CHARS = 320
ON_DEMAND_LOOKBACK_DAYS = 7  # "what changed" of an on-demand report with nothing before it
STATUS_ORDER = [st.OFF_TRACK, st.AT_RISK, st.ON_TRACK, st.NOT_STARTED, st.ACHIEVED, st.NO_DATA]


def _num(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _status(info: st.StatusInfo) -> dict[str, str]:
    return {"status": info.status, "label": st.label(info.status), "reason": info.reason}


def _milestone_state(milestone, *, as_of: date, horizon: date) -> str | None:
    if milestone.completed_on is not None:
        return "done" if milestone.completed_on > as_of - timedelta(days=31) else None
    if milestone.due_on < as_of:
        return "overdue"
    if milestone.due_on <= horizon:
        return "due"
    return None


def _node(t: TreeNode, *, as_of: date, horizon: date, excerpts: dict[int, str]) -> dict[str, Any]:
    node = t.node
    note = t.latest_note
    milestones = []
    for m in t.milestones:
        state = _milestone_state(m, as_of=as_of, horizon=horizon)
        if state:
            milestones.append(
                {
                    "title": m.title,
                    "due_on": _iso(m.due_on),
                    "completed_on": _iso(m.completed_on),
                    "state": state,
                    "owner": _person(m.owner) if m.owner_id else "",
                }
            )
    return {
        "id": node.id,
        "code": node.code,
        "kind": node.kind,
        "kind_label": node.get_kind_display(),
        "title": node.title,
        "depth": t.depth,
        "owner": _person(node.owner) if node.owner_id else "",
        "assessment": _status(t.assessment),
        "computed": _status(t.computed),
        "disagreement": t.disagreement,
        "is_stale": t.is_stale,
        "freshness": t.freshness,
        "last_update": _iso(t.last_update),
        "latest_note": None
        if note is None
        else {
            "id": note.id,
            "title": note.title,
            "as_of": _iso(note.as_of),
            "assessment": note.assessment,
            "assessment_label": st.label(note.assessment),
            "excerpt": excerpts.get(note.id, ""),
        },
        "indicators": [
            {
                "id": i.indicator.id,
                "name": i.indicator.name,
                "unit": i.indicator.unit,
                "direction": i.indicator.direction,
                "baseline": _num(i.indicator.baseline_value),
                "target": _num(i.target),
                "actual": _num(i.actual),
                "period_label": i.period_label,
                "progress_percent": i.progress_percent,
                "status": i.status,
                "status_label": st.label(i.status),
                "late_period_label": i.late_period_label,
            }
            for i in t.indicators
        ],
        "milestones": milestones,
    }


def _changes(
    *,
    strategy: Strategy,
    nodes: list[dict[str, Any]],
    tree_nodes: list[TreeNode],
    previous: Report | None,
    since_date: date,
    as_of: date,
) -> dict[str, Any]:
    before: dict[str, dict[str, Any]] = {}
    if previous is not None:
        for section in previous.content.get("sections", []):
            for old in section.get("nodes", []):
                before[f"{old['kind']}:{old['code']}"] = old
    status_changes = []
    for now in nodes:
        old = before.get(f"{now['kind']}:{now['code']}")
        if old is None:
            continue
        for channel, channel_label in (("assessment", "Assessment"), ("computed", "Indicators")):
            was, is_ = old[channel]["status"], now[channel]["status"]
            if was != is_:
                status_changes.append(
                    {
                        "code": now["code"],
                        "title": now["title"],
                        "channel": channel,
                        "channel_label": channel_label,
                        "from": was,
                        "from_label": st.label(was),
                        "to": is_,
                        "to_label": st.label(is_),
                    }
                )

    # Notes approved since the previous report (or within this period): one query.
    notes: dict[int, dict[str, Any]] = {}
    links = (
        NoteLink.objects.filter(
            note__strategy=strategy,
            note__state=NoteState.APPROVED,
            note__approved_at__date__gt=since_date,
            note__approved_at__date__lte=as_of,
        )
        .order_by("note__as_of", "note_id", "-is_primary", "node__sort_key")
        .values(
            "note_id",
            "note__title",
            "note__as_of",
            "note__assessment",
            "note__author__username",
            "note__author__first_name",
            "note__author__last_name",
            "node__code",
        )
    )
    for row in links:
        entry = notes.get(row["note_id"])
        if entry is None:
            full = f"{row['note__author__first_name']} {row['note__author__last_name']}".strip()
            entry = notes[row["note_id"]] = {
                "id": row["note_id"],
                "title": row["note__title"],
                "as_of": _iso(row["note__as_of"]),
                "assessment": row["note__assessment"],
                "assessment_label": st.label(row["note__assessment"]),
                "author": full or row["note__author__username"],
                "nodes": [],
            }
        entry["nodes"].append(row["node__code"])

    # Analyses whose links to nodes were confirmed in the window: one query.
    analyses: dict[int, dict[str, Any]] = {}
    analysis_links = (
        AnalysisLink.objects.filter(
            document__strategy=strategy,
            confirmed_at__date__gt=since_date,
            confirmed_at__date__lte=as_of,
        )
        .order_by("document__document_date", "document_id", "node__sort_key")
        .values(
            "document_id",
            "document__title",
            "document__document_date",
            "document__author",
            "confirmed_by__username",
            "confirmed_by__first_name",
            "confirmed_by__last_name",
            "node__code",
        )
    )
    for row in analysis_links:
        entry = analyses.get(row["document_id"])
        if entry is None:
            who = f"{row['confirmed_by__first_name'] or ''} {row['confirmed_by__last_name'] or ''}"
            entry = analyses[row["document_id"]] = {
                "id": row["document_id"],
                "title": row["document__title"],
                "document_date": _iso(row["document__document_date"]),
                "author": row["document__author"],
                "confirmed_by": who.strip() or row["confirmed_by__username"] or "",
                "nodes": [],
            }
        if row["node__code"] not in entry["nodes"]:
            entry["nodes"].append(row["node__code"])

    # Milestones that fell due in the window and were not done by then: from the tree.
    missed = []
    for t in tree_nodes:
        for m in t.milestones:
            if since_date < m.due_on <= as_of and (
                m.completed_on is None or m.completed_on > m.due_on
            ):
                missed.append(
                    {
                        "code": t.node.code,
                        "node_title": t.node.title,
                        "title": m.title,
                        "due_on": _iso(m.due_on),
                        "owner": _person(m.owner) if m.owner_id else "",
                    }
                )

    # Indicator values whose reporting deadline passed in the window with nothing recorded.
    grace = timedelta(days=settings.INDICATOR_REPORTING_GRACE_DAYS)
    late_rows = (
        IndicatorPeriod.objects.filter(
            indicator__node__strategy=strategy,
            actual__isnull=True,
            period_end__gt=since_date - grace,
            period_end__lte=as_of - grace,
        )
        .order_by("indicator__node__sort_key", "indicator__name", "period_start")
        .values(
            "indicator__node__code",
            "indicator__name",
            "indicator__frequency",
            "period_start",
            "period_end",
        )
    )
    late = [
        {
            "code": row["indicator__node__code"],
            "indicator": row["indicator__name"],
            "period_label": period_containing(
                row["period_start"], row["indicator__frequency"]
            ).label,
            "period_end": _iso(row["period_end"]),
        }
        for row in late_rows
    ]
    return {
        "since": None
        if previous is None
        else {
            "report_id": previous.id,
            "label": previous.label,
            "as_of": previous.content.get("as_of"),
        },
        "since_date": _iso(since_date),
        "status_changes": status_changes,
        "new_notes": list(notes.values()),
        "new_analyses": list(analyses.values()),
        "missed_milestones": missed,
        "late_data": late,
    }


def previous_report(*, report: Report) -> Report | None:
    """What "what changed" compares with: the latest ready report of the same strategy
    and cadence before this one — for an on-demand report, the latest of any cadence."""
    earlier = Report.objects.filter(strategy_id=report.strategy_id, state=ReportState.READY)
    if report.cadence == Cadence.ON_DEMAND:
        earlier = earlier.exclude(pk=report.pk).filter(period_end__lte=report.period_end)
        return earlier.order_by("-built_at", "-id").first()
    earlier = earlier.filter(cadence=report.cadence, period_start__lt=report.period_start)
    return earlier.order_by("-period_start").first()


def report_content(
    *,
    strategy: Strategy,
    period: ReportPeriod,
    generated_at: datetime,
    previous: Report | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """The snapshot of `strategy` for `period`, as of its last day (or `as_of`).

    Queries, whatever the number of nodes (pinned in tests/tracking/reports):
    1–6. strategy_tree (nodes, indicators, latest actuals, latest due periods, latest
    approved note per node, milestones); 7. excerpts of those notes; 8. notes approved
    in the window with their nodes; 9. analyses linked in the window (their links, with
    nodes and who confirmed); 10. indicator periods that became late in the window.
    The caller passes `strategy` with its mission and `previous` already loaded.
    """
    as_of = as_of or period.end
    tree = strategy_tree(strategy=strategy, today=as_of)
    tree_nodes = tree.walk()
    note_ids = [t.latest_note.id for t in tree_nodes if t.latest_note]
    excerpts = {
        row["id"]: Truncator(plain_text(row["body"])).chars(EXCERPT_CHARS)
        for row in ProgressNote.objects.filter(id__in=note_ids).values("id", "body")
    }
    horizon = as_of + timedelta(days=max(31, (period.end - period.start).days + 1))
    nodes = [_node(t, as_of=as_of, horizon=horizon, excerpts=excerpts) for t in tree_nodes]

    counts = tree.counts()
    counts["assessment"] = {s: counts["assessment"].get(s, 0) for s in STATUS_ORDER}
    counts["computed"] = {s: counts["computed"].get(s, 0) for s in STATUS_ORDER}

    if previous is not None and previous.content.get("as_of"):
        since_date = date.fromisoformat(previous.content["as_of"])
    elif period.cadence == Cadence.ON_DEMAND:  # a first report of the day: the last week
        since_date = as_of - timedelta(days=ON_DEMAND_LOOKBACK_DAYS)
    else:
        since_date = period.start - timedelta(days=1)
    mission_nodes = [n for n in nodes if not n["kind"].startswith("management")]
    management_nodes = [n for n in nodes if n["kind"].startswith("management")]
    sections = []
    if mission_nodes:
        sections.append(
            {"kind": NodeKind.MISSION_GOAL.value, "title": "Mission Goals", "nodes": mission_nodes}
        )
    if management_nodes:
        sections.append(
            {
                "kind": NodeKind.MANAGEMENT_OBJECTIVE.value,
                "title": "Management Objectives",
                "nodes": management_nodes,
            }
        )
    return {
        "schema": SCHEMA,
        "strategy": {
            "id": strategy.id,
            "title": strategy.title,
            "mission": strategy.mission.name,
            "mission_slug": strategy.mission.slug,
            "period_label": strategy.period_label,
            "status": strategy.status,
        },
        "period": {
            "cadence": period.cadence,
            "cadence_label": Cadence(period.cadence).label,
            "label": period.label,
            "start": _iso(period.start),
            "end": _iso(period.end),
        },
        "as_of": _iso(as_of),
        "generated_at": generated_at.isoformat(),
        "counts": counts,
        "changes": _changes(
            strategy=strategy,
            nodes=nodes,
            tree_nodes=tree_nodes,
            previous=previous,
            since_date=since_date,
            as_of=as_of,
        ),
        "sections": sections,
    }


# --- Lists ------------------------------------------------------------------------------


def visible_reports(*, user) -> QuerySet[Report]:
    """Reports of the user's missions (every member may read them), without the PDF."""
    reports = Report.objects.select_related("strategy__mission").defer("pdf", "content")
    if user.is_superuser:
        return reports
    return reports.filter(strategy__mission_id__in=list(user_roles(user)))


def visible_subscriptions(*, user) -> QuerySet[Subscription]:
    """The user's own subscriptions plus every subscription of strategies they manage."""
    subs = Subscription.objects.select_related("strategy__mission", "user", "created_by")
    if user.is_superuser:
        return subs
    managed = missions_with_role(user, Role.MANAGER)
    return subs.filter(Q(user=user) | Q(strategy__mission_id__in=managed))


def report_deliveries(*, report: Report) -> list[Delivery]:
    return list(report.deliveries.select_related("subscription").order_by("email"))


def recent_deliveries(*, strategy: Strategy, limit: int = 200) -> list[Delivery]:
    return list(
        Delivery.objects.filter(report__strategy=strategy)
        .select_related("report")
        .defer("report__content", "report__pdf")
        .order_by("-created_at", "-id")[:limit]
    )
