"""Shared SQL of the strategy migrations.

The SQLite triggers that keep the tree valid live here because two places run them: the
migration that introduced them (0002) and the post_migrate handler in `strategy.apps`,
which restores them after any later migration rebuilds `strategy_node`.
"""

_PARENT_MISMATCH = """
    WHEN NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM strategy_node p
        WHERE p.id = NEW.parent_id AND p.kind = NEW.parent_kind AND p.strategy_id = NEW.strategy_id
    )
    BEGIN SELECT RAISE(ABORT, 'node_parent_consistent: parent must be in the same strategy and of kind parent_kind'); END;
"""
SQLITE_TREE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS node_parent_consistent_insert BEFORE INSERT ON strategy_node"
    + _PARENT_MISMATCH,
    "CREATE TRIGGER IF NOT EXISTS node_parent_consistent_update BEFORE UPDATE ON strategy_node"
    + _PARENT_MISMATCH,
    """CREATE TRIGGER IF NOT EXISTS node_parent_consistent_children BEFORE UPDATE OF kind, strategy_id ON strategy_node
    WHEN (NEW.kind != OLD.kind OR NEW.strategy_id != OLD.strategy_id)
         AND EXISTS (SELECT 1 FROM strategy_node c WHERE c.parent_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'node_parent_consistent: a node with children cannot change kind or strategy'); END;""",
]
