"""HTML pages: the home page (missions and strategies at a glance) and the strategy page
(the whole tree with both statuses side by side).

The pages live in `tracking` because they show statuses, which `tracking` computes;
`strategy` never imports `tracking`. Views are thin: who may see what comes from
`strategy.selectors`, the trees from `tracking.selectors.strategy_trees` (a fixed number
of queries however many strategies and nodes), and templates get plain lists and
dataclasses, so nothing queries while rendering. tests/tracking/test_pages.py pins the
query counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from strategy.models import Mission, Role, Strategy
from strategy.selectors import UserLike, role_in, visible_missions, visible_strategies
from tracking import status as st
from tracking.selectors import StrategyTree, TreeNode, strategy_tree, strategy_trees

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
    trees = strategy_trees(strategies=strategies)
    by_mission: dict[int, list[StrategySummary]] = defaultdict(list)
    for strategy in strategies:
        by_mission[strategy.mission_id].append(StrategySummary.of(trees[strategy.id]))
    sections = [
        MissionSection(
            mission=mission,
            role_label=_role_label(user, mission.id),
            strategies=by_mission[mission.id],
        )
        for mission in visible_missions(user=user)
    ]
    return render(request, "tracking/home.html", {"sections": sections})


@login_required
@require_safe
def strategy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One strategy: header, headline counts, priorities and the whole tree at a glance.

    A strategy of a mission the user does not belong to is a 404, like one that does not
    exist: the page never reveals that it is there.
    """
    strategy = get_object_or_404(visible_strategies(user=request.user), pk=pk)
    tree = strategy_tree(strategy=strategy)
    rows = tree.walk()
    sections = [
        TreeSection("Mission goals and objectives", [r for r in rows if not r.node.is_management]),
        TreeSection("Management objectives", [r for r in rows if r.node.is_management]),
    ]
    context = {
        "strategy": strategy,
        "summary": StrategySummary.of(tree),
        "sections": [s for s in sections if s.rows],
        "today": tree.today,
        # <meter> colours: below `low` off track, from `high` on track (settings thresholds).
        "meter_low": round(settings.STATUS_OFF_TRACK_THRESHOLD * 100),
        "meter_high": round(settings.STATUS_ON_TRACK_THRESHOLD * 100),
    }
    return render(request, "tracking/strategy_detail.html", context)
