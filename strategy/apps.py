from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
