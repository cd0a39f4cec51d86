"""Every non-trivial read of tracking data.

`strategy_trees` / `strategy_tree` build whole strategy trees with both statuses,
freshness, indicator progress and milestones in a fixed number of queries, whatever the
size or number of trees: the pages, the API and the report builder all use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, FloatField, Prefetch, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.text import Truncator, capfirst

from strategy.models import Milestone, Node, Strategy
from strategy.selectors import user_roles
from tracking import status as st
from tracking.fiscal import period_containing
from tracking.models import (
    AnalysisDocument,
    CumulativeMode,
    Indicator,
    IndicatorPeriod,
    NoteLink,
    NoteState,
    ProgressNote,
)


@dataclass
class IndicatorSummary:
    """An indicator with its latest reported value and the status that value gives."""

    indicator: Indicator
    period_label: str = ""
    period_start: date | None = None
    target: Decimal | None = None  # effective: summed for cumulative-of-period-values
    actual: Decimal | None = None
    progress: float | None = None
    status: str = st.NO_DATA
    late_period_label: str = ""  # the latest period past due with no actual, if any

    @property
    def is_late(self) -> bool:
        return bool(self.late_period_label)

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)

    @property
    def bar_percent(self) -> int:
        """Progress clamped to 0–100 for drawing a bar."""
        return max(0, min(100, self.progress_percent or 0))

    @property
    def basis(self) -> str:
        if self.progress is None:
            return f"“{self.indicator.name}” has no value yet"
        return f"“{self.indicator.name}” at {self.progress_percent} % of its {self.period_label} target"


@dataclass
class NoteSummary:
    id: int
    title: str
    as_of: date
    assessment: str


@dataclass
class TreeNode:
    """One node of a strategy tree with everything a page or report shows about it."""

    node: Node
    depth: int
    children: list[TreeNode] = field(default_factory=list)
    indicators: list[IndicatorSummary] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    latest_note: NoteSummary | None = None  # this node's own latest approved note
    assessment: st.StatusInfo = field(default_factory=lambda: st.StatusInfo(st.NO_DATA, ""))
    computed: st.StatusInfo = field(default_factory=lambda: st.StatusInfo(st.NO_DATA, ""))
    last_update: date | None = None  # latest approved note on the node or below it
    days_since_update: int | None = None
    is_stale: bool = True
    overdue_milestones: int = 0

    @property
    def disagreement(self) -> bool:
        return st.disagrees(self.assessment.status, self.computed.status)

    @property
    def freshness(self) -> str:
        if self.last_update is None:
            return "never updated"
        if self.days_since_update == 0:
            return "updated today"
        if self.days_since_update == 1:
            return "updated yesterday"
        return f"updated {self.days_since_update} days ago"

    def walk(self) -> list[TreeNode]:
        out = [self]
        for child in self.children:
            out.extend(child.walk())
        return out


@dataclass
class StrategyTree:
    strategy: Strategy
    roots: list[TreeNode]
    today: date

    def walk(self) -> list[TreeNode]:
        out: list[TreeNode] = []
        for root in self.roots:
            out.extend(root.walk())
        return out

    def counts(self) -> dict[str, Any]:
        """Status counts over objectives (every level below goals), plus stale and late counts."""
        tracked = [t for t in self.walk() if t.node.kind != "mission_goal"]
        assessment: dict[str, int] = defaultdict(int)
        computed: dict[str, int] = defaultdict(int)
        for t in tracked:
            assessment[t.assessment.status] += 1
            computed[t.computed.status] += 1
        return {
            "total": len(tracked),
            "assessment": dict(assessment),
            "computed": dict(computed),
            "stale": sum(1 for t in tracked if t.is_stale),
            "late_indicators": sum(1 for t in tracked for i in t.indicators if i.is_late),
            "overdue_milestones": sum(t.overdue_milestones for t in tracked),
            "disagreements": sum(1 for t in tracked if t.disagreement),
        }


def strategy_tree(*, strategy: Strategy, today: date | None = None) -> StrategyTree:
    """The whole tree of one strategy. Queries: see `strategy_trees`."""
    return strategy_trees(strategies=[strategy], today=today)[strategy.id]


def strategy_trees(
    *, strategies: list[Strategy], today: date | None = None
) -> dict[int, StrategyTree]:
    """Trees of several strategies at once, in six queries whatever their number and size:
    1. nodes (+ owner), 2. indicators, 3. latest period with an actual per indicator (with
    running sums), 4. latest period past due per indicator, 5. latest approved note per
    node, 6. milestones."""
    today = today or timezone.localdate()
    ids = [s.id for s in strategies]
    nodes = list(
        Node.objects.filter(strategy_id__in=ids)
        .select_related("owner")
        .order_by("strategy_id", "sort_key")
    )
    by_id = {n.id: TreeNode(node=n, depth=n.code.count(".")) for n in nodes}

    for summary in _indicator_summaries(strategy_ids=ids, today=today):
        by_id[summary.indicator.node_id].indicators.append(summary)
    for row in latest_approved_notes(strategy_ids=ids):
        by_id[row.node_id_].latest_note = row.summary
    for milestone in (
        Milestone.objects.filter(node__strategy_id__in=ids)
        .select_related("owner")  # reports name each missed milestone's owner
        .order_by("node_id", "due_on", "id")
    ):
        tree_node = by_id[milestone.node_id]
        tree_node.milestones.append(milestone)
        tree_node.overdue_milestones += milestone.is_overdue_on(today)

    roots_by_strategy: dict[int, list[TreeNode]] = defaultdict(list)
    for tree_node in by_id.values():
        parent_id = tree_node.node.parent_id
        if parent_id is None:
            roots_by_strategy[tree_node.node.strategy_id].append(tree_node)
        else:
            by_id[parent_id].children.append(tree_node)

    trees = {}
    for strategy in strategies:
        roots = roots_by_strategy.get(strategy.id, [])
        for root in roots:
            _resolve(root, strategy=strategy, today=today)
        trees[strategy.id] = StrategyTree(strategy=strategy, roots=roots, today=today)
    return trees


def _resolve(t: TreeNode, *, strategy: Strategy, today: date) -> None:
    """Fill statuses and freshness bottom-up."""
    for child in t.children:
        _resolve(child, strategy=strategy, today=today)
    children = [(c.node.code, c) for c in t.children]

    own_assessment = st.StatusInfo(st.NO_DATA, "No approved assessment yet.")
    if t.latest_note:
        note = t.latest_note
        basis = f"note “{note.title}” of {note.as_of:%-d %b %Y}"
        own_assessment = st.StatusInfo(
            note.assessment, f"{st.label(note.assessment)}: {basis}", basis
        )
    t.assessment = st.roll_up(
        code=t.node.code,
        own=own_assessment,
        children=[(c, ch.assessment) for c, ch in children],
        rule=strategy.rollup,
    )

    own_computed = st.StatusInfo(st.NO_DATA, "No indicator data yet.")
    reported = [i for i in t.indicators if i.status != st.NO_DATA]
    if reported:
        worst = max(reported, key=lambda i: st.SEVERITY[i.status])
        own_computed = st.StatusInfo(
            worst.status, f"{st.label(worst.status)}: {worst.basis}", worst.basis
        )
    t.computed = st.roll_up(
        code=t.node.code,
        own=own_computed,
        children=[(c, ch.computed) for c, ch in children],
        rule=strategy.rollup,
    )

    dates = [t.latest_note.as_of] if t.latest_note else []
    dates += [c.last_update for c in t.children if c.last_update]
    t.last_update = max(dates) if dates else None
    if t.last_update is not None:
        t.days_since_update = (today - t.last_update).days
    t.is_stale = t.last_update is None or (today - t.last_update).days > strategy.freshness_days


def _indicator_summaries(*, strategy_ids: list[int], today: date) -> list[IndicatorSummary]:
    indicators = {
        i.id: IndicatorSummary(indicator=i)
        for i in Indicator.objects.filter(node__strategy_id__in=strategy_ids).order_by(
            "node_id", "name", "id"
        )
    }
    # Latest period with an actual, with running sums up to it (for period-sum indicators).
    latest = (
        IndicatorPeriod.objects.filter(
            indicator_id__in=list(indicators), actual__isnull=False, period_start__lte=today
        )
        .annotate(
            newest=Window(
                RowNumber(), partition_by=[F("indicator_id")], order_by=F("period_start").desc()
            ),
            target_to_date=Window(
                Sum("target"), partition_by=[F("indicator_id")], order_by=F("period_start").asc()
            ),
            actual_to_date=Window(
                Sum("actual"), partition_by=[F("indicator_id")], order_by=F("period_start").asc()
            ),
        )
        .filter(newest=1)
        .values(
            "indicator_id", "period_start", "target", "actual", "target_to_date", "actual_to_date"
        )
        .order_by()  # no Meta ordering: it joins indicator → node → strategy → mission
    )
    for row in latest:
        summary = indicators[row["indicator_id"]]
        ind = summary.indicator
        summary.period_start = row["period_start"]
        summary.period_label = period_containing(row["period_start"], ind.frequency).label
        if ind.cumulative_mode == CumulativeMode.PERIOD_SUM:
            summary.target, summary.actual, baseline = (
                row["target_to_date"],
                row["actual_to_date"],
                None,
            )
        else:
            summary.target, summary.actual, baseline = (
                row["target"],
                row["actual"],
                ind.baseline_value,
            )
        summary.progress = st.progress_ratio(
            baseline=baseline, target=summary.target, actual=summary.actual, direction=ind.direction
        )
        summary.status = st.status_for_progress(summary.progress)
    # The latest period whose reporting deadline has passed: late when it has no actual.
    cutoff = today - timedelta(days=settings.INDICATOR_REPORTING_GRACE_DAYS)
    due = (
        IndicatorPeriod.objects.filter(indicator_id__in=list(indicators), period_end__lt=cutoff)
        .annotate(
            newest=Window(
                RowNumber(), partition_by=[F("indicator_id")], order_by=F("period_start").desc()
            )
        )
        .filter(newest=1)
        .values("indicator_id", "period_start", "actual")
        .order_by()  # see above: the default ordering would scan every indicator
    )
    for row in due:
        if row["actual"] is None:
            summary = indicators[row["indicator_id"]]
            summary.late_period_label = period_containing(
                row["period_start"], summary.indicator.frequency
            ).label
    return list(indicators.values())


@dataclass
class _NoteRow:
    node_id_: int
    summary: NoteSummary


def latest_approved_notes(
    *, strategy_ids: list[int], publishable_only: bool = False
) -> list[_NoteRow]:
    """The latest approved note of every node of these strategies, in one query; with
    `publishable_only`, the latest one not marked sensitive (public-release documents)."""
    links = NoteLink.objects.filter(
        note__strategy_id__in=strategy_ids, note__state=NoteState.APPROVED
    )
    if publishable_only:
        links = links.filter(note__is_sensitive=False)
    rows = (
        links.annotate(
            newest=Window(
                RowNumber(),
                partition_by=[F("node_id")],
                order_by=[
                    F("note__as_of").desc(),
                    F("note__approved_at").desc(),
                    F("note_id").desc(),
                ],
            )
        )
        .filter(newest=1)
        .values("node_id", "note_id", "note__title", "note__as_of", "note__assessment")
        .order_by()  # the default ordering would join every node, strategy and mission
    )
    return [
        _NoteRow(
            r["node_id"],
            NoteSummary(
                id=r["note_id"],
                title=r["note__title"],
                as_of=r["note__as_of"],
                assessment=r["note__assessment"],
            ),
        )
        for r in rows
    ]


def node_computed_status(*, node: Node, today: date | None = None) -> st.StatusInfo:
    """The computed status of one node (rolled up), as a note's justification check needs it."""
    tree = strategy_tree(strategy=node.strategy, today=today)
    for t in tree.walk():
        if t.node.id == node.id:
            return t.computed
    return st.StatusInfo(st.NO_DATA, "")


