"""The evaluation set stays above target (bench/eval_analyses.py prints the details)."""

from tracking.analyses.evaluation import (
    TARGET_RECALL_AT_3,
    TARGET_TOP1,
    demo_nodes,
    evaluate,
    load_set,
)


def test_the_set_has_at_least_25_analyses_labelled_with_demo_nodes():
    analyses = load_set()
    refs = {str(n.key) for n in demo_nodes()}
    assert len(analyses) >= 25
    assert sum(len(a.text) > 3000 for a in analyses) >= 6  # long ones of a page or more
    for analysis in analyses:
        assert set(analysis.labels) <= refs, analysis.name


def test_recall_at_3_and_top_1_accuracy_stay_above_target():
    figures = evaluate()
    misses = [(r.name, r.labels, r.top3) for r in figures.results if r.recall_at_3 < 1]
    assert figures.recall_at_3 >= TARGET_RECALL_AT_3, misses
    assert figures.top1_accuracy >= TARGET_TOP1, misses
