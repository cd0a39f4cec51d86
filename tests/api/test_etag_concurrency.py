"""Optimistic concurrency over HTTP (SPEC §5): every mutable resource returns an ETag, and
a write sent with a stale `If-Match` gets 412 and changes nothing.

The story of two tools editing one note comes first, then every resource's ETags, then
deletes, then twenty writers racing on PostgreSQL (SQLite serialises writers with BEGIN
IMMEDIATE, so a race there proves nothing about row locks).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date
from functools import partial

import pytest
from django.db import connection, transaction
from django.db.models import F
from rest_framework.test import APIClient

from strategy.models import Milestone, Mission, Node, Strategy
from strategy.services import api_token_create
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
)
from tracking.models import Indicator, IndicatorPeriod, NoteState, ProgressNote

pytestmark = pytest.mark.django_db


def _client(user, name: str = "a tool"):
    """An API client carrying a real token of `user` (each call: a new token)."""
    _, key = api_token_create(user=user, name=name)
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


@pytest.fixture
def draft(personas, tree) -> ProgressNote:
    """A draft by the analyst: the only kind of note its author may still edit."""
    return ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        state=NoteState.DRAFT,
        reviewed_by=None,
        approved_at=None,
        title="Exports rose",
        nodes=[tree.obj11],
    )


def _note_url(note) -> str:
    return f"/api/v1/notes/{note.id}/"


# --- Two tools, one note -----------------------------------------------------------------


def test_the_second_of_two_writers_with_the_same_etag_gets_412_and_changes_nothing(personas, draft):
    a = _client(personas.analyst, "laptop")
    b = _client(personas.analyst, "phone")
    url = _note_url(draft)
    etag = a.get(url)["ETag"]
    assert b.get(url)["ETag"] == etag

    first = a.patch(url, {"title": "Exports rose 4 %"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200, first.content
    assert first["ETag"] != etag
    assert first["ETag"] == a.get(url)["ETag"]

    second = b.patch(url, {"title": "Exports fell"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412, second.content
    assert second.json()["code"] == "precondition_failed"
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("Exports rose 4 %", 2)

    # B reads again and writes on top of A's change.
    fresh = b.get(url)
    assert fresh.json()["title"] == "Exports rose 4 %"
    third = b.patch(url, {"title": "Exports fell"}, format="json", HTTP_IF_MATCH=fresh["ETag"])
    assert third.status_code == 200, third.content


def test_a_write_without_if_match_is_unconditional(personas, draft):
    client = _client(personas.analyst)
    draft.version = 7  # whatever the version, no precondition is checked
    ProgressNote.objects.filter(pk=draft.pk).update(version=7)
    response = client.patch(_note_url(draft), {"title": "Blind write"}, format="json")
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"progressnote-{draft.pk}-v8"'


def test_if_match_star_matches_any_version(personas, draft):
    client = _client(personas.analyst)
    response = client.patch(
        _note_url(draft), {"title": "Star write"}, format="json", HTTP_IF_MATCH="*"
    )
    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.title == "Star write"


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        '"garbage"',
        '"progressnote-1-vX"',
        "W/",
        '"milestone-{pk}-v1"',  # another kind of object's tag
        '"progressnote-{pk}-v-1"',
        '"progressnote-{pk}-v99999999999999999999999"',
        '"progressnote-{pk}-v1", "progressnote-{pk}-v2"',  # a list of tags is not supported
        "",
    ],
)
def test_an_if_match_that_is_not_this_objects_current_tag_gets_412(personas, draft, header):
    client = _client(personas.analyst)
    response = client.patch(
        _note_url(draft),
        {"title": "Should not land"},
        format="json",
        HTTP_IF_MATCH=header.format(pk=draft.pk),
    )
    assert response.status_code == 412, response.content
    draft.refresh_from_db()
    assert (draft.title, draft.version) == ("Exports rose", 1)


def test_a_weak_form_of_the_current_tag_matches(personas, draft):
    client = _client(personas.analyst)
    etag = client.get(_note_url(draft))["ETag"]
    response = client.patch(
        _note_url(draft), {"title": "Weakly matched"}, format="json", HTTP_IF_MATCH=f"W/{etag}"
    )
    assert response.status_code == 200, response.content


# --- Every mutable resource ------------------------------------------------------------


@dataclass
class Resource:
    """How to create, read and change one kind of object, and as whom."""

    name: str
    model: type
    writer: str  # persona allowed to create and change it
    create: dict
    change: dict
    field: str  # a field `change` sets, to check nothing moved after a 412


def _resources(personas, tree) -> dict[str, tuple[Resource, object]]:
    """Each resource with an existing object of it."""
    indicator = IndicatorFactory(node=tree.obj11, name="Exports", frequency="quarterly")
    period = IndicatorPeriodFactory(
        indicator=indicator, period_start=date(2023, 10, 1), period_end=date(2023, 12, 31)
    )
    note = ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        state=NoteState.DRAFT,
        reviewed_by=None,
        approved_at=None,
        nodes=[tree.obj11],
    )
    return {
        "missions": (
            Resource(
                "missions",
                Mission,
                "admin",
                {"name": "Mission Newland", "country": "Newland", "slug": "newland"},
                {"country": "Testland (North)"},
                "country",
            ),
            personas.mission,
        ),
        "strategies": (
            Resource(
                "strategies",
                Strategy,
                "manager",
                {
                    "mission": personas.mission.id,
                    "title": "Integrated Country Strategy 2026",
                    "period_start_fy": 2026,
                    "period_end_fy": 2030,
                },
                {"title": "ICS 2022–2026 (revised)"},
                "title",
            ),
            tree.strategy,
        ),
        "nodes": (
            Resource(
                "nodes",
                Node,
                "manager",
                {
                    "strategy": tree.strategy.id,
                    "kind": "mission_goal",
                    "code": "3",
                    "title": "Health",
                },
                {"title": "Shared prosperity"},
                "title",
            ),
            tree.goal1,
        ),
        "milestones": (
            Resource(
                "milestones",
                Milestone,
                "manager",
                {"node": tree.obj11.id, "title": "Trade fair", "due_on": "2024-05-01"},
                {"title": "Trade fair in Lagos"},
                "title",
            ),
            MilestoneFactory(node=tree.obj11),
        ),
        "indicators": (
            Resource(
                "indicators",
                Indicator,
                "manager",
                {"node": tree.obj12.id, "name": "Investment (USD million)"},
                {"name": "Exports (USD million)"},
                "name",
            ),
            indicator,
        ),
        "indicator-periods": (
            Resource(
                "indicator-periods",
                IndicatorPeriod,
                "manager",
                {"indicator": indicator.id, "period_start": "2024-01-01", "target": "12"},
                {"target": "11.5000"},
                "target",
            ),
            period,
        ),
        "notes": (
            Resource(
                "notes",
                ProgressNote,
                "analyst",
                {
                    "strategy": tree.strategy.id,
                    "title": "Investment steady",
                    "assessment": "on_track",
                    "as_of": "2024-01-15",
                    "nodes": [tree.obj12.id],
                },
                {"title": "Exports rose"},
                "title",
            ),
            note,
        ),
    }


RESOURCES = [
    "missions",
    "strategies",
    "nodes",
    "milestones",
    "indicators",
    "indicator-periods",
    "notes",
]


def _tag(model, pk: int, version: int) -> str:
    return f'"{model._meta.model_name}-{pk}-v{version}"'


@pytest.mark.parametrize("name", RESOURCES)
def test_every_mutable_resource_returns_its_etag_on_read_create_and_change(personas, tree, name):
    resource, obj = _resources(personas, tree)[name]
    client = _client(personas.by_role(resource.writer))
    url = f"/api/v1/{name}/{obj.pk}/"

    read = client.get(url)
    assert read.status_code == 200, read.content
    assert read["ETag"] == _tag(resource.model, obj.pk, obj.version)

    creator = _client(personas.superuser) if name == "missions" else client
    created = creator.post(f"/api/v1/{name}/", resource.create, format="json")
    assert created.status_code == 201, created.content
    assert created["ETag"] == _tag(resource.model, created.json()["id"], 1)

    changed = client.patch(url, resource.change, format="json", HTTP_IF_MATCH=read["ETag"])
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == _tag(resource.model, obj.pk, obj.version + 1)
    assert client.get(url)["ETag"] == changed["ETag"]


@pytest.mark.parametrize("name", RESOURCES)
def test_every_mutable_resource_refuses_a_stale_if_match_and_keeps_its_values(personas, tree, name):
    resource, obj = _resources(personas, tree)[name]
    client = _client(personas.by_role(resource.writer))
    url = f"/api/v1/{name}/{obj.pk}/"
    stale = _tag(resource.model, obj.pk, obj.version)
    resource.model.objects.filter(pk=obj.pk).update(version=obj.version + 1)  # someone wrote
    before = getattr(resource.model.objects.get(pk=obj.pk), resource.field)

    response = client.patch(url, resource.change, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412, response.content
    assert "ETag" not in response
    after = resource.model.objects.get(pk=obj.pk)
    assert (getattr(after, resource.field), after.version) == (before, obj.version + 1)


# --- Deletes ---------------------------------------------------------------------------


def _deletable(personas, tree, name):
    """(writer, object) of each resource the API deletes."""
    if name == "nodes":
        return personas.manager, NodeFactory(strategy=tree.strategy, code="9", title="Spare")
    if name == "milestones":
        return personas.manager, MilestoneFactory(node=tree.obj11)
    if name == "indicators":
        return personas.manager, IndicatorFactory(node=tree.obj11)
    return personas.analyst, ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        state=NoteState.DRAFT,
        reviewed_by=None,
        approved_at=None,
        nodes=[tree.obj11],
    )


@pytest.mark.parametrize("name", ["nodes", "milestones", "indicators", "notes"])
def test_a_delete_with_a_stale_if_match_gets_412_and_deletes_nothing(personas, tree, name):
    writer, obj = _deletable(personas, tree, name)
    client = _client(writer)
    url = f"/api/v1/{name}/{obj.pk}/"
    stale = client.get(url)["ETag"]
    type(obj).objects.filter(pk=obj.pk).update(version=obj.version + 1)

    refused = client.delete(url, HTTP_IF_MATCH=stale)
    assert refused.status_code == 412, refused.content
    assert type(obj).objects.filter(pk=obj.pk).exists()

    current = client.get(url)["ETag"]
    assert client.delete(url, HTTP_IF_MATCH=current).status_code == 204
    assert not type(obj).objects.filter(pk=obj.pk).exists()


# --- Racing writers (PostgreSQL) ------------------------------------------------------------

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks: SQLite serialises every writer, so nothing races",
)
WRITERS = 20


def _in_thread(target) -> tuple[threading.Thread, list]:
    """Run `target()` in a thread with its own connection; the list gets its result."""
    out: list = []

    def run() -> None:
        try:
            out.append(target())
        except BaseException as exc:  # reported by the caller, not lost in the thread
            out.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _wait_until_a_query_waits_for_a_lock(timeout: float = 10) -> None:
    with connection.cursor() as cursor:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the request never waited for the row lock")


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "method",
    ["PATCH", "DELETE"],
)
def test_a_write_that_waited_for_a_concurrent_one_rechecks_if_match(personas, draft, method):
    """The other writer holds the note's row lock when this request reads the note, and
    commits a change while this request waits: the If-Match this request carries was
    current when it arrived but is stale when it may write, so 412."""
    client = _client(personas.analyst)
    url = _note_url(draft)
    etag = client.get(url)["ETag"]
    with transaction.atomic():
        ProgressNote.objects.select_for_update().get(pk=draft.pk)
        send = {
            "PATCH": partial(
                client.patch, url, {"title": "Late"}, format="json", HTTP_IF_MATCH=etag
            ),
            "DELETE": partial(client.delete, url, HTTP_IF_MATCH=etag),
        }[method]
        thread, out = _in_thread(send)
        _wait_until_a_query_waits_for_a_lock()
        ProgressNote.objects.filter(pk=draft.pk).update(
            title="Changed meanwhile", version=F("version") + 1
        )
    thread.join(timeout=30)
    assert out and not isinstance(out[0], BaseException), out
    assert out[0].status_code == 412, out[0].content
    assert ProgressNote.objects.get(pk=draft.pk).title == "Changed meanwhile"


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_of_twenty_concurrent_writers_with_one_etag_exactly_one_wins(personas, draft):
    url = _note_url(draft)
    clients = [_client(personas.analyst, f"tool {i}") for i in range(WRITERS)]
    etag = clients[0].get(url)["ETag"]
    history_before = draft.history.count()
    start = threading.Barrier(WRITERS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            start.wait(timeout=30)
            response = clients[i].patch(
                url, {"title": f"Writer {i} was here"}, format="json", HTTP_IF_MATCH=etag
            )
            statuses.append(response.status_code)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
    draft.refresh_from_db()
    assert draft.version == 2
    assert draft.title.startswith("Writer ")
    assert draft.history.count() == history_before + 1


UPSERTERS = 50


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_records_of_one_indicator_period_leave_one_row(personas, tree):
    """Fifty tools record the same (indicator, period) at once, none knowing the row: the
    upsert makes one row, every request succeeds (201 for the first, 200 after), and the
    stored value is one of those sent."""
    indicator = IndicatorFactory(node=tree.obj11, frequency="quarterly")
    clients = [_client(personas.analyst, f"pipeline {i}") for i in range(UPSERTERS)]
    start = threading.Barrier(UPSERTERS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def record(i: int) -> None:
        try:
            start.wait(timeout=30)
            response = clients[i].post(
                "/api/v1/indicator-periods/",
                {"indicator": indicator.id, "period_start": "2024-10-01", "actual": str(i)},
                format="json",
            )
            statuses.append(response.status_code)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(UPSERTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    assert len(statuses) == UPSERTERS
    assert set(statuses) <= {200, 201}, sorted(statuses)
    rows = IndicatorPeriod.objects.filter(indicator=indicator, period_start=date(2024, 10, 1))
    assert rows.count() == 1
    assert 0 <= int(rows.get().actual) < UPSERTERS
