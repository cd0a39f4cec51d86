"""FilterSets shared by the API lists and the HTML pages: each filter is documented here
once and nowhere else (django-filter). The strategy page's `TreeFilterForm` (below) filters
a built tree in Python and borrows NodeFilter's definitions for what both offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db.models import Q

from strategy.filters import IdFilter
from strategy.models import Node, NodeKind
from tracking import status as st
from tracking.models import Assessment, Indicator, IndicatorPeriod, NoteState, ProgressNote

if TYPE_CHECKING:
    from tracking.selectors import TreeNode


class NodeFilter(django_filters.FilterSet):
    strategy = IdFilter(help_text="Strategy id.")
    kind = django_filters.MultipleChoiceFilter(
        choices=NodeKind.choices, help_text="One or more kinds."
    )
    parent = IdFilter(help_text="Parent node id.")
    owner = django_filters.CharFilter(field_name="owner__username", help_text="Owner's username.")
    code = django_filters.CharFilter(help_text='Exact code, e.g. "2.1".')
    q = django_filters.CharFilter(
        method="search", help_text="Words in the code, title or narrative."
    )

    class Meta:
        model = Node
        fields = ["strategy", "kind", "parent", "owner", "code"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(code__startswith=value)
            | Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(justification__icontains=value)
        )


class IndicatorFilter(django_filters.FilterSet):
    node = IdFilter(help_text="Node id.")
    strategy = IdFilter(field_name="node__strategy", help_text="Strategy id.")
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Words in the name."
    )

    class Meta:
        model = Indicator
        fields = ["node", "strategy", "direction", "frequency", "cumulative_mode"]


class IndicatorPeriodFilter(django_filters.FilterSet):
    indicator = IdFilter(help_text="Indicator id.")
    strategy = IdFilter(field_name="indicator__node__strategy", help_text="Strategy id.")
    period_start_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    has_actual = django_filters.BooleanFilter(
        field_name="actual", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = IndicatorPeriod
        fields = ["indicator", "strategy"]


class NoteFilter(django_filters.FilterSet):
    strategy = IdFilter(help_text="Strategy id.")
    state = django_filters.MultipleChoiceFilter(choices=NoteState.choices)
    assessment = django_filters.MultipleChoiceFilter(choices=Assessment.choices)
    author = django_filters.CharFilter(
        field_name="author__username", help_text="Author's username."
    )
    node = IdFilter(field_name="links__node", help_text="Notes linked to this node id.")
    as_of_after = django_filters.DateFilter(field_name="as_of", lookup_expr="gte")
    as_of_before = django_filters.DateFilter(field_name="as_of", lookup_expr="lte")
    q = django_filters.CharFilter(method="search", help_text="Words in the title or body.")

    class Meta:
        model = ProgressNote
        fields = ["strategy", "state", "assessment", "author", "node"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))


# --- The strategy page's tree filters (issue #4) -------------------------------------------
#
# Statuses and freshness are computed (tracking.selectors.strategy_tree), not stored, so the
# strategy page filters the tree it has already built, in Python: no query is added. The
# filters that mean the same as NodeFilter's (kind, owner, q) keep its parameter names and
# values (a kind, an owner's username, words), take kind's choices and q's help text from
# it, and `q` matches the same fields the same way as `NodeFilter.search`
# (tests/tracking/test_strategy_filters.py checks that both agree).

STATUS_FILTER_CHOICES = [
    (status, st.label(status))
    for status in (
        st.ON_TRACK,
        st.AT_RISK,
        st.OFF_TRACK,
        st.ACHIEVED,
        st.NOT_STARTED,
        st.NO_DATA,
    )
]
CHANNEL_CHOICES = [
    ("either", "Either channel"),
    ("assessment", "Analyst assessment"),
    ("computed", "Computed from indicators"),
]


def _help(name: str) -> str:
    return NodeFilter.base_filters[name].extra.get("help_text", "")


class TreeFilterForm(forms.Form):
    """Filters of the strategy page, applied to a built tree with `apply(rows)`.

    Also a plain GET form: without JavaScript it reloads the page; with htmx it swaps the
    tree. Owners are offered from the tree's own nodes (their owners come with the nodes).
    A value that is not offered (a stale link) is reported on its field and ignored.
    """

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        help_text=_help("q"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *STATUS_FILTER_CHOICES],
        label="Status",
    )
    channel = forms.ChoiceField(
        required=False,
        choices=CHANNEL_CHOICES,
        label="Status in",
    )
    stale = forms.BooleanField(required=False, label="Stale only")
    kind = forms.ChoiceField(
        required=False,
        choices=[("", "Any kind"), *NodeFilter.base_filters["kind"].extra["choices"]],
        label="Kind",
    )
    owner = forms.ChoiceField(required=False, label="Owner")

    def __init__(self, *args: Any, owners: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        people = {o.get_username(): o.get_full_name() or o.get_username() for o in owners if o}
        self.fields["owner"].choices = [
            ("", "Anyone"),
            *sorted(people.items(), key=lambda item: (item[1].lower(), item[0])),
        ]

    def values(self) -> dict[str, Any]:
        """The valid, non-empty filter values (an invalid field is left out)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        values = {k: data[k] for k in ("q", "status", "kind", "owner", "stale") if data.get(k)}
        if "q" in values:
            values["q"] = values["q"].strip()
            if not values["q"]:
                del values["q"]
        if "status" in values:
            values["channel"] = data.get("channel") or "either"
        return values

    def apply(self, rows: list[TreeNode]) -> TreeFilterResult:
        """The rows to show, in the order given: those matching every filter, plus their
        ancestors (marked as context) so each match keeps its place in the tree."""
        values = self.values()
        if not values:
            return TreeFilterResult(rows=rows, matched=len(rows), total=len(rows))
        by_id = {row.node.id: row for row in rows}
        matched = {row.node.id for row in rows if tree_row_matches(row, values)}
        context: set[int] = set()
        for node_id in matched:
            parent_id = by_id[node_id].node.parent_id
            while parent_id is not None and parent_id in by_id and parent_id not in context:
                context.add(parent_id)
                parent_id = by_id[parent_id].node.parent_id
        context -= matched
        shown = [row for row in rows if row.node.id in matched or row.node.id in context]
        return TreeFilterResult(
            rows=shown,
            matched=len(matched),
            total=len(rows),
            context_ids=context,
            active=values,
        )


