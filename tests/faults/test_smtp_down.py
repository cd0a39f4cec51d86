"""The mail server is down (issue #7, item 6): nothing listens where EMAIL_URL points.

A worker on this test's own Redis and PostgreSQL builds a due weekly report for two
readers; each send fails to connect, is retried with exponential backoff, and after
DELIVERY_MAX_ATTEMPTS (3 here) is recorded as failed with the reason. A later dispatcher
run does not revive it. (Refusals by a running server — 451 then accepted, 550, 451 for
ever — are tests/tracking/reports/test_delivery_worker.py.)
"""

from __future__ import annotations

import time

import pytest

from tests.faults.services import free_port, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_sends_to_a_mail_server_that_does_not_answer_are_retried_then_recorded_as_failed(
    app, smtp_server
):
    app.probe("seed", "--readers", "2")
    nobody = f"smtp://127.0.0.1:{free_port()}"  # a port nothing listens on
    worker = app.worker(EMAIL_URL=nobody)
    started = time.monotonic()
    app.probe("dispatch")

    wait_for(
        lambda: app.probe("state")["deliveries"] == {"failed": 2},
        timeout=90,
        what="both deliveries to fail",
        logs=app.logs,
    )
    failed_after = time.monotonic() - started
    state = app.probe("state")
    assert state["reports"] == {"ready": 1}
    assert state["attempts"] == [3, 3]
    assert len(state["errors"]) == 1 and state["errors"][0].startswith("Mail server unreachable")
    log = worker.log()
    assert log.count("retry in 0.2s") == 2 and log.count("retry in 0.4s") == 2, log[-4000:]
    assert "failed after 3 attempt(s)" in log

    app.probe("dispatch")  # the next beat tick leaves failed deliveries alone
    time.sleep(2)
    assert app.probe("state")["attempts"] == [3, 3]
    assert smtp_server.received == []
    print(
        f"\nFIGURES SMTP down: 2 deliveries, 3 attempts each (backoff 0.2 s, 0.4 s), "
        f"recorded failed {failed_after:.1f} s after the dispatcher run; 0 e-mails."
    )
