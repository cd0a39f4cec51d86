"""What is tracked against the strategy tree: indicators, their periods, progress notes.

strategy.Node ─< Indicator ─< IndicatorPeriod
strategy.Strategy ─< ProgressNote ─< NoteLink >─ strategy.Node (one link is primary)
                                  ─< NoteSource, NoteAttachment
strategy.Strategy ─< Report ─< Delivery >─ Subscription;  User ─< Reminder (weekly digest)

Statuses are not stored: `tracking.selectors` computes them from these rows. Every write
goes through `tracking.services`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from strategy.models import Node, Strategy


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase"
    DECREASE = "decrease", "Decrease"
    MAINTAIN = "maintain", "Maintain"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Semi-annual"
    ANNUAL = "annual", "Annual"


class CumulativeMode(models.TextChoices):
    NON_CUMULATIVE = "non_cumulative", "Non-cumulative"
    CUMULATIVE = "cumulative", "Cumulative (each value is the running total)"
    PERIOD_SUM = "period_sum", "Cumulative of period values (values add up over periods)"


class Indicator(models.Model):
    """A performance indicator of one node, with the reference-sheet fields users expect."""

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="indicators")
    name = models.CharField(max_length=300)
    definition = models.TextField(blank=True)
    unit = models.CharField(
        max_length=50, blank=True, help_text='e.g. "USD million", "%", "cases".'
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCREASE
    )
    baseline_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    baseline_date = models.DateField(null=True, blank=True)
    data_source = models.CharField(max_length=300, blank=True)
    collection_method = models.TextField(blank=True)
    frequency = models.CharField(
        max_length=12, choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    cumulative_mode = models.CharField(
        max_length=16,
        choices=CumulativeMode.choices,
        default=CumulativeMode.NON_CUMULATIVE,
        help_text=(
            "Non-cumulative: each period's actual is compared with that period's target. "
            "Cumulative: each value already is the running total since the baseline. "
            "Cumulative of period values: each period reports only that period's amount, "
            "and progress compares the sum of actuals to date with the sum of targets to date."
        ),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_indicators",
    )
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["node", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction__in=Direction.values), name="indicator_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(frequency__in=Frequency.values), name="indicator_frequency_valid"
            ),
            models.CheckConstraint(
                condition=Q(cumulative_mode__in=CumulativeMode.values),
                name="indicator_cumulative_valid",
            ),
            models.UniqueConstraint(fields=["node", "name"], name="indicator_name_unique_per_node"),
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorPeriod(models.Model):
    """One reporting period of an indicator: its target and what was actually achieved."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="periods")
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period (inclusive).")
    target = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    actual = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    comment = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recorded_periods",
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["indicator", "period_start"]
        constraints = [
            # Also the index behind "periods of these indicators in date order".
            models.UniqueConstraint(
                fields=["indicator", "period_start"], name="period_one_row_per_indicator_start"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="period_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start:%Y-%m-%d}"


class Assessment(models.TextChoices):
    """The analyst's judgement in a progress note."""

    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    OFF_TRACK = "off_track", "Off track"
    ACHIEVED = "achieved", "Achieved"
    NOT_STARTED = "not_started", "Not started"


class NoteState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    RESUBMITTED = "resubmitted", "Resubmitted"
    APPROVED = "approved", "Approved"


class ProgressNote(models.Model):
    """An analyst's dated assessment of one or more nodes, reviewed by a manager.

    Workflow: draft → submitted → approved, or submitted → returned (with a comment) →
    resubmitted → approved. Approved notes are never edited; a new note supersedes them.
    """

    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="progress_notes"
    )
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True, help_text="Markdown.")
    body_html = models.TextField(
        blank=True, editable=False, help_text="Sanitised rendering of body."
    )
    assessment = models.CharField(max_length=12, choices=Assessment.choices)
    justification = models.TextField(
        blank=True,
        help_text="Required when the note says off track or disagrees with the indicators.",
    )
    as_of = models.DateField(help_text="The date the assessment describes.")
    is_sensitive = models.BooleanField(
        "sensitive",
        default=False,
        help_text="Left out of the public-release version of the document.",
    )
    state = models.CharField(max_length=12, choices=NoteState.choices, default=NoteState.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reviewed_notes",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    # Bumped by every write: the ETag of the API and the guard of conditional updates.
    version = models.PositiveIntegerField(default=1)
    nodes = models.ManyToManyField(Node, through="NoteLink", related_name="notes")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-as_of", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=NoteState.values), name="note_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(assessment__in=Assessment.values), name="note_assessment_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=NoteState.APPROVED)
                | Q(approved_at__isnull=False, reviewed_by__isnull=False),
                name="note_approved_has_reviewer",
            ),
            models.CheckConstraint(
                condition=~Q(state=NoteState.RETURNED) | ~Q(review_comment=""),
                name="note_returned_has_comment",
            ),
        ]
        indexes = [
            # Review queue: WHERE strategy_id IN (...) AND state IN ('submitted','resubmitted')
            models.Index(fields=["strategy", "state"], name="note_strategy_state"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.state in (NoteState.DRAFT, NoteState.RETURNED)

    @property
    def is_awaiting_review(self) -> bool:
        return self.state in (NoteState.SUBMITTED, NoteState.RESUBMITTED)


class NoteLink(models.Model):
    """A node a progress note is about; exactly one of a note's links is primary."""

    note = models.ForeignKey(ProgressNote, on_delete=models.CASCADE, related_name="links")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="note_links")
    is_primary = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["note", "-is_primary", "node"]
        constraints = [
            models.UniqueConstraint(fields=["note", "node"], name="notelink_unique"),
            models.UniqueConstraint(
                fields=["note"], condition=Q(is_primary=True), name="notelink_one_primary"
            ),
        ]
        indexes = [
            # Latest approved note per node: WHERE node_id IN (...) JOIN note
            models.Index(fields=["node", "note"], name="notelink_node_note"),
        ]

    def __str__(self) -> str:
        return f"{self.note} → {self.node.code}"


class NoteSource(models.Model):
    """A link a progress note cites."""

    note = models.ForeignKey(ProgressNote, on_delete=models.CASCADE, related_name="sources")
    url = models.URLField(max_length=1000)
    label = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["note", "id"]

    def __str__(self) -> str:
        return self.label or self.url


def _attachment_path(instance: NoteAttachment, filename: str) -> str:
    return f"attachments/note-{instance.note_id}/{filename}"


class NoteAttachment(models.Model):
    """A file attached to a progress note."""

    note = models.ForeignKey(ProgressNote, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=500)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["note", "id"]

    def __str__(self) -> str:
        return self.name


# --- Reports, subscriptions, deliveries, reminders ------------------------------------
#
# strategy.Strategy ─< Report ─< Delivery >─ Subscription >─ Strategy
# A Report is one immutable snapshot per (strategy, cadence, period start); a Delivery is
# one e-mail of one report to one address — unique, so nobody gets a report twice.


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly (fiscal quarters)"
    # "Generate now" / "send now": one report per strategy per day, outside any schedule.
    ON_DEMAND = "on_demand", "On demand"


class ReportState(models.TextChoices):
    PENDING = "pending", "Being prepared"
    READY = "ready", "Ready"


class Report(models.Model):
    """A status report: a snapshot of one strategy for one period, stored once.

    The row is created `pending` the moment a report is asked for (so the API can answer
    202 with something to poll); the builder fills `content` and `pdf` and flips it to
    `ready` with one conditional UPDATE. After that nothing changes it: readers and
    e-mails always see what was reported, not today's data.
    """

    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="reports")
    cadence = models.CharField(max_length=10, choices=Cadence.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Inclusive.")
    label = models.CharField(max_length=60, help_text="e.g. “FY2027 Q1”, “October 2026”.")
    state = models.CharField(
        max_length=10, choices=ReportState.choices, default=ReportState.PENDING
    )
    # The snapshot (see tracking.reports.selectors.report_content for its shape).
    content = models.JSONField(default=dict, blank=True, editable=False)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for scheduled reports.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    built_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["strategy", "-period_start", "cadence", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "cadence", "period_start"], name="report_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="report_period_order"
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=Cadence.values), name="report_cadence_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=ReportState.READY) | Q(built_at__isnull=False),
                name="report_ready_is_built",
            ),
        ]
        indexes = [
            # Dispatcher and API polling: WHERE state = 'pending'
            models.Index(fields=["state", "created_at"], name="report_state_created"),
        ]

    def __str__(self) -> str:
        return f"{self.strategy} — {self.label}"

    @property
    def is_ready(self) -> bool:
        return self.state == ReportState.READY


