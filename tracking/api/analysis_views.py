"""API of analysis documents: `/api/v1/analyses/` (+ `/{id}/links/`, `/suggest/`).

Thin, like the notes API: scope to the caller's missions (other missions' analyses are
404, their strategies and nodes "do not exist"), validate shapes, call one service or
selector. Members read; analysts and managers add and link; the person who added an
analysis, or a manager, edits or deletes it (the services decide, 403 otherwise).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Length
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from strategy.api.base import ETagMixin, expected_version
from strategy.api.pagination import StableCursorPagination
from strategy.api.parsers import StrictJSONParser
from strategy.filters import IdFilter
from strategy.models import Node
from tracking.analyses.models import AnalysisDocument
from tracking.analyses.selectors import suggestions, visible_analyses
from tracking.analyses.services import (
    analysis_create,
    analysis_delete,
    analysis_link,
    analysis_unlink,
    analysis_update,
    check_upload_size,
    read_upload,
)
from tracking.api.analysis_serializers import (
    AnalysisListSerializer,
    AnalysisSerializer,
    AnalysisUpdateSerializer,
    AnalysisWriteSerializer,
    LinkWriteSerializer,
    SuggestionSerializer,
    SuggestRequestSerializer,
    suggestion_data,
)

PARSERS = [StrictJSONParser, MultiPartParser, FormParser]


class AnalysisFilter(django_filters.FilterSet):
    strategy = IdFilter(help_text="Strategy id.")
    node = IdFilter(field_name="links__node", help_text="Analyses linked to this node id.")
    document_date_after = django_filters.DateFilter(field_name="document_date", lookup_expr="gte")
    document_date_before = django_filters.DateFilter(field_name="document_date", lookup_expr="lte")
    q = django_filters.CharFilter(method="search", help_text="Words in the title or author.")

    class Meta:
        model = AnalysisDocument
        fields = ["strategy", "node"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(author__icontains=value))


def _annotated(documents):
    return documents.annotate(text_length=Length("text"))


def _upload(upload) -> tuple[bytes, str]:
    check_upload_size(size=upload.size or 0, file_name=upload.name or "")
    return upload.read(), upload.name or ""


class AnalysisViewSet(ETagMixin, viewsets.ModelViewSet):
    """Analysis documents: long texts attached to a strategy and linked — by a person
    confirming them — to the goals and objectives they bear on. Create from JSON `text` or
    a multipart `file` (PDF, DOCX, TXT, Markdown); `/suggest/` ranks a strategy's nodes for
    a text without storing anything."""

    queryset = AnalysisDocument.objects.none()  # the model, for the schema
    serializer_class = AnalysisSerializer
    filterset_class = AnalysisFilter
    pagination_class = StableCursorPagination
    parser_classes = PARSERS
    ordering = ("-id",)
    ordering_fields: list = []

    def get_queryset(self):
        documents = _annotated(visible_analyses(user=self.request.user)).order_by("-id")
        if self.action == "list":
            documents = documents.defer("text")  # lists carry `text_length` only
        return documents

    def get_serializer_class(self):
        return AnalysisListSerializer if self.action == "list" else AnalysisSerializer

    def _respond(self, document, code=status.HTTP_200_OK):
        document = _annotated(visible_analyses(user=self.request.user)).get(pk=document.pk)
        self.tag(document)
        return Response(
            AnalysisSerializer(document, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        request={
            "application/json": AnalysisWriteSerializer,
            "multipart/form-data": AnalysisWriteSerializer,
        },
        responses={201: AnalysisSerializer},
    )
    def create(self, request, *args, **kwargs):
        serializer = AnalysisWriteSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("file", None)
        if upload is not None:
            data["file_data"], data["file_name"] = _upload(upload)
            data["text"] = ""
        document = analysis_create(by=request.user, **data)
        return self._respond(document, status.HTTP_201_CREATED)

    @extend_schema(request=AnalysisUpdateSerializer, responses=AnalysisSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=AnalysisUpdateSerializer, responses=AnalysisSerializer)
    def update(self, request, *args, **kwargs):
        document = self.get_object()
        serializer = AnalysisUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        analysis_update(
            document=document,
            by=request.user,
            expected_version=expected_version(request, document),
            **serializer.validated_data,
        )
        return self._respond(document)

    def perform_destroy(self, instance):
        analysis_delete(
            document=instance,
            by=self.request.user,
            expected_version=expected_version(self.request, instance),
        )

    @extend_schema(request=LinkWriteSerializer, responses=AnalysisSerializer)
    @action(detail=True, methods=["post"], url_path="links")
    def links(self, request, pk=None):
        """Confirm the goals and objectives this analysis bears on (nodes of its own
        strategy). Nodes already linked are left as they are."""
        document = self.get_object()
        serializer = LinkWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        analysis_link(
            document=document,
            nodes=serializer.validated_data["nodes"],
            scores=serializer.validated_data.get("scores"),
            by=request.user,
            expected_version=expected_version(request, document),
        )
        return self._respond(document)

    @extend_schema(request=None, responses=AnalysisSerializer)
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<node_id>[0-9]{1,18})")
    def unlink(self, request, pk=None, node_id=None):
        """Remove the link between this analysis and one node."""
        document = self.get_object()
        node = Node.objects.filter(pk=int(node_id), strategy_id=document.strategy_id).first()
        if node is None:
            raise NotFound("This analysis' strategy has no such node.")
        analysis_unlink(
            document=document,
            node=node,
            by=request.user,
            expected_version=expected_version(request, document),
        )
        return self._respond(document)

    @extend_schema(
        request={
            "application/json": SuggestRequestSerializer,
            "multipart/form-data": SuggestRequestSerializer,
        },
        responses=SuggestionSerializer(many=True),
        parameters=[OpenApiParameter("format", exclude=True)],
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def suggest(self, request):
        """The strategy's goals and objectives a text bears on, best first, each with a
        score and the passages that support it (offsets of the matched words included).
        Stores nothing."""
        serializer = SuggestRequestSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("file"):
            raw, name = _upload(data["file"])
            text, _kind = read_upload(data=raw, file_name=name)
        else:
            text = data["text"]
            if "\x00" in text:
                raise ValidationError({"text": "The text contains NUL characters."})
        items = suggestions(strategy=data["strategy"], text=text, limit=data["limit"])
        return Response(SuggestionSerializer(suggestion_data(items), many=True).data)
