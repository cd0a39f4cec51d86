"""Which paragraphs start an item, which are narrative labels, which are section headings."""

import pytest

from strategy.ics.parser import parse_ics
from tests.strategy.ics.helpers import item


def parse(*paragraphs: str):
    return parse_ics("\n\n".join(paragraphs))


@pytest.mark.parametrize(
    ("heading", "kind", "code", "title"),
    [
        ("Mission Goal 1: Trade grows.", "mission_goal", "1", "Trade grows."),
        ("MISSION GOAL 1 – TRADE GROWS", "mission_goal", "1", "TRADE GROWS"),
        ("Mission Goal 1 — Trade grows", "mission_goal", "1", "Trade grows"),
        ("Mission Goal 1 - Trade grows", "mission_goal", "1", "Trade grows"),
        ("Mission Goal #1. Trade grows", "mission_goal", "1", "Trade grows"),
        ("Goal 1: Trade grows", "mission_goal", "1", "Trade grows"),
        ("Goal 10: Ten goals", "mission_goal", "10", "Ten goals"),
        ("**Mission Goal 1:** Trade grows", "mission_goal", "1", "Trade grows"),
        ("**Mission Goal 1** Trade grows", "mission_goal", "1", "Trade grows"),
        ("**Mission Goal 1: Trade grows.**", "mission_goal", "1", "Trade grows."),
        ("## Mission Goal 1 Trade grows", "mission_goal", "1", "Trade grows"),
        ("### **Mission Goal 1: Trade grows**", "mission_goal", "1", "Trade grows"),
        ("Mission Objective 1.1: Tariffs fall", "mission_objective", "1.1", "Tariffs fall"),
        ("Objective 1.1 – Tariffs fall", "mission_objective", "1.1", "Tariffs fall"),
        ("Objective 1.1) Tariffs fall", "mission_objective", "1.1", "Tariffs fall"),
        ("Sub-Objective 1.1.1: Rules published", "sub_objective", "1.1.1", "Rules published"),
        ("Sub Objective 1.1.1: Rules published", "sub_objective", "1.1.1", "Rules published"),
        ("Subobjective 1.1.1: Rules published", "sub_objective", "1.1.1", "Rules published"),
        ("Mission Sub-Objective 1.1.1: Rules", "sub_objective", "1.1.1", "Rules"),
        ("Objective 1.1.1: Rules published", "sub_objective", "1.1.1", "Rules published"),
        ("Management Objective 1: New chancery", "management_objective", "1", "New chancery"),
        ("Management Goal 1: New chancery", "management_objective", "1", "New chancery"),
        ("Management Objective 1.2: Generators", "management_sub_objective", "1.2", "Generators"),
        ("Management Sub-Objective 1.2: Gen", "management_sub_objective", "1.2", "Gen"),
        ("Management Objective 01: Leading zero", "management_objective", "1", "Leading zero"),
    ],
)
def test_heading_forms_start_an_item(heading, kind, code, title):
    assert item(parse(heading), kind, code).title == title


def test_title_on_the_paragraph_after_a_bare_heading():
    doc = parse("Mission Goal 2", "Keep Americans safe.", "Justification", "Text.")
    goal = item(doc, "mission_goal", "2")
    assert goal.title == "Keep Americans safe."
    assert goal.justification == "Text."


def test_a_label_right_after_a_bare_heading_leaves_the_title_to_the_framework():
    doc = parse(
        "Mission Strategic Framework",
        "Mission Goal 1: Trade grows.",
        "Mission Goals and Objectives",
        "Mission Goal 1",
        "Description and Linkages: Text.",
    )
    goal = item(doc, "mission_goal", "1")
    assert goal.title == "Trade grows." and goal.description == "Text."
    assert doc.discrepancies == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Mission Goal 1 is the Mission's first priority.",
        "Objective 1.1 Increase exports without a separator.",
        "Sub-Objective 3.1.1 is to increase the exchange of data.",
        "goal 2 of the Joint Strategic Plan: lower case is never a heading.",
        "Mission Goal 1.1.1.1: four-part codes are not items.",
    ],
)
def test_a_mention_inside_a_sentence_is_not_an_item(sentence):
    doc = parse("Mission Goal 1: Trade grows.", "Justification: Intro.", sentence)
    assert [(i.kind, i.code) for i in doc.items()] == [("mission_goal", "1")]
    assert sentence in item(doc, "mission_goal", "1").justification


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Description and Linkages", "description"),
        ("Descriptions and Linkages", "description"),
        ("Description(s) and Linkages", "description"),
        ("Description & Linkages", "description"),
        ("Linkages", "description"),
        ("Justification", "justification"),
        ("Objective Justification", "justification"),
        ("Sub-Objective Justification", "justification"),
        ("Mission Objective Justification", "justification"),
        ("Risk", "risks"),
        ("Risks", "risks"),
        ("Risk Considerations", "risks"),
        ("Risk Assessment", "risks"),
    ],
)
def test_narrative_labels_inline_and_as_headings(label, field):
    inline = parse("Mission Objective 1.1: Tariffs fall.", f"{label}: Inline text.")
    heading = parse("Mission Objective 1.1: Tariffs fall.", f"**{label}**", "First.", "Second.")
    assert getattr(item(inline, "mission_objective", "1.1"), field) == "Inline text."
    assert getattr(item(heading, "mission_objective", "1.1"), field) == "First.\n\nSecond."


