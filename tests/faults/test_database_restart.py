"""PostgreSQL restarts under load (issue #7, item 6).

gunicorn (two workers, persistent connections: CONN_MAX_AGE with CONN_HEALTH_CHECKS)
serves a steady stream of reads and writes from four client threads. The test's own
cluster is stopped for a few seconds and started again. Requests during the outage may
fail (500), but the same gunicorn processes answer again right after, with no restart (not
even of a worker), and every request after that succeeds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from tests.faults.services import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CLIENTS = 4
OUTAGE_SECONDS = 4


@dataclass
class Load:
    """Requests made by the client threads: (sent at, answered at, status; 0 = no answer)."""

    results: list[tuple[float, float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def record(self, sent: float, status: int) -> None:
        with self.lock:
            self.results.append((sent, time.monotonic(), status))

    def answered_before(self, moment: float) -> list[int]:
        with self.lock:
            return [s for _, done, s in self.results if done < moment]

    def overlapping(self, start: float, end: float) -> list[int]:
        with self.lock:
            return [s for sent, done, s in self.results if sent < end and done >= start]

    def sent_after(self, moment: float) -> list[int]:
        with self.lock:
            return [s for sent, _, s in self.results if sent >= moment]


def _client(base: str, seeded: dict, load: Load, n: int) -> None:
    headers = {"Authorization": f"Token {seeded['analyst_token']}"}
    i = 0
    deadline = time.monotonic() + 120  # bounded even if the test forgets to stop us
    while not load.stop.is_set() and time.monotonic() < deadline:
        i += 1
        at = time.monotonic()
        try:
            if i % 3 == 0:
                response = requests.post(
                    f"{base}/api/v1/notes/",
                    json={
                        "strategy": seeded["strategy"],
                        "title": f"Client {n} note {i}",
                        "assessment": "on_track",
                        "as_of": time.strftime("%Y-%m-%d"),
                        "nodes": [seeded["node"]],
                    },
                    headers=headers,
                    timeout=10,
                )
            else:
                response = requests.get(
                    f"{base}/api/v1/notes/?strategy={seeded['strategy']}",
                    headers=headers,
                    timeout=10,
                )
            status = response.status_code
        except requests.RequestException:
            status = 0
        load.record(at, status)
        time.sleep(0.05)


def test_the_app_recovers_from_a_database_restart_without_being_restarted(app, cluster):
    seeded = app.probe("seed")
    web = app.web(workers=2)
    master_pid = web.process.pid
    load = Load()
    threads = [
        threading.Thread(target=_client, args=(app.web_url, seeded, load, n), daemon=True)
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        stopped_at = time.monotonic()
        cluster.stop("fast")
        time.sleep(OUTAGE_SECONDS)
        cluster.start()
        started_at = time.monotonic()
        first_ok = wait_for(
            lambda: next(
                (sent for sent, _, s in list(load.results) if sent >= started_at and s < 300),
                None,
            ),
            timeout=30,
            what="a successful request after the restart",
            logs=app.logs,
        )
        time.sleep(5)  # the steady state after recovery
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=15)

    before = load.answered_before(stopped_at)
    during = load.overlapping(stopped_at, started_at)
    settled = load.sent_after(first_ok + 1)
    assert before and set(before) <= {200, 201}, before
    assert during, "no request was made during the outage"
    assert set(during) - {200, 201} <= {500, 503}, sorted(set(during))
    assert len(settled) > 20
    assert set(settled) <= {200, 201}, sorted(set(settled))
    assert web.alive() and web.process.pid == master_pid, "gunicorn was restarted"
    assert web.log().count("Booting worker") == 2, "a gunicorn worker was replaced"
    failed = sum(1 for s in during if s not in (200, 201))
    print(
        f"\nFIGURES database restart: {len(before)} requests before (all 2xx); "
        f"{len(during)} during the {OUTAGE_SECONDS} s outage ({failed} failed with 5xx); "
        f"first success {first_ok - started_at:.2f} s after PostgreSQL was back; "
        f"{len(settled)} requests after, all 2xx; gunicorn not restarted."
    )
