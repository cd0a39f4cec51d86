"""Shapes of the analyses API (`tracking.api.analysis_views`)."""

from __future__ import annotations

from rest_framework import serializers

from strategy.api.serializers import ScopedPrimaryKeyField
from strategy.models import Node, Strategy
from tracking.analyses.models import AnalysisDocument, AnalysisLink
from tracking.analyses.services import MAX_TEXT_CHARS, MAX_TITLE_CHARS

MAX_SUGGESTIONS = 20


class AnalysisLinkSerializer(serializers.ModelSerializer):
    node = serializers.IntegerField(source="node_id", read_only=True)
    code = serializers.CharField(source="node.code", read_only=True)
    kind = serializers.CharField(source="node.kind", read_only=True)
    title = serializers.CharField(source="node.title", read_only=True)
    confirmed_by = serializers.CharField(
        source="confirmed_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = AnalysisLink
        fields = ["node", "code", "kind", "title", "confirmed_by", "confirmed_at", "score"]
        read_only_fields = fields


class AnalysisListSerializer(serializers.ModelSerializer):
    """An analysis without its text (lists)."""

    mission = serializers.IntegerField(source="strategy.mission_id", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    text_length = serializers.IntegerField(read_only=True, help_text="Characters of text.")
    source_url = serializers.CharField(read_only=True, help_text="A web address, or empty.")
    links = AnalysisLinkSerializer(many=True, read_only=True)

    class Meta:
        model = AnalysisDocument
        fields = [
            "id",
            "strategy",
            "mission",
            "title",
            "author",
            "document_date",
            "source_url",
            "file_name",
            "source_kind",
            "text_length",
            "links",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AnalysisSerializer(AnalysisListSerializer):
    """An analysis with its full text (retrieve, create, update)."""

    class Meta(AnalysisListSerializer.Meta):
        fields = [*AnalysisListSerializer.Meta.fields, "text"]
        read_only_fields = fields


class AnalysisWriteSerializer(serializers.Serializer):
    """Create from JSON (`text`) or multipart (`file`: PDF, DOCX, TXT or Markdown)."""

    strategy = ScopedPrimaryKeyField(
        queryset=Strategy.objects.all(), mission_field="mission_id", help_text="Strategy id."
    )
    title = serializers.CharField(max_length=MAX_TITLE_CHARS)
    author = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    document_date = serializers.DateField()
    source_url = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_TEXT_CHARS,
        default="",
        help_text="The analysis as text; or send `file` instead (multipart).",
    )
    file = serializers.FileField(required=False, help_text="PDF, DOCX, TXT or Markdown.")

    def validate(self, attrs):
        if not attrs.get("file") and not attrs.get("text", "").strip():
            raise serializers.ValidationError({"text": "Send the text or a file."})
        return attrs


class AnalysisUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=MAX_TITLE_CHARS, required=False)
    author = serializers.CharField(max_length=200, required=False, allow_blank=True)
    document_date = serializers.DateField(required=False)
    source_url = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    text = serializers.CharField(required=False, trim_whitespace=False, max_length=MAX_TEXT_CHARS)


class LinkWriteSerializer(serializers.Serializer):
    nodes = serializers.ListField(
        child=ScopedPrimaryKeyField(
            queryset=Node.objects.all(), mission_field="strategy__mission_id"
        ),
        min_length=1,
        max_length=200,
        help_text="Ids of the goals and objectives a person confirmed (same strategy).",
    )
    scores = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1e6),
        required=False,
        help_text='The suggestion scores by node id, e.g. {"12": 8.4}; kept with the link.',
    )

    def validate_scores(self, value):
        out = {}
        for key, score in value.items():
            if not str(key).isdigit() or len(str(key)) > 18:
                raise serializers.ValidationError(f"“{key}” is not a node id.")
            out[int(key)] = score
        return out


class SuggestRequestSerializer(serializers.Serializer):
    strategy = ScopedPrimaryKeyField(
        queryset=Strategy.objects.all(), mission_field="mission_id", help_text="Strategy id."
    )
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_CHARS
    )
    file = serializers.FileField(required=False, help_text="PDF, DOCX, TXT or Markdown.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_SUGGESTIONS, default=8)

    def validate(self, attrs):
        if not attrs.get("file") and not (attrs.get("text") or "").strip():
            raise serializers.ValidationError({"text": "Send the text or a file."})
        if attrs.get("file") and (attrs.get("text") or "").strip():
            raise serializers.ValidationError({"text": "Send the text or a file, not both."})
        return attrs


class PassageSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text="Offset of the passage in the text.")
    end = serializers.IntegerField()
    text = serializers.CharField()
    score = serializers.FloatField()
    marks = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end] of each matched word, relative to the passage.",
    )


class SuggestionSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    score = serializers.FloatField()
    relevance = serializers.IntegerField(help_text="0–100, relative to the best suggestion.")
    terms = serializers.ListField(child=serializers.CharField())
    passages = PassageSerializer(many=True)


def suggestion_data(items) -> list[dict]:
    """`tracking.analyses.selectors.NodeSuggestion`s as SuggestionSerializer data."""
    return [
        {
            "node": item.node.id,
            "code": item.node.code,
            "kind": item.node.kind,
            "title": item.node.title,
            "score": item.suggestion.score,
            "relevance": item.suggestion.relevance,
            "terms": item.suggestion.terms,
            "passages": [
                {
                    "start": p.start,
                    "end": p.end,
                    "text": p.text,
                    "score": p.score,
                    "marks": [list(m) for m in p.marks],
                }
                for p in item.suggestion.passages
            ],
        }
        for item in items
    ]
