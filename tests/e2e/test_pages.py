"""Every main page, as the person who uses it sees it, checked for what no page may do:
serious or critical accessibility violations (axe-core), console errors or CSP
violations, requests to another host, and sideways scrolling at tablet width (768 px).

One tour visits every page twice — at tablet width, then at laptop width with axe — and
the tests below each judge one property of what it saw, naming every page that fails.
The tour runs once for the module: loading the demo and visiting a dozen pages twice is
most of the time these tests take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Browser, Page

from tests.e2e.browser import (
    LAPTOP,
    TABLET,
    Visitor,
    axe_violations,
    chromium,
    describe_violations,
    is_local,
    scroll_widths,
    wait_for_charts,
)
from tests.e2e.demo import (
    APPROVED_NOTE,
    NODE_WITH_CHARTS,
    NODE_WITH_MILESTONES,
    RETURNED_NOTE,
    STALE_INDICATOR,
    SUBMITTED_NOTE,
    Demo,
    load_demo,
)
from tests.strategy.ics.helpers import SEED
from tracking.analyses.models import AnalysisDocument

pytestmark = pytest.mark.e2e

ANALYST, MANAGER = "demo-analyst", "demo-manager"
# What tests/conftest.py's `_test_settings` sets for each test; the tour is set up once
# for the module, before any test's fixtures run, so it sets them itself.
TOUR_SETTINGS = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
}


@dataclass(frozen=True)
class MainPage:
    name: str
    user: str | None  # who looks at it; None: signed out
    url: str
    then: Callable[[Page], None] | None = None  # what to do on it before checking
    axe: bool = True  # False: a page we do not write (the API's Swagger UI)


@dataclass
class PageReport:
    page: MainPage
    status: int | None = None
    title: str = ""
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    tablet_widths: dict[str, int] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)


def optional_page(name: str, user: str, url_name: str, pk: int) -> list[MainPage]:
    """A page being built alongside these tests: in the tour once its URL exists."""
    try:
        return [MainPage(name, user, reverse(url_name, args=[pk]))]
    except NoReverseMatch:
        return []


def upload_seed(page: Page) -> None:
    page.locator("main form input[type=file]").set_input_files(SEED)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()


def main_pages(demo: Demo) -> list[MainPage]:
    node = demo.nodes[NODE_WITH_CHARTS]
    pages = [
        MainPage("login", None, reverse("login")),
        MainPage("home", ANALYST, reverse("home")),
        MainPage("strategy", ANALYST, reverse("strategy-detail", args=[demo.strategy])),
        MainPage("export form", ANALYST, reverse("strategy-export", args=[demo.strategy])),
        MainPage("node with charts", ANALYST, reverse("node-detail", args=[node])),
        MainPage(
            "node with milestones",
            ANALYST,
            reverse("node-detail", args=[demo.nodes[NODE_WITH_MILESTONES]]),
        ),
        MainPage("note", ANALYST, reverse("note-detail", args=[demo.notes[APPROVED_NOTE]])),
        MainPage("new note form", ANALYST, reverse("note-create", args=[node])),
        MainPage(
            "returned note edit form",
            ANALYST,
            reverse("note-edit", args=[demo.notes[RETURNED_NOTE]]),
        ),
        MainPage("my notes", ANALYST, reverse("my-notes")),
        MainPage("API tokens", ANALYST, reverse("api-tokens")),
        MainPage("API docs", ANALYST, reverse("api-docs"), axe=False),
        MainPage(
            "note under review", MANAGER, reverse("note-detail", args=[demo.notes[SUBMITTED_NOTE]])
        ),
        MainPage("review queue", MANAGER, reverse("review-queue")),
        MainPage("node edit form", MANAGER, reverse("node-edit", args=[node])),
        MainPage("strategy edit form", MANAGER, reverse("strategy-edit", args=[demo.strategy])),
    ]
    pages += optional_page("import", MANAGER, "strategy-import", demo.mission)
    if pages[-1].name == "import" and SEED.is_file():
        pages.append(MainPage("import preview", MANAGER, pages[-1].url, then=upload_seed))
    pages += optional_page("node history", ANALYST, "node-history", node)
    pages += optional_page(
        "indicator history", ANALYST, "indicator-history", demo.indicators[STALE_INDICATOR]
    )
    pages += optional_page("note history", ANALYST, "note-history", demo.notes[APPROVED_NOTE])
    pages += [
        MainPage("report archive", MANAGER, reverse("report-list", args=[demo.strategy])),
        MainPage("report", ANALYST, reverse("report-detail", args=[demo.report])),
        MainPage("my subscriptions", ANALYST, reverse("subscriptions")),
        MainPage(
            "strategy subscriptions",
            MANAGER,
            reverse("strategy-subscriptions", args=[demo.strategy]),
        ),
        MainPage("unsubscribe link", None, reverse("unsubscribe", args=[demo.unsubscribe_token])),
        MainPage(
            "indicator values upload",
            ANALYST,
            reverse("indicator-values-upload", args=[demo.strategy]),
        ),
        MainPage("password change", ANALYST, reverse("password-change")),
        MainPage("two-factor set-up", ANALYST, reverse("two-factor-setup")),
    ]
    analysis = AnalysisDocument.objects.filter(strategy_id=demo.strategy).values("pk").first()
    pages += [
        MainPage("analyses", ANALYST, reverse("analysis-list", args=[demo.strategy])),
        MainPage("add analysis form", ANALYST, reverse("analysis-create", args=[demo.strategy])),
        MainPage(
            "analysis with suggestions", ANALYST, reverse("analysis-detail", args=[analysis["pk"]])
        ),
    ]
    return pages


def open_page(page: Page, base_url: str, main_page: MainPage) -> int | None:
    """Open the page as people do and wait until its scripts are done (charts drawn)."""
    response = page.goto(base_url + main_page.url)
    if main_page.then:
        main_page.then(page)
    if page.locator("canvas[data-chart]").count():
        wait_for_charts(page)
    page.evaluate("() => 1")  # a round trip: console events of the load are in by now
    return response.status if response else None


def take_tour(browser: Browser, demo: Demo, pages: list[MainPage]) -> list[PageReport]:
    visitor = Visitor(browser, demo.base_url)
    watch = visitor.watch
    sessions = {}  # signed-in browser state of each user, reused by both passes
    for user in sorted({p.user for p in pages if p.user}):
        sessions[user] = visitor.open(user).context.storage_state()
    reports = {p.name: PageReport(p) for p in pages}
    by_user = [(user, list(group)) for user, group in groupby(pages, key=lambda p: p.user)]

    # Tablet width: what each page requests and logs, and whether it scrolls sideways.
    for user, group in by_user:
        page = visitor.open(viewport=TABLET, storage_state=sessions.get(user))
        for main_page in group:
            report = reports[main_page.name]
            watch.clear()
            report.status = open_page(page, demo.base_url, main_page)
            report.title = page.title()
            report.tablet_widths = scroll_widths(page)
            report.requests += watch.requests
            report.console_errors += watch.console_errors
            report.csp_violations += watch.csp_violations

    # Laptop width: the same once more, then axe. Playwright injects axe as an inline
    # script, which a strict CSP (issue #7) refuses: this pass bypasses CSP, the first
    # one does not.
    for user, group in by_user:
        page = visitor.open(viewport=LAPTOP, storage_state=sessions.get(user), bypass_csp=True)
        for main_page in group:
            report = reports[main_page.name]
            watch.clear()
            open_page(page, demo.base_url, main_page)
            report.requests += watch.requests
            report.console_errors += watch.console_errors
            if main_page.axe:
                report.violations = axe_violations(page)
    visitor.close()
    return list(reports.values())


@pytest.fixture(scope="module")
def tour(django_db_setup, django_db_blocker, live_server) -> Iterator[list[PageReport]]:
    """Load the demo, take the tour, empty the database again (as transactional tests do).

    Playwright starts after the demo is loaded and stops before the flush: while it runs,
    Django refuses database calls from this thread (an event loop runs in it)."""
    with django_db_blocker.unblock(), override_settings(**TOUR_SETTINGS):
        try:
            demo = load_demo(live_server.url)
            pages = main_pages(demo)
            with chromium() as browser:
                reports = take_tour(browser, demo, pages)
        finally:
            call_command("flush", interactive=False, verbosity=0)
    yield reports


def failures(lines: list[str]) -> str:
    return "\n".join(lines)


def test_every_main_page_opens(tour: list[PageReport]):
    broken = [
        f"{r.page.name} ({r.page.url}): HTTP {r.status}, title {r.title!r}"
        for r in tour
        if r.status != 200
        or r.title.startswith(("Server Error", "Not Found", "Not allowed"))
        or (r.page.user and r.title.startswith("Sign in"))
    ]
    assert not broken, failures(broken)


def test_no_main_page_has_serious_or_critical_accessibility_violations(tour: list[PageReport]):
    found = [
        f"{r.page.name} ({r.page.url}, as {r.page.user or 'signed out'}):\n"
        + describe_violations(r.violations)
        for r in tour
        if r.violations
    ]
    assert not found, failures(found)


def test_no_main_page_logs_console_errors_or_csp_violations(tour: list[PageReport]):
    found = [
        f"{r.page.name} ({r.page.url}): {text}"
        for r in tour
        for text in [*r.console_errors, *(f"CSP {v}" for v in r.csp_violations)]
    ]
    assert not found, failures(found)


def test_no_main_page_requests_another_host(tour: list[PageReport]):
    assert all(r.requests for r in tour), "the tour recorded no requests"
    found = [
        f"{r.page.name} ({r.page.url}): {url}"
        for r in tour
        for url in r.requests
        if not is_local(url)
    ]
    assert not found, failures(found)


def test_no_main_page_scrolls_sideways_at_tablet_width(tour: list[PageReport]):
    found = [
        f"{r.page.name} ({r.page.url}): {w['scrollWidth']} px of content in {w['clientWidth']} px"
        for r in tour
        if (w := r.tablet_widths) and w["scrollWidth"] > w["clientWidth"]
    ]
    assert not found, failures(found)