def strategy_item_counts(*, strategies: list[Strategy]) -> dict[int, dict[str, Any]]:
    """Counts only, no statuses: how many tracked items (every node below the goals) each
    strategy has, in one query. For the superuser's home page, which lists every mission
    of the department: building every tree there would cost seconds at 270 missions (the
    statuses are one click away, on each strategy's page)."""
    totals = dict(
        Node.objects.filter(strategy_id__in=[s.id for s in strategies])
        .exclude(kind="mission_goal")
        .values("strategy_id")
        .annotate(total=Count("id"))
        .values_list("strategy_id", "total")
    )
    return {s.id: {"total": totals.get(s.id, 0)} for s in strategies}


def review_queue(*, strategies: QuerySet[Strategy]) -> QuerySet[ProgressNote]:
    """Notes waiting for a manager, oldest submission first."""
    return (
        ProgressNote.objects.filter(
            strategy__in=strategies, state__in=[NoteState.SUBMITTED, NoteState.RESUBMITTED]
        )
        .select_related("author", "strategy", "strategy__mission")
        .prefetch_related("links__node")
        .order_by("submitted_at", "id")
    )


def visible_notes(*, user) -> QuerySet[ProgressNote]:
    """Notes of the user's missions; drafts only to their author (superusers see all)."""
    notes = ProgressNote.objects.select_related(
        "author", "reviewed_by", "strategy"
    ).prefetch_related(
        Prefetch(
            "links",
            queryset=NoteLink.objects.select_related("node").order_by(
                "-is_primary", "node__sort_key"
            ),
        ),
        "sources",
    )
    if user.is_superuser:
        return notes
    return notes.filter(strategy__mission_id__in=list(user_roles(user))).filter(
        ~Q(state=NoteState.DRAFT) | Q(author=user)
    )


