"""Forms of the tracker's pages: they parse what a person typed and hand it to a service.

They check only what the page itself offers (a period from the list, a date, lengths);
everything the API checks too — numbers, roles, workflow, justification — stays in
`tracking.services`, whose ValidationError `apply_service_error` maps onto the fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import Truncator

from strategy.models import Node
from tracking.fiscal import Period
from tracking.models import Assessment
from tracking.services import UNSET


class ServiceErrorsMixin:
    """Show a service's ValidationError next to the fields it names."""

    # service field name -> form field name, where they differ
    service_fields: dict[str, str] = {}

    def apply_service_error(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)  # type: ignore[attr-defined]
            return
        for name, messages in exc.message_dict.items():
            field = self.service_fields.get(name, name)
            self.add_error(field if field in self.fields else None, messages)  # type: ignore[attr-defined]


class IndicatorValueForm(ServiceErrorsMixin, forms.Form):
    """Record one period's actual (analysts) and target (managers) of one indicator.

    An empty field leaves the stored value as it is. The target field is always parsed,
    so a target sent by someone who may not set one reaches the service, which refuses it
    (403); the page offers the field to managers only.
    """

    service_fields = {"period_start": "period"}

    period = forms.TypedChoiceField(coerce=date.fromisoformat, label="Period")
    actual = forms.CharField(
        required=False,
        max_length=40,
        label="Actual",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    target = forms.CharField(
        required=False,
        max_length=40,
        label="Target",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        indicator_id: int,
        periods: list[Period],
        initial_period: date | None,
        **kwargs: Any,
    ) -> None:
        # Unique ids per indicator (several forms on one page), plain field names.
        kwargs.setdefault("auto_id", f"id_ind{indicator_id}_%s")
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [(p.start.isoformat(), p.label) for p in periods]
        if initial_period is not None:
            self.fields["period"].initial = initial_period.isoformat()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not any((data.get(k) or "").strip() for k in ("actual", "target", "comment")):
            raise ValidationError("Enter a value (or a comment) to record.")
        return data

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments of `indicator_period_record`: empty fields are left unchanged."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {"period_start": data["period"]}
        for name in ("actual", "target", "comment"):
            value = (data.get(name) or "").strip()
            kwargs[name] = value if value else UNSET
        return kwargs


def parse_sources(text: str) -> list[dict[str, str]]:
    """One link per line: the address, then an optional label after a space."""
    sources = []
    for line in text.splitlines():
        parts = line.strip().split(maxsplit=1)
        if parts:
            sources.append({"url": parts[0], "label": parts[1] if len(parts) > 1 else ""})
    return sources


def format_sources(sources: list[Any]) -> str:
    return "\n".join(f"{s.url} {s.label}".strip() for s in sources)


class NoteForm(ServiceErrorsMixin, forms.Form):
    """A progress note's content and the nodes it is about (the primary node is fixed by
    the page it was started from; others of the same strategy may be added)."""

    service_fields = {"nodes": "other_nodes", "primary_node": "other_nodes"}

    title = forms.CharField(max_length=300)
    assessment = forms.ChoiceField(
        choices=[("", "Choose an assessment"), *Assessment.choices],
        help_text="Your judgement of progress as of the date below.",
    )
    as_of = forms.DateField(
        label="As of",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The date the assessment describes.",
    )
    body = forms.CharField(
        required=False,
        label="Assessment text",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists, links. Required before you submit.",
    )
    justification = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "Required when the note says “off track” or disagrees with the status computed "
            "from the indicators."
        ),
    )
    is_sensitive = forms.BooleanField(
        required=False,
        label="Sensitive — leave out of the public-release document",
    )
    other_nodes = forms.TypedMultipleChoiceField(
        coerce=int,
        required=False,
        label="Also about",
        widget=forms.CheckboxSelectMultiple,
        help_text="Other goals and objectives of this strategy the note covers.",
    )
    sources = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One link per line; text after the address (and a space) becomes its label.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, other_nodes: list[Node], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nodes_by_id = {n.id: n for n in other_nodes}
        self.fields["other_nodes"].choices = [
            (n.id, f"{n.label}: {Truncator(n.title).chars(90)}") for n in other_nodes
        ]

    def chosen_nodes(self) -> list[Node]:
        return [self.nodes_by_id[i] for i in self.cleaned_data.get("other_nodes", [])]

    def content(self) -> dict[str, Any]:
        """Arguments shared by `note_create` and `note_update`."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "assessment": data["assessment"],
            "as_of": data["as_of"],
            "body": data["body"],
            "justification": data["justification"],
            "is_sensitive": data["is_sensitive"],
        }


class ReviewForm(ServiceErrorsMixin, forms.Form):
    """A manager's decision on a submitted note; returning it needs a comment."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("return", "Return")])
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional when approving; required when returning the note.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
