"""Analysis documents: long texts (a reading of a white paper, a trade representative's
response, a joint statement) attached to a strategy and linked to the nodes they bear on.

strategy.Strategy ─< AnalysisDocument ─< AnalysisLink >─ strategy.Node

A link exists only because a person confirmed it (`confirmed_by`, `confirmed_at`); the
ranker's suggestions are never stored. Imported by `tracking.models`, so the models
belong to the `tracking` app and its migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from strategy.models import Node, Strategy


class SourceKind(models.TextChoices):
    """Where the stored text came from."""

    PASTED = "pasted", "Pasted text"
    TEXT = "text", "Text or Markdown file"
    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document"


class AnalysisDocument(models.Model):
    """One analysis with its full text, searchable with the notes."""

    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT, related_name="analyses")
    title = models.CharField(max_length=300)
    author = models.CharField(
        max_length=200, blank=True, help_text="Who wrote it, e.g. “Economic section”."
    )
    document_date = models.DateField(help_text="The date of the document itself.")
    source_url = models.URLField("source link", max_length=1000, blank=True)
    text = models.TextField(help_text="The full text.")
    file_name = models.CharField(
        max_length=255, blank=True, help_text="The uploaded file's name; empty when pasted."
    )
    source_kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.PASTED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="added_analyses",
    )
    # Bumped by every write through the services (and by confirming or removing links):
    # the API's ETag and the guard of conditional updates.
    version = models.PositiveIntegerField(default=1, editable=False)
    nodes = models.ManyToManyField(Node, through="AnalysisLink", related_name="analyses")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        app_label = "tracking"
        ordering = ["-document_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source_kind__in=SourceKind.values), name="analysis_source_kind_valid"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="analysis_text_not_empty"),
        ]
        indexes = [
            # The strategy's analyses list: WHERE strategy_id = … ORDER BY document_date DESC
            models.Index(fields=["strategy", "-document_date"], name="analysis_strategy_date"),
        ]

    def __str__(self) -> str:
        return self.title


class AnalysisLink(models.Model):
    """A node an analysis bears on, as a person confirmed it."""

    document = models.ForeignKey(AnalysisDocument, on_delete=models.CASCADE, related_name="links")
    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="analysis_links")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmed_analysis_links",
    )
    confirmed_at = models.DateTimeField()
    score = models.FloatField(
        null=True,
        blank=True,
        help_text="The ranker's score when confirmed; empty if added by hand.",
    )

    history = HistoricalRecords()

    class Meta:
        app_label = "tracking"
        ordering = ["document", "node"]
        constraints = [
            models.UniqueConstraint(fields=["document", "node"], name="analysislink_unique"),
        ]
        indexes = [
            # Node timeline: WHERE node_id = … ORDER BY confirmed_at DESC
            models.Index(fields=["node", "confirmed_at"], name="analysislink_node_time"),
            # Report "what changed": WHERE confirmed_at BETWEEN … (joined to the strategy)
            models.Index(fields=["confirmed_at"], name="analysislink_confirmed"),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.node.code}"
