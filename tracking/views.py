"""HTML pages of the tracker: the home page, the strategy page (the whole tree with both
statuses side by side, filtered in Python by `tracking.filters.TreeFilterForm`), the node
page with its indicators, charts and "record value" forms, the progress-note pages (write,
edit, submit, review, supersede), the review queue, "my notes", and the history pages of
nodes, indicators and notes (from django-simple-history).

The pages live in `tracking` because they show statuses, which `tracking` computes;
`strategy` never imports `tracking`. Views are thin: who may see what comes from
`strategy.selectors`, data from `tracking.selectors` (a fixed number of queries however
big the strategy), every write from one `tracking.services` function; forms
(`tracking.forms`) only parse input and show the services' ValidationErrors next to the
fields. A role the services refuse (PermissionDenied) gets the 403 page; objects of other
missions are 404s, like objects that do not exist. Templates get plain lists and
dataclasses, so nothing queries while rendering: tests/tracking/test_pages.py,
test_node_page.py and test_note_pages.py pin the query counts.

htmx: the "record value" form posts with `hx-post` and gets back the indicator's section
(plus the node's status block, swapped out of band); without JavaScript the same view
answers a normal POST with a redirect. One view, one service call, either way. The
strategy page's filter form is a GET form that htmx submits on every change, getting back
only the tree partial (and the count, out of band).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any, NamedTuple

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from strategy.models import Milestone, Mission, Node, Role, Strategy
from strategy.selectors import (
    UserLike,
    has_role,
    missions_with_role,
    require_role,
    role_in,
    visible_missions,
    visible_strategies,
)
from tracking import status as st
from tracking.analyses.selectors import node_analyses
from tracking.filters import TreeFilterForm
from tracking.fiscal import (
    PERIOD_MONTHS,
    Period,
    period_containing,
    periods_between,
    periods_of_fiscal_years,
)
from tracking.forms import (
    IndicatorValueForm,
    NoteForm,
    ReviewForm,
    format_sources,
    parse_sources,
)
from tracking.markdown import render_markdown
from tracking.models import (
    CumulativeMode,
    Indicator,
    IndicatorPeriod,
    NoteLink,
    NoteSource,
    NoteState,
    ProgressNote,
)
from tracking.selectors import (
    HISTORY_LIMIT,
    INDICATOR_HISTORY,
    NODE_HISTORY,
    NOTE_HISTORY,
    NOTE_LINK_HISTORY,
    NOTE_SOURCE_HISTORY,
    PERIOD_HISTORY,
    HistorySection,
    IndicatorDetail,
    StrategyTree,
    TreeNode,
    history_log,
    history_rows,
    merge_history_logs,
    node_detail,
    review_queue,
    strategy_item_counts,
    strategy_tree,
    strategy_trees,
    visible_notes,
)
from tracking.services import (
    NOTE_MARKABLE_STATES,
    StaleVersion,
    indicator_period_record,
    justification_required,
    note_approve,
    note_create,
    note_delete,
    note_return,
    note_submit,
    note_supersede,
    note_update,
)

# Worst first: the order in which counts list statuses.
STATUS_ORDER = [st.OFF_TRACK, st.AT_RISK, st.ON_TRACK, st.ACHIEVED, st.NOT_STARTED, st.NO_DATA]


class StatusCount(NamedTuple):
    """How many tracked items have one status in one channel."""

    status: str
    count: int

    @property
    def label(self) -> str:
        return st.label(self.status)


def _ordered_counts(by_status: dict[str, int]) -> list[StatusCount]:
    known = [StatusCount(s, by_status[s]) for s in STATUS_ORDER if by_status.get(s)]
    others = [
        StatusCount(s, n) for s, n in sorted(by_status.items()) if s not in STATUS_ORDER and n
    ]
    return known + others


@dataclass
class StrategySummary:
    """A strategy with its headline counts (`StrategyTree.counts()`: objectives and every
    level below goals, in both channels, plus stale, late and overdue counts)."""

    strategy: Strategy
    counts: dict[str, Any]
    counts_only: bool = False  # just the number of tracked items (superuser's home page)

    @classmethod
    def of(cls, tree: StrategyTree) -> StrategySummary:
        return cls(strategy=tree.strategy, counts=tree.counts())

    @property
    def assessment(self) -> list[StatusCount]:
        return _ordered_counts(self.counts["assessment"])

    @property
    def computed(self) -> list[StatusCount]:
        return _ordered_counts(self.counts["computed"])


@dataclass
class MissionSection:
    """One mission on the home page with the strategies the user can see in it."""

    mission: Mission
    role_label: str
    strategies: list[StrategySummary]
    can_import: bool = False  # managers import ICS documents (strategy.views)


@dataclass
class TreeSection:
    """A run of tree rows in document order under one heading (a <tbody>)."""

    title: str
    rows: list[TreeNode]


def _role_label(user: UserLike, mission_id: int) -> str:
    if user.is_superuser:
        return "Superuser"
    role = role_in(user, mission_id)  # cached on the user: no query per mission
    return Role(role).label if role else ""


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The missions and strategies the user can see, with status and freshness counts."""
    user = request.user
    strategies = list(visible_strategies(user=user))
    by_mission: dict[int, list[StrategySummary]] = defaultdict(list)
    if user.is_superuser:  # every mission of the department: counts only, no trees
        counts = strategy_item_counts(strategies=strategies)
        for strategy in strategies:
            by_mission[strategy.mission_id].append(
                StrategySummary(strategy, counts[strategy.id], counts_only=True)
            )
    else:
        trees = strategy_trees(strategies=strategies)
        for strategy in strategies:
            by_mission[strategy.mission_id].append(StrategySummary.of(trees[strategy.id]))
    sections = [
        MissionSection(
            mission=mission,
            role_label=_role_label(user, mission.id),
            strategies=by_mission[mission.id],
            can_import=has_role(user, mission.id, Role.MANAGER),
        )
        for mission in visible_missions(user=user)
    ]
    context = {
        "sections": sections,
        "is_reviewer": _is_reviewer(user),
        "can_import_new_mission": user.is_superuser,
    }
    return render(request, "tracking/home.html", context)