# Both sides of the full-text match must use the same expressions as the GIN indexes made
# in tracking/migrations/0003_search_indexes.py, or PostgreSQL cannot use them.
NODE_SEARCH_VECTOR = ("code", "title", "description", "justification")
NOTE_SEARCH_VECTOR = ("title", "body")
ANALYSIS_SEARCH_VECTOR = ("title", "text")  # index: tracking/migrations/0006_analysis_documents
SEARCH_CONFIG = "english"


def search(*, user, q: str, limit: int = 50) -> list[dict[str, Any]]:
    """Nodes, notes and analyses of the user's missions matching `q`, best first. Three
    queries."""
    if connection.vendor == "postgresql":
        return _search_postgresql(user=user, q=q, limit=limit)
    nodes = Node.objects.select_related("strategy__mission")
    if not user.is_superuser:
        nodes = nodes.filter(strategy__mission_id__in=list(user_roles(user)))
    notes = visible_notes(user=user).select_related("strategy__mission").prefetch_related(None)
    analyses = AnalysisDocument.objects.select_related("strategy__mission")
    if not user.is_superuser:
        analyses = analyses.filter(strategy__mission_id__in=list(user_roles(user)))
    # SQLite: every word in some field, unranked.
    words = q.split()[:10]
    node_match, note_match, analysis_match = Q(), Q(), Q()
    for word in words:
        node_match &= (
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(justification__icontains=word)
            | Q(code=word)
        )
        note_match &= Q(title__icontains=word) | Q(body__icontains=word)
        analysis_match &= Q(title__icontains=word) | Q(text__icontains=word)
    rank = Value(1.0, output_field=FloatField())
    mission = F("strategy__mission__name")
    node_fields = ("id", "title", "description", "justification", "code", "strategy_id", "rank")
    return _search_results(
        nodes.filter(node_match).annotate(rank=rank).order_by("id")
        .values(*node_fields, mission=mission)[:limit],
        notes.filter(note_match).annotate(rank=rank).order_by("-id")
        .values("id", "title", "body", "strategy_id", "rank", mission=mission)[:limit],
        analyses.filter(analysis_match).annotate(rank=rank).order_by("-id")
        .values("id", "title", "text", "strategy_id", "rank", mission=mission)[:limit],
        q,
        limit,
    )  # fmt: skip


