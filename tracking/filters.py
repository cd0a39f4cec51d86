"""FilterSets shared by the API lists and the HTML pages: each filter is documented here
once and nowhere else (django-filter)."""

import django_filters
from django.db.models import Q

from strategy.models import Node, NodeKind
from tracking.models import Assessment, Indicator, IndicatorPeriod, NoteState, ProgressNote


class NodeFilter(django_filters.FilterSet):
    strategy = django_filters.NumberFilter(help_text="Strategy id.")
    kind = django_filters.MultipleChoiceFilter(
        choices=NodeKind.choices, help_text="One or more kinds."
    )
    parent = django_filters.NumberFilter(help_text="Parent node id.")
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
    node = django_filters.NumberFilter(help_text="Node id.")
    strategy = django_filters.NumberFilter(field_name="node__strategy", help_text="Strategy id.")
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Words in the name."
    )

    class Meta:
        model = Indicator
        fields = ["node", "strategy", "direction", "frequency", "cumulative_mode"]


class IndicatorPeriodFilter(django_filters.FilterSet):
    indicator = django_filters.NumberFilter(help_text="Indicator id.")
    strategy = django_filters.NumberFilter(
        field_name="indicator__node__strategy", help_text="Strategy id."
    )
    period_start_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    has_actual = django_filters.BooleanFilter(
        field_name="actual", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = IndicatorPeriod
        fields = ["indicator", "strategy"]


class NoteFilter(django_filters.FilterSet):
    strategy = django_filters.NumberFilter(help_text="Strategy id.")
    state = django_filters.MultipleChoiceFilter(choices=NoteState.choices)
    assessment = django_filters.MultipleChoiceFilter(choices=Assessment.choices)
    author = django_filters.CharFilter(
        field_name="author__username", help_text="Author's username."
    )
    node = django_filters.NumberFilter(
        field_name="links__node", help_text="Notes linked to this node id."
    )
    as_of_after = django_filters.DateFilter(field_name="as_of", lookup_expr="gte")
    as_of_before = django_filters.DateFilter(field_name="as_of", lookup_expr="lte")
    q = django_filters.CharFilter(method="search", help_text="Words in the title or body.")

    class Meta:
        model = ProgressNote
        fields = ["strategy", "state", "assessment", "author", "node"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))
