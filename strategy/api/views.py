"""API views for missions (and their members), strategies (and document import), milestones.

Thin: scope the queryset to the caller's missions, validate the shape, call one service.
"""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from strategy.api.base import ETagMixin, expected_version, scope
from strategy.api.parsers import PayloadTooLarge, PlainTextParser, StrictJSONParser
from strategy.api.serializers import (
    MembershipRoleSerializer,
    MembershipSerializer,
    MembershipWriteSerializer,
    MilestoneSerializer,
    MissionSerializer,
    MissionUpdateSerializer,
    StrategyImportSerializer,
    StrategySerializer,
)
from strategy.filters import MAX_ID, IdFilter
from strategy.ics.extract import DocumentError, document_text
from strategy.models import Membership, Milestone, Mission, Strategy
from strategy.selectors import require_role
from strategy.services import (
    membership_remove,
    membership_set,
    milestone_create,
    milestone_delete,
    milestone_update,
    mission_create,
    mission_update,
    strategy_create,
    strategy_import,
    strategy_update,
)

User = get_user_model()


class MissionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search name, country or slug")

    class Meta:
        model = Mission
        fields = ["slug", "country"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(country__icontains=value) | Q(slug__icontains=value)
        )


class MissionViewSet(ETagMixin, viewsets.ModelViewSet):
    """Missions you belong to. Superusers create missions; a mission's admins edit it and
    manage its members."""

    queryset = Mission.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = MissionSerializer
    filterset_class = MissionFilter
    ordering_fields = ["name", "country", "created_at"]
    ordering = ["name"]
    http_method_names = ["get", "post", "patch", "put", "delete", "head", "options"]

    def get_queryset(self):
        return scope(Mission.objects.all(), self.request.user, "id").order_by("name", "id")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return MissionUpdateSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        if not self.request.user.is_superuser:
            raise PermissionDenied("Only a superuser may create missions.")
        data = serializer.validated_data
        mission = mission_create(
            name=data["name"],
            country=data.get("country", ""),
            slug=data.get("slug", ""),
            by=self.request.user,
        )
        serializer.instance = mission
        self.tag(mission)

    def update(self, request, *args, **kwargs):
        mission = self.get_object()
        serializer = MissionUpdateSerializer(
            mission, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        mission_update(
            mission=mission,
            by=request.user,
            expected_version=expected_version(request, mission),
            **serializer.validated_data,
        )
        return Response(MissionSerializer(mission, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        mission = self.get_object()
        require_role(request.user, mission.id, "admin", "delete missions")
        raise PermissionDenied(
            "Missions are never deleted here: they hold strategies and their history."
        )

    @extend_schema(responses=MembershipSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def members(self, request, pk=None):
        """Members of the mission and their roles."""
        mission = self.get_object()
        memberships = (
            Membership.objects.filter(mission=mission)
            .select_related("user")
            .order_by("user__username")
        )
        return Response(MembershipSerializer(memberships, many=True).data)

    @extend_schema(request=MembershipWriteSerializer, responses={201: MembershipSerializer})
    @members.mapping.post
    def add_member(self, request, pk=None):
        """Give a user a role in the mission (admins). Changing an existing role works too."""
        mission = self.get_object()
        serializer = MembershipWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_set(
            mission=mission,
            user=serializer.validated_data["user"],
            role=serializer.validated_data["role"],
            by=request.user,
        )
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MembershipRoleSerializer,
        responses={200: MembershipSerializer, 204: OpenApiResponse(description="Removed.")},
        methods=["PATCH", "DELETE"],
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<user_id>\d+)")
    def member(self, request, pk=None, user_id=None):
        """Change a member's role, or remove them from the mission (admins)."""
        mission = self.get_object()
        if int(user_id) > MAX_ID:
            raise NotFound("That user is not a member of this mission.")
        membership = (
            Membership.objects.filter(mission=mission, user_id=user_id)
            .select_related("user")
            .first()
        )
        if membership is None:
            raise NotFound("That user is not a member of this mission.")
        if request.method == "DELETE":
            membership_remove(mission=mission, user=membership.user, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_set(
            mission=mission,
            user=membership.user,
            role=serializer.validated_data["role"],
            by=request.user,
        )
        return Response(MembershipSerializer(membership).data)


class StrategyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="title", lookup_expr="icontains", label="Search titles"
    )

    class Meta:
        model = Strategy
        fields = ["mission", "status", "kind", "period_start_fy"]


class StrategyViewSet(ETagMixin, viewsets.ModelViewSet):
    """Strategies of your missions. Managers create and edit them; they are archived, not
    deleted. `/import/` reads an ICS document into one (see also `/tree/` and `/export/`)."""

    queryset = Strategy.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = StrategySerializer
    filterset_class = StrategyFilter
    ordering_fields = ["title", "period_start_fy", "reviewed_on", "created_at"]
    ordering = ["mission__name", "-period_start_fy", "title"]
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def get_queryset(self):
        return scope(
            Strategy.objects.select_related("mission"), self.request.user, "mission_id"
        ).order_by("mission__name", "-period_start_fy", "title", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        mission = data.pop("mission")
        strategy = strategy_create(mission=mission, by=self.request.user, **data)
        serializer.instance = strategy
        self.tag(strategy)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("mission", None)
        strategy_update(
            strategy=serializer.instance,
            by=self.request.user,
            expected_version=expected_version(self.request, serializer.instance),
            **data,
        )

    @extend_schema(
        request={
            "application/json": StrategyImportSerializer,
            "multipart/form-data": StrategyImportSerializer,
            "text/plain": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter("mission", int, description="For text/plain bodies: the mission id."),
            OpenApiParameter(
                "strategy", int, description="For text/plain bodies: the strategy to update."
            ),
            OpenApiParameter(
                "dry_run", bool, description="For text/plain bodies: parse and report only."
            ),
        ],
        responses={
            200: inline_serializer(
                "ImportResult",
                {
                    "dry_run": serializers.BooleanField(),
                    "mission_name": serializers.CharField(),
                    "counts": serializers.DictField(child=serializers.IntegerField()),
                    "tree": serializers.ListField(child=serializers.DictField()),
                    "discrepancies": serializers.ListField(child=serializers.DictField()),
                    "changes": serializers.DictField(),
                    "strategy_id": serializers.IntegerField(allow_null=True),
                },
            ),
            201: OpenApiResponse(description="Imported into a new strategy (same body as 200)."),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[StrictJSONParser, MultiPartParser, FormParser, PlainTextParser],
    )
    def import_document(self, request):
        """Import an ICS document (text or Markdown) into a mission's strategy. `dry_run`
        returns the parsed tree and the discrepancies without writing anything. Re-importing
        the same document changes nothing; a revised one updates the strategy in place."""
        if isinstance(request.data, str):
            payload = {
                "text": request.data,
                **{
                    k: v
                    for k, v in request.query_params.items()
                    if k in ("mission", "strategy", "dry_run")
                },
            }
        else:
            payload = request.data
        serializer = StrategyImportSerializer(data=payload, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("file"):
            upload = data["file"]
            if upload.size > settings.ICS_IMPORT_MAX_BYTES:
                raise PayloadTooLarge(
                    f"The document is over {settings.ICS_IMPORT_MAX_BYTES:,} bytes."
                )
            raw = upload.read()
            name = upload.name
        else:
            raw = data["text"].encode("utf-8")
            name = "document.txt"
        try:
            text = document_text(raw, filename=name)
        except DocumentError as exc:
            raise serializers.ValidationError(
                {"file" if data.get("file") else "text": str(exc)}
            ) from exc
        result = strategy_import(
            document=text,
            mission=data.get("mission"),
            strategy=data.get("strategy"),
            dry_run=data["dry_run"],
            by=request.user,
        )
        code = (
            status.HTTP_201_CREATED
            if result.strategy_created and not result.dry_run
            else status.HTTP_200_OK
        )
        return Response(result.to_dict(), status=code)


class MilestoneFilter(django_filters.FilterSet):
    strategy = IdFilter(field_name="node__strategy", label="Strategy id")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Only overdue (or only not overdue)"
    )
    q = django_filters.CharFilter(
        field_name="title", lookup_expr="icontains", label="Search titles"
    )

    class Meta:
        model = Milestone
        fields = ["node", "owner"]

    def filter_overdue(self, queryset, name, value):
        today = timezone.localdate()
        overdue = {"completed_on__isnull": True, "due_on__lt": today}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class MilestoneViewSet(ETagMixin, viewsets.ModelViewSet):
    """Dated steps of a node's timetable. Managers edit them; analysts may mark them done."""

    queryset = Milestone.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilter
    ordering_fields = ["due_on", "completed_on", "title"]
    ordering = ["due_on"]

    def get_queryset(self):
        queryset = Milestone.objects.select_related("node", "owner")
        return scope(queryset, self.request.user, "node__strategy__mission_id").order_by(
            "due_on", "id"
        )

    def perform_create(self, serializer):
        milestone = milestone_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = milestone
        self.tag(milestone)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("node", None)
        milestone_update(
            milestone=serializer.instance,
            by=self.request.user,
            expected_version=expected_version(self.request, serializer.instance),
            **data,
        )

    def perform_destroy(self, instance):
        milestone_delete(
            milestone=instance,
            by=self.request.user,
            expected_version=expected_version(self.request, instance),
        )
