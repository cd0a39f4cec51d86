"""Every way in writes history once, with the right author (issue #7, item 7).

One write through each entry point — a page form, the API, the ICS import, the JSON
import, the admin, a management command, a Celery task — and then the history tables
are read: each object that changed has exactly one new history row, written by the user
who acted (None for an operator's command or a signed e-mail link). Objects that did not
change get none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Max
from django.urls import reverse
from rest_framework.test import APIClient
from simple_history.models import registered_models

from strategy.models import Membership, Milestone, Mission, Node, Role, Strategy
from strategy.services import api_token_create, strategy_import
from tests.factories import IndicatorFactory, IndicatorPeriodFactory, MilestoneFactory
from tracking import tasks
from tracking.exports import strategy_export_json
from tracking.models import (
    Cadence,
    IndicatorPeriod,
    NoteLink,
    NoteSource,
    ProgressNote,
    Subscription,
)
from tracking.reports import services as reports
from tracking.services import note_create

TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)

DOCUMENT = """Integrated Country Strategy

Testland

FY 2027-2031

## 2. Mission Strategic Framework

**Mission Goal 1:** Expand two-way trade.

**Mission Objective 1.1:** Tariffs on our goods fall.

**Mission Objective 1.2:** More visitors come.
"""


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@dataclass
class NewHistory:
    """History rows written inside a `new_history()` block: (model, object id) → rows."""

    rows: dict[tuple[str, int], list] = field(default_factory=dict)

    def objects(self, model) -> set[int]:
        return {pk for name, pk in self.rows if name == model.__name__}

    def assert_once_each_by(self, user) -> None:
        """Every changed object has one new row, and every new row is `user`'s."""
        assert self.rows, "the write left no history at all"
        counts = Counter({key: len(rows) for key, rows in self.rows.items()})
        twice = {key: n for key, n in counts.items() if n != 1}
        assert not twice, f"objects with more than one new history row: {twice}"
        expected = user.pk if user is not None else None
        authors = {key: rows[0].history_user_id for key, rows in self.rows.items()}
        wrong = {key: who for key, who in authors.items() if who != expected}
        assert not wrong, f"history rows not by user {expected}: {wrong}"


def _historied() -> list:
    return sorted({m for m in registered_models.values()}, key=lambda m: m.__name__)


@contextmanager
def new_history() -> Iterator[NewHistory]:
    marks = {m: m.history.aggregate(top=Max("history_id"))["top"] or 0 for m in _historied()}
    found = NewHistory()
    yield found
    for model, mark in marks.items():
        pk_name = model._meta.pk.attname
        for row in model.history.filter(history_id__gt=mark).order_by("history_id"):
            found.rows.setdefault((model.__name__, getattr(row, pk_name)), []).append(row)


def api_as(user) -> APIClient:
    _, key = api_token_create(user=user, name="history paths")
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


# --- Pages ---------------------------------------------------------------------------------


