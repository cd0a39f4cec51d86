"""`make run`'s worker really runs: a Celery worker with embedded beat on the kombu
filesystem broker logs the heartbeat task, with no broker server anywhere."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_worker_with_embedded_beat_logs_the_heartbeat(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "HEARTBEAT_SECONDS": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-B",
                "--concurrency=1",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while (
                time.monotonic() < deadline
                and "heartbeat: worker and beat alive" not in log.read_text()
            ):
                assert worker.poll() is None, log.read_text()
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert "heartbeat: worker and beat alive (0 strategies, 0 nodes)" in log.read_text(), (
        log.read_text()
    )


SEND_NOW = """
from strategy.models import Strategy
from tracking.models import Subscription
from tracking.reports.services import report_send_now
from django.db import transaction
sub = Subscription.objects.get(user__username="demo-manager", strategy__mission__slug="china")
with transaction.atomic():
    delivery = report_send_now(subscription=sub, by=sub.user)
print("delivery", delivery.pk)
"""


@pytest.mark.slow
def test_send_now_reaches_the_mail_folder_through_the_embedded_worker(tmp_path):
    """`make run`'s shape end to end: "send now" enqueues on the filesystem broker, the
    worker builds the report and writes the e-mail, with its PDF, to the mail folder."""
    mail = tmp_path / "mail"
    env = {
        **os.environ,
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "EMAIL_URL": f"filemail:///{mail}",
    }
    for command in (["migrate", "--noinput", "-v0"], ["load_demo", "--quiet"]):
        subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=180
        )
    subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "shell", "-c", SEND_NOW],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--concurrency=1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and not list(mail.glob("*.log")):
                assert worker.poll() is None, log.read_text()
                time.sleep(0.5)
            time.sleep(2)  # long enough for a duplicate to show up, if there were one
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    files = list(mail.glob("*.log"))
    assert len(files) == 1, log.read_text()
    message = files[0].read_text(errors="replace")
    assert "To: demo-manager@example.org" in message
    assert message.count("Content-Type: application/pdf") == 1
    assert "Status report" in message
