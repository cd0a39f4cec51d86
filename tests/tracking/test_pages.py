"""The first browser pages: sign in / out, the home page and the strategy page.

Who may see what (members see their missions, outsiders get a 404, superusers see all),
what the pages show (both status channels as text chips, freshness, indicator progress),
and that each page runs a fixed number of queries however big the data.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from strategy.models import Node, NodeKind, Strategy
from tests.conftest import PASSWORD
from tests.factories import (
    IndicatorFactory,
    IndicatorPeriodFactory,
    MilestoneFactory,
    NodeFactory,
    ProgressNoteFactory,
    StrategyFactory,
)

# Pages are compared against fixed dates: notes of 1 May are fresh, FY2024 Q2 (Jan–Mar)
# is past its 30-day reporting grace, milestones due 31 March are overdue.
TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def strategy_url(strategy: Strategy) -> str:
    return reverse("strategy-detail", args=[strategy.pk])


def text_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def track(node: Node, *, actual: int | None = 60, late: bool = False) -> None:
    """Give a node an indicator at `actual` % of its FY2024 Q1 target (baseline 0, target
    100), optionally with a late FY2024 Q2 (no actual past its deadline)."""
    indicator = IndicatorFactory(node=node, name=f"Indicator of {node.code}", baseline_value=0)
    IndicatorPeriodFactory(
        indicator=indicator,
        period_start=dt.date(2023, 10, 1),
        period_end=dt.date(2023, 12, 31),
        target=100,
        actual=actual,
    )
    if late:
        IndicatorPeriodFactory(
            indicator=indicator,
            period_start=dt.date(2024, 1, 1),
            period_end=dt.date(2024, 3, 31),
            target=100,
        )


def note(node: Node, *, assessment: str, as_of: dt.date = dt.date(2024, 5, 1), **kwargs):
    return ProgressNoteFactory(
        strategy=node.strategy, nodes=[node], assessment=assessment, as_of=as_of, **kwargs
    )


def track_small_tree(tree) -> None:
    """Indicators, notes and milestones on the 7-node tree, so every tree query runs."""
    track(tree.obj11, actual=60, late=True)  # 60 % → at risk; FY2024 Q2 late
    track(tree.obj21, actual=95)  # on track
    note(tree.obj11, assessment="on_track", title="Exports recovering")  # disagrees
    note(tree.obj21, assessment="on_track", as_of=dt.date(2024, 1, 15))  # stale by May
    MilestoneFactory(node=tree.mgmt1, title="Lease signed", due_on=dt.date(2024, 3, 31))
    MilestoneFactory(node=tree.mgmt1, title="Move in", due_on=dt.date(2024, 9, 30))


def grow(
    strategy: Strategy, *, goals: int, objectives: int, subs: int, management: int, owner=None
):
    """A strategy tree of goals × objectives × sub-objectives plus management objectives
    (each with one management sub-objective), every objective with an indicator and an
    approved note, every management objective with a milestone, every node owned."""
    for g in range(1, goals + 1):
        goal = NodeFactory(strategy=strategy, code=str(g), owner=owner)
        for o in range(1, objectives + 1):
            objective = NodeFactory(
                parent=goal, kind=NodeKind.MISSION_OBJECTIVE, code=f"{g}.{o}", owner=owner
            )
            track(objective, actual=40 * o, late=o == 1)
            note(objective, assessment="at_risk")
            for s in range(1, subs + 1):
                NodeFactory(
                    parent=objective, kind=NodeKind.SUB_OBJECTIVE, code=f"{g}.{o}.{s}", owner=owner
                )
    for m in range(1, management + 1):
        mgmt = NodeFactory(
            strategy=strategy, kind=NodeKind.MANAGEMENT_OBJECTIVE, code=str(m), owner=owner
        )
        NodeFactory(parent=mgmt, kind=NodeKind.MANAGEMENT_SUB_OBJECTIVE, code=f"{m}.1", owner=owner)
        MilestoneFactory(node=mgmt, due_on=dt.date(2024, 3, 31))


# --- Sign in and sign out ---------------------------------------------------------------


def test_login_page_renders_a_labelled_form(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = text_of(response)
    assert "<h1>Sign in</h1>" in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<html lang="en">' in html


def test_signing_in_lands_on_the_home_page(client, personas):
    response = client.post(reverse("login"), {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("home")


def test_wrong_password_is_refused_with_a_message(client, personas):
    response = client.post(reverse("login"), {"username": "viewer", "password": "nope"})
    assert response.status_code == 200
    assert 'role="alert"' in text_of(response)
    assert "_auth_user_id" not in client.session


def test_sign_out_works_by_post(client, personas):
    client.force_login(personas.viewer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_sign_out_refuses_get(client, personas):
    client.force_login(personas.viewer)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_pages_show_who_is_signed_in_and_a_sign_out_button(client, personas):
    client.force_login(personas.viewer)
    html = text_of(client.get(reverse("home")))
    assert "Signed in as <strong>viewer</strong>" in html
    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert 'href="#main"' in html  # skip link
    assert "Admin</a>" not in html  # not staff


def test_staff_see_the_admin_link(client, personas):
    client.force_login(personas.superuser)
    assert f'href="{reverse("admin:index")}">Admin</a>' in text_of(client.get(reverse("home")))


# --- Who may see what -------------------------------------------------------------------


@pytest.mark.parametrize("page", ["home", "strategy"])
def test_anonymous_visitors_are_sent_to_sign_in(client, tree, page):
    url = reverse("home") if page == "home" else strategy_url(tree.strategy)
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_home_lists_own_missions_strategies_and_not_another_missions(client, personas, tree):
    client.force_login(personas.viewer)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = text_of(response)
    assert "Mission Testland" in html
    assert "Your role: Viewer" in html
    assert f'href="{strategy_url(tree.strategy)}">{tree.strategy.title}</a>' in html
    assert "Mission Elsewhere" not in html
    assert strategy_url(tree.other_strategy) not in html


def test_home_tells_a_user_without_missions_what_to_do(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="newcomer"))
    assert "not a member of any mission" in text_of(client.get(reverse("home")))


def test_home_shows_a_mission_without_strategies(client, personas):
    client.force_login(personas.viewer)
    assert "No strategy has been added for this mission yet." in text_of(
        client.get(reverse("home"))
    )


def test_outsider_gets_404_on_another_missions_strategy(client, personas, tree):
    client.force_login(personas.outsider)
    assert client.get(strategy_url(tree.strategy)).status_code == 404
    # ...exactly like a strategy that does not exist: nothing reveals it is there.
    assert client.get(reverse("strategy-detail", args=[999_999])).status_code == 404
    assert client.get(strategy_url(tree.other_strategy)).status_code == 200


def test_superuser_sees_every_mission_and_strategy(client, personas, tree):
    client.force_login(personas.superuser)
    html = text_of(client.get(reverse("home")))
    assert "Mission Testland" in html
    assert "Mission Elsewhere" in html
    assert strategy_url(tree.strategy) in html
    assert strategy_url(tree.other_strategy) in html
    assert client.get(strategy_url(tree.other_strategy)).status_code == 200


# --- What the pages show ----------------------------------------------------------------


def test_home_shows_status_counts_for_both_channels_and_what_needs_attention(
    client, personas, tree
):
    track_small_tree(tree)
    client.force_login(personas.viewer)
    html = text_of(client.get(reverse("home")))
    # Tracked: 1.1, 1.2, 1.1.1, 2.1 and management 1. Notes on 1.1 and 2.1 say on track;
    # indicators put 1.1 at risk (60 %) and 2.1 on track (95 %).
    assert '<span class="chip chip-on_track">2 on track</span>' in html
    assert '<span class="chip chip-no_data">3 no data</span>' in html
    assert '<span class="chip chip-at_risk">1 at risk</span>' in html
    assert '<span class="chip chip-on_track">1 on track</span>' in html
    # Everything but 1.1 is stale (2.1's note is from January); one indicator is late; one
    # milestone is overdue.
    row = " ".join(re.sub(r"<[^>]+>", " ", html[html.index(tree.strategy.title) :]).split())
    assert "FY2022–FY2026 · Approved · 5 tracked items" in row
    assert "4 stale 1 late indicator 1 overdue milestone " in row


def test_strategy_page_shows_the_whole_tree_in_document_order(client, personas, tree):
    client.force_login(personas.viewer)
    response = client.get(strategy_url(tree.strategy))
    assert response.status_code == 200
    html = text_of(response)
    assert html.count("<h1>") == 1
    assert f"<h1>{tree.strategy.title}</h1>" in html
    titles = ["Prosperity", "Exports grow", "Trade missions", "Investment"]
    titles += ["Security", "Nonproliferation", "Facilities"]
    positions = [html.index(f'<span class="title">{t}</span>') for t in titles]
    assert positions == sorted(positions)
    for code in ["1", "1.1", "1.1.1", "1.2", "2", "2.1"]:
        assert f'<td class="code">{code}</td>' in html
    assert f'<tr id="node-{tree.sub111.pk}" class="depth-2 kind-sub_objective' in html
    assert '<th scope="rowgroup" colspan="7">Management objectives</th>' in html
    assert '<span class="kind">Management Objective<span class="code-inline"> 1</span>' in html
    assert "<caption>" in html
    assert "never updated" in html


def test_strategy_page_shows_both_status_chips_with_their_reasons(client, personas, tree):
    track_small_tree(tree)
    client.force_login(personas.viewer)
    html = text_of(client.get(strategy_url(tree.strategy)))
    # 1.1: the analyst says on track, its indicator (60 %) says at risk.
    row = html[html.index(f'id="node-{tree.obj11.pk}"') : html.index(f'id="node-{tree.sub111.pk}"')]
    assert '<span class="chip chip-on_track" title="On track: note “Exports recovering”' in row
    assert '<span class="chip chip-at_risk" title="At risk: “Indicator of 1.1” at 60 %' in row
    assert "<summary>Why?" in row
    assert ">Disagrees</span>" in row
    assert 'aria-label="Indicator of 1.1: 60 % of the FY2024 Q1 target"' in row
    assert 'value="60"' in row
    assert ">Late<" in row
    assert "updated 14 days ago" in row
    # Goal 1 rolls up its children and says why.
    assert "At risk because 1.1 is at risk" in html
    # 2.1's note is from January: stale.
    row21 = html[
        html.index(f'id="node-{tree.obj21.pk}"') : html.index(f'id="node-{tree.mgmt1.pk}"')
    ]
    assert '<span class="badge badge-stale">Stale</span>' in row21
    assert "1 overdue" in html
    assert "2 milestones" in html


def test_chief_of_mission_priorities_are_escaped_paragraphs(client, personas, tree):
    tree.strategy.com_priorities = "<script>alert(1)</script> first\n\nSecond & last"
    tree.strategy.save()
    client.force_login(personas.viewer)
    html = text_of(client.get(strategy_url(tree.strategy)))
    assert "<script>alert(1)</script>" not in html
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt; first</p>" in html
    assert "<p>Second &amp; last</p>" in html
    assert "Chief of Mission priorities" in html


def test_strategy_page_shows_header_dates(client, personas, tree):
    tree.strategy.approved_on = dt.date(2022, 3, 14)
    tree.strategy.save()
    client.force_login(personas.viewer)
    html = text_of(client.get(strategy_url(tree.strategy)))
    assert '<time datetime="2022-03-14">14 Mar 2022</time>' in html
    assert "FY2022–FY2026" in html
    assert "Not recorded" in html  # reviewed_on is empty


# --- Query counts -------------------------------------------------------------------------

# Strategy page, for a mission member:
#  1. the session
#  2. the signed-in user
#  3. the user's memberships (strategy.selectors.user_roles)
#  4. the strategy, with its mission (visible_strategies().filter(pk=...))
#  5. the tree's nodes, with their owners (tracking.selectors.strategy_trees)
#  6. the nodes' indicators
#  7. the latest period with an actual, per indicator (with running sums)
#  8. the latest period past its reporting deadline, per indicator (late data)
#  9. the latest approved note, per node
# 10. the milestones
STRATEGY_PAGE_QUERIES = 10

# Home page, for a mission member:
#  1. the session
#  2. the signed-in user
#  3. the user's memberships (user_roles; cached on the user for the missions below)
#  4. the visible strategies, with their missions
#  5-10. the trees of all those strategies at once: nodes (+ owners), indicators, latest
#        periods, late periods, latest approved notes, milestones
# 11. the visible missions (those without a strategy are listed too)
HOME_PAGE_QUERIES = 11


def test_strategy_page_query_count_is_the_same_for_7_and_60_nodes(
    client, personas, tree, django_assert_num_queries
):
    track_small_tree(tree)
    big = StrategyFactory(mission=personas.mission, title="A big strategy")
    grow(big, goals=5, objectives=3, subs=2, management=5, owner=personas.analyst)
    client.force_login(personas.viewer)
    for strategy, nodes in [(tree.strategy, 7), (big, 60)]:
        assert Node.objects.filter(strategy=strategy).count() == nodes
        with django_assert_num_queries(STRATEGY_PAGE_QUERIES):
            response = client.get(strategy_url(strategy))
        assert response.status_code == 200
    assert "Owner: analyst" in text_of(response)  # owners came with the nodes


def test_home_page_query_count_is_the_same_for_1_and_5_strategies(
    client, personas, tree, django_assert_num_queries
):
    track_small_tree(tree)
    client.force_login(personas.viewer)
    with django_assert_num_queries(HOME_PAGE_QUERIES):
        response = client.get(reverse("home"))
    assert text_of(response).count("/strategies/") == 1

    for n in range(4):
        strategy = StrategyFactory(mission=personas.mission, title=f"Strategy {n}")
        grow(strategy, goals=2, objectives=2, subs=1, management=1, owner=personas.analyst)
    with django_assert_num_queries(HOME_PAGE_QUERIES):
        response = client.get(reverse("home"))
    assert text_of(response).count("/strategies/") == 5
