"""The API runs a fixed number of queries whatever the data size (SPEC §8): every list, the
strategy tree, the JSON export, and the node and note details cost the same for 1 item as
for 100. Each count is pinned exactly, with the queries named in order; a count that moves
means a query was added (say why here) or a loop started querying (fix the code).

Requests carry a real API token, as tools send them, after one warm-up request (which also
records the token's use, a write the steady state does not repeat for a minute).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from rest_framework.test import APIClient

from strategy.models import NodeKind, Role
from strategy.services import api_token_create
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MembershipFactory,
    MilestoneFactory,
    MissionFactory,
    NodeFactory,
    ProgressNoteFactory,
    StrategyFactory,
    UserFactory,
)
from tracking.models import NoteLink, NoteSource, NoteState

pytestmark = pytest.mark.django_db

# Every request starts with these two.
AUTH = [
    "the API token, with its user",
    "the user's roles in each mission (cached on the user for the request)",
]
# strategy_trees(): the statuses of whole trees, whatever their number and size.
TREES = [
    "the trees' nodes, with owners",
    "their indicators",
    "each indicator's latest period with an actual, with running sums",
    "each indicator's latest period past its reporting deadline",
    "each node's latest approved note",
    "the trees' milestones",
]

EXPECTED: dict[str, list[str]] = {
    "missions": [*AUTH, "count of the missions", "the page of missions"],
    "strategies": [*AUTH, "count of the strategies", "the page, with missions"],
    "nodes": [
        *AUTH,
        "count of the nodes",
        "the page, with strategies, parents and owners",
        *TREES,  # of every strategy on the page, for both statuses of each node
    ],
    "milestones": [*AUTH, "count of the milestones", "the page, with nodes and owners"],
    "indicators": [*AUTH, "count of the indicators", "the page, with nodes and owners"],
    "indicator-periods": [*AUTH, "the page, with indicators and recorders (cursor: no count)"],
    "notes": [
        *AUTH,
        "the page, with authors, reviewers, strategies (cursor: no count)",
        "their node links, with nodes",
        "their sources",
    ],
    "search": [
        *AUTH,
        "matching nodes, with strategies and missions",
        "matching notes, likewise",
        "matching analyses, likewise",
    ],
    "tree": [*AUTH, "the strategy, with its mission", *TREES],
    "export": [
        *AUTH,
        "the strategy, with its mission",
        "its nodes",
        "its indicator periods",
        "its notes",
        "their node links",
        "their sources",
        "its analyses",
        "their links to nodes",
        "its milestones",
        "its indicators",
    ],
    "node": [*AUTH, "the node, with strategy, parent and owner", *TREES],
    "note": [*AUTH, "the note, with author, reviewer, strategy", "its node links", "its sources"],
}


@dataclass
class World:
    """n of everything, reachable by the manager of mission "testland"."""

    client: APIClient
    urls: dict[str, str]
    sizes: dict[str, int]  # how many items each URL returns (a node shows none: its
    # statuses come from its whole tree, which holds n objectives)


def _build(personas, n: int) -> World:
    """n missions, n strategies (one holding n objectives under their goals, each objective
    with an owner, an indicator with a recorded period, a milestone and an approved note
    with two links and a source), one note linked to n nodes with n sources."""
    manager = personas.manager
    for _ in range(n - 1):
        MembershipFactory(user=manager, mission=MissionFactory(), role=Role.VIEWER)
    owners = [
        MembershipFactory(user=UserFactory(), mission=personas.mission, role=Role.ANALYST).user
        for _ in range(3)
    ]
    big = StrategyFactory(mission=personas.mission, title="Integrated Country Strategy")
    others = [
        StrategyFactory(mission=personas.mission, title=f"Strategy {i}") for i in range(n - 1)
    ]
    for i, strategy in enumerate(others):  # so the node list spans many trees
        NodeFactory(strategy=strategy, code="1", owner=owners[i % 3])
    goals = [NodeFactory(strategy=big, code=str(g + 1)) for g in range((n + 9) // 10)]
    objectives = [
        NodeFactory(
            parent=goals[i // 10],
            kind=NodeKind.MISSION_OBJECTIVE,
            code=f"{i // 10 + 1}.{i % 10 + 1}",
            owner=owners[i % 3],
        )
        for i in range(n)
    ]
    notes = []
    for i, objective in enumerate(objectives):
        indicator = IndicatorFactory(node=objective, owner=owners[i % 3])
        IndicatorPeriodFactory(indicator=indicator, target=10, actual=i, recorded_by=owners[0])
        MilestoneFactory(node=objective, owner=owners[i % 3], due_on=date(2024, 1, 1 + i % 28))
        note = ProgressNoteFactory(
            strategy=big,
            author=owners[i % 3],
            reviewed_by=manager,
            title=f"Exports note {i}",
            nodes=[objective, objective.parent],
        )
        NoteSource.objects.create(note=note, url=f"https://example.org/{i}", label="Source")
        notes.append(note)
    wide = ProgressNoteFactory(
        strategy=big, author=owners[0], state=NoteState.SUBMITTED, reviewed_by=None
    )
    for i, objective in enumerate(objectives):
        NoteLink.objects.create(note=wide, node=objective, is_primary=i == 0)
        NoteSource.objects.create(note=wide, url=f"https://example.org/w/{i}", label="Source")

    _, key = api_token_create(user=manager, name="query counts")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    every = "page_size=500"  # one page holds every item, so each is rendered
    return World(
        client=client,
        urls={
            "missions": f"/api/v1/missions/?{every}",
            "strategies": f"/api/v1/strategies/?{every}",
            "nodes": f"/api/v1/nodes/?{every}",
            "milestones": f"/api/v1/milestones/?{every}",
            "indicators": f"/api/v1/indicators/?{every}",
            "indicator-periods": f"/api/v1/indicator-periods/?{every}",
            "notes": f"/api/v1/notes/?{every}",
            "search": "/api/v1/search/?q=Exports&limit=200",
            "tree": f"/api/v1/strategies/{big.id}/tree/",
            "export": f"/api/v1/strategies/{big.id}/export/?format=json",
            "node": f"/api/v1/nodes/{objectives[-1].id}/",
            "note": f"/api/v1/notes/{wide.id}/",
        },
        sizes={
            "missions": n,
            "strategies": n,
            "nodes": len(goals) + n + len(others),
            "milestones": n,
            "indicators": n,
            "indicator-periods": n,
            "notes": n + 1,
            "search": n,
            "tree": len(goals),
            "export": len(goals) + n,
            "note": n,
        },
    )


def _size(endpoint: str, body) -> int:
    """How many items a response holds, read the way each endpoint shapes them."""
    if endpoint == "tree":
        return len(body["tree"])
    if endpoint == "export":
        return len(body["nodes"])
    if endpoint == "note":
        return len(body["nodes"])
    if endpoint == "search":
        return sum(1 for r in body if r["type"] == "note")
    return len(body["results"])


@pytest.mark.parametrize("n", [1, 100])
@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_query_count_does_not_grow_with_the_data(personas, endpoint, n, django_assert_num_queries):
    world = _build(personas, n)
    url = world.urls[endpoint]
    assert world.client.get(url).status_code == 200  # warm-up
    with django_assert_num_queries(len(EXPECTED[endpoint])):
        response = world.client.get(url)
    assert response.status_code == 200, response.content[:300]
    if endpoint in world.sizes:
        assert _size(endpoint, response.json()) == world.sizes[endpoint]
