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
