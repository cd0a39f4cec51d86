"""Screenshots of the main pages at laptop width (1280 px) into docs/screenshots/.

    python -m tests.e2e.screenshots        (or `make screenshots`)

Builds a fresh demo database in a temporary folder, serves it with Django's development
server on a free port of 127.0.0.1, and photographs each page with Debian's Chromium, as
the browser tests do: signed in as the demo user who uses the page, nothing fetched from
another host. Dates in the demo are relative to today, so every run shows "today".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
ANALYST, MANAGER = "demo-analyst", "demo-manager"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"The server stopped (exit {server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - our own http://127.0.0.1
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The server did not answer {url} within {seconds:.0f} s:\n{log.read_text()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        # The environment wins over a .env file: this run never touches var/ or DATABASE_URL.
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "true",
                "VAR_DIR": tmp,
                "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            }
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from tests.e2e import demo as d

        print(f"==> Fresh demo database in {tmp}")
        call_command("migrate", interactive=False, verbosity=0)
        demo = d.load_demo(base_url)
        node = demo.nodes[d.NODE_WITH_CHARTS]
        shots = [  # file name, who, URL
            ("login", None, demo.url("login")),
            ("home", ANALYST, demo.url("home")),
            ("strategy", ANALYST, demo.url("strategy-detail", demo.strategy)),
            ("node", ANALYST, demo.url("node-detail", node)),
            ("note", ANALYST, demo.url("note-detail", demo.notes[d.APPROVED_NOTE])),
            ("review-queue", MANAGER, demo.url("review-queue")),
            ("my-notes", ANALYST, demo.url("my-notes")),
            ("api-tokens", ANALYST, demo.url("api-tokens")),
            ("api-docs", ANALYST, demo.url("api-docs")),
        ]
        connections.close_all()  # the server has the database from here on

        log = Path(tmp) / "server.log"
        with log.open("w") as log_file:
            server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_up(demo.url("login"), server, log)
            take(shots, base_url)
        finally:
            server.terminate()
            server.wait(timeout=10)


def take(shots: list[tuple[str, str | None, str]], base_url: str) -> None:
    from tests.e2e.browser import LAPTOP, Visitor, chromium, wait_for_charts

    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        visitor = Visitor(browser, base_url)
        pages = {}  # one signed-in page per user
        for name, user, url in shots:
            if user not in pages:
                pages[user] = visitor.open(user)
                # Charts draw at once instead of animating into the picture.
                pages[user].emulate_media(reduced_motion="reduce")
            page = pages[user]
            page.goto(url)
            if page.locator("canvas[data-chart]").count():
                wait_for_charts(page)
            if name == "api-docs":
                page.locator(".opblock").first.wait_for()  # Swagger UI has read the schema
            path = OUT / f"{name}.png"
            # Whole pages, except Swagger UI's endless list of operations: its first screen.
            page.screenshot(path=path, full_page=name != "api-docs")
            print(f"    {path.relative_to(ROOT)} ({LAPTOP['width']} px wide)")
        visitor.close()
        for problem in visitor.watch.problems():
            print(f"WARNING: {problem}", file=sys.stderr)


if __name__ == "__main__":
    main()
