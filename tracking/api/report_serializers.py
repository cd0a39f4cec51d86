"""Shapes of status reports and subscriptions in the API (SPEC §2.3, §5).

Serializers only validate types and shapes; writes go through
`tracking.reports.services`. Foreign keys in request bodies resolve only to objects of
the caller's missions (`ScopedPrimaryKeyField`), so another mission's strategy or member
is "does not exist" (400), never a hint that it exists.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from strategy.api.base import visible_mission_ids
from strategy.api.serializers import ScopedPrimaryKeyField
from strategy.models import Strategy
from tracking.models import Cadence, Report, ReportState, Subscription
from tracking.reports.forms import SCHEDULED_CHOICES

User = get_user_model()


# Choice fields whose enum is a named schema component of its own. The property names
# "cadence" and "state" are taken by other choice sets (notes' states; subscriptions offer
# fewer cadences than reports), which drf-spectacular's enum post-processing could only
# name with a hash and a warning; a field that names its component is left alone.


class NamedChoiceField(serializers.ChoiceField):
    enum_name = ""
    enum_choices: list[tuple[str, str]] = []

    def __init__(self, **kwargs):
        super().__init__(choices=self.enum_choices, **kwargs)


class NamedEnumExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str:
        return type(self.target).enum_name

    def map_serializer_field(self, auto_schema, direction) -> dict:
        choices = type(self.target).enum_choices
        return {
            "type": "string",
            "enum": [value for value, _ in choices],
            "description": "\n".join(f"* `{value}` - {label}" for value, label in choices),
        }


class ReportCadenceField(NamedChoiceField):
    enum_name = "ReportCadenceEnum"
    enum_choices = Cadence.choices


class SubscriptionCadenceField(NamedChoiceField):
    enum_name = "SubscriptionCadenceEnum"
    enum_choices = SCHEDULED_CHOICES


class ReportStateField(NamedChoiceField):
    enum_name = "ReportStateEnum"
    enum_choices = ReportState.choices


class ReportLinksSerializer(serializers.Serializer):
    api = serializers.URLField(help_text="This report in the API (poll it while pending).")
    html = serializers.URLField(help_text="The report's page in the browser (sign-in needed).")
    pdf = serializers.URLField(help_text="The PDF, from the API (409 while pending).")
    xlsx = serializers.URLField(help_text="The indicator table as XLSX (409 while pending).")


class ReportSerializer(serializers.ModelSerializer):
    """A report without its snapshot: what lists show."""

    strategy_title = serializers.CharField(source="strategy.title", read_only=True)
    mission = serializers.CharField(
        source="strategy.mission.slug", read_only=True, help_text="The mission's slug."
    )
    cadence = ReportCadenceField(read_only=True)
    cadence_label = serializers.CharField(source="get_cadence_display", read_only=True)
    state = ReportStateField(read_only=True, help_text="pending (being prepared) or ready.")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "strategy",
            "strategy_title",
            "mission",
            "cadence",
            "cadence_label",
            "label",
            "period_start",
            "period_end",
            "state",
            "created_at",
            "built_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(ReportLinksSerializer)
    def get_links(self, report: Report) -> dict[str, str]:
        return report_links(self.context.get("request"), report)


class ReportDetailSerializer(ReportSerializer):
    """One report with its snapshot (`content`, empty while pending). The snapshot's shape
    is documented in `tracking.reports.selectors` (schema 1): counts, changes since the
    previous report, and every goal and objective with both statuses, indicators and
    milestones. Dates are ISO strings and numbers decimal strings."""

    content = serializers.JSONField(read_only=True)

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "content"]
        read_only_fields = fields


def report_links(request, report: Report) -> dict[str, str]:
    def absolute(path: str) -> str:
        return request.build_absolute_uri(path) if request is not None else path

    return {
        "api": absolute(reverse("api:report-detail", args=[report.pk])),
        "html": absolute(reverse("report-detail", args=[report.pk])),
        "pdf": absolute(reverse("api:report-pdf", args=[report.pk])),
        "xlsx": absolute(reverse("api:report-xlsx", args=[report.pk])),
    }


class ReportRequestSerializer(serializers.Serializer):
    strategy = ScopedPrimaryKeyField(mission_field="mission_id", queryset=Strategy.objects.all())
    cadence = ReportCadenceField(
        default=Cadence.ON_DEMAND,
        help_text="on_demand (default): today's report. weekly, monthly or quarterly: the "
        "latest period of that cadence that is due.",
    )


class ReportRequestedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = ReportStateField(
        help_text="pending: poll `url` until ready; ready: the report exists already.",
    )
    url = serializers.URLField(help_text="The report in the API: poll it until state is ready.")


@extend_schema_field(OpenApiTypes.INT)
class ScopedMemberIdField(serializers.PrimaryKeyRelatedField):
    """A user id among the members of the caller's missions (anyone else: does not exist)."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return User.objects.none()
        users = User.objects.filter(is_active=True)
        ids = visible_mission_ids(request.user)
        return users if ids is None else users.filter(memberships__mission_id__in=ids).distinct()


class SubscriptionSerializer(serializers.ModelSerializer):
    strategy_title = serializers.CharField(source="strategy.title", read_only=True)
    username = serializers.CharField(
        source="user.username", read_only=True, allow_null=True, default=None
    )
    # Plain strings, not "email" formats: both are empty in some rows (`email` for
    # members, `address` for a member whose account has no address).
    email = serializers.CharField(
        read_only=True, help_text="An outside address; empty for members (see `user`)."
    )
    address = serializers.CharField(
        read_only=True, help_text="Where the reports go: the member's address, or `email`."
    )
    cadence = SubscriptionCadenceField(read_only=True)
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "strategy",
            "strategy_title",
            "cadence",
            "user",
            "username",
            "email",
            "address",
            "is_active",
            "unsubscribed_at",
            "created_by",
            "created_at",
            "version",
        ]
        read_only_fields = fields


class SubscriptionCreateSerializer(serializers.Serializer):
    """Subscribe yourself with {strategy, cadence}; managers may instead name a member
    (`user`, an id) or an outside address (`email`)."""

    strategy = ScopedPrimaryKeyField(mission_field="mission_id", queryset=Strategy.objects.all())
    cadence = SubscriptionCadenceField()
    user = ScopedMemberIdField(
        required=False, allow_null=True, help_text="A member of the mission (managers)."
    )
    email = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="An outside address (managers).",
    )


class SubscriptionUpdateSerializer(serializers.Serializer):
    cadence = SubscriptionCadenceField(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="false unsubscribes (the row stays), true subscribes again."
    )