def test_a_sentence_starting_with_a_label_word_is_narrative():
    doc = parse(
        "Mission Objective 1.1: Tariffs fall.",
        "Justification: Tariffs are high.",
        "Risks to the reform include the election.",
        "Risk-based planning helps.",
    )
    objective = item(doc, "mission_objective", "1.1")
    assert objective.risks == ""
    assert objective.justification.endswith("Risk-based planning helps.")


def test_unlabelled_text_describes_a_goal_and_justifies_an_objective():
    doc = parse(
        "Mission Goal 1: Trade grows.",
        "Goal text.",
        "Mission Objective 1.1: Tariffs fall.",
        "Objective text.",
        "Management Objective 1: Chancery.",
        "Management text.",
    )
    assert item(doc, "mission_goal", "1").description == "Goal text."
    assert item(doc, "mission_objective", "1.1").justification == "Objective text."
    assert item(doc, "management_objective", "1").justification == "Management text."


@pytest.mark.parametrize(
    "heading",
    [
        "Chief of Mission Priorities",
        "1. Chief of Mission Priorities",
        "I. Chief of Mission Priorities",
        "Section 1: Chief of Mission Priorities",
        "**1. Chief of Mission Priorities**",
        "## 1. CHIEF OF MISSION PRIORITIES",
        "Chief of Mission (COM) Priorities",
        "Chief of Mission's Priorities:",
    ],
)
def test_chief_of_mission_priorities_heading_variants(heading):
    doc = parse(heading, "We will lead.", "And we will listen.", "Mission Goal 1: Trade.")
    assert doc.com_priorities == "We will lead.\n\nAnd we will listen."


@pytest.mark.parametrize(
    ("framework", "detail", "management"),
    [
        ("Mission Strategic Framework", "Mission Goals and Objectives", "Management Objectives"),
        ("2. Mission Strategic Framework", "3. Mission Goals and Objectives", "4. Management"
         " Objectives"),
        ("II. STRATEGIC FRAMEWORK", "III. MISSION GOALS, OBJECTIVES, AND SUB-OBJECTIVES",
         "IV. MANAGEMENT OBJECTIVES"),
        ("## Section 2 – Mission Strategic Framework", "## Part 3: Mission Goals",
         "## Management Goals and Objectives"),
    ],
)  # fmt: skip
def test_section_heading_variants_split_framework_and_detail(framework, detail, management):
    doc = parse(
        framework,
        "Mission Goal 1: Trade grows.",
        "Mission Objective 1.1: Tariffs fall.",
        "Management Objective 1: Chancery.",
        detail,
        "Mission Goal 1: Trade grows.",
        "Description and Linkages: Text.",
        "Mission Objective 1.1: Tariffs fall.",
        management,
        "Objective 1: Chancery.",  # plain "Objective 1" under the management heading
        "Justification: Old building.",
    )
    assert {tuple(i.sources) for i in doc.items()} == {("framework", "detail")}
    assert item(doc, "management_objective", "1").justification == "Old building."
    assert doc.discrepancies == []


def test_a_goal_title_ending_in_framework_is_not_a_section_heading():
    doc = parse("Mission Goal 1", "Strengthen the legal framework", "Justification: Text.")
    assert item(doc, "mission_goal", "1").title == "Strengthen the legal framework"


def test_text_before_the_first_item_of_a_section_is_not_narrative():
    doc = parse(
        "Mission Goals and Objectives",
        "This section sets out our goals.",
        "Mission Goal 1: Trade grows.",
        "Description: Goal text.",
    )
    assert item(doc, "mission_goal", "1").description == "Goal text."
    assert doc.com_priorities == ""


def test_table_cells_separate_labels_from_their_text():
    doc = parse_ics(
        "Mission Goal 1      Trade grows in both directions\n"  # pdftotext -layout
        "Description         Exports create jobs.\n"
        "Mission Objective 1.1\tTariffs fall\n"  # a DOCX table row
        "Justification\tTariffs are high.\n\n"
        "| Mission Objective 1.2 | Bids are fair |\n|---|---|\n"
        "| Justification | Tenders close fast. |\n| Risks | Courts are slow. |\n\n"
        "Mission Objective 1.3 | Ports open\n\nJustification | Ships wait.\n\n"
        "+------+------+\n"
    )
    assert item(doc, "mission_goal", "1").title == "Trade grows in both directions"
    assert item(doc, "mission_goal", "1").description == "Exports create jobs."
    assert item(doc, "mission_objective", "1.1").justification == "Tariffs are high."
    assert item(doc, "mission_objective", "1.2").justification == "Tenders close fast."
    assert item(doc, "mission_objective", "1.2").risks == "Courts are slow."
    assert item(doc, "mission_objective", "1.3").justification == "Ships wait."


def test_justified_layout_spacing_does_not_make_a_heading():
    doc = parse_ics(
        "Mission Goal 1: Trade grows.\n"
        "Description: Text.\n"
        "Mission  Goal  2  comes  next  in  this  justified  line.\n"
        "Justification   for   the   program   is   strong.\n"
    )
    assert doc.counts()["mission_goal"] == 1
    assert item(doc, "mission_goal", "1").description == (
        "Text.\n\nMission Goal 2 comes next in this justified line.\n\n"
        "Justification for the program is strong."
    )
