"""The ranker on its own: words, passages, offsets of the matched words, behaviour pinned
on a few of the labelled analyses in bench/analyses/, and speed on 200 KB of text."""

import time

import pytest

from tracking.analyses.evaluation import demo_nodes, load_set, long_document
from tracking.analyses.ranker import NodeText, passages, rank, stem, tokens

NODES = [
    NodeText(key=1, code="1", title="Prosperity: exports and investment"),
    NodeText(
        key=2,
        code="1.1",
        title="Tariffs on our goods fall",
        justification="Tariff barriers on agricultural exports cost farmers most.",
        ancestors=("Prosperity: exports and investment",),
    ),
    NodeText(
        key=3,
        code="2.1",
        title="Nuclear nonproliferation",
        justification="Sanctions enforcement against smuggling networks.",
        indicators=("Sanctions-evasion leads acted on",),
    ),
]


@pytest.fixture(scope="module")
def demo():
    return demo_nodes()


@pytest.fixture(scope="module")
def analyses():
    return {a.name: a for a in load_set()}


def test_words_of_one_family_share_a_stem():
    assert stem("sanctions") == stem("sanctioned") == stem("sanction")
    assert stem("enforcement") == stem("enforcing") == stem("enforce")
    assert stem("exports") == stem("exporting") == stem("exported")
    assert stem("class") == "class"  # "ss" is not a plural


def test_stop_words_are_left_out_and_offsets_point_at_the_words():
    text = "The sanctions were enforced at sea."
    found = list(tokens(text))
    assert [text[s:e] for _, s, e in found] == ["sanctions", "enforced", "sea"]


def test_paragraphs_become_passages_and_long_ones_overlapping_windows():
    short = "Heading\n\n" + " ".join(["tariff"] * 20)
    chunks = passages(short)
    assert len(chunks) == 1  # the heading joined the paragraph after it
    long = " ".join(f"word{i}" for i in range(500))
    windows = passages(long)
    assert len(windows) > 3
    assert windows[1].start < windows[0].end  # they overlap


def test_the_best_node_comes_first_with_marked_passages():
    text = (
        "Customs stopped three ships smuggling coal.\n\n"
        "Sanctions enforcement is weak and smuggling networks adapt quickly to inspections."
    )
    ranked = rank(text, NODES)
    assert ranked[0].key == 3 and ranked[0].relevance == 100
    passage = ranked[0].passages[0]
    marked = {passage.text[s:e].lower() for s, e in passage.marks}
    assert {"sanctions", "smuggling", "enforcement"} <= marked
    # The segments rebuild the passage exactly, with the marks flagged.
    assert "".join(piece for piece, _ in passage.segments()) == passage.text
    assert passage.text == text[passage.start : passage.end]


def test_text_sharing_no_telling_word_gets_no_suggestion():
    assert rank("Lorem ipsum dolor sit amet.", NODES) == []
    assert rank("", NODES) == []
    assert rank("Tariffs fall.", []) == []


@pytest.mark.parametrize(
    ("name", "expected_first"),
    [
        ("08-taiwan-drills", "2.3"),
        ("04-coal-smuggling-panel", "2.1"),
        ("17-removal-travel-documents", "3.4"),
        ("22-pouch-network", "M2"),
    ],
)
def test_short_analyses_put_their_objective_first(demo, analyses, name, expected_first):
    assert str(rank(analyses[name].text, demo)[0].key) == expected_first


def test_a_long_analysis_on_three_objectives_has_all_three_on_top(demo, analyses):
    top = [str(s.key) for s in rank(analyses["30-long-mission-management-review"].text, demo)[:3]]
    assert set(top) == {"M1", "M2", "M3"}


def test_class_scheduling_points_at_the_sub_objective_and_its_parent(demo, analyses):
    top = [str(s.key) for s in rank(analyses["11-class-scheduling-nitazenes"].text, demo)[:2]]
    assert top == ["3.1.1", "3.1"]


def test_200_kb_of_text_ranks_well_under_a_second(demo, analyses):
    text = long_document(list(analyses.values()), 200_000)
    assert len(text) >= 200_000
    started = time.perf_counter()
    ranked = rank(text, demo)
    elapsed = time.perf_counter() - started
    assert ranked and all(len(s.passages) <= 3 for s in ranked)
    assert elapsed < 1.0, f"{elapsed:.2f} s"
