"""Mission name, strategy kind, period and dates read from the document's title block."""

from datetime import date

import pytest

from strategy.ics.parser import parse_ics

BODY = "\n\nMission Goal 1: Trade grows.\n\nDescription: Text."


@pytest.mark.parametrize(
    ("top", "mission"),
    [
        ("Integrated Country Strategy\n\nChina", "China"),
        ("# Integrated Country Strategy\n\n---\n\nChina\n\nFOR PUBLIC RELEASE", "China"),
        ("Integrated Country Strategy – Kenya", "Kenya"),
        ("Integrated Country Strategy: Kenya (FY 2022-2026)", "Kenya"),
        ("INTEGRATED COUNTRY STRATEGY\nREPUBLIC OF KOREA", "Republic of Korea"),
        ("Integrated Country Strategy\nFY 2018-2022\nBosnia and Herzegovina", "Bosnia and Herzegovina"),
        ("Integrated Country Strategy\nMission Brazil", "Brazil"),
        ("Kenya Integrated Country Strategy", "Kenya"),
        ("Integrated Country Strategy for the Kingdom of Atlantis", "Kingdom of Atlantis"),
        ("Integrated Country Strategy\nU.S. Mission to the African Union", "African Union"),
        ("U.S. Embassy Lima\nIntegrated Country Strategy", "Lima"),
        ("Strategy document\n\nMission Brazil", "Brazil"),
    ],
)  # fmt: skip
def test_mission_name_is_read_from_the_title_block(top, mission):
    assert parse_ics(top + BODY).mission_name == mission


def test_mission_name_falls_back_to_the_mission_the_text_names_most():
    doc = parse_ics(
        "Mission Goal 1: Trade grows.\n\nDescription: Mission Peru leads. Mission Peru "
        "will also help. Mission Goal statements are not names."
    )
    assert doc.mission_name == "Peru"


def test_a_sentence_mentioning_the_strategy_is_not_a_title():
    doc = parse_ics("This Integrated Country Strategy was approved in 2020." + BODY)
    assert doc.mission_name == ""
    assert "The mission or country name was not found; enter it by hand." in doc.warnings


@pytest.mark.parametrize(
    ("title", "kind", "label"),
    [
        ("Integrated Country Strategy – Peru", "ics", "Integrated Country Strategy — Peru"),
        ("Functional Bureau Strategy – Peru", "fbs", "Functional Bureau Strategy — Peru"),
        ("JOINT REGIONAL STRATEGY\nPeru", "jrs", "Joint Regional Strategy — Peru"),
    ],
)
def test_strategy_kind_and_title_come_from_the_title_line(title, kind, label):
    doc = parse_ics(title + BODY)
    assert (doc.strategy_kind, doc.title) == (kind, label)


def test_a_document_without_a_title_but_with_mission_goals_is_an_ics():
    assert parse_ics(BODY).strategy_kind == "ics"
    assert parse_ics("Quarterly staffing memo.\n\nNothing else.").strategy_kind == "other"


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("FY 2018-2022", (2018, 2022)),
        ("FY2022–FY2026", (2022, 2026)),
        ("FY22-26", (2022, 2026)),
        ("FY 2018 – FY 2022", (2018, 2022)),
        ("Fiscal Years 2020–2024", (2020, 2024)),
        ("FY 2018-2032", (None, None)),  # not a strategy period
        ("2022–2026", (None, None)),  # bare years count only on the title line
    ],
)
def test_period_is_read_near_the_top(text, period):
    doc = parse_ics(f"Integrated Country Strategy\n\n{text}{BODY}")
    assert (doc.period_start_fy, doc.period_end_fy) == period


def test_bare_years_on_the_title_line_are_the_period():
    doc = parse_ics("Integrated Country Strategy 2022–2026: Peru" + BODY)
    assert (doc.period_start_fy, doc.period_end_fy, doc.mission_name) == (2022, 2026, "Peru")


def test_a_fiscal_year_range_deep_in_the_narrative_is_not_the_period():
    filler = "\n\n".join(f"Paragraph {n} of the priorities." for n in range(60))
    doc = parse_ics(
        f"Integrated Country Strategy\n\nPeru\n\n{filler}\n\nFY 2019-2020 funds." + BODY
    )
    assert doc.period_start_fy is None


@pytest.mark.parametrize(
    ("line", "approved", "reviewed"),
    [
        ("Originally Approved: August 2018", date(2018, 8, 1), None),
        ("Reviewed and Updated: April 03, 2020", None, date(2020, 4, 3)),
        ("Approved: 2021-05-06", date(2021, 5, 6), None),
        ("Last Updated: 3/15/2023", None, date(2023, 3, 15)),
        ("Revised: Jan. 5, 2024", None, date(2024, 1, 5)),
        ("Updated: 12 May 2024", None, date(2024, 5, 12)),
        ("Date of Approval: September 30, 2019", date(2019, 9, 30), None),
        ("*Approved: August 2018*  ", date(2018, 8, 1), None),
        (
            "Originally Approved: August 2018 | Reviewed and Updated: April 03, 2020",
            date(2018, 8, 1),
            date(2020, 4, 3),
        ),
    ],
)
def test_date_lines_are_read_and_removed(line, approved, reviewed):
    doc = parse_ics(f"Mission Goal 1: Trade grows.\n\nDescription: Text.\n\n{line}\n\nMore.")
    assert (doc.approved_on, doc.reviewed_on) == (approved, reviewed)
    assert doc.roots[0].description == "Text.\n\nMore."


def test_the_first_approval_and_the_latest_review_count():
    doc = parse_ics(
        "Approved: August 2018\nReviewed and Updated: April 2019\n"
        + BODY
        + "\n\nApproved: May 2019\nReviewed and Updated: April 2020"
    )
    assert (doc.approved_on, doc.reviewed_on) == (date(2018, 8, 1), date(2020, 4, 1))


@pytest.mark.parametrize(
    "line", ["Approved: February 30, 2020", "Reviewed and Updated: 2020", "Approved: 2019 | 12"]
)
def test_a_date_line_without_a_full_date_is_removed_with_a_warning(line):
    doc = parse_ics(f"Mission Goal 1: Trade grows.\n\nDescription: Text.\n\n{line}")
    assert (doc.approved_on, doc.reviewed_on) == (None, None)
    assert doc.roots[0].description == "Text."
    assert f"“{line}” gives no full date; it was not recorded." in doc.warnings


def test_a_footer_with_a_date_and_a_page_number_is_read_and_removed():
    doc = parse_ics(BODY + "\n\nApproved: August 15, 2018 12\n\nMore text.")
    assert doc.approved_on == date(2018, 8, 15)
    assert doc.roots[0].description == "Text.\n\nMore text."


@pytest.mark.parametrize(
    "line",
    [
        "Approved: TBD",
        "Approved by the Deputy Secretary in August 2018",
        "Approved: August 2018 after a long interagency review.",
    ],
)
def test_lines_that_are_not_pure_date_statements_stay_in_the_text(line):
    doc = parse_ics(f"Mission Goal 1: Trade grows.\n\nDescription: {line}")
    assert doc.approved_on is None
    assert doc.roots[0].description == line
