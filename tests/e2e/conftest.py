"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server,
on whatever database the suite runs (PostgreSQL in CI), with the demo mission loaded.

Without /usr/bin/chromium the tests here are skipped, except in CI (env CI set), where
they run and fail: CI must prove the browser flows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import CHROMIUM, Visitor, chromium
from tests.e2e.demo import Demo, load_demo

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.is_file() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is missing (apt-get install chromium; CI fails instead)"
    )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture
def demo(live_server) -> Demo:
    """The demo in the live server's database (live_server brings transactional_db, so
    the server sees it and it is flushed after the test)."""
    return load_demo(live_server.url)


@pytest.fixture
def browser(demo: Demo) -> Iterator[Browser]:
    """Chromium, started after the demo is loaded and stopped before the database is
    flushed: Playwright runs an event loop in this thread while it is up."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def visitor(browser: Browser, demo: Demo) -> Iterator[Visitor]:
    visitor = Visitor(browser, demo.base_url)
    yield visitor
    visitor.close()
