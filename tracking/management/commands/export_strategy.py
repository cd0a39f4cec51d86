"""python manage.py export_strategy ID [--format json|md] [--output FILE]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from strategy.ics.render import render_markdown
from strategy.models import Strategy
from tracking.exports import strategy_export_json


class Command(BaseCommand):
    help = (
        "Export a strategy: JSON that `import_strategy_json` restores (tree, indicators, "
        "periods, notes, milestones), or an ICS-shaped Markdown document `import_ics` reads."
    )

    def add_arguments(self, parser):
        parser.add_argument("strategy_id", metavar="ID", type=int, help="The strategy's id.")
        parser.add_argument(
            "--format", choices=["json", "md"], default="json", help="Default: json."
        )
        parser.add_argument(
            "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )

    def handle(self, *args, strategy_id: int, format: str, output: str | None, **options):
        strategy = Strategy.objects.select_related("mission").filter(pk=strategy_id).first()
        if strategy is None:
            raise CommandError(f"There is no strategy with id {strategy_id}.")
        if format == "md":
            text = render_markdown(strategy=strategy)
        else:
            text = json.dumps(strategy_export_json(strategy=strategy), indent=2, ensure_ascii=False)
            text += "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stderr.write(f"Wrote {strategy} ({format}) to {output}.")
