"""Which period a cadence reports on, and when it falls due, in local time — across month
ends, fiscal quarters and daylight-saving changes."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from tracking.models import Cadence
from tracking.reports.periods import latest_due_period, period_for, reminder_week

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def _local_time(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.REPORTS_SEND_HOUR = 6
    settings.FISCAL_YEAR_START_MONTH = 10
    timezone.activate(NEW_YORK)
    yield
    timezone.deactivate()


def at(*args, tz=NEW_YORK) -> datetime:
    return datetime(*args, tzinfo=tz)


def test_weekly_periods_run_monday_to_sunday():
    period = period_for(Cadence.WEEKLY, date(2026, 11, 19))  # a Thursday
    assert (period.start, period.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period.label == "Week of 16 Nov 2026"


def test_monthly_periods_end_on_the_last_day_including_february_of_a_leap_year():
    assert period_for(Cadence.MONTHLY, date(2028, 2, 10)).end == date(2028, 2, 29)
    assert period_for(Cadence.MONTHLY, date(2026, 2, 10)).end == date(2026, 2, 28)
    assert period_for(Cadence.MONTHLY, date(2026, 12, 31)).label == "December 2026"


def test_quarterly_periods_are_fiscal_quarters():
    period = period_for(Cadence.QUARTERLY, date(2026, 11, 22))
    assert (period.start, period.end, period.label) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
        "FY2027 Q1",
    )


def test_quarterly_periods_follow_the_fiscal_year_start_setting(settings):
    settings.FISCAL_YEAR_START_MONTH = 1
    period = period_for(Cadence.QUARTERLY, date(2026, 11, 22))
    assert (period.start, period.label) == (date(2026, 10, 1), "FY2026 Q4")


def test_weekly_report_is_due_monday_at_the_send_hour_not_before():
    with time_machine.travel(at(2026, 11, 23, 5, 59), tick=False):
        assert latest_due_period(Cadence.WEEKLY).start == date(2026, 11, 9)
    with time_machine.travel(at(2026, 11, 23, 6, 0), tick=False):
        assert latest_due_period(Cadence.WEEKLY).start == date(2026, 11, 16)


def test_weekly_report_after_the_autumn_clock_change_is_due_at_six_local_time():
    # Clocks go back on Sunday 1 Nov 2026 at 02:00 EDT: Monday 06:00 EST is 11:00 UTC,
    # an hour later in UTC than the week before (10:00 UTC).
    with time_machine.travel(datetime(2026, 11, 2, 10, 30, tzinfo=UTC), tick=False):
        assert latest_due_period(Cadence.WEEKLY).start == date(2026, 10, 19)
    with time_machine.travel(datetime(2026, 11, 2, 11, 0, tzinfo=UTC), tick=False):
        period = latest_due_period(Cadence.WEEKLY)
        assert (period.start, period.end) == (date(2026, 10, 26), date(2026, 11, 1))
        assert period.due_at() == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)


def test_weekly_report_after_the_spring_clock_change_is_due_at_six_local_time():
    # Clocks go forward on Sunday 8 Mar 2026: Monday 06:00 EDT is 10:00 UTC.
    with time_machine.travel(datetime(2026, 3, 9, 9, 59, tzinfo=UTC), tick=False):
        assert latest_due_period(Cadence.WEEKLY).start == date(2026, 2, 23)
    with time_machine.travel(datetime(2026, 3, 9, 10, 0, tzinfo=UTC), tick=False):
        assert latest_due_period(Cadence.WEEKLY).start == date(2026, 3, 2)


def test_monthly_report_is_due_on_the_first_of_the_next_month():
    with time_machine.travel(at(2026, 12, 1, 5, 0), tick=False):
        assert latest_due_period(Cadence.MONTHLY).label == "October 2026"
    with time_machine.travel(at(2026, 12, 1, 6, 0), tick=False):
        assert latest_due_period(Cadence.MONTHLY).label == "November 2026"
    with time_machine.travel(at(2026, 12, 31, 23, 59), tick=False):
        assert latest_due_period(Cadence.MONTHLY).label == "November 2026"


def test_monthly_report_uses_local_dates_at_a_month_end_in_utc():
    # 1 Dec 03:00 UTC is still 30 Nov 22:00 in New York: November is not over yet.
    with time_machine.travel(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), tick=False):
        assert latest_due_period(Cadence.MONTHLY).label == "October 2026"


def test_quarterly_report_is_due_on_the_first_day_of_the_next_fiscal_quarter():
    with time_machine.travel(at(2027, 1, 1, 5, 59), tick=False):
        assert latest_due_period(Cadence.QUARTERLY).label == "FY2026 Q4"
    with time_machine.travel(at(2027, 1, 1, 6, 0), tick=False):
        period = latest_due_period(Cadence.QUARTERLY)
        assert (period.label, period.start, period.end) == (
            "FY2027 Q1",
            date(2026, 10, 1),
            date(2026, 12, 31),
        )


def test_the_reminder_week_turns_over_on_monday_at_the_send_hour():
    with time_machine.travel(at(2026, 11, 23, 5, 0), tick=False):
        assert reminder_week() == date(2026, 11, 16)
    with time_machine.travel(at(2026, 11, 23, 6, 0), tick=False):
        assert reminder_week() == date(2026, 11, 23)
    with time_machine.travel(at(2026, 11, 29, 23, 0), tick=False):
        assert reminder_week() == date(2026, 11, 23)
