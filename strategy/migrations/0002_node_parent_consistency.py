"""Make `Node.parent_kind` impossible to fake.

The check constraint `node_parent_kind_valid` says which (kind, parent_kind) pairs are
allowed; this migration guarantees parent_kind really is the parent's kind and that the
parent belongs to the same strategy:

- PostgreSQL: a composite foreign key (parent_id, parent_kind, strategy_id) →
  (id, kind, strategy_id). ON UPDATE CASCADE carries a parent's kind change down to its
  children, where the check constraint then rejects it if the pair became invalid.
- SQLite: triggers with the same meaning (SQLite cannot add a foreign key to an existing
  table). A later migration that rebuilds `strategy_node` on SQLite drops triggers, so
  `strategy.apps` re-creates them after every `migrate` (CREATE TRIGGER IF NOT EXISTS);
  `tests/strategy/test_tree_constraints.py` proves they are there.
"""

from django.db import migrations

from strategy.migrations import SQLITE_TREE_TRIGGERS

PG_FORWARD = """
ALTER TABLE strategy_node ADD CONSTRAINT node_parent_consistent_fk
    FOREIGN KEY (parent_id, parent_kind, strategy_id)
    REFERENCES strategy_node (id, kind, strategy_id) ON UPDATE CASCADE;
"""
PG_BACKWARD = "ALTER TABLE strategy_node DROP CONSTRAINT node_parent_consistent_fk;"

SQLITE_FORWARD = SQLITE_TREE_TRIGGERS
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