@login_required
@require_safe
def strategy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One strategy: header, headline counts, priorities and the whole tree at a glance,
    with filters (status, stale, kind, owner, search) applied to the built tree.

    The filter form is a GET form: without JavaScript it reloads the page; htmx asks for
    the same URL with `HX-Request` and gets only the tree partial (plus the count, swapped
    out of band), and pushes the URL so it can be shared and bookmarked. Filtering runs in
    Python on the tree (`TreeFilterForm.apply`): no query is added. A strategy of a mission
    the user does not belong to is a 404, like one that does not exist.
    """
    strategy = get_object_or_404(visible_strategies(user=request.user), pk=pk)
    tree = strategy_tree(strategy=strategy)
    rows = tree.walk()
    filters = TreeFilterForm(request.GET or None, owners=[r.node.owner for r in rows])
    shown = filters.apply(rows)
    sections = [
        TreeSection(
            "Mission goals and objectives", [r for r in shown.rows if not r.node.is_management]
        ),
        TreeSection("Management objectives", [r for r in shown.rows if r.node.is_management]),
    ]
    context = {
        "strategy": strategy,
        "summary": StrategySummary.of(tree),
        "sections": [s for s in sections if s.rows],
        "has_nodes": bool(rows),
        "filters": filters,
        "shown": shown,
        "today": tree.today,
        **_meter_thresholds(),
        "is_reviewer": _is_reviewer(request.user),
        "can_import": has_role(request.user, strategy.mission_id, Role.MANAGER),
    }
    if _is_htmx(request) and not _is_history_restore(request):
        response = render(request, "tracking/_tree_swap.html", context)
    else:
        response = render(request, "tracking/strategy_detail.html", context)
    # One URL, two representations: caches must not hand the partial to a full load.
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Shared by the pages below ------------------------------------------------------------


def _meter_thresholds() -> dict[str, int]:
    """<meter> colours: below `low` off track, from `high` on track (settings thresholds)."""
    return {
        "meter_low": round(settings.STATUS_OFF_TRACK_THRESHOLD * 100),
        "meter_high": round(settings.STATUS_ON_TRACK_THRESHOLD * 100),
    }


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _is_history_restore(request: HttpRequest) -> bool:
    """htmx reloading a page for the back button (it has no snapshot): send the whole page."""
    return request.headers.get("HX-History-Restore-Request") == "true"


def _is_reviewer(user: UserLike) -> bool:
    """Whether the user reviews notes anywhere (a manager of some mission)."""
    if user.is_superuser:
        return True
    return bool(missions_with_role(user, Role.MANAGER))


def _refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render the 403 page, with the service's sentence, when a role is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return render(request, "tracking/forbidden.html", {"reason": str(exc)}, status=403)

    return wrapper


def _visible_node(user: UserLike, pk: int) -> Node:
    """A node of a strategy the user can see (with its strategy and mission), else 404."""
    return get_object_or_404(
        Node.objects.select_related("strategy__mission").filter(
            strategy__in=visible_strategies(user=user)
        ),
        pk=pk,
    )


def _excerpt(body_html: str, words: int = 40) -> str:
    return Truncator(html.unescape(strip_tags(body_html))).words(words)


# --- Node page ----------------------------------------------------------------------------

RECENT_PERIODS = 16  # offered when the strategy states no period


def record_periods(
    *, indicator: Indicator, strategy: Strategy, today: date, future: bool
) -> list[Period]:
    """The periods the "record value" form offers: every period of the strategy's fiscal
    years, or the last 16 up to the current one when it states none. Only managers (who
    set targets ahead) are offered periods that have not started."""
    if strategy.period_start_fy and strategy.period_end_fy:
        periods = periods_of_fiscal_years(
            indicator.frequency, strategy.period_start_fy, strategy.period_end_fy
        )
    else:
        months = PERIOD_MONTHS[indicator.frequency] * (RECENT_PERIODS - 1)
        periods = periods_between(indicator.frequency, today - relativedelta(months=months), today)
    return periods if future else [p for p in periods if p.start <= today]


def _default_period(periods: list[Period], today: date) -> date | None:
    """The period people usually report: the latest one that has ended (else the first)."""
    ended = [p for p in periods if p.end < today]
    if ended:
        return ended[-1].start
    return periods[0].start if periods else None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _chart(detail: IndicatorDetail) -> dict[str, Any]:
    """What static/js/indicator-charts.js draws: one line per series over the periods.
    Cumulative-of-period-values indicators are drawn as sums to date, like their progress."""
    ind = detail.indicator
    to_date = ind.cumulative_mode == CumulativeMode.PERIOD_SUM
    rows = detail.rows
    datasets = [
        {
            "kind": "target",
            "label": "Target to date" if to_date else "Target",
            "data": [_number(r.target_to_date if to_date else r.period.target) for r in rows],
        },
        {
            "kind": "actual",
            "label": "Actual to date" if to_date else "Actual",
            "data": [_number(r.actual_to_date if to_date else r.period.actual) for r in rows],
        },
    ]
    if ind.baseline_value is not None and not to_date:
        datasets.append(
            {
                "kind": "baseline",
                "label": f"Baseline ({ind.baseline_value.normalize():f})",
                "data": [_number(ind.baseline_value)] * len(rows),
            }
        )
    return {"labels": [r.label for r in rows], "unit": ind.unit, "datasets": datasets}


@dataclass
class IndicatorPanel:
    """One indicator's section of the node page (also the htmx partial)."""

    detail: IndicatorDetail
    chart: dict[str, Any]
    form: IndicatorValueForm | None  # None: the user may not record values
    notice: str = ""  # "Recorded FY2024 Q2 …" after an htmx post

    @property
    def indicator(self) -> Indicator:
        return self.detail.indicator

    @property
    def status_label(self) -> str:
        return st.label(self.detail.summary.status)

    @property
    def chart_id(self) -> str:
        """Id of the <script type="application/json"> element holding the chart's data."""
        return f"chart-data-{self.indicator.pk}"

    @property
    def chart_label(self) -> str:
        """What the chart shows, for screen readers (the table has the numbers)."""
        rows = self.detail.rows
        series = ", ".join(d["label"].lower() for d in self.chart["datasets"])
        span = f"{rows[0].label} to {rows[-1].label}" if len(rows) > 1 else rows[0].label
        return (
            f"Line chart of “{self.indicator.name}”: {series}, {span}. "
            "The table “Values by period” below it lists the same values."
        )


