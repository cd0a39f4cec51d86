"""The report snapshot: what it says, what changed since the previous report, and that it
costs a fixed number of queries whatever the size of the strategy."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from strategy.models import NodeKind
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
)
from tracking.models import Cadence, Report, ReportState
from tracking.reports.periods import ReportPeriod, period_for
from tracking.reports.selectors import report_content

NOVEMBER = period_for(Cadence.MONTHLY, date(2026, 11, 1))
GENERATED = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.get_fixed_timezone(0))


def build(tree, period: ReportPeriod = NOVEMBER, previous=None):
    return report_content(
        strategy=tree.strategy, period=period, generated_at=GENERATED, previous=previous
    )


def nodes_of(content):
    return {n["code"] + ":" + n["kind"]: n for s in content["sections"] for n in s["nodes"]}


def test_snapshot_lists_goals_then_management_objectives_in_tree_order(tree):
    content = build(tree)
    assert [s["title"] for s in content["sections"]] == ["Mission Goals", "Management Objectives"]
    codes = [n["code"] for n in content["sections"][0]["nodes"]]
    assert codes == ["1", "1.1", "1.1.1", "1.2", "2", "2.1"]
    assert content["period"]["label"] == "November 2026"
    assert content["as_of"] == "2026-11-30"
    assert content["strategy"]["mission"] == "Mission Testland"


def test_snapshot_carries_both_statuses_note_excerpt_indicators_and_milestones(tree, personas):
    ProgressNoteFactory(
        strategy=tree.strategy,
        nodes=[tree.obj11],
        title="Exports steady",
        body="**Shipments** rose <script>x()</script> in *October*.",
        assessment="at_risk",
        as_of=date(2026, 11, 10),
    )
    indicator = IndicatorFactory(
        node=tree.obj11, name="Export value", unit="USD bn", baseline_value=Decimal("10")
    )
    IndicatorPeriodFactory(
        indicator=indicator,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        target=Decimal("20"),
        actual=Decimal("19.50"),
    )
    MilestoneFactory(node=tree.mgmt1, title="New annex opens", due_on=date(2026, 11, 15))
    MilestoneFactory(node=tree.mgmt1, title="Roof repaired", due_on=date(2026, 12, 20))
    MilestoneFactory(node=tree.mgmt1, title="Far future", due_on=date(2027, 9, 1))

    nodes = nodes_of(build(tree))
    obj = nodes["1.1:mission_objective"]
    assert obj["assessment"]["status"] == "at_risk"
    assert obj["assessment"]["label"] == "At risk"
    assert obj["computed"]["status"] == "on_track"  # 95 % of the way
    assert obj["latest_note"]["title"] == "Exports steady"
    assert obj["latest_note"]["excerpt"] == "Shipments rose in October."
    assert obj["indicators"] == [
        {
            "id": indicator.id,
            "name": "Export value",
            "unit": "USD bn",
            "direction": "increase",
            "baseline": "10",
            "target": "20",
            "actual": "19.5",
            "period_label": "FY2027 Q1",  # a quarterly indicator
            "progress_percent": 95,
            "status": "on_track",
            "status_label": "On track",
            "late_period_label": "",
        }
    ]
    milestones = nodes["1:management_objective"]["milestones"]
    assert [(m["title"], m["state"]) for m in milestones] == [
        ("New annex opens", "overdue"),
        ("Roof repaired", "due"),
    ]


def test_headline_counts_cover_every_status_and_stale_items(tree):
    counts = build(tree)["counts"]
    assert counts["total"] == 5  # objectives, sub-objectives and management objectives
    assert set(counts["assessment"]) == {
        "off_track", "at_risk", "on_track", "not_started", "achieved", "no_data"
    }  # fmt: skip
    assert counts["assessment"]["no_data"] == 5
    assert counts["stale"] == 5


def test_first_report_lists_changes_within_its_own_period(tree, personas):
    ProgressNoteFactory(
        strategy=tree.strategy,
        nodes=[tree.obj21, tree.goal2],
        title="Talks resumed",
        as_of=date(2026, 11, 20),
        approved_at=datetime(2026, 11, 21, 12, 0, tzinfo=timezone.get_fixed_timezone(0)),
    )
    ProgressNoteFactory(
        strategy=tree.strategy,
        nodes=[tree.obj12],
        title="Old news",
        approved_at=datetime(2026, 10, 2, 12, 0, tzinfo=timezone.get_fixed_timezone(0)),
    )
    MilestoneFactory(node=tree.mgmt1, title="Missed", due_on=date(2026, 11, 5))
    MilestoneFactory(
        node=tree.mgmt1, title="Done late", due_on=date(2026, 11, 6), completed_on=date(2026, 11, 9)
    )
    MilestoneFactory(
        node=tree.mgmt1,
        title="Done on time",
        due_on=date(2026, 11, 7),
        completed_on=date(2026, 11, 7),
    )
    MilestoneFactory(node=tree.mgmt1, title="Missed long ago", due_on=date(2026, 9, 5))
    indicator = IndicatorFactory(node=tree.obj11, name="Visas issued", frequency="monthly")
    # Deadline (end + 30 days grace) falls in November: late in this report.
    IndicatorPeriodFactory(
        indicator=indicator, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31)
    )
    # Deadline falls in December: not yet late.
    IndicatorPeriodFactory(
        indicator=indicator, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30)
    )

    changes = build(tree)["changes"]
    assert changes["since"] is None
    assert changes["since_date"] == "2026-10-31"
    assert changes["status_changes"] == []
    assert [(n["title"], n["nodes"]) for n in changes["new_notes"]] == [
        ("Talks resumed", ["2.1", "2"])
    ]
    assert [m["title"] for m in changes["missed_milestones"]] == ["Missed", "Done late"]
    assert [(d["indicator"], d["period_label"]) for d in changes["late_data"]] == [
        ("Visas issued", "Oct 2026")
    ]


def test_changes_compare_statuses_with_the_previous_report(tree):
    october = period_for(Cadence.MONTHLY, date(2026, 10, 1))
    previous_content = report_content(
        strategy=tree.strategy,
        period=october,
        generated_at=GENERATED - timedelta(days=30),
    )
    previous = Report.objects.create(
        strategy=tree.strategy,
        cadence=Cadence.MONTHLY,
        period_start=october.start,
        period_end=october.end,
        label=october.label,
        state=ReportState.READY,
        content=previous_content,
        built_at=GENERATED - timedelta(days=30),
    )
    ProgressNoteFactory(
        strategy=tree.strategy,
        nodes=[tree.obj12],
        title="Investment stalls",
        assessment="off_track",
        as_of=date(2026, 11, 12),
        approved_at=datetime(2026, 11, 13, tzinfo=timezone.get_fixed_timezone(0)),
    )
    changes = build(tree, previous=previous)["changes"]
    assert changes["since"] == {
        "report_id": previous.id,
        "label": "October 2026",
        "as_of": "2026-10-31",
    }
    moved = {(c["code"], c["channel"], c["from"], c["to"]) for c in changes["status_changes"]}
    assert moved == {
        ("1.2", "assessment", "no_data", "off_track"),
        ("1", "assessment", "no_data", "off_track"),
    }
    assert [n["title"] for n in changes["new_notes"]] == ["Investment stalls"]


def _grow(tree, objectives: int) -> None:
    goal = NodeFactory(strategy=tree.strategy, code="9", title="Grown goal")
    for i in range(objectives):
        obj = NodeFactory(
            parent=goal, kind=NodeKind.MISSION_OBJECTIVE, code=f"9.{i + 1}", title=f"Obj {i}"
        )
        indicator = IndicatorFactory(node=obj)
        IndicatorPeriodFactory(
            indicator=indicator,
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            target=10,
            actual=None,
        )
        MilestoneFactory(node=obj, due_on=date(2026, 11, 3))
        ProgressNoteFactory(strategy=tree.strategy, nodes=[obj], as_of=date(2026, 11, 2))


@pytest.mark.parametrize("objectives", [2, 25])
def test_report_builder_runs_a_fixed_number_of_queries(tree, objectives, django_assert_num_queries):
    _grow(tree, objectives)
    # 1 nodes, 2 indicators, 3 latest actuals, 4 latest due periods, 5 latest approved
    # notes, 6 milestones (the tree); 7 note excerpts; 8 notes approved in the window;
    # 9 analyses linked in the window; 10 indicator periods that became late in the window.
    with django_assert_num_queries(10):
        content = build(tree)
    assert len(content["sections"][0]["nodes"]) == 6 + 1 + objectives


def test_an_on_demand_report_compares_with_the_latest_report_of_any_cadence(tree):
    from tracking.reports.selectors import previous_report

    weekly = Report.objects.create(
        strategy=tree.strategy,
        cadence=Cadence.WEEKLY,
        period_start=date(2026, 11, 9),
        period_end=date(2026, 11, 15),
        label="Week of 9 Nov 2026",
        state=ReportState.READY,
        content={"as_of": "2026-11-15"},
        built_at=GENERATED - timedelta(days=16),
    )
    today = period_for(Cadence.ON_DEMAND, date(2026, 11, 20))
    on_demand = Report.objects.create(
        strategy=tree.strategy,
        cadence=Cadence.ON_DEMAND,
        period_start=today.start,
        period_end=today.end,
        label=today.label,
    )
    assert previous_report(report=on_demand) == weekly
    content = report_content(
        strategy=tree.strategy, period=today, generated_at=GENERATED, previous=weekly
    )
    assert content["changes"]["since_date"] == "2026-11-15"


def test_a_first_on_demand_report_looks_back_one_week(tree):
    today = period_for(Cadence.ON_DEMAND, date(2026, 11, 20))
    content = report_content(strategy=tree.strategy, period=today, generated_at=GENERATED)
    assert content["changes"]["since_date"] == "2026-11-13"
