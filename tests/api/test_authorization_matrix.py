"""Who may call which API route: every route × method of /api/v1/ × persona, from a table.

The routes come from the URLconf itself (`django.urls.get_resolver()`, namespace "api"),
so a new endpoint or method fails `test_every_api_route_and_method_is_in_the_table` until
TABLE says who may call it, and a route that disappears fails the reverse test. Each
row gets a fresh world; each persona calls it with a real API token (anonymous sends
none) inside a savepoint that is rolled back, so no request sees another's writes.
Writes carry valid bodies so that the status reflects authorization, not validation:

- 401: no credentials; 404: an object of a mission the caller does not belong to (or a
  draft note of someone else); 400 on a create by the outsider: the strategy, node or
  indicator named in the body "does not exist" among their missions;
- 403: a member without the role; 405: nobody, ever (strategies are archived, recorded
  indicator values are never deleted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from tests.api.conftest import DOCUMENT, PERSONAS, World, api_routes, client_for
from tests.api.test_reports_api import ready_report
from tests.factories import ProgressNoteFactory
from tracking.analyses.services import analysis_create, analysis_link
from tracking.models import Cadence, NoteState, Report, Subscription

# --- The table ------------------------------------------------------------------------
# Columns, in PERSONAS order:
#   anonymous, viewer, analyst, manager, admin, outsider, superuser
READ = (401, 200, 200, 200, 200, 404, 200)  # an object of testland
LIST = (401, 200, 200, 200, 200, 200, 200)  # lists are scoped, never refused
CREATE_MANAGER = (401, 403, 403, 201, 201, 400, 201)
EDIT_MANAGER = (401, 403, 403, 200, 200, 404, 200)
DELETE_MANAGER = (401, 403, 403, 204, 204, 404, 204)
EDIT_ADMIN = (401, 403, 403, 403, 200, 404, 200)
NEVER = (401, 405, 405, 405, 405, 405, 405)
AUTHOR_ONLY = (401, 404, 200, 404, 404, 404, 403)  # the analyst's own draft: hidden from others
REVIEW = (401, 403, 403, 200, 200, 404, 200)  # analyst2's submitted note
SUBSCRIBER_OR_MANAGER = (401, 200, 404, 200, 200, 404, 200)  # the viewer's own subscription

_ROWS: dict[tuple[str, str], tuple[int, ...]] = {
    ("search", "GET"): LIST,
    ("mission-list", "GET"): LIST,
    ("mission-list", "POST"): (401, 403, 403, 403, 403, 403, 201),  # superusers only
    ("mission-detail", "GET"): READ,
    ("mission-detail", "PUT"): EDIT_ADMIN,
    ("mission-detail", "PATCH"): EDIT_ADMIN,
    ("mission-detail", "DELETE"): (401, 403, 403, 403, 403, 404, 403),  # never deleted
    ("mission-members", "GET"): READ,
    ("mission-members", "POST"): (401, 403, 403, 403, 201, 404, 201),
    ("mission-member", "PATCH"): EDIT_ADMIN,
    ("mission-member", "DELETE"): (401, 403, 403, 403, 204, 404, 204),
    ("strategy-list", "GET"): LIST,
    ("strategy-list", "POST"): CREATE_MANAGER,
    ("strategy-import-document", "POST"): CREATE_MANAGER,
    ("strategy-detail", "GET"): READ,
    ("strategy-detail", "PUT"): EDIT_MANAGER,
    ("strategy-detail", "PATCH"): EDIT_MANAGER,
    ("strategy-detail", "DELETE"): NEVER,
    ("strategy-tree", "GET"): READ,
    ("strategy-export", "GET"): READ,
    ("node-list", "GET"): LIST,
    ("node-list", "POST"): CREATE_MANAGER,
    ("node-detail", "GET"): READ,
    ("node-detail", "PUT"): EDIT_MANAGER,
    ("node-detail", "PATCH"): EDIT_MANAGER,
    ("node-detail", "DELETE"): DELETE_MANAGER,
    ("milestone-list", "GET"): LIST,
    ("milestone-list", "POST"): CREATE_MANAGER,
    ("milestone-detail", "GET"): READ,
    ("milestone-detail", "PUT"): EDIT_MANAGER,
    ("milestone-detail", "PATCH"): EDIT_MANAGER,  # a new title; analysts may only complete
    ("milestone-detail", "DELETE"): DELETE_MANAGER,
    ("indicator-list", "GET"): LIST,
    ("indicator-list", "POST"): CREATE_MANAGER,
    ("indicator-detail", "GET"): READ,
    ("indicator-detail", "PUT"): EDIT_MANAGER,
    ("indicator-detail", "PATCH"): EDIT_MANAGER,
    ("indicator-detail", "DELETE"): DELETE_MANAGER,
    ("indicator-period-list", "GET"): LIST,
    ("indicator-period-list", "POST"): (401, 403, 201, 201, 201, 400, 201),  # an actual
    # A batch may span missions, so a missing role is a row error ("rows[1].indicator:
    # You need the analyst role…"), 400 like every other bad row: nothing is written.
    ("indicator-period-bulk", "POST"): (401, 400, 200, 200, 200, 400, 200),
    ("indicator-period-detail", "GET"): READ,
    ("indicator-period-detail", "PATCH"): (401, 403, 200, 200, 200, 404, 200),  # an actual
    ("indicator-period-detail", "PUT"): NEVER,
    ("indicator-period-detail", "DELETE"): NEVER,
    ("note-list", "GET"): LIST,
    ("note-list", "POST"): (401, 403, 201, 201, 201, 400, 201),
    ("note-detail", "GET"): READ,  # the submitted note
    ("note-detail", "PUT"): AUTHOR_ONLY,
    ("note-detail", "PATCH"): AUTHOR_ONLY,
    ("note-detail", "DELETE"): (401, 404, 204, 404, 404, 404, 403),
    ("note-submit", "POST"): AUTHOR_ONLY,
    ("note-approve", "POST"): REVIEW,
    ("note-return-note", "POST"): REVIEW,
    ("note-sensitive", "POST"): REVIEW,  # an approved note: marked sensitive by managers
    ("report-list", "GET"): LIST,
    ("report-list", "POST"): (401, 403, 403, 202, 202, 400, 202),  # 202: being prepared
    ("report-detail", "GET"): READ,
    ("report-pdf", "GET"): READ,
    ("report-xlsx", "GET"): READ,
    ("subscription-list", "GET"): LIST,
    ("subscription-list", "POST"): (401, 201, 201, 201, 201, 400, 201),  # subscribe yourself
    ("subscription-detail", "GET"): SUBSCRIBER_OR_MANAGER,
    ("subscription-detail", "PATCH"): SUBSCRIBER_OR_MANAGER,
    ("subscription-detail", "DELETE"): (401, 204, 404, 204, 204, 404, 204),
    # Analyses: the analyst added the one addressed, linked to the goal.
    ("analysis-list", "GET"): LIST,
    ("analysis-list", "POST"): (401, 403, 201, 201, 201, 400, 201),
    ("analysis-detail", "GET"): READ,
    ("analysis-detail", "PUT"): (401, 403, 200, 200, 200, 404, 200),  # who added it, managers
    ("analysis-detail", "PATCH"): (401, 403, 200, 200, 200, 404, 200),
    ("analysis-detail", "DELETE"): (401, 403, 204, 204, 204, 404, 204),
    ("analysis-links", "POST"): (401, 403, 200, 200, 200, 404, 200),
    ("analysis-unlink", "DELETE"): (401, 403, 200, 200, 200, 404, 200),
    ("analysis-suggest", "POST"): (401, 200, 200, 200, 200, 400, 200),  # stores nothing
}

TABLE: dict[tuple[str, str], dict[str, int]] = {
    key: dict(zip(PERSONAS, statuses, strict=True)) for key, statuses in _ROWS.items()
}

# Cells whose expectation is right and whose behaviour is not: (name, method, persona) →
# reason. Each becomes a strict xfail, so fixing the bug turns the run red until the
# entry is removed.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}

# --- What each row sends --------------------------------------------------------------


Spec = Callable[[World], tuple[dict[str, Any], Any]]  # world → (url kwargs, body or query)


@dataclass
class ReportWorld:
    report: Report  # a ready weekly report of testland's strategy
    subscription: Subscription  # the viewer's own, monthly (so "weekly" is free to create)


def _reports(w: World) -> ReportWorld:
    """Report objects of the world, made on first use and kept on it: REQUESTS is called
    once per persona, outside the rolled-back request, and must address the same rows."""
    made = getattr(w, "_report_world", None)
    if made is None:
        made = ReportWorld(
            report=ready_report(w.strategy),
            subscription=Subscription.objects.create(
                strategy=w.strategy,
                cadence=Cadence.MONTHLY,
                user=w.personas.viewer,
                created_by=w.personas.viewer,
            ),
        )
        w._report_world = made
    return made


def _approved_note(w: World):
    """An approved note of testland by analyst2, made on first use and kept on the world
    (like `_reports`), so every persona addresses the same row."""
    made = getattr(w, "_approved_note", None)
    if made is None:
        made = w._approved_note = ProgressNoteFactory(
            strategy=w.strategy, author=w.personas.analyst2, nodes=[w.objective]
        )
    return made


def _analysis(w: World):
    """An analysis of testland added by the analyst and linked to the goal, made on first
    use and kept on the world (like `_reports`)."""
    made = getattr(w, "_analysis", None)
    if made is None:
        made = w._analysis = analysis_create(
            strategy=w.strategy,
            by=w.personas.analyst,
            title="Tariff schedule review",
            document_date=date(2024, 2, 1),
            text="Exports grow as tariffs fall; prosperity follows trade.",
        )
        analysis_link(document=made, nodes=[w.goal], by=w.personas.analyst)
    return made


REQUESTS: dict[tuple[str, str], Spec] = {
    ("search", "GET"): lambda w: ({}, {"q": "Prosperity"}),
    ("mission-list", "GET"): lambda w: ({}, None),
    ("mission-list", "POST"): lambda w: (
        {},
        {"name": "Mission Newland", "country": "Newland", "slug": "newland"},
    ),
    ("mission-detail", "GET"): lambda w: ({"pk": w.mission.id}, None),
    ("mission-detail", "PUT"): lambda w: (
        {"pk": w.mission.id},
        {"name": "Mission Testland (renamed)", "country": "Testland"},
    ),
    ("mission-detail", "PATCH"): lambda w: ({"pk": w.mission.id}, {"country": "New Testland"}),
    ("mission-detail", "DELETE"): lambda w: ({"pk": w.mission.id}, None),
    ("mission-members", "GET"): lambda w: ({"pk": w.mission.id}, None),
    ("mission-members", "POST"): lambda w: (
        {"pk": w.mission.id},
        {"username": w.newcomer.username, "role": "viewer"},
    ),
    ("mission-member", "PATCH"): lambda w: (
        {"pk": w.mission.id, "user_id": w.personas.viewer.id},
        {"role": "analyst"},
    ),
    ("mission-member", "DELETE"): lambda w: (
        {"pk": w.mission.id, "user_id": w.personas.viewer.id},
        None,
    ),
    ("strategy-list", "GET"): lambda w: ({}, None),
    ("strategy-list", "POST"): lambda w: (
        {},
        {
            "mission": w.mission.id,
            "title": "Integrated Country Strategy 2027",
            "period_start_fy": 2027,
            "period_end_fy": 2031,
        },
    ),
    ("strategy-import-document", "POST"): lambda w: (
        {},
        {"mission": w.mission.id, "text": DOCUMENT},
    ),
    ("strategy-detail", "GET"): lambda w: ({"pk": w.strategy.id}, None),
    ("strategy-detail", "PUT"): lambda w: (
        {"pk": w.strategy.id},
        {
            "mission": w.mission.id,
            "title": "Integrated Country Strategy (revised)",
            "period_start_fy": 2022,
            "period_end_fy": 2026,
        },
    ),
    ("strategy-detail", "PATCH"): lambda w: ({"pk": w.strategy.id}, {"reviewed_on": "2024-03-01"}),
    ("strategy-detail", "DELETE"): lambda w: ({"pk": w.strategy.id}, None),
    ("strategy-tree", "GET"): lambda w: ({"pk": w.strategy.id}, None),
    ("strategy-export", "GET"): lambda w: ({"pk": w.strategy.id}, None),
    ("node-list", "GET"): lambda w: ({}, None),
    ("node-list", "POST"): lambda w: (
        {},
        {
            "strategy": w.strategy.id,
            "kind": "mission_objective",
            "code": "1.3",
            "title": "Tourism grows",
            "parent": w.goal.id,
        },
    ),
    ("node-detail", "GET"): lambda w: ({"pk": w.goal.id}, None),
    ("node-detail", "PUT"): lambda w: (
        {"pk": w.goal.id},
        {
            "strategy": w.strategy.id,
            "kind": w.goal.kind,
            "code": w.goal.code,
            "parent": None,
            "title": "Shared prosperity",
        },
    ),
    ("node-detail", "PATCH"): lambda w: ({"pk": w.goal.id}, {"risks": "Tariff war."}),
    ("node-detail", "DELETE"): lambda w: ({"pk": w.leaf.id}, None),
    ("milestone-list", "GET"): lambda w: ({}, None),
    ("milestone-list", "POST"): lambda w: (
        {},
        {"node": w.objective.id, "title": "Trade mission visits", "due_on": "2025-03-31"},
    ),
    ("milestone-detail", "GET"): lambda w: ({"pk": w.milestone.id}, None),
    ("milestone-detail", "PUT"): lambda w: (
        {"pk": w.milestone.id},
        {"node": w.objective.id, "title": "Trade fair held twice", "due_on": "2024-09-30"},
    ),
    ("milestone-detail", "PATCH"): lambda w: ({"pk": w.milestone.id}, {"title": "Fair held"}),
    ("milestone-detail", "DELETE"): lambda w: ({"pk": w.milestone.id}, None),
    ("indicator-list", "GET"): lambda w: ({}, None),
    ("indicator-list", "POST"): lambda w: (
        {},
        {"node": w.objective.id, "name": "Firms assisted", "unit": "firms"},
    ),
    ("indicator-detail", "GET"): lambda w: ({"pk": w.indicator.id}, None),
    ("indicator-detail", "PUT"): lambda w: (
        {"pk": w.indicator.id},
        {"node": w.objective.id, "name": "Export value", "unit": "USD million"},
    ),
    ("indicator-detail", "PATCH"): lambda w: (
        {"pk": w.indicator.id},
        {"definition": "Goods exported, customs data."},
    ),
    ("indicator-detail", "DELETE"): lambda w: ({"pk": w.spare_indicator.id}, None),
    ("indicator-period-list", "GET"): lambda w: ({}, None),
    ("indicator-period-list", "POST"): lambda w: (
        {},
        {"indicator": w.indicator.id, "period_start": "2024-01-01", "actual": "6"},
    ),
    ("indicator-period-bulk", "POST"): lambda w: (
        {},
        [
            {"indicator": w.indicator.id, "period_start": "2024-01-01", "actual": "6"},
            {"indicator": w.indicator.id, "period_start": "2024-04-01", "actual": "7"},
        ],
    ),
    ("indicator-period-detail", "GET"): lambda w: ({"pk": w.period.id}, None),
    ("indicator-period-detail", "PATCH"): lambda w: ({"pk": w.period.id}, {"actual": "5"}),
    ("indicator-period-detail", "PUT"): lambda w: ({"pk": w.period.id}, {"actual": "5"}),
    ("indicator-period-detail", "DELETE"): lambda w: ({"pk": w.period.id}, None),
    ("note-list", "GET"): lambda w: ({}, None),
    ("note-list", "POST"): lambda w: (
        {},
        {
            "strategy": w.strategy.id,
            "title": "Tariff talks advance",
            "body": "Two rounds held.",
            "assessment": "on_track",
            "as_of": "2024-01-15",
            "nodes": [w.objective.id],
        },
    ),
    ("note-detail", "GET"): lambda w: ({"pk": w.submitted_note.id}, None),
    ("note-detail", "PUT"): lambda w: (
        {"pk": w.draft_note.id},
        {"title": "Tariff talks stall", "body": "No round since March."},
    ),
    ("note-detail", "PATCH"): lambda w: ({"pk": w.draft_note.id}, {"body": "One round held."}),
    ("note-detail", "DELETE"): lambda w: ({"pk": w.draft_note.id}, None),
    ("note-submit", "POST"): lambda w: ({"pk": w.draft_note.id}, None),
    ("note-approve", "POST"): lambda w: ({"pk": w.submitted_note.id}, {"comment": "Clear."}),
    ("note-return-note", "POST"): lambda w: (
        {"pk": w.submitted_note.id},
        {"comment": "Add the source of the figures."},
    ),
    ("note-sensitive", "POST"): lambda w: ({"pk": _approved_note(w).id}, {"sensitive": True}),
    ("report-list", "GET"): lambda w: ({}, None),
    ("report-list", "POST"): lambda w: ({}, {"strategy": w.strategy.id}),
    ("report-detail", "GET"): lambda w: ({"pk": _reports(w).report.id}, None),
    ("report-pdf", "GET"): lambda w: ({"pk": _reports(w).report.id}, None),
    ("report-xlsx", "GET"): lambda w: ({"pk": _reports(w).report.id}, None),
    ("subscription-list", "GET"): lambda w: ({}, None),
    ("subscription-list", "POST"): lambda w: ({}, {"strategy": w.strategy.id, "cadence": "weekly"}),
    ("subscription-detail", "GET"): lambda w: ({"pk": _reports(w).subscription.id}, None),
    ("subscription-detail", "PATCH"): lambda w: (
        {"pk": _reports(w).subscription.id},
        {"cadence": "quarterly"},
    ),
    ("subscription-detail", "DELETE"): lambda w: ({"pk": _reports(w).subscription.id}, None),
    ("analysis-list", "GET"): lambda w: ({}, None),
    ("analysis-list", "POST"): lambda w: (
        {},
        {
            "strategy": w.strategy.id,
            "title": "Port statement",
            "document_date": "2024-03-01",
            "text": "The port authority promises faster customs for exports.",
        },
    ),
    ("analysis-detail", "GET"): lambda w: ({"pk": _analysis(w).id}, None),
    ("analysis-detail", "PUT"): lambda w: ({"pk": _analysis(w).id}, {"title": "Tariff review"}),
    ("analysis-detail", "PATCH"): lambda w: ({"pk": _analysis(w).id}, {"author": "Trade desk"}),
    ("analysis-detail", "DELETE"): lambda w: ({"pk": _analysis(w).id}, None),
    ("analysis-links", "POST"): lambda w: ({"pk": _analysis(w).id}, {"nodes": [w.objective.id]}),
    ("analysis-unlink", "DELETE"): lambda w: ({"pk": _analysis(w).id, "node_id": w.goal.id}, None),
    ("analysis-suggest", "POST"): lambda w: (
        {},
        {"strategy": w.strategy.id, "text": "Exports grow when trade missions travel."},
    ),
}

# --- The routes of the URLconf --------------------------------------------------------


def test_every_api_route_and_method_is_in_the_table():
    missing = sorted(api_routes() - TABLE.keys())
    assert not missing, f"Say who may call these routes in TABLE (and REQUESTS): {missing}"


def test_the_table_names_only_routes_that_exist():
    gone = sorted(TABLE.keys() - api_routes())
    assert not gone, f"TABLE names routes the URLconf no longer has: {gone}"


def test_every_row_of_the_table_says_what_to_send():
    assert TABLE.keys() == REQUESTS.keys()


# --- The matrix -----------------------------------------------------------------------


def call(client, method: str, name: str, kwargs: dict, payload: Any):
    url = reverse(f"api:{name}", kwargs=kwargs)
    if method == "GET":
        return client.get(url, payload or {})
    return getattr(client, method.lower())(url, payload, format="json")


@contextmanager
def rolled_back() -> Iterator[None]:
    """Undo whatever happens inside, so each persona's request meets the same world."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _rows():
    for (name, method), expected in TABLE.items():
        yield pytest.param(name, method, expected, id=f"{method} {name}")


