"""Shapes of missions, strategies, milestones and members in the API.

Serializers only validate types and shapes; writes go through `strategy.services`.
Writable foreign keys are limited to objects of the caller's missions (`scoped_queryset`).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from strategy.api.base import visible_mission_ids
from strategy.models import Membership, Milestone, Mission, Node, Role, Strategy
from strategy.selectors import role_in

User = get_user_model()


def _user(context) -> object:
    return context["request"].user


class ScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A primary key that only resolves to objects of the caller's missions; anything else
    is "does not exist" (400), never a hint that it exists elsewhere."""

    def __init__(self, *, mission_field: str, **kwargs):
        self.mission_field = mission_field
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        ids = visible_mission_ids(request.user)
        return queryset if ids is None else queryset.filter(**{f"{self.mission_field}__in": ids})


class MemberField(serializers.SlugRelatedField):
    """A user by username, limited to members of the caller's missions."""

    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return User.objects.none()
        ids = visible_mission_ids(request.user)
        users = User.objects.filter(is_active=True)
        return users if ids is None else users.filter(memberships__mission_id__in=ids).distinct()


class MissionSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role in this mission.")

    class Meta:
        model = Mission
        fields = ["id", "name", "country", "slug", "role", "version", "created_at"]
        read_only_fields = ["version", "created_at"]

    def get_role(self, mission: Mission) -> str | None:
        return role_in(_user(self.context), mission.id)


class MissionUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Mission
        fields = ["name", "country"]


class MembershipSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    user_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "user", "role", "created_at"]


class MembershipWriteSerializer(serializers.Serializer):
    username = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), source="user"
    )
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class StrategySerializer(serializers.ModelSerializer):
    mission = ScopedPrimaryKeyField(mission_field="id", queryset=Mission.objects.all())
    mission_name = serializers.CharField(source="mission.name", read_only=True)
    period_label = serializers.CharField(read_only=True)

    class Meta:
        model = Strategy
        fields = [
            "id",
            "mission",
            "mission_name",
            "title",
            "kind",
            "period_start_fy",
            "period_end_fy",
            "period_label",
            "approved_on",
            "reviewed_on",
            "status",
            "com_priorities",
            "com_priorities_sensitive",
            "freshness_days",
            "rollup",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {
            "period_start_fy": {"min_value": 1900, "max_value": 2200},
            "period_end_fy": {"min_value": 1900, "max_value": 2200},
            "freshness_days": {"min_value": 1, "max_value": 3650},
        }

    def validate(self, attrs):
        start = attrs.get("period_start_fy", getattr(self.instance, "period_start_fy", None))
        end = attrs.get("period_end_fy", getattr(self.instance, "period_end_fy", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"period_end_fy": "The period cannot end before it starts."}
            )
        if (
            self.instance is not None
            and "mission" in attrs
            and attrs["mission"].pk != self.instance.mission_id
        ):
            raise serializers.ValidationError(
                {"mission": "A strategy cannot move to another mission."}
            )
        return attrs


class StrategyImportSerializer(serializers.Serializer):
    mission = ScopedPrimaryKeyField(
        mission_field="id", queryset=Mission.objects.all(), required=False, allow_null=True
    )
    strategy = ScopedPrimaryKeyField(
        mission_field="mission_id", queryset=Strategy.objects.all(), required=False, allow_null=True
    )
    dry_run = serializers.BooleanField(default=False)
    text = serializers.CharField(
        required=False, allow_blank=False, trim_whitespace=False, help_text="The document as text."
    )
    file = serializers.FileField(required=False, help_text="The document as an uploaded file.")

    def validate(self, attrs):
        if not attrs.get("mission") and not attrs.get("strategy"):
            raise serializers.ValidationError(
                {"mission": "Say which mission (or strategy) to import into."}
            )
        if bool(attrs.get("text")) == bool(attrs.get("file")):
            raise serializers.ValidationError(
                {"text": "Send the document either as `text` or as `file`."}
            )
        return attrs


class MilestoneSerializer(serializers.ModelSerializer):
    node = ScopedPrimaryKeyField(mission_field="strategy__mission_id", queryset=Node.objects.all())
    node_code = serializers.CharField(source="node.code", read_only=True)
    node_kind = serializers.CharField(source="node.kind", read_only=True)
    owner = MemberField(required=False, allow_null=True)
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Milestone
        fields = [
            "id",
            "node",
            "node_code",
            "node_kind",
            "title",
            "due_on",
            "completed_on",
            "owner",
            "is_overdue",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]

    def validate(self, attrs):
        if (
            self.instance is not None
            and "node" in attrs
            and attrs["node"].pk != self.instance.node_id
        ):
            raise serializers.ValidationError({"node": "A milestone cannot move to another node."})
        return attrs
