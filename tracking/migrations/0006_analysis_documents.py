"""Analysis documents and their confirmed links to nodes (issue #9), plus the GIN index
over `to_tsvector('english', title || text)` that `tracking.selectors.search` queries on
PostgreSQL (same expression as `ANALYSIS_SEARCH_VECTOR`; nothing on SQLite)."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models

SEARCH_INDEX = "analysis_search_gin"
SEARCH_FIELDS = ("title", "text")


def _search_index():
    return GinIndex(SearchVector(*SEARCH_FIELDS, config="english"), name=SEARCH_INDEX)


def add_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("tracking", "AnalysisDocument"), _search_index())


def remove_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("tracking", "AnalysisDocument"), _search_index())


class Migration(migrations.Migration):
    dependencies = [
        ("strategy", "0004_sensitive_narrative"),
        ("tracking", "0005_sensitive_notes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AnalysisDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=300)),
                (
                    "author",
                    models.CharField(
                        blank=True,
                        help_text="Who wrote it, e.g. “Economic section”.",
                        max_length=200,
                    ),
                ),
                ("document_date", models.DateField(help_text="The date of the document itself.")),
                (
                    "source_url",
                    models.URLField(blank=True, max_length=1000, verbose_name="source link"),
                ),
                ("text", models.TextField(help_text="The full text.")),
                (
                    "file_name",
                    models.CharField(
                        blank=True,
                        help_text="The uploaded file's name; empty when pasted.",
                        max_length=255,
                    ),
                ),
                (
                    "source_kind",
                    models.CharField(
                        choices=[
                            ("pasted", "Pasted text"),
                            ("text", "Text or Markdown file"),
                            ("pdf", "PDF"),
                            ("docx", "Word document"),
                        ],
                        default="pasted",
                        max_length=10,
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="added_analyses",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "strategy",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="analyses",
                        to="strategy.strategy",
                    ),
                ),
            ],
            options={
                "ordering": ["-document_date", "-id"],
            },
        ),
        migrations.CreateModel(
            name="AnalysisLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("confirmed_at", models.DateTimeField()),
                (
                    "score",
                    models.FloatField(
                        blank=True,
                        help_text="The ranker's score when confirmed; empty if added by hand.",
                        null=True,
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="confirmed_analysis_links",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="tracking.analysisdocument",
                    ),
                ),
                (
                    "node",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="analysis_links",
                        to="strategy.node",
                    ),
                ),
            ],
            options={
                "ordering": ["document", "node"],
            },
        ),
        migrations.AddField(
            model_name="analysisdocument",
            name="nodes",
            field=models.ManyToManyField(
                related_name="analyses", through="tracking.AnalysisLink", to="strategy.node"
            ),
        ),
        migrations.CreateModel(
            name="HistoricalAnalysisDocument",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=300)),
                (
                    "author",
                    models.CharField(
                        blank=True,
                        help_text="Who wrote it, e.g. “Economic section”.",
                        max_length=200,
                    ),
                ),
                ("document_date", models.DateField(help_text="The date of the document itself.")),
                (
                    "source_url",
                    models.URLField(blank=True, max_length=1000, verbose_name="source link"),
                ),
                ("text", models.TextField(help_text="The full text.")),
                (
                    "file_name",
                    models.CharField(
                        blank=True,
                        help_text="The uploaded file's name; empty when pasted.",
                        max_length=255,
                    ),
                ),
                (
                    "source_kind",
                    models.CharField(
                        choices=[
                            ("pasted", "Pasted text"),
                            ("text", "Text or Markdown file"),
                            ("pdf", "PDF"),
                            ("docx", "Word document"),
                        ],
                        default="pasted",
                        max_length=10,
                    ),
                ),
                ("version", models.PositiveIntegerField(default=1, editable=False)),
                ("created_at", models.DateTimeField(blank=True, editable=False)),
                ("updated_at", models.DateTimeField(blank=True, editable=False)),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "strategy",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="strategy.strategy",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical analysis document",
                "verbose_name_plural": "historical analysis documents",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalAnalysisLink",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("confirmed_at", models.DateTimeField()),
                (
                    "score",
                    models.FloatField(
                        blank=True,
                        help_text="The ranker's score when confirmed; empty if added by hand.",
                        null=True,
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="tracking.analysisdocument",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "node",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="strategy.node",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical analysis link",
                "verbose_name_plural": "historical analysis links",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddIndex(
            model_name="analysislink",
            index=models.Index(fields=["node", "confirmed_at"], name="analysislink_node_time"),
        ),
        migrations.AddIndex(
            model_name="analysislink",
            index=models.Index(fields=["confirmed_at"], name="analysislink_confirmed"),
        ),
        migrations.AddConstraint(
            model_name="analysislink",
            constraint=models.UniqueConstraint(
                fields=("document", "node"), name="analysislink_unique"
            ),
        ),
        migrations.AddIndex(
            model_name="analysisdocument",
            index=models.Index(
                fields=["strategy", "-document_date"], name="analysis_strategy_date"
            ),
        ),
        migrations.AddConstraint(
            model_name="analysisdocument",
            constraint=models.CheckConstraint(
                condition=models.Q(("source_kind__in", ["pasted", "text", "pdf", "docx"])),
                name="analysis_source_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="analysisdocument",
            constraint=models.CheckConstraint(
                condition=models.Q(("text", ""), _negated=True), name="analysis_text_not_empty"
            ),
        ),
        migrations.RunPython(add_search_index, remove_search_index),
    ]
