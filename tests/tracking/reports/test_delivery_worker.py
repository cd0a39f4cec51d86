"""Scheduled reports reach each inbox exactly once — proven with the real parts (SPEC §2.3,
§7): a Celery worker subprocess on Redis, the PostgreSQL test database, and an SMTP
server in this process (tests/smtp.py).

The test process plays the scheduler: it backdates subscriptions so last week's report
is due and calls `services.dispatch()` itself, whose on-commit sends go to Redis; the
build and the sends happen in the worker. Every wait polls with a deadline, and a failed
wait shows the worker's log.

Needs PostgreSQL (a worker process cannot open the in-memory SQLite test database, so on
SQLite these tests are skipped) and Redis on 127.0.0.1:6379, whose db 14 is the tests'
own and is emptied before and after each test. Without Redis the tests are skipped,
except in CI (env CI set), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.db import connection, connections
from django.utils import timezone
from pypdf import PdfReader

from config.celery import app as celery_app
from strategy.models import Node, Role
from tests import smtp
from tests.celery_faults import SLOW_PDF_MARKER
from tests.factories import MembershipFactory, UserFactory
from tracking.models import Cadence, Delivery, DeliveryState, Report, ReportState, Subscription
from tracking.reports import services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

smtp_server = smtp.smtp_server  # the fixture: a real SMTP server per test

ROOT = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/14"  # reserved for tests: flushed freely
RETRY_BASE_SECONDS = 0.2
WORKER_START_SECONDS = 40
QUIET_SECONDS = 3  # how long "still exactly one" is watched after the last send


# --- Services this module needs -----------------------------------------------------------


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the worker tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """Redis db 14, empty, with this process's Celery app publishing to it (for the
    sends `services.dispatch()` enqueues on commit); the app is put back afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL: a worker process cannot open this run's {connection.vendor} "
            "test database (run with DATABASE_URL=postgres://…)"
        )
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        _unavailable(f"Redis does not answer at {REDIS_URL} ({exc}); start redis-server")
    client.flushdb()
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    _drop_broker_connections()
    conf.broker_url, conf.task_always_eager = REDIS_URL, False
    try:
        yield client
    finally:
        _drop_broker_connections()
        conf.broker_url, conf.task_always_eager = saved
        client.flushdb()
        client.close()


def _drop_broker_connections() -> None:
    """Close and forget the broker pools (kombu's registry and the app's cached handles on
    it), so the next publish connects to the broker configured now."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


# --- Worker subprocesses ---------------------------------------------------------------


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "", safe="")  # empty or a socket folder: percent-encoded
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth + '@' if auth else ''}{host}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """`celery -A <app> worker` in its own process group, logging to a file."""

    def __init__(self, log: Path, env: dict[str, str], app: str) -> None:
        self.log_path = log
        self.log_path.write_text("")
        with log.open("a") as out:
            self.process = subprocess.Popen(  # noqa: S603 — this interpreter, our arguments
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    app,
                    "worker",
                    "--concurrency=2",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "-n",
                    f"test-{uuid.uuid4().hex[:8]}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: killed as one
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the main process and its pool processes at once, as a crash would."""
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class Workers:
    """Starts workers for one test and kills every one of them at the end."""

    def __init__(self, tmp_path: Path, mail_server: smtp.SMTPServer) -> None:
        self.tmp_path = tmp_path
        self.mail_server = mail_server
        self.started: list[Worker] = []

    def start(self, *, app: str = "config", **env: str) -> Worker:
        environment = {
            # Faults are switched on per worker, never inherited.
            **{k: v for k, v in os.environ.items() if not k.startswith("FAULT_")},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "true",
            "SECRET_KEY": "tests-only-worker-key",
            "VAR_DIR": str(self.tmp_path / "var"),
            "DATABASE_URL": _test_database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": self.mail_server.url,
            "EMAIL_TIMEOUT": "10",
            "DELIVERY_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
            "DELIVERY_MAX_ATTEMPTS": "5",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        worker = Worker(self.tmp_path / f"worker-{len(self.started) + 1}.log", environment, app)
        self.started.append(worker)
        wait_until(
            lambda: " ready." in worker.log() or worker.process.poll() is not None,
            timeout=WORKER_START_SECONDS,
            what="the worker to be ready",
            logs=self.logs,
        )
        assert worker.process.poll() is None, f"The worker exited at start.\n{self.logs()}"
        return worker

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {i} log ({w.log_path}) ---\n{w.log()}"
            for i, w in enumerate(self.started, 1)
        )

    def kill_all(self) -> None:
        for worker in self.started:
            worker.kill()


