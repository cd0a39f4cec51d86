"""API views for nodes, the strategy tree and export, indicators, periods, notes, search.

Thin: scope to the caller's missions, validate shapes, call one service or selector.
"""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.db.models import Subquery
from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from strategy.api.base import ETagMixin, expected_version, scope
from strategy.api.pagination import StableCursorPagination
from strategy.api.parsers import CSVParser, PayloadTooLarge, StrictJSONParser
from strategy.models import Node, Strategy
from strategy.services import node_create, node_delete, node_update
from tracking.api.serializers import (
    BulkResultSerializer,
    BulkRowSerializer,
    IndicatorPeriodSerializer,
    IndicatorPeriodUpdateSerializer,
    IndicatorSerializer,
    NodeSerializer,
    NoteSerializer,
    NoteUpdateSerializer,
    NoteWriteSerializer,
    ReviewSerializer,
    SearchResultSerializer,
    SensitiveSerializer,
    TreeNodeSerializer,
)
from tracking.documents import DOCX_TYPE, strategy_document
from tracking.documents import FORMATS as DOCUMENT_FORMATS
from tracking.exports import strategy_export_json
from tracking.filters import IndicatorFilter, IndicatorPeriodFilter, NodeFilter, NoteFilter
from tracking.indicator_files import XLSX_TYPE, XLSXParser
from tracking.models import Indicator, IndicatorPeriod, ProgressNote
from tracking.selectors import search, strategy_tree, strategy_trees, visible_notes
from tracking.services import (
    indicator_create,
    indicator_delete,
    indicator_period_record,
    indicator_periods_bulk,
    indicator_update,
    note_approve,
    note_create,
    note_delete,
    note_mark_sensitive,
    note_return,
    note_submit,
    note_update,
)


class NodeViewSet(ETagMixin, viewsets.ModelViewSet):
    """Goals, objectives, sub-objectives and management objectives, each with both status
    channels (analyst assessment and computed from indicators), freshness and the date of
    its latest approved note. Managers create, edit and delete nodes."""

    queryset = Node.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = NodeSerializer
    filterset_class = NodeFilter
    ordering_fields = ["sort_key", "code", "updated_at"]
    # Strategy by id, then document order: a total order the (strategy, sort_key, id)
    # index serves, so a deep page skips ids in the index instead of sorting every node by
    # mission name (`"strategy"` meant Strategy's Meta ordering: 0.3 s at page 1,458).
    ordering = ["strategy_id", "sort_key", "id"]

    def get_queryset(self):
        queryset = Node.objects.select_related("strategy", "parent", "owner")
        return scope(queryset, self.request.user, "strategy__mission_id").order_by(
            "strategy_id", "sort_key", "id"
        )

    def _statuses(self, nodes: list[Node]) -> dict:
        strategies = {n.strategy_id: n.strategy for n in nodes}
        trees = strategy_trees(strategies=list(strategies.values()))
        return {t.node.id: t for tree in trees.values() for t in tree.walk()}

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(_DeferredJoin(queryset))
        nodes = list(page if page is not None else queryset)
        context = {**self.get_serializer_context(), "tree_nodes": self._statuses(nodes)}
        data = NodeSerializer(nodes, many=True, context=context).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        node = getattr(self, "_etag_object", None)
        if node is not None and "tree_nodes" not in context:
            context["tree_nodes"] = self._statuses([node])
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        node = node_create(by=self.request.user, **data)
        serializer.instance = node
        serializer.context["tree_nodes"] = self._statuses([node])
        self.tag(node)

    def perform_update(self, serializer):
        data = {
            k: v
            for k, v in serializer.validated_data.items()
            if k not in ("strategy", "kind", "code", "parent")
        }
        node_update(
            node=serializer.instance,
            by=self.request.user,
            expected_version=expected_version(self.request, serializer.instance),
            **data,
        )

    def perform_destroy(self, instance):
        node_delete(
            node=instance,
            by=self.request.user,
            expected_version=expected_version(self.request, instance),
        )


class _DeferredJoin:
    """A queryset for the page-number paginator whose pages pick their ids first: a deep
    page (`OFFSET` 100,000) then skips over bare ids instead of joined rows, and only the
    page's own rows are joined to strategies, parents and owners. Same single query."""

    ordered = True

    def __init__(self, queryset):
        self.queryset = queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self.queryset[index]
        ids = self.queryset.values("id")[index]
        return self.queryset.filter(id__in=Subquery(ids))


