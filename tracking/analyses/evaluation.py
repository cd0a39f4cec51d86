"""The ranker's evaluation: the labelled analyses in `bench/analyses/` against the demo
strategy, without a database. `bench/eval_analyses.py` prints and stores the figures;
`tests/tracking/analyses/test_evaluation.py` keeps them above target.

Each analysis is a Markdown file with a small front matter:

    ---
    title: …
    labels: [2.1, 3.1.1, M2]
    ---
    text…

Labels name nodes as the demo does: "2" a goal, "2.1" an objective, "3.1.1" a
sub-objective, "M2" management objective 2.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from tracking.analyses.ranker import NodeText, rank

ROOT = Path(__file__).resolve().parents[2]
ANALYSES_DIR = ROOT / "bench" / "analyses"
DEMO_DOCUMENT = ROOT / "strategy" / "demo" / "ics-demo.md"
TARGET_RECALL_AT_3 = 0.9
TARGET_TOP1 = 0.8

_FRONT_MATTER_RE = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclass
class LabelledAnalysis:
    name: str
    title: str
    labels: list[str]
    text: str


def load_set(directory: Path = ANALYSES_DIR) -> list[LabelledAnalysis]:
    out = []
    for path in sorted(directory.glob("*.md")):
        raw = path.read_text(encoding="utf-8")
        match = _FRONT_MATTER_RE.match(raw)
        if not match:
            raise ValueError(f"{path.name} has no front matter")
        meta: dict[str, str] = {}
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
        labels = [x.strip() for x in meta.get("labels", "").strip("[]").split(",") if x.strip()]
        if not labels:
            raise ValueError(f"{path.name} has no labels")
        out.append(
            LabelledAnalysis(path.stem, meta.get("title", path.stem), labels, raw[match.end() :])
        )
    return out


def node_ref(kind: str, code: str) -> str:
    """ "M2" for management objective 2, the code otherwise (as the labels say)."""
    return f"M{code}" if kind.startswith("management") else code


def demo_nodes() -> list[NodeText]:
    """The demo strategy's nodes as the ranker sees them in the app: parsed from the demo
    ICS, with the demo's indicator names (`load_demo.INDICATORS`)."""
    from strategy.ics.parser import parse_ics
    from tracking.management.commands.load_demo import INDICATORS

    document = parse_ics(DEMO_DOCUMENT.read_text(encoding="utf-8"))
    indicators: dict[str, list[str]] = {}
    for spec in INDICATORS:
        indicators.setdefault(spec.node, []).append(spec.name)
    out: list[NodeText] = []

    def walk(items, ancestors: tuple[str, ...]) -> None:
        for item in items:
            ref = node_ref(item.kind, item.code)
            out.append(
                NodeText(
                    key=ref,
                    code=ref,
                    title=item.title,
                    description=item.description,
                    justification=item.justification,
                    risks=item.risks,
                    linkages=tuple(item.linkages),
                    indicators=tuple(indicators.get(ref, ())),
                    ancestors=ancestors,
                )
            )
            walk(item.children, (item.title, *ancestors))

    walk(document.roots, ())
    return out


@dataclass
class Result:
    name: str
    labels: list[str]
    top3: list[str]
    recall_at_3: float
    precision_at_3: float
    top1_right: bool
    seconds: float


@dataclass
class Figures:
    documents: int
    recall_at_3: float
    precision_at_3: float
    top1_accuracy: float
    median_ms: float
    results: list[Result] = field(default_factory=list)


def evaluate(
    analyses: list[LabelledAnalysis] | None = None, nodes: list[NodeText] | None = None
) -> Figures:
    analyses = load_set() if analyses is None else analyses
    nodes = demo_nodes() if nodes is None else nodes
    results = []
    for analysis in analyses:
        started = time.perf_counter()
        suggestions = rank(analysis.text, nodes, limit=3)
        seconds = time.perf_counter() - started
        top3 = [str(s.key) for s in suggestions[:3]]
        hits = len(set(top3) & set(analysis.labels))
        results.append(
            Result(
                name=analysis.name,
                labels=analysis.labels,
                top3=top3,
                recall_at_3=hits / min(3, len(analysis.labels)),
                precision_at_3=hits / 3,
                top1_right=bool(top3) and top3[0] in analysis.labels,
                seconds=seconds,
            )
        )
    n = len(results) or 1
    return Figures(
        documents=len(results),
        recall_at_3=sum(r.recall_at_3 for r in results) / n,
        precision_at_3=sum(r.precision_at_3 for r in results) / n,
        top1_accuracy=sum(r.top1_right for r in results) / n,
        median_ms=statistics.median(r.seconds for r in results) * 1000 if results else 0.0,
        results=results,
    )


def long_document(analyses: list[LabelledAnalysis], size: int = 200_000) -> str:
    """About `size` characters of text made of the analyses, repeated: the timing case."""
    pieces, total = [], 0
    while total < size:
        for analysis in analyses:
            pieces.append(analysis.text)
            total += len(analysis.text) + 2
            if total >= size:
                break
    return "\n\n".join(pieces)