def _known_bugs():
    for (name, method, persona), reason in KNOWN_BUGS.items():
        yield pytest.param(
            name,
            method,
            persona,
            marks=pytest.mark.xfail(strict=True, reason=reason),
            id=f"{method} {name} as {persona}",
        )


def _mismatch(world: World, clients: dict, name: str, method: str, persona: str) -> str:
    """Nothing ("") when `persona` gets the status TABLE expects, else what differs."""
    expected = TABLE[(name, method)][persona]
    kwargs, payload = REQUESTS[(name, method)](world)
    with rolled_back():
        response = call(clients[persona], method, name, kwargs, payload)
    if response.status_code == expected:
        return ""
    return (
        f"{method} {name} {kwargs} as {persona}: expected {expected}, "
        f"got {response.status_code}: {response.content[:300]!r}"
    )


@pytest.mark.parametrize(("name", "method", "expected"), list(_rows()))
def test_authorization_matrix(world, name, method, expected):
    """One row of TABLE: each persona calls the route on the same fresh world (every
    request is rolled back afterwards); the cells of KNOWN_BUGS are left to the test below."""
    clients = {persona: world.client(persona) for persona in PERSONAS}
    mismatches = [
        _mismatch(world, clients, name, method, persona)
        for persona in expected
        if (name, method, persona) not in KNOWN_BUGS
    ]
    assert not any(mismatches), "\n".join(filter(None, mismatches))