def test_a_note_written_on_its_page_has_one_row_per_note_link_and_source_by_the_author(
    client, personas, tree
):
    client.force_login(personas.analyst)
    with new_history() as history:
        response = client.post(
            reverse("note-create", args=[tree.obj11.pk]),
            {
                "title": "Trade mission results",
                "assessment": "at_risk",
                "as_of": "2024-05-10",
                "body": "Two deals signed.",
                "justification": "",
                "sources": "https://example.org/report Customs report\nhttps://example.org/raw",
                "other_nodes": [tree.obj12.pk],
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    note = ProgressNote.objects.get()
    assert history.objects(ProgressNote) == {note.pk}
    assert history.objects(NoteLink) == set(NoteLink.objects.values_list("pk", flat=True))
    assert len(history.objects(NoteLink)) == 2
    assert len(history.objects(NoteSource)) == 2
    history.assert_once_each_by(personas.analyst)


def test_node_and_strategy_edit_pages_write_one_row_each_by_the_manager(client, personas, tree):
    client.force_login(personas.manager)
    node = tree.obj11
    with new_history() as history:
        response = client.post(
            reverse("node-edit", args=[node.pk]),
            {
                "title": "Exports grow fast",
                "owner": "",
                "description": "New text.",
                "justification": "",
                "risks": "",
                "linkages": "",
                "version": node.version,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(history.rows) == {("Node", node.pk)}
    history.assert_once_each_by(personas.manager)

    strategy = tree.strategy
    with new_history() as history:
        response = client.post(
            reverse("strategy-edit", args=[strategy.pk]),
            {
                "title": "Renamed strategy",
                "status": strategy.status,
                "period_start_fy": strategy.period_start_fy or "",
                "period_end_fy": strategy.period_end_fy or "",
                "approved_on": "",
                "reviewed_on": "",
                "freshness_days": strategy.freshness_days,
                "rollup": strategy.rollup,
                "com_priorities": strategy.com_priorities,
                "version": strategy.version,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(history.rows) == {("Strategy", strategy.pk)}
    history.assert_once_each_by(personas.manager)


def test_recording_a_value_on_the_node_page_writes_one_period_row_by_the_analyst(
    client, personas, tree
):
    indicator = IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")
    client.force_login(personas.analyst)
    with new_history() as history:
        response = client.post(
            reverse("indicator-record", args=[indicator.pk]),
            {"period": "2024-03-01", "actual": "7"},
        )
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    period = IndicatorPeriod.objects.get(indicator=indicator)
    assert set(history.rows) == {("IndicatorPeriod", period.pk)}
    history.assert_once_each_by(personas.analyst)


# --- API -----------------------------------------------------------------------------------


def test_api_note_update_writes_one_row_by_the_token_owner(personas, tree):
    note = note_create(
        strategy=tree.strategy,
        author=personas.analyst,
        title="Draft",
        body="Text.",
        assessment="on_track",
        as_of=dt.date(2024, 5, 1),
        nodes=[tree.obj11],
    )
    api = api_as(personas.analyst)
    url = f"/api/v1/notes/{note.pk}/"
    etag = api.get(url)["ETag"]
    with new_history() as history:
        response = api.patch(url, {"title": "Exports rose"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert set(history.rows) == {("ProgressNote", note.pk)}
    history.assert_once_each_by(personas.analyst)


def test_api_milestone_create_and_membership_change_write_one_row_each(personas, tree):
    api = api_as(personas.manager)
    with new_history() as history:
        response = api.post(
            "/api/v1/milestones/",
            {"node": tree.obj11.pk, "title": "Trade fair", "due_on": "2024-09-30"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert set(history.rows) == {("Milestone", response.json()["id"])}
    history.assert_once_each_by(personas.manager)

    admin_api = api_as(personas.admin)
    membership = Membership.objects.get(mission=personas.mission, user=personas.viewer)
    with new_history() as history:
        response = admin_api.patch(
            f"/api/v1/missions/{personas.mission.pk}/members/{personas.viewer.pk}/",
            {"role": Role.ANALYST},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert set(history.rows) == {("Membership", membership.pk)}
    history.assert_once_each_by(personas.admin)


def test_api_indicator_and_node_writes_write_one_row_each_by_the_manager(personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")
    api = api_as(personas.manager)
    url = f"/api/v1/indicators/{indicator.pk}/"
    etag = api.get(url)["ETag"]
    with new_history() as history:
        response = api.patch(url, {"name": "Visitors"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert set(history.rows) == {("Indicator", indicator.pk)}
    history.assert_once_each_by(personas.manager)

    with new_history() as history:
        response = api.post(
            "/api/v1/nodes/",
            {
                "strategy": tree.strategy.pk,
                "parent": tree.obj11.pk,
                "kind": "sub_objective",
                "code": "1.1.2",
                "title": "Trade fairs",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert set(history.rows) == {("Node", response.json()["id"])}
    history.assert_once_each_by(personas.manager)


def test_api_bulk_upload_writes_one_row_per_changed_period_and_none_for_unchanged(personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")
    same = IndicatorPeriodFactory(
        indicator=indicator, period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 1, 31),
        actual=5, target=None, comment="",
    )  # fmt: skip
    changed = IndicatorPeriodFactory(
        indicator=indicator, period_start=dt.date(2024, 2, 1), period_end=dt.date(2024, 2, 29),
        actual=1, target=None, comment="",
    )  # fmt: skip
    rows = [
        {"indicator": indicator.pk, "period_start": "2024-01-01", "actual": "5"},
        {"indicator": indicator.pk, "period_start": "2024-02-01", "actual": "6"},
        {"indicator": indicator.pk, "period_start": "2024-03-01", "actual": "7"},
        {"indicator": indicator.pk, "period_start": "2024-04-01", "actual": "8"},
    ]
    api = api_as(personas.analyst)
    with new_history() as history:
        response = api.post(
            "/api/v1/indicator-periods/bulk/", json.dumps(rows), content_type="application/json"
        )
    assert response.status_code in (200, 201), response.json()
    new = set(
        IndicatorPeriod.objects.filter(period_start__gte=dt.date(2024, 3, 1)).values_list(
            "pk", flat=True
        )
    )
    assert history.objects(IndicatorPeriod) == {changed.pk, *new}
    assert same.pk not in history.objects(IndicatorPeriod)
    assert set(history.rows) == {("IndicatorPeriod", pk) for pk in {changed.pk, *new}}
    history.assert_once_each_by(personas.analyst)


# --- Imports -------------------------------------------------------------------------------


def test_ics_import_writes_one_row_per_new_object_and_a_reimport_writes_none(personas):
    with new_history() as history:
        result = strategy_import(document=DOCUMENT, mission=personas.mission, by=personas.manager)
    strategy = Strategy.objects.get(pk=result.strategy.pk)
    nodes = set(Node.objects.filter(strategy=strategy).values_list("pk", flat=True))
    assert len(nodes) == 3
    assert history.objects(Strategy) == {strategy.pk}
    assert history.objects(Node) == nodes
    history.assert_once_each_by(personas.manager)

    with new_history() as again:
        strategy_import(document=DOCUMENT, mission=personas.mission, by=personas.manager)
    assert again.rows == {}, "re-importing the same document must change nothing"


def test_ics_import_command_attributes_its_rows_to_no_user(personas, tmp_path):
    path = tmp_path / "ics.md"
    path.write_text(DOCUMENT, encoding="utf-8")
    with new_history() as history:
        call_command("import_ics", str(path), "--mission", personas.mission.slug, "--json")
    assert len(history.objects(Node)) == 3
    assert len(history.objects(Strategy)) == 1
    history.assert_once_each_by(None)


def test_json_import_command_writes_one_row_per_restored_object_by_no_user(
    personas, tree, tmp_path
):
    indicator = IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")
    IndicatorPeriodFactory(
        indicator=indicator, period_start=dt.date(2024, 1, 1), period_end=dt.date(2024, 1, 31),
        actual=5,
    )  # fmt: skip
    MilestoneFactory(node=tree.obj11, title="Trade fair", due_on=dt.date(2024, 9, 30))
    note_create(
        strategy=tree.strategy,
        author=personas.analyst,
        title="Draft",
        body="Text.",
        assessment="on_track",
        as_of=dt.date(2024, 5, 1),
        nodes=[tree.obj11],
    )
    path = tmp_path / "strategy.json"
    path.write_text(json.dumps(strategy_export_json(strategy=tree.strategy), default=str))
    with new_history() as history:
        call_command("import_strategy_json", str(path), "--mission", "restored")
    mission = Mission.objects.get(slug="restored")
    strategy = Strategy.objects.get(mission=mission)
    assert history.objects(Mission) == {mission.pk}
    assert history.objects(Strategy) == {strategy.pk}
    assert history.objects(Node) == set(strategy.nodes.values_list("pk", flat=True))
    assert len(history.objects(Node)) == 7
    assert len(history.objects(Milestone)) == 1
    assert len(history.objects(IndicatorPeriod)) == 1
    assert len(history.objects(ProgressNote)) == 1
    history.assert_once_each_by(None)


# --- Admin ---------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser would post from the admin's change form, untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += (
                data.lstrip("\n") if not self.data[self._textarea][0] else data
            )


def admin_post(client, url: str, **changes):
    form = _FormFields()
    form.feed(client.get(url).content.decode())
    data = {k: v for k, v in form.data.items() if k != "csrfmiddlewaretoken"}
    data.update({k: [v] for k, v in changes.items()})
    data["_save"] = ["Save"]
    return client.post(url, data)


def test_admin_change_form_writes_one_row_by_the_superuser(client, personas, tree):
    client.force_login(personas.superuser)
    mission = personas.mission
    with new_history() as history:
        response = admin_post(
            client,
            reverse("admin:strategy_mission_change", args=[mission.pk]),
            name="Mission Testland (renamed)",
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(history.rows) == {("Mission", mission.pk)}
    history.assert_once_each_by(personas.superuser)

    milestone = MilestoneFactory(node=tree.obj11, title="Trade fair", due_on=dt.date(2024, 9, 30))
    with new_history() as history:
        response = admin_post(
            client,
            reverse("admin:strategy_milestone_change", args=[milestone.pk]),
            title="Trade fair in Lyon",
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(history.rows) == {("Milestone", milestone.pk)}
    history.assert_once_each_by(personas.superuser)


# --- Tasks, commands and the e-mail link ---------------------------------------------------


def test_report_tasks_and_commands_write_no_audited_rows(personas, tree, settings, tmp_path):
    """Reports, deliveries and reminders are work records, not audited content: the
    dispatcher, the reminder task and generate_report leave every history table alone."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sub = reports.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    Subscription.objects.filter(pk=sub.pk).update(created_at=TODAY - dt.timedelta(days=30))
    with new_history() as history:
        tasks.dispatch_reports()
        tasks.create_reminders()
        call_command("generate_report", str(tree.strategy.pk))
    assert history.rows == {}


def test_unsubscribing_through_the_signed_link_writes_one_row_by_no_user(client, personas, tree):
    sub = reports.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    token = reports.unsubscribe_token(sub)
    client.force_login(personas.manager)  # whoever follows the link, the row is the link's
    with new_history() as history:
        response = client.post(reverse("unsubscribe", args=[token]))
    assert response.status_code in (200, 302)
    sub.refresh_from_db()
    assert not sub.is_active
    assert set(history.rows) == {("Subscription", sub.pk)}
    history.assert_once_each_by(None)
