"""strategy_tree: both status channels, roll-up with reasons, freshness, late data — in a
fixed number of queries whatever the size of the tree."""

from datetime import date, timedelta

from strategy.models import NodeKind, Strategy
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
    StrategyFactory,
)
from tracking.models import NoteState
from tracking.selectors import strategy_tree, strategy_trees

TODAY = date(2024, 3, 1)


def find(tree_result, code, kind="mission_objective"):
    return next(t for t in tree_result.walk() if t.node.code == code and t.node.kind == kind)


def quarter(indicator, start, end, target, actual):
    return IndicatorPeriodFactory(
        indicator=indicator, period_start=start, period_end=end, target=target, actual=actual
    )


def test_tree_is_in_document_order_with_children_nested(tree):
    result = strategy_tree(strategy=tree.strategy, today=TODAY)
    assert [(t.node.kind[:4], t.node.code, t.depth) for t in result.walk()] == [
        ("miss", "1", 0), ("miss", "1.1", 1), ("sub_", "1.1.1", 2), ("miss", "1.2", 1),
        ("miss", "2", 0), ("miss", "2.1", 1), ("mana", "1", 0),
    ]  # fmt: skip


def test_goal_rolls_up_the_worst_objective_and_explains_it(tree):
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.goal2], assessment="on_track", as_of=date(2024, 2, 1)
    )
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj21], assessment="at_risk", as_of=date(2024, 5, 3) - timedelta(days=90),
        title="Talks stalled",
    )  # fmt: skip
    goal2 = find(strategy_tree(strategy=tree.strategy, today=TODAY), "2", "mission_goal")
    assert goal2.assessment.status == "at_risk"
    assert (
        goal2.assessment.reason
        == "At risk because 2.1 is at risk: note “Talks stalled” of 3 Feb 2024"
    )


def test_latest_approved_note_wins_and_unapproved_notes_do_not_count(tree):
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj11], assessment="at_risk", as_of=date(2024, 1, 1)
    )
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj11], assessment="on_track", as_of=date(2024, 2, 1)
    )
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj11], assessment="off_track", as_of=date(2024, 2, 20),
        state=NoteState.SUBMITTED, approved_at=None,
    )  # fmt: skip
    obj11 = find(strategy_tree(strategy=tree.strategy, today=TODAY), "1.1")
    assert obj11.latest_note.assessment == "on_track"
    assert obj11.last_update == date(2024, 2, 1)


def test_computed_status_comes_from_the_latest_reported_period(tree):
    indicator = IndicatorFactory(
        node=tree.obj12, baseline_value=100, direction="decrease", name="Seizures"
    )
    quarter(indicator, date(2023, 7, 1), date(2023, 9, 30), 80, 98)  # 10 % of the way: off track
    quarter(indicator, date(2023, 10, 1), date(2023, 12, 31), 60, 70)  # 75 %: at risk
    quarter(indicator, date(2024, 1, 1), date(2024, 3, 31), 50, None)  # current, not reported
    obj12 = find(strategy_tree(strategy=tree.strategy, today=TODAY), "1.2")
    summary = obj12.indicators[0]
    assert (summary.period_label, summary.progress_percent, summary.status) == (
        "FY2024 Q1",
        75,
        "at_risk",
    )
    assert obj12.computed.reason == "At risk: “Seizures” at 75 % of its FY2024 Q1 target"
    goal1 = find(strategy_tree(strategy=tree.strategy, today=TODAY), "1", "mission_goal")
    assert goal1.computed.reason.startswith("At risk because 1.2 is at risk")


def test_cumulative_of_period_values_compares_sums_to_date(tree):
    indicator = IndicatorFactory(node=tree.obj11, cumulative_mode="period_sum", baseline_value=500)
    quarter(indicator, date(2023, 7, 1), date(2023, 9, 30), 10, 2)
    quarter(indicator, date(2023, 10, 1), date(2023, 12, 31), 10, 15)
    summary = find(strategy_tree(strategy=tree.strategy, today=TODAY), "1.1").indicators[0]
    # 17 of 20 to date; the baseline of a running total does not apply to increments.
    assert (summary.target, summary.actual, summary.progress_percent) == (20, 17, 85)