@dataclass
class TreeFilterResult:
    """What the strategy page shows: `rows` in document order, `context_ids` the rows shown
    only because something below them matched."""

    rows: list[TreeNode]
    matched: int
    total: int
    context_ids: set[int] = field(default_factory=set)
    active: dict[str, Any] = field(default_factory=dict)

    @property
    def is_filtered(self) -> bool:
        return bool(self.active)


def tree_row_matches(row: TreeNode, values: dict[str, Any]) -> bool:
    """Whether one tree row passes every filter in `values` (see TreeFilterForm.values)."""
    node = row.node
    if values.get("kind") and node.kind != values["kind"]:
        return False
    if values.get("owner") and (node.owner is None or node.owner.get_username() != values["owner"]):
        return False
    if values.get("stale") and not row.is_stale:
        return False
    status = values.get("status")
    if status:
        channel = values.get("channel", "either")
        statuses = {
            "assessment": {row.assessment.status},
            "computed": {row.computed.status},
        }.get(channel, {row.assessment.status, row.computed.status})
        if status not in statuses:
            return False
    q = values.get("q")
    return not q or node_matches_search(node, q)


def node_matches_search(node: Node, q: str) -> bool:
    """`NodeFilter.search` in Python: the code starts with `q`, or the title, description
    or justification contains it (case-insensitive)."""
    needle = q.casefold()
    return node.code.startswith(q) or any(
        needle in (text or "").casefold()
        for text in (node.title, node.description, node.justification)
    )
