"""Objects of another mission are never listed, never found and never linkable.

A manager of "testland" points every writable relation of the API at an object of
"elsewhere" (and at a user who only belongs there): each attempt is refused — 400 for a
body ("does not exist", without a word about the object), 404 for a path — and leaves
every table exactly as it was. A manager of both missions may see both, so for them the
services must refuse to mix the two in one object. Lists and search leave elsewhere out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.urls import reverse

from strategy.models import Role
from tests.api.conftest import DOCUMENT, World, api_routes, client_for
from tests.api.test_reports_api import ready_report, subscription
from tests.factories import MembershipFactory, NodeFactory, ProgressNoteFactory, UserFactory
from tracking.analyses.services import analysis_create, analysis_link
from tracking.models import NoteState


def row_counts() -> dict[str, int]:
    """Rows of every model. History tables are included, so an update through a service
    shows up too (it adds a history row): a refused request changes no count."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


@dataclass
class Attempt:
    method: str
    name: str
    kwargs: Callable[[World], dict[str, Any]]
    body: Callable[[World], Any]
    expected: int = 400
    content_type: str = "json"  # or "csv" / "text" for the raw parsers
    query: Callable[[World], dict[str, Any]] | None = None

    def send(self, world: World, client) -> Any:
        url = reverse(f"api:{self.name}", kwargs=self.kwargs(world))
        if self.query is not None:
            url += "?" + "&".join(f"{k}={v}" for k, v in self.query(world).items())
        body = self.body(world)
        handler = getattr(client, self.method.lower())
        if self.content_type == "json":
            return handler(url, body, format="json")
        mime = {"csv": "text/csv", "text": "text/plain"}[self.content_type]
        return handler(url, body, content_type=mime)


def none(w: World) -> dict:
    return {}


NEW_ANALYSIS = {
    "title": "Harbour statement",
    "document_date": "2024-02-01",
    "text": "The port authority promises faster customs clearance for exports.",
}
NEW_NOTE = {"title": "Port talks", "body": "Held.", "assessment": "on_track", "as_of": "2024-01-15"}

