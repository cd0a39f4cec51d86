"""Lines become paragraphs: unwrapping, page breaks, hyphenation, one paragraph per line."""

import textwrap

from strategy.ics.parser import parse_ics
from tests.strategy.ics.helpers import item

LONG = (
    "The Mission will pair trade policy dialogue with targeted trade promotion so that "
    "American firms are ready to sell as soon as barriers fall, and it will report each "
    "quarter on the tariff lines that changed and on the firms that used them."
)
SECOND = "A second paragraph follows the first one here."


def justification(text: str) -> str:
    return item(parse_ics(text), "mission_objective", "1.1").justification


def wrapped(text: str, width: int = 72) -> str:
    return "\n".join(textwrap.wrap(text, width))


def test_hard_wrapped_paragraphs_are_unwrapped():
    body = f"{wrapped(LONG)}\n\n{wrapped(SECOND)}\n\n{wrapped(LONG)}"
    doc = f"Mission Objective 1.1: Tariffs fall.\nJustification:\n{body}"
    assert justification(doc) == f"{LONG}\n\n{SECOND}\n\n{LONG}"


def test_hard_wrapped_paragraphs_without_blank_lines_split_where_a_line_ends_early():
    body = f"{wrapped(LONG)}\n{wrapped(SECOND)}\n{wrapped(LONG)}"
    doc = f"Mission Objective 1.1: Tariffs fall.\nJustification:\n{body}"
    assert justification(doc) == f"{LONG}\n\n{SECOND}\n\n{LONG}"


def test_a_wrapped_item_title_continues_on_the_next_line():
    title = "American firms win a fair and transparent share of Freedonian public procurement."
    doc = parse_ics(f"{wrapped('Mission Objective 1.1: ' + title, 60)}\nJustification: {LONG}")
    assert item(doc, "mission_objective", "1.1").title == title


def test_a_paragraph_cut_by_a_page_break_is_joined_with_one_space():
    doc = (
        "Mission Objective 1.1: Tariffs fall.\n\nJustification: Deaths are attributable to "
        "heroin, prescription drugs, or\n\nFOR PUBLIC RELEASE\n\n12\n\n"
        "synthetic opioids. New text starts here.\n\nNext paragraph."
    )
    assert justification(doc) == (
        "Deaths are attributable to heroin, prescription drugs, or synthetic opioids. "
        "New text starts here.\n\nNext paragraph."
    )


def test_a_page_break_after_a_function_word_joins_even_before_a_capital():
    doc = (
        "Mission Objective 1.1: Tariffs fall.\n\nJustification: We will work with the\n\n"
        "Chinese government to curb the flow.\n\nA new paragraph."
    )
    assert justification(doc) == (
        "We will work with the Chinese government to curb the flow.\n\nA new paragraph."
    )


def test_a_finished_paragraph_is_not_joined_to_the_next():
    doc = "Mission Objective 1.1: Tariffs fall.\n\nJustification: One.\n\nTwo starts here."
    assert justification(doc) == "One.\n\nTwo starts here."


def test_hyphenated_line_end_breaks_are_rejoined_sensibly():
    doc = (
        "Mission Objective 1.1: Tariffs fall.\n"
        "Justification: International trade matters. Our inter-\n"
        "national partners, and state-\n"
        "owned firms, and U.S.-\n"
        "China ties all count.\n"
    )
    assert justification(doc) == (
        "International trade matters. Our international partners, and state-owned firms, "
        "and U.S.-China ties all count."
    )


def test_one_paragraph_per_line_text_keeps_its_paragraphs():
    doc = (
        "Mission Objective 1.1\nTariffs fall\nJustification\n"
        "Tariffs on machinery average 22 percent, twice the regional norm.\n"
        "The rule costs American exporters about two weeks per shipment\n"
        "Risks\nFarm lobbies may block reform."
    )
    objective = item(parse_ics(doc), "mission_objective", "1.1")
    assert objective.title == "Tariffs fall"
    assert objective.justification == (
        "Tariffs on machinery average 22 percent, twice the regional norm.\n\n"
        "The rule costs American exporters about two weeks per shipment"
    )
    assert objective.risks == "Farm lobbies may block reform."


def test_a_wrapped_line_starting_with_a_bare_item_label_is_not_a_heading():
    line = "One of the key activities under this objective is the work described under"
    doc = (
        f"Mission Objective 3.1: Opioids.\nJustification:\n{LONG[:76]}\n{line}\n"
        "Sub-Objective 3.1.1\nto increase the exchange of scientific data between labs.\n"
        f"{wrapped(LONG, 78)}\n"
    )
    parsed = parse_ics(doc)
    assert parsed.counts()["sub_objective"] == 0
    assert "described under Sub-Objective 3.1.1 to increase" in (
        item(parsed, "mission_objective", "3.1").justification
    )


def test_bullets_stay_separate_list_items():
    doc = (
        "Mission Objective 1.1: Tariffs fall.\n\nRisks:\n\n"
        "• Parliament may delay\nthe vote.\n•\nLobbies may resist.\n- Courts may rule against."
    )
    risks = item(parse_ics(doc), "mission_objective", "1.1").risks
    assert risks == (
        "- Parliament may delay the vote.\n- Lobbies may resist.\n- Courts may rule against."
    )


def test_windows_and_old_mac_line_endings_and_form_feeds():
    doc = "Mission Goal 1: Trade.\r\nDescription: One.\r\n\r\nTwo.\fThree.\rFour."
    assert item(parse_ics(doc), "mission_goal", "1").description == (
        "One.\n\nTwo.\n\nThree.\n\nFour."
    )


def test_a_list_with_blank_lines_between_items_stays_loose():
    doc = "Mission Objective 1.1: Tariffs fall.\n\nRisks:\n\n- Elections.\n\n- Weather.\n- Floods."
    assert item(parse_ics(doc), "mission_objective", "1.1").risks == (
        "- Elections.\n\n- Weather.\n- Floods."
    )
