"""Browser pages of the tracker. The pages live in `tracking`, not `strategy`, because
they show statuses, which `tracking` computes (`strategy` never imports `tracking`).

Every POST below is a small form on a page (with its CSRF token) that calls one service
and redirects back; "record value" also answers htmx with the indicator's section. The
strategy page's filters are a GET form that htmx also uses; history pages are read-only."""

from django.urls import path

from tracking import export_views, views
from tracking.analyses import views as analyses
from tracking.edit_views import node_edit_page, note_sensitive_view, strategy_edit_page
from tracking.reports import views as reports

urlpatterns = [
    path("", views.home, name="home"),
    path("strategies/<int:pk>/", views.strategy_detail, name="strategy-detail"),
    path("strategies/<int:pk>/export/", export_views.strategy_export, name="strategy-export"),
    path("nodes/<int:pk>/", views.node_detail_page, name="node-detail"),
    path("nodes/<int:pk>/notes/new/", views.note_create_page, name="note-create"),
    path("nodes/<int:pk>/edit/", node_edit_page, name="node-edit"),
    path("strategies/<int:pk>/edit/", strategy_edit_page, name="strategy-edit"),
    path("indicators/<int:pk>/record/", views.indicator_record, name="indicator-record"),
    path("notes/mine/", views.my_notes, name="my-notes"),
    path("notes/<int:pk>/", views.note_detail, name="note-detail"),
    path("notes/<int:pk>/edit/", views.note_edit_page, name="note-edit"),
    path("notes/<int:pk>/submit/", views.note_submit_view, name="note-submit"),
    path("notes/<int:pk>/review/", views.note_review, name="note-review"),
    path("notes/<int:pk>/delete/", views.note_delete_view, name="note-delete"),
    path("notes/<int:pk>/supersede/", views.note_supersede_view, name="note-supersede"),
    path("notes/<int:pk>/sensitive/", note_sensitive_view, name="note-sensitive"),
    path("review/", views.review_queue_page, name="review-queue"),
    path("nodes/<int:pk>/history/", views.node_history, name="node-history"),
    path("indicators/<int:pk>/history/", views.indicator_history, name="indicator-history"),
    path("notes/<int:pk>/history/", views.note_history, name="note-history"),
    # Reports and subscriptions (tracking/reports/views.py). The unsubscribe link of the
    # e-mails works without signing in and takes RFC 8058 one-click POSTs (no CSRF token).
    path("strategies/<int:pk>/reports/", reports.report_list, name="report-list"),
    path("strategies/<int:pk>/reports/generate/", reports.report_generate, name="report-generate"),
    path("reports/<int:pk>/", reports.report_detail, name="report-detail"),
    path("reports/<int:pk>/pdf/", reports.report_pdf, name="report-pdf"),
    path("reports/<int:pk>/xlsx/", reports.report_xlsx, name="report-xlsx"),
    path("subscriptions/", reports.subscriptions_page, name="subscriptions"),
    path("subscriptions/<int:pk>/edit/", reports.subscription_edit, name="subscription-edit"),
    path("subscriptions/<int:pk>/remove/", reports.subscription_remove, name="subscription-remove"),
    path("subscriptions/<int:pk>/send/", reports.subscription_send, name="subscription-send"),
    path(
        "strategies/<int:pk>/subscriptions/",
        reports.strategy_subscriptions,
        name="strategy-subscriptions",
    ),
    path("unsubscribe/<str:token>/", reports.unsubscribe_page, name="unsubscribe"),
    # Analysis documents (tracking/analyses/views.py): links are only saved from the form.
    path("strategies/<int:pk>/analyses/", analyses.analysis_list, name="analysis-list"),
    path(
        "strategies/<int:pk>/analyses/new/",
        analyses.analysis_create_page,
        name="analysis-create",
    ),
    path("analyses/<int:pk>/", analyses.analysis_detail, name="analysis-detail"),
    path("analyses/<int:pk>/links/", analyses.analysis_links_view, name="analysis-links"),
    path(
        "analyses/<int:pk>/links/<int:node_pk>/remove/",
        analyses.analysis_unlink_view,
        name="analysis-unlink",
    ),
    path("analyses/<int:pk>/delete/", analyses.analysis_delete_view, name="analysis-delete"),
]
