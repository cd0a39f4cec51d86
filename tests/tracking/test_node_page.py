"""The node page: narrative, both statuses, indicators with their chart data and period
tables, milestones, the notes timeline, and the "record a value" form (plain POST and
htmx), for each role; and its fixed number of queries."""

import datetime as dt
import json
import re

import pytest
import time_machine
from django.urls import reverse

from strategy.models import NodeKind
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
    StrategyFactory,
)
from tracking.models import IndicatorPeriod, NoteState

# FY2024 Q2 (Jan–Mar 2024) has ended; FY2024 Q3 started on 1 April; Q4 is in the future.
TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
Q1, Q2, Q3, Q4 = (
    dt.date(2023, 10, 1),
    dt.date(2024, 1, 1),
    dt.date(2024, 4, 1),
    dt.date(2024, 7, 1),
)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def node_url(node) -> str:
    return reverse("node-detail", args=[node.pk])


def record_url(indicator) -> str:
    return reverse("indicator-record", args=[indicator.pk])


def html_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def exports(node, personas=None):
    """An indicator at 60 % of its FY2024 Q2 target: baseline 10, target 110, actual 70."""
    indicator = IndicatorFactory(
        node=node, name="Exports to the host country", unit="USD million", baseline_value=10
    )
    IndicatorPeriodFactory(
        indicator=indicator, period_start=Q1, period_end=dt.date(2023, 12, 31), target=100,
        actual=55,
    )  # fmt: skip
    IndicatorPeriodFactory(
        indicator=indicator, period_start=Q2, period_end=dt.date(2024, 3, 31), target=110,
        actual=70, comment="Customs data, provisional",
        recorded_by=personas.analyst if personas else None,
    )  # fmt: skip
    return indicator


def period(indicator, start) -> IndicatorPeriod | None:
    return IndicatorPeriod.objects.filter(indicator=indicator, period_start=start).first()


# --- Who may see it ---------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, tree):
    url = node_url(tree.obj11)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_outsider_gets_404_on_the_node_page_and_its_record_form(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.outsider)
    assert client.get(node_url(tree.obj11)).status_code == 404
    assert client.get(reverse("node-detail", args=[999_999])).status_code == 404
    response = client.post(record_url(indicator), {"period": Q3.isoformat(), "actual": "1"})
    assert response.status_code == 404
    assert period(indicator, Q3) is None
    assert client.get(node_url(tree.other_goal)).status_code == 200


# --- What it shows ----------------------------------------------------------------------


def test_node_page_renders_narrative_from_markdown_sanitised(client, personas, tree):
    tree.goal1.description = "Links to **JSP Goal 2**.<script>alert(1)</script>"
    tree.goal1.linkages = ["NSS Pillar 2", "JSP Goal 2"]
    tree.goal1.save()
    tree.obj11.justification = "Exports *matter*."
    tree.obj11.risks = "Tariffs <img src=x onerror=alert(1)>"
    tree.obj11.save()
    client.force_login(personas.viewer)

    html = html_of(client.get(node_url(tree.goal1)))
    assert "<h3>Description and linkages</h3>" in html
    assert "<strong>JSP Goal 2</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert '<li class="tag">NSS Pillar 2</li>' in html

    html = html_of(client.get(node_url(tree.obj11)))
    assert "<h1>Exports grow</h1>" in html
    assert "<em>matter</em>" in html
    assert "<h3>Risks</h3>" in html
    assert "onerror" not in html
    # Breadcrumbs: strategy, then the parent goal.
    crumbs = html[html.index('aria-label="Breadcrumb"') :]
    crumbs = crumbs[: crumbs.index("</nav>")]
    assert reverse("strategy-detail", args=[tree.strategy.pk]) in crumbs
    assert f'href="{node_url(tree.goal1)}">Mission Goal 1</a>' in crumbs
    assert '<li aria-current="page">Mission Objective 1.1</li>' in crumbs


def test_node_page_shows_both_statuses_with_reasons_and_freshness(client, personas, tree):
    exports(tree.obj11)
    ProgressNoteFactory(
        strategy=tree.strategy, nodes=[tree.obj11], assessment="on_track",
        title="Exports recovering", as_of=dt.date(2024, 5, 1),
    )  # fmt: skip
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    status = html[html.index('id="node-status"') :]
    assert '<span class="chip chip-on_track" title="On track: note “Exports recovering”' in status
    assert (
        '<span class="chip chip-at_risk" title="At risk: “Exports to the host country” at 60 %'
        in status
    )
    assert "Disagrees with the assessment" in status
    assert (
        '<p class="reason">At risk: “Exports to the host country” at 60 % of its FY2024 Q2 target</p>'
        in status
    )
    assert "updated 14 days ago" in html


