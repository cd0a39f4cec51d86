"""python manage.py import_ics PATH [--mission SLUG] [--strategy ID] [--dry-run] [--json]"""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from strategy.ics.extract import DocumentError, document_text
from strategy.models import Mission, Strategy
from strategy.services import ImportResult, strategy_import


class Command(BaseCommand):
    help = (
        "Import an ICS document (plain text or Markdown) into a mission's strategy. "
        "Re-importing the same document changes nothing; a revised one updates in place."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The document to import.")
        parser.add_argument(
            "--mission",
            metavar="SLUG",
            default="",
            help="Mission to import into (created if missing). Default: from the document.",
        )
        parser.add_argument("--strategy", metavar="ID", type=int, help="Update this strategy.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Parse and report; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, path, mission, strategy, dry_run, json: bool, **options):
        text = self._read(Path(path))
        target_strategy = None
        if strategy is not None:
            target_strategy = Strategy.objects.select_related("mission").filter(pk=strategy).first()
            if target_strategy is None:
                raise CommandError(f"There is no strategy with id {strategy}.")
        target_mission = Mission.objects.filter(slug=mission).first() if mission else None
        try:
            result = strategy_import(
                document=text,
                mission=target_mission,
                mission_slug=mission,
                strategy=target_strategy,
                dry_run=dry_run,
                by=None,
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if json:
            self.stdout.write(_json_dump(result.to_dict()))
        else:
            self._report(result)

    def _read(self, path: Path) -> str:
        if not path.is_file():
            raise CommandError(f"{path} is not a readable file.")
        if path.stat().st_size > settings.ICS_IMPORT_MAX_BYTES:
            raise CommandError(
                f"{path} is {path.stat().st_size:,} bytes; the limit is "
                f"{settings.ICS_IMPORT_MAX_BYTES:,} (ICS_IMPORT_MAX_BYTES)."
            )
        try:
            return document_text(path.read_bytes(), filename=path.name)
        except DocumentError as exc:
            raise CommandError(str(exc)) from exc

    def _report(self, result: ImportResult) -> None:
        doc = result.document
        out = self.stdout
        out.write(f"{doc.title or 'Untitled strategy'} — {doc.mission_name or 'unknown mission'}")
        if doc.approved_on or doc.reviewed_on:
            out.write(f"  approved {doc.approved_on or '—'}, reviewed {doc.reviewed_on or '—'}")
        counts = ", ".join(
            f"{n} {kind.replace('_', ' ')}s" for kind, n in doc.counts().items() if n
        )
        out.write(f"  found: {counts}")
        for problem in doc.discrepancies:
            out.write(
                self.style.WARNING(
                    f"  ! {problem.code or '-'} {problem.problem}: {problem.message}"
                )
            )
        for warning in doc.warnings:
            out.write(self.style.WARNING(f"  ! {warning}"))
        verb = "would" if result.dry_run else "did"
        out.write(
            f"  {verb} create {len(result.created)}, update {len(result.updated)}, "
            f"remove {len(result.removed)}; {result.unchanged} unchanged"
            + (
                f"; kept {len(result.kept)} with data: {', '.join(result.kept)}"
                if result.kept
                else ""
            )
        )
        if result.dry_run:
            out.write(self.style.NOTICE("  dry run: nothing was written"))
        elif result.strategy is not None:
            out.write(
                self.style.SUCCESS(
                    f"  strategy id {result.strategy.id} in mission “{result.mission.slug}”"
                )
            )


def _json_dump(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
