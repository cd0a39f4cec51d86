"""How well the analysis ranker finds the objectives an analysis bears on.

    .venv/bin/python bench/eval_analyses.py [--json bench/analyses_results.json]   (make eval-analyses)

Ranks every labelled analysis in bench/analyses/ against the demo strategy (parsed from
strategy/demo/ics-demo.md with the demo's indicator names; no database) and prints, per
analysis, its labels and the top three suggestions, then recall@3, precision@3, top-1
accuracy and timings, including a 200 KB document made of the set. Writes the figures to
bench/analyses_results.json. Exit 1 below target (recall@3 0.9, top-1 80 %).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")


def main() -> int:
    import django

    django.setup()
    from tracking.analyses.evaluation import (
        TARGET_RECALL_AT_3,
        TARGET_TOP1,
        demo_nodes,
        evaluate,
        load_set,
        long_document,
    )
    from tracking.analyses.ranker import rank

    parser = argparse.ArgumentParser()
    parser.add_argument("--json", default=str(Path(__file__).with_name("analyses_results.json")))
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds of the 200 KB case")
    args = parser.parse_args()

    analyses = load_set()
    nodes = demo_nodes()
    figures = evaluate(analyses, nodes)
    for r in figures.results:
        mark = "ok " if r.top1_right else "MISS"
        print(f"{mark} {r.name:42} labels {','.join(r.labels):14} top 3 {','.join(r.top3)}")

    big = long_document(analyses, 200_000)
    timings = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        rank(big, nodes)
        timings.append(time.perf_counter() - started)
    big_ms = statistics.median(timings) * 1000

    long_docs = sum(len(a.text) > 3000 for a in analyses)
    print()
    print(f"analyses: {figures.documents} ({long_docs} over 3,000 characters)")
    print(f"recall@3:       {figures.recall_at_3:.3f}  (target {TARGET_RECALL_AT_3})")
    print(f"precision@3:    {figures.precision_at_3:.3f}")
    print(f"top-1 accuracy: {figures.top1_accuracy:.1%}  (target {TARGET_TOP1:.0%})")
    print(f"median time per analysis: {figures.median_ms:.1f} ms")
    print(f"200 KB document ({len(big):,} characters): {big_ms:.0f} ms (median of {args.rounds})")

    results = {
        "documents": figures.documents,
        "long_documents": long_docs,
        "recall_at_3": round(figures.recall_at_3, 4),
        "precision_at_3": round(figures.precision_at_3, 4),
        "top1_accuracy": round(figures.top1_accuracy, 4),
        "median_ms_per_analysis": round(figures.median_ms, 2),
        "ms_200kb": round(big_ms, 1),
        "chars_200kb": len(big),
        "machine": f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "per_analysis": [
            {"name": r.name, "labels": r.labels, "top3": r.top3, "recall_at_3": r.recall_at_3}
            for r in figures.results
        ],
    }
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.json}")
    ok = figures.recall_at_3 >= TARGET_RECALL_AT_3 and figures.top1_accuracy >= TARGET_TOP1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
