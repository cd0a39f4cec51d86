"""strategy_import and `manage.py import_ics`: dry run, idempotence, revisions in place."""

import json
import os
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from strategy.models import Mission, Node, Strategy
from strategy.services import strategy_import
from tests.factories import IndicatorFactory, ProgressNoteFactory
from tracking.models import NoteLink

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "ics-china.txt"

DOC = """Integrated Country Strategy

Freedonia

FY 2023-2027

**Table of Contents**

1. Chief of Mission Priorities ..... 2
2. Mission Strategic Framework ..... 3

## 1. Chief of Mission Priorities

We will deepen trade ties and keep our people safe.

## 2. Mission Strategic Framework

**Mission Goal 1:** Expand two-way trade.

**Mission Objective 1.1:** Freedonian tariffs on U.S. goods fall.

**Mission Objective 1.2:** U.S. firms win public tenders.

**Mission Goal 2:** Keep U.S. citizens safe.

**Mission Objective 2.1:** Consular cases are resolved quickly.

**Management Objective 1:** Modernise the chancery.

## 3. Mission Goals and Objectives

**Mission Goal 1: Expand two-way trade.**

**Description and Linkages:** Supports NSS Pillar 2.

**Mission Objective 1.1: Freedonian tariffs on U.S. goods fall.**

**Justification:** Tariffs average 18 percent.

**Mission Objective 1.2: U.S. firms win public tenders.**

**Justification:** Tenders favour local firms.

**Mission Goal 2: Keep U.S. citizens safe.**

**Description and Linkages:** Protects Americans abroad.

**Mission Objective 2.1: Consular cases are resolved quickly.**

**Justification:** Arrests are reported late.

Originally Approved: May 2023

## 4. Management Objectives

**Management Objective 1: Modernise the chancery.**

**Justification:** The building is fifty years old.
"""


def revised(doc: str) -> str:
    """The same strategy a year on: 1.1 reworded, 1.2 dropped, 2.2 added, reviewed date."""
    return (
        doc.replace(
            "Freedonian tariffs on U.S. goods fall.",
            "Freedonian tariffs and quotas on U.S. goods fall.",
        )
        .replace("**Mission Objective 1.2:** U.S. firms win public tenders.\n\n", "")
        .replace(
            "**Mission Objective 1.2: U.S. firms win public tenders.**\n\n**Justification:** Tenders favour local firms.\n\n",
            "",
        )
        .replace(
            "**Management Objective 1:** Modernise",
            "**Mission Objective 2.2:** Visa waits shorten.\n\n**Management Objective 1:** Modernise",
        )
        .replace(
            "Originally Approved: May 2023",
            "**Mission Objective 2.2: Visa waits shorten.**\n\n**Justification:** Waits exceed 90 days.\n\n"
            "Originally Approved: May 2023\nReviewed and Updated: June 12, 2024",
        )
    )


def codes(strategy):
    return sorted((n.kind, n.code) for n in Node.objects.filter(strategy=strategy))


def test_import_creates_the_mission_strategy_and_tree(personas):
    result = strategy_import(document=DOC, by=None)
    strategy = result.strategy
    assert (strategy.mission.slug, strategy.period_start_fy, strategy.period_end_fy) == (
        "freedonia",
        2023,
        2027,
    )
    assert strategy.approved_on == date(2023, 5, 1)
    assert "deepen trade ties" in strategy.com_priorities
    assert codes(strategy) == [
        ("management_objective", "1"), ("mission_goal", "1"), ("mission_goal", "2"),
        ("mission_objective", "1.1"), ("mission_objective", "1.2"), ("mission_objective", "2.1"),
    ]  # fmt: skip
    assert Node.objects.get(strategy=strategy, code="1.1").parent.code == "1"


def test_dry_run_reports_everything_and_writes_nothing(personas):
    before = (
        Mission.objects.count(),
        Strategy.objects.count(),
        Node.objects.count(),
        Node.history.count(),
    )
    result = strategy_import(document=DOC, dry_run=True, by=None)
    assert result.dry_run and result.mission_created and len(result.created) == 6
    assert result.to_dict()["counts"]["mission_objective"] == 3
    assert (
        Mission.objects.count(),
        Strategy.objects.count(),
        Node.objects.count(),
        Node.history.count(),
    ) == before


def test_reimporting_the_same_document_changes_nothing(personas):
    first = strategy_import(document=DOC, by=None)
    history = (Node.history.count(), Strategy.history.count())
    again = strategy_import(document=DOC, by=None)
    assert again.strategy == first.strategy
    assert not again.changed_anything and again.unchanged == 6
    assert (Node.history.count(), Strategy.history.count()) == history


