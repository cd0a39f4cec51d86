"""Linkage tags to higher frameworks, read from a goal's narrative."""

import pytest

from strategy.ics.parser import linkage_tags, parse_ics


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("supports Pillar 2 of the National Security Strategy", ["NSS Pillar 2"]),
        ("Pillar II of the 2017 National Security Strategy", ["NSS Pillar 2"]),
        ("the National Security Strategy’s objective under Pillar 3", ["NSS Pillar 3"]),
        ("advances NSS Pillar 1 and NSS Pillar 4", ["NSS Pillar 1", "NSS Pillar 4"]),
        ("goal 2 of the State-USAID Joint Strategic Goal Framework", ["JSP Goal 2"]),
        ("goal 3 of the Joint Strategic Plan", ["JSP Goal 3"]),
        ("JSP Goal 1 and the Joint Strategic Plan’s Goal 4", ["JSP Goal 1", "JSP Goal 4"]),
        ("the National Security Strategy's objective of championing values", ["NSS"]),
        ("in line with the Joint Strategic Plan", ["JSP"]),
        ("the EAP Joint Regional Strategy and the Functional Bureau Strategy", ["JRS", "FBS"]),
        ("Pillar 2 of the NSS, JSP Goal 2", ["NSS Pillar 2", "JSP Goal 2"]),
        ("a business pillar of the economy and a strategic plan", []),
    ],
)
def test_linkage_tags(text, tags):
    assert linkage_tags(text) == tags


def test_items_carry_linkage_tags_from_their_narrative():
    doc = parse_ics(
        "Mission Goal 1: Trade.\n\nDescription and Linkages: Supports Pillar 2 of the National "
        "Security Strategy and goal 2 of the State-USAID Joint Strategic Plan."
    )
    assert doc.roots[0].linkages == ["NSS Pillar 2", "JSP Goal 2"]
