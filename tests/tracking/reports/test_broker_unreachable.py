"""A broker that cannot be reached does not fail the request that enqueues work: the row
is committed, stays pending, and the warning names what the dispatcher will redo.
(The end-to-end version, with a real Redis stopped under gunicorn, is
tests/faults/test_broker_outage.py.)"""

import logging
import socket

import kombu.pools
import pytest
from django.urls import reverse

from config.celery import app as celery_app
from tracking.models import Report, ReportState


@pytest.fixture
def unreachable_broker():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)

    def reset():
        kombu.pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reset()
    conf.broker_url, conf.task_always_eager = f"redis://127.0.0.1:{port}/0", False
    try:
        yield
    finally:
        reset()
        conf.broker_url, conf.task_always_eager = saved


@pytest.mark.django_db(transaction=True)
def test_generate_now_succeeds_and_leaves_the_report_pending_when_the_broker_is_down(
    client, personas, tree, unreachable_broker, caplog
):
    client.force_login(personas.manager)
    with caplog.at_level(logging.WARNING, logger="tracking.reports.services"):
        response = client.post(reverse("report-generate", args=[tree.strategy.pk]))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.state == ReportState.PENDING
    assert f"Could not enqueue build_report({report.pk},)" in caplog.text
    assert "the row stays pending for the dispatcher" in caplog.text