class MilestoneRow(NamedTuple):
    milestone: Milestone
    overdue: bool


class NoteItem(NamedTuple):
    note: ProgressNote
    excerpt: str


def _node_context(
    request: HttpRequest,
    node: Node,
    *,
    bound: dict[int, IndicatorValueForm] | None = None,
    notices: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Everything node_detail.html and its partials need; `bound` replaces the fresh
    "record value" form of an indicator (with the user's input and its errors)."""
    user = request.user
    today = timezone.localdate()
    detail = node_detail(node=node, user=user, today=today)
    mission_id = node.strategy.mission_id
    can_record = has_role(user, mission_id, Role.ANALYST)
    can_set_target = has_role(user, mission_id, Role.MANAGER)
    bound, notices = bound or {}, notices or {}
    panels = []
    for ind_detail in detail.indicators:
        ind = ind_detail.indicator
        form = None
        if can_record:
            form = bound.get(ind.pk)
            if form is None:
                periods = record_periods(
                    indicator=ind, strategy=node.strategy, today=today, future=can_set_target
                )
                form = IndicatorValueForm(
                    indicator_id=ind.pk,
                    periods=periods,
                    initial_period=_default_period(periods, today),
                )
        panels.append(IndicatorPanel(ind_detail, _chart(ind_detail), form, notices.get(ind.pk, "")))
    return {
        "strategy": node.strategy,
        "detail": detail,
        "here": detail.node,
        "panels": panels,
        "milestones": [MilestoneRow(m, m.is_overdue_on(today)) for m in detail.milestones],
        "notes": [NoteItem(n, _excerpt(n.body_html)) for n in detail.notes],
        "analysis_links": node_analyses(node=node),
        "today": today,
        "can_record": can_record,
        "can_set_target": can_set_target,
        "can_write_notes": can_record,
        "can_edit_node": can_set_target,  # managers (tracking.edit_views.node_edit_page)
        "narrative": _narrative(detail.node.node),
        **_meter_thresholds(),
    }


def _narrative(node: Node) -> list[tuple[str, str, bool]]:
    """The node's narrative fields that have text, as sanitised HTML (Markdown rendered
    and cleaned by nh3 in `render_markdown`, so safe to mark safe), each with whether it
    is sensitive (left out of the public-release document)."""
    fields = [
        ("Description and linkages", node.description, node.description_sensitive),
        ("Justification", node.justification, node.justification_sensitive),
        ("Risks", node.risks, node.risks_sensitive),
    ]
    return [
        (label, mark_safe(render_markdown(text)), sensitive)
        for label, text, sensitive in fields
        if text.strip()
    ]


@login_required
@require_safe
def node_detail_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One goal or objective: statuses, narrative, indicators with charts and "record
    value" forms, milestones and the notes timeline. 404 unless the user can see it."""
    node = _visible_node(request.user, pk)
    return render(request, "tracking/node_detail.html", _node_context(request, node))


@login_required
@require_POST
@_refusals
def indicator_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record one period's actual (and a manager's target) through
    `indicator_period_record`. htmx gets the indicator's section back; a plain POST is
    redirected to the node page with a message, or gets the page with the errors (400)."""
    user = request.user
    indicator = get_object_or_404(
        Indicator.objects.select_related("node__strategy__mission").filter(
            node__strategy__in=visible_strategies(user=user)
        ),
        pk=pk,
    )
    node = indicator.node
    require_role(user, node.strategy.mission_id, Role.ANALYST, "record indicator values")
    today = timezone.localdate()
    periods = record_periods(
        indicator=indicator,
        strategy=node.strategy,
        today=today,
        future=has_role(user, node.strategy.mission_id, Role.MANAGER),
    )
    form = IndicatorValueForm(
        request.POST, indicator_id=indicator.pk, periods=periods, initial_period=None
    )
    bound: dict[int, IndicatorValueForm] = {indicator.pk: form}
    notices: dict[int, str] = {}
    if form.is_valid():
        try:
            period, changed = indicator_period_record(
                indicator=indicator, by=user, **form.service_kwargs()
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            label = period_containing(period.period_start, indicator.frequency).label
            notice = (
                f"Recorded {label} of “{indicator.name}”."
                if changed
                else f"Nothing changed: {label} of “{indicator.name}” already had these values."
            )
            if not _is_htmx(request):
                messages.success(request, notice)
                url = reverse("node-detail", args=[node.pk])
                return redirect(f"{url}#indicator-{indicator.pk}")
            bound, notices = {}, {indicator.pk: notice}
    context = _node_context(request, node, bound=bound, notices=notices)
    if _is_htmx(request):
        # 200 even with errors: htmx swaps only successful responses by default.
        panel = next(p for p in context["panels"] if p.indicator.pk == indicator.pk)
        return render(request, "tracking/_indicator_swap.html", {**context, "panel": panel})
    return render(request, "tracking/node_detail.html", context, status=400)


# --- Progress notes -----------------------------------------------------------------------


def _visible_note(user: UserLike, pk: int) -> ProgressNote:
    """A note the user may read (drafts only their author), else 404."""
    return get_object_or_404(
        visible_notes(user=user).select_related("strategy__mission", "supersedes"), pk=pk
    )


def _primary_node(note: ProgressNote) -> Node | None:
    return next((link.node for link in note.links.all() if link.is_primary), None)


class StateChange(NamedTuple):
    when: datetime
    who: Any
    state: str
    label: str
    comment: str


def _state_history(note: ProgressNote) -> list[StateChange]:
    """The note's workflow steps, oldest first, from its history rows (one query)."""
    changes: list[StateChange] = []
    previous = None
    for row in note.history.select_related("history_user").order_by("history_date", "history_id"):
        if row.state != previous:
            comment = (
                row.review_comment if row.state in (NoteState.RETURNED, NoteState.APPROVED) else ""
            )
            changes.append(
                StateChange(
                    row.history_date,
                    row.history_user,
                    row.state,
                    NoteState(row.state).label,
                    comment,
                )
            )
        previous = row.state
    return changes


def _note_actions(user: UserLike, note: ProgressNote) -> dict[str, bool]:
    """Which buttons the note page shows; the services refuse the others anyway."""
    mission_id = note.strategy.mission_id
    is_author = user.pk == note.author_id
    return {
        "is_author": is_author,
        "can_edit": is_author and note.is_editable,
        "can_submit": is_author and note.is_editable,
        "can_delete": is_author and note.is_editable,
        "can_review": note.is_awaiting_review
        and not is_author
        and has_role(user, mission_id, Role.MANAGER),
        "can_supersede": note.state == NoteState.APPROVED
        and has_role(user, mission_id, Role.ANALYST),
        "can_mark_sensitive": note.state in NOTE_MARKABLE_STATES
        and has_role(user, mission_id, Role.MANAGER),
    }


def _note_detail_context(
    request: HttpRequest, note: ProgressNote, review_form: ReviewForm | None = None
) -> dict[str, Any]:
    links = list(note.links.all())
    return {
        "note": note,
        "strategy": note.strategy,
        "links": links,
        "primary": next((link.node for link in links if link.is_primary), None),
        "sources": list(note.sources.all()),
        "history": _state_history(note),
        "review_form": review_form
        or ReviewForm(initial={"version": note.version}, auto_id=f"id_note{note.pk}_%s"),
        **_note_actions(request.user, note),
    }


@login_required
@require_safe
def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A note: its text, sources, linked nodes, state, review comment and history."""
    note = _visible_note(request.user, pk)
    return render(request, "tracking/note_detail.html", _note_detail_context(request, note))


def _strategy_nodes(strategy: Strategy, exclude: Node | None) -> list[Node]:
    nodes = Node.objects.filter(strategy=strategy).order_by("sort_key")
    return list(nodes.exclude(pk=exclude.pk) if exclude else nodes)


def _note_form_page(
    request: HttpRequest,
    *,
    form: NoteForm,
    node: Node | None,
    note: ProgressNote | None,
    reason: str = "",
    status: int = 200,
) -> HttpResponse:
    strategy = note.strategy if note else node.strategy  # type: ignore[union-attr]
    return render(
        request,
        "tracking/note_form.html",
        {
            "form": form,
            "node": node,
            "note": note,
            "primary": _primary_node(note) if note else node,
            "strategy": strategy,
            "justification_reason": reason,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def note_create_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Write a note about node `pk` (its primary node); "Save draft" or "Save and submit"."""
    user = request.user
    node = _visible_node(user, pk)
    require_role(user, node.strategy.mission_id, Role.ANALYST, "write progress notes")
    form = NoteForm(
        request.POST if request.method == "POST" else None,
        other_nodes=_strategy_nodes(node.strategy, exclude=node),
        initial={"as_of": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            with transaction.atomic():  # "Save and submit" saves nothing if submitting fails
                note = note_create(
                    strategy=node.strategy,
                    author=user,
                    nodes=[node, *form.chosen_nodes()],
                    primary_node=node,
                    sources=parse_sources(form.cleaned_data["sources"]),
                    **form.content(),
                )
                if submit:
                    note_submit(note=note, by=user)
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                "Note submitted for review."
                if submit
                else "Draft saved. Submit it for review when it is ready.",
            )
            return redirect("note-detail", pk=note.pk)
    status = 400 if request.method == "POST" else 200
    return _note_form_page(request, form=form, node=node, note=None, status=status)


def _edit_form(note: ProgressNote, data: Any = None) -> NoteForm:
    primary = _primary_node(note)
    return NoteForm(
        data,
        other_nodes=_strategy_nodes(note.strategy, exclude=primary),
        initial=_stored_values(note),
    )


def _stored_values(note: ProgressNote) -> dict[str, Any]:
    """The note as form data, to show a service's errors against what is stored."""
    links = list(note.links.all())
    return {
        "title": note.title,
        "assessment": note.assessment,
        "as_of": note.as_of.isoformat(),
        "body": note.body,
        "justification": note.justification,
        "other_nodes": [link.node_id for link in links if not link.is_primary],
        "sources": format_sources(list(note.sources.all())),
        "is_sensitive": note.is_sensitive,
        "version": note.version,
    }


def _require_editable(request: HttpRequest, note: ProgressNote) -> HttpResponse | None:
    if request.user.pk != note.author_id:
        raise PermissionDenied("Only the author may edit a note.")
    if not note.is_editable:
        messages.error(
            request,
            "Approved notes are never edited: supersede it with a new note."
            if note.state == NoteState.APPROVED
            else "A note under review cannot be edited; a manager must return it first.",
        )
        return redirect("note-detail", pk=note.pk)
    return None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def note_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The author edits a draft or returned note; "Save" or "Save and submit"."""
    user = request.user
    note = _visible_note(user, pk)
    refused = _require_editable(request, note)
    if refused:
        return refused
    if request.method != "POST":
        reason = justification_required(note=note)
        return _note_form_page(request, form=_edit_form(note), node=None, note=note, reason=reason)
    form = _edit_form(note, request.POST)
    if form.is_valid():
        primary = _primary_node(note)
        submit = request.POST.get("action") == "submit"
        try:
            with transaction.atomic():
                note_update(
                    note=note,
                    by=user,
                    expected_version=form.cleaned_data["version"],
                    nodes=[primary, *form.chosen_nodes()],
                    primary_node=primary,
                    sources=parse_sources(form.cleaned_data["sources"]),
                    **form.content(),
                )
                if submit:
                    note_submit(note=note, by=user)
        except StaleVersion:
            form.add_error(
                None,
                "Someone changed this note since you opened it. Copy your text, reload the "
                "page and apply your changes again.",
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, "Note submitted for review." if submit else "Note saved.")
            return redirect("note-detail", pk=note.pk)
        note.refresh_from_db()  # the transaction was rolled back
    return _note_form_page(request, form=form, node=None, note=note, status=400)


@login_required
@require_POST
@_refusals
def note_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the author's draft or returned note for review. What the service finds
    missing (the text, a justification) is shown on the edit page, next to its field."""
    user = request.user
    note = _visible_note(user, pk)
    try:
        note_submit(note=note, by=user)
    except ValidationError as exc:
        note.refresh_from_db()
        if not hasattr(exc, "error_dict"):
            messages.error(request, " ".join(exc.messages))
            return redirect("note-detail", pk=note.pk)
        # The stored values, with the service's errors beside them.
        form = _edit_form(note, _stored_values(note))
        form.is_valid()
        form.apply_service_error(exc)
        return _note_form_page(request, form=form, node=None, note=note, status=400)
    messages.success(request, "Note submitted for review.")
    return redirect("note-detail", pk=note.pk)


REVIEW_RETURN_TO = {"queue", "note"}


@login_required
@require_POST
@_refusals
def note_review(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager approves or returns a submitted note (returning needs a comment)."""
    user = request.user
    note = _visible_note(user, pk)
    back = request.POST.get("next")
    back = back if back in REVIEW_RETURN_TO else "note"
    form = ReviewForm(request.POST, auto_id=f"id_note{note.pk}_%s")
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        comment = form.cleaned_data["comment"]
        version = form.cleaned_data["version"]
        try:
            if decision == "approve":
                note_approve(note=note, by=user, comment=comment, expected_version=version)
            else:
                note_return(note=note, by=user, comment=comment, expected_version=version)
        except StaleVersion:
            form.add_error(
                None, "The note changed since you opened the page: read it again, then decide."
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            done = "Approved" if decision == "approve" else "Returned to its author"
            messages.success(request, f"{done}: “{note.title}”.")
            if back == "queue":
                return redirect("review-queue")
            return redirect("note-detail", pk=note.pk)
    if back == "queue":
        return render(
            request,
            "tracking/review_queue.html",
            _review_queue_context(request, failed=(note.pk, form)),
            status=400,
        )
    note.refresh_from_db()
    context = _note_detail_context(request, note, review_form=form)
    return render(request, "tracking/note_detail.html", context, status=400)


@login_required
@require_POST
@_refusals
def note_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The author deletes a draft (or returned) note."""
    note = _visible_note(request.user, pk)
    title = note.title
    try:
        note_delete(note=note, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("note-detail", pk=note.pk)
    messages.success(request, f"Deleted the draft “{title}”.")
    return redirect("my-notes")


@login_required
@require_POST
@_refusals
def note_supersede_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a new draft replacing an approved note, and open it for editing."""
    note = _visible_note(request.user, pk)
    try:
        draft = note_supersede(note=note, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("note-detail", pk=note.pk)
    messages.success(
        request,
        f"A new draft will replace “{note.title}” once approved. Update it, then submit it.",
    )
    return redirect("note-edit", pk=draft.pk)


# --- Review queue and "my notes" ----------------------------------------------------------


@dataclass
class QueueItem:
    note: ProgressNote
    links: list[NoteLink]
    is_own: bool
    form: ReviewForm = field(repr=False)


def _review_queue_context(
    request: HttpRequest, failed: tuple[int, ReviewForm] | None = None
) -> dict[str, Any]:
    """Submitted and resubmitted notes of the missions the user manages. Queries: the
    notes (+ authors, strategies, missions), their links, the linked nodes."""
    user = request.user
    if user.is_superuser:
        strategies = Strategy.objects.all()
    else:
        strategies = Strategy.objects.filter(mission_id__in=missions_with_role(user, Role.MANAGER))
    is_reviewer = _is_reviewer(user)
    notes = list(review_queue(strategies=strategies)) if is_reviewer else []
    items = []
    for note in notes:
        form = (
            failed[1]
            if failed and failed[0] == note.pk
            else ReviewForm(initial={"version": note.version}, auto_id=f"id_note{note.pk}_%s")
        )
        items.append(
            QueueItem(note, list(note.links.all()), is_own=note.author_id == user.pk, form=form)
        )
    return {"items": items, "is_reviewer": is_reviewer}


@login_required
@require_safe
def review_queue_page(request: HttpRequest) -> HttpResponse:
    """Managers approve or return submitted notes; others learn what the page is for."""
    return render(request, "tracking/review_queue.html", _review_queue_context(request))


class MyNoteSection(NamedTuple):
    key: str
    title: str
    hint: str
    notes: list[ProgressNote]


@login_required
@require_safe
def my_notes(request: HttpRequest) -> HttpResponse:
    """The user's notes that are not approved yet: returned ones first (they need work),
    then drafts, then those awaiting review."""
    notes = list(
        visible_notes(user=request.user)
        .filter(author=request.user)
        .exclude(state=NoteState.APPROVED)
        .select_related("strategy__mission")
        .prefetch_related(None)
        .prefetch_related(
            Prefetch(
                "links",
                queryset=NoteLink.objects.filter(is_primary=True).select_related("node"),
                to_attr="primary_links",
            )
        )
        .order_by("-updated_at", "-id")
    )
    groups = [
        MyNoteSection(
            "returned",
            "Returned to you",
            "A manager sent these back with a comment: edit them and submit again.",
            [n for n in notes if n.state == NoteState.RETURNED],
        ),
        MyNoteSection(
            "drafts",
            "Drafts",
            "Only you can see these until you submit them.",
            [n for n in notes if n.state == NoteState.DRAFT],
        ),
        MyNoteSection(
            "review",
            "Awaiting review",
            "A manager of the mission will approve or return these.",
            [n for n in notes if n.is_awaiting_review],
        ),
    ]
    return render(request, "tracking/my_notes.html", {"groups": groups, "total": len(notes)})


def _history_page(
    request: HttpRequest,
    *,
    title: str,
    eyebrow: str,
    strategy: Strategy,
    back_url: str,
    back_label: str,
    sections: list[HistorySection],
) -> HttpResponse:
    return render(
        request,
        "tracking/history.html",
        {
            "title": title,
            "eyebrow": eyebrow,
            "strategy": strategy,
            "back_url": back_url,
            "back_label": back_label,
            "sections": sections,
            "limit": HISTORY_LIMIT,
        },
    )


@login_required
@require_safe
def node_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to a goal or objective: title, narrative, linkages, owner. Queries:
    session, user, memberships, the node (if visible), its history rows (+ users)."""
    node = _visible_node(request.user, pk)
    log = history_log(history_rows(node.history, NODE_HISTORY), NODE_HISTORY)
    return _history_page(
        request,
        title=f"History of {node.label}",
        eyebrow=Truncator(node.title).chars(120),
        strategy=node.strategy,
        back_url=reverse("node-detail", args=[node.pk]),
        back_label=node.label,
        sections=[HistorySection("Changes", log, "No recorded changes.")],
    )


@login_required
@require_safe
def indicator_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Changes to an indicator's reference sheet, and to its periods' targets, actuals and
    comments. Queries: session, user, memberships, the indicator (+ node, strategy,
    mission, if visible), its history rows, its periods' history rows (one query)."""
    indicator = get_object_or_404(
        Indicator.objects.select_related("node__strategy__mission").filter(
            node__strategy__in=visible_strategies(user=request.user)
        ),
        pk=pk,
    )
    node = indicator.node
    own = history_log(history_rows(indicator.history, INDICATOR_HISTORY), INDICATOR_HISTORY)
    periods = history_log(
        history_rows(IndicatorPeriod.history.filter(indicator_id=indicator.pk), PERIOD_HISTORY),
        PERIOD_HISTORY,
        subject=lambda r: period_containing(r.period_start, indicator.frequency).label,
    )
    return _history_page(
        request,
        title=f"History of “{indicator.name}”",
        eyebrow=f"Indicator of {node.label}",
        strategy=node.strategy,
        back_url=f"{reverse('node-detail', args=[node.pk])}#indicator-{indicator.pk}",
        back_label=node.label,
        sections=[
            HistorySection("Reference sheet", own, "No recorded changes."),
            HistorySection(
                "Targets and values by period", periods, "No values recorded yet.", compact=True
            ),
        ],
    )


@login_required
@require_safe
def note_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to a note — text, assessment, workflow state, review comment — with
    the nodes it was linked to and the sources it cited, in one timeline. Drafts are
    visible to their author only. Queries: session, user, memberships, the note (if
    visible), its history rows, its links' history rows (+ nodes), its sources' rows."""
    note = get_object_or_404(
        visible_notes(user=request.user).prefetch_related(None).select_related("strategy__mission"),
        pk=pk,
    )
    own = history_log(history_rows(note.history, NOTE_HISTORY), NOTE_HISTORY)
    links = history_log(
        history_rows(NoteLink.history.filter(note_id=note.pk), NOTE_LINK_HISTORY),
        NOTE_LINK_HISTORY,
        subject=lambda r: (
            f"Link to {r.node.label if r.node else f'node #{r.node_id}'}"
            + (" (primary)" if r.is_primary else "")
        ),
    )
    sources = history_log(
        history_rows(NoteSource.history.filter(note_id=note.pk), NOTE_SOURCE_HISTORY),
        NOTE_SOURCE_HISTORY,
        subject=lambda r: f"Source {r.label or r.url}",
    )
    return _history_page(
        request,
        title=f"History of “{note.title}”",
        eyebrow="Progress note",
        strategy=note.strategy,
        back_url=reverse("note-detail", args=[note.pk]),
        back_label="the note",
        sections=[
            HistorySection(
                "Changes", merge_history_logs(own, links, sources), "No recorded changes."
            )
        ],
    )
