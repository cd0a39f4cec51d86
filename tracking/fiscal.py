"""Fiscal-year reporting periods.

The U.S. federal fiscal year starts in October and is named after the calendar year in
which it ends: FY2020 runs 1 Oct 2019 – 30 Sep 2020, and FY2020 Q1 is Oct–Dec 2019.
`settings.FISCAL_YEAR_START_MONTH` changes the start month (1 = calendar years).
Period ends are inclusive (the last day of the period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings

# Months per period for each indicator frequency (tracking.models.Frequency values).
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def start_month() -> int:
    return settings.FISCAL_YEAR_START_MONTH


def fiscal_year(day: date) -> int:
    """The fiscal year a day falls in (FY2020 for 15 Nov 2019 with an October start)."""
    if start_month() == 1:
        return day.year
    return day.year + 1 if day.month >= start_month() else day.year


def fiscal_year_start(fy: int) -> date:
    return date(fy if start_month() == 1 else fy - 1, start_month(), 1)


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    start = fiscal_year_start(fy)
    return start, start + relativedelta(years=1) - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One reporting period of a given frequency."""

    frequency: str
    start: date
    end: date  # inclusive

    @property
    def fiscal_year(self) -> int:
        return fiscal_year(self.start)

    @property
    def index(self) -> int:
        """1-based position within its fiscal year (Q1 = 1)."""
        months = (self.start.year - fiscal_year_start(self.fiscal_year).year) * 12 + (
            self.start.month - start_month()
        )
        return months // PERIOD_MONTHS[self.frequency] + 1

    @property
    def label(self) -> str:
        fy = f"FY{self.fiscal_year}"
        if self.frequency == "quarterly":
            return f"{fy} Q{self.index}"
        if self.frequency == "semiannual":
            return f"{fy} H{self.index}"
        if self.frequency == "annual":
            return fy
        return f"{self.start:%b %Y}"


def period_containing(day: date, frequency: str) -> Period:
    """The period of `frequency` that contains `day`."""
    months = PERIOD_MONTHS[frequency]
    fy_start = fiscal_year_start(fiscal_year(day))
    offset = (day.year - fy_start.year) * 12 + day.month - fy_start.month
    start = fy_start + relativedelta(months=(offset // months) * months)
    return Period(frequency, start, start + relativedelta(months=months) - timedelta(days=1))


def period_starting(day: date, frequency: str) -> Period | None:
    """The period of `frequency` that starts exactly on `day`, or None if none does
    (also when its fiscal year or its end falls outside years 1–9999, the dates Python
    and the database can hold: a day in January of year 1, an annual period from Oct 9999)."""
    try:
        period = period_containing(day, frequency)
    except ValueError:  # date() and relativedelta refuse year 0 and year 10000
        return None
    return period if period.start == day else None


def periods_between(frequency: str, first: date, last: date) -> list[Period]:
    """Every period of `frequency` overlapping first..last, in order."""
    out: list[Period] = []
    period = period_containing(first, frequency)
    while period.start <= last:
        out.append(period)
        period = period_containing(period.end + timedelta(days=1), frequency)
    return out


def periods_of_fiscal_years(frequency: str, first_fy: int, last_fy: int) -> list[Period]:
    return periods_between(frequency, fiscal_year_start(first_fy), fiscal_year_bounds(last_fy)[1])


def describe_starts(frequency: str) -> str:
    """Human list of the days periods of `frequency` start on, for validation messages."""
    months = PERIOD_MONTHS[frequency]
    firsts = [
        date(2000, (start_month() - 1 + i) % 12 + 1, 1).strftime("1 %b")
        for i in range(0, 12, months)
    ]
    return ", ".join(firsts)