if KNOWN_BUGS:  # defined only while there are some, so an empty list reports no skip

    @pytest.mark.parametrize(("name", "method", "persona"), list(_known_bugs()))
    def test_known_authorization_bugs(world, name, method, persona):
        clients = {persona: world.client(persona)}
        mismatch = _mismatch(world, clients, name, method, persona)
        assert not mismatch, mismatch


# --- Rules one cell per persona cannot show ---------------------------------------------


def _managers_own_submitted_note(world: World):
    return ProgressNoteFactory(
        strategy=world.strategy,
        author=world.personas.manager,
        nodes=[world.objective],
        state=NoteState.SUBMITTED,
        reviewed_by=None,
        approved_at=None,
    )


def test_a_manager_cannot_approve_their_own_note(world):
    own = _managers_own_submitted_note(world)
    url = reverse("api:note-approve", kwargs={"pk": own.id})
    response = world.client("manager").post(url, {"comment": "Fine by me."}, format="json")
    assert response.status_code == 403, response.content
    own.refresh_from_db()
    assert own.state == NoteState.SUBMITTED


def test_a_manager_cannot_return_their_own_note(world):
    own = _managers_own_submitted_note(world)
    url = reverse("api:note-return-note", kwargs={"pk": own.id})
    response = world.client("manager").post(url, {"comment": "Redo."}, format="json")
    assert response.status_code == 403, response.content
    own.refresh_from_db()
    assert own.state == NoteState.SUBMITTED


