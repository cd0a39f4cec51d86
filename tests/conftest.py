"""Shared fixtures: one mission with a small tree and a persona per role, plus an outsider
from another mission, so every test can say who may and who may not."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from strategy.models import Mission, Node, NodeKind, Role, Strategy
from tests.factories import (
    MembershipFactory,
    MissionFactory,
    NodeFactory,
    StrategyFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """PBKDF2 at production strength costs ~0.3 s per persona; tests need no strength.
    Static files are served from the source folders: no collectstatic manifest in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@dataclass
class Personas:
    mission: Mission
    other_mission: Mission
    viewer: User
    analyst: User
    analyst2: User
    manager: User
    manager2: User
    admin: User
    outsider: User  # a manager of other_mission only
    superuser: User

    def by_role(self, role: str) -> User:
        return getattr(self, role)


@pytest.fixture
def personas(db) -> Personas:
    mission = MissionFactory(name="Mission Testland", slug="testland", country="Testland")
    other = MissionFactory(name="Mission Elsewhere", slug="elsewhere", country="Elsewhere")
    people = {}
    for name, role in [
        ("viewer", Role.VIEWER),
        ("analyst", Role.ANALYST),
        ("analyst2", Role.ANALYST),
        ("manager", Role.MANAGER),
        ("manager2", Role.MANAGER),
        ("admin", Role.ADMIN),
    ]:
        people[name] = MembershipFactory(
            user=UserFactory(username=name), mission=mission, role=role
        ).user
    outsider = MembershipFactory(
        user=UserFactory(username="outsider"), mission=other, role=Role.MANAGER
    ).user
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    return Personas(
        mission=mission, other_mission=other, outsider=outsider, superuser=superuser, **people
    )


@dataclass
class SmallTree:
    strategy: Strategy
    goal1: Node
    obj11: Node
    obj12: Node
    sub111: Node
    goal2: Node
    obj21: Node
    mgmt1: Node
    other_strategy: Strategy  # belongs to personas.other_mission
    other_goal: Node


@pytest.fixture
def tree(personas) -> SmallTree:
    """Goal 1 (1.1 with sub-objective 1.1.1, 1.2), Goal 2 (2.1), Management Objective 1."""
    strategy = StrategyFactory(mission=personas.mission, freshness_days=90)
    goal1 = NodeFactory(strategy=strategy, code="1", title="Prosperity")
    obj11 = NodeFactory(
        parent=goal1, kind=NodeKind.MISSION_OBJECTIVE, code="1.1", title="Exports grow"
    )
    obj12 = NodeFactory(
        parent=goal1, kind=NodeKind.MISSION_OBJECTIVE, code="1.2", title="Investment"
    )
    sub111 = NodeFactory(
        parent=obj11, kind=NodeKind.SUB_OBJECTIVE, code="1.1.1", title="Trade missions"
    )
    goal2 = NodeFactory(strategy=strategy, code="2", title="Security")
    obj21 = NodeFactory(
        parent=goal2, kind=NodeKind.MISSION_OBJECTIVE, code="2.1", title="Nonproliferation"
    )
    mgmt1 = NodeFactory(
        strategy=strategy, kind=NodeKind.MANAGEMENT_OBJECTIVE, code="1", title="Facilities"
    )
    other_strategy = StrategyFactory(mission=personas.other_mission)
    other_goal = NodeFactory(strategy=other_strategy, code="1", title="Elsewhere goal")
    return SmallTree(
        strategy, goal1, obj11, obj12, sub111, goal2, obj21, mgmt1, other_strategy, other_goal
    )
