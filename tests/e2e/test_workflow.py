"""The issue's browser flow on the demo mission: an analyst updates a stale objective (a
value, then a note), a manager approves the note and the strategy page shows the new
assessment; the strategy filters and the import page; a viewer sees no write controls.

Every test ends by checking that no request left the machine and nothing logged an error.
"""

from __future__ import annotations

import os
import re

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Locator, Page, expect

from strategy.ics.parser import parse_ics
from tests.e2e.browser import Visitor, chart_points, wait_for_charts
from tests.e2e.demo import (
    NODE_WITH_CHARTS,
    STALE_INDICATOR,
    STALE_NODE,
    STRATEGY_TITLE,
    SUBMITTED_NOTE,
    Demo,
)
from tests.strategy.ics.helpers import SEED

pytestmark = pytest.mark.e2e

NOTE_TITLE = "Air activity near Taiwan: first assessment"
# What an htmx swap keeps and a full page load would lose.
RELOAD_MARKER = "window.__e2eNoReload"


def assessment_chip(page: Page, node_pk: int) -> Locator:
    """The analyst-assessment chip of a row of the strategy tree."""
    return page.locator(f"#node-{node_pk} td.status").first.locator(".chip")


def stale_filter(page: Page) -> Locator | None:
    """The strategy page's "stale" filter, None while the page has no filters."""
    control = page.locator("main form [name=stale]")
    return control.first if control.count() else None


def filter_to_stale(page: Page, control: Locator) -> None:
    """Narrow the tree to stale rows (and their parents, shown for context) in place:
    htmx swaps the tree, the page is not reloaded."""
    # Rows that are neither stale nor the parent of a stale one.
    fresh_rows = page.locator("tr[id^='node-']:not(.is-context)").filter(
        has_not=page.locator(".badge-stale")
    )
    expect(fresh_rows).not_to_have_count(0)
    page.evaluate(f"{RELOAD_MARKER} = true")
    if control.evaluate("(el) => el.tagName") == "SELECT":
        values = control.locator("option").evaluate_all("(options) => options.map(o => o.value)")
        control.select_option(next(v for v in values if v.lower() in {"1", "true", "yes", "on"}))
    else:  # a checkbox
        control.check()
    form = control.locator("xpath=ancestor::form")
    if "change" not in (form.get_attribute("hx-trigger") or ""):
        form.locator("[type=submit]").first.click()
    expect(fresh_rows).to_have_count(0)
    assert page.evaluate(RELOAD_MARKER) is True, "filtering reloaded the whole page"


