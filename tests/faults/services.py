"""Real services a fault test owns: its own PostgreSQL cluster, its own Redis, and the
app's processes (gunicorn, Celery worker, beat) pointed at them.

Nothing here touches the shared PostgreSQL on 5432 or Redis on 6379: every server listens
on a port the kernel picks on 127.0.0.1 and lives in a temporary folder that is removed
afterwards. PostgreSQL's `initdb` refuses to run as root, so as root the cluster runs as
the `postgres` system user (`runuser`); as anyone else it runs as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(
    predicate: Callable[[], object], *, timeout: float, what: str, logs: Callable[[], str] = str
):
    """Poll until `predicate` returns something truthy (returned); AssertionError at the end."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Gave up after {timeout} s waiting for {what}.\n{logs()}")
        time.sleep(0.1)


def _postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def services_missing() -> str:
    """Why the fault tests cannot run here ('' when they can)."""
    if _postgres_bin() is None:
        return "PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) are not installed"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run initdb as"
        if shutil.which("runuser") is None:
            return "running as root without `runuser` to start PostgreSQL as `postgres`"
    return ""


class PostgresCluster:
    """A throw-away cluster: trust authentication on 127.0.0.1, no fsync (tests only)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="st-faults-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "-N",
        )  # fmt: skip

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(  # noqa: S603 — fixed binaries, our arguments
            command, capture_output=True, text=True, timeout=120, cwd=self.folder
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} failed:\n{result.stdout}\n{result.stderr}\n{self.logs()}")
        return result

    def logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=60"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def is_up(self) -> bool:
        try:
            psycopg2.connect(self.url("postgres"), connect_timeout=1).close()
        except psycopg2.OperationalError:
            return False
        return True

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, params: list | None = None) -> None:
        conn = psycopg2.connect(self.url("postgres"), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
        finally:
            conn.close()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


class RedisServer:
    """`redis-server` on its own port, without persistence; stop() and start() again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.folder / f"redis-{self.port}.log").open("a")
        self.process = subprocess.Popen(  # noqa: S603 — a fixed binary, our arguments
            [
                shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self.answers, timeout=15, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


class AppProcess:
    """One process of the app (`python -m …`) in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log_path = folder / f"{name}-{uuid.uuid4().hex[:6]}.log"
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(  # noqa: S603 — this interpreter, our arguments
                [sys.executable, "-m", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class App:
    """The app's processes for one test, all stopped at the end."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.processes: list[AppProcess] = []
        self.web_url = ""

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ({p.log_path}) ---\n{p.log()[-6000:]}" for p in self.processes
        )

    def _start(self, name: str, args: list[str], **env: str) -> AppProcess:
        process = AppProcess(name, args, {**self.env, **env}, self.folder)
        self.processes.append(process)
        return process

    def web(self, workers: int = 2) -> AppProcess:
        port = free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        process = self._start(
            "gunicorn",
            [
                "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                "--workers", str(workers), "--timeout", "30", "--graceful-timeout", "3",
            ],
        )  # fmt: skip
        wait_for(
            lambda: _answers(self.web_url) or not process.alive(),
            timeout=60,
            what="gunicorn to answer",
            logs=self.logs,
        )
        assert process.alive(), f"gunicorn exited at start\n{self.logs()}"
        return process

    def worker(self, **env: str) -> AppProcess:
        process = self._start(
            "worker",
            [
                "celery", "-A", "config", "worker", "--concurrency=2", "--loglevel=INFO",
                "--without-mingle", "--without-gossip", "-n", f"fault-{uuid.uuid4().hex[:6]}@%h",
            ],
            **env,
        )  # fmt: skip
        wait_for(
            lambda: " ready." in process.log() or not process.alive(),
            timeout=60,
            what="the worker to be ready",
            logs=self.logs,
        )
        assert process.alive(), f"the worker exited at start\n{self.logs()}"
        return process

    def beat(self, **env: str) -> AppProcess:
        schedule = self.folder / f"beat-{uuid.uuid4().hex[:6]}"
        return self._start(
            "beat",
            ["celery", "-A", "config", "beat", "--loglevel=INFO", "--schedule", str(schedule)],
            **env,
        )

    def manage(self, *args: str, timeout: float = 180) -> str:
        """`manage.py …` with the app's environment; its stdout (fails on an error)."""
        result = subprocess.run(  # noqa: S603 — this interpreter, our arguments
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"manage.py {args[0]} failed:\n{result.stderr[-4000:]}"
        return result.stdout

    def probe(self, *args: str) -> dict:
        """Run tests/faults/probe.py in a fresh process and return its JSON answer."""
        import json

        result = subprocess.run(  # noqa: S603 — this interpreter, our arguments
            [sys.executable, "-m", "tests.faults.probe", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"probe {args} failed:\n{result.stderr[-4000:]}"
        return json.loads(result.stdout.strip().splitlines()[-1])

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def _answers(url: str) -> bool:
    try:
        requests.get(url + "/accounts/login/", timeout=2)
    except requests.RequestException:
        return False
    return True