def test_node_page_lists_children_with_their_chips_and_links(client, personas, tree):
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.goal1)))
    children = html[html.index('id="children-heading"') :]
    assert f'href="{node_url(tree.obj11)}"' in children
    assert f'href="{node_url(tree.obj12)}"' in children
    assert "chip chip-no_data" in children


def test_indicator_shows_reference_fields_progress_and_period_table(client, personas, tree):
    indicator = exports(tree.obj11, personas)
    indicator.definition = "Goods and services, customs basis."
    indicator.data_source = "Host-country customs"
    indicator.save()
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    section = html[html.index(f'id="indicator-{indicator.pk}"') :]
    assert "Goods and services, customs basis." in section
    assert "Host-country customs" in section
    assert "<strong>60 %</strong> of the FY2024 Q2 target" in section
    table = section[section.index('<table class="data periods">') : section.index("</table>")]
    rows = [" ".join(re.sub(r"<[^>]+>", " ", r).split()) for r in table.split("<tr>")[2:]]
    assert rows == [
        "FY2024 Q1 100 55 50 %",
        "FY2024 Q2 110 70 60 % Customs data, provisional analyst",
    ]


def test_chart_data_is_embedded_as_json_and_drawn_by_a_static_script(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    match = re.search(
        rf'<script id="chart-data-{indicator.pk}" type="application/json">(.*?)</script>', html
    )
    assert match, "the chart's data is embedded with json_script"
    data = json.loads(match.group(1))
    assert data["labels"] == ["FY2024 Q1", "FY2024 Q2"]
    assert data["unit"] == "USD million"
    series = {d["kind"]: d["data"] for d in data["datasets"]}
    assert series == {"target": [100, 110], "actual": [55, 70], "baseline": [10, 10]}
    canvas = re.search(rf'<canvas id="chart-{indicator.pk}"[^>]*>', html).group(0)
    assert f'data-chart="chart-data-{indicator.pk}"' in canvas
    assert (
        'role="img"' in canvas
        and 'aria-label="Line chart of “Exports to the host country”' in canvas
    )
    assert '<script src="/static/vendor/chart.js/chart.umd.min.js" defer></script>' in html
    assert '<script src="/static/js/indicator-charts.js" defer></script>' in html


def test_node_page_has_no_inline_scripts_or_styles(client, personas, tree):
    exports(tree.obj11)
    client.force_login(personas.manager)
    html = html_of(client.get(node_url(tree.obj11)))
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None  # no event-handler attributes
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
    # htmx must not copy a swapped chart's style attribute (refused by style-src 'self').
    assert '"attributesToSettle": ["class", "width", "height"]' in html


def test_cumulative_period_values_are_charted_as_sums_to_date(client, personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, cumulative_mode="period_sum", baseline_value=None)
    IndicatorPeriodFactory(
        indicator=indicator, period_start=Q1, period_end=dt.date(2023, 12, 31), target=3, actual=2
    )
    IndicatorPeriodFactory(
        indicator=indicator, period_start=Q2, period_end=dt.date(2024, 3, 31), target=3, actual=4
    )
    IndicatorPeriodFactory(
        indicator=indicator, period_start=Q3, period_end=dt.date(2024, 6, 30), target=3
    )
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    data = json.loads(re.search(r'type="application/json">(.*?)</script>', html).group(1))
    series = {d["kind"]: d["data"] for d in data["datasets"]}
    assert series == {"target": [3, 6, 9], "actual": [2, 6, None]}
    assert "6 to date" in html
    assert "<strong>100 %</strong> of the FY2024 Q2 target" in html


def test_milestones_say_overdue_in_words(client, personas, tree):
    MilestoneFactory(node=tree.mgmt1, title="Lease signed", due_on=dt.date(2024, 3, 31))
    MilestoneFactory(
        node=tree.mgmt1, title="Design done", due_on=dt.date(2024, 2, 1),
        completed_on=dt.date(2024, 1, 20),
    )  # fmt: skip
    MilestoneFactory(node=tree.mgmt1, title="Move in", due_on=dt.date(2024, 9, 30))
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.mgmt1)))
    table = html[html.index('<table class="data milestones">') :]
    table = table[: table.index("</table>")]
    rows = [" ".join(re.sub(r"<[^>]+>|^[^>]*>", " ", r).split()) for r in table.split("<tr")[2:5]]
    assert rows[0].startswith("Design done") and rows[0].endswith("Done")
    assert rows[1].startswith("Lease signed") and rows[1].endswith("Overdue")
    assert rows[2].startswith("Move in") and rows[2].endswith("Upcoming")
    assert '<tr class="is-overdue">' in table


