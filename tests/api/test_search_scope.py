"""The search API's scope, on PostgreSQL (full-text, written as SQL since issue #6) and
SQLite (ILIKE): drafts only to their author, other missions to nobody but superusers,
ranked hits carrying their mission's name."""

from django.urls import reverse

from tests.api.conftest import client_for
from tests.factories import NodeFactory, ProgressNoteFactory, StrategyFactory
from tracking.models import NoteState


def _hits(user, q: str) -> dict[tuple[str, int], dict]:
    response = client_for(user).get(reverse("api:search"), {"q": q, "limit": 200})
    assert response.status_code == 200, response.content
    return {(hit["type"], hit["id"]): hit for hit in response.json()}


def test_drafts_are_found_only_by_their_author_and_superusers(personas):
    strategy = StrategyFactory(mission=personas.mission)
    node = NodeFactory(strategy=strategy, code="1", title="Lighthouse keepers")
    draft = ProgressNoteFactory(
        strategy=strategy, nodes=[node], author=personas.analyst, state=NoteState.DRAFT,
        title="Lighthouse draft", body="The lighthouse lamp was replaced.",
        approved_at=None, reviewed_by=None,
    )  # fmt: skip
    submitted = ProgressNoteFactory(
        strategy=strategy, nodes=[node], author=personas.analyst2, state=NoteState.SUBMITTED,
        title="Lighthouse submitted", body="Lighthouse visits doubled.", approved_at=None,
    )  # fmt: skip

    author = _hits(personas.analyst, "lighthouse")
    colleague = _hits(personas.analyst2, "lighthouse")
    root = _hits(personas.superuser, "lighthouse")

    assert {("note", draft.id), ("note", submitted.id), ("node", node.id)} <= set(author)
    assert ("note", draft.id) not in colleague
    assert {("note", submitted.id), ("node", node.id)} <= set(colleague)
    assert ("note", draft.id) in root
    assert _hits(personas.outsider, "lighthouse") == {}
    hit = author[("note", draft.id)]
    assert hit["mission"] == personas.mission.name and hit["strategy"] == strategy.id
    assert "lighthouse" in hit["snippet"].lower()
    assert author[("node", node.id)]["code"] == "1"


def test_a_word_that_matches_nothing_finds_nothing(personas):
    strategy = StrategyFactory(mission=personas.mission)
    ProgressNoteFactory(strategy=strategy, title="Harbour", body="Harbour works.")
    assert _hits(personas.superuser, "zyzzogeton") == {}
