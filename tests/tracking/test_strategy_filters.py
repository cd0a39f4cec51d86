"""The strategy page's filters: status (either channel), stale, kind, owner and search
narrow the built tree, keep the ancestors of what matches (as "context"), work as a plain
GET form and through htmx (which gets only the partial), and add no query."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from strategy.models import Node, NodeKind
from tests.factories import StrategyFactory
from tests.tracking.test_pages import STRATEGY_PAGE_QUERIES, grow, track_small_tree
from tracking.filters import NodeFilter, TreeFilterForm, node_matches_search

TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def tracked(tree):
    """The small tree with indicators, notes and milestones (see test_pages): 1.1 is at
    risk by its indicator and on track by its note; 2.1 on track in both; everything but
    Goal 1 and 1.1 is stale (2.1's note is from January)."""
    track_small_tree(tree)
    return tree


def url(tree, query: str = "") -> str:
    return reverse("strategy-detail", args=[tree.strategy.pk]) + (f"?{query}" if query else "")


def html_of(response) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def shown(html: str) -> dict[int, bool]:
    """{node id: shown only for context} for every tree row, in document order."""
    return {
        int(pk): "is-context" in classes
        for pk, classes in re.findall(r'<tr id="node-(\d+)" class="([^"]*)"', html)
    }


def ids(*nodes) -> list[int]:
    return [n.pk for n in nodes]


def count_text(html: str) -> str:
    start = html.index('id="tree-count"')
    piece = html[start : html.index("</p>", start)]
    return " ".join(re.sub(r"<[^>]+>", " ", piece.split(">", 1)[1]).split())


# --- Each filter narrows the tree ---------------------------------------------------------


def test_without_filters_every_node_is_shown_and_none_is_context(client, personas, tracked):
    client.force_login(personas.viewer)
    html = html_of(client.get(url(tracked)))
    rows = shown(html)
    assert list(rows) == ids(
        tracked.goal1,
        tracked.obj11,
        tracked.sub111,
        tracked.obj12,
        tracked.goal2,
        tracked.obj21,
        tracked.mgmt1,
    )
    assert not any(rows.values())
    assert count_text(html) == "All 7 goals and objectives shown."
    assert "Clear filters" not in html


def test_kind_filter_keeps_the_ancestors_as_context(client, personas, tracked):
    client.force_login(personas.viewer)
    html = html_of(client.get(url(tracked, "kind=sub_objective")))
    assert shown(html) == {tracked.goal1.pk: True, tracked.obj11.pk: True, tracked.sub111.pk: False}
    assert count_text(html) == "1 of 7 shown , with 2 parents for context. Clear filters"
    assert "is-context" in html and ">Context<" in html
    assert f'<a href="{url(tracked)}" class="clear-filters">Clear filters</a>' in html


def test_stale_filter_shows_only_stale_nodes_and_their_parents(client, personas, tracked):
    client.force_login(personas.viewer)
    rows = shown(html_of(client.get(url(tracked, "stale=on"))))
    # Goal 1 and 1.1 were updated on 1 May; 2.1's note of January is stale by May.
    assert rows == {
        tracked.goal1.pk: True,
        tracked.obj11.pk: True,
        tracked.sub111.pk: False,
        tracked.obj12.pk: False,
        tracked.goal2.pk: False,
        tracked.obj21.pk: False,
        tracked.mgmt1.pk: False,
    }


def test_status_filter_reads_the_chosen_channel(client, personas, tracked):
    client.force_login(personas.viewer)
    # Computed: 1.1 is at risk (60 %), and Goal 1 rolls it up.
    computed = shown(html_of(client.get(url(tracked, "status=at_risk&channel=computed"))))
    assert computed == {tracked.goal1.pk: False, tracked.obj11.pk: False}
    # Nobody assessed anything at risk.
    html = html_of(client.get(url(tracked, "status=at_risk&channel=assessment")))
    assert shown(html) == {}
    assert "No goal or objective matches these filters." in html
    assert count_text(html).startswith("0 of 7 shown")
    # Either channel: 1.1 says on track in its note, 2.1 in both channels.
    either = shown(html_of(client.get(url(tracked, "status=on_track"))))
    assessment = shown(html_of(client.get(url(tracked, "status=on_track&channel=assessment"))))
    computed = shown(html_of(client.get(url(tracked, "status=on_track&channel=computed"))))
    assert tracked.obj11.pk in assessment and tracked.obj11.pk not in computed
    assert tracked.obj21.pk in assessment and tracked.obj21.pk in computed
    matched = {pk for pk, ctx in either.items() if not ctx}
    assert matched == {pk for pk, ctx in {**assessment, **computed}.items() if not ctx}


def test_no_data_status_finds_nodes_nobody_reported_on(client, personas, tracked):
    client.force_login(personas.viewer)
    rows = shown(html_of(client.get(url(tracked, "status=no_data&channel=computed"))))
    assert {pk for pk, ctx in rows.items() if not ctx} == set(
        ids(tracked.sub111, tracked.obj12, tracked.mgmt1)
    )


def test_owner_filter_and_its_choices_come_from_the_tree(client, personas, tracked):
    tracked.obj12.owner = personas.analyst
    tracked.obj12.save()
    personas.manager.first_name, personas.manager.last_name = "Morgan", "Reyes"
    personas.manager.save()
    tracked.goal2.owner = personas.manager
    tracked.goal2.save()
    client.force_login(personas.viewer)
    html = html_of(client.get(url(tracked, "owner=analyst")))
    assert shown(html) == {tracked.goal1.pk: True, tracked.obj12.pk: False}
    assert '<option value="analyst" selected>analyst</option>' in html
    assert '<option value="manager">Morgan Reyes</option>' in html
    assert 'value="viewer"' not in html  # owns nothing here


def test_an_owner_not_offered_is_reported_and_ignored(client, personas, tracked):
    client.force_login(personas.viewer)
    html = html_of(client.get(url(tracked, "owner=nobody&kind=mission_goal")))
    assert "Select a valid choice. nobody is not one of the available choices." in html
    assert list(shown(html)) == ids(tracked.goal1, tracked.goal2)  # kind still applies


def test_search_matches_code_title_and_narrative(client, personas, tracked):
    tracked.obj21.justification = "Export controls on dual-use goods."
    tracked.obj21.save()
    client.force_login(personas.viewer)
    by_title = shown(html_of(client.get(url(tracked, "q=trade"))))
    assert {pk for pk, ctx in by_title.items() if not ctx} == {tracked.sub111.pk}
    by_narrative = shown(html_of(client.get(url(tracked, "q=DUAL-USE"))))
    assert by_narrative == {tracked.goal2.pk: True, tracked.obj21.pk: False}
    by_code = shown(html_of(client.get(url(tracked, "q=1.1"))))
    assert by_code == {tracked.goal1.pk: True, tracked.obj11.pk: False, tracked.sub111.pk: False}
    blank = shown(html_of(client.get(url(tracked, "q=+++"))))
    assert len(blank) == 7


def test_filters_combine(client, personas, tracked):
    client.force_login(personas.viewer)
    rows = shown(html_of(client.get(url(tracked, "stale=on&kind=mission_objective&q=Non"))))
    assert rows == {tracked.goal2.pk: True, tracked.obj21.pk: False}


@pytest.mark.parametrize("q", ["1", "1.1", "2", "trade", "Nonprolif", "export", "zzz", "dual"])
def test_search_agrees_with_the_api_node_filter(personas, tracked, q):
    tracked.obj21.justification = "Export controls on dual-use goods."
    tracked.obj21.save()
    nodes = list(Node.objects.filter(strategy=tracked.strategy))
    api = NodeFilter({"q": q, "strategy": tracked.strategy.pk}, queryset=Node.objects.all())
    assert {n.pk for n in api.qs} == {n.pk for n in nodes if node_matches_search(n, q)}


def test_the_form_shares_the_api_filters_names_and_kinds():
    form = TreeFilterForm(owners=[])
    api_kinds = list(NodeFilter.base_filters["kind"].extra["choices"])
    assert form.fields["kind"].choices[1:] == api_kinds
    assert set(NodeFilter.base_filters) >= {"kind", "owner", "q"}
    assert form.fields["q"].help_text == NodeFilter.base_filters["q"].extra["help_text"]
    assert [c for c, _ in api_kinds] == list(NodeKind.values)


# --- htmx and plain GET -------------------------------------------------------------------


def test_htmx_request_gets_only_the_tree_and_the_count_out_of_band(client, personas, tracked):
    client.force_login(personas.viewer)
    response = client.get(url(tracked, "kind=sub_objective"), **HTMX)
    html = html_of(response)
    assert "<html" not in html and "<form" not in html and "<h1>" not in html
    assert html.count("<table") == 1
    assert shown(html) == {tracked.goal1.pk: True, tracked.obj11.pk: True, tracked.sub111.pk: False}
    assert '<p id="tree-count" hx-swap-oob="innerHTML">' in html
    assert "1 of 7 shown" in html
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, personas, tracked):
    client.force_login(personas.viewer)
    html = html_of(
        client.get(
            url(tracked, "stale=on"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
        )
    )
    assert "<html" in html and '<form id="tree-filters"' in html


def test_the_filter_form_works_without_javascript(client, personas, tracked):
    client.force_login(personas.viewer)
    html = html_of(client.get(url(tracked, "kind=mission_objective&stale=on&q=in")))
    start = html.index('<form id="tree-filters"')
    form = html[start : html.index("</form>", start)]
    assert f'method="get" action="{url(tracked)}"' in form
    assert '<button type="submit"' in form
    assert 'role="search"' in form
    assert '<option value="mission_objective" selected>Mission Objective</option>' in form
    assert 'name="stale" id="filter_stale" checked' in form
    assert 'value="in"' in form
    # The live region and htmx wiring are on the page; no inline script or style.
    assert 'id="tree-count" class="tree-count" role="status" aria-live="polite"' in html
    assert 'hx-get="' in form and 'hx-target="#tree-results"' in form
    assert 'hx-push-url="true"' in form and 'hx-history="false"' in form
    assert '<script src="/static/js/tree-filters.js" defer></script>' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag, tag
    assert " style=" not in html
    assert re.search(r"\son[a-z]+=", html) is None
    # Every control has a label.
    for control in re.findall(r'id="(filter_[a-z]+)"', form):
        assert f'for="{control}"' in form, control


def test_a_strategy_without_nodes_shows_no_filters(client, personas):
    strategy = StrategyFactory(mission=personas.mission)
    client.force_login(personas.viewer)
    html = html_of(client.get(reverse("strategy-detail", args=[strategy.pk])))
    assert "This strategy has no goals or objectives yet." in html
    assert "tree-filters" not in html.split("<main", 1)[1].split("</main>")[0]


# --- Query count --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "stale=on", "status=at_risk&channel=computed&kind=mission_objective", "q=a&owner=analyst"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_filters_add_no_query(client, personas, tracked, django_assert_num_queries, query, htmx):
    big = StrategyFactory(mission=personas.mission, title="A big strategy")
    grow(big, goals=5, objectives=3, subs=2, management=5, owner=personas.analyst)
    client.force_login(personas.viewer)
    headers = HTMX if htmx else {}
    for strategy in (tracked.strategy, big):
        path = reverse("strategy-detail", args=[strategy.pk]) + f"?{query}"
        with django_assert_num_queries(STRATEGY_PAGE_QUERIES):
            response = client.get(path, **headers)
        assert response.status_code == 200