# As a manager of testland only: every relation at an object of elsewhere.
SINGLE_MISSION: dict[str, Attempt] = {
    "strategies.mission": Attempt(
        "POST",
        "strategy-list",
        none,
        lambda w: {"mission": w.other_mission.id, "title": "Elsewhere plan"},
    ),
    "strategies.mission (moving one)": Attempt(
        "PATCH",
        "strategy-detail",
        lambda w: {"pk": w.strategy.id},
        lambda w: {"mission": w.other_mission.id},
    ),
    "nodes.strategy": Attempt(
        "POST",
        "node-list",
        none,
        lambda w: {
            "strategy": w.other_strategy.id,
            "kind": "mission_goal",
            "code": "9",
            "title": "Planted goal",
        },
    ),
    "nodes.parent": Attempt(
        "POST",
        "node-list",
        none,
        lambda w: {
            "strategy": w.strategy.id,
            "kind": "mission_objective",
            "code": "1.9",
            "title": "Planted objective",
            "parent": w.other_goal.id,
        },
    ),
    "nodes.owner": Attempt(
        "POST",
        "node-list",
        none,
        lambda w: {
            "strategy": w.strategy.id,
            "kind": "mission_goal",
            "code": "9",
            "title": "Owned elsewhere",
            "owner": w.personas.outsider.username,
        },
    ),
    "nodes.owner (editing)": Attempt(
        "PATCH",
        "node-detail",
        lambda w: {"pk": w.goal.id},
        lambda w: {"owner": w.personas.outsider.username},
    ),
    "milestones.node": Attempt(
        "POST",
        "milestone-list",
        none,
        lambda w: {"node": w.other_objective.id, "title": "Planted", "due_on": "2025-01-31"},
    ),
    "milestones.node (moving one)": Attempt(
        "PATCH",
        "milestone-detail",
        lambda w: {"pk": w.milestone.id},
        lambda w: {"node": w.other_objective.id},
    ),
    "milestones.owner": Attempt(
        "POST",
        "milestone-list",
        none,
        lambda w: {
            "node": w.objective.id,
            "title": "Owned elsewhere",
            "due_on": "2025-01-31",
            "owner": w.personas.outsider.username,
        },
    ),
    "milestones.owner (editing)": Attempt(
        "PATCH",
        "milestone-detail",
        lambda w: {"pk": w.milestone.id},
        lambda w: {"owner": w.personas.outsider.username},
    ),
    "indicators.node": Attempt(
        "POST",
        "indicator-list",
        none,
        lambda w: {"node": w.other_objective.id, "name": "Planted"},
    ),
    "indicators.node (moving one)": Attempt(
        "PATCH",
        "indicator-detail",
        lambda w: {"pk": w.indicator.id},
        lambda w: {"node": w.other_objective.id},
    ),
    "indicators.owner": Attempt(
        "POST",
        "indicator-list",
        none,
        lambda w: {
            "node": w.objective.id,
            "name": "Owned elsewhere",
            "owner": w.personas.outsider.username,
        },
    ),
    "indicators.owner (editing)": Attempt(
        "PATCH",
        "indicator-detail",
        lambda w: {"pk": w.indicator.id},
        lambda w: {"owner": w.personas.outsider.username},
    ),
    "indicator-periods.indicator": Attempt(
        "POST",
        "indicator-period-list",
        none,
        lambda w: {"indicator": w.other_indicator.id, "period_start": "2024-01-01", "target": 1},
    ),
    "indicator-periods/bulk rows' indicator": Attempt(
        "POST",
        "indicator-period-bulk",
        none,
        lambda w: [{"indicator": w.other_indicator.id, "period_start": "2024-01-01", "target": 1}],
    ),
    "indicator-periods/bulk, one good row and one elsewhere": Attempt(
        "POST",
        "indicator-period-bulk",
        none,
        lambda w: [
            {"indicator": w.indicator.id, "period_start": "2024-01-01", "actual": 6},
            {"indicator": w.other_indicator.id, "period_start": "2024-01-01", "target": 1},
        ],
    ),
    "indicator-periods/bulk as CSV": Attempt(
        "POST",
        "indicator-period-bulk",
        none,
        lambda w: (
            "indicator,period_start,actual\n"
            f"{w.indicator.id},2024-01-01,6\n"
            f"{w.other_indicator.id},2024-01-01,2\n"
        ),
        content_type="csv",
    ),
    "notes.strategy": Attempt(
        "POST",
        "note-list",
        none,
        lambda w: {**NEW_NOTE, "strategy": w.other_strategy.id, "nodes": [w.other_objective.id]},
    ),
    "notes.nodes[] (a testland node and an elsewhere node)": Attempt(
        "POST",
        "note-list",
        none,
        lambda w: {
            **NEW_NOTE,
            "strategy": w.strategy.id,
            "nodes": [w.objective.id, w.other_objective.id],
        },
    ),
    "notes.primary_node": Attempt(
        "POST",
        "note-list",
        none,
        lambda w: {
            **NEW_NOTE,
            "strategy": w.strategy.id,
            "nodes": [w.objective.id],
            "primary_node": w.other_objective.id,
        },
    ),
    "notes.nodes[] (editing a draft)": Attempt(
        "PATCH",
        "note-detail",
        lambda w: {"pk": w.manager_draft.id},
        lambda w: {"nodes": [w.objective.id, w.other_objective.id]},
    ),
    "notes.primary_node (editing a draft)": Attempt(
        "PATCH",
        "note-detail",
        lambda w: {"pk": w.manager_draft.id},
        lambda w: {"primary_node": w.other_goal.id},
    ),
    "analyses.strategy": Attempt(
        "POST",
        "analysis-list",
        none,
        lambda w: {**NEW_ANALYSIS, "strategy": w.other_strategy.id},
    ),
    "analyses/links nodes[] (an elsewhere node)": Attempt(
        "POST",
        "analysis-links",
        lambda w: {"pk": w.analysis.id},
        lambda w: {"nodes": [w.objective.id, w.other_objective.id]},
    ),
    "analyses/links of a testland analysis, unlinking an elsewhere node": Attempt(
        "DELETE",
        "analysis-unlink",
        lambda w: {"pk": w.analysis.id, "node_id": w.other_objective.id},
        lambda w: None,
        404,
    ),
    "analyses/suggest strategy": Attempt(
        "POST",
        "analysis-suggest",
        none,
        lambda w: {"strategy": w.other_strategy.id, "text": NEW_ANALYSIS["text"]},
    ),
    "strategies/import mission": Attempt(
        "POST",
        "strategy-import-document",
        none,
        lambda w: {"mission": w.other_mission.id, "text": DOCUMENT},
    ),
    "strategies/import strategy": Attempt(
        "POST",
        "strategy-import-document",
        none,
        lambda w: {"strategy": w.other_strategy.id, "text": DOCUMENT},
    ),
    "strategies/import as text/plain": Attempt(
        "POST",
        "strategy-import-document",
        none,
        lambda w: DOCUMENT,
        content_type="text",
        query=lambda w: {"mission": w.other_mission.id},
    ),
    "missions/{elsewhere}/members/ (adding)": Attempt(
        "POST",
        "mission-members",
        lambda w: {"pk": w.other_mission.id},
        lambda w: {"username": w.newcomer.username, "role": Role.ADMIN},
        expected=404,
    ),
    "missions/{elsewhere}/members/{id}/ (promoting)": Attempt(
        "PATCH",
        "mission-member",
        lambda w: {"pk": w.other_mission.id, "user_id": w.personas.outsider.id},
        lambda w: {"role": Role.VIEWER},
        expected=404,
    ),
    "missions/{elsewhere}/members/{id}/ (removing)": Attempt(
        "DELETE",
        "mission-member",
        lambda w: {"pk": w.other_mission.id, "user_id": w.personas.outsider.id},
        lambda w: None,
        expected=404,
    ),
    "reports.strategy": Attempt(
        "POST", "report-list", none, lambda w: {"strategy": w.other_strategy.id}
    ),
    "subscriptions.strategy": Attempt(
        "POST",
        "subscription-list",
        none,
        lambda w: {"strategy": w.other_strategy.id, "cadence": "weekly"},
    ),
    "subscriptions.user": Attempt(
        "POST",
        "subscription-list",
        none,
        lambda w: {"strategy": w.strategy.id, "cadence": "weekly", "user": w.personas.outsider.id},
    ),
    "reports/{elsewhere}/pdf/": Attempt(
        "GET", "report-pdf", lambda w: {"pk": w.other_report.id}, lambda w: None, expected=404
    ),
    "subscriptions/{elsewhere}/ (removing)": Attempt(
        "DELETE",
        "subscription-detail",
        lambda w: {"pk": w.other_subscription.id},
        lambda w: None,
        expected=404,
    ),
    "subscriptions/{elsewhere}/ (changing)": Attempt(
        "PATCH",
        "subscription-detail",
        lambda w: {"pk": w.other_subscription.id},
        lambda w: {"cadence": "monthly"},
        expected=404,
    ),
}

