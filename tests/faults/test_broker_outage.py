"""Redis stops while people work (issue #7, item 6).

gunicorn and a Celery worker run against this test's own PostgreSQL and Redis. With
Redis stopped, an analyst submits notes through the API and a manager asks for a report
and presses "Send now" on the subscriptions page: every request succeeds (the rows are
committed; the task that could not be published is logged and left to the dispatcher).
Redis comes back, one dispatcher run (what beat does every few minutes) re-enqueues the
stale work, and the report is built once and e-mailed once.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.faults.services import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

NOTES = 10


def _login(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:2000]
    return session


def _csrf(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/subscriptions/", timeout=10)
    assert page.status_code == 200, page.text[:2000]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_requests_succeed_while_redis_is_down_and_the_work_runs_once_when_it_is_back(
    app, redis_server, smtp_server
):
    seeded = app.probe("seed")
    app.web()
    app.worker()
    base = app.web_url
    analyst = {"Authorization": f"Token {seeded['analyst_token']}"}
    manager = {"Authorization": f"Token {seeded['manager_token']}"}
    browser = _login(base, "manager", seeded["password"])
    csrf = _csrf(browser, base)

    redis_server.stop()
    outage_started = time.monotonic()
    statuses, latencies = [], []

    def timed(call):
        started = time.monotonic()
        response = call()
        latencies.append(time.monotonic() - started)
        statuses.append(response.status_code)
        return response

    for n in range(NOTES):
        response = timed(
            lambda n=n: requests.post(
                f"{base}/api/v1/notes/",
                json={
                    "strategy": seeded["strategy"],
                    "title": f"Written while the broker is down #{n}",
                    "body": "The queue is unreachable; this note must still be saved.",
                    "assessment": "on_track",
                    "as_of": time.strftime("%Y-%m-%d"),
                    "nodes": [seeded["node"]],
                },
                headers=analyst,
                timeout=30,
            )
        )
        assert response.status_code == 201, response.text[:2000]
    report = timed(
        lambda: requests.post(
            f"{base}/api/v1/reports/",
            json={"strategy": seeded["strategy"]},
            headers=manager,
            timeout=30,
        )
    )
    assert report.status_code == 202, report.text[:2000]
    send_now = timed(
        lambda: browser.post(
            f"{base}/subscriptions/{seeded['manager_subscription']}/send/",
            data={"csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/subscriptions/"},
            timeout=30,
            allow_redirects=False,
        )
    )
    assert send_now.status_code == 302, send_now.text[:2000]
    assert statuses == [201] * NOTES + [202, 302]

    during = app.probe("state")
    assert during["notes"] == NOTES
    assert during["reports"] == {"pending": 1}
    assert during["deliveries"] == {"pending": 1}
    assert smtp_server.received == []
    assert "Could not enqueue build_report" in app.logs()

    redis_server.start()
    outage_seconds = time.monotonic() - outage_started
    time.sleep(3.5)  # REPORTS_STALE_SECONDS=3: the report is stale work now
    caught_up = time.monotonic()
    dispatched = app.probe("dispatch")
    assert dispatched["reports"], dispatched

    wait_for(
        lambda: app.probe("state")["deliveries"] == {"sent": 1},
        timeout=90,
        what="the report to be built and e-mailed",
        logs=app.logs,
    )
    recovery_seconds = time.monotonic() - caught_up
    app.probe("dispatch")  # a later beat tick finds nothing left to do
    time.sleep(3)
    after = app.probe("state")
    assert after["reports"] == {"ready": 1}
    assert after["deliveries"] == {"sent": 1}
    assert after["attempts"] == [1]
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].rcpt_tos == ("manager@example.org",)
    print(
        f"\nFIGURES broker outage: {len(statuses)} requests during a {outage_seconds:.1f} s "
        f"Redis outage, {statuses.count(201) + statuses.count(202) + statuses.count(302)} "
        f"succeeded, slowest {max(latencies):.2f} s; report e-mailed "
        f"{recovery_seconds:.1f} s after the first dispatcher run, "
        f"{len(smtp_server.received)} e-mail."
    )