@pytest.mark.parametrize("persona", ["viewer", "analyst2", "manager", "admin"])
def test_drafts_of_others_are_not_listed_or_searched(world, persona):
    client = client_for(world.personas.by_role(persona))
    notes = client.get(reverse("api:note-list")).json()["results"]
    assert world.draft_note.id not in {note["id"] for note in notes}
    hits = client.get(reverse("api:search"), {"q": world.draft_note.title}).json()
    assert ("note", world.draft_note.id) not in {(hit["type"], hit["id"]) for hit in hits}


@pytest.mark.parametrize("persona", ["viewer", "manager"])
def test_the_export_shows_no_drafts_of_others(world, persona):
    url = reverse("api:strategy-export", kwargs={"pk": world.strategy.id})
    response = world.client(persona).get(url)
    assert response.status_code == 200
    exported = {(note["title"], note["author"]) for note in response.json()["notes"]}
    assert (world.submitted_note.title, "analyst2") in exported
    assert (world.draft_note.title, "analyst") not in exported


def test_another_analyst_cannot_see_or_touch_a_draft(world):
    client = client_for(world.personas.analyst2)
    url = reverse("api:note-detail", kwargs={"pk": world.draft_note.id})
    assert client.get(url).status_code == 404
    assert client.patch(url, {"body": "Mine now."}, format="json").status_code == 404
    submit = reverse("api:note-submit", kwargs={"pk": world.draft_note.id})
    assert client.post(submit).status_code == 404


