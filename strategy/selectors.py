"""Reads of missions, memberships and strategies that entry points share.

Authorization starts here: `user_roles` loads a user's roles once per request object, and
`visible_strategies` is the only way pages and the API list strategies.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet

from strategy.models import Membership, Mission, Role, Strategy

UserLike = AbstractBaseUser | AnonymousUser


def user_roles(user: UserLike | None) -> dict[int, str]:
    """{mission_id: role} for `user`, loaded with one query and cached on the user object."""
    if user is None or not user.is_authenticated:
        return {}
    cached = getattr(user, "_mission_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("mission_id", "role"))
        user._mission_roles = cached
    return cached


def role_in(user: UserLike | None, mission_id: int) -> str | None:
    """The user's role in a mission; superusers are admins everywhere."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Role.ADMIN
    return user_roles(user).get(mission_id)


def missions_with_role(user: UserLike | None, minimum: str) -> list[int]:
    """Ids of the missions where `user` holds at least `minimum` (from the cached roles;
    superusers are not expanded here — callers treat them as everywhere)."""
    return [
        mission_id
        for mission_id, role in user_roles(user).items()
        if Role.rank(role) >= Role.rank(minimum)
    ]


def has_role(user: UserLike | None, mission_id: int, minimum: str) -> bool:
    return Role.rank(role_in(user, mission_id)) >= Role.rank(minimum)


def require_role(user: UserLike | None, mission_id: int, minimum: str, action: str) -> None:
    """Raise PermissionDenied unless `user` holds at least `minimum` in the mission.

    `user=None` is a system action (a management command or a task acting for nobody in
    particular) and is always allowed: those entry points are only reachable by operators.
    """
    if user is None:
        return
    if not has_role(user, mission_id, minimum):
        raise PermissionDenied(f"You need the {Role(minimum).label.lower()} role to {action}.")


def visible_missions(*, user: UserLike) -> QuerySet[Mission]:
    if user.is_authenticated and user.is_superuser:
        return Mission.objects.all()
    return Mission.objects.filter(id__in=list(user_roles(user)))


def visible_strategies(*, user: UserLike) -> QuerySet[Strategy]:
    qs = Strategy.objects.select_related("mission")
    if user.is_authenticated and user.is_superuser:
        return qs
    return qs.filter(mission_id__in=list(user_roles(user)))


def require_member(user: UserLike | None, mission_id: int, field: str = "owner") -> None:
    """Refuse (400) a user who is not a member of the mission, e.g. as a node's owner."""
    if user is None or user.is_superuser:
        return
    if not Membership.objects.filter(user=user, mission_id=mission_id).exists():
        raise ValidationError({field: f"{user} is not a member of this mission."})
