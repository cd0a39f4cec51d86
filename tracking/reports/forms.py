"""Forms of the report and subscription pages, and the FilterSets of reports (shared by
the archive page and the API list) and subscriptions (API).

Like `tracking.forms`, they only parse what a person chose on the page (a strategy or a
member from the list offered, a cadence, an address); roles, duplicates and addresses
are checked by `tracking.reports.services`, whose ValidationErrors `apply_service_error`
shows next to the fields. Choice lists come from rows the view already loaded, so a
form adds no query while it is validated or rendered.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms

from strategy.filters import IdFilter
from strategy.models import Strategy
from tracking.forms import ServiceErrorsMixin
from tracking.models import Cadence, Report, ReportState, Subscription

# What people subscribe to: every cadence but "on demand" (that one is "Generate now").
SCHEDULED_CHOICES = [(c.value, c.label) for c in Cadence if c != Cadence.ON_DEMAND]


class ReportFilter(django_filters.FilterSet):
    """The report archive's filters: the API list takes all three, the archive page (one
    strategy already) shows cadence and state."""

    strategy = IdFilter(help_text="Strategy id.")
    cadence = django_filters.ChoiceFilter(
        choices=Cadence.choices, empty_label="Any cadence", help_text="How often it is made."
    )
    state = django_filters.ChoiceFilter(
        choices=ReportState.choices,
        empty_label="Any state",
        help_text="pending (being prepared) or ready.",
    )

    class Meta:
        model = Report
        fields = ["strategy", "cadence", "state"]


class SubscriptionFilter(django_filters.FilterSet):
    """The API's subscription list filters."""

    strategy = IdFilter(help_text="Strategy id.")
    cadence = django_filters.ChoiceFilter(choices=SCHEDULED_CHOICES)
    is_active = django_filters.BooleanFilter(help_text="false: unsubscribed ones only.")

    class Meta:
        model = Subscription
        fields = ["strategy", "cadence", "is_active"]


def strategy_label(strategy: Strategy) -> str:
    """“Mission Testland — Integrated Country Strategy (FY2022–FY2026)”."""
    period = f" ({strategy.period_label})" if strategy.period_label else ""
    return f"{strategy.mission.name} — {strategy.title}{period}"


class SubscribeForm(ServiceErrorsMixin, forms.Form):
    """“Subscribe me”: one of the strategies of the user's missions, at a cadence."""

    strategy = forms.TypedChoiceField(coerce=int, label="Strategy")
    cadence = forms.ChoiceField(
        choices=SCHEDULED_CHOICES,
        initial=Cadence.WEEKLY,
        label="How often",
        help_text="Weekly reports arrive on Monday morning, monthly ones on the 1st, "
        "quarterly ones when a fiscal quarter has ended.",
    )

    def __init__(self, *args: Any, strategies: list[Strategy], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_subscribe_%s")
        super().__init__(*args, **kwargs)
        self._strategies = {s.pk: s for s in strategies}
        self.fields["strategy"].choices = [(s.pk, strategy_label(s)) for s in strategies]

    def chosen_strategy(self) -> Strategy:
        return self._strategies[self.cleaned_data["strategy"]]


class SubscriptionEditForm(forms.Form):
    """One row's buttons on either subscriptions page: change the cadence, or switch the
    subscription off (unsubscribe) and on again. `version` makes the change conditional:
    a row changed by someone else since the page was drawn is refused, not overwritten."""

    cadence = forms.ChoiceField(choices=SCHEDULED_CHOICES, required=False, label="How often")
    active = forms.TypedChoiceField(
        choices=[("yes", "yes"), ("no", "no")],
        coerce=lambda value: value == "yes",
        required=False,
        empty_value=None,
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "cadence": data["cadence"] or None,
            "is_active": data["active"],
            "expected_version": data["version"],
        }


class AddMemberForm(ServiceErrorsMixin, forms.Form):
    """A manager subscribes a member of the mission (who has an e-mail address)."""

    service_fields = {"user": "member"}

    member = forms.TypedChoiceField(coerce=int, label="Member")
    cadence = forms.ChoiceField(
        choices=SCHEDULED_CHOICES, initial=Cadence.WEEKLY, label="How often"
    )

    def __init__(self, *args: Any, members: list, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "member")
        super().__init__(*args, **kwargs)
        self._members = {m.pk: m for m in members}
        self.fields["member"].choices = [
            (m.pk, f"{m.get_full_name() or m.get_username()} <{m.email}>") for m in members
        ]

    def chosen_member(self):
        return self._members[self.cleaned_data["member"]]


class AddAddressForm(ServiceErrorsMixin, forms.Form):
    """A manager subscribes an address outside the tracker (e.g. a front-office list)."""

    email = forms.EmailField(
        max_length=254,
        label="E-mail address",
        help_text="Someone without an account. Every report links to a page where they "
        "can unsubscribe without signing in.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    cadence = forms.ChoiceField(
        choices=SCHEDULED_CHOICES, initial=Cadence.WEEKLY, label="How often"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "address")
        super().__init__(*args, **kwargs)