def test_a_period_past_its_reporting_deadline_without_actual_is_late(tree, settings):
    settings.INDICATOR_REPORTING_GRACE_DAYS = 30
    indicator = IndicatorFactory(node=tree.obj11)
    quarter(indicator, date(2023, 7, 1), date(2023, 9, 30), 10, 9)
    quarter(indicator, date(2023, 10, 1), date(2023, 12, 31), 10, None)
    assert (
        find(strategy_tree(strategy=tree.strategy, today=date(2024, 1, 15)), "1.1")
        .indicators[0]
        .is_late
        is False
    )
    assert (
        find(strategy_tree(strategy=tree.strategy, today=TODAY), "1.1")
        .indicators[0]
        .late_period_label
        == "FY2024 Q1"
    )


def test_freshness_follows_the_strategy_cadence(tree):
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj11], as_of=TODAY - timedelta(days=90)
    )
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj12], as_of=TODAY - timedelta(days=91)
    )
    result = strategy_tree(strategy=tree.strategy, today=TODAY)
    assert (
        find(result, "1.1").is_stale is False
        and find(result, "1.1").freshness == "updated 90 days ago"
    )
    assert find(result, "1.2").is_stale is True
    assert find(result, "2.1").is_stale is True and find(result, "2.1").freshness == "never updated"
    # A goal is as fresh as its freshest descendant.
    assert find(result, "1", "mission_goal").last_update == TODAY - timedelta(days=90)
    Strategy.objects.filter(pk=tree.strategy.pk).update(freshness_days=30)
    tree.strategy.refresh_from_db()
    assert find(strategy_tree(strategy=tree.strategy, today=TODAY), "1.1").is_stale is True


def test_disagreement_between_channels_is_flagged(tree):
    indicator = IndicatorFactory(node=tree.obj21, baseline_value=0)
    quarter(indicator, date(2023, 10, 1), date(2023, 12, 31), 100, 30)  # off track
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj21], assessment="on_track", as_of=date(2024, 2, 1)
    )
    result = strategy_tree(strategy=tree.strategy, today=TODAY)
    assert find(result, "2.1").disagreement is True
    assert result.counts()["disagreements"] >= 1


def test_overdue_milestones_are_counted(tree):
    MilestoneFactory(node=tree.mgmt1, due_on=date(2024, 1, 1))
    MilestoneFactory(node=tree.mgmt1, due_on=date(2024, 1, 1), completed_on=date(2023, 12, 1))
    MilestoneFactory(node=tree.mgmt1, due_on=date(2024, 6, 1))
    result = strategy_tree(strategy=tree.strategy, today=TODAY)
    assert find(result, "1", "management_objective").overdue_milestones == 1


def grow(strategy, goals, objectives_per_goal, first_code=10):
    """Add a big tree: every objective with a sub-objective, an indicator with periods, a note."""
    for g in range(first_code, first_code + goals):
        goal = NodeFactory(strategy=strategy, code=str(g))
        for o in range(objectives_per_goal):
            objective = NodeFactory(
                parent=goal, kind=NodeKind.MISSION_OBJECTIVE, code=f"{g}.{o + 1}"
            )
            NodeFactory(parent=objective, kind=NodeKind.SUB_OBJECTIVE, code=f"{objective.code}.1")
            indicator = IndicatorFactory(node=objective)
            quarter(indicator, date(2023, 10, 1), date(2023, 12, 31), 10, 9)
            quarter(indicator, date(2024, 1, 1), date(2024, 3, 31), 10, None)
            ProgressNoteFactory(strategy=strategy, nodes=[objective], as_of=date(2024, 1, 1))
            MilestoneFactory(node=objective)


def test_query_count_does_not_grow_with_the_tree(tree, django_assert_num_queries):
    # 1 nodes + owners, 2 indicators, 3 latest reported period per indicator,
    # 4 latest period past due per indicator, 5 latest approved note per node, 6 milestones
    grow(tree.strategy, goals=1, objectives_per_goal=1)
    with django_assert_num_queries(6):
        small = strategy_tree(strategy=tree.strategy, today=TODAY)
    grow(tree.strategy, goals=4, objectives_per_goal=5, first_code=20)
    with django_assert_num_queries(6):
        large = strategy_tree(strategy=tree.strategy, today=TODAY)
    assert len(large.walk()) > len(small.walk()) + 30


def test_many_strategies_cost_the_same_queries_as_one(tree, django_assert_num_queries):
    strategies = [tree.strategy] + [
        StrategyFactory(mission=tree.strategy.mission) for _ in range(4)
    ]
    for strategy in strategies[1:]:
        grow(strategy, goals=1, objectives_per_goal=2)
    with django_assert_num_queries(6):
        trees = strategy_trees(strategies=strategies, today=TODAY)
    assert set(trees) == {s.id for s in strategies}
    assert all(len(t.walk()) >= 5 for t in trees.values())