# Writes addressed to elsewhere's objects by path.
for _name, _pk in [
    ("mission-detail", lambda w: w.other_mission.id),
    ("strategy-detail", lambda w: w.other_strategy.id),
    ("node-detail", lambda w: w.other_goal.id),
    ("milestone-detail", lambda w: w.other_milestone.id),
    ("indicator-detail", lambda w: w.other_indicator.id),
    ("indicator-period-detail", lambda w: w.other_period.id),
    ("note-detail", lambda w: w.other_submitted_note.id),
]:
    SINGLE_MISSION[f"PATCH {_name} of elsewhere"] = Attempt(
        "PATCH", _name, lambda w, pk=_pk: {"pk": pk(w)}, lambda w: {"title": "Mine"}, 404
    )
for _name, _pk in [
    ("node-detail", lambda w: w.other_objective.id),
    ("milestone-detail", lambda w: w.other_milestone.id),
    ("indicator-detail", lambda w: w.other_indicator.id),
    ("note-detail", lambda w: w.other_submitted_note.id),
]:
    SINGLE_MISSION[f"DELETE {_name} of elsewhere"] = Attempt(
        "DELETE", _name, lambda w, pk=_pk: {"pk": pk(w)}, lambda w: None, 404
    )
for _method, _name, _kwargs, _body in [
    ("PATCH", "analysis-detail", lambda w: {"pk": w.other_analysis.id}, {"title": "Mine"}),
    ("DELETE", "analysis-detail", lambda w: {"pk": w.other_analysis.id}, None),
    ("POST", "analysis-links", lambda w: {"pk": w.other_analysis.id}, {"nodes": []}),
    (
        "DELETE",
        "analysis-unlink",
        lambda w: {"pk": w.other_analysis.id, "node_id": w.other_objective.id},
        None,
    ),
]:
    SINGLE_MISSION[f"{_method} {_name} of elsewhere"] = Attempt(
        _method, _name, _kwargs, lambda w, body=_body: body, 404
    )
