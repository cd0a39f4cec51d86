"""Full-text search indexes (PostgreSQL only).

GIN indexes over the same `to_tsvector('english', …)` expressions `tracking.selectors.search`
queries, so a search reads the index instead of every note. SQLite has no such index; its
search is a plain substring match. Created here rather than in Meta.indexes because a GIN
index cannot be created on SQLite.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEXES = [
    ("strategy", "Node", "node_search_gin", ("code", "title", "description", "justification")),
    ("tracking", "ProgressNote", "note_search_gin", ("title", "body")),
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, model_name, name, fields in INDEXES:
        model = apps.get_model(app, model_name)
        schema_editor.add_index(model, GinIndex(SearchVector(*fields, config="english"), name=name))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for app, model_name, name, fields in INDEXES:
        model = apps.get_model(app, model_name)
        schema_editor.remove_index(model, GinIndex(SearchVector(*fields, config="english"), name=name))


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0002_versions_and_api_tokens"),
        ("strategy", "0003_versions_and_api_tokens"),
    ]
    operations = [migrations.RunPython(forward, backward)]