class StrategyTreeView(generics.GenericAPIView):
    """The whole tree of a strategy with both statuses, reasons, freshness, indicator
    progress and overdue milestones — the same data the strategy page shows."""

    queryset = Strategy.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = TreeNodeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return scope(Strategy.objects.select_related("mission"), self.request.user, "mission_id")

    @extend_schema(
        responses=inline_serializer(
            "StrategyTree",
            {
                "strategy": serializers.IntegerField(),
                "title": serializers.CharField(),
                "as_of": serializers.DateField(),
                "counts": serializers.DictField(),
                "tree": TreeNodeSerializer(many=True),
            },
        )
    )
    def get(self, request, pk: int):
        strategy = self.get_object()
        tree = strategy_tree(strategy=strategy)
        return Response(
            {
                "strategy": strategy.id,
                "title": strategy.title,
                "as_of": tree.today.isoformat(),
                "counts": tree.counts(),
                "tree": TreeNodeSerializer(tree.roots, many=True).data,
            }
        )


def _flag(request, name: str) -> bool:
    """A true/false query parameter: absent is false; anything but a boolean word is a 400."""
    value = request.query_params.get(name, "").strip().lower()
    if value in ("", "false", "0", "no", "off"):
        return False
    if value in ("true", "1", "yes", "on"):
        return True
    raise ValidationError({name: "Must be true or false."})


def _document_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.BINARY, description=description)


class StrategyExportView(generics.GenericAPIView):
    """The strategy as JSON that round-trips into an empty instance (tree, indicators,
    periods, notes), or as an ICS-shaped document — Markdown, Word (DOCX) or PDF — that the
    import reads back to the same tree. Documents can be the public-release version
    (`public=true`: sensitive narrative and notes left out, marked FOR PUBLIC RELEASE) and
    carry an appendix of indicators, milestones and latest notes (`appendix=true`)."""

    queryset = Strategy.objects.none()  # the model, for the schema; get_queryset() scopes

    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        return scope(Strategy.objects.select_related("mission"), self.request.user, "mission_id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=["json", *DOCUMENT_FORMATS],
                description="json (default), or a document: md, docx or pdf",
            ),
            OpenApiParameter(
                "public",
                bool,
                description="Documents only: the public-release version (default false)",
            ),
            OpenApiParameter(
                "appendix",
                bool,
                description="Documents only: add the indicators, milestones and latest notes "
                "appendix (default false)",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/markdown"): OpenApiTypes.STR,
            (200, DOCX_TYPE): _document_response("The document as a Word file."),
            (200, "application/pdf"): _document_response("The document as an A4 PDF."),
        },
    )
    def get(self, request, pk: int):
        strategy = self.get_object()
        fmt = request.query_params.get("format", "json")
        if fmt == "json":
            return Response(strategy_export_json(strategy=strategy, reader=request.user))
        if fmt not in DOCUMENT_FORMATS:
            raise ValidationError({"format": "Choose json, md, docx or pdf."})
        document = strategy_document(
            strategy=strategy,
            fmt=fmt,
            public=_flag(request, "public"),
            appendix=_flag(request, "appendix"),
        )
        response = HttpResponse(document.content, content_type=document.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=document.filename
        )
        return response


class IndicatorViewSet(ETagMixin, viewsets.ModelViewSet):
    """Indicators with their reference-sheet fields. Managers create, edit and delete them
    (an indicator with recorded values cannot be deleted)."""

    queryset = Indicator.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilter
    ordering_fields = ["name", "updated_at"]
    ordering = ["node", "name"]

    def get_queryset(self):
        queryset = Indicator.objects.select_related("node", "owner")
        return scope(queryset, self.request.user, "node__strategy__mission_id").order_by(
            "node_id", "name", "id"
        )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        indicator = indicator_create(
            node=data.pop("node"), name=data.pop("name"), by=self.request.user, **data
        )
        serializer.instance = indicator
        self.tag(indicator)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "node"}
        indicator_update(
            indicator=serializer.instance,
            by=self.request.user,
            expected_version=expected_version(self.request, serializer.instance),
            **data,
        )

    def perform_destroy(self, instance):
        indicator_delete(
            indicator=instance,
            by=self.request.user,
            expected_version=expected_version(self.request, instance),
        )


