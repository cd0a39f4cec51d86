"""One item per (kind, code); every difference between the sections is reported."""

from strategy.ics.parser import parse_ics, title_key
from tests.strategy.ics.helpers import item, problems


def two_sections(framework: list[str], detail: list[str]):
    return parse_ics(
        "\n\n".join(
            ["Mission Strategic Framework", *framework, "Mission Goals and Objectives", *detail]
        )
    )


def test_titles_that_differ_only_in_case_spacing_quotes_or_trailing_period_match():
    doc = two_sections(
        ["Mission Goal 1: Sylvania’s “green corridor” — delivers  POWER."],
        ['Mission Goal 1: Sylvania\'s "green corridor" - delivers power'],
    )
    assert doc.discrepancies == []
    assert title_key("A “b” —  C.") == title_key('a "b" - c')


def test_a_real_title_difference_is_reported_and_the_detail_title_kept():
    doc = two_sections(["Mission Goal 1: Trade grows."], ["Mission Goal 1: Trade grows fast."])
    (mismatch,) = doc.discrepancies
    assert (mismatch.code, mismatch.kind, mismatch.problem) == (
        "1",
        "mission_goal",
        "title_mismatch",
    )
    assert (mismatch.framework_text, mismatch.detail_text) == ("Trade grows.", "Trade grows fast.")
    assert "(punctuation only)" not in mismatch.message
    assert "detailed section's title was kept" in mismatch.message
    assert doc.roots[0].title == "Trade grows fast."


def test_a_difference_in_commas_only_is_still_reported_as_punctuation_only():
    doc = two_sections(
        ["Mission Goal 2: Lead in the region, and strengthen security."],
        ["Mission Goal 2: Lead in the region and strengthen security."],
    )
    (mismatch,) = doc.discrepancies
    assert mismatch.problem == "title_mismatch"
    assert "(punctuation only)" in mismatch.message


def test_items_in_only_one_section_are_reported_and_kept():
    doc = two_sections(
        [
            "Mission Goal 1: Trade.",
            "Mission Objective 1.1: Tariffs.",
            "Mission Objective 1.2: Bids.",
        ],
        [
            "Mission Goal 1: Trade.",
            "Mission Objective 1.1: Tariffs.",
            "Mission Objective 1.3: Ports.",
        ],
    )
    assert problems(doc) == {("1.2", "framework_only"), ("1.3", "detail_only")}
    assert item(doc, "mission_objective", "1.2").sources == ["framework"]
    assert item(doc, "mission_objective", "1.3").sources == ["detail"]


def test_management_objectives_absent_from_a_mission_only_framework_are_not_detail_only():
    doc = two_sections(
        ["Mission Goal 1: Trade."],
        ["Mission Goal 1: Trade.", "Management Objective 1: Chancery."],
    )
    assert doc.discrepancies == []


def test_without_a_detailed_section_framework_items_are_not_framework_only():
    doc = parse_ics("Mission Strategic Framework\n\nMission Goal 1: Trade.\n\nGoal 2: Safety.")
    assert doc.counts()["mission_goal"] == 2 and doc.discrepancies == []


def test_framework_narrative_is_used_when_the_detail_section_has_none():
    doc = two_sections(
        ["Mission Goal 1: Trade.", "Description: Framework text."],
        ["Mission Goal 1: Trade.", "Mission Goal 2: Safety.", "Description: Detail text."],
    )
    assert item(doc, "mission_goal", "1").description == "Framework text."
    assert item(doc, "mission_goal", "2").description == "Detail text."


def test_missing_parents_get_placeholders_all_the_way_up():
    doc = parse_ics("Sub-Objective 4.2.1: Labs share data.\n\nJustification: Text.")
    assert [(i.kind, i.code, i.title) for i in doc.items()] == [
        ("mission_goal", "4", "Mission Goal 4"),
        ("mission_objective", "4.2", "Mission Objective 4.2"),
        ("sub_objective", "4.2.1", "Labs share data."),
    ]
    assert [(d.code, d.problem) for d in doc.discrepancies] == [
        ("4.2", "missing_parent"),
        ("4.2.1", "missing_parent"),
    ]


def test_the_tree_is_sorted_numerically_goals_before_management():
    doc = parse_ics(
        "\n\n".join(
            [
                "Management Objective 2: M2.",
                "Mission Goal 10: G10.",
                "Mission Objective 1.10: O110.",
                "Mission Goal 2: G2.",
                "Mission Goal 1: G1.",
                "Mission Objective 1.2: O12.",
                "Management Objective 1: M1.",
            ]
        )
    )
    assert [(r.kind[:4], r.code) for r in doc.roots] == [
        ("miss", "1"), ("miss", "2"), ("miss", "10"), ("mana", "1"), ("mana", "2"),
    ]  # fmt: skip
    assert [c.code for c in doc.roots[0].children] == ["1.2", "1.10"]
    assert doc.roots[0].children[0].parent_code == "1"
    assert doc.roots[0].parent_code is None


def test_an_item_without_any_title_is_named_by_its_label_with_a_warning():
    doc = parse_ics("Mission Goal 3\n\nDescription: Text.")
    assert doc.roots[0].title == "Mission Goal 3"
    assert "Mission Goal 3 has no title in the document; its label was used." in doc.warnings


def test_to_dict_carries_the_tree_counts_and_discrepancies():
    data = two_sections(["Mission Goal 1: A."], ["Mission Goal 1: B."]).to_dict()
    assert data["counts"]["mission_goal"] == 1
    assert data["tree"][0]["sources"] == ["framework", "detail"]
    assert data["discrepancies"][0]["problem"] == "title_mismatch"
