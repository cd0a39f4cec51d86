"""Forms of the editing pages (`tracking.edit_views`): a node's narrative and a strategy's
fields, each with the "sensitive" checkboxes that keep text out of the public-release
document, and the manager's "mark sensitive / publishable" button on a note.

Like `tracking.forms`, they parse what a person typed and hand it to a service
(`node_update`, `strategy_update`, `note_mark_sensitive`), which validates and records
history; the services' ValidationErrors are shown next to the fields they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from strategy.models import Node, Strategy
from tracking.forms import ServiceErrorsMixin

SENSITIVE_LABEL = "Sensitive — leave out of the public-release document"
MARKDOWN_HELP = "Markdown: **bold**, *italic*, lists, links."
NO_OWNER = ""


def _sensitive(label: str = SENSITIVE_LABEL) -> forms.BooleanField:
    return forms.BooleanField(required=False, label=label)


class MarkdownField(forms.CharField):
    """Narrative text as typed, with the browser's CRLF line breaks made LF again, so
    saving a page without touching the text changes nothing (no version, no history)."""

    def to_python(self, value: Any) -> str:
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


def _markdown(label: str, rows: int = 6) -> MarkdownField:
    return MarkdownField(
        required=False,
        label=label,
        max_length=100_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=MARKDOWN_HELP,
    )


def parse_linkages(text: str) -> list[str]:
    """Comma-separated tags ("NSS Pillar 2, JSP Goal 2"), blanks dropped."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


class NodeEditForm(ServiceErrorsMixin, forms.Form):
    """A goal's or objective's title, owner, narrative (each part with its "sensitive"
    checkbox) and linkage tags. Kind, code and parent are fixed once a node exists."""

    # The (field, checkbox) pairs, in the order the page shows them.
    NARRATIVE = (
        ("description", "description_sensitive"),
        ("justification", "justification_sensitive"),
        ("risks", "risks_sensitive"),
    )

    title = forms.CharField(max_length=2000)
    owner = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Owner",
        help_text="The member of the mission who keeps this item up to date.",
    )
    description = _markdown("Description and linkages", rows=8)
    description_sensitive = _sensitive()
    justification = _markdown("Justification", rows=8)
    justification_sensitive = _sensitive()
    risks = _markdown("Risks", rows=4)
    risks_sensitive = _sensitive()
    linkages = forms.CharField(
        required=False,
        max_length=5000,
        label="Linkages",
        help_text="Tags to higher frameworks, separated by commas, e.g. "
        "“NSS Pillar 2, JSP Goal 2”.",
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, node: Node, members: list, **kwargs: Any) -> None:
        """`members`: the users who may own the node (the mission's members); a current
        owner who is no longer one stays offered, so saving other fields keeps them."""
        kwargs.setdefault("initial", self.stored_values(node))
        super().__init__(*args, **kwargs)
        self.node = node
        self._people = {m.pk: m for m in members}
        choices = [(NO_OWNER, "Nobody")]
        choices += [(m.pk, m.get_full_name() or m.get_username()) for m in members]
        if node.owner_id is not None and node.owner_id not in self._people:
            owner = node.owner
            self._people[owner.pk] = owner
            choices.append((owner.pk, f"{owner.get_username()} (not a member any more)"))
        self.fields["owner"].choices = choices

    @staticmethod
    def stored_values(node: Node) -> dict[str, Any]:
        return {
            "title": node.title,
            "owner": node.owner_id if node.owner_id is not None else NO_OWNER,
            "description": node.description,
            "description_sensitive": node.description_sensitive,
            "justification": node.justification,
            "justification_sensitive": node.justification_sensitive,
            "risks": node.risks,
            "risks_sensitive": node.risks_sensitive,
            "linkages": ", ".join(node.linkages),
            "version": node.version,
        }

    def narrative(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """(text field, its "sensitive" checkbox) pairs, for the template."""
        return [(self[text], self[flag]) for text, flag in self.NARRATIVE]

    def changes(self) -> dict[str, Any]:
        """Arguments of `node_update`. The owner is sent only when it changes, so a
        former member who still owns the node does not block saving the other fields."""
        data = self.cleaned_data
        fields: dict[str, Any] = {
            name: data[name]
            for name in (
                "title",
                "description",
                "description_sensitive",
                "justification",
                "justification_sensitive",
                "risks",
                "risks_sensitive",
            )
        }
        # Untouched, the tags stay exactly as stored (one written through the API may hold
        # a comma); edited, the text is split at the commas.
        unchanged = data["linkages"] == ", ".join(self.node.linkages)
        fields["linkages"] = (
            list(self.node.linkages) if unchanged else parse_linkages(data["linkages"])
        )
        owner_id = data["owner"]
        if owner_id != self.node.owner_id:
            fields["owner"] = self._people[owner_id] if owner_id is not None else None
        return fields


class StrategyEditForm(ServiceErrorsMixin, forms.Form):
    """A strategy's title, status, period, dates, freshness cadence, roll-up rule and
    Chief of Mission priorities (with its "sensitive" checkbox)."""

    title = forms.CharField(max_length=300)
    status = forms.ChoiceField(choices=Strategy.Status.choices)
    period_start_fy = forms.IntegerField(
        required=False,
        min_value=1900,
        max_value=2200,
        label="First fiscal year",
        help_text="e.g. 2022",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    period_end_fy = forms.IntegerField(
        required=False,
        min_value=1900,
        max_value=2200,
        label="Last fiscal year",
        help_text="e.g. 2026",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    approved_on = forms.DateField(
        required=False,
        label="Approved on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reviewed_on = forms.DateField(
        required=False,
        label="Reviewed and updated on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    freshness_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        label="Freshness (days)",
        help_text="An item is stale when it has no approved note dated within this many days.",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    rollup = forms.ChoiceField(
        choices=Strategy.Rollup.choices,
        label="Roll-up rule",
        help_text="How a goal's status follows from its objectives'.",
    )
    com_priorities = _markdown("Chief of Mission priorities", rows=10)
    com_priorities_sensitive = _sensitive()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    FIELDS = (
        "title",
        "status",
        "period_start_fy",
        "period_end_fy",
        "approved_on",
        "reviewed_on",
        "freshness_days",
        "rollup",
        "com_priorities",
        "com_priorities_sensitive",
    )

    def __init__(self, *args: Any, strategy: Strategy, **kwargs: Any) -> None:
        kwargs.setdefault("initial", self.stored_values(strategy))
        super().__init__(*args, **kwargs)

    @classmethod
    def stored_values(cls, strategy: Strategy) -> dict[str, Any]:
        values = {name: getattr(strategy, name) for name in cls.FIELDS}
        values["version"] = strategy.version
        return values

    def changes(self) -> dict[str, Any]:
        """Arguments of `strategy_update`."""
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class NoteSensitiveForm(forms.Form):
    """A manager's "Mark sensitive" / "Mark publishable" button on a note."""

    sensitive = forms.TypedChoiceField(
        choices=[("1", "Sensitive"), ("0", "Publishable")], coerce=lambda value: value == "1"
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
