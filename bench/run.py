"""Performance at department scale, as ratios (issue #6): `make bench` / `make bench-quick`.

    .venv/bin/python bench/run.py [--quick] [--rounds N] [--only a,b,…] [--keep-going]

Starts a private PostgreSQL cluster (a copy of a cached one, see bench/cluster.py) on a
free loopback port with JIT off, then runs cases a–g of the issue. Each timed case runs
its variant and its baseline in the same round, alternating which goes first, for several
rounds; the ratio of each round is variant / baseline (or the inverse for speed-ups), and
the table shows the median, min and max ratio against the target and the hard limit.
Results go to bench/results.json. Exit status 1 when a median breaks a hard limit.

Full run: scale 1 ("small") against scale 10 ("large"), 1,000,000 notes for search.
Quick run: scale 0.1 against scale 1, 250,000 notes, fewer rounds and reports. Absolute
times are printed only to help diagnose: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cluster as pg

ROOT = pg.ROOT
RESULTS = ROOT / "bench" / "results.json"
SEED = 1


@dataclass
class Profile:
    small: float
    large: float
    notes: int
    rounds: int
    reports: int
    bulk_rows: int

    @property
    def factor(self) -> float:
        return self.large / self.small


FULL = Profile(small=1, large=10, notes=1_000_000, rounds=5, reports=8, bulk_rows=10_000)
QUICK = Profile(small=0.1, large=1, notes=250_000, rounds=3, reports=2, bulk_rows=10_000)


@dataclass
class Result:
    case: str
    what: str
    ratios: list[float]
    target: float
    hard: float | None
    higher_is_better: bool = False
    unit: str = "×"
    detail: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")

    def _ok(self, limit: float | None) -> bool:
        if limit is None or not self.ratios:
            return True
        return self.median >= limit if self.higher_is_better else self.median <= limit

    @property
    def meets_target(self) -> bool:
        return bool(self.ratios) and self._ok(self.target)

    @property
    def within_hard(self) -> bool:
        return self._ok(self.hard)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Django in this process -----------------------------------------------------------


def setup_django(url: str, broker: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "true"
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # weasyprint's font notices, request 404s


def use(db: str) -> None:
    """Point the default connection at another database of the bench cluster."""
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = db


def timed(fn: Callable[[], Any], repeat: int = 1) -> float:
    """The best of `repeat` calls, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def interleave(
    rounds: int, variant: Callable[[], float], baseline: Callable[[], float]
) -> tuple[list[float], list[float], list[float]]:
    """Each round times both, alternating which goes first. Returns (ratios, v, b)."""
    ratios, vs, bs = [], [], []
    for r in range(rounds):
        if r % 2:
            b = baseline()
            v = variant()
        else:
            v = variant()
            b = baseline()
        vs.append(v)
        bs.append(b)
        ratios.append(v / b)
    return ratios, vs, bs


def _superuser_client():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    User = get_user_model()
    user = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", "bench@example.org", None
    )
    client = APIClient(HTTP_HOST="localhost")
    client.force_login(user)
    return client, user


def _get(client, url: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:200]!r}")
    return response


