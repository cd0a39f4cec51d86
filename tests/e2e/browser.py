"""What the browser tests and `make screenshots` share: Debian's Chromium, a watch on
everything a page asks for or complains about, signing in, charts and axe-core.

Playwright's pip package brings its node driver but no browser, and none is ever
downloaded: it drives /usr/bin/chromium, which `.ci/run` installs with apt. Nothing a
page loads may leave the machine: every request is recorded, and one for another host
is aborted before it is sent (and then fails the test that made it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Route,
    WebError,
    sync_playwright,
)

from tracking.management.commands.load_demo import PASSWORD as DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_OPTIONS: dict[str, Any] = {
    "executable_path": str(CHROMIUM),
    "headless": True,
    # No sandbox in containers; no GPU in CI; no component updates, safe-browsing lists or
    # other background fetches from the browser itself.
    "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
}
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# axe impacts are minor, moderate, serious and critical; the last two fail a test.
FAILING_IMPACTS = ("serious", "critical")

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# URLs that name no host at all: inline images, blobs, the blank page.
HOSTLESS_SCHEMES = frozenset({"data", "blob", "about"})

# Every `securitypolicyviolation` is stored on window and handed to the test at once
# (through an exposed function), so none is lost when the page navigates away.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = `${event.violatedDirective} refused ${event.blockedURI || "inline code"}`
    + ` (${event.sourceFile || document.location.href}:${event.lineNumber})`;
  window.__cspViolations.push(text);
  if (window.__e2eCspViolation) {
    window.__e2eCspViolation(text);
  }
});
"""

ALL_CHARTS_DRAWN = """() => [...document.querySelectorAll("canvas[data-chart]")]
  .every((canvas) => window.Chart && window.Chart.getChart(canvas))"""

# Points each dataset of a canvas's Chart.js chart has (nulls are gaps, not points).
CHART_POINTS = """(canvas) => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  if (!chart) { return null; }
  return chart.data.datasets.map((d) => ({
    label: d.label,
    points: d.data.filter((v) => v !== null && v !== undefined).length,
  }));
}"""

SCROLL_WIDTHS = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
})"""


@contextmanager
def chromium() -> Iterator[Browser]:
    """Playwright driving Debian's Chromium; never a downloaded browser."""
    if not CHROMIUM.is_file():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does). "
            "Never `playwright install`."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**LAUNCH_OPTIONS)
        try:
            yield browser
        finally:
            browser.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in HOSTLESS_SCHEMES or parts.hostname in LOCAL_HOSTS


@dataclass
class Watch:
    """What the pages of browser contexts asked for and complained about."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> BrowserContext:
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.route("**/*", _local_only)
        context.expose_function("__e2eCspViolation", self._csp_violation)
        context.add_init_script(CSP_LISTENER)
        return context

    def clear(self) -> None:
        self.requests.clear()
        self.console_errors.clear()
        self.csp_violations.clear()

    @property
    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not is_local(url)]

    def problems(self) -> list[str]:
        """Everything that should not have happened, one line each."""
        return (
            [f"request to another host: {url}" for url in self.foreign_requests]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"CSP violation: {text}" for text in self.csp_violations]
        )

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            self.console_errors.append(
                f"{message.text} ({where.get('url', '')}:{where.get('lineNumber', '')})"
            )

    def _csp_violation(self, text: str) -> None:
        self.csp_violations.append(text)

    def _web_error(self, error: WebError) -> None:
        self.console_errors.append(f"uncaught {error.error}")


def _local_only(route: Route) -> None:
    if is_local(route.request.url):
        route.fallback()
    else:
        route.abort("blockedbyclient")


class Visitor:
    """Opens browser contexts on one site, each a separate person, all under one watch."""

    def __init__(self, browser: Browser, base_url: str, login_path: str = "/accounts/login/"):
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.login_url = self.base_url + login_path
        self.watch = Watch()
        self.contexts: list[BrowserContext] = []

    def open(
        self,
        username: str | None = None,
        *,
        viewport: dict[str, int] = LAPTOP,
        storage_state: Any = None,
        bypass_csp: bool = False,
    ) -> Page:
        """A page in a new context, signed in as `username` (None: signed out)."""
        context = self.browser.new_context(
            viewport=viewport, storage_state=storage_state, bypass_csp=bypass_csp
        )
        self.contexts.append(self.watch.attach(context))
        page = context.new_page()
        if username and storage_state is None:
            sign_in(page, self.login_url, username)
        return page

    def assert_quiet(self) -> None:
        """No request left the machine, nothing logged an error, no CSP violation."""
        problems = self.watch.problems()
        assert not problems, "\n".join(problems)

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def sign_in(page: Page, login_url: str, username: str) -> None:
    """Sign in through the form, as people do (every demo user has the same password)."""
    page.goto(login_url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.startswith(login_url))
    page.get_by_text(f"Signed in as {username}").wait_for()


def wait_for_charts(page: Page) -> None:
    """Until Chart.js has drawn every chart of the page (they are drawn on DOMContentLoaded)."""
    page.wait_for_function(ALL_CHARTS_DRAWN, timeout=10_000)


def chart_points(canvas: Locator) -> list[dict[str, Any]] | None:
    """Label and point count of each dataset of the canvas's chart, None if not drawn."""
    return canvas.evaluate(CHART_POINTS)


def scroll_widths(page: Page) -> dict[str, int]:
    return page.evaluate(SCROLL_WIDTHS)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=AXE)
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [v for v in result["violations"] if v["impact"] in FAILING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]], limit: int = 5) -> str:
    """One paragraph per violated rule: what it is and where (first few elements)."""
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:limit]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"      {' '.join(map(str, node['target']))}: {summary[:300]}")
        if len(v["nodes"]) > limit:
            lines.append(f"      ... and {len(v['nodes']) - limit} more")
    return "\n".join(lines)
