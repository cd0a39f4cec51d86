"""API views for status reports and subscriptions (SPEC §2.3, §5).

Reports are read-only except for asking for one: `POST /reports/` answers 202 at once
with the report's id, state and the URL to poll (also in `Location`); the build runs on
the worker. `GET /reports/{id}/pdf/` and `/xlsx/` return the files, or 409 (code
`report_pending`) while the report is being prepared — the report exists, it is just not
ready, and 404 keeps meaning "no such report among your missions". Any member of the
mission may read reports; only managers may ask for one (the service decides).

Subscriptions: your own and, for managers, every subscription of their missions'
strategies. PATCH (cadence, is_active) is conditional with `If-Match`, like every other
mutable resource; another mission's subscription is a 404.

Thin: scope, validate shapes, call one `tracking.reports.services` function.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from strategy.api.base import ETagMixin, expected_version
from tracking.api.report_serializers import (
    ReportDetailSerializer,
    ReportRequestedSerializer,
    ReportRequestSerializer,
    ReportSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from tracking.models import Report, Subscription
from tracking.reports.forms import ReportFilter, SubscriptionFilter
from tracking.reports.selectors import visible_reports, visible_subscriptions
from tracking.reports.services import (
    report_request,
    subscription_create,
    subscription_delete,
    subscription_update,
)
from tracking.reports.views import XLSX_TYPE, report_file_response


class ReportPending(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The report is still being prepared; poll it until its state is ready."
    default_code = "report_pending"


PENDING_RESPONSE = OpenApiResponse(
    description="The report is still being prepared (code `report_pending`): poll "
    "`/api/v1/reports/{id}/` until `state` is `ready`, then ask again."
)


class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Status reports of your missions' strategies: immutable snapshots, one per
    strategy, cadence and period. The list leaves out the snapshot; a report's detail
    has it in `content`. Managers ask for a report with POST (202, then poll)."""

    queryset = Report.objects.none()  # the model, for the schema; get_queryset() scopes
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["created_at", "period_start", "built_at", "id"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        reports = visible_reports(user=self.request.user)
        if self.action in ("retrieve", "xlsx"):
            reports = reports.defer(None).defer("pdf")
        elif self.action == "pdf":
            reports = reports.defer(None)  # the file name comes from the content
        return reports.order_by("-created_at", "-id")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ReportDetailSerializer
        if self.action == "create":
            return ReportRequestSerializer
        return ReportSerializer

    def perform_content_negotiation(self, request, force=False):
        # The downloads answer with their own content type whatever `Accept` says (a
        # client asking for application/pdf must not get 406); errors stay JSON.
        if self.action in ("pdf", "xlsx"):
            force = True
        return super().perform_content_negotiation(request, force=force)

    @extend_schema(
        request=ReportRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                location=OpenApiParameter.HEADER,
                response=[202],
                description="The report in the API, to poll (the same as `url`).",
            )
        ],
        responses={
            202: OpenApiResponse(
                ReportRequestedSerializer,
                description="Accepted: the report is being prepared (or exists already); "
                "poll `url` (also in the `Location` header) until `state` is `ready`.",
            )
        },
    )
    def create(self, request, *args, **kwargs):
        """Ask for a report: today's on-demand one, or the latest due one of a cadence.
        Asking again for the same period returns the same report (reports are stored
        once). Managers only."""
        serializer = ReportRequestSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        report = report_request(by=request.user, **serializer.validated_data)
        url = request.build_absolute_uri(reverse("api:report-detail", args=[report.pk]))
        body = ReportRequestedSerializer({"id": report.pk, "state": report.state, "url": url}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    def _ready(self):
        report = self.get_object()
        if not report.is_ready:
            raise ReportPending()
        return report

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF stored when the report was built."
            ),
            409: PENDING_RESPONSE,
        }
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def pdf(self, request, pk=None):
        """The report as PDF (an attachment with a descriptive file name)."""
        return report_file_response(self._ready(), "pdf")

    @extend_schema(
        responses={
            (200, XLSX_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The indicator table of the report."
            ),
            409: PENDING_RESPONSE,
        }
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def xlsx(self, request, pk=None):
        """The report's indicator table as a spreadsheet (XLSX)."""
        return report_file_response(self._ready(), "xlsx")


class SubscriptionViewSet(
    ETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """E-mail subscriptions to strategies' reports: yours, and every subscription of the
    strategies you manage. Anyone subscribes themself; managers also subscribe members
    (`user`) and outside addresses (`email`). Unsubscribing (PATCH is_active=false)
    keeps the row; DELETE removes it."""

    queryset = Subscription.objects.none()  # the model, for the schema; get_queryset() scopes
    serializer_class = SubscriptionSerializer
    ordering_fields = ["created_at", "cadence", "id"]
    ordering = ["id"]
    filterset_class = SubscriptionFilter

    def get_queryset(self):
        return visible_subscriptions(user=self.request.user).order_by("id")

    def _respond(self, subscription, code=status.HTTP_200_OK):
        subscription = self.get_queryset().get(pk=subscription.pk)
        self.tag(subscription)
        data = SubscriptionSerializer(subscription, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SubscriptionCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = subscription_create(
            strategy=data["strategy"],
            cadence=data["cadence"],
            by=request.user,
            user=data.get("user"),
            email=data.get("email", ""),
        )
        return self._respond(subscription, status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change the cadence, unsubscribe (is_active=false) or subscribe again. Send the
        `ETag` you read as `If-Match`: a stale one is 412 and changes nothing."""
        subscription = self.get_object()
        serializer = SubscriptionUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = subscription_update(
            subscription=subscription,
            by=request.user,
            expected_version=expected_version(request, subscription),
            **serializer.validated_data,
        )
        return self._respond(updated)

    def perform_destroy(self, instance):
        subscription_delete(subscription=instance, by=self.request.user)
