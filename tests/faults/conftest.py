"""Fixtures of the fault tests (`pytest -m faults`, `make test-faults`).

One private PostgreSQL cluster per run, with a template database migrated once; each
test gets a fresh copy of it, its own Redis, its own SMTP server (tests/smtp.py) and the
app's processes pointed at all three. Without the server binaries the tests are skipped,
except in CI (env CI set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import smtp
from tests.faults.services import ROOT, App, PostgresCluster, RedisServer, services_missing

smtp_server = smtp.smtp_server  # a real SMTP server per test

TEMPLATE = "faults_template"
# Short clocks so lost work is "stale" within seconds (STALE must exceed EMAIL_TIMEOUT).
APP_SETTINGS = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DEBUG": "true",  # static files from the source folders: no collectstatic needed
    "SECRET_KEY": "tests-only-fault-key",
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "EMAIL_TIMEOUT": "2",
    "REPORTS_STALE_SECONDS": "3",
    "DELIVERY_RETRY_BASE_SECONDS": "0.2",
    "DELIVERY_MAX_ATTEMPTS": "3",
    "CONN_MAX_AGE": "60",
    "PYTHONUNBUFFERED": "1",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    missing = services_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the fault tests: {missing}")
        pytest.skip(missing)
    pg = PostgresCluster()
    try:
        pg.start()
        pg.execute(f"CREATE DATABASE {TEMPLATE}")
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env={**_base_env(), "DATABASE_URL": pg.url(TEMPLATE)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"migrate failed:\n{result.stderr[-4000:]}"
        yield pg
    finally:
        pg.destroy()


def _base_env() -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FAULT_", "DATABASE_URL", "CELERY_", "EMAIL_", "REPORTS_"))
    }
    return {**keep, **APP_SETTINGS}


@pytest.fixture
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="st-faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def database(cluster) -> Iterator[str]:
    """A fresh copy of the migrated template; its DATABASE_URL."""
    name = f"faults_{uuid.uuid4().hex[:10]}"
    cluster.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield cluster.url(name)
    finally:
        if cluster.is_up():
            cluster.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cluster.execute(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture
def redis_server(folder) -> Iterator[RedisServer]:
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app(database, redis_server, smtp_server, folder) -> Iterator[App]:
    env = {
        **_base_env(),
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": redis_server.url,
        "EMAIL_URL": smtp_server.url,
        "VAR_DIR": str(folder / "var"),
    }
    started = App(env, folder)
    try:
        yield started
    finally:
        started.stop_all()
