"""API fixtures: a small world of real objects in both missions, and clients that call
the API as a persona with a real API token (or with no credentials at all)."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from strategy.models import Milestone, Mission, Node, NodeKind, Strategy
from strategy.services import api_token_create
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
    UserFactory,
)
from tracking.models import (
    AnalysisDocument,
    Indicator,
    IndicatorPeriod,
    NoteState,
    ProgressNote,
    Report,
    Subscription,
)

# Who the API is called as: "anonymous" sends no credentials; the others are personas of
# tests/conftest.py (outsider = a manager of "elsewhere" only).
PERSONAS = ("anonymous", "viewer", "analyst", "manager", "admin", "outsider", "superuser")


# A small ICS document any manager may import (a new period, so a new strategy).
DOCUMENT = """Integrated Country Strategy

Testland

FY 2027-2031

## 2. Mission Strategic Framework

**Mission Goal 1:** Expand two-way trade.

**Mission Objective 1.1:** Tariffs on our goods fall.
"""

# Answered by the framework for every view, never by our code.
IGNORED_METHODS = {"HEAD", "OPTIONS", "TRACE"}


def _walk(patterns, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, (namespace, pattern.namespace)))
            yield from _walk(pattern.url_patterns, inner)
        else:
            yield namespace, pattern


def api_routes() -> set[tuple[str, str]]:
    """(url name, HTTP method) of every route under namespace "api": for a viewset the
    methods its router maps to an action, for any other view the methods it handles."""
    routes: set[tuple[str, str]] = set()
    for namespace, pattern in _walk(get_resolver().url_patterns):
        if namespace != "api" or "format" in pattern.pattern.regex.groupindex:
            continue  # the `.json` suffix twins reach the same views
        view = pattern.callback
        actions = getattr(view, "actions", None)
        if actions is not None:
            methods = {m.upper() for m in actions}
        else:
            cls = view.view_class
            methods = {m.upper() for m in cls.http_method_names if hasattr(cls, m)}
        routes |= {(pattern.name, m) for m in methods - IGNORED_METHODS}
    return routes


_tokens = itertools.count(1)  # token names are unique per user among active tokens


def client_for(user: User | None) -> APIClient:
    """An API client sending `Authorization: Token <key>` for `user` (none for None)."""
    client = APIClient()
    if user is not None:
        _, key = api_token_create(user=user, name=f"api tests {next(_tokens)}")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@dataclass
class World:
    """Objects of mission "testland" every route can address, and their twins in
    "elsewhere" that no testland caller may see or link to."""

    personas: object
    tree: object
    mission: Mission
    strategy: Strategy
    goal: Node
    objective: Node
    leaf: Node  # carries nothing, so it may be deleted
    indicator: Indicator  # on `objective`, with a recorded period
    period: IndicatorPeriod
    spare_indicator: Indicator  # no recorded values, so it may be deleted
    milestone: Milestone
    submitted_note: ProgressNote  # by analyst2, awaiting review
    draft_note: ProgressNote  # by analyst, visible to them only
    newcomer: User  # active, member of no mission
    # elsewhere
    other_mission: Mission
    other_strategy: Strategy
    other_goal: Node
    other_objective: Node
    other_indicator: Indicator
    other_period: IndicatorPeriod
    other_milestone: Milestone
    other_note: ProgressNote  # approved
    other_submitted_note: ProgressNote
    manager_draft: ProgressNote | None = None  # set by fixtures that need one

    def user(self, persona: str) -> User | None:
        return None if persona == "anonymous" else self.personas.by_role(persona)

    def client(self, persona: str) -> APIClient:
        return client_for(self.user(persona))

    def elsewhere_ids(self) -> dict[str, set[int]]:
        """Ids of every elsewhere object, by model name."""
        return {
            "mission": {self.other_mission.id},
            "strategy": {self.other_strategy.id},
            "node": set(
                Node.objects.filter(strategy=self.other_strategy).values_list("id", flat=True)
            ),
            "milestone": {self.other_milestone.id},
            "indicator": {self.other_indicator.id},
            "indicatorperiod": {self.other_period.id},
            "progressnote": {self.other_note.id, self.other_submitted_note.id},
            "report": set(
                Report.objects.filter(strategy=self.other_strategy).values_list("id", flat=True)
            ),
            "subscription": set(
                Subscription.objects.filter(strategy=self.other_strategy).values_list(
                    "id", flat=True
                )
            ),
            "analysisdocument": set(
                AnalysisDocument.objects.filter(strategy=self.other_strategy).values_list(
                    "id", flat=True
                )
            ),
        }


def _note(*, strategy, author, nodes, state, **extra) -> ProgressNote:
    approved = state == NoteState.APPROVED
    return ProgressNoteFactory(
        strategy=strategy,
        author=author,
        nodes=nodes,
        state=state,
        justification="Because the indicators lag the work.",
        submitted_at=None if state == NoteState.DRAFT else timezone.now(),
        reviewed_by=UserFactory() if approved else None,
        approved_at=timezone.now() if approved else None,
        **extra,
    )


@pytest.fixture
def world(personas, tree) -> World:
    p, t = personas, tree
    indicator = IndicatorFactory(node=t.obj11, name="Export value")
    period = IndicatorPeriodFactory(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        period_end=date(2023, 12, 31),
        target=10,
        actual=4,
    )
    other_objective = NodeFactory(
        parent=t.other_goal, kind=NodeKind.MISSION_OBJECTIVE, code="1.1", title="Elsewhere aim"
    )
    other_indicator = IndicatorFactory(node=other_objective, name="Elsewhere value")
    return World(
        personas=p,
        tree=t,
        mission=p.mission,
        strategy=t.strategy,
        goal=t.goal1,
        objective=t.obj11,
        leaf=t.obj21,
        indicator=indicator,
        period=period,
        spare_indicator=IndicatorFactory(node=t.obj12, name="Tenders won"),
        milestone=MilestoneFactory(node=t.obj11, title="Trade fair held"),
        submitted_note=_note(
            strategy=t.strategy, author=p.analyst2, nodes=[t.obj11], state=NoteState.SUBMITTED
        ),
        draft_note=_note(
            strategy=t.strategy, author=p.analyst, nodes=[t.obj11], state=NoteState.DRAFT
        ),
        newcomer=UserFactory(username="newcomer"),
        other_mission=p.other_mission,
        other_strategy=t.other_strategy,
        other_goal=t.other_goal,
        other_objective=other_objective,
        other_indicator=other_indicator,
        other_period=IndicatorPeriodFactory(indicator=other_indicator, target=5, actual=1),
        other_milestone=MilestoneFactory(node=other_objective, title="Elsewhere step"),
        other_note=_note(
            strategy=t.other_strategy,
            author=p.outsider,
            nodes=[other_objective],
            state=NoteState.APPROVED,
        ),
        other_submitted_note=_note(
            strategy=t.other_strategy,
            author=p.outsider,
            nodes=[t.other_goal],
            state=NoteState.SUBMITTED,
        ),
    )