def test_notes_timeline_is_newest_first_and_shows_drafts_only_to_their_author(
    client, personas, tree
):
    def note(title, as_of, state, author):
        return ProgressNoteFactory(
            strategy=tree.strategy, nodes=[tree.obj11], title=title, as_of=as_of, state=state,
            author=author, assessment="at_risk", body_html="<p>Soybeans &amp; corn recovered.</p>",
        )  # fmt: skip

    note("Old approved", dt.date(2024, 1, 10), NoteState.APPROVED, personas.analyst2)
    note("New submitted", dt.date(2024, 5, 1), NoteState.SUBMITTED, personas.analyst2)
    draft = note("My draft", dt.date(2024, 5, 10), NoteState.DRAFT, personas.analyst)
    ProgressNoteFactory(strategy=tree.strategy, nodes=[tree.obj12], title="Other node")

    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    timeline = html[html.index('<ol class="timeline">') :]
    assert timeline.index("New submitted") < timeline.index("Old approved")
    assert "My draft" not in timeline and "Other node" not in timeline
    assert '<span class="badge badge-state badge-state-submitted">Submitted</span>' in timeline
    assert '<span class="chip chip-at_risk">At risk</span>' in timeline
    assert "Soybeans &amp; corn recovered." in timeline  # excerpt, escaped once
    assert f'href="{reverse("note-detail", args=[draft.pk])}"' not in timeline

    client.force_login(personas.analyst)
    timeline = html_of(client.get(node_url(tree.obj11)))
    assert timeline.index("My draft") < timeline.index("New submitted")


# --- Forms by role ----------------------------------------------------------------------


def test_viewer_sees_no_forms(client, personas, tree):
    exports(tree.obj11)
    client.force_login(personas.viewer)
    html = html_of(client.get(node_url(tree.obj11)))
    assert "<form" not in html.replace('<form method="post" action="/accounts/logout/"', "")
    assert "Record value" not in html
    assert reverse("note-create", args=[tree.obj11.pk]) not in html


