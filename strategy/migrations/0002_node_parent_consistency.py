"""Make `Node.parent_kind` impossible to fake.

The check constraint `node_parent_kind_valid` says which (kind, parent_kind) pairs are
allowed; this migration guarantees parent_kind really is the parent's kind and that the
parent belongs to the same strategy:

- PostgreSQL: a composite foreign key (parent_id, parent_kind, strategy_id) →
  (id, kind, strategy_id). ON UPDATE CASCADE carries a parent's kind change down to its
  children, where the check constraint then rejects it if the pair became invalid.
- SQLite: triggers with the same meaning (SQLite cannot add a foreign key to an existing
  table). A later migration that rebuilds `strategy_node` on SQLite drops triggers; the
  test `tests/strategy/test_tree_constraints.py` fails if that happens.
"""

from django.db import migrations

PG_FORWARD = """
ALTER TABLE strategy_node ADD CONSTRAINT node_parent_consistent_fk
    FOREIGN KEY (parent_id, parent_kind, strategy_id)
    REFERENCES strategy_node (id, kind, strategy_id) ON UPDATE CASCADE;
"""
PG_BACKWARD = "ALTER TABLE strategy_node DROP CONSTRAINT node_parent_consistent_fk;"

_PARENT_MISMATCH = """
    WHEN NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM strategy_node p
        WHERE p.id = NEW.parent_id AND p.kind = NEW.parent_kind AND p.strategy_id = NEW.strategy_id
    )
    BEGIN SELECT RAISE(ABORT, 'node_parent_consistent: parent must be in the same strategy and of kind parent_kind'); END;
"""
SQLITE_FORWARD = [
    "CREATE TRIGGER node_parent_consistent_insert BEFORE INSERT ON strategy_node"
    + _PARENT_MISMATCH,
    "CREATE TRIGGER node_parent_consistent_update BEFORE UPDATE ON strategy_node"
    + _PARENT_MISMATCH,
    """CREATE TRIGGER node_parent_consistent_children BEFORE UPDATE OF kind, strategy_id ON strategy_node
    WHEN (NEW.kind != OLD.kind OR NEW.strategy_id != OLD.strategy_id)
         AND EXISTS (SELECT 1 FROM strategy_node c WHERE c.parent_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, 'node_parent_consistent: a node with children cannot change kind or strategy'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS node_parent_consistent_insert",
    "DROP TRIGGER IF EXISTS node_parent_consistent_update",
    "DROP TRIGGER IF EXISTS node_parent_consistent_children",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("strategy", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