@pytest.fixture
def workers(tmp_path, smtp_server, broker) -> Iterator[Workers]:
    started = Workers(tmp_path, smtp_server)
    try:
        yield started
    finally:
        started.kill_all()


# --- Polling ----------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], object], *, timeout: float, what: str, logs: Callable[[], str]
):
    """Poll `predicate` until it returns something truthy (returned) or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"Gave up after {timeout} s waiting for {what}.\n{logs()}")
        time.sleep(0.1)


def stays(predicate: Callable[[], bool], *, seconds: float, what: str, logs: Callable[[], str]):
    """Check `predicate` holds throughout the next `seconds` (fails at the first lapse)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), f"No longer true: {what}.\n{logs()}"
        time.sleep(0.2)
    assert predicate(), f"No longer true: {what}.\n{logs()}"


def _states() -> dict[str, int]:
    states: dict[str, int] = {}
    for state in Delivery.objects.values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    return states


def _all_deliveries(state: str, count: int) -> Callable[[], bool]:
    return lambda: _states() == {state: count}


# --- Data --------------------------------------------------------------------------------


def _subscribe(strategy, users) -> list[Subscription]:
    """Weekly subscriptions created through the service, then backdated a few weeks so
    the latest weekly period (last week's) is due for them now."""
    subscriptions = [
        services.subscription_create(strategy=strategy, cadence=Cadence.WEEKLY, by=user)
        for user in users
    ]
    Subscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    return subscriptions


def _members(mission, prefix: str, count: int):
    return [
        MembershipFactory(
            user=UserFactory(username=f"{prefix}{n:02d}"), mission=mission, role=Role.VIEWER
        ).user
        for n in range(count)
    ]


def _pdf_text(message) -> str:
    pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in message.iter_attachments()]
    reader = PdfReader(BytesIO(pdfs[0].get_content()))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --- The tests ---------------------------------------------------------------------------


def test_a_due_subscription_gets_exactly_one_email_with_html_text_and_the_pdf_of_its_tree(
    tree, personas, workers, smtp_server, broker
):
    [subscription] = _subscribe(tree.strategy, [personas.viewer])
    workers.start()

    services.dispatch()

    wait_until(
        _all_deliveries(DeliveryState.SENT, 1),
        timeout=60,
        what="the delivery to be sent",
        logs=workers.logs,
    )
    stays(
        lambda: len(smtp_server.received) == 1,
        seconds=QUIET_SECONDS,
        what="exactly one e-mail arrived",
        logs=workers.logs,
    )

    [received] = smtp_server.received
    assert received.rcpt_tos == (personas.viewer.email,)
    message = received.message
    delivery = Delivery.objects.get()
    assert delivery.subscription_id == subscription.pk
    assert delivery.attempts == 1
    assert f"report-delivery-{delivery.pk}@" in message["Message-ID"]
    assert message.get_body(preferencelist=("html",)) is not None
    assert message.get_body(preferencelist=("plain",)) is not None
    pdf_text = _pdf_text(message)
    titles = list(Node.objects.filter(strategy=tree.strategy).values_list("title", flat=True))
    assert len(titles) == 7
    missing = [title for title in titles if title not in pdf_text]
    assert not missing, f"Titles missing from the PDF: {missing}\nPDF text: {pdf_text}"
    report = Report.objects.get()
    assert (report.strategy_id, report.cadence, report.state) == (
        tree.strategy.pk,
        Cadence.WEEKLY,
        ReportState.READY,
    )


