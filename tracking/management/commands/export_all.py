"""python manage.py export_all [--output FILE]"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracking.backup import export_all


class Command(BaseCommand):
    help = (
        "Write the whole instance (every table, history included, users with their "
        "password hashes, attachments) to one JSON file for `import_all`. The file is a "
        "secret: keep it like a database dump."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", metavar="FILE", default="-", help="Where to write (default: stdout)."
        )

    def handle(self, *args, output: str, **options):
        if output == "-":
            counts = export_all(_Verbatim(self.stdout))
            self.stderr.write(_summary(counts))
            return
        path = Path(output)
        if path.parent and not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a folder.")
        partial = path.with_name(path.name + ".partial")
        # Owner-only from the first byte: the file carries password hashes.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                counts = export_all(out)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}: {_summary(counts)}"))


class _Verbatim:
    """The command's stdout without the line ending it adds to every write."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


def _summary(counts: dict[str, int]) -> str:
    tables = sum(1 for n in counts.values() if n)
    return f"{sum(counts.values())} rows in {tables} tables."