def _search_results(nodes, notes, analyses, q: str, limit: int) -> list[dict[str, Any]]:
    """The API's rows from plain rows (dicts with the mission's name), best first."""
    results = [
        _search_result("node", n, " ".join((n["description"], n["justification"])), q, n["code"])
        for n in nodes
    ]
    results += [_search_result("note", note, note["body"], q) for note in notes]
    results += [_search_result("analysis", a, a["text"], q) for a in analyses]
    results.sort(key=lambda r: -r["rank"])
    return results[:limit]


SEARCH_CANDIDATES = 500


def _search_result(kind: str, row, text: str, q: str, code: str | None = None) -> dict:
    """One search hit as the API returns it; the snippet falls back to the title."""
    return {
        "type": kind,
        "id": row["id"],
        "title": row["title"],
        "snippet": _snippet(text or row["title"], q),
        "strategy": row["strategy_id"],
        "mission": row["mission"],
        "code": code,
        "rank": float(row["rank"]),
    }


def _search_vector(alias: str, fields: tuple[str, ...]) -> str:
    """The tsvector expression of the GIN indexes (tracking/migrations/0003 and 0006),
    written as Django's SearchVector writes it, so that PostgreSQL uses the indexes."""
    parts = " || ' ' || ".join(f"COALESCE({alias}.{f}, '')" for f in fields)
    return f"to_tsvector('{SEARCH_CONFIG}'::regconfig, {parts})"


