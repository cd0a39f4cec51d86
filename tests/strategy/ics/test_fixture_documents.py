"""Whole invented documents, one per layout the parser must read (see fixtures/)."""

from datetime import date

from tests.strategy.ics.helpers import all_text, item, parse_fixture, problems

GOAL, OBJECTIVE, SUB = "mission_goal", "mission_objective", "sub_objective"
MGMT, MGMT_SUB = "management_objective", "management_sub_objective"


# (a) Hard-wrapped pdftotext output: banners, "Page N of M", running header, dot leaders.


def test_pdftotext_layout_reads_metadata_and_every_item():
    doc = parse_fixture("freedonia_pdftotext.txt")
    assert (doc.mission_name, doc.strategy_kind) == ("Freedonia", "ics")
    assert (doc.period_start_fy, doc.period_end_fy) == (2022, 2026)
    assert (doc.approved_on, doc.reviewed_on) == (date(2022, 3, 1), date(2023, 9, 15))
    assert doc.counts() == {GOAL: 2, OBJECTIVE: 3, SUB: 1, MGMT: 2, MGMT_SUB: 0}
    assert problems(doc) == {("1.2", "title_mismatch")}
    assert doc.warnings == []


def test_pdftotext_layout_unwraps_lines_and_drops_page_furniture():
    doc = parse_fixture("freedonia_pdftotext.txt")
    text = all_text(doc)
    for furniture in ("UNCLASSIFIED", "Page 2 of 8", "Integrated Country Strategy |", "....."):
        assert furniture not in text
    goal = item(doc, GOAL, "1")
    assert goal.title == (
        "Freedonian markets open to American goods, services and investment on fair and "
        "reciprocal terms."
    )
    assert goal.description.startswith("Opening Freedonian markets supports Pillar 1")
    assert "\n" not in goal.description
    assert goal.linkages == ["NSS Pillar 1", "JSP Goal 2"]


def test_pdftotext_layout_joins_paragraphs_cut_by_page_breaks():
    doc = parse_fixture("freedonia_pdftotext.txt")
    # cut after "work with the", continued in upper case after the footer and header
    assert "will work with the Freedonian government to lower them" in doc.com_priorities
    # no blank line between two paragraphs, the first ending short: still two paragraphs
    assert doc.com_priorities.count("\n\n") == 2
    # cut mid-sentence, continued in lower case on the next page
    assert "some reach American pharmacies through online sellers." in (
        item(doc, OBJECTIVE, "2.1").justification
    )


def test_pdftotext_layout_rejoins_a_hyphenated_word_and_keeps_a_mention_as_text():
    justification = item(parse_fixture("freedonia_pdftotext.txt"), OBJECTIVE, "1.2").justification
    assert "and their international partners" in justification
    assert "covered by Sub-Objective 1.2.1 are the first test" in justification


def test_pdftotext_layout_reads_sub_objectives_and_risk_sections():
    doc = parse_fixture("freedonia_pdftotext.txt")
    sub = item(doc, SUB, "1.2.1")
    assert sub.parent_code == "1.2" and sub.sources == ["framework", "detail"]
    assert sub.justification.startswith("The port authority will let contracts")
    objective = item(doc, OBJECTIVE, "1.1")
    assert objective.risks == "Farm lobbies may block quota reform before the 2024 election."
    assert objective.justification.count("\n\n") == 1
    assert item(doc, MGMT, "1").risks == "Construction delays could push the move into FY 2027."


# (b) Markdown: headings, a framework table, curly quotes, escapes, label variants.


def test_markdown_layout_reads_metadata():
    doc = parse_fixture("sylvania.md")
    assert doc.mission_name == "Sylvania"
    assert doc.title == "Integrated Country Strategy — Sylvania"
    assert (doc.period_start_fy, doc.period_end_fy) == (2023, 2027)
    assert (doc.approved_on, doc.reviewed_on) == (date(2023, 2, 14), date(2024, 5, 2))


def test_markdown_layout_reads_a_framework_table_and_ignores_quote_style():
    doc = parse_fixture("sylvania.md")
    assert doc.counts() == {GOAL: 2, OBJECTIVE: 3, SUB: 0, MGMT: 1, MGMT_SUB: 0}
    assert all(i.sources == ["framework", "detail"] for i in doc.items())
    # straight quotes in the detail, curly in the framework, a trailing period on one side
    assert doc.discrepancies == []
    assert item(doc, GOAL, "1").title == (
        'Sylvania\'s "green corridor" delivers clean energy to the region.'
    )


