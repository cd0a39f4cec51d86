"""python manage.py generate_data --scale N [--seed S] [--today YYYY-MM-DD]
python manage.py generate_data --notes-total 1000000 [--seed S]

Adds department-scale data with set-based SQL (`tracking.datagen`): scale 1 is 270
missions with 54-node strategies, 196 monthly indicators × 36 periods and 490 approved
notes each, plus a manager and three analysts per mission. Fractional scales work
(0.1 = 27 missions). PostgreSQL for any scale; SQLite only up to scale 0.1 (tests).
`--notes-total` only adds notes (to data generated earlier with the same seed) until
there are that many, for the search benchmark. No history rows are written.
"""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from tracking import datagen

SQLITE_MAX_SCALE = 0.1


class Command(BaseCommand):
    help = "Generate department-scale missions, strategies, indicators and notes (set-based SQL)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=None, help="1 = 270 missions.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--today", type=date.fromisoformat, default=None)
        parser.add_argument(
            "--notes-total", type=int, default=None, help="Only add notes up to this total."
        )

    def handle(self, *args, scale, seed, today, notes_total, verbosity=1, **options):
        if (scale is None) == (notes_total is None):
            raise CommandError("Give either --scale N or --notes-total N.")
        vendor = connection.vendor
        if vendor not in ("postgresql", "sqlite"):
            raise CommandError(f"generate_data supports PostgreSQL and SQLite, not {vendor}.")
        if vendor == "sqlite" and (notes_total is not None or scale > SQLITE_MAX_SCALE):
            raise CommandError(
                f"On SQLite generate_data only makes small test data (--scale up to "
                f"{SQLITE_MAX_SCALE}); use PostgreSQL for department-scale data."
            )
        if scale is not None and scale <= 0:
            raise CommandError("--scale must be positive.")
        started = time.monotonic()
        try:
            if notes_total is not None:
                added = datagen.generate_notes(total=notes_total, seed=seed, today=today)
                summary = f"{added:,} notes added ({notes_total:,} in all)"
            else:
                g = datagen.generate(scale=scale, seed=seed, today=today)
                summary = (
                    f"{g.missions:,} missions, {g.nodes:,} nodes, {g.indicators:,} indicators, "
                    f"{g.periods:,} periods, {g.notes:,} notes, {g.users:,} users"
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if verbosity:
            self.stdout.write(f"{summary} in {time.monotonic() - started:.1f} s")