def _search_sql() -> tuple[str, str, str]:
    """The three search statements (nodes, notes, analyses); see _search_postgresql."""
    query = f"websearch_to_tsquery('{SEARCH_CONFIG}'::regconfig, %(q)s)"
    in_scope = "(%(everything)s OR s.mission_id = ANY(%(missions)s))"
    joins = "JOIN strategy_strategy s ON s.id = x.strategy_id JOIN strategy_mission m ON m.id = s.mission_id"

    def ranked(
        table: str, fields: tuple[str, ...], columns: str, extra: str, order: str, newest: bool
    ) -> str:
        vector = _search_vector("x", fields)
        match = f"{vector} @@ {query} AND {in_scope}{extra}"
        if newest:  # rank only the newest SEARCH_CANDIDATES matches
            match = (
                f"x.id IN (SELECT x.id FROM {table} x JOIN strategy_strategy s ON "  # noqa: S608
                f"s.id = x.strategy_id WHERE {match} ORDER BY x.id DESC "
                f"LIMIT {SEARCH_CANDIDATES})"
            )
        return (
            f"SELECT {columns}, x.strategy_id, m.name AS mission, "  # noqa: S608
            f"ts_rank({vector}, {query}) AS rank FROM {table} x {joins} "
            f"WHERE {match} ORDER BY rank DESC, {order} LIMIT %(limit)s"
        )

    drafts = " AND (%(everything)s OR x.state <> 'draft' OR x.author_id = %(user)s)"
    return (
        ranked("strategy_node", NODE_SEARCH_VECTOR,
               "x.id, x.title, x.description, x.justification, x.code", "", "x.id", True),
        ranked("tracking_progressnote", NOTE_SEARCH_VECTOR, "x.id, x.title, x.body", drafts,
               "x.id DESC", True),
        ranked("tracking_analysisdocument", ANALYSIS_SEARCH_VECTOR, "x.id, x.title, x.text",
               "", "x.id DESC", False),
    )  # fmt: skip


def _search_postgresql(*, user, q: str, limit: int) -> list[dict[str, Any]]:
    """Full-text search as three plain statements, ranked, each row with its mission's
    name. The same scope as the querysets: a superuser sees everything; others the missions
    they have a role in, and drafts only their own (`visible_notes`). Written as SQL because
    for a rare term building the three querysets cost more than running them (issue #6)."""
    params = {
        "q": q,
        "everything": bool(user.is_superuser),
        "missions": [] if user.is_superuser else list(user_roles(user)),
        "user": user.pk,
        "limit": limit,
    }
    found: list[list[dict[str, Any]]] = []
    with connection.cursor() as cursor:
        for sql in _search_sql():
            cursor.execute(sql, params)
            names = [c[0] for c in cursor.description]
            found.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
    nodes, notes, analyses = found
    return _search_results(nodes, notes, analyses, q, limit)