for _name in ("note-approve", "note-return-note", "note-submit"):
    SINGLE_MISSION[f"POST {_name} of elsewhere"] = Attempt(
        "POST",
        _name,
        lambda w: {"pk": w.other_submitted_note.id},
        lambda w: {"comment": "Looks fine."},
        404,
    )

# As a manager of both missions: the relations may resolve, but one object must never
# join the two missions.
BOTH_MISSIONS: dict[str, Attempt] = {
    key: SINGLE_MISSION[key]
    for key in (
        "strategies.mission (moving one)",
        "nodes.parent",
        "nodes.owner",
        "nodes.owner (editing)",
        "milestones.node (moving one)",
        "milestones.owner",
        "milestones.owner (editing)",
        "indicators.node (moving one)",
        "indicators.owner",
        "indicators.owner (editing)",
        "notes.nodes[] (a testland node and an elsewhere node)",
        "notes.primary_node",
        "notes.nodes[] (editing a draft)",
        "notes.primary_node (editing a draft)",
        "analyses/links nodes[] (an elsewhere node)",
    )
}
BOTH_MISSIONS["notes.nodes[] (only elsewhere's, on a testland strategy)"] = Attempt(
    "POST",
    "note-list",
    none,
    lambda w: {**NEW_NOTE, "strategy": w.strategy.id, "nodes": [w.other_objective.id]},
)


@pytest.fixture
def cross(world):
    """The world, plus a draft of the testland manager's own to edit."""
    world.manager_draft = ProgressNoteFactory(
        strategy=world.strategy,
        author=world.personas.manager,
        nodes=[world.objective],
        state=NoteState.DRAFT,
        reviewed_by=None,
        approved_at=None,
    )
    # Reports and subscriptions on both sides, so lists have something to leak.
    ready_report(world.strategy)
    world.other_report = ready_report(world.other_strategy)
    subscription(world.strategy, world.personas.manager)
    world.other_subscription = subscription(world.other_strategy, world.personas.outsider)
    # An analysis on each side, linked to each side's objective.
    world.analysis = _analysis(world.strategy, world.personas.analyst, world.objective)
    world.other_analysis = _analysis(
        world.other_strategy, world.personas.outsider, world.other_objective
    )
    return world


def _analysis(strategy, by, node):
    document = analysis_create(
        strategy=strategy, by=by, title="Harbour reading", document_date=date(2024, 2, 1),
        text="Harbour access improves as customs clearance speeds up.",
    )  # fmt: skip
    analysis_link(document=document, nodes=[node], by=by)
    return document


def attempt(world: World, caller, what: str, case: Attempt):
    """Send `case` as `caller`; assert it is refused as expected and wrote nothing."""
    client = client_for(caller)
    before = row_counts()
    response = case.send(world, client)
    assert response.status_code == case.expected, (
        f"{what}: {case.method} {case.name} expected {case.expected}, "
        f"got {response.status_code}: {response.content[:300]!r}"
    )
    after = row_counts()
    changed = {
        label: (before[label], after[label]) for label in before if before[label] != after[label]
    }
    assert not changed, f"{what}: refused, yet rows changed (before, after): {changed}"
    return response


@pytest.mark.parametrize("what", list(SINGLE_MISSION))
def test_a_manager_cannot_reach_another_missions_objects(cross, what):
    response = attempt(cross, cross.personas.manager, what, SINGLE_MISSION[what])
    # "does not exist" or "not found", never a word about what is there.
    assert b"Elsewhere" not in response.content, response.content


@pytest.mark.parametrize("what", list(BOTH_MISSIONS))
def test_a_manager_of_both_missions_cannot_join_them_in_one_object(cross, what):
    both = cross.personas.manager
    MembershipFactory(user=both, mission=cross.other_mission, role=Role.MANAGER)
    attempt(cross, both, what, BOTH_MISSIONS[what])


# --- Lists and search ----------------------------------------------------------------

