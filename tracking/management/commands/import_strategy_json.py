"""python manage.py import_strategy_json FILE [--mission SLUG]"""

import json
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from tracking.exports import strategy_import_json
from tracking.models import Indicator, IndicatorPeriod, ProgressNote


class Command(BaseCommand):
    help = (
        "Restore a strategy from `export_strategy --format json` into a mission that has no "
        "strategy with its title (the mission is created when missing). Unknown usernames "
        "become inactive users without a password. Nothing is written if anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE", help="The JSON export to restore.")
        parser.add_argument(
            "--mission",
            metavar="SLUG",
            default=None,
            help="Restore into this mission (created if missing). Default: the document's.",
        )

    def handle(self, *args, path: str, mission: str | None, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{file} is not a readable file.")
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(
                f"{file} is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from exc
        try:
            strategy = strategy_import_json(data=data, by=None, mission_slug=mission)
        except ValidationError as exc:
            raise CommandError(
                f"{file} was not imported; nothing was written:\n  " + "\n  ".join(exc.messages)
            ) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        counts = {
            "nodes": strategy.nodes.count(),
            "indicators": Indicator.objects.filter(node__strategy=strategy).count(),
            "periods": IndicatorPeriod.objects.filter(indicator__node__strategy=strategy).count(),
            "notes": ProgressNote.objects.filter(strategy=strategy).count(),
        }
        made = ", ".join(f"{n} {what}" for what, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported “{strategy.title}” as strategy id {strategy.id} in mission "
                f"“{strategy.mission.slug}”: {made}."
            )
        )