def test_ten_dispatchers_at_once_send_each_of_twenty_subscribers_one_email(
    tree, personas, workers, smtp_server, broker
):
    here = _members(personas.mission, "reader", 10)
    there = _members(personas.other_mission, "elsewhere", 10)
    _subscribe(tree.strategy, here)
    _subscribe(tree.other_strategy, there)
    workers.start()

    start = threading.Barrier(10)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            start.wait(timeout=10)
            services.dispatch()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=dispatcher) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a dispatcher hung"
    assert not errors, errors

    wait_until(
        _all_deliveries(DeliveryState.SENT, 20),
        timeout=60,
        what="20 deliveries to be sent",
        logs=lambda: f"{_states()}\n{workers.logs()}",
    )
    stays(
        lambda: len(smtp_server.received) == 20,
        seconds=QUIET_SECONDS,
        what="exactly 20 e-mails arrived",
        logs=workers.logs,
    )

    recipients = [r for received in smtp_server.received for r in received.rcpt_tos]
    assert sorted(recipients) == sorted(u.email for u in here + there)
    assert Report.objects.count() == 2
    assert set(Report.objects.values_list("strategy_id", "cadence")) == {
        (tree.strategy.pk, Cadence.WEEKLY),
        (tree.other_strategy.pk, Cadence.WEEKLY),
    }
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_mail_server_answering_451_three_times_gets_the_report_on_the_fourth_attempt(
    tree, personas, workers, smtp_server, broker
):
    _subscribe(tree.strategy, [personas.viewer])
    smtp_server.refuse(times=3, code=451, stage="data")
    worker = workers.start()

    services.dispatch()

    wait_until(
        _all_deliveries(DeliveryState.SENT, 1),
        timeout=60,
        what="the delivery to be sent after three refusals",
        logs=workers.logs,
    )
    stays(
        lambda: len(smtp_server.received) == 1,
        seconds=QUIET_SECONDS,
        what="exactly one e-mail arrived",
        logs=workers.logs,
    )
    delivery = Delivery.objects.get()
    assert delivery.attempts == 4, workers.logs()
    assert delivery.last_error == ""
    assert len(smtp_server.refusals) == 3
    # Exponential backoff: base, twice the base, four times the base.
    log = worker.log()
    for seconds in (RETRY_BASE_SECONDS, 2 * RETRY_BASE_SECONDS, 4 * RETRY_BASE_SECONDS):
        assert f"retry in {seconds}s" in log, log


@pytest.mark.parametrize(
    ("code", "stage", "max_attempts", "expected_attempts"),
    [
        pytest.param(550, "rcpt", "5", 1, id="550-fails-at-once"),
        pytest.param(451, "data", "3", 3, id="451-for-ever-fails-after-the-last-attempt"),
    ],
)
def test_a_mail_server_that_keeps_refusing_fails_the_delivery_and_it_is_not_retried_again(
    tree, personas, workers, smtp_server, broker, code, stage, max_attempts, expected_attempts
):
    _subscribe(tree.strategy, [personas.viewer])
    smtp_server.refuse(times=None, code=code, stage=stage)
    workers.start(DELIVERY_MAX_ATTEMPTS=max_attempts)

    services.dispatch()

    wait_until(
        _all_deliveries(DeliveryState.FAILED, 1),
        timeout=60,
        what="the delivery to fail",
        logs=workers.logs,
    )
    services.dispatch()  # a later dispatcher run does not revive it either

    def unchanged() -> bool:
        delivery = Delivery.objects.get()
        return (
            delivery.state == DeliveryState.FAILED
            and delivery.attempts == expected_attempts
            and len(smtp_server.refusals) == expected_attempts
        )

    stays(
        unchanged,
        seconds=QUIET_SECONDS,
        what=f"failed after {expected_attempts} attempt(s), no further attempt",
        logs=lambda: f"{smtp_server.refusals}\n{workers.logs()}",
    )
    delivery = Delivery.objects.get()
    assert f"{code}" in delivery.last_error
    assert "Mailbox unavailable" in delivery.last_error or "try again later" in delivery.last_error
    assert smtp_server.received == []


def test_a_worker_killed_while_building_a_report_leaves_it_pending_and_the_next_dispatch_delivers_it_once(
    tree, personas, workers, smtp_server, broker, settings
):
    readers = [personas.viewer, personas.manager]
    _subscribe(tree.strategy, readers)
    doomed = workers.start(app="tests.celery_faults", FAULT_SLOW_PDF_SECONDS="60")

    services.dispatch()

    wait_until(
        lambda: SLOW_PDF_MARKER in doomed.log(),
        timeout=60,
        what="the worker to start rendering the PDF",
        logs=workers.logs,
    )
    doomed.kill()
    report = Report.objects.get()
    assert report.state == ReportState.PENDING, workers.logs()
    assert not Delivery.objects.exists()
    assert smtp_server.received == []

    settings.REPORTS_STALE_SECONDS = 1
    wait_until(
        lambda: report.created_at < timezone.now() - timedelta(seconds=1),
        timeout=5,
        what="the pending build to be stale",
        logs=workers.logs,
    )
    workers.start()
    services.dispatch()

    wait_until(
        _all_deliveries(DeliveryState.SENT, 2),
        timeout=60,
        what="both deliveries to be sent",
        logs=workers.logs,
    )
    stays(
        lambda: len(smtp_server.received) == 2,
        seconds=QUIET_SECONDS,
        what="one e-mail per reader arrived",
        logs=workers.logs,
    )
    recipients = sorted(r for received in smtp_server.received for r in received.rcpt_tos)
    assert recipients == sorted(u.email for u in readers)
    report.refresh_from_db()
    assert report.state == ReportState.READY
    assert Report.objects.count() == 1
