"""Exports: JSON that restores a strategy whole into an empty instance, and an ICS-shaped
Markdown document that reads back through the importer as "no change"."""

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from strategy.ics.parser import parse_ics
from strategy.ics.render import render_markdown
from strategy.models import Mission, NodeKind, Strategy
from strategy.services import strategy_import
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
)
from tracking import exports
from tracking.exports import FORMAT, strategy_export_json, strategy_import_json
from tracking.models import NoteSource, NoteState

# strategy_export_json, whatever the strategy's size: the mission (not loaded beforehand),
# nodes, milestones, indicators, periods, notes, note links, note sources, analyses,
# analysis links.
EXPORT_QUERIES = 10
# render_markdown: the mission (not loaded beforehand) and the nodes.
RENDER_QUERIES = 2

WHEN = datetime(2024, 2, 1, 9, 30, 15, 123456, tzinfo=UTC)


def load_demo() -> Strategy:
    call_command("load_demo", "--quiet", stdout=StringIO(), stderr=StringIO())
    return Strategy.objects.get(mission__slug="china")


def round_trip(data: dict) -> dict:
    """What a file or an HTTP response carries: JSON text, read back."""
    return json.loads(json.dumps(data))


def without(data: dict, *keys: str) -> dict:
    return {key: value for key, value in data.items() if key not in keys}


