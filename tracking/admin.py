"""Django admin for indicators, periods and notes.

Approved notes are read-only here too: an approved assessment is never silently edited.
"""

from django.contrib import admin
from django.db import models

from strategy.admin import HistoryAdmin
from tracking.markdown import render_markdown
from tracking.models import (
    AnalysisDocument,
    AnalysisLink,
    Delivery,
    Indicator,
    IndicatorPeriod,
    NoteAttachment,
    NoteLink,
    NoteSource,
    NoteState,
    ProgressNote,
    Reminder,
    Report,
    Subscription,
)


class IndicatorPeriodInline(admin.TabularInline):
    model = IndicatorPeriod
    extra = 0
    fields = [
        "period_start",
        "period_end",
        "target",
        "actual",
        "comment",
        "recorded_by",
        "recorded_at",
    ]
    readonly_fields = ["recorded_by", "recorded_at"]


@admin.register(Indicator)
class IndicatorAdmin(HistoryAdmin):
    list_display = ["name", "node", "unit", "direction", "frequency", "cumulative_mode", "owner"]
    list_filter = ["direction", "frequency", "cumulative_mode", "node__strategy__mission"]
    search_fields = ["name", "definition", "node__code", "node__title"]
    list_select_related = ["node", "owner"]
    autocomplete_fields = ["node", "owner"]
    inlines = [IndicatorPeriodInline]


@admin.register(IndicatorPeriod)
class IndicatorPeriodAdmin(HistoryAdmin):
    list_display = ["indicator", "period_start", "period_end", "target", "actual", "recorded_by"]
    list_filter = ["indicator__node__strategy__mission", "period_start"]
    search_fields = ["indicator__name"]
    date_hierarchy = "period_start"
    list_select_related = ["indicator", "recorded_by"]
    autocomplete_fields = ["indicator"]
    readonly_fields = ["recorded_by", "recorded_at"]


class NoteLinkInline(admin.TabularInline):
    model = NoteLink
    extra = 0
    autocomplete_fields = ["node"]


class NoteSourceInline(admin.TabularInline):
    model = NoteSource
    extra = 0
    # A link typed without a scheme means https (Django 6's default, chosen today).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class NoteAttachmentInline(admin.TabularInline):
    model = NoteAttachment
    extra = 0
    readonly_fields = ["size", "content_type", "uploaded_by", "uploaded_at"]


@admin.register(ProgressNote)
class ProgressNoteAdmin(HistoryAdmin):
    list_display = ["title", "strategy", "assessment", "as_of", "state", "author", "reviewed_by"]
    list_filter = ["state", "assessment", "strategy__mission"]
    search_fields = ["title", "body", "author__username"]
    date_hierarchy = "as_of"
    list_select_related = ["strategy", "author", "reviewed_by"]
    autocomplete_fields = ["strategy", "author", "reviewed_by", "supersedes"]
    readonly_fields = ["body_html", "version", "submitted_at", "reviewed_at", "approved_at"]
    inlines = [NoteLinkInline, NoteSourceInline, NoteAttachmentInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.state == NoteState.APPROVED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state == NoteState.APPROVED:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.body_html = render_markdown(obj.body)
        obj.version += 1 if change else 0
        super().save_model(request, obj, form, change)


# --- Reports: read-only here. Reports are immutable snapshots and deliveries are a log;
# subscriptions are managed on their pages (services keep the rules and history).


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(_ReadOnly):
    list_display = ["strategy", "cadence", "label", "state", "built_at", "requested_by"]
    list_filter = ["cadence", "state", "strategy__mission"]
    list_select_related = ["strategy", "requested_by"]
    exclude = ["pdf", "content"]
    date_hierarchy = "period_start"


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ["email", "report", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state", "report__cadence", "report__strategy__mission"]
    search_fields = ["email"]
    list_select_related = ["report__strategy"]


@admin.register(Reminder)
class ReminderAdmin(_ReadOnly):
    list_display = ["user", "week_start", "email", "state", "attempts", "sent_at"]
    list_filter = ["state", "week_start"]
    list_select_related = ["user"]


@admin.register(Subscription)
class SubscriptionAdmin(HistoryAdmin, _ReadOnly):
    list_display = ["strategy", "cadence", "user", "email", "is_active", "created_at"]
    list_filter = ["cadence", "is_active", "strategy__mission"]
    search_fields = ["email", "user__username", "user__email"]
    list_select_related = ["strategy", "user"]


class AnalysisLinkInline(admin.TabularInline):
    model = AnalysisLink
    extra = 0
    autocomplete_fields = ["node"]
    readonly_fields = ["confirmed_by", "confirmed_at", "score"]


@admin.register(AnalysisDocument)
class AnalysisDocumentAdmin(HistoryAdmin):
    list_display = ["title", "strategy", "author", "document_date", "source_kind", "created_by"]
    list_filter = ["source_kind", "strategy__mission"]
    search_fields = ["title", "author", "text"]
    date_hierarchy = "document_date"
    list_select_related = ["strategy", "created_by"]
    autocomplete_fields = ["strategy"]
    readonly_fields = ["file_name", "source_kind", "created_by", "version"]
    inlines = [AnalysisLinkInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