def _snippet(text: str, q: str, width: int = 200) -> str:
    """About `width` characters of `text` around the first word of `q` it contains."""
    lowered = text.lower()
    positions = [lowered.find(w.lower()) for w in q.split() if w and lowered.find(w.lower()) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = " ".join(text[start : start + width].split())
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


# --- The node page (appended for the staff dashboard, issue #4) ---------------------------


@dataclass
class PeriodRow:
    """One recorded period of an indicator, with the progress its values give.

    For cumulative-of-period-values indicators progress compares the running sums to date
    (`target_to_date`, `actual_to_date`), as `_indicator_summaries` does, so the table, the
    chart and the status agree; for the other modes those two are None."""

    period: IndicatorPeriod
    label: str
    progress: float | None
    target_to_date: Decimal | None = None
    actual_to_date: Decimal | None = None

    @property
    def progress_percent(self) -> int | None:
        return None if self.progress is None else round(self.progress * 100)


@dataclass
class IndicatorDetail:
    """An indicator as the node page shows it: reference fields (with owner), its latest
    value and status (`summary`, from the strategy tree) and every recorded period."""

    indicator: Indicator
    summary: IndicatorSummary
    rows: list[PeriodRow]


@dataclass
class NodeDetail:
    """Everything the node page shows about one node."""

    tree: StrategyTree
    node: TreeNode  # statuses, freshness and children, as on the strategy page
    ancestors: list[TreeNode]  # the root first
    indicators: list[IndicatorDetail]
    milestones: list[Milestone]  # with owners
    notes: list[ProgressNote]  # the timeline, newest first, with authors


def _period_rows(
    indicator: Indicator, periods: list[IndicatorPeriod], today: date
) -> list[PeriodRow]:
    rows: list[PeriodRow] = []
    target_sum = actual_sum = pending = Decimal(0)
    for p in periods:
        row = PeriodRow(
            period=p,
            label=period_containing(p.period_start, indicator.frequency).label,
            progress=None,
        )
        if indicator.cumulative_mode != CumulativeMode.PERIOD_SUM:
            row.progress = st.progress_ratio(
                baseline=indicator.baseline_value,
                target=p.target,
                actual=p.actual,
                direction=indicator.direction,
            )
        elif p.actual is not None and p.period_start <= today:
            # Running sums over the periods that have an actual, like the tree's summary.
            target_sum += p.target or 0
            actual_sum += p.actual
            pending = Decimal(0)
            row.target_to_date, row.actual_to_date = target_sum, actual_sum
            row.progress = st.progress_ratio(
                baseline=None, target=target_sum, actual=actual_sum, direction=indicator.direction
            )
        elif p.target is not None:  # no actual yet: where the targets add up to by then
            pending += p.target
            row.target_to_date = target_sum + pending
        rows.append(row)
    return rows


def node_detail(*, node: Node, user, today: date | None = None, note_limit: int = 50) -> NodeDetail:
    """One node with its whole strategy tree (for statuses, children and breadcrumbs),
    indicators with their periods, milestones and notes timeline. Ten queries whatever the
    size: the six of `strategy_trees`, then 7. the node's indicators (+ owners), 8. their
    periods (+ who recorded them), 9. its milestones (+ owners), 10. the notes linked to it
    (+ authors): submitted, resubmitted and approved ones, drafts and returned notes only
    for their author. `node` must come with its strategy."""
    today = today or timezone.localdate()
    tree = strategy_tree(strategy=node.strategy, today=today)
    by_id = {t.node.id: t for t in tree.walk()}
    here = by_id[node.id]
    ancestors: list[TreeNode] = []
    parent_id = here.node.parent_id
    while parent_id is not None:
        ancestors.insert(0, by_id[parent_id])
        parent_id = by_id[parent_id].node.parent_id

    indicators = list(
        Indicator.objects.filter(node=node).select_related("owner").order_by("name", "id")
    )
    periods: dict[int, list[IndicatorPeriod]] = defaultdict(list)
    for p in (
        IndicatorPeriod.objects.filter(indicator__node=node)
        .select_related("recorded_by")
        .order_by("indicator_id", "period_start")
    ):
        periods[p.indicator_id].append(p)
    summaries = {s.indicator.id: s for s in here.indicators}
    details = [
        IndicatorDetail(
            indicator=ind,
            summary=summaries.get(ind.id) or IndicatorSummary(indicator=ind),
            rows=_period_rows(ind, periods[ind.id], today),
        )
        for ind in indicators
    ]

    milestones = list(
        Milestone.objects.filter(node=node).select_related("owner").order_by("due_on", "id")
    )
    shared = [NoteState.SUBMITTED, NoteState.RESUBMITTED, NoteState.APPROVED]
    notes = list(
        ProgressNote.objects.filter(links__node=node)
        .filter(Q(state__in=shared) | Q(author_id=getattr(user, "pk", None)))
        .select_related("author")
        .order_by("-as_of", "-id")[:note_limit]
    )
    return NodeDetail(
        tree=tree,
        node=here,
        ancestors=ancestors,
        indicators=details,
        milestones=milestones,
        notes=notes,
    )


# --- Object history ------------------------------------------------------------------------
#
# Who changed what, when, from django-simple-history: each object's history rows come in
# one query (newest first, with `history_user` and the foreign keys the page names joined
# in), and consecutive rows of the same object are compared in Python with
# `diff_against`. Fields that only echo others (versions, timestamps, rendered HTML, sort
# keys) are left out. The pages are visible to whoever can see the object (404 otherwise).

HISTORY_LIMIT = 500  # rows per history query; older ones are summarised, not shown
LONG_TEXT = 160  # characters shown before a value folds into "Full text"
_ALWAYS_HIDDEN = frozenset({"id", "version", "created_at", "updated_at"})
_LABELS = {"url": "Link", "is_primary": "Primary node"}  # where the verbose name reads badly


def _label(field: Any) -> str:
    return _LABELS.get(field.name) or capfirst(field.verbose_name)


class HistorySpec(NamedTuple):
    """How to show one model's history rows: `related` are the foreign keys joined into the
    query (shown by name; any other foreign key shows as its id), `hidden` the fields left
    out, `verbs` the words for rows that create, change and delete."""

    related: tuple[str, ...]
    hidden: frozenset[str]
    verbs: tuple[str, str, str] = ("Created", "Changed", "Deleted")


NODE_HISTORY = HistorySpec(
    related=("owner",), hidden=frozenset({"strategy", "parent", "parent_kind", "sort_key"})
)
INDICATOR_HISTORY = HistorySpec(related=("owner",), hidden=frozenset({"node"}))
PERIOD_HISTORY = HistorySpec(
    related=("recorded_by",),
    hidden=frozenset({"indicator", "period_start", "period_end", "recorded_at"}),
    verbs=("Added", "Changed", "Deleted"),
)
NOTE_HISTORY = HistorySpec(
    related=("reviewed_by", "supersedes"),
    hidden=frozenset(
        {"strategy", "author", "body_html", "submitted_at", "reviewed_at", "approved_at"}
    ),
)
NOTE_LINK_HISTORY = HistorySpec(
    related=("node",), hidden=frozenset({"note", "node"}), verbs=("Added", "Changed", "Removed")
)
NOTE_SOURCE_HISTORY = HistorySpec(
    related=(), hidden=frozenset({"note"}), verbs=("Added", "Changed", "Removed")
)


@dataclass
class FieldChange:
    """One field of one history row: its value before and after (text, "" for empty)."""

    label: str
    old: str
    new: str

    @staticmethod
    def _is_long(value: str) -> bool:
        return len(value) > LONG_TEXT or "\n" in value.strip()

    @property
    def old_is_long(self) -> bool:
        return self._is_long(self.old)

    @property
    def new_is_long(self) -> bool:
        return self._is_long(self.new)

    @property
    def old_short(self) -> str:
        return Truncator(" ".join(self.old.split())).chars(LONG_TEXT)

    @property
    def new_short(self) -> str:
        return Truncator(" ".join(self.new.split())).chars(LONG_TEXT)


@dataclass
class HistoryEntry:
    """One history row as the page shows it."""

    when: datetime
    who: Any  # the user, or None for a system action (an import command, a migration)
    kind: str  # "+", "~" or "-" (simple-history's history_type)
    verb: str  # "Created", "Changed", …
    subject: str  # what part of the object, e.g. "Link to Mission Objective 1.1"; "" itself
    changes: list[FieldChange]
    earlier_missing: bool = False  # a change whose previous row is beyond HISTORY_LIMIT


@dataclass
class HistoryLog:
    """A list of entries, newest first, and how many rows were left out."""

    entries: list[HistoryEntry]
    truncated: bool = False


def _display(record: Any, field: Any, value: Any, spec: HistorySpec) -> str:
    """A field's value as text, without queries (foreign keys outside `spec.related` show
    their id)."""
    if value is None or value == "":
        return ""
    if field.is_relation:
        if field.name in spec.related:
            obj = getattr(record, field.name, None)
            if obj is None:
                return f"#{value} (deleted)"
            if hasattr(obj, "get_username"):
                return obj.get_full_name() or obj.get_username()
            return getattr(obj, "label", None) or str(obj)
        return f"#{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%-d %b %Y, %H:%M")
    if isinstance(value, date):
        return value.strftime("%-d %b %Y")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _field_changes(record: Any, previous: Any, spec: HistorySpec) -> list[FieldChange]:
    fields = {
        f.name: f
        for f in record.instance_type._meta.concrete_fields
        if f.name not in _ALWAYS_HIDDEN and f.name not in spec.hidden
    }
    if record.history_type == "+":  # what it was created with
        created = []
        for f in fields.values():
            text = _display(record, f, getattr(record, f.attname), spec)
            if text:
                created.append(FieldChange(_label(f), "", text))
        return created
    if record.history_type == "-" or previous is None:
        return []
    delta = record.diff_against(previous, included_fields=list(fields))
    order = list(fields)
    return [
        FieldChange(
            _label(fields[c.field]),
            _display(previous, fields[c.field], c.old, spec),
            _display(record, fields[c.field], c.new, spec),
        )
        for c in sorted(delta.changes, key=lambda c: order.index(c.field))
    ]


