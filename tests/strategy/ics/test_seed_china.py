"""Acceptance on the real seed: the China ICS as text extracted from its PDF."""

from datetime import date

import pytest

from strategy.ics.parser import parse_ics
from tests.strategy.ics.helpers import all_text, item, problems

GOAL, OBJECTIVE = "mission_goal", "mission_objective"


@pytest.fixture(scope="module")
def china(seed_text):
    return parse_ics(seed_text)


def test_seed_counts_four_goals_nine_objectives_three_management_objectives(china):
    assert china.counts() == {
        "mission_goal": 4,
        "mission_objective": 9,
        "sub_objective": 0,  # "Sub-Objective 3.1.1" is only mentioned inside a sentence
        "management_objective": 3,
        "management_sub_objective": 0,
    }


def test_seed_metadata(china):
    assert china.mission_name == "China"
    assert china.strategy_kind == "ics"
    assert china.title == "Integrated Country Strategy — China"
    assert china.approved_on == date(2018, 8, 1)
    assert china.reviewed_on == date(2020, 4, 3)
    assert (china.period_start_fy, china.period_end_fy) == (None, None)
    assert china.warnings == []


def test_seed_discrepancies_name_the_changed_titles_and_the_framework_only_objective(china):
    assert {
        ("2.1", "title_mismatch"),
        ("3.3", "title_mismatch"),
        ("3.4", "framework_only"),
    } <= problems(china)
    mismatch = next(d for d in china.discrepancies if d.code == "3.3")
    assert mismatch.framework_text.endswith("in its treatment of U.S. citizens.")
    assert mismatch.detail_text.endswith("Mission China improves vetting procedures.")
    assert "detailed section's title was kept" in mismatch.message


def test_seed_keeps_the_detailed_sections_titles(china):
    assert item(china, OBJECTIVE, "2.1").title.startswith("China maintains pressure on the DPRK")
    assert item(china, OBJECTIVE, "3.4").sources == ["framework"]
    assert item(china, OBJECTIVE, "3.1").sources == ["framework", "detail"]


def test_seed_goal_1_description_runs_whole(china):
    description = item(china, GOAL, "1").description
    assert description.startswith("Further opening")
    assert description.endswith("business competitiveness.")
    assert "\n" not in description
    assert item(china, GOAL, "1").linkages == ["NSS Pillar 2", "JSP Goal 2"]


def test_seed_paragraph_cut_by_the_page_break_is_joined(china):
    justification = item(china, OBJECTIVE, "3.1").justification
    assert "prescription drugs, or synthetic opioids" in justification
    first, second = justification.split("\n\n")
    assert first.endswith("success against this crisis.")
    assert second.startswith("This Objective seeks")
    assert second.endswith("last quarter of 2018.")


def test_seed_date_lines_do_not_leak_into_narrative(china):
    assert "Reviewed" not in item(china, OBJECTIVE, "4.1").justification
    assert item(china, OBJECTIVE, "4.1").justification.endswith("tolerance, and freedom.")


def test_seed_text_is_free_of_furniture_and_markdown(china):
    text = all_text(china)
    for unwanted in ("FOR PUBLIC RELEASE", "Originally Approved", "**", "\\$", "##"):
        assert unwanted not in text
    assert "$375 billion" in item(china, OBJECTIVE, "1.1").justification


def test_seed_chief_of_mission_priorities_are_kept_in_paragraphs(china):
    priorities = china.com_priorities
    assert "work with the Chinese government to curb" in priorities
    assert priorities.startswith("There is no more consequential bilateral relationship")
    assert priorities.count("\n\n") == 7  # eight paragraphs


def test_seed_tree_nests_objectives_under_their_goals(china):
    assert [(root.kind, root.code) for root in china.roots] == [
        (GOAL, "1"), (GOAL, "2"), (GOAL, "3"), (GOAL, "4"),
        ("management_objective", "1"), ("management_objective", "2"),
        ("management_objective", "3"),
    ]  # fmt: skip
    goal3 = china.roots[2]
    assert [child.code for child in goal3.children] == ["3.1", "3.2", "3.3", "3.4"]
    assert all(child.parent_code == "3" for child in goal3.children)
