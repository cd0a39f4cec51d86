"""Parser speed as a ratio: parsing ten times more text should take about ten times longer.

    .venv/bin/python bench/bench_parser.py [--rounds 5]

Each round parses a 0.5 MB and a 5 MB synthetic ICS document (pdftotext-like: wrapped
lines, page furniture) back to back and prints the time ratio; the median ratio should
stay near 10 (linear). A quadratic regression shows as a ratio near 100. Exit 1 above 20.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")

PAGE = (
    "Mission Objective {goal}.{n}: Tariffs on machinery fall by half in year {n}.\n"
    "Justification: Freedonian tariffs on machinery average 22 percent, twice the\n"
    "regional norm, and a quota system caps imports of American poultry and soybeans.\n"
    "UNCLASSIFIED\nPage {n} of 9999\n\n"
)


def document(objectives: int) -> str:
    pages = (PAGE.format(goal=n // 1000 + 1, n=n % 1000 + 1) for n in range(objectives))
    return "Mission Goal 1: Trade.\n\n" + "".join(pages)


def main() -> int:
    import django

    django.setup()
    from strategy.ics.parser import parse_ics

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    small, large = document(2_000), document(20_000)
    ratios = []
    for _ in range(args.rounds):
        started = time.process_time()
        parse_ics(small)
        small_s = time.process_time() - started
        started = time.process_time()
        parse_ics(large)
        large_s = time.process_time() - started
        ratios.append(large_s / small_s)
        print(
            f"  {len(small) / 1e6:.1f} MB {small_s:.2f} s, {len(large) / 1e6:.1f} MB {large_s:.2f} s, ratio {ratios[-1]:.1f}"
        )
    median = statistics.median(ratios)
    print(
        f"parse time ratio for 10x the text: median {median:.1f} (min {min(ratios):.1f}, max {max(ratios):.1f}); linear ~10, hard limit 20"
    )
    return 0 if median <= 20 else 1


if __name__ == "__main__":
    raise SystemExit(main())
