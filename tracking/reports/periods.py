"""Report periods and when they fall due.

Weekly reports cover Monday–Sunday, monthly ones a calendar month, quarterly ones a fiscal
quarter (`tracking.fiscal`). A period's report is due from `REPORTS_SEND_HOUR` o'clock,
local time (`TIME_ZONE`), on the day after it ends — so a weekly report arrives on Monday
morning whatever the daylight-saving offset that day. Period ends are inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.utils import timezone

from tracking.fiscal import period_containing
from tracking.models import Cadence


@dataclass(frozen=True)
class ReportPeriod:
    cadence: str
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        if self.cadence == Cadence.WEEKLY:
            return f"Week of {self.start:%-d %b %Y}"
        if self.cadence == Cadence.MONTHLY:
            return f"{self.start:%B %Y}"
        if self.cadence == Cadence.QUARTERLY:
            return period_containing(self.start, "quarterly").label
        return f"{self.start:%-d %b %Y}"

    def due_at(self) -> datetime:
        """When this period's report should go out: send hour on the day after it ends."""
        day_after = self.end + timedelta(days=1)
        naive = datetime.combine(day_after, time(hour=settings.REPORTS_SEND_HOUR))
        return timezone.make_aware(naive, timezone.get_current_timezone())

    def previous(self) -> ReportPeriod:
        return period_for(self.cadence, self.start - timedelta(days=1))


def period_for(cadence: str, day: date) -> ReportPeriod:
    """The period of `cadence` that contains `day`."""
    if cadence == Cadence.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return ReportPeriod(cadence, start, start + timedelta(days=6))
    if cadence == Cadence.MONTHLY:
        start = day.replace(day=1)
        return ReportPeriod(cadence, start, start + relativedelta(months=1) - timedelta(days=1))
    if cadence == Cadence.QUARTERLY:
        quarter = period_containing(day, "quarterly")
        return ReportPeriod(cadence, quarter.start, quarter.end)
    if cadence == Cadence.ON_DEMAND:
        return ReportPeriod(cadence, day, day)
    raise ValueError(f"Unknown cadence {cadence!r}")


def latest_due_period(cadence: str, now: datetime | None = None) -> ReportPeriod:
    """The most recent period of `cadence` whose report is due at `now` (aware)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    period = period_for(cadence, today).previous()
    if period.due_at() > now:  # before the send hour on the first day: the one before
        period = period.previous()
    return period


def reminder_week(now: datetime | None = None) -> date | None:
    """The Monday whose weekly reminder digest is due at `now`, or None before the send
    hour on a Monday (the previous week's digest is then still the current one)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    start = timezone.make_aware(
        datetime.combine(monday, time(hour=settings.REPORTS_SEND_HOUR)),
        timezone.get_current_timezone(),
    )
    return monday if now >= start else monday - timedelta(days=7)
