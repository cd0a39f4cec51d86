"""What a PDF page or a Markdown file adds around the text is dropped, data is not."""

import pytest

from strategy.ics.parser import parse_ics
from tests.strategy.ics.helpers import all_text, item


def justification_of(*lines: str, separator: str = "\n") -> str:
    text = separator.join(["Mission Objective 1.1: Tariffs fall.", "Justification:", *lines])
    return item(parse_ics(text), "mission_objective", "1.1").justification


@pytest.mark.parametrize(
    "furniture",
    [
        "FOR PUBLIC RELEASE",
        "UNCLASSIFIED",
        "Unclassified",
        "SENSITIVE BUT UNCLASSIFIED (SBU)",
        "SENSITIVE BUT UNCLASSIFIED",
        "(SBU)",
        "UNCLASSIFIED//FOR OFFICIAL USE ONLY",
        "Classification: UNCLASSIFIED",
        "12",
        "Page 3",
        "Page 3 of 20",
        "- 4 -",
        "– 4 –",
        "3 | P a g e",
        "Page | 3",
        "UNCLASSIFIED | Page 3 of 20",
        "iv",
    ],
)
def test_page_furniture_lines_are_dropped_and_the_sentence_goes_on(furniture):
    text = justification_of("Tariffs average 22 percent on", furniture, "machinery imports.")
    assert text == "Tariffs average 22 percent on machinery imports."


@pytest.mark.parametrize(
    "narrative",
    [
        "Public diplomacy will carry this message.",
        "Unclassified briefings reach a wide audience.",
        "2018",
        "Page views doubled.",
    ],
)
def test_lines_that_only_look_like_furniture_are_kept(narrative):
    assert justification_of("Intro.", narrative, separator="\n\n") == f"Intro.\n\n{narrative}"


def test_contents_lines_with_dot_leaders_or_page_numbers_are_dropped():
    doc = parse_ics(
        "Table of Contents\n"
        "1. Chief of Mission Priorities ........ 2\n"
        "Mission Goal 1: Trade grows . . . . . . . 4\n"
        "Mission Strategic Framework\t3\n"
        "Mission Goals and Objectives 4\n\n"
        "Chief of Mission Priorities\n\nWe lead.\n\n"
        "Mission Goal 1: Trade grows.\n\nDescription: Text."
    )
    assert doc.com_priorities == "We lead."
    goal = item(doc, "mission_goal", "1")
    assert (goal.title, goal.sources) == ("Trade grows.", ["detail"])
    assert doc.discrepancies == []


def test_contents_without_page_numbers_do_not_start_sections_or_items():
    doc = parse_ics(
        "Contents\n"
        "Chief of Mission Priorities\nMission Strategic Framework\n"
        "Mission Goal 1: Trade grows\nMission Goals and Objectives\n\n"
        "Chief of Mission Priorities\n\nWe lead.\n\n"
        "Mission Strategic Framework\n\nMission Goal 1: Trade grows.\n\n"
        "Mission Goals and Objectives\n\nMission Goal 1: Trade grows.\n\nDescription: Text."
    )
    assert doc.com_priorities == "We lead."
    assert item(doc, "mission_goal", "1").sources == ["framework", "detail"]
    assert doc.discrepancies == []


def test_markdown_contents_links_are_dropped():
    doc = parse_ics(
        "## Contents\n\n- [Chief of Mission Priorities](#com)\n1. [Mission Goals](#goals)\n\n"
        "## Chief of Mission Priorities\n\nWe lead.\n\nMission Goal 1: Trade grows."
    )
    assert doc.com_priorities == "We lead."


def test_running_headers_are_dropped_everywhere_but_still_give_the_title():
    page = "Integrated Country Strategy Kenya\nMission Goal {n}: Goal {n}.\nDescription: Text {n}."
    doc = parse_ics("\n\n".join(page.format(n=n) for n in (1, 2, 3)))
    assert doc.mission_name == "Kenya"
    assert "Integrated Country Strategy" not in all_text(doc).replace(doc.title, "")
    assert item(doc, "mission_goal", "3").description == "Text 3."


def test_a_short_line_repeated_on_every_page_is_a_running_footer():
    pages = [
        f"Mission Objective 1.{n}: Title {n}.\nJustification: Body {n}.\nEmbassy Nairobi | {n}"
        for n in range(1, 5)
    ]
    doc = parse_ics("Mission Goal 1: Goal.\n" + "\n".join(pages))
    assert "Nairobi" not in all_text(doc)
    assert item(doc, "mission_objective", "1.4").justification == "Body 4."


def test_repeated_approval_footer_is_dropped_but_its_date_is_read():
    pages = "\n".join(
        f"Mission Goal {n}: Goal {n}.\nDescription: Text {n}.\nApproved: August 2018\n{n}"
        for n in (1, 2, 3)
    )
    doc = parse_ics(pages)
    assert str(doc.approved_on) == "2018-08-01"
    assert "Approved" not in all_text(doc)


def test_markdown_syntax_is_removed_and_escapes_are_unescaped():
    doc = parse_ics(
        "# Integrated Country Strategy\n\n---\n\n***\n\n"
        "Mission Goal 1: Trade *grows* __fast__.\n\n"
        "> **Description and Linkages:** Costs \\$5 \\* 2 for [our firms](https://example.com)."
        "  \n![chart](chart.png)Next line &amp; more.<br>\n\n"
        "Mission Objective 1.1: Tariffs_on_goods fall."
    )
    goal = item(doc, "mission_goal", "1")
    assert goal.title == "Trade grows fast."
    assert goal.description == "Costs $5 * 2 for our firms.\n\nNext line & more."
    assert item(doc, "mission_objective", "1.1").title == "Tariffs_on_goods fall."


def test_non_breaking_spaces_and_invisible_characters_are_normalised():
    doc = parse_ics(
        "Mission\u00a0Goal\u00a01:\u00a0Trade\u00a0grows.\u200b\n\nDescription: In\u00adter\u00a0text."
    )
    goal = item(doc, "mission_goal", "1")
    assert (goal.title, goal.description) == ("Trade grows.", "Inter text.")
