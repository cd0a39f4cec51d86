"""How many queries each page, API endpoint, report build and bulk upload runs on the
data `manage.py generate_data` made (the first generated mission of a seed).

Used by tests/test_query_invariance.py (two sizes in one test database) and by case b of
bench/run.py (scale 1 against scale 10, each in its own database):

    DATABASE_URL=… .venv/bin/python bench/query_counts.py [--seed 1]   # prints JSON

Everything runs inside one transaction that is rolled back: the superuser it signs in,
the sessions, the bulk upload's rows — nothing stays.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # standalone: set Django up before importing models
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from strategy.models import Membership, Mission, Role
from tracking.models import Indicator, IndicatorPeriod, ProgressNote
from tracking.reports.periods import period_for
from tracking.reports.selectors import report_content

PAGE = "page_size=100"
BULK_ROWS = 20  # half new periods, half updates of existing ones


class _Rollback(Exception):
    pass


def _targets(seed: int) -> dict[str, Any]:
    mission = Mission.objects.get(slug=f"gen-{seed}-0")
    strategy = mission.strategies.select_related("mission").get()
    node = strategy.nodes.filter(kind="sub_objective").order_by("sort_key").first()
    return {
        "mission": mission,
        "strategy": strategy,
        "node": node,
        "note": ProgressNote.objects.filter(links__node=node).order_by("-id").first(),
        "indicator": Indicator.objects.filter(node=node).order_by("id").first(),
        "manager": Membership.objects.get(mission=mission, role=Role.MANAGER).user,
    }


def _bulk_rows(strategy) -> list[dict[str, Any]]:
    periods = list(
        IndicatorPeriod.objects.filter(indicator__node__strategy=strategy)
        .order_by("indicator_id", "-period_start")
        .values("indicator_id", "period_start")[: BULK_ROWS // 2 * 36 : 36]
    )
    rows = []
    for p in periods:  # the newest period of ten indicators: update it, add the next one
        rows.append({"indicator": p["indicator_id"], "period_start": str(p["period_start"]),
                     "target": "123.5"})  # fmt: skip
        start = p["period_start"]
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        rows.append({"indicator": p["indicator_id"], "period_start": str(following),
                     "target": "130"})  # fmt: skip
    return rows


def _requests(t: dict[str, Any]) -> dict[str, str]:
    """name -> URL of a GET."""
    s, node, note, ind = t["strategy"], t["node"], t["note"], t["indicator"]
    api = "/api/v1"
    return {
        "api missions": f"{api}/missions/?{PAGE}",
        "api strategies": f"{api}/strategies/?{PAGE}",
        "api nodes": f"{api}/nodes/?{PAGE}",
        "api nodes page 2": f"{api}/nodes/?page_size=50&page=2",
        "api milestones": f"{api}/milestones/?{PAGE}",
        "api indicators": f"{api}/indicators/?{PAGE}",
        "api indicator-periods": f"{api}/indicator-periods/?{PAGE}",
        "api notes": f"{api}/notes/?{PAGE}",
        "api reports": f"{api}/reports/?{PAGE}",
        "api search": f"{api}/search/?q=trade&limit=50",
        "api tree": f"{api}/strategies/{s.id}/tree/",
        "api export json": f"{api}/strategies/{s.id}/export/?format=json",
        "api node": f"{api}/nodes/{node.id}/",
        "api note": f"{api}/notes/{note.id}/",
        "api indicator": f"{api}/indicators/{ind.id}/",
        "page home": reverse("home"),
        "page strategy": reverse("strategy-detail", args=[s.id]),
        "page node": reverse("node-detail", args=[node.id]),
        "page note": reverse("note-detail", args=[note.id]),
        "page review queue": reverse("review-queue"),
        "page my notes": reverse("my-notes"),
        "page reports": reverse("report-list", args=[s.id]),
    }


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def measure(*, seed: int = 1, timings: dict[str, float] | None = None) -> dict[str, int]:
    """{what: number of queries}, for a superuser and for the mission's manager; the
    seconds of each first request go into `timings` (a diagnosis aid)."""
    counts: dict[str, int] = {}
    timings = {} if timings is None else timings
    try:
        with transaction.atomic():
            t = _targets(seed)
            admin = get_user_model().objects.create_superuser(
                "query-count-admin", "qc@example.org", None
            )
            for who, user in (("superuser", admin), ("manager", t["manager"])):
                client = APIClient(HTTP_HOST="localhost")
                client.force_login(user)
                for name, url in _requests(t).items():
                    if who == "manager" and name not in ("page home", "api nodes", "api search"):
                        continue

                    def get(url=url, client=client):
                        response = client.get(url)
                        if response.status_code != 200:
                            raise AssertionError(f"{url}: {response.status_code}")

                    started = time.perf_counter()
                    get()  # warm-up: caches, session
                    timings[f"{name} ({who})"] = time.perf_counter() - started
                    counts[f"{name} ({who})"] = _count(get)
            strategy = t["strategy"]
            today = timezone.localdate()
            counts["report build (report_content)"] = _count(
                lambda: report_content(
                    strategy=strategy,
                    period=period_for("monthly", today),
                    generated_at=timezone.now(),
                )
            )
            client = APIClient(HTTP_HOST="localhost")
            client.force_login(admin)
            rows = _bulk_rows(strategy)

            def bulk():
                with transaction.atomic():
                    response = client.post("/api/v1/indicator-periods/bulk/", rows, format="json")
                    if response.status_code != 200:
                        raise AssertionError(f"bulk: {response.status_code} {response.content}")
                    transaction.set_rollback(True)

            bulk()
            counts["api bulk upload (20 rows)"] = _count(bulk) - 2  # minus the savepoint pair
            raise _Rollback
    except _Rollback:
        pass
    return counts


if __name__ == "__main__":
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    seconds: dict[str, float] = {}
    result = measure(seed=seed, timings=seconds)
    if "--timings" in sys.argv:
        for name, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
            print(f"{value:8.3f} s  {name}", file=sys.stderr)
    print(json.dumps(result, indent=1, sort_keys=True))
