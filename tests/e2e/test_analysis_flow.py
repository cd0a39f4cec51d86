"""Issue #9's flow in the browser: an analyst pastes a long analysis, sees the objectives it
bears on with their passages, confirms two of them, and finds the analysis in both
objectives' timelines. (The report's "what changed" is checked without a browser, in
tests/tracking/analyses/test_report_and_search.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import Visitor
from tests.e2e.demo import Demo

pytestmark = pytest.mark.e2e

# One of the evaluation set's long analyses, labelled 2.1, 2.2 and 2.3.
ANALYSIS = (
    Path(__file__).resolve().parents[2]
    / "bench"
    / "analyses"
    / ("27-long-sino-russian-statement.md")
)
TITLE = "China–Russia statement: what it means for the Peninsula and the order"


def body_of(path: Path) -> str:
    """The analysis without its front matter."""
    text = path.read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1] if text.startswith("---\n") else text


def test_analyst_pastes_an_analysis_and_confirms_two_suggestions(demo: Demo, visitor: Visitor):
    text = body_of(ANALYSIS)
    assert len(text) > 4_000  # a page or two, several sections
    first, second = demo.nodes["2.1"], demo.nodes["2.2"]
    page = visitor.open("demo-analyst")

    page.goto(demo.url("analysis-create", demo.strategy))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Paste the text").fill(text)
    page.locator("main form [type=submit]").first.click()

    # The analysis page: ranked suggestions with marked passages; nothing linked yet.
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("mark").first).to_be_visible()
    for node in (first, second):
        expect(page.locator(f"#suggest-{node}")).not_to_be_checked()
    page.locator(f"#suggest-{first}").check()
    page.locator(f"#suggest-{second}").check()
    page.get_by_role("button", name="Save links").click()

    # Both objectives' pages now list it in their analyses timeline.
    for node in (first, second):
        page.goto(demo.url("node-detail", node))
        expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    visitor.assert_quiet()