def row_counts() -> dict[str, int]:
    """Rows of every model, historical models included."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def small(personas, tree):
    """The small tree with something of every kind hanging off it: owners, a management
    sub-objective, a milestone, an indicator with two periods, and notes that are
    approved (with a source, linked twice), returned, and a draft superseding the first."""
    tree.obj11.owner = personas.analyst
    tree.obj11.justification = "Tariffs average 18 percent.\n\nThey fell last year."
    tree.obj11.risks = "Elections."
    tree.obj11.linkages = ["NSS Pillar 2"]
    tree.obj11.save()
    NodeFactory(
        parent=tree.mgmt1,
        kind=NodeKind.MANAGEMENT_SUB_OBJECTIVE,
        code="1.1",
        title="New chancery",
        justification="Leases end.",
    )
    MilestoneFactory(
        node=tree.mgmt1,
        title="Sign the lease",
        owner=personas.manager,
        completed_on=date(2024, 5, 2),
    )
    indicator = IndicatorFactory(
        node=tree.obj11,
        name="Exports",
        unit="USD million",
        baseline_value=Decimal("12.5"),
        baseline_date=date(2023, 9, 30),
        owner=personas.analyst,
    )
    IndicatorPeriodFactory(
        indicator=indicator,
        target=Decimal("13"),
        actual=Decimal("13.25"),
        recorded_by=personas.analyst,
        recorded_at=WHEN,
        comment="Good quarter.",
    )
    IndicatorPeriodFactory(
        indicator=indicator,
        period_start=date(2024, 1, 1),
        period_end=date(2024, 3, 31),
        target=Decimal("14"),
    )
    approved = ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        reviewed_by=personas.manager,
        submitted_at=WHEN,
        reviewed_at=WHEN,
        approved_at=WHEN,
        body="- Exports **up**.",
        body_html="<ul>\n<li>Exports <strong>up</strong>.</li>\n</ul>",
        nodes=[tree.obj11, tree.goal1],
    )
    NoteSource.objects.create(note=approved, url="https://example.org/trade", label="Trade data")
    ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst2,
        state=NoteState.RETURNED,
        reviewed_by=personas.manager2,
        reviewed_at=WHEN,
        approved_at=None,
        review_comment="Cite the figures.",
        assessment="at_risk",
        nodes=[tree.mgmt1],
    )
    ProgressNoteFactory(
        strategy=tree.strategy,
        author=personas.analyst,
        state=NoteState.DRAFT,
        reviewed_by=None,
        approved_at=None,
        supersedes=approved,
        nodes=[tree.obj11],
    )
    return tree.strategy


@pytest.fixture
def document(small) -> dict:
    return round_trip(strategy_export_json(strategy=small))


# --- JSON: the round trip ------------------------------------------------------------------


def test_demo_export_restores_into_an_empty_instance_unchanged(transactional_db):
    exported = round_trip(strategy_export_json(strategy=load_demo()))
    call_command("flush", "--noinput")
    assert not Strategy.objects.exists() and not get_user_model().objects.exists()

    restored = strategy_import_json(data=exported)

    again = round_trip(strategy_export_json(strategy=restored))
    assert without(again, "exported_at") == without(exported, "exported_at")
    # The comparison covers something of everything, and every workflow state.
    assert len(exported["nodes"]) == 17
    assert len(exported["milestones"]) == 11
    assert len(exported["indicators"]) == 19
    assert sum(len(i["periods"]) for i in exported["indicators"]) == 304
    assert {note["state"] for note in exported["notes"]} == set(NoteState.values)
    assert any(note["sources"] for note in exported["notes"])
    assert any(len(note["links"]) > 1 for note in exported["notes"])
    assert exported["strategy"]["status"] == Strategy.Status.APPROVED


def test_restore_creates_unknown_users_inactive_and_without_a_password(transactional_db):
    exported = round_trip(strategy_export_json(strategy=load_demo()))
    call_command("flush", "--noinput")

    strategy_import_json(data=exported)

    users = get_user_model().objects.all()
    assert {user.username for user in users} == {
        "demo-analyst",
        "demo-manager",
        "demo-manager2",
    }
    assert not any(user.is_active or user.has_usable_password() for user in users)


def test_small_strategy_round_trips_with_supersedes_owners_and_values(document):
    restored = strategy_import_json(data=document, mission_slug="restored")

    again = round_trip(strategy_export_json(strategy=restored))
    assert restored.mission.slug == "restored" and restored.mission.name == "Mission Testland"
    assert without(again, "exported_at", "mission") == without(document, "exported_at", "mission")
    draft = restored.notes.get(state=NoteState.DRAFT)
    assert draft.supersedes.state == NoteState.APPROVED
    assert draft.supersedes.strategy == restored


def test_export_writes_decimals_as_strings_dates_iso_and_users_by_username(document):
    indicator = document["indicators"][0]
    assert indicator["baseline_value"] == "12.5000"
    assert indicator["baseline_date"] == "2023-09-30"
    assert indicator["owner"] == "analyst"
    assert indicator["periods"][0] == {
        "period_start": "2023-10-01",
        "period_end": "2023-12-31",
        "target": "13.0000",
        "actual": "13.2500",
        "comment": "Good quarter.",
        "recorded_by": "analyst",
        "recorded_at": "2024-02-01T09:30:15.123456+00:00",
    }
    assert indicator["periods"][1]["actual"] is None
    approved, returned, draft = document["notes"]
    assert approved["links"] == [
        {"node_kind": "mission_objective", "node_code": "1.1", "is_primary": True},
        {"node_kind": "mission_goal", "node_code": "1", "is_primary": False},
    ]
    assert approved["sources"] == [{"url": "https://example.org/trade", "label": "Trade data"}]
    assert (approved["reviewed_by"], returned["reviewed_by"]) == ("manager", "manager2")
    assert (draft["supersedes"], approved["supersedes"]) == (0, None)
    sub = document["nodes"][-1]
    assert (sub["kind"], sub["code"], sub["parent_code"]) == (
        "management_sub_objective",
        "1.1",
        "1",
    )


def test_restore_writes_states_reviewers_and_timestamps_as_they_were(document, personas):
    restored = strategy_import_json(data=document, by=personas.superuser, mission_slug="restored")

    approved = restored.notes.get(state=NoteState.APPROVED)
    assert approved.reviewed_by == personas.manager
    assert approved.submitted_at == approved.reviewed_at == approved.approved_at == WHEN
    assert approved.body_html == "<ul>\n<li>Exports <strong>up</strong>.</li>\n</ul>"
    assert approved.version == 1
    returned = restored.notes.get(state=NoteState.RETURNED)
    assert returned.review_comment == "Cite the figures."
    assert returned.author == personas.analyst2
    # History says who restored, on every restored row.
    assert {h.history_user for h in approved.history.all()} == {personas.superuser}
    assert {
        h.history_user
        for h in restored.nodes.get(kind="mission_objective", code="1.1").history.all()
    } == {personas.superuser}


# --- JSON: what the import refuses ----------------------------------------------------------


def _set(path: list, value):
    def change(data: dict) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


REJECTIONS = [
    pytest.param(_set(["format"], "other-tool/2"), "format: is “other-tool/2”", id="format"),
    pytest.param(_set(["format"], KeyError), "format: is missing", id="no-format"),
    pytest.param(_set(["nodes"], KeyError), "nodes: is missing", id="no-nodes"),
    pytest.param(_set(["nodes", 2, "title"], KeyError), "nodes[2].title: is missing", id="title"),
    pytest.param(
        _set(["strategy", "freshness_days"], "ninety"),
        "strategy.freshness_days: must be a whole number",
        id="type",
    ),
    pytest.param(
        _set(["indicators", 0, "periods", 1, "period_start"], "2024-13-01"),
        "indicators[0].periods[1].period_start: “2024-13-01” is not a date",
        id="bad-date",
    ),
    pytest.param(
        _set(["notes", 0, "approved_at"], "yesterday"),
        "notes[0].approved_at: “yesterday” is not an ISO 8601 date-time",
        id="bad-datetime",
    ),
    pytest.param(
        _set(["nodes", 3, "parent_code"], "9"),
        "nodes[3].parent_code: there is no mission goal “9” in nodes",
        id="parent-missing",
    ),
    pytest.param(
        _set(["nodes", 3, "parent_code"], KeyError),
        "nodes[3].parent_code: a mission objective needs the code of its mission goal",
        id="parent-code-absent",
    ),
    pytest.param(
        _set(["nodes", 0, "kind"], "goal"),
        "nodes[0].kind: “goal” is not one of: mission_goal",
        id="unknown-kind",
    ),
    pytest.param(
        _set(["milestones", 0, "node_code"], "7"),
        "milestones[0].node_code: there is no management objective “7” in nodes",
        id="dangling-reference",
    ),
    pytest.param(
        _set(["notes", 2, "supersedes"], 2),
        "notes[2].supersedes: must be the index of an earlier note",
        id="supersedes-itself",
    ),
    pytest.param(
        _set(["notes", 0, "reviewed_by"], None),
        "notes[0].reviewed_by: an approved note needs its reviewer",
        id="approved-without-reviewer",
    ),
    pytest.param(
        _set(["indicators", 0, "direction"], "sideways"),
        "indicators[0].direction: Value 'sideways' is not a valid choice",
        id="model-choice",
    ),
    pytest.param(
        _set(["notes", 0, "sources", 0, "url"], "not a url"),
        "notes[0].sources[0].url: Enter a valid URL",
        id="model-url",
    ),
    pytest.param(
        _set(["nodes", 1, "owner"], "no spaces allowed"),
        "nodes[1].owner: “no spaces allowed” is not a valid username",
        id="username",
    ),
    pytest.param(_set(["nodes", 1, "colour"], "red"), "nodes[1].colour: is not a key", id="key"),
]


@pytest.mark.parametrize(("change", "message"), REJECTIONS)
def test_import_rejects_a_broken_document_naming_the_place_and_writes_nothing(
    document, change, message
):
    change(document)
    before = row_counts()

    with pytest.raises(ValidationError) as caught:
        strategy_import_json(data=document, mission_slug="restored")

    assert any(text.startswith(message) for text in caught.value.messages), caught.value.messages
    assert row_counts() == before


def test_import_lists_every_problem_at_once(document):
    document["nodes"][0]["kind"] = "goal"
    document["indicators"][0]["periods"][0]["target"] = True

    with pytest.raises(ValidationError) as caught:
        strategy_import_json(data=document, mission_slug="restored")

    assert [m.split(":")[0] for m in caught.value.messages] == [
        "nodes[0].kind",
        "indicators[0].periods[0].target",
    ]


def test_import_refuses_a_mission_that_already_has_the_strategy(document, small):
    before = row_counts()

    with pytest.raises(ValidationError, match=r"strategy\.title: mission “testland” already has"):
        strategy_import_json(data=document)

    assert row_counts() == before


def test_a_failure_while_writing_leaves_nothing_behind(document, monkeypatch):
    save = exports._save

    def failing_save(row, by):
        if isinstance(row, NoteSource):
            raise IntegrityError("simulated failure")
        save(row, by)

    monkeypatch.setattr(exports, "_save", failing_save)
    document["nodes"][0]["owner"] = "someone-new"
    before = row_counts()

    with pytest.raises(ValidationError, match="breaks a database rule"):
        strategy_import_json(data=document, mission_slug="restored")

    assert row_counts() == before
    assert not Mission.objects.filter(slug="restored").exists()


def test_only_a_superuser_may_restore_into_a_new_mission(document, personas):
    with pytest.raises(PermissionDenied):
        strategy_import_json(data=document, by=personas.manager, mission_slug="restored")
    assert not Mission.objects.filter(slug="restored").exists()


# --- Markdown ------------------------------------------------------------------------------


def test_rendered_demo_reads_back_to_the_same_tree(db):
    strategy = load_demo()

    doc = parse_ics(render_markdown(strategy=strategy))

    assert doc.discrepancies == [] and doc.warnings == []
    assert (doc.approved_on, doc.reviewed_on) == (strategy.approved_on, strategy.reviewed_on)
    assert (doc.period_start_fy, doc.period_end_fy) == (2024, 2027)
    assert (doc.mission_name, doc.strategy_kind) == ("China", "ics")
    assert doc.com_priorities == strategy.com_priorities
    fields = ("kind", "code", "title", "description", "justification", "risks")
    parsed = [tuple(getattr(item, name) for name in fields) for item in doc.items()]
    stored = [tuple(getattr(node, name) for name in fields) for node in strategy.nodes.all()]
    assert parsed == stored
    assert len(stored) == 17


def test_rendered_demo_reimports_into_its_strategy_as_no_change(db):
    strategy = load_demo()

    result = strategy_import(
        document=render_markdown(strategy=strategy), strategy=strategy, dry_run=True, by=None
    )

    assert (result.created, result.updated, result.removed) == ([], [], [])
    assert result.unchanged == 17


def test_render_escapes_titles_and_keeps_narrative_paragraphs(tree):
    tree.goal1.title = "Trade *and* invest_ment with <b>partners</b>, R&amp;D [x](y) \\ `z`"
    tree.goal1.description = "First paragraph.\n\nSecond paragraph\nwith a line break."
    tree.goal1.save()
    tree.obj21.risks = "- Elections.\n\n- Weather."
    tree.obj21.save()
    NodeFactory(
        parent=tree.mgmt1,
        kind=NodeKind.MANAGEMENT_SUB_OBJECTIVE,
        code="1.1",
        title="New chancery",
        justification="Leases end.",
        risks="Permits.",
    )
    NodeFactory(strategy=tree.strategy, code="10", title="Tenth goal")

    text = render_markdown(strategy=tree.strategy)

    assert "**Mission Goal 1:** Trade \\*and\\* invest\\_ment with \\<b\\>partners" in text
    assert "\n#### **Management Sub-Objective 1.1: New chancery**\n" in text
    assert "**Risks:**\n\n- Elections." in text
    doc = parse_ics(text)
    assert doc.discrepancies == []
    fields = ("kind", "code", "title", "description", "justification", "risks")
    parsed = [tuple(getattr(item, name) for name in fields) for item in doc.items()]
    stored = [tuple(getattr(node, name) for name in fields) for node in tree.strategy.nodes.all()]
    # The parser unwraps a paragraph's hard line break into a space.
    stored[0] = (*stored[0][:3], "First paragraph.\n\nSecond paragraph with a line break.", "", "")
    assert parsed == stored


# --- Query counts --------------------------------------------------------------------------


def test_exports_run_the_same_queries_for_a_small_and_the_demo_strategy(
    small, django_assert_num_queries
):
    demo = load_demo()
    for pk in (small.pk, demo.pk):
        strategy = Strategy.objects.get(pk=pk)
        with django_assert_num_queries(EXPORT_QUERIES):
            strategy_export_json(strategy=strategy)
        strategy = Strategy.objects.get(pk=pk)
        with django_assert_num_queries(RENDER_QUERIES):
            render_markdown(strategy=strategy)


# --- Commands ------------------------------------------------------------------------------


def test_export_and_import_commands_round_trip_through_a_file(small, tmp_path):
    path = tmp_path / "export.json"
    call_command("export_strategy", str(small.pk), "--output", str(path), stderr=StringIO())
    out = StringIO()

    call_command("import_strategy_json", str(path), "--mission", "copy", stdout=out)

    restored = Strategy.objects.get(mission__slug="copy")
    assert f"strategy id {restored.pk}" in out.getvalue()
    assert without(strategy_export_json(strategy=restored), "exported_at", "mission") == without(
        json.loads(path.read_text()), "exported_at", "mission"
    )


def test_export_command_prints_markdown(small):
    out = StringIO()

    call_command("export_strategy", str(small.pk), "--format", "md", stdout=out)

    assert out.getvalue() == render_markdown(strategy=small)


def test_import_command_reports_problems_and_bad_json(document, tmp_path):
    broken = copy.deepcopy(document)
    broken["nodes"][0]["kind"] = "goal"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(CommandError, match=r"nothing was written:\n  nodes\[0\]\.kind"):
        call_command("import_strategy_json", str(path), "--mission", "copy")

    path.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("import_strategy_json", str(path))


def test_export_format_marker_is_versioned(document):
    assert document["format"] == FORMAT == "strategy-tracker/1"


# --- JSON: the sensitive flags ----------------------------------------------------------------


def test_sensitive_flags_round_trip_and_default_to_false_when_absent(small, tree):
    small.com_priorities_sensitive = True
    small.save()
    tree.obj11.justification_sensitive = tree.obj11.risks_sensitive = True
    tree.obj11.save()
    small.notes.filter(state=NoteState.APPROVED).update(is_sensitive=True)
    document = round_trip(strategy_export_json(strategy=small))
    assert document["strategy"]["com_priorities_sensitive"] is True
    obj11 = next(node for node in document["nodes"] if node["code"] == "1.1")
    assert (
        obj11["description_sensitive"],
        obj11["justification_sensitive"],
        obj11["risks_sensitive"],
    ) == (False, True, True)
    assert [note["is_sensitive"] for note in document["notes"]] == [True, False, False]

    restored = strategy_import_json(data=document, mission_slug="restored")
    again = round_trip(strategy_export_json(strategy=restored))
    assert without(again, "exported_at", "mission") == without(document, "exported_at", "mission")
    assert restored.com_priorities_sensitive
    assert restored.notes.get(state=NoteState.APPROVED).is_sensitive

    # A document written before the flags existed reads as "nothing is sensitive".
    older = copy.deepcopy(document)
    del older["strategy"]["com_priorities_sensitive"]
    for node in older["nodes"]:
        for flag in ("description_sensitive", "justification_sensitive", "risks_sensitive"):
            del node[flag]
    for note in older["notes"]:
        del note["is_sensitive"]
    older["strategy"]["title"] = "An older export"
    restored = strategy_import_json(data=older, mission_slug="older")
    assert not restored.com_priorities_sensitive
    assert not restored.nodes.filter(justification_sensitive=True).exists()
    assert not restored.notes.filter(is_sensitive=True).exists()


def test_a_sensitive_flag_must_be_true_or_false(document):
    document["nodes"][0]["risks_sensitive"] = "yes"
    document["notes"][0]["is_sensitive"] = None
    with pytest.raises(ValidationError) as caught:
        strategy_import_json(data=document, mission_slug="restored")
    assert caught.value.messages == [
        "nodes[0].risks_sensitive: must be true or false, not a string.",
        "notes[0].is_sensitive: must be true or false, not null.",
    ]
