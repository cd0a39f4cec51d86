"""Updates are conditional on the version the caller read: a stale one changes nothing."""

from datetime import date

import pytest

from strategy.concurrency import StaleVersion
from strategy.models import Node
from strategy.services import milestone_update, node_update, strategy_update
from tests.factories import IndicatorFactory, MilestoneFactory
from tracking.services import indicator_period_record, indicator_update


def test_each_change_bumps_the_version_and_no_change_does_not(personas, tree):
    node_update(node=tree.goal1, title="Shared prosperity", by=personas.manager, expected_version=1)
    assert tree.goal1.version == 2
    rows = tree.goal1.history.count()
    node_update(node=tree.goal1, title="Shared prosperity", by=personas.manager, expected_version=2)
    assert tree.goal1.version == 2 and tree.goal1.history.count() == rows


def test_a_stale_version_is_refused_and_nothing_changes(personas, tree):
    node_update(node=tree.goal1, title="First writer", by=personas.manager, expected_version=1)
    stale = Node.objects.get(pk=tree.goal1.pk)
    stale.version = 1  # what the second writer read before the first wrote
    with pytest.raises(StaleVersion) as exc:
        node_update(node=stale, title="Second writer", by=personas.manager2, expected_version=1)
    assert (exc.value.current, exc.value.expected) == (2, 1)
    assert Node.objects.get(pk=tree.goal1.pk).title == "First writer"


@pytest.mark.parametrize("kind", ["strategy", "milestone", "indicator"])
def test_every_mutable_resource_honours_expected_version(personas, tree, kind):
    if kind == "strategy":
        obj, update = (
            tree.strategy,
            lambda **kw: strategy_update(strategy=tree.strategy, title="X", **kw),
        )
    elif kind == "milestone":
        obj = MilestoneFactory(node=tree.mgmt1)
        update = lambda **kw: milestone_update(milestone=obj, title="X", **kw)  # noqa: E731
    else:
        obj = IndicatorFactory(node=tree.obj11)
        update = lambda **kw: indicator_update(indicator=obj, name="X", **kw)  # noqa: E731
    with pytest.raises(StaleVersion):
        update(by=personas.manager, expected_version=7)
    update(by=personas.manager, expected_version=1)
    assert obj.version == 2


def test_indicator_period_values_are_conditional_too(personas, tree):
    indicator = IndicatorFactory(node=tree.obj11)
    period, _ = indicator_period_record(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        actual=5,
        by=personas.analyst,
        today=date(2024, 3, 1),
    )
    assert period.version == 1
    with pytest.raises(StaleVersion):
        indicator_period_record(
            indicator=indicator, period_start=date(2023, 10, 1), actual=6, by=personas.analyst,
            today=date(2024, 3, 1), expected_version=3,
        )  # fmt: skip
    period, _ = indicator_period_record(
        indicator=indicator, period_start=date(2023, 10, 1), actual=6, by=personas.analyst,
        today=date(2024, 3, 1), expected_version=1,
    )  # fmt: skip
    assert (period.actual, period.version) == (6, 2)
