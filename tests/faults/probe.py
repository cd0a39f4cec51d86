"""What a fault test does inside the app's database, in a process of its own (the test
process never opens the private database itself):

    python -m tests.faults.probe seed [--readers N]   # mission, people, tokens, subscriptions
    python -m tests.faults.probe state                # notes, reports and deliveries by state
    python -m tests.faults.probe dispatch             # one run of the dispatcher (a beat tick)

Settings come from the environment the test gives (DATABASE_URL, CELERY_BROKER_URL, …).
The answer is one line of JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from datetime import timedelta

PASSWORD = "fault-tests-password-4711"


def seed(readers: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from strategy.models import NodeKind, Role
    from strategy.services import (
        api_token_create,
        membership_set,
        mission_create,
        node_create,
        strategy_create,
    )
    from tracking.models import Cadence, Subscription
    from tracking.reports import services as reports

    users = get_user_model().objects

    def person(name: str):
        user = users.create_user(name, f"{name}@example.org", PASSWORD)
        return user

    mission = mission_create(name="Mission Faultland", slug="faultland", by=None)
    strategy = strategy_create(mission=mission, title="Faultland strategy", by=None)
    node = node_create(
        strategy=strategy, kind=NodeKind.MISSION_GOAL, code="1", title="Trade grows", by=None
    )
    analyst, manager = person("analyst"), person("manager")
    membership_set(mission=mission, user=analyst, role=Role.ANALYST, by=None)
    membership_set(mission=mission, user=manager, role=Role.MANAGER, by=None)
    _, analyst_key = api_token_create(user=analyst, name="fault tests")
    _, manager_key = api_token_create(user=manager, name="fault tests")
    own = reports.subscription_create(strategy=strategy, cadence=Cadence.WEEKLY, by=manager)
    weekly = []
    for n in range(readers):
        reader = users.create_user(f"reader{n:02d}", f"reader{n:02d}@example.org")
        membership_set(mission=mission, user=reader, role=Role.VIEWER, by=None)
        weekly.append(
            reports.subscription_create(strategy=strategy, cadence=Cadence.WEEKLY, by=reader).pk
        )
    # Subscribed weeks ago: last week's report is due for them now.
    Subscription.objects.filter(pk__in=weekly).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    return {
        "strategy": strategy.pk,
        "node": node.pk,
        "analyst_token": analyst_key,
        "manager_token": manager_key,
        "manager_subscription": own.pk,
        "readers": readers,
        "password": PASSWORD,
    }


def state() -> dict:
    from tracking.models import Delivery, ProgressNote, Report

    deliveries = list(Delivery.objects.values("email", "state", "attempts", "last_error"))
    return {
        "notes": ProgressNote.objects.count(),
        "reports": dict(Counter(Report.objects.values_list("state", flat=True))),
        "deliveries": dict(Counter(d["state"] for d in deliveries)),
        "attempts": sorted(d["attempts"] for d in deliveries),
        "errors": sorted({d["last_error"] for d in deliveries if d["last_error"]}),
        "addresses": sorted(d["email"] for d in deliveries),
    }


def dispatch() -> dict:
    from tracking.reports import services as reports

    result = reports.dispatch()
    return {"reports": result.reports, "deliveries": result.deliveries, "resent": result.resent}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="probe")
    parser.add_argument("command", choices=["seed", "state", "dispatch"])
    parser.add_argument("--readers", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if args.command == "seed":
        answer = seed(args.readers)
    elif args.command == "state":
        answer = state()
    else:
        answer = dispatch()
    sys.stdout.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
