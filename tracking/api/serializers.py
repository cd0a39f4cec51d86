"""Shapes of nodes (with both statuses), indicators, periods and notes in the API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from strategy.api.serializers import MemberField, ScopedPrimaryKeyField
from strategy.models import Node, NodeKind, Strategy
from tracking.models import Assessment, Indicator, IndicatorPeriod, ProgressNote
from tracking.selectors import TreeNode

MISSION_OF_NODE = "strategy__mission_id"


class SourceSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=1000)
    label = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class StatusSerializer(serializers.Serializer):
    status = serializers.CharField(
        help_text="on_track, at_risk, off_track, achieved, not_started or no_data"
    )
    label = serializers.CharField()
    reason = serializers.CharField(
        help_text='Why, e.g. "At risk because 2.1 is at risk: note … of 3 May 2024".'
    )


def _status(info) -> dict:
    return {"status": info.status, "label": info.label, "reason": info.reason}


class NodeSerializer(serializers.ModelSerializer):
    """A tree node with both status channels, computed by `strategy_trees` for the whole
    page at once (the view puts {node id: TreeNode} in the context)."""

    strategy = ScopedPrimaryKeyField(mission_field="mission_id", queryset=Strategy.objects.all())
    parent = ScopedPrimaryKeyField(
        mission_field=MISSION_OF_NODE, queryset=Node.objects.all(), required=False, allow_null=True
    )
    parent_code = serializers.SerializerMethodField()
    owner = MemberField(required=False, allow_null=True)
    assessment = serializers.SerializerMethodField()
    computed = serializers.SerializerMethodField()
    is_stale = serializers.SerializerMethodField()
    last_approved_note_on = serializers.SerializerMethodField()
    linkages = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=50
    )

    class Meta:
        model = Node
        fields = [
            "id",
            "strategy",
            "kind",
            "code",
            "title",
            "parent",
            "parent_code",
            "description",
            "justification",
            "risks",
            "description_sensitive",
            "justification_sensitive",
            "risks_sensitive",
            "linkages",
            "owner",
            "assessment",
            "computed",
            "is_stale",
            "last_approved_note_on",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {
            name: {"help_text": f"The {field} is left out of the public-release document."}
            for name, field in [
                ("description_sensitive", "description"),
                ("justification_sensitive", "justification"),
                ("risks_sensitive", "risks narrative"),
            ]
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_code(self, node: Node) -> str | None:
        return node.parent.code if node.parent_id else None

    def _tree_node(self, node: Node) -> TreeNode | None:
        return self.context.get("tree_nodes", {}).get(node.pk)

    @extend_schema_field(StatusSerializer(allow_null=True))
    def get_assessment(self, node: Node) -> dict | None:
        t = self._tree_node(node)
        return _status(t.assessment) if t else None

    @extend_schema_field(StatusSerializer(allow_null=True))
    def get_computed(self, node: Node) -> dict | None:
        t = self._tree_node(node)
        return _status(t.computed) if t else None

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_stale(self, node: Node) -> bool | None:
        t = self._tree_node(node)
        return t.is_stale if t else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_last_approved_note_on(self, node: Node) -> str | None:
        t = self._tree_node(node)
        return t.last_update.isoformat() if t and t.last_update else None

    def validate(self, attrs):
        if self.instance is not None:
            for fixed in ("strategy", "kind", "code", "parent"):
                if fixed in attrs and getattr(self.instance, fixed) != attrs[fixed]:
                    raise serializers.ValidationError(
                        {fixed: "Kind, code, parent and strategy are fixed once a node exists."}
                    )
        elif attrs.get("kind") not in NodeKind.values:
            raise serializers.ValidationError({"kind": "Choose a kind."})
        return attrs


class IndicatorSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="indicator.id")
    name = serializers.CharField(source="indicator.name")
    unit = serializers.CharField(source="indicator.unit")
    direction = serializers.CharField(source="indicator.direction")
    period = serializers.CharField(source="period_label")
    target = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    actual = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    progress_percent = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    late_period = serializers.CharField(source="late_period_label")


class TreeNodeSerializer(serializers.Serializer):
    """One node of `/strategies/{id}/tree/`, children nested."""

    id = serializers.IntegerField(source="node.id")
    kind = serializers.CharField(source="node.kind")
    code = serializers.CharField(source="node.code")
    title = serializers.CharField(source="node.title")
    owner = serializers.CharField(source="node.owner.username", default=None, allow_null=True)
    assessment = serializers.SerializerMethodField()
    computed = serializers.SerializerMethodField()
    disagreement = serializers.BooleanField()
    last_approved_note_on = serializers.DateField(source="last_update", allow_null=True)
    days_since_update = serializers.IntegerField(allow_null=True)
    is_stale = serializers.BooleanField()
    overdue_milestones = serializers.IntegerField()
    indicators = IndicatorSummarySerializer(many=True)
    children = serializers.SerializerMethodField()

    @extend_schema_field(StatusSerializer)
    def get_assessment(self, t: TreeNode) -> dict:
        return _status(t.assessment)

    @extend_schema_field(StatusSerializer)
    def get_computed(self, t: TreeNode) -> dict:
        return _status(t.computed)

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_children(self, t: TreeNode) -> list[dict]:
        return TreeNodeSerializer(t.children, many=True).data


class IndicatorSerializer(serializers.ModelSerializer):
    node = ScopedPrimaryKeyField(mission_field=MISSION_OF_NODE, queryset=Node.objects.all())
    node_code = serializers.CharField(source="node.code", read_only=True)
    node_kind = serializers.CharField(source="node.kind", read_only=True)
    owner = MemberField(required=False, allow_null=True)
    baseline_value = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )

    class Meta:
        model = Indicator
        fields = [
            "id",
            "node",
            "node_code",
            "node_kind",
            "name",
            "definition",
            "unit",
            "direction",
            "baseline_value",
            "baseline_date",
            "data_source",
            "collection_method",
            "frequency",
            "cumulative_mode",
            "owner",
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
            raise serializers.ValidationError({"node": "An indicator cannot move to another node."})
        return attrs


class IndicatorPeriodSerializer(serializers.ModelSerializer):
    indicator = ScopedPrimaryKeyField(
        mission_field="node__strategy__mission_id", queryset=Indicator.objects.all()
    )
    indicator_name = serializers.CharField(source="indicator.name", read_only=True)
    target = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    actual = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = IndicatorPeriod
        fields = [
            "id",
            "indicator",
            "indicator_name",
            "period_start",
            "period_end",
            "target",
            "actual",
            "comment",
            "recorded_by",
            "recorded_at",
            "version",
        ]
        read_only_fields = ["period_end", "recorded_by", "recorded_at", "version"]
        validators = []  # the service upserts on (indicator, period_start)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_recorded_by(self, period: IndicatorPeriod) -> str | None:
        return period.recorded_by.username if period.recorded_by_id else None


class IndicatorPeriodUpdateSerializer(serializers.Serializer):
    target = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    actual = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class BulkRowSerializer(serializers.Serializer):
    """One row of a bulk upload (the request body is a JSON array of these, or CSV with
    these columns)."""

    indicator = serializers.IntegerField()
    period_start = serializers.DateField()
    actual = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    target = serializers.DecimalField(
        max_digits=20, decimal_places=4, required=False, allow_null=True
    )
    comment = serializers.CharField(required=False, allow_blank=True)


class NoteSerializer(serializers.ModelSerializer):
    strategy = ScopedPrimaryKeyField(mission_field="mission_id", queryset=Strategy.objects.all())
    author = serializers.CharField(source="author.username", read_only=True)
    reviewed_by = serializers.SerializerMethodField()
    nodes = serializers.SerializerMethodField()
    primary_node = serializers.SerializerMethodField()
    sources = serializers.SerializerMethodField()

    class Meta:
        model = ProgressNote
        fields = [
            "id",
            "strategy",
            "title",
            "body",
            "body_html",
            "assessment",
            "justification",
            "is_sensitive",
            "as_of",
            "state",
            "author",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "approved_at",
            "supersedes",
            "nodes",
            "primary_node",
            "sources",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reviewed_by(self, note: ProgressNote) -> str | None:
        return note.reviewed_by.username if note.reviewed_by_id else None

    @extend_schema_field(
        serializers.ListField(
            child=serializers.DictField(), help_text="Linked nodes: id, code, kind, is_primary."
        )
    )
    def get_nodes(self, note: ProgressNote) -> list[dict]:
        return [
            {
                "id": link.node_id,
                "code": link.node.code,
                "kind": link.node.kind,
                "is_primary": link.is_primary,
            }
            for link in note.links.all()
        ]

    def get_primary_node(self, note: ProgressNote) -> int | None:
        return next((link.node_id for link in note.links.all() if link.is_primary), None)

    @extend_schema_field(SourceSerializer(many=True))
    def get_sources(self, note: ProgressNote) -> list[dict]:
        return [{"url": s.url, "label": s.label} for s in note.sources.all()]


class NoteWriteSerializer(serializers.Serializer):
    strategy = ScopedPrimaryKeyField(mission_field="mission_id", queryset=Strategy.objects.all())
    title = serializers.CharField(max_length=300)
    body = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=100_000
    )
    assessment = serializers.ChoiceField(choices=Assessment.choices)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    is_sensitive = serializers.BooleanField(
        required=False,
        help_text="Left out of the public-release document. Once the note is submitted, "
        "managers change it with `/notes/{id}/sensitive/`.",
    )
    as_of = serializers.DateField()
    nodes = serializers.ListField(
        child=ScopedPrimaryKeyField(mission_field=MISSION_OF_NODE, queryset=Node.objects.all()),
        min_length=1,
        max_length=50,
    )
    primary_node = ScopedPrimaryKeyField(
        mission_field=MISSION_OF_NODE, queryset=Node.objects.all(), required=False, allow_null=True
    )
    sources = SourceSerializer(many=True, required=False, max_length=50)


class NoteUpdateSerializer(NoteWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
        self.fields.pop("strategy")


class SensitiveSerializer(serializers.Serializer):
    sensitive = serializers.BooleanField(
        help_text="true: leave the note out of the public-release document; false: publish it."
    )


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class SearchResultSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["node", "note", "analysis"])
    id = serializers.IntegerField()
    title = serializers.CharField()
    snippet = serializers.CharField()
    strategy = serializers.IntegerField()
    mission = serializers.CharField()
    code = serializers.CharField(allow_null=True)
    rank = serializers.FloatField()
