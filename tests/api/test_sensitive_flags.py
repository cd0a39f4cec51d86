"""The sensitive flags in the API: read and written on strategies, nodes and notes like any
other field (ETag / If-Match included), and `POST /notes/{id}/sensitive/` for a manager
marking a note under review or approved — which no PATCH may change."""

import pytest
from django.urls import reverse

from strategy.api.base import etag_for
from tests.api.conftest import client_for
from tests.factories import ProgressNoteFactory
from tracking.models import NoteState

NODE_FLAGS = ("description_sensitive", "justification_sensitive", "risks_sensitive")


def detail(name: str, obj) -> str:
    return reverse(f"api:{name}-detail", kwargs={"pk": obj.pk})


def sensitive_url(note) -> str:
    return reverse("api:note-sensitive", kwargs={"pk": note.pk})


@pytest.fixture
def approved(world):
    return ProgressNoteFactory(
        strategy=world.strategy, author=world.personas.analyst2, nodes=[world.objective]
    )


# --- Strategies and nodes ----------------------------------------------------------------


def test_strategies_and_nodes_show_their_flags(world):
    client = world.client("viewer")
    strategy = client.get(detail("strategy", world.strategy)).json()
    assert strategy["com_priorities_sensitive"] is False
    node = client.get(detail("node", world.objective)).json()
    assert {flag: node[flag] for flag in NODE_FLAGS} == dict.fromkeys(NODE_FLAGS, False)
    listed = client.get(reverse("api:node-list"), {"strategy": world.strategy.id}).json()
    assert all(row["risks_sensitive"] is False for row in listed["results"])


def test_a_manager_marks_the_priorities_sensitive_with_if_match(world):
    strategy = world.strategy
    rows = strategy.history.count()
    response = world.client("manager").patch(
        detail("strategy", strategy),
        {"com_priorities_sensitive": True},
        format="json",
        HTTP_IF_MATCH=etag_for(strategy),
    )
    assert response.status_code == 200, response.content
    assert response.json()["com_priorities_sensitive"] is True
    strategy.refresh_from_db()
    assert strategy.com_priorities_sensitive and strategy.version == 2
    assert response["ETag"] == etag_for(strategy)
    assert strategy.history.count() == rows + 1
    assert strategy.history.first().history_user == world.personas.manager


