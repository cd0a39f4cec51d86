"""What is tracked against the strategy tree: indicators, their periods, progress notes.

strategy.Node ─< Indicator ─< IndicatorPeriod
strategy.Strategy ─< ProgressNote ─< NoteLink >─ strategy.Node (one link is primary)
                                  ─< NoteSource, NoteAttachment

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
