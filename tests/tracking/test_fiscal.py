"""U.S. federal fiscal-year periods, with a configurable start month."""

import itertools
from datetime import date

import pytest

from tracking.fiscal import (
    fiscal_year,
    fiscal_year_bounds,
    period_containing,
    period_starting,
    periods_of_fiscal_years,
)


def test_fy2020_q1_is_october_to_december_2019():
    q1 = period_containing(date(2019, 11, 15), "quarterly")
    assert (q1.start, q1.end, q1.label) == (date(2019, 10, 1), date(2019, 12, 31), "FY2020 Q1")


@pytest.mark.parametrize(
    ("day", "fy"), [(date(2019, 9, 30), 2019), (date(2019, 10, 1), 2020), (date(2020, 9, 30), 2020)]
)
def test_fiscal_year_boundaries(day, fy):
    assert fiscal_year(day) == fy


def test_fiscal_year_bounds():
    assert fiscal_year_bounds(2020) == (date(2019, 10, 1), date(2020, 9, 30))


def test_each_frequency_labels_its_periods():
    assert period_containing(date(2020, 5, 1), "semiannual").label == "FY2020 H2"
    assert period_containing(date(2020, 5, 1), "annual").label == "FY2020"
    assert period_containing(date(2020, 2, 29), "monthly").end == date(2020, 2, 29)


def test_four_fiscal_years_have_sixteen_quarters():
    periods = periods_of_fiscal_years("quarterly", 2021, 2024)
    assert len(periods) == 16
    assert periods[0].start == date(2020, 10, 1) and periods[-1].end == date(2024, 9, 30)
    assert all(
        b.start == date.fromordinal(a.end.toordinal() + 1) for a, b in itertools.pairwise(periods)
    )


def test_only_period_starts_are_accepted():
    assert period_starting(date(2020, 1, 1), "quarterly") is not None
    assert period_starting(date(2020, 2, 1), "quarterly") is None


def test_start_month_is_a_setting(settings):
    settings.FISCAL_YEAR_START_MONTH = 1  # calendar years
    q1 = period_containing(date(2020, 2, 10), "quarterly")
    assert (q1.start, q1.label) == (date(2020, 1, 1), "FY2020 Q1")
    settings.FISCAL_YEAR_START_MONTH = 7  # July–June years, named after the year they end
    assert period_containing(date(2019, 7, 1), "quarterly").label == "FY2020 Q1"