def test_a_manager_marks_node_narrative_sensitive_and_creates_a_sensitive_node(world):
    node = world.objective
    client = world.client("manager")
    response = client.patch(
        detail("node", node),
        {"justification_sensitive": True, "risks_sensitive": True},
        format="json",
        HTTP_IF_MATCH=etag_for(node),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["description_sensitive"], body["justification_sensitive"]) == (False, True)
    node.refresh_from_db()
    assert (node.justification_sensitive, node.risks_sensitive, node.version) == (True, True, 2)
    assert node.history.first().justification_sensitive is True

    response = client.post(
        reverse("api:node-list"),
        {
            "strategy": world.strategy.id,
            "kind": "mission_objective",
            "code": "1.3",
            "parent": world.goal.id,
            "title": "Tourism grows",
            "description": "Visas take months.",
            "description_sensitive": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["description_sensitive"] is True


@pytest.mark.parametrize(
    ("name", "field"), [("strategy", "com_priorities_sensitive"), ("node", "risks_sensitive")]
)
def test_a_stale_if_match_is_412_and_changes_nothing(world, name, field):
    obj = world.strategy if name == "strategy" else world.objective
    stale = etag_for(obj)
    obj.title = "Changed by someone else"
    obj.version += 1
    obj.save()
    response = world.client("manager").patch(
        detail(name, obj), {field: True}, format="json", HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412, response.content
    obj.refresh_from_db()
    assert getattr(obj, field) is False and obj.version == 2


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_only_managers_mark_narrative_sensitive(world, persona):
    response = world.client(persona).patch(
        detail("node", world.objective), {"description_sensitive": True}, format="json"
    )
    assert response.status_code == 403
    world.objective.refresh_from_db()
    assert not world.objective.description_sensitive


@pytest.mark.parametrize("value", ["maybe", None, [True], {"yes": 1}])
def test_a_flag_must_be_a_boolean(world, value):
    response = world.client("manager").patch(
        detail("node", world.objective), {"risks_sensitive": value}, format="json"
    )
    assert response.status_code == 400
    assert "risks_sensitive" in response.json()["fields"]
    world.objective.refresh_from_db()
    assert world.objective.version == 1


# --- Notes -------------------------------------------------------------------------------


def test_an_analyst_writes_and_edits_a_sensitive_draft(world):
    client = world.client("analyst")
    response = client.post(
        reverse("api:note-list"),
        {
            "strategy": world.strategy.id,
            "title": "Talks with the ministry",
            "body": "Frank exchange.",
            "assessment": "on_track",
            "as_of": "2024-01-15",
            "nodes": [world.objective.id],
            "is_sensitive": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["is_sensitive"] is True

    url = reverse("api:note-detail", kwargs={"pk": note["id"]})
    response = client.patch(
        url, {"is_sensitive": False}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert response.status_code == 200, response.content
    assert response.json()["is_sensitive"] is False
    assert response.json()["version"] == note["version"] + 1


def test_a_patch_cannot_mark_an_approved_note(world, approved):
    client = client_for(world.personas.analyst2)  # the author
    response = client.patch(
        reverse("api:note-detail", kwargs={"pk": approved.pk}),
        {"is_sensitive": True},
        format="json",
    )
    assert response.status_code == 400
    assert "Approved notes cannot be edited" in response.json()["detail"]
    approved.refresh_from_db()
    assert not approved.is_sensitive and approved.version == 1


def test_a_manager_marks_an_approved_note_sensitive_and_publishable(world, approved):
    client = world.client("manager")
    rows = approved.history.count()
    response = client.post(
        sensitive_url(approved),
        {"sensitive": True},
        format="json",
        HTTP_IF_MATCH=etag_for(approved),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["is_sensitive"], body["state"], body["version"]) == (True, "approved", 2)
    approved.refresh_from_db()
    assert response["ETag"] == etag_for(approved)
    assert approved.history.count() == rows + 1
    assert approved.history.first().history_user == world.personas.manager

    # The same again writes nothing; the opposite makes it publishable.
    assert (
        client.post(sensitive_url(approved), {"sensitive": True}, format="json").json()["version"]
        == 2
    )
    response = client.post(sensitive_url(approved), {"sensitive": False}, format="json")
    assert (response.json()["is_sensitive"], response.json()["version"]) == (False, 3)


def test_a_manager_marks_a_note_under_review(world):
    response = world.client("manager").post(
        sensitive_url(world.submitted_note), {"sensitive": True}, format="json"
    )
    assert response.status_code == 200, response.content
    world.submitted_note.refresh_from_db()
    assert world.submitted_note.is_sensitive
    assert world.submitted_note.state == NoteState.SUBMITTED


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_members_below_manager_cannot_mark_a_note(world, approved, persona):
    response = world.client(persona).post(
        sensitive_url(approved), {"sensitive": True}, format="json"
    )
    assert response.status_code == 403
    assert (
        response.json()["detail"] == "You need the manager role to mark progress notes sensitive."
    )
    approved.refresh_from_db()
    assert not approved.is_sensitive


def test_marking_with_a_stale_if_match_is_412(world, approved):
    stale = etag_for(approved)
    approved.version += 1
    approved.save()
    response = world.client("manager").post(
        sensitive_url(approved), {"sensitive": True}, format="json", HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412
    approved.refresh_from_db()
    assert not approved.is_sensitive


def test_a_draft_or_returned_note_is_marked_by_its_author_not_here(world):
    returned = ProgressNoteFactory(
        strategy=world.strategy,
        author=world.personas.analyst,
        nodes=[world.objective],
        state=NoteState.RETURNED,
        review_comment="Cite figures.",
        approved_at=None,
    )
    response = world.client("manager").post(
        sensitive_url(returned), {"sensitive": True}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("A returned note is its author's")
    # Someone else's draft is not even there.
    response = world.client("manager").post(
        sensitive_url(world.draft_note), {"sensitive": True}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("body", [{}, {"sensitive": "perhaps"}, {"sensitive": None}])
def test_marking_needs_true_or_false(world, approved, body):
    response = world.client("manager").post(sensitive_url(approved), body, format="json")
    assert response.status_code == 400
    assert "sensitive" in response.json()["fields"]