def _captured_sql(fn: Callable[[], Any]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def _raw(url: str):
    import psycopg2
    from django.db import connection

    s = connection.settings_dict
    return psycopg2.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"])


def _raw_json(conn, statements: list[str]) -> bytes:
    """Run the statements with a plain cursor and make JSON of every row (orjson)."""
    import orjson

    out = []
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
            if cur.description:
                names = [d[0] for d in cur.description]
                out.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
    return orjson.dumps(out, default=str)


# --- The cases -------------------------------------------------------------------------


def case_a(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    """API list of 100 nodes vs raw psycopg2 + orjson running the same SQL."""
    use(dbs["large"])
    client, _ = _superuser_client()
    url = "/api/v1/nodes/?page_size=100&page=3"
    _get(client, url)
    statements = [
        s
        for s in _captured_sql(lambda: _get(client, url))
        if not s.startswith(("SAVEPOINT", "RELEASE"))
    ]
    # the session and user look-ups of the request are part of both
    conn = _raw(dbs["large"])
    _raw_json(conn, statements)
    ratios, v, b = interleave(
        p.rounds * 2,
        lambda: timed(lambda: _get(client, url), 5),
        lambda: timed(lambda: _raw_json(conn, statements), 5),
    )
    conn.close()
    results = [
        Result("a", "API nodes list, 100 per page, in-process vs raw SQL + orjson", ratios, 2.5, 5,
               detail={"variant_s": statistics.median(v), "baseline_s": statistics.median(b),
                       "queries": len(statements)})
    ]  # fmt: skip
    results.append(_case_a_http(p, dbs, cluster, statements))
    return results


def _case_a_http(p: Profile, dbs: dict[str, str], cluster, statements: list[str]) -> Result:
    what = "API nodes list over HTTP (gunicorn + wrk) vs raw WSGI app"
    wrk = shutil.which("wrk")
    if not wrk:
        say("case a over HTTP: skipped — wrk is not installed (apt-get install -y wrk)")
        return Result("a-http", what, [], 3, 5, skipped="wrk not installed")
    from strategy.services import api_token_create

    _, user = _superuser_client()
    _, key = api_token_create(user=user, name=f"bench {time.time()}")
    sql_file = Path(tempfile.mkstemp(prefix="bench-sql-", suffix=".json")[1])
    sql_file.write_text(json.dumps(statements))
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url(dbs["large"]),
        "DEBUG": "true",
        "BENCH_SQL_FILE": str(sql_file),
    }
    servers = {}
    ports = {"variant": pg.free_port(), "baseline": pg.free_port()}
    apps = {"variant": "config.wsgi:application", "baseline": "bench.raw_wsgi:application"}
    try:
        for name, app in apps.items():
            servers[name] = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), app, "-w", "2",
                 "-b", f"127.0.0.1:{ports[name]}", "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        time.sleep(4)
        path = "/api/v1/nodes/?page_size=100&page=3"

        def rps(name: str) -> float:
            out = subprocess.run(
                [wrk, "-t1", "-c2", "-d4s", "-H", f"Authorization: Token {key}",
                 "-H", "Host: localhost", f"http://127.0.0.1:{ports[name]}{path}"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
            non_2xx = [line for line in out.splitlines() if "Non-2xx" in line]
            if non_2xx:
                raise RuntimeError(f"wrk {name}: {non_2xx[0]}")
            return float(line.split()[1])

        rps("variant")
        rps("baseline")
        ratios, v, b = interleave(
            max(2, p.rounds - 1), lambda: 1 / rps("variant"), lambda: 1 / rps("baseline")
        )
        return Result("a-http", what, ratios, 3, 5,
                      detail={"variant_rps": 1 / statistics.median(v),
                              "baseline_rps": 1 / statistics.median(b)})  # fmt: skip
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait(timeout=20)
        sql_file.unlink(missing_ok=True)


def case_b(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    """Query counts of every page, endpoint, report build and bulk upload: small vs large."""
    from bench.query_counts import measure

    counts = {}
    for size in ("small", "large"):
        use(dbs[size])
        counts[size] = measure(seed=SEED)
    differ = {
        k: (counts["small"][k], counts["large"].get(k))
        for k in counts["small"]
        if counts["small"][k] != counts["large"].get(k)
    }
    worst = max((b / a for a, b in differ.values() if a and b), default=1.0)
    if differ:
        say(f"case b: query counts differ: {differ}")
    return [
        Result("b", f"query counts, {len(counts['small'])} pages/endpoints, large vs small",
               [worst if differ else 1.0], 1.0, 1.0,
               detail={"counts_small": counts["small"], "differ": differ})
    ]  # fmt: skip


def case_c(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    from django.urls import reverse

    from strategy.models import Strategy
    from tracking.models import IndicatorPeriod, ProgressNote

    clients, urls = {}, {}
    for size in ("small", "large"):
        use(dbs[size])
        strategy = Strategy.objects.get(mission__slug=f"gen-{SEED}-0")
        urls[size] = reverse("strategy-detail", args=[strategy.id])
    results = []

    def page(size: str) -> float:
        use(dbs[size])
        client, _ = _superuser_client()
        clients[size] = client
        _get(client, urls[size])
        return timed(lambda: _get(client, urls[size]), 5)

    ratios, v, b = interleave(p.rounds, lambda: page("large"), lambda: page("small"))
    results.append(
        Result("c", "one strategy page, large vs small database", ratios, 1.15, 1.5,
               detail={"large_s": statistics.median(v), "small_s": statistics.median(b)})
    )  # fmt: skip

    use(dbs["large"])
    client, _ = _superuser_client()
    from rest_framework.pagination import Cursor, CursorPagination

    def cursor_url(base: str, position: int) -> str:
        paginator = CursorPagination()
        paginator.base_url = base
        paginator.ordering = "-id" if "notes" in base else "id"
        return paginator.encode_cursor(Cursor(offset=0, reverse=False, position=str(position)))

    nodes_count = _get(client, "/api/v1/nodes/?page_size=100").json()["count"]
    last_page = max(1, (nodes_count + 99) // 100)
    mid_note = ProgressNote.objects.order_by("id").values_list("id", flat=True)[
        ProgressNote.objects.count() // 10
    ]
    mid_period = IndicatorPeriod.objects.order_by("-id").values_list("id", flat=True)[
        IndicatorPeriod.objects.count() // 10
    ]
    lists = {
        "nodes (page numbers)": (
            "/api/v1/nodes/?page_size=100",
            f"/api/v1/nodes/?page_size=100&page={last_page}",
        ),
        "notes (cursor)": (
            "/api/v1/notes/?page_size=100",
            cursor_url("http://localhost/api/v1/notes/?page_size=100", mid_note),
        ),
        "indicator periods (cursor)": (
            "/api/v1/indicator-periods/?page_size=100",
            cursor_url("http://localhost/api/v1/indicator-periods/?page_size=100", mid_period),
        ),
    }
    for name, (first, deep) in lists.items():
        _get(client, first)
        _get(client, deep)
        ratios, v, b = interleave(
            p.rounds,
            lambda deep=deep: timed(lambda: _get(client, deep), 3),
            lambda first=first: timed(lambda: _get(client, first), 3),
        )
        results.append(
            Result("c-deep", f"deep page vs first page: {name}", ratios, 1.3, 3,
                   detail={"deep_url": deep, "deep_s": statistics.median(v),
                           "first_s": statistics.median(b)})
        )  # fmt: skip
    return results


def _bulk_rows(n: int) -> list[dict[str, Any]]:
    """n rows for the generated indicators: half update the newest period's target, half
    add the month after it."""
    from tracking.models import IndicatorPeriod

    half = n // 2
    newest = list(
        IndicatorPeriod.objects.order_by("indicator_id", "-period_start")
        .distinct("indicator_id")
        .values_list("indicator_id", "period_start")[:half]
    )
    rows = []
    for indicator, start in newest:
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        rows.append({"indicator": indicator, "period_start": str(start), "target": "321.5"})
        rows.append({"indicator": indicator, "period_start": str(following), "target": "330"})
    return rows


def case_d(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    """Bulk upload through the API vs COPY into a temp table + INSERT … ON CONFLICT."""
    import io

    from django.db import connection, transaction

    use(dbs["large"])
    client, _ = _superuser_client()
    rows = _bulk_rows(p.bulk_rows)
    body = json.dumps(rows)

    def api() -> float:
        with transaction.atomic():
            started = time.perf_counter()
            response = client.post(
                "/api/v1/indicator-periods/bulk/", body, content_type="application/json"
            )
            took = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"bulk: {response.status_code} {response.content[:300]!r}")
            result = response.json()
            if result.get("created") != len(rows) // 2 or result.get("updated") != len(rows) // 2:
                raise RuntimeError(f"bulk: unexpected result {result}")
            transaction.set_rollback(True)
        return took

    def copy() -> float:
        with transaction.atomic():
            started = time.perf_counter()
            buf = io.StringIO(
                "".join(f"{r['indicator']}\t{r['period_start']}\t{r['target']}\n" for r in rows)
            )
            with connection.cursor() as c:
                c.execute(
                    "CREATE TEMP TABLE bench_upload (indicator_id int, period_start date, "
                    "target numeric) ON COMMIT DROP"
                )
                c.cursor.copy_from(
                    buf, "bench_upload", columns=("indicator_id", "period_start", "target")
                )
                c.execute(
                    "INSERT INTO tracking_indicatorperiod (indicator_id, period_start, "
                    "period_end, target, comment, version, created_at, updated_at) "
                    "SELECT indicator_id, period_start, "
                    "(period_start + interval '1 month' - interval '1 day')::date, target, '', "
                    "1, now(), now() FROM bench_upload "
                    "ON CONFLICT (indicator_id, period_start) DO UPDATE SET "
                    "target = EXCLUDED.target, version = tracking_indicatorperiod.version + 1, "
                    "updated_at = now()"
                )
            took = time.perf_counter() - started
            transaction.set_rollback(True)
        return took

    api()
    copy()
    ratios, v, b = interleave(p.rounds, api, copy)
    return [
        Result("d", f"bulk upload of {len(rows):,} values (half new), API vs COPY + upsert",
               ratios, 6, 15,
               detail={"api_s": statistics.median(v), "copy_s": statistics.median(b)})
    ]  # fmt: skip


def case_e(p: Profile, dbs: dict[str, str], cluster, broker: str) -> list[Result]:
    """Reports: serial vs a Celery worker with two processes; full report vs WeasyPrint."""
    from django.utils import timezone

    from strategy.models import Strategy
    from strategy.pdf import html_to_pdf
    from tracking.models import Cadence, Report, ReportState
    from tracking.reports import render
    from tracking.reports.periods import period_for
    from tracking.reports.selectors import report_content
    from tracking.reports.services import report_build
    from tracking.tasks import build_report

    use(dbs["small"])
    strategies = list(
        Strategy.objects.filter(mission__slug__startswith=f"gen-{SEED}-").order_by("id")[
            : p.reports
        ]
    )
    period = period_for(Cadence.ON_DEMAND, timezone.localdate())

    def fresh(subset=None) -> list[int]:
        Report.objects.filter(strategy__in=strategies).delete()
        return [
            Report.objects.create(
                strategy=s, cadence=Cadence.ON_DEMAND, period_start=period.start,
                period_end=period.end, label="bench",
            ).id
            for s in (subset or strategies)
        ]  # fmt: skip

    def serial(subset=None) -> float:
        ids = fresh(subset)
        started = time.perf_counter()
        for report_id in ids:
            report_build(report_id=report_id)
        return time.perf_counter() - started

    env = {**os.environ, "DATABASE_URL": cluster.url(dbs["small"]), "CELERY_BROKER_URL": broker}
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-c", "2",
         "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def parallel(subset=None) -> float:
        ids = fresh(subset)
        started = time.perf_counter()
        for report_id in ids:
            build_report.delay(report_id)
        while Report.objects.filter(id__in=ids, state=ReportState.READY).count() < len(ids):
            if time.perf_counter() - started > 900:
                raise RuntimeError("the Celery worker did not build the reports in 15 minutes")
            time.sleep(0.05)
        return time.perf_counter() - started

    try:
        time.sleep(3)
        # Warm-up, not timed: each worker process and this one load WeasyPrint's fonts on
        # their first PDF (seconds), which would otherwise count against one side.
        parallel(strategies[:2])
        serial(strategies[:1])
        ratios, v, b = interleave(1, parallel, serial)  # a PDF takes seconds: one round
        speedups = [1 / r for r in ratios]
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        Report.objects.filter(strategy__in=strategies).delete()
    results = [
        Result("e", f"{len(strategies)} reports: serial vs Celery worker with 2 processes "
               "(speed-up)", speedups, 1.75, 1.4, higher_is_better=True,
               detail={"parallel_s": statistics.median(v), "serial_s": statistics.median(b)})
    ]  # fmt: skip

    strategy = Strategy.objects.select_related("mission").get(id=strategies[0].id)

    def full() -> float:
        started = time.perf_counter()
        content = report_content(strategy=strategy, period=period, generated_at=timezone.now())
        render.report_pdf(content=content)
        return time.perf_counter() - started

    content = report_content(strategy=strategy, period=period, generated_at=timezone.now())
    hydrated = render.hydrate(content)
    from django.template.loader import render_to_string

    html = render_to_string(
        "tracking/reports/pdf.html",
        {"content": hydrated, "charts": render.report_charts(content=hydrated)},
    )
    ratios, v, b = interleave(
        2, full, lambda: timed(lambda: html_to_pdf(html, fetch=render.fetch_resource))
    )
    results.append(
        Result("e-pdf", "a full report (snapshot + PDF) vs WeasyPrint alone on its HTML",
               ratios, 1.15, 1.5,
               detail={"full_s": statistics.median(v), "weasyprint_s": statistics.median(b)})
    )  # fmt: skip
    return results


def case_f(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    """Note search over many notes."""
    from django.db import connection

    from tracking import datagen

    use(dbs["notes"])
    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM tracking_progressnote")
        total = c.fetchone()[0]
    rare = next(w for w in datagen.rare_words(SEED) if _count_ilike(w) >= 1)
    vector = "to_tsvector('english'::regconfig, COALESCE(title, '') || ' ' || COALESCE(body, ''))"

    def fts() -> float:
        with connection.cursor() as c:
            started = time.perf_counter()
            c.execute(
                f"SELECT id FROM tracking_progressnote WHERE {vector} @@ "
                "plainto_tsquery('english'::regconfig, %s)",
                [rare],
            )
            c.fetchall()
            return time.perf_counter() - started

    def ilike() -> float:
        with connection.cursor() as c:
            started = time.perf_counter()
            c.execute(
                "SELECT id FROM tracking_progressnote WHERE title ILIKE %s OR body ILIKE %s",
                [f"%{rare}%", f"%{rare}%"],
            )
            c.fetchall()
            return time.perf_counter() - started

    fts()
    ratios, v, b = interleave(p.rounds, ilike, lambda: timed(fts, 3))
    results = [
        Result("f-fts", f"rare term over {total:,} notes: ILIKE vs full-text (speed-up)",
               ratios, 50, 10, higher_is_better=True,
               detail={"term": rare, "ilike_s": statistics.median(v), "fts_s": statistics.median(b)})
    ]  # fmt: skip

    client, _ = _superuser_client()
    for label, term in (("rare", rare), ("common", datagen.COMMON_TERM)):
        url = f"/api/v1/search/?q={term}&limit=50"
        _get(client, url)
        statements = [s for s in _captured_sql(lambda url=url: _get(client, url))]
        conn = _raw(dbs["notes"])
        ratios, v, b = interleave(
            p.rounds,
            lambda url=url: timed(lambda: _get(client, url), 3),
            lambda conn=conn, st=statements: timed(lambda: _raw_json(conn, st), 3),
        )
        conn.close()
        results.append(
            Result(f"f-api-{label}", f"search API vs raw SQL, {label} term “{term}”", ratios, 3, 6,
                   detail={"api_s": statistics.median(v), "raw_s": statistics.median(b)})
        )  # fmt: skip
        if label == "common":
            results.append(
                Result("f-common", f"search API, common term “{term}”, seconds", v, 0.25, 1.0,
                       unit=" s")
            )  # fmt: skip
    return results


def _count_ilike(word: str) -> int:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM tracking_progressnote WHERE body ILIKE %s", [f"%{word}%"])
        return c.fetchone()[0]


def case_g(p: Profile, dbs: dict[str, str], cluster) -> list[Result]:
    """All missions' report data: large vs factor × small (no super-linear work)."""
    from django.utils import timezone

    from strategy.models import Strategy
    from tracking.models import Cadence
    from tracking.reports.periods import period_for
    from tracking.reports.selectors import report_content

    period = period_for(Cadence.MONTHLY, timezone.localdate())

    def build_all(size: str) -> float:
        use(dbs[size])
        strategies = list(Strategy.objects.select_related("mission").order_by("id"))
        started = time.perf_counter()
        for s in strategies:
            report_content(strategy=s, period=period, generated_at=timezone.now())
        return time.perf_counter() - started

    rounds = 1  # every strategy of both databases: minutes at scale 10
    ratios, v, b = interleave(
        rounds, lambda: build_all("large"), lambda: p.factor * build_all("small")
    )
    return [
        Result("g", f"all missions' report data, large vs {p.factor:g} × small", ratios, 1.1, 1.5,
               detail={"large_s": statistics.median(v), "small_x_factor_s": statistics.median(b)})
    ]  # fmt: skip


# --- Orchestration -------------------------------------------------------------------------


def _redis(port: int, workdir: Path) -> subprocess.Popen:
    server = shutil.which("redis-server")
    if not server:
        sys.exit("case e needs redis-server (apt-get install -y redis-server)")
    return subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _table(results: list[Result]) -> str:
    lines = [
        f"{'case':8} {'median':>8} {'min':>8} {'max':>8} {'target':>8} {'hard':>8}  result  what",
    ]
    for r in results:
        if r.skipped:
            lines.append(f"{r.case:8} {'—':>8} {'—':>8} {'—':>8} {'':>8} {'':>8}  skip    "
                         f"{r.what} ({r.skipped})")  # fmt: skip
            continue
        cmp = "≥" if r.higher_is_better else "≤"
        verdict = "pass" if r.meets_target else ("MISS" if r.within_hard else "FAIL")
        hard = f"{cmp}{r.hard:g}" if r.hard is not None else "—"
        lines.append(
            f"{r.case:8} {r.median:8.3f} {min(r.ratios):8.3f} {max(r.ratios):8.3f} "
            f"{cmp + format(r.target, 'g'):>8} {hard:>8}  {verdict:6}  {r.what}"
        )
    return "\n".join(lines)


def _machine() -> dict[str, Any]:
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    version = subprocess.run(
        [str(pg.pg_bin() / "postgres"), "--version"], capture_output=True, text=True
    ).stdout.strip()
    return {"nproc": os.cpu_count(), "memory": mem, "postgres": version,
            "python": platform.python_version(), "load": os.getloadavg()}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller scales, fewer rounds")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--only", default="", help="comma-separated cases, e.g. a,c,d")
    args = parser.parse_args()
    p = QUICK if args.quick else FULL
    if args.rounds:
        p.rounds = args.rounds
    only = set(filter(None, args.only.split(",")))
    started = time.monotonic()
    say(f"bench {'quick' if args.quick else 'full'}: scale {p.small:g} vs {p.large:g}, "
        f"{p.notes:,} notes, {p.rounds} rounds")  # fmt: skip

    dbs = {"small": "bench_small", "large": "bench_large", "notes": "bench_notes"}
    cached = pg.cached_cluster(
        databases={dbs["small"]: p.small, dbs["large"]: p.large},
        seed=SEED,
        notes_db=(dbs["notes"], dbs["small"] if p.small == 1 else dbs["large"], p.notes),
        say=say,
    )
    say("cluster: copying the cached data into a throw-away directory")
    cluster = pg.Cluster(pg.throwaway_copy(cached), throwaway=True).start()
    redis_port = pg.free_port()
    redis_dir = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    redis = None
    results: list[Result] = []
    try:
        say(f"cluster: PostgreSQL on 127.0.0.1:{cluster.port} (jit off)")
        broker = f"redis://127.0.0.1:{redis_port}/0"
        setup_django(cluster.url(dbs["small"]), broker)
        cases: list[tuple[str, Callable[[], list[Result]]]] = [
            ("b", lambda: case_b(p, dbs, cluster)),
            ("a", lambda: case_a(p, dbs, cluster)),
            ("c", lambda: case_c(p, dbs, cluster)),
            ("d", lambda: case_d(p, dbs, cluster)),
            ("f", lambda: case_f(p, dbs, cluster)),
            ("g", lambda: case_g(p, dbs, cluster)),
            ("e", lambda: case_e(p, dbs, cluster, broker)),
        ]
        for name, run in cases:
            if only and name not in only:
                continue
            if name == "e":
                redis = _redis(redis_port, redis_dir)
                time.sleep(0.5)
            say(f"case {name} …")
            case_started = time.monotonic()
            try:
                results.extend(run())
            except Exception as exc:  # a broken case is reported, the others still run
                say(f"case {name} broke: {exc!r}")
                results.append(Result(name, "case raised an error", [float("inf")], 1, 1,
                                      skipped=f"error: {exc}"[:300]))  # fmt: skip
            say(f"case {name}: {time.monotonic() - case_started:.0f} s")
    finally:
        from django.db import connections

        connections.close_all()
        if redis:
            redis.terminate()
            redis.wait(timeout=20)
        shutil.rmtree(redis_dir, ignore_errors=True)
        cluster.stop()

    table = _table(results)
    print()
    print(table)
    broken = [r for r in results if (not r.within_hard) or r.skipped.startswith("error")]
    RESULTS.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "profile": "quick" if args.quick else "full",
                "settings": asdict(p),
                "machine": _machine(),
                "seconds": round(time.monotonic() - started),
                "results": [
                    {
                        **asdict(r),
                        "median": r.median,
                        "meets_target": r.meets_target,
                        "within_hard_limit": r.within_hard,
                    }
                    for r in results
                ],
                "table": table,
            },
            indent=1,
            default=str,
        )
    )
    say(f"wrote {RESULTS.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")
    if broken:
        say("hard limit broken: " + ", ".join(r.case for r in broken))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