def test_analyst_gets_the_record_form_without_target_and_the_add_note_link(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    html = html_of(client.get(node_url(tree.obj11)))
    form = html[html.index(f'action="{record_url(indicator)}"') :]
    form = form[: form.index("</form>")]
    assert f'hx-post="{record_url(indicator)}"' in form
    assert f'hx-target="#indicator-{indicator.pk}"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert f'<label for="id_ind{indicator.pk}_actual">Actual</label>' in form
    assert 'name="target"' not in form
    # Periods that have started, labelled like the document; the latest ended one chosen.
    assert '<option value="2021-10-01">FY2022 Q1</option>' in form
    assert '<option value="2024-01-01" selected>FY2024 Q2</option>' in form
    assert '<option value="2024-04-01">FY2024 Q3</option>' in form
    assert "2024-07-01" not in form
    assert f'href="{reverse("note-create", args=[tree.obj11.pk])}"' in html


def test_manager_also_gets_target_and_future_periods(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.manager)
    html = html_of(client.get(node_url(tree.obj11)))
    form = html[html.index(f'action="{record_url(indicator)}"') :]
    form = form[: form.index("</form>")]
    assert f'<label for="id_ind{indicator.pk}_target">Target</label>' in form
    assert '<option value="2026-07-01">FY2026 Q4</option>' in form  # end of the strategy


def test_strategy_without_a_period_offers_the_last_16_periods(client, personas, tree):
    strategy = StrategyFactory(mission=personas.mission, period_start_fy=None, period_end_fy=None)
    goal = NodeFactory(strategy=strategy, code="1")
    indicator = IndicatorFactory(node=goal)
    client.force_login(personas.analyst)
    html = html_of(client.get(node_url(goal)))
    form = html[html.index(f'action="{record_url(indicator)}"') :]
    options = re.findall(
        r"<option value=\"[^\"]+\"[^>]*>([^<]+)</option>", form[: form.index("</form>")]
    )
    assert len(options) == 16
    assert (options[0], options[-1]) == ("FY2020 Q4", "FY2024 Q3")


# --- Recording a value ------------------------------------------------------------------


def test_analyst_records_a_value_with_a_plain_post(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    response = client.post(
        record_url(indicator),
        {"period": Q2.isoformat(), "actual": "95", "comment": "Final customs figures"},
    )
    assert response.status_code == 302
    assert response.url == f"{node_url(tree.obj11)}#indicator-{indicator.pk}"
    row = period(indicator, Q2)
    assert (row.actual, row.target, row.comment) == (95, 110, "Final customs figures")
    assert row.recorded_by == personas.analyst

    html = html_of(client.get(response.url))
    assert "Recorded FY2024 Q2 of “Exports to the host country”." in html  # the message
    assert "<strong>85 %</strong> of the FY2024 Q2 target" in html  # was 60 %
    assert (
        '<span class="chip chip-on_track" title="On track: “Exports to the host country” at 85 %'
        in html
    )


def test_analyst_records_a_value_with_htmx_and_gets_the_section_back(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    response = client.post(
        record_url(indicator), {"period": Q3.isoformat(), "actual": "100"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html and "<h1>" not in html  # a partial
    assert html.lstrip().startswith(f'<section id="indicator-{indicator.pk}"')
    assert '<p class="message message-success" role="status">Recorded FY2024 Q3' in html
    # FY2024 Q3 has an actual but no target: progress stays on the latest period with both.
    assert period(indicator, Q3).actual == 100
    assert '"labels": ["FY2024 Q1", "FY2024 Q2", "FY2024 Q3"]' in html  # chart data refreshed
    # The node's statuses come along, swapped out of band.
    assert '<dl id="node-status" class="status-channels" hx-swap-oob="true">' in html
    # A fresh form for the next value.
    assert 'name="actual" value=' not in html


def test_htmx_record_updates_progress_in_the_returned_section(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    before = html_of(client.get(node_url(tree.obj11)))
    assert "<strong>60 %</strong>" in before
    html = html_of(
        client.post(
            record_url(indicator),
            {"period": Q2.isoformat(), "actual": "60"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "<strong>50 %</strong> of the FY2024 Q2 target" in html
    assert (
        '<span class="chip chip-at_risk" title="At risk: “Exports to the host country” at 50 %'
        in html
    )


def test_recording_the_same_values_again_changes_nothing(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    history = IndicatorPeriod.history.count()
    html = html_of(
        client.post(
            record_url(indicator),
            {"period": Q2.isoformat(), "actual": "70"},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "Nothing changed: FY2024 Q2" in html
    assert IndicatorPeriod.history.count() == history


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_value_shows_a_field_error_and_writes_nothing(client, personas, tree, htmx):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    history = IndicatorPeriod.history.count()
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(
        record_url(indicator), {"period": Q2.isoformat(), "actual": "lots", "comment": "x"}, **extra
    )
    assert response.status_code == (200 if htmx else 400)
    html = html_of(response)
    error = f'<div class="field-error" id="id_ind{indicator.pk}_actual_error"><p>“lots” is not a number.</p></div>'
    assert error in html
    field = html[html.index('class="field field-actual field-invalid"') :]
    field = field[: field.index(">", field.index("<input"))]
    assert 'value="lots"' in field  # the input is kept
    assert f'aria-describedby="id_ind{indicator.pk}_actual_error"' in field
    assert period(indicator, Q2).actual == 70
    assert IndicatorPeriod.history.count() == history


def test_an_empty_form_asks_for_a_value(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    response = client.post(record_url(indicator), {"period": Q2.isoformat()})
    assert response.status_code == 400
    assert "Enter a value (or a comment) to record." in html_of(response)


def test_analyst_cannot_pick_a_future_period(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    response = client.post(record_url(indicator), {"period": Q4.isoformat(), "actual": "5"})
    assert response.status_code == 400
    assert "Select a valid choice." in html_of(response)
    assert period(indicator, Q4) is None


def test_manager_sets_a_future_target_but_no_future_actual(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.manager)
    response = client.post(record_url(indicator), {"period": Q4.isoformat(), "target": "130"})
    assert response.status_code == 302
    assert period(indicator, Q4).target == 130
    response = client.post(record_url(indicator), {"period": Q4.isoformat(), "actual": "5"})
    assert response.status_code == 400
    html = html_of(response)
    field = html[html.index('class="field field-actual field-invalid"') :]
    assert "FY2024 Q4 has not started yet." in field
    assert period(indicator, Q4).actual is None


def test_analyst_cannot_set_a_target(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    response = client.post(
        record_url(indicator), {"period": Q2.isoformat(), "actual": "80", "target": "200"}
    )
    assert response.status_code == 403
    assert "You need the manager role to set indicator targets." in html_of(response)
    row = period(indicator, Q2)
    assert (row.actual, row.target) == (70, 110)


def test_viewer_cannot_record_a_value(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.viewer)
    response = client.post(record_url(indicator), {"period": Q2.isoformat(), "actual": "80"})
    assert response.status_code == 403
    assert "You need the analyst role to record indicator values." in html_of(response)
    assert period(indicator, Q2).actual == 70


def test_record_refuses_get(client, personas, tree):
    indicator = exports(tree.obj11)
    client.force_login(personas.analyst)
    assert client.get(record_url(indicator)).status_code == 405


# --- Query count ------------------------------------------------------------------------

# Node page, for an analyst (forms included):
#  1. the session
#  2. the signed-in user
#  3. the user's memberships (strategy.selectors.user_roles)
#  4. the node, with its strategy and mission, if visible (visible_strategies subquery)
#  5. the strategy tree's nodes, with their owners (tracking.selectors.strategy_trees)
#  6. the tree's indicators
#  7. the latest period with an actual, per indicator
#  8. the latest period past its reporting deadline, per indicator
#  9. the latest approved note, per node
# 10. the tree's milestones
# 11. the node's indicators, with their owners (tracking.selectors.node_detail)
# 12. their periods, with who recorded them
# 13. the node's milestones, with their owners
# 14. the notes timeline, with authors
# 15. the analyses linked to the node, with who confirmed them (analyses.node_analyses)
NODE_PAGE_QUERIES = 15


def test_node_page_query_count_is_the_same_for_small_and_large_nodes(
    client, personas, tree, django_assert_num_queries
):
    exports(tree.obj12, personas)
    MilestoneFactory(node=tree.obj12, due_on=dt.date(2024, 3, 31))
    ProgressNoteFactory(strategy=tree.strategy, nodes=[tree.obj12], author=personas.analyst)

    big = NodeFactory(
        parent=tree.goal2, kind=NodeKind.MISSION_OBJECTIVE, code="2.2", owner=personas.analyst
    )
    for s in range(1, 6):
        NodeFactory(
            parent=big, kind=NodeKind.SUB_OBJECTIVE, code=f"2.2.{s}", owner=personas.manager
        )
    for i in range(4):
        indicator = IndicatorFactory(
            node=big, name=f"Indicator {i}", frequency="monthly", owner=personas.analyst2
        )
        for q in range(12):
            start = dt.date(2021 + (q + 9) // 12, (q + 9) % 12 + 1, 1)
            IndicatorPeriodFactory(
                indicator=indicator, period_start=start, period_end=start + dt.timedelta(days=27),
                target=100, actual=50 + q, recorded_by=personas.analyst,
            )  # fmt: skip
    for m in range(6):
        MilestoneFactory(node=big, due_on=dt.date(2024, 1 + m, 1), owner=personas.manager)
    for n in range(12):
        ProgressNoteFactory(
            strategy=tree.strategy, nodes=[big, tree.obj21], author=personas.analyst2,
            as_of=dt.date(2024, 1, 1) + dt.timedelta(days=n),
        )  # fmt: skip

    client.force_login(personas.analyst)
    for node, indicators in [(tree.obj12, 1), (big, 4)]:
        with django_assert_num_queries(NODE_PAGE_QUERIES):
            response = client.get(node_url(node))
        assert response.status_code == 200
        assert html_of(response).count('<canvas id="chart-') == indicators
    html = html_of(response)
    assert html.count('class="timeline-item"') == 12
    # Owners and recorders came with their rows (no query per row).
    assert html.count("<dt>Responsible</dt><dd>analyst2</dd>") == 4
    assert html.count('<td>analyst<span class="sub">') == 0  # recorded_at not set by factories
    assert html.count("<td>analyst</td>") == 48