def test_markdown_layout_reads_label_headings_and_strips_markup():
    doc = parse_fixture("sylvania.md")
    goal = item(doc, GOAL, "1")
    assert goal.description.startswith("Energy security runs through this goal.")
    assert "NSS Pillar 3 by building" in goal.description  # *italics* and **bold** gone
    assert goal.linkages == ["NSS Pillar 3", "JSP Goal 1"]
    assert item(doc, GOAL, "2").description.startswith("Judicial independence")
    objective = item(doc, OBJECTIVE, "1.1")
    assert objective.justification.endswith("A second reading is expected in the spring session.")
    assert objective.risks == (
        "- Parliament may delay the vote until after local elections.\n"
        "- The state utility may lobby for exemptions."
    )
    assert "$900 million" in item(doc, OBJECTIVE, "1.2").justification
    assert item(doc, MGMT, "1").risks.startswith("Charging points")


def test_markdown_layout_keeps_curly_quotes_in_narrative():
    doc = parse_fixture("sylvania.md")
    assert "a “partnership of equals”" in doc.com_priorities
    assert "A budget of $12 million" in doc.com_priorities
    assert "[Chief of Mission Priorities]" not in all_text(doc)


# (c) No framework section; ALL-CAPS title and headings; an objective without its goal.


def test_document_without_framework_reports_no_framework_discrepancies():
    doc = parse_fixture("oceania_no_framework.txt")
    assert doc.mission_name == "Republic of Oceania"
    assert doc.approved_on == date(2021, 6, 1)
    assert all(i.sources in (["detail"], []) for i in doc.items())
    assert problems(doc) == {("2.1", "missing_parent")}


def test_objective_without_its_goal_gets_a_placeholder_goal():
    doc = parse_fixture("oceania_no_framework.txt")
    placeholder = item(doc, GOAL, "2")
    assert placeholder.title == "Mission Goal 2" and placeholder.sources == []
    assert [child.code for child in placeholder.children] == ["2.1"]
    message = next(d.message for d in doc.discrepancies if d.problem == "missing_parent")
    assert "placeholder" in message and "Mission Goal 2" in message


def test_all_caps_headings_and_dash_separators_are_items():
    doc = parse_fixture("oceania_no_framework.txt")
    assert item(doc, GOAL, "1").title == "EXPAND MARITIME SECURITY COOPERATION"
    assert item(doc, OBJECTIVE, "1.2").title.startswith("Oceania shares vessel-tracking data")
    assert item(doc, OBJECTIVE, "1.2").risks.startswith("The data-sharing agreement")
    assert item(doc, MGMT, "1").justification.startswith("Two consulates")
    assert "SENSITIVE BUT UNCLASSIFIED" not in all_text(doc)


# (d) Text from DOCX: one paragraph per line, titles on the line after "Mission Goal 2".


def test_docx_text_layout_reads_titles_on_the_following_line():
    doc = parse_fixture("grand_fenwick_docx.txt")
    assert doc.mission_name == "Grand Fenwick"  # from "Mission Grand Fenwick"
    assert (doc.period_start_fy, doc.period_end_fy, doc.approved_on) == (
        2024,
        2028,
        date(2024, 1, 15),
    )
    assert doc.counts() == {GOAL: 2, OBJECTIVE: 5, SUB: 0, MGMT: 1, MGMT_SUB: 0}
    assert item(doc, GOAL, "2").title == "Americans in Grand Fenwick are safe"
    assert item(doc, MGMT, "1").title == "The Embassy's IT systems move to the cloud"


def test_docx_text_layout_reads_labels_on_their_own_lines():
    doc = parse_fixture("grand_fenwick_docx.txt")
    objective = item(doc, OBJECTIVE, "1.1")
    assert objective.justification == (
        "Fenwick requires a separate label for every wine shipment, in the local language, "
        "checked by hand.\n\nThe rule costs American exporters about two weeks per shipment."
    )
    assert objective.risks == "Local growers favor the rule and have allies in the Council."
    assert item(doc, GOAL, "2").description == "About 3,000 Americans live in Grand Fenwick."
    assert item(doc, GOAL, "1").linkages == ["JSP Goal 2"]
    assert doc.com_priorities.count("\n\n") == 1


