"""/api/v1/: every resource of the REST API, from both apps, on one router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from strategy.api.views import MilestoneViewSet, MissionViewSet, StrategyViewSet
from tracking.api.analysis_views import AnalysisViewSet
from tracking.api.report_views import ReportViewSet, SubscriptionViewSet
from tracking.api.views import (
    IndicatorPeriodViewSet,
    IndicatorViewSet,
    NodeViewSet,
    NoteViewSet,
    SearchView,
    StrategyExportView,
    StrategyTreeView,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("missions", MissionViewSet, basename="mission")
router.register("strategies", StrategyViewSet, basename="strategy")
router.register("nodes", NodeViewSet, basename="node")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("indicator-periods", IndicatorPeriodViewSet, basename="indicator-period")
router.register("notes", NoteViewSet, basename="note")
router.register("analyses", AnalysisViewSet, basename="analysis")
router.register("reports", ReportViewSet, basename="report")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("strategies/<int:pk>/tree/", StrategyTreeView.as_view(), name="strategy-tree"),
    path("strategies/<int:pk>/export/", StrategyExportView.as_view(), name="strategy-export"),
    path("search/", SearchView.as_view(), name="search"),
    *router.urls,
]
