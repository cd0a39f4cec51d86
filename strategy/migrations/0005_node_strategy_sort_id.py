# Issue #6 (c-deep): the node index gains `id` so that a deep page of the API node list,
# ordered by (strategy, sort_key, id), is an index-only scan; it replaces the two-column
# index, whose queries (WHERE strategy_id = … ORDER BY sort_key) it serves as well.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("strategy", "0004_sensitive_narrative"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="node", name="node_strategy_sort"),
        migrations.AddIndex(
            model_name="node",
            index=models.Index(fields=["strategy", "sort_key", "id"], name="node_strategy_sort_id"),
        ),
    ]