LIST_MODELS = {  # list route → the key of World.elsewhere_ids its rows belong to
    "mission-list": "mission",
    "strategy-list": "strategy",
    "node-list": "node",
    "milestone-list": "milestone",
    "indicator-list": "indicator",
    "indicator-period-list": "indicatorperiod",
    "note-list": "progressnote",
    "report-list": "report",
    "subscription-list": "subscription",
    "analysis-list": "analysisdocument",
}

# Filters that name an elsewhere object: still nothing of elsewhere (or a 400).
FILTERS = {
    "strategy-list": lambda w: {"mission": w.other_mission.id},
    "node-list": lambda w: {"strategy": w.other_strategy.id, "parent": w.other_goal.id},
    "milestone-list": lambda w: {"node": w.other_objective.id},
    "indicator-list": lambda w: {"strategy": w.other_strategy.id},
    "indicator-period-list": lambda w: {"indicator": w.other_indicator.id},
    "note-list": lambda w: {"strategy": w.other_strategy.id},
    "mission-list": lambda w: {"slug": w.other_mission.slug},
    "report-list": lambda w: {"strategy": w.other_strategy.id},
    "subscription-list": lambda w: {"strategy": w.other_strategy.id},
    "analysis-list": lambda w: {"strategy": w.other_strategy.id, "node": w.other_objective.id},
}


def listed_ids(client, name: str, query: dict | None = None) -> tuple[int, set[int]]:
    response = client.get(reverse(f"api:{name}"), {"page_size": 500, **(query or {})})
    data = response.json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    return response.status_code, {
        row["id"] for row in rows
    } if response.status_code == 200 else set()


def test_every_list_route_is_checked_for_leaks():
    lists = {name for name, method in api_routes() if method == "GET" and name.endswith("-list")}
    assert lists == LIST_MODELS.keys() == FILTERS.keys()


@pytest.mark.parametrize("name", list(LIST_MODELS))
def test_lists_never_include_another_missions_objects(cross, name):
    elsewhere = cross.elsewhere_ids()[LIST_MODELS[name]]
    # The superuser sees elsewhere's rows, so they are there to leak.
    status, everything = listed_ids(client_for(cross.personas.superuser), name)
    assert status == 200 and elsewhere <= everything

    manager = client_for(cross.personas.manager)
    status, ids = listed_ids(manager, name)
    assert status == 200 and ids, f"{name} lists nothing for the manager"
    assert not ids & elsewhere, f"{name} lists elsewhere's {sorted(ids & elsewhere)}"

    status, ids = listed_ids(manager, name, FILTERS[name](cross))
    assert status in (200, 400), status
    assert not ids & elsewhere, f"{name} filtered to elsewhere lists {sorted(ids & elsewhere)}"


def test_search_never_returns_another_missions_objects(cross):
    near = NodeFactory(strategy=cross.strategy, code="3", title="Harbour access improves")
    far = NodeFactory(strategy=cross.other_strategy, code="3", title="Harbour security")
    near_note = ProgressNoteFactory(
        strategy=cross.strategy, nodes=[near], title="Harbour works begin", body="Harbour."
    )
    far_note = ProgressNoteFactory(
        strategy=cross.other_strategy, nodes=[far], title="Harbour dredged", body="Harbour."
    )
    url = reverse("api:search")

    def found(user) -> set[tuple[str, int]]:
        response = client_for(user).get(url, {"q": "harbour", "limit": 200})
        assert response.status_code == 200, response.content
        return {(hit["type"], hit["id"]) for hit in response.json()}

    elsewhere = {("node", far.id), ("note", far_note.id), ("analysis", cross.other_analysis.id)}
    assert elsewhere <= found(cross.personas.superuser)  # findable, so able to leak
    hits = found(cross.personas.manager)
    assert {("node", near.id), ("note", near_note.id), ("analysis", cross.analysis.id)} <= hits
    assert not hits & elsewhere


def test_an_outsider_sees_only_their_own_mission(cross):
    """The mirror image: elsewhere's manager lists none of testland's strategies."""
    status, ids = listed_ids(client_for(cross.personas.outsider), "strategy-list")
    assert status == 200 and ids == {cross.other_strategy.id}


def test_a_user_of_no_mission_sees_nothing(cross):
    loner = client_for(UserFactory(username="loner"))
    for name in LIST_MODELS:
        status, ids = listed_ids(loner, name)
        assert (status, ids) == (200, set()), name