def test_revised_document_updates_in_place_and_keeps_data_on_surviving_codes(personas):
    strategy = strategy_import(document=DOC, by=None).strategy
    obj11 = Node.objects.get(strategy=strategy, code="1.1")
    indicator = IndicatorFactory(node=obj11)
    note = ProgressNoteFactory(strategy=strategy, nodes=[obj11])
    result = strategy_import(document=revised(DOC), by=None)
    assert result.strategy == strategy
    assert result.updated == ["Mission Objective 1.1"]
    assert result.created == ["Mission Objective 2.2"]
    assert result.removed == ["Mission Objective 1.2"]
    obj11.refresh_from_db()
    assert obj11.title == "Freedonian tariffs and quotas on U.S. goods fall."
    assert indicator.node_id == obj11.id and NoteLink.objects.get(note=note).node_id == obj11.id
    strategy.refresh_from_db()
    assert strategy.reviewed_on == date(2024, 6, 12)


def test_nodes_gone_from_the_document_but_carrying_notes_are_kept(personas):
    strategy = strategy_import(document=DOC, by=None).strategy
    obj12 = Node.objects.get(strategy=strategy, code="1.2")
    ProgressNoteFactory(strategy=strategy, nodes=[obj12])
    result = strategy_import(document=revised(DOC), by=None)
    assert result.kept == ["Mission Objective 1.2"] and result.removed == []
    assert Node.objects.filter(pk=obj12.pk).exists()


def test_only_managers_of_the_mission_import(personas):
    mission = personas.mission
    with pytest.raises(PermissionDenied):
        strategy_import(document=DOC, mission=mission, by=personas.analyst)
    with pytest.raises(PermissionDenied):
        strategy_import(document=DOC, mission=mission, by=personas.outsider)
    assert not Strategy.objects.filter(mission=mission).exists()
    assert (
        strategy_import(document=DOC, mission=mission, by=personas.manager).strategy.mission
        == mission
    )


def test_a_document_with_no_strategy_in_it_is_refused(personas):
    with pytest.raises(ValidationError, match="Nothing to import"):
        strategy_import(document="Minutes of the staff meeting.\n\nNothing to see.", by=None)


def test_import_history_rows_carry_the_importing_user(personas):
    strategy = strategy_import(document=DOC, mission=personas.mission, by=personas.manager).strategy
    users = set(
        Node.history.filter(strategy_id=strategy.id).values_list(
            "history_user__username", flat=True
        )
    )
    assert users == {"manager"}


# --- The command -----------------------------------------------------------------------


def run_command(*args) -> str:
    out = StringIO()
    call_command("import_ics", *args, stdout=out)
    return out.getvalue()


def test_command_json_dry_run(tmp_path, db):
    path = tmp_path / "freedonia.md"
    path.write_text(DOC, encoding="utf-8")
    data = json.loads(run_command(str(path), "--dry-run", "--json"))
    assert data["mission_name"] == "Freedonia"
    assert data["counts"]["mission_goal"] == 2 and data["dry_run"] is True
    assert not Strategy.objects.exists()


def test_command_imports_into_the_named_mission(tmp_path, db):
    path = tmp_path / "freedonia.txt"
    path.write_text(DOC, encoding="utf-8")
    output = run_command(str(path), "--mission", "embassy-freedonia")
    assert "did create 6" in output
    assert Strategy.objects.get().mission.slug == "embassy-freedonia"


def test_command_refuses_missing_and_binary_files(tmp_path, db):
    with pytest.raises(CommandError, match="not a readable file"):
        run_command(str(tmp_path / "nope.txt"))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CommandError):
        run_command(str(junk))
    assert not Strategy.objects.exists()


@pytest.fixture
def seed_path():
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the seed document at {SEED}")
        pytest.skip("../shared/seeds/ics-china.txt is not beside this checkout")
    return SEED


def test_seed_dry_run_prints_counts_and_discrepancies(seed_path, db):
    data = json.loads(run_command(str(seed_path), "--dry-run", "--json"))
    assert data["counts"]["mission_goal"] == 4
    assert data["counts"]["mission_objective"] == 9
    assert data["counts"]["management_objective"] == 3
    assert data["reviewed_on"] == "2020-04-03"
    problems = {(d["code"], d["problem"]) for d in data["discrepancies"]}
    assert {
        ("2.1", "title_mismatch"),
        ("3.3", "title_mismatch"),
        ("3.4", "framework_only"),
    } <= problems
    assert not Strategy.objects.exists() and not Mission.objects.exists()


def test_seed_imports_and_reimports_without_change(seed_path, db):
    first = run_command(str(seed_path))
    assert "did create 16" in first
    second = run_command(str(seed_path))
    assert "did create 0, update 0, remove 0; 16 unchanged" in second
    texts = " ".join(Node.objects.values_list("description", flat=True)) + " ".join(
        Node.objects.values_list("justification", flat=True)
    )
    assert "FOR PUBLIC RELEASE" not in texts


def test_reimport_keeps_linkage_tags_added_in_the_app(personas):
    strategy = strategy_import(document=DOC, by=None).strategy
    goal = Node.objects.get(strategy=strategy, kind="mission_goal", code="1")
    goal.linkages = [*goal.linkages, "EAP Bureau Strategy 2"]
    goal.save()
    result = strategy_import(document=DOC, by=None)
    goal.refresh_from_db()
    assert "EAP Bureau Strategy 2" in goal.linkages
    assert not result.updated
