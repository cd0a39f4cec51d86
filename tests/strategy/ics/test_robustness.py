"""No text makes the parser raise or stall; unusable text gets a clear warning."""

import random

import pytest

from strategy.ics.parser import NO_GOALS_WARNING, parse_ics


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", "\x00\x00", "\ufeff", "\f\f"])
def test_empty_input_gives_an_empty_document_with_warnings(text):
    doc = parse_ics(text)
    assert doc.roots == [] and doc.discrepancies == []
    assert doc.warnings == ["The document is empty.", NO_GOALS_WARNING]


def test_text_that_is_not_a_strategy_says_so():
    doc = parse_ics("Minutes of the staff meeting.\n\nNothing to see.")
    assert doc.warnings == [NO_GOALS_WARNING]
    assert doc.counts() == dict.fromkeys(doc.counts(), 0)


def test_nul_bytes_and_control_characters_are_ignored():
    doc = parse_ics("Mission\x00 Goal 1:\x07 Trade grows.\x00\n\nDescription: Te\x1bxt.")
    assert (doc.roots[0].title, doc.roots[0].description) == ("Trade grows.", "Text.")


def test_random_bytes_decoded_as_text_parse_to_nothing_with_a_warning():
    data = random.Random(7).randbytes(200_000)
    doc = parse_ics(data.decode("latin-1"))
    assert doc.roots == []
    assert any("unreadable" in warning for warning in doc.warnings)
    assert NO_GOALS_WARNING in doc.warnings


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000 + "]" * 50_000,
        "*" * 100_000,
        "_a" * 50_000,
        "Mission Goal 1:" + " " * 100_000 + "#",
        "# " + " #" * 50_000,
        "a" * 200_000 + "-\n" + "b" * 10,
        "/" * 100_000,
        ("Mission Goal 1:\n" * 5_000),
        "| " * 50_000,
        "." * 100_000 + "1",
    ],
)
def test_pathological_lines_parse(text):
    # Each of these once took minutes (quadratic regular expressions). Tests do not time
    # things; bench/bench_parser.py measures that parsing stays linear.
    doc = parse_ics(text)
    assert doc.counts()["mission_goal"] <= 1


def test_bytes_and_none_are_tolerated():
    assert parse_ics(b"Mission Goal 1: Trade.").roots[0].title == "Trade."  # type: ignore[arg-type]
    assert NO_GOALS_WARNING in parse_ics(None).warnings  # type: ignore[arg-type]


def test_a_five_megabyte_document_parses_whole():
    page = (
        "Mission Objective {goal}.{n}: Tariffs on machinery fall by half in year {n}.\n"
        "Justification: Freedonian tariffs on machinery average 22 percent, twice the\n"
        "regional norm, and a quota system caps imports of American poultry and soybeans.\n"
        "UNCLASSIFIED\nPage {n} of 9999\n\n"
    )
    pages = (page.format(goal=n // 1000 + 1, n=n % 1000 + 1) for n in range(20_000))
    text = "Mission Goal 1: Trade.\n\n" + "".join(pages)
    assert len(text) > 5_000_000
    doc = parse_ics(text)
    assert doc.counts()["mission_objective"] == 20_000
    assert not any("UNCLASSIFIED" in item.justification for item in doc.items()[:50])