def test_an_analyst_may_complete_a_milestone_but_not_reschedule_it(world):
    client = world.client("analyst")
    url = reverse("api:milestone-detail", kwargs={"pk": world.milestone.id})
    assert client.patch(url, {"due_on": "2025-01-31"}, format="json").status_code == 403
    response = client.patch(url, {"completed_on": "2024-06-15"}, format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("persona", "expected"), [("analyst", 403), ("manager", 201)])
def test_only_managers_set_targets(world, persona, expected):
    body = {"indicator": world.indicator.id, "period_start": "2024-01-01", "target": "12"}
    response = world.client(persona).post(reverse("api:indicator-period-list"), body, format="json")
    assert response.status_code == expected, response.content


def test_an_analyst_cannot_set_targets_in_bulk(world):
    rows = [{"indicator": world.indicator.id, "period_start": "2024-01-01", "target": "12"}]
    response = world.client("analyst").post(
        reverse("api:indicator-period-bulk"), rows, format="json"
    )
    assert response.status_code == 400
    assert "rows[1].target" in response.json()["fields"]


@pytest.mark.parametrize(
    "authorization", ["Token st_not-a-real-key", "Bearer ", "Basic dXNlcjpwYXNz"]
)
def test_a_bad_or_foreign_credential_is_not_a_session(world, authorization):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get(reverse("api:strategy-list"))
    assert response.status_code == 401, response.content
