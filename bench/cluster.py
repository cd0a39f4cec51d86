"""A private PostgreSQL cluster for the bench: never the shared server on 5432.

`cached_cluster()` returns the data directory of a stopped cluster holding the bench
databases, building it once (initdb, migrate, `generate_data`) and keeping it under
var/bench/ keyed by everything that shapes the data: the scales, the seed, the notes
total, the migrations and the generator's code. `Cluster` copies such a directory into a
temporary one and runs it on a free loopback port with JIT off, so every bench run starts
from the same bytes and leaves nothing behind.

As root, initdb and postgres refuse to run: every server command then runs as the
`postgres` user through `runuser`, and the directories are handed to that user.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench"
SERVER_SETTINGS = [
    "jit=off",
    "listen_addresses=127.0.0.1",
    "shared_buffers=512MB",
    "max_connections=40",
    "work_mem=32MB",
    "maintenance_work_mem=256MB",
    "max_wal_size=4GB",
    "autovacuum=off",  # statistics come from the explicit ANALYZE after loading
]


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        sys.exit(
            "No PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)."
        )
    return Path(found[-1])


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _hand_over(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
        for sub in path.rglob("*"):
            shutil.chown(sub, "postgres", "postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_key(*, scales: tuple[float, ...], seed: int, notes_total: int) -> str:
    """Changes whenever the generated data would: inputs, migrations, generator code."""
    digest = hashlib.sha256(f"{scales}|{seed}|{notes_total}".encode())
    files = [
        *sorted(ROOT.glob("*/migrations/*.py")),
        ROOT / "tracking" / "datagen.py",
        ROOT / "tracking" / "management" / "commands" / "generate_data.py",
    ]
    for f in files:
        digest.update(str(f.relative_to(ROOT)).encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


class Cluster:
    """A running server on a data directory (started by `start`, removed by `stop`)."""

    def __init__(self, datadir: Path, *, throwaway: bool, extra: list[str] | None = None):
        self.datadir = datadir
        self.throwaway = throwaway
        self.port = free_port()
        self.socket_dir = Path(tempfile.mkdtemp(prefix="bench-pg-sock-"))
        os.chmod(self.socket_dir, 0o777)  # noqa: S103 - the server runs as postgres
        self.extra = extra or []
        self.log = datadir.parent / f"{datadir.name}.log"

    def url(self, db: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> Cluster:
        options = " ".join(
            f"-c {s}"
            for s in [
                *SERVER_SETTINGS,
                f"port={self.port}",
                f"unix_socket_directories={self.socket_dir}",
                *self.extra,
            ]
        )
        if os.geteuid() == 0:
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        subprocess.run(
            _as_server_user(
                [str(pg_bin() / "pg_ctl"), "-D", str(self.datadir), "-o", options,
                 "-l", str(self.log), "-w", "-t", "120", "start"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def psql(self, sql: str, db: str = "postgres") -> None:
        subprocess.run(
            [str(pg_bin() / "psql"), "-qX", "-v", "ON_ERROR_STOP=1", self.url(db), "-c", sql],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        subprocess.run(
            _as_server_user(
                [str(pg_bin() / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        if self.throwaway:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        check=True,
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL if "-v0" in args else None,
    )


def cached_cluster(
    *, databases: dict[str, float], seed: int, notes_db: tuple[str, str, int], say
) -> Path:
    """The data directory of a stopped cluster with one database per `databases` entry
    (name → scale) plus `notes_db` = (name, template database, total notes)."""
    key = data_key(scales=tuple(sorted(databases.values())), seed=seed, notes_total=notes_db[2])
    ready = CACHE / f"cluster-{key}"
    if (ready / "PG_VERSION").exists():
        say(f"data: cached cluster {ready.relative_to(ROOT)}")
        return ready
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"building-{key}-", dir=CACHE))
    _hand_over(building)
    say(f"data: building {ready.relative_to(ROOT)} (only the first run; minutes at scale 10)")
    subprocess.run(
        _as_server_user(
            [str(pg_bin() / "initdb"), "-D", str(building), "-U", "postgres",
             "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    cluster = Cluster(building, throwaway=False, extra=["fsync=off", "synchronous_commit=off"])
    cluster.start()
    try:
        started = time.monotonic()
        cluster.psql("CREATE DATABASE bench_template")
        _manage(cluster.url("bench_template"), "migrate", "--noinput", "-v0")
        for name, scale in databases.items():
            cluster.psql(f"CREATE DATABASE {name} TEMPLATE bench_template")
            say(f"data: {name} = generate_data --scale {scale} --seed {seed}")
            _manage(cluster.url(name), "generate_data", "--scale", str(scale), "--seed", str(seed))
        name, template, total = notes_db
        cluster.psql(f"CREATE DATABASE {name} TEMPLATE {template}")
        say(f"data: {name} = {template} + notes up to {total:,}")
        _manage(
            cluster.url(name), "generate_data", "--notes-total", str(total), "--seed", str(seed)
        )
        for db in [*databases, name]:
            cluster.psql("VACUUM ANALYZE", db)
        say(f"data: built in {time.monotonic() - started:.0f} s")
    except BaseException:
        cluster.stop()
        shutil.rmtree(building, ignore_errors=True)
        raise
    cluster.stop()
    building.rename(ready)
    (CACHE / f"cluster-{key}.log").unlink(missing_ok=True)
    for old in CACHE.glob("building-*.log"):
        old.unlink(missing_ok=True)
    return ready


def throwaway_copy(source: Path) -> Path:
    """A copy of a cached data directory in a temporary directory beside it."""
    target = Path(tempfile.mkdtemp(prefix="run-", dir=CACHE)) / "data"
    subprocess.run(["cp", "-a", "--reflink=auto", str(source), str(target)], check=True)
    os.chmod(target.parent, 0o755)  # noqa: S103
    _hand_over(target.parent)
    return target