class Subscription(models.Model):
    """Someone who wants a strategy's report by e-mail at a cadence.

    Either a user of the mission (the address is their account's, read at sending time)
    or an outside address a manager added. Unsubscribing keeps the row, inactive, so the
    deliveries it received stay explained.
    """

    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="subscriptions")
    cadence = models.CharField(
        max_length=10, choices=[c for c in Cadence.choices if c[0] != Cadence.ON_DEMAND]
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="report_subscriptions",
    )
    email = models.EmailField(blank=True, help_text="An outside address; empty for users.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "cadence", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(email=""))
                | (Q(user__isnull=True) & ~Q(email="")),
                name="subscription_user_or_email",
            ),
            models.CheckConstraint(
                condition=Q(cadence__in=[Cadence.WEEKLY, Cadence.MONTHLY, Cadence.QUARTERLY]),
                name="subscription_cadence_valid",
            ),
            models.UniqueConstraint(
                fields=["strategy", "cadence", "user"],
                condition=Q(user__isnull=False),
                name="subscription_unique_user",
            ),
            models.UniqueConstraint(
                fields=["strategy", "cadence", "email"],
                condition=Q(user__isnull=True),
                name="subscription_unique_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_label} — {self.get_cadence_display()} {self.strategy}"

    @property
    def recipient_label(self) -> str:
        if self.user_id:
            return self.user.get_full_name() or self.user.get_username()
        return self.email

    @property
    def address(self) -> str:
        return self.user.email if self.user_id else self.email


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class SendState(models.Model):
    """What every e-mail row (Delivery, Reminder) tracks: claimed pending → sending by one
    sender, then sent, or back to pending with a next attempt, or failed for good
    (`tracking.reports.services._claim` / `_finish`)."""

    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Delivery(SendState):
    """One report e-mailed to one address. The unique row is what makes "exactly once":
    a sender must move it from pending to sending with a conditional UPDATE before it may
    talk to the mail server, and marks it sent (or failed after the last attempt)."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="deliveries")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    email = models.EmailField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["report", "email"], name="delivery_once_per_address"),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="delivery_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.SENT) | Q(sent_at__isnull=False),
                name="delivery_sent_has_time",
            ),
        ]
        indexes = [
            # Dispatcher catch-up: WHERE state IN ('pending','sending') AND next_attempt_at < now
            models.Index(fields=["state", "next_attempt_at"], name="delivery_state_next"),
        ]

    def __str__(self) -> str:
        return f"{self.report} → {self.email} ({self.state})"


class Reminder(SendState):
    """One weekly digest e-mail to one person about what they own that is overdue.

    Created only when there is something to say; unique per (user, week) so a second
    beat or a redelivered task never sends a second digest that week."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    week_start = models.DateField(help_text="The Monday of the week the digest belongs to.")
    email = models.EmailField()
    items = models.JSONField(default=dict, editable=False)

    class Meta:
        ordering = ["-week_start", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="reminder_once_per_week"),
            models.CheckConstraint(
                condition=Q(state__in=DeliveryState.values), name="reminder_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="reminder_state_next"),
        ]

    def __str__(self) -> str:
        return f"Reminder for {self.user} — week of {self.week_start}"


# Analysis documents live in their own module (issue #9); imported here so they belong to
# this app and its migrations.
from tracking.analyses.models import AnalysisDocument, AnalysisLink, SourceKind  # noqa: E402, F401
