"""One beat too many (issue #7, item 6): two `celery beat` processes, each running the
report dispatcher every second, and two workers, all on this test's own Redis and
PostgreSQL. Five readers are due last week's report: each receives exactly one e-mail,
however many dispatcher runs race (docs/decisions/0015).
"""

from __future__ import annotations

import time

import pytest

from tests.faults.services import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.slow]

READERS = 5
WATCH_SECONDS = 6


def test_two_beats_dispatching_every_second_still_send_one_email_per_reader(app, smtp_server):
    app.probe("seed", "--readers", str(READERS))
    app.worker()
    app.worker()
    beats = [app.beat(REPORTS_DISPATCH_SECONDS="1") for _ in range(2)]
    started = time.monotonic()

    wait_for(
        lambda: app.probe("state")["deliveries"] == {"sent": READERS},
        timeout=90,
        what=f"{READERS} deliveries to be sent",
        logs=app.logs,
    )
    sent_after = time.monotonic() - started
    time.sleep(WATCH_SECONDS)  # both beats keep dispatching meanwhile
    assert all(beat.alive() for beat in beats), app.logs()
    state = app.probe("state")
    assert state["reports"] == {"ready": 1}
    assert state["deliveries"] == {"sent": READERS}
    assert state["attempts"] == [1] * READERS
    recipients = sorted(r for received in smtp_server.received for r in received.rcpt_tos)
    assert recipients == [f"reader{n:02d}@example.org" for n in range(READERS)]
    runs = sum(
        line.count("dispatch_reports[") and line.count("succeeded")
        for line in app.logs().splitlines()
    )
    sends_by_beat = [b.log().count("Sending due task dispatch-reports") for b in beats]
    assert all(n >= 3 for n in sends_by_beat), sends_by_beat
    print(
        f"\nFIGURES two beats: {sum(sends_by_beat)} dispatcher runs sent by 2 beats "
        f"({runs} run by the workers); {len(smtp_server.received)} e-mails for "
        f"{READERS} readers, all sent {sent_after:.1f} s after start."
    )