def history_log(
    records: Any, spec: HistorySpec, subject: Callable[[Any], str] = lambda record: ""
) -> HistoryLog:
    """Entries of history rows (a queryset or list ordered newest first, at most
    HISTORY_LIMIT + 1 of them). Saves that changed no field shown are left out."""
    rows = list(records[: HISTORY_LIMIT + 1])
    truncated = len(rows) > HISTORY_LIMIT
    rows = rows[:HISTORY_LIMIT]
    older: dict[int, Any] = {}
    entries: list[HistoryEntry] = []
    for record in reversed(rows):  # oldest first, so each row meets its predecessor
        previous = older.get(record.id)
        older[record.id] = record
        changes = _field_changes(record, previous, spec)
        missing = record.history_type == "~" and previous is None
        if record.history_type == "~" and not changes and not missing:
            continue
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                kind=record.history_type,
                verb=spec.verbs["+~-".index(record.history_type)],
                subject=subject(record),
                changes=changes,
                earlier_missing=missing,
            )
        )
    entries.reverse()
    return HistoryLog(entries, truncated)


def history_rows(history: Any, spec: HistorySpec) -> Any:
    return history.select_related("history_user", *spec.related).order_by(
        "-history_date", "-history_id"
    )


def merge_history_logs(*logs: HistoryLog) -> HistoryLog:
    entries = sorted((e for log in logs for e in log.entries), key=lambda e: e.when, reverse=True)
    return HistoryLog(entries, any(log.truncated for log in logs))


@dataclass
class HistorySection:
    title: str
    log: HistoryLog
    empty: str
    compact: bool = False  # one table row per entry (many small changes, e.g. periods)
