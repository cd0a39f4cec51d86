"""Template context every page needs."""

from django.http import HttpRequest

from strategy.models import Role
from strategy.selectors import missions_with_role


def roles(request: HttpRequest) -> dict:
    """`can_review`: whether the user manages any mission (the nav shows the review queue).
    Uses the roles cached on the user, so pages that already read them pay no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_review": False}
    if user.is_superuser:
        return {"can_review": True}
    return {"can_review": bool(missions_with_role(user, Role.MANAGER))}