class IndicatorPeriodViewSet(ETagMixin, viewsets.ModelViewSet):
    """Targets and actuals per reporting period. POST upserts by (indicator, period_start):
    analysts record actuals and comments, managers set targets. Recorded values are never
    deleted. `/bulk/` takes many rows at once, as JSON or CSV."""

    queryset = IndicatorPeriod.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = IndicatorPeriodSerializer
    filterset_class = IndicatorPeriodFilter
    pagination_class = StableCursorPagination
    ordering = ("id",)
    ordering_fields: list = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = IndicatorPeriod.objects.select_related("indicator", "recorded_by")
        return scope(queryset, self.request.user, "indicator__node__strategy__mission_id").order_by(
            "id"
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values = {k: data[k] for k in ("actual", "target", "comment") if k in data}
        existed = IndicatorPeriod.objects.filter(
            indicator=data["indicator"], period_start=data["period_start"]
        ).exists()
        period, _ = indicator_period_record(
            indicator=data["indicator"],
            period_start=data["period_start"],
            by=request.user,
            **values,
        )
        self.tag(period)
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(
            IndicatorPeriodSerializer(period, context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(request=IndicatorPeriodUpdateSerializer, responses=IndicatorPeriodSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=IndicatorPeriodUpdateSerializer, responses=IndicatorPeriodSerializer)
    def update(self, request, *args, **kwargs):
        period = self.get_object()
        serializer = IndicatorPeriodUpdateSerializer(
            data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        period, _ = indicator_period_record(
            indicator=period.indicator,
            period_start=period.period_start,
            by=request.user,
            expected_version=expected_version(request, period),
            **serializer.validated_data,
        )
        self.tag(period)
        return Response(
            IndicatorPeriodSerializer(period, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request={
            "application/json": BulkRowSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
            XLSX_TYPE: OpenApiTypes.BINARY,
        },
        responses={200: BulkResultSerializer},
        description=(
            "Upsert many values keyed by (indicator, period_start). JSON: an array of rows; "
            "CSV: a header row with indicator,period_start and any of actual,target,comment. "
            "XLSX: the same columns on the first sheet (entity declarations are refused). "
            "All or nothing: one bad row rejects the batch, and `fields` names every bad row "
            f"as rows[N].field (N from 1). At most BULK_MAX_ROWS ({settings.BULK_MAX_ROWS:,}) "
            "rows per request (413 above)."
        ),
    )
    @action(
        detail=False, methods=["post"], parser_classes=[StrictJSONParser, CSVParser, XLSXParser]
    )
    def bulk(self, request):
        rows = _csv_rows(request.data) if isinstance(request.data, str) else request.data
        if not isinstance(rows, list):
            raise ValidationError({"non_field_errors": "Send a JSON array of rows (or text/csv)."})
        if len(rows) > settings.BULK_MAX_ROWS:
            raise PayloadTooLarge(
                f"{len(rows):,} rows; at most {settings.BULK_MAX_ROWS:,} per request."
            )
        if not rows:
            raise ValidationError({"non_field_errors": "There are no rows to upload."})
        result = indicator_periods_bulk(rows=rows, by=request.user)
        return Response(BulkResultSerializer(result).data)


def _csv_rows(text: str) -> list[dict]:
    # newline="": the csv module splits rows itself (a lone \r ends a row, as in old Mac
    # files); the header is read inside the try, so a malformed one is a 400 too.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        if not reader.fieldnames or not {"indicator", "period_start"} <= {
            f.strip() for f in reader.fieldnames
        }:
            raise ValidationError(
                {"non_field_errors": "The CSV needs a header row with indicator and period_start."}
            )
        for row in reader:
            if None in row:
                raise ValidationError(
                    {f"rows[{len(rows) + 1}]": "This row has more cells than the header."}
                )
            rows.append(
                {
                    k.strip(): (v.strip() if isinstance(v, str) else v)
                    for k, v in row.items()
                    if v not in ("", None)
                }
            )
    except csv.Error as exc:
        raise ValidationError({"non_field_errors": f"Malformed CSV: {exc}"}) from exc
    return rows


class NoteViewSet(ETagMixin, viewsets.ModelViewSet):
    """Progress notes and their review workflow: analysts write and submit, managers
    approve or return with a comment. Drafts are visible to their author only."""

    queryset = ProgressNote.objects.none()  # the model, for the schema; get_queryset() scopes

    serializer_class = NoteSerializer
    filterset_class = NoteFilter
    pagination_class = StableCursorPagination
    ordering = ("-id",)
    ordering_fields: list = []

    def get_queryset(self):
        return visible_notes(user=self.request.user).order_by("-id")

    def get_serializer_class(self):
        if self.action == "create":
            return NoteWriteSerializer
        if self.action in ("update", "partial_update"):
            return NoteUpdateSerializer
        return NoteSerializer

    def _respond(self, note, code=status.HTTP_200_OK):
        note = self.get_queryset().get(pk=note.pk)
        self.tag(note)
        return Response(
            NoteSerializer(note, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(request=NoteWriteSerializer, responses={201: NoteSerializer})
    def create(self, request, *args, **kwargs):
        serializer = NoteWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        note = note_create(author=request.user, **data)
        return self._respond(note, status.HTTP_201_CREATED)

    @extend_schema(request=NoteUpdateSerializer, responses=NoteSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=NoteUpdateSerializer, responses=NoteSerializer)
    def update(self, request, *args, **kwargs):
        note = self.get_object()
        serializer = NoteUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        note_update(
            note=note,
            by=request.user,
            expected_version=expected_version(request, note),
            **serializer.validated_data,
        )
        return self._respond(note)

    def perform_destroy(self, instance):
        note_delete(
            note=instance,
            by=self.request.user,
            expected_version=expected_version(self.request, instance),
        )

    @extend_schema(request=None, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft (or a returned note) for review."""
        note = self.get_object()
        note_submit(note=note, by=request.user, expected_version=expected_version(request, note))
        return self._respond(note)

    @extend_schema(request=ReviewSerializer, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted note (managers; not your own)."""
        note = self.get_object()
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note_approve(
            note=note, by=request.user, comment=serializer.validated_data.get("comment", ""),
            expected_version=expected_version(request, note),
        )  # fmt: skip
        return self._respond(note)

    @extend_schema(request=ReviewSerializer, responses=NoteSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_note(self, request, pk=None):
        """Return a submitted note to its author with a comment saying what to change."""
        note = self.get_object()
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note_return(
            note=note, by=request.user, comment=serializer.validated_data.get("comment", ""),
            expected_version=expected_version(request, note),
        )  # fmt: skip
        return self._respond(note)

    @extend_schema(request=SensitiveSerializer, responses=NoteSerializer)
    @action(detail=True, methods=["post"])
    def sensitive(self, request, pk=None):
        """Mark a note under review or approved as sensitive — left out of the
        public-release document — or as publishable again (managers). Only the flag
        changes; honours `If-Match`. Drafts and returned notes are their author's, who sets
        `is_sensitive` when editing them."""
        note = self.get_object()
        serializer = SensitiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note_mark_sensitive(
            note=note, sensitive=serializer.validated_data["sensitive"], by=request.user,
            expected_version=expected_version(request, note),
        )  # fmt: skip
        return self._respond(note)


class SearchView(generics.GenericAPIView):
    """Search nodes, notes and analyses of your missions. PostgreSQL: full-text search, ranked;
    SQLite: a simple substring match."""

    serializer_class = SearchResultSerializer
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="Words to look for."),
            OpenApiParameter(
                "limit", int, description="At most this many results (1–200, default 50)."
            ),
        ],
        responses=SearchResultSerializer(many=True),
    )
    def get(self, request):
        q = request.query_params.get("q", "").strip()
        if not q:
            raise ValidationError({"q": "Say what to search for."})
        if len(q) > 200:
            raise ValidationError({"q": "Search for at most 200 characters."})
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), 200)
        except ValueError as exc:
            raise ValidationError({"limit": "A whole number from 1 to 200."}) from exc
        # search() returns plain rows of exactly SearchResultSerializer's fields and types
        # (the serializer stays for the schema); running it only copied them (issue #6).
        return Response(search(user=request.user, q=q, limit=limit))
