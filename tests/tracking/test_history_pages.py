"""History pages of a node, an indicator (with its periods) and a note (with its links
and sources): who changed what and when, newest first, field by field; visible to whoever
sees the object; a fixed number of queries however long the history."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from strategy.services import node_update
from tests.factories import IndicatorFactory
from tracking.models import ProgressNote
from tracking.services import (
    indicator_period_record,
    indicator_update,
    note_approve,
    note_create,
    note_submit,
    note_update,
)

TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
Q1, Q2 = dt.date(2023, 10, 1), dt.date(2024, 1, 1)
LONG = "A justification long enough to fold. " * 10


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=True):
        yield


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def entries(html: str) -> list[str]:
    """The text of each history entry, in page order."""
    return [
        text(m) for m in re.findall(r'<li class="history-entry.*?</li>\s*(?=<li|</ol>)', html, re.S)
    ]


def node_history(node) -> str:
    return reverse("node-history", args=[node.pk])


def indicator_history(indicator) -> str:
    return reverse("indicator-history", args=[indicator.pk])


def note_history(note) -> str:
    return reverse("note-history", args=[note.pk])


def write_note(personas, tree, **overrides) -> ProgressNote:
    values = {
        "strategy": tree.strategy,
        "author": personas.analyst,
        "title": "Exports recovering",
        "assessment": "on_track",
        "as_of": dt.date(2024, 5, 1),
        "nodes": [tree.obj11],
        "primary_node": tree.obj11,
        "body": "Orders are up.",
        "sources": [{"url": "https://example.org/data", "label": "Customs data"}],
    }
    return note_create(**{**values, **overrides})


# --- Node ---------------------------------------------------------------------------------


def test_node_history_shows_each_change_newest_first_with_its_author(client, personas, tree):
    node_update(node=tree.obj11, by=personas.manager, title="Exports grow fast")
    node_update(node=tree.obj11, by=personas.admin, justification=LONG, linkages=["NSS Pillar 2"])
    client.force_login(personas.viewer)
    html = html_of(client.get(node_history(tree.obj11)))
    assert "<h1>History of Mission Objective 1.1</h1>" in html
    rows = entries(html)
    assert len(rows) == 3
    assert rows[0].startswith("Changed by admin")
    assert "Justification — A justification long enough to fold." in rows[0]
    assert "Linkage tags" in rows[0] or "Linkages" in rows[0]
    assert "NSS Pillar 2" in rows[0]
    assert rows[1].startswith("Changed by manager")
    assert "Title Exports grow Exports grow fast" in rows[1]
    assert rows[2].startswith("Created by the system")  # the test factory
    # The long text folds, with the whole of it one click away.
    assert '<details class="full-text"><summary>Full text' in html
    assert LONG.strip() in html
    assert f'href="{reverse("node-detail", args=[tree.obj11.pk])}"' in html


def test_node_history_shows_owners_by_name_and_system_changes(client, personas, tree):
    personas.analyst.first_name, personas.analyst.last_name = "Casey", "Nguyen"
    personas.analyst.save()
    node_update(node=tree.obj12, by=None, owner=personas.analyst)
    node_update(node=tree.obj12, by=personas.manager, owner=None)
    client.force_login(personas.manager)
    rows = entries(html_of(client.get(node_history(tree.obj12))))
    assert rows[0].startswith("Changed by manager") and "Owner Casey Nguyen —" in rows[0]
    assert rows[1].startswith("Changed by the system") and "Owner — Casey Nguyen" in rows[1]


def test_a_created_node_lists_what_it_was_created_with(client, personas, tree):
    from strategy.services import node_create

    node = node_create(
        strategy=tree.strategy,
        kind="mission_objective",
        code="2.2",
        title="Visa waits shorten",
        parent=tree.goal2,
        by=personas.manager,
    )
    client.force_login(personas.viewer)
    rows = entries(html_of(client.get(node_history(node))))
    assert len(rows) == 1 and rows[0].startswith("Created by manager")
    assert "Kind Mission Objective" in rows[0] and "Code 2.2" in rows[0]
    assert "Title Visa waits shorten" in rows[0]


# --- Indicator ----------------------------------------------------------------------------


def test_indicator_history_lists_the_sheet_and_every_period_change(client, personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, name="Exports", frequency="quarterly")
    indicator_update(indicator=indicator, by=personas.manager, unit="USD million")
    indicator_period_record(indicator=indicator, period_start=Q1, by=personas.manager, target=100)
    indicator_period_record(indicator=indicator, period_start=Q1, by=personas.analyst, actual=55)
    indicator_period_record(
        indicator=indicator, period_start=Q2, by=personas.analyst, actual="70.50", comment="Prov."
    )
    client.force_login(personas.viewer)
    html = html_of(client.get(indicator_history(indicator)))
    assert "<h1>History of “Exports”</h1>" in html
    sheet = html[html.index("Reference sheet") : html.index("Targets and values by period")]
    assert "Unit" in sheet and "USD million" in sheet and "by manager" in text(sheet)
    table = html[html.index('<table class="data history-table">') :]
    rows = [text(r) for r in re.findall(r"<tr class=\"history-.*?</tr>", table, re.S)]
    assert len(rows) == 3
    assert rows[0].startswith("FY2024 Q2 Added Actual: 70.5 Comment: Prov.")
    assert "analyst" in rows[0]
    assert rows[1].startswith("FY2024 Q1 Changed Actual: — → changed to 55")
    assert "Recorded by: — → changed to analyst" in rows[1]  # a target alone is not "recorded"
    assert rows[2].startswith("FY2024 Q1 Added Target: 100")
    assert "Recorded by" not in rows[2] and "manager" in rows[2]


# --- Note ---------------------------------------------------------------------------------


def test_note_history_shows_edits_workflow_links_and_sources(client, personas, tree):
    note = write_note(personas, tree)
    note_update(
        note=note,
        by=personas.analyst,
        title="Exports recovering slowly",
        assessment="on_track",
        as_of=dt.date(2024, 5, 1),
        body="Orders are up.",
        justification="",
        nodes=[tree.obj11, tree.obj21],
        primary_node=tree.obj11,
        sources=[{"url": "https://example.org/v2", "label": "Customs data v2"}],
    )
    note_submit(note=note, by=personas.analyst)
    note_approve(note=note, by=personas.manager, comment="Thanks.")
    client.force_login(personas.viewer)
    html = html_of(client.get(note_history(note)))
    rows = entries(html)
    joined = "\n".join(rows)
    assert rows[0].startswith("Changed by manager")
    assert "State Submitted Approved" in rows[0] and "Reviewed by — manager" in rows[0]
    assert "Review comment — Thanks." in rows[0]
    assert "State Draft Submitted" in joined
    assert "Title Exports recovering Exports recovering slowly" in joined
    assert "Added: Link to Mission Objective 2.1 by analyst" in joined
    assert "Added: Link to Mission Objective 1.1 (primary) by analyst" in joined
    assert "Removed: Source Customs data by analyst" in joined
    assert "Added: Source Customs data v2 by analyst" in joined
    assert rows[-1].startswith("Created by analyst") or rows[-1].startswith("Added")
    assert f'href="{reverse("note-detail", args=[note.pk])}"' in html


def test_drafts_history_is_visible_to_their_author_only(client, personas, tree):
    note = write_note(personas, tree)
    client.force_login(personas.analyst2)
    assert client.get(note_history(note)).status_code == 404
    client.force_login(personas.manager)
    assert client.get(note_history(note)).status_code == 404
    client.force_login(personas.analyst)
    assert client.get(note_history(note)).status_code == 200


# --- Who may see them ---------------------------------------------------------------------


def test_outsiders_get_404_and_anonymous_visitors_sign_in(client, personas, tree):
    indicator = IndicatorFactory(node=tree.obj11)
    note = write_note(personas, tree)
    note_submit(note=note, by=personas.analyst)
    urls = [node_history(tree.obj11), indicator_history(indicator), note_history(note)]
    client.force_login(personas.outsider)
    for url in urls:
        assert client.get(url).status_code == 404, url
    for name in ("node-history", "indicator-history", "note-history"):
        assert client.get(reverse(name, args=[999_999])).status_code == 404
    client.force_login(personas.viewer)
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_node_note_and_indicator_pages_link_to_their_history(client, personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, name="Exports")
    note = write_note(personas, tree)
    client.force_login(personas.analyst)
    node_page = html_of(client.get(reverse("node-detail", args=[tree.obj11.pk])))
    assert f'<a href="{node_history(tree.obj11)}">History' in node_page
    assert f'<a href="{indicator_history(indicator)}">History of changes' in node_page
    note_page = html_of(client.get(reverse("note-detail", args=[note.pk])))
    assert f'<a href="{note_history(note)}">' in note_page


def test_history_pages_have_no_inline_scripts_or_styles(client, personas, tree):
    note = write_note(personas, tree, body=LONG)
    client.force_login(personas.analyst)
    html = html_of(client.get(note_history(note)))
    assert "<script" not in html and " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None


# --- Query counts -------------------------------------------------------------------------

# Node history: 1. session, 2. user, 3. memberships, 4. the node (if its strategy is
# visible), 5. its history rows with their users and owners.
NODE_HISTORY_QUERIES = 5
# Indicator history: 1-3 as above, 4. the indicator with its node, strategy and mission (if
# visible), 5. its history rows (+ users, owners), 6. its periods' history rows (+ users,
# recorders).
INDICATOR_HISTORY_QUERIES = 6
# Note history: 1-3 as above, 4. the note with its strategy and mission (if visible), 5. its
# history rows (+ users, reviewers, superseded notes), 6. its links' history rows (+ users,
# nodes), 7. its sources' history rows (+ users).
NOTE_HISTORY_QUERIES = 7


def test_node_history_query_count_is_the_same_for_2_and_20_rows(
    client, personas, tree, django_assert_num_queries
):
    client.force_login(personas.viewer)
    for n, node in [(2, tree.obj11), (20, tree.obj12)]:
        for i in range(n):
            person = [personas.admin, personas.manager][i % 2]
            node_update(node=node, by=person, title=f"Title {i}", owner=person)
        with django_assert_num_queries(NODE_HISTORY_QUERIES):
            html = html_of(client.get(node_history(node)))
        assert len(entries(html)) == n + 1  # and "Created"
        assert "Owner" in html and "admin" in html and "manager" in html


def test_indicator_history_query_count_is_the_same_for_2_and_20_rows(
    client, personas, tree, django_assert_num_queries
):
    client.force_login(personas.viewer)
    for n, node in [(2, tree.obj11), (20, tree.obj12)]:
        indicator = IndicatorFactory(node=node, frequency="monthly", owner=personas.analyst)
        for i in range(n):
            by = [personas.analyst, personas.manager][i % 2]
            indicator_period_record(
                indicator=indicator,
                period_start=dt.date(2022 + i // 12, 1 + i % 12, 1),
                by=by,
                actual=i,
            )
            indicator_update(indicator=indicator, by=personas.manager, unit=f"unit {i}")
        with django_assert_num_queries(INDICATOR_HISTORY_QUERIES):
            html = html_of(client.get(indicator_history(indicator)))
        assert html.count('<tr class="history-created">') == n
        assert len(entries(html)) == n + 1  # the indicator's changes and its creation


def test_note_history_query_count_is_the_same_for_2_and_20_rows(
    client, personas, tree, django_assert_num_queries
):
    client.force_login(personas.analyst)
    for n in (2, 20):
        note = write_note(personas, tree)
        for i in range(n - 1):
            note_update(
                note=note,
                by=personas.analyst,
                title=f"Version {i}",
                assessment="on_track",
                as_of=dt.date(2024, 5, 1),
                body=f"Body {i}",
                justification="",
                nodes=[tree.obj11, tree.obj21] if i % 2 else [tree.obj11],
                primary_node=tree.obj11,
                sources=[{"url": f"https://example.org/{i}", "label": ""}],
            )
        with django_assert_num_queries(NOTE_HISTORY_QUERIES):
            html = html_of(client.get(note_history(note)))
        assert text(html).count("Changed by analyst") == n - 1