def test_analyst_updates_a_stale_objective_and_a_manager_approves_the_note(
    demo: Demo, visitor: Visitor
):
    node, indicator = demo.nodes[STALE_NODE], demo.indicators[STALE_INDICATOR]
    page = visitor.open("demo-analyst")

    # The home page lists the demo strategy; filtered to stale goals and objectives, its
    # tree shows this one, never assessed. (Without filters yet, the whole tree shows it:
    # test_analyst_narrows_the_tree_by_filter_and_search_without_a_reload says so.)
    page.get_by_role("link", name=STRATEGY_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STRATEGY_TITLE)
    if control := stale_filter(page):
        filter_to_stale(page, control)
    expect(page.locator(f"#node-{node} .badge-stale")).to_have_text("Stale")
    expect(assessment_chip(page, node)).to_have_text("No data")

    # The node page draws the indicator's target-vs-actual chart with data.
    page.locator(f"#node-{node} a.node-link").click()
    expect(page).to_have_url(demo.url("node-detail", node))
    wait_for_charts(page)
    series = {s["label"]: s["points"] for s in chart_points(page.locator(f"#chart-{indicator}"))}
    assert series["Target"] > 0 and series["Actual"] > 0, series

    # Recording a value swaps in the indicator's section (htmx, no reload) with the new
    # progress. The value goes into the period the progress is computed for.
    section = page.locator(f"#indicator-{indicator}")
    progress = section.locator(".indicator-now")
    before = progress.inner_text()
    period = re.search(r"of the (\S+ \S+) target", before).group(1)  # e.g. "FY2026 Q4"
    page.evaluate(f"{RELOAD_MARKER} = true")
    form = section.locator("form.record-form")
    form.get_by_label("Period", exact=True).select_option(label=period)
    form.get_by_label("Actual", exact=True).fill("80")
    form.get_by_role("button", name="Record value").click()
    expect(section.get_by_role("status")).to_have_text(f"Recorded {period} of “{STALE_INDICATOR}”.")
    expect(progress).not_to_have_text(before)
    expect(progress).to_contain_text("actual 80 against")
    assert page.evaluate(RELOAD_MARKER) is True, "recording a value reloaded the page"
    wait_for_charts(page)  # drawn again in the swapped-in section

    # Write the note and submit it in one go.
    page.get_by_role("link", name="Add note", exact=True).click()
    page.get_by_label("Title", exact=True).fill(NOTE_TITLE)
    page.get_by_label("Assessment", exact=True).select_option(label="At risk")
    page.get_by_label("Assessment text", exact=True).fill(
        "- Incursions fell this quarter, to **80 aircraft** a month.\n- One quarter is no trend."
    )
    page.get_by_label("Justification", exact=True).fill(
        "A single good quarter after three bad years."
    )
    page.get_by_role("button", name="Save and submit for review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NOTE_TITLE)
    expect(page.get_by_role("status")).to_contain_text("Note submitted for review.")
    expect(page.locator(".page-header .badge-state")).to_have_text("Submitted")

    # The manager approves it from the review queue.
    manager = visitor.open("demo-manager")
    manager.get_by_role("navigation", name="Main").get_by_role("link", name="Review queue").click()
    item = manager.locator("li.queue-item").filter(has_text=NOTE_TITLE)
    item.get_by_role("button", name=re.compile(r"^Approve")).click()
    expect(manager.get_by_role("status")).to_contain_text(f"Approved: “{NOTE_TITLE}”.")
    expect(manager.locator("li.queue-item").filter(has_text=NOTE_TITLE)).to_have_count(0)

    # The strategy page now shows the analyst's assessment, and the objective is fresh.
    page.goto(demo.url("strategy-detail", demo.strategy))
    expect(assessment_chip(page, node)).to_have_text("At risk")
    expect(page.locator(f"#node-{node} .badge-stale")).to_have_count(0)
    expect(page.locator(f"#node-{node} td.freshness")).to_contain_text("today")

    visitor.assert_quiet()


def test_analyst_narrows_the_tree_by_filter_and_search_without_a_reload(
    demo: Demo, visitor: Visitor
):
    page = visitor.open("demo-analyst")
    page.goto(demo.url("strategy-detail", demo.strategy))
    control = stale_filter(page)
    if control is None:
        pytest.skip("the strategy page has no filters yet (no form field named 'stale')")
    stale, fresh = demo.nodes[STALE_NODE], demo.nodes[NODE_WITH_CHARTS]

    filter_to_stale(page, control)
    expect(page.locator(f"#node-{stale}")).to_be_visible()
    expect(page.locator(f"#node-{fresh}")).to_have_count(0)

    # Search within the stale ones as one types: only the objective about Taiwan is left.
    page.locator("main form [name=q]").fill("Taiwan")
    expect(page.locator("tr[id^='node-']:not(.is-context)")).to_have_count(1)
    expect(page.locator(f"#node-{stale}")).to_be_visible()
    assert page.evaluate(RELOAD_MARKER) is True, "searching reloaded the whole page"
    # Enter right after typing sends a submit while the typing trigger is pending: the two
    # requests must queue, not abort each other (an abort is a console error).
    page.locator("main form [name=q]").fill("Taiwan air")
    page.locator("main form [name=q]").press("Enter")
    page.wait_for_timeout(800)
    expect(page.locator("#tree-count")).to_be_visible()
    visitor.assert_quiet()


@pytest.fixture
def import_url_name() -> str:
    """The import page (missions/<mission id>/import/); skips while it does not exist."""
    try:
        reverse("strategy-import", args=[1])
    except NoReverseMatch:
        pytest.skip("no import page yet (URL name 'strategy-import' with a mission id)")
    return "strategy-import"


def test_manager_imports_the_seed_document_and_sees_its_discrepancies(
    import_url_name: str, demo: Demo, visitor: Visitor
):
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the seed document at {SEED}")
        pytest.skip(f"the seed document {SEED} is not beside this checkout")
    document = parse_ics(SEED.read_text(encoding="utf-8"))
    expected = [d.message for d in document.discrepancies]
    assert expected, "the seed document has discrepancies to show"
    goals = [item.title for item in document.items() if item.kind == "mission_goal"]
    page = visitor.open("demo-manager")
    page.goto(demo.url(import_url_name, demo.mission))

    form = page.locator("main form").filter(has=page.locator("input[type=file]"))
    for select in form.locator("select").all():  # the strategy to update, if asked
        labels = select.locator("option").all_inner_texts()
        china = next((label for label in labels if "China" in label), None)
        if china:
            select.select_option(label=china)
    form.locator("input[type=file]").set_input_files(SEED)
    form.locator("[type=submit]").first.click()

    # The preview: the tree read from the document, and every discrepancy in it.
    for title in goals:
        expect(page.get_by_text(title, exact=True).first).to_be_visible()
    for message in expected:
        expect(page.get_by_text(message, exact=True)).to_be_visible()
    visitor.assert_quiet()


def test_viewer_sees_no_write_controls(demo: Demo, visitor: Visitor):
    page = visitor.open("demo-viewer")
    expect(page.get_by_role("link", name="Review queue")).to_have_count(0)

    pages = {
        "home": demo.url("home"),
        "strategy": demo.url("strategy-detail", demo.strategy),
        "node": demo.url("node-detail", demo.nodes[STALE_NODE]),
        "submitted note": demo.url("note-detail", demo.notes[SUBMITTED_NOTE]),
        "review queue": demo.url("review-queue"),
        "my notes": demo.url("my-notes"),
    }
    for name, url in pages.items():
        page.goto(url)
        main = page.locator("main")
        # The only form that changes anything is "Sign out", in the header.
        assert main.locator("form[method=post i]").count() == 0, f"{name}: a POST form"
        assert main.locator("a[href$='/notes/new/']").count() == 0, f"{name}: an add-note link"
        assert main.locator("a[href$='/edit/']").count() == 0, f"{name}: an edit link"
        assert main.locator("a[href*='/import/']").count() == 0, f"{name}: an import link"
    page.goto(pages["node"])
    expect(page.locator(".record-form")).to_have_count(0)
    expect(page.get_by_role("link", name="Add note")).to_have_count(0)
    page.goto(pages["submitted note"])
    expect(page.get_by_role("button", name=re.compile("Approve|Return"))).to_have_count(0)
    visitor.assert_quiet()
