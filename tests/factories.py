"""factory_boy factories for volume and for tests that need many objects quickly.

Factories write rows directly (they are test fixtures, not an entry point); tests of
behaviour call the services.
"""

from datetime import date

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from strategy.models import (
    Membership,
    Milestone,
    Mission,
    Node,
    NodeKind,
    Role,
    Strategy,
    code_sort_key,
)
from tracking.models import Indicator, IndicatorPeriod, NoteLink, NoteState, ProgressNote


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mission

    name = factory.Sequence(lambda n: f"Mission {n}")
    country = factory.Sequence(lambda n: f"Country {n}")
    slug = factory.Sequence(lambda n: f"mission-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    mission = factory.SubFactory(MissionFactory)
    role = Role.VIEWER


class StrategyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Strategy

    mission = factory.SubFactory(MissionFactory)
    title = factory.LazyAttribute(lambda s: f"Integrated Country Strategy — {s.mission.name}")
    period_start_fy = 2022
    period_end_fy = 2026
    status = Strategy.Status.APPROVED


class NodeFactory(factory.django.DjangoModelFactory):
    """A mission goal by default; pass parent= and kind= for lower levels."""

    class Meta:
        model = Node

    strategy = factory.LazyAttribute(lambda n: n.parent.strategy if n.parent else StrategyFactory())
    parent = None
    kind = NodeKind.MISSION_GOAL
    parent_kind = factory.LazyAttribute(lambda n: n.parent.kind if n.parent else "")
    code = factory.Sequence(lambda n: str(n + 1))
    sort_key = factory.LazyAttribute(lambda n: code_sort_key(n.kind, n.code))
    title = factory.LazyAttribute(lambda n: f"{n.kind.replace('_', ' ').title()} {n.code}")


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    node = factory.SubFactory(NodeFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = date(2024, 6, 30)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    node = factory.SubFactory(NodeFactory)
    name = factory.Sequence(lambda n: f"Indicator {n}")
    unit = "count"
    baseline_value = 0


class IndicatorPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IndicatorPeriod

    indicator = factory.SubFactory(IndicatorFactory)
    period_start = date(2023, 10, 1)
    period_end = date(2023, 12, 31)


class ProgressNoteFactory(factory.django.DjangoModelFactory):
    """An approved note by default; link it to nodes with `nodes=[...]`."""

    class Meta:
        model = ProgressNote
        skip_postgeneration_save = True

    strategy = factory.SubFactory(StrategyFactory)
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Note {n}")
    body = "Progress as planned."
    body_html = "<p>Progress as planned.</p>"
    assessment = "on_track"
    as_of = date(2024, 1, 15)
    state = NoteState.APPROVED
    reviewed_by = factory.SubFactory(UserFactory)
    approved_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def nodes(obj, create, extracted, **kwargs):
        for i, node in enumerate(extracted or []):
            NoteLink.objects.create(note=obj, node=node, is_primary=i == 0)
