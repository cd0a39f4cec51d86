import logging

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_migrate

security_log = logging.getLogger("config.security")


def log_login_failure(sender, credentials: dict, request=None, **kwargs) -> None:
    """Every failed sign-in, with the name tried and the client address (never the
    password: Django masks credentials before the signal)."""
    address = request.META.get("REMOTE_ADDR", "?") if request is not None else "?"
    security_log.warning(
        "Sign-in failed for %r from %s", str(credentials.get("username", ""))[:150], address
    )


def log_login(sender, request, user, **kwargs) -> None:
    address = request.META.get("REMOTE_ADDR", "?") if request is not None else "?"
    security_log.info("Signed in: %s from %s", user.get_username(), address)


def ensure_sqlite_tree_triggers(using: str = "default", **kwargs) -> None:
    """SQLite drops triggers whenever a migration rebuilds `strategy_node`; put back the
    ones that keep the tree valid (see migration 0002). A no-op on PostgreSQL, where a
    composite foreign key does the same job and survives table changes."""
    from django.db import connections

    from strategy.migrations import SQLITE_TREE_TRIGGERS

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'strategy_node'"
        )
        if cursor.fetchone() is None:
            return
        for statement in SQLITE_TREE_TRIGGERS:
            cursor.execute(statement)


class StrategyConfig(AppConfig):
    name = "strategy"
    verbose_name = "Strategies"

    def ready(self) -> None:
        post_migrate.connect(ensure_sqlite_tree_triggers, sender=self)
        user_login_failed.connect(log_login_failure, dispatch_uid="strategy.log_login_failure")
        user_logged_in.connect(log_login, dispatch_uid="strategy.log_login")
        from config.middleware import stamp_session_start

        user_logged_in.connect(stamp_session_start, dispatch_uid="config.session_start")
        from axes.signals import user_locked_out

        from config.accounts import log_lockout
        from config.two_factor import remember_two_factor_state

        user_locked_out.connect(log_lockout, dispatch_uid="config.log_lockout")
        user_logged_in.connect(remember_two_factor_state, dispatch_uid="config.two_factor_state")
