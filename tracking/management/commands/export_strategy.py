"""python manage.py export_strategy ID [--format json|md|docx|pdf] [--public] [--appendix]
[--output FILE]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from strategy.models import Strategy
from tracking.documents import FORMATS, strategy_document
from tracking.exports import strategy_export_json


class Command(BaseCommand):
    help = (
        "Export a strategy: JSON that `import_strategy_json` restores (tree, indicators, "
        "periods, notes, milestones), or an ICS-shaped document (Markdown, Word or PDF) "
        "that `import_ics` reads back."
    )

    def add_arguments(self, parser):
        parser.add_argument("strategy_id", metavar="ID", type=int, help="The strategy's id.")
        parser.add_argument(
            "--format", choices=["json", *FORMATS], default="json", help="Default: json."
        )
        parser.add_argument(
            "--public",
            action="store_true",
            help="Document formats: the public-release version (sensitive narrative and "
            "notes left out, marked FOR PUBLIC RELEASE).",
        )
        parser.add_argument(
            "--appendix",
            action="store_true",
            help="Document formats: add an appendix of indicators with their latest values, "
            "milestones and latest approved notes.",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="Write to FILE instead of standard output (docx and pdf are binary).",
        )

    def handle(
        self,
        *args,
        strategy_id: int,
        format: str,
        public: bool,
        appendix: bool,
        output: str | None,
        **options,
    ):
        strategy = Strategy.objects.select_related("mission").filter(pk=strategy_id).first()
        if strategy is None:
            raise CommandError(f"There is no strategy with id {strategy_id}.")
        if format == "json":
            if public or appendix:
                raise CommandError("--public and --appendix apply to md, docx and pdf only.")
            text = json.dumps(strategy_export_json(strategy=strategy), indent=2, ensure_ascii=False)
            content = (text + "\n").encode("utf-8")
        else:
            content = strategy_document(
                strategy=strategy, fmt=format, public=public, appendix=appendix
            ).content
        if output is None:
            self._write_stdout(content, binary=format in ("docx", "pdf"))
            return
        try:
            Path(output).write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
        self.stderr.write(f"Wrote {strategy} ({format}) to {output}.")

    def _write_stdout(self, content: bytes, *, binary: bool) -> None:
        if not binary:
            self.stdout.write(content.decode("utf-8"), ending="")
            return
        # Binary formats go to the byte stream under standard output (`> file.pdf`), never
        # to a terminal.
        stream = getattr(self.stdout._out, "buffer", None)
        if stream is None or self.stdout.isatty():
            raise CommandError("DOCX and PDF are binary: give --output FILE or redirect output.")
        self.stdout.flush()
        stream.write(content)
        stream.flush()