def test_docx_text_layout_reports_each_kind_of_section_difference():
    doc = parse_fixture("grand_fenwick_docx.txt")
    assert problems(doc) == {
        ("1.1", "title_mismatch"),
        ("2.2", "framework_only"),
        ("2.3", "detail_only"),
    }
    mismatch = doc.discrepancies[0]
    assert mismatch.framework_text == "Fenwick removes its labeling rules for imported wine"
    assert mismatch.detail_text == "Fenwick removes its labelling rules for imported wines"
    assert item(doc, OBJECTIVE, "1.1").title == mismatch.detail_text


# (e) Management goals and sub-objectives, "Mission Goal #1.", FY22-26, duplicates.


def test_management_variants_build_a_management_tree():
    doc = parse_fixture("ruritania_management.txt")
    assert doc.mission_name == "Ruritania"  # from "U.S. Embassy Ruritania"
    assert (doc.period_start_fy, doc.period_end_fy) == (2022, 2026)
    assert (doc.approved_on, doc.reviewed_on) == (None, date(2023, 3, 15))
    assert doc.counts() == {GOAL: 2, OBJECTIVE: 2, SUB: 1, MGMT: 3, MGMT_SUB: 4}
    platform = item(doc, MGMT, "1")
    assert platform.title == "The Embassy platform is modern and secure."
    assert [(c.kind, c.code) for c in platform.children] == [(MGMT_SUB, "1.1"), (MGMT_SUB, "1.2")]
    generators = item(doc, MGMT_SUB, "1.1")
    assert generators.sources == ["framework", "detail"]
    assert generators.risks == "Parts are on a nine-month lead time."


def test_plain_objective_after_a_management_heading_is_a_management_sub_objective():
    doc = parse_fixture("ruritania_management.txt")
    assert item(doc, MGMT_SUB, "2.1").parent_code == "2"
    assert item(doc, MGMT, "3").title == "Management Objective 3"  # placeholder for 3.1
    assert ("3.1", "missing_parent") in problems(doc)


def test_goal_headings_with_titles_on_the_next_paragraph():
    doc = parse_fixture("ruritania_management.txt")
    assert item(doc, GOAL, "1").title == "Ruritania becomes a reliable energy partner."
    assert item(doc, GOAL, "2").title == (
        "Ruritanian democracy is resilient against foreign interference."
    )
    assert item(doc, GOAL, "1").linkages == ["JSP Goal 1", "JRS"]
    assert item(doc, GOAL, "2").linkages == ["NSS Pillar 4"]
    sub = item(doc, SUB, "1.1.1")
    assert sub.justification == "The interconnector is 60 percent built."


def test_the_same_code_twice_in_one_section_is_a_duplicate_and_both_narratives_are_kept():
    doc = parse_fixture("ruritania_management.txt")
    duplicate = next(d for d in doc.discrepancies if d.problem == "duplicate")
    assert (duplicate.code, duplicate.kind) == ("1.1", OBJECTIVE)
    assert duplicate.detail_text == "Ruritania diversifies its gas and oil supply."
    objective = item(doc, OBJECTIVE, "1.1")
    assert objective.title == "Ruritania diversifies its gas supply."
    assert "80 percent" in objective.justification and "single refinery" in objective.justification


# (f) No section headings at all: the list that starts over is the framework.


def test_document_without_section_headings_finds_its_framework_list():
    doc = parse_fixture("atlantis_no_headings.txt")
    assert doc.mission_name == "Kingdom of Atlantis"
    assert doc.reviewed_on == date(2022, 4, 1)
    assert doc.counts()[GOAL] == 2 and doc.counts()[OBJECTIVE] == 2
    assert all(i.sources == ["framework", "detail"] for i in doc.items())
    assert doc.discrepancies == []


def test_portion_marks_page_footers_and_unlabelled_text_are_handled():
    doc = parse_fixture("atlantis_no_headings.txt")
    assert item(doc, GOAL, "1").description.startswith("A training center")  # "(SBU)" gone
    assert item(doc, GOAL, "1").linkages == ["NSS Pillar 2"]
    # unlabelled text under an objective is its justification
    assert item(doc, OBJECTIVE, "2.1").justification.startswith("Atlantis offers tax holidays")
    assert "P a g e" not in all_text(doc)
