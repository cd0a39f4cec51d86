"""Recording indicator values: an upsert per (indicator, period start), with clear refusals."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import IndicatorFactory
from tracking.models import IndicatorPeriod
from tracking.services import indicator_create, indicator_period_record

TODAY = date(2024, 3, 1)


@pytest.fixture
def indicator(tree):
    return IndicatorFactory(node=tree.obj11, frequency="quarterly")


def test_analyst_records_an_actual_and_the_period_end_is_derived(personas, indicator):
    period, changed = indicator_period_record(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        actual="1,250.5",
        by=personas.analyst,
        today=TODAY,
    )
    assert changed and period.period_end == date(2023, 12, 31)
    assert (period.actual, period.recorded_by) == (Decimal("1250.5"), personas.analyst)


def test_recording_again_updates_the_same_row(personas, indicator):
    for value in (10, 12):
        indicator_period_record(
            indicator=indicator,
            period_start=date(2023, 10, 1),
            actual=value,
            by=personas.analyst,
            today=TODAY,
        )
    assert IndicatorPeriod.objects.get().actual == 12


def test_recording_the_same_value_changes_nothing(personas, indicator):
    indicator_period_record(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        actual=10,
        by=personas.analyst,
        today=TODAY,
    )
    _, changed = indicator_period_record(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        actual="10.0000",
        by=personas.analyst,
        today=TODAY,
    )
    assert not changed
    assert IndicatorPeriod.history.count() == 1


def test_period_start_must_begin_a_period(personas, indicator):
    with pytest.raises(ValidationError) as exc:
        indicator_period_record(
            indicator=indicator,
            period_start=date(2023, 11, 1),
            actual=1,
            by=personas.analyst,
            today=TODAY,
        )
    assert "1 Oct, 1 Jan, 1 Apr, 1 Jul" in exc.value.message_dict["period_start"][0]


def test_actuals_cannot_be_recorded_for_periods_not_started(personas, indicator):
    with pytest.raises(ValidationError, match="has not started"):
        indicator_period_record(
            indicator=indicator,
            period_start=date(2024, 4, 1),
            actual=1,
            by=personas.analyst,
            today=TODAY,
        )
    # Targets for future periods are normal.
    indicator_period_record(
        indicator=indicator,
        period_start=date(2024, 4, 1),
        target=5,
        by=personas.manager,
        today=TODAY,
    )


@pytest.mark.parametrize("bad", ["abc", "1e400", "NaN", "Infinity", True, "99999999999999999"])
def test_bad_numbers_get_a_message_and_write_nothing(personas, indicator, bad):
    with pytest.raises(ValidationError):
        indicator_period_record(
            indicator=indicator,
            period_start=date(2023, 10, 1),
            actual=bad,
            by=personas.analyst,
            today=TODAY,
        )
    assert not IndicatorPeriod.objects.exists()


def test_targets_are_for_managers(personas, indicator):
    with pytest.raises(PermissionDenied):
        indicator_period_record(
            indicator=indicator,
            period_start=date(2023, 10, 1),
            target=5,
            by=personas.analyst,
            today=TODAY,
        )


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_outsiders_record_nothing(personas, indicator, role):
    with pytest.raises(PermissionDenied):
        indicator_period_record(
            indicator=indicator,
            period_start=date(2023, 10, 1),
            actual=5,
            by=personas.by_role(role),
            today=TODAY,
        )
    assert not IndicatorPeriod.objects.exists()


def test_indicator_names_are_unique_per_node(personas, tree):
    indicator_create(node=tree.obj11, name="Exports", by=personas.manager)
    with pytest.raises(ValidationError) as exc:
        indicator_create(node=tree.obj11, name="Exports", by=personas.manager)
    assert "name" in exc.value.message_dict


def test_indicator_choices_are_validated(personas, tree):
    with pytest.raises(ValidationError) as exc:
        indicator_create(node=tree.obj11, name="Exports", direction="sideways", by=personas.manager)
    assert "direction" in exc.value.message_dict
