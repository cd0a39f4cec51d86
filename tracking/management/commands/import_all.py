"""python manage.py import_all FILE"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracking.backup import BackupError, import_all, read_export


class Command(BaseCommand):
    help = (
        "Load a file written by `export_all` into an EMPTY database (run `migrate` first, "
        "with the same code version). Keeps every id, the history and the users; refuses a "
        "database that already holds content. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", metavar="FILE", help="The export to load.")

    def handle(self, *args, path: str, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"{file} is not a readable file.")
        try:
            with file.open(encoding="utf-8") as handle:
                data = read_export(handle)
            counts = import_all(data)
        except BackupError as exc:
            raise CommandError(f"{file} was not imported, nothing was written: {exc}") from exc
        rows = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {file}: {rows} rows in {len(counts)} tables, "
                f"{len(data.get('files') or [])} files (exported {data.get('exported_at')})."
            )
        )
