"""The demo mission (`manage.py load_demo`) as the browser tests and `make screenshots`
see it: the ids of the objects they open, looked up once after loading, so no test
queries the database while Playwright runs (Django refuses ORM calls in a thread where an
event loop runs, and Playwright's sync API runs one)."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.core.management import call_command
from django.urls import reverse

from strategy.models import NodeKind, Strategy
from tracking.models import Indicator, ProgressNote, Subscription
from tracking.reports import services

STRATEGY_TITLE = "Integrated Country Strategy — China"

# Facts of the demo the tests rely on (tracking/management/commands/load_demo.py):
STALE_NODE = "2.3"  # no note ever: stale, assessment "No data"; one indicator (decrease)
STALE_INDICATOR = "PLA aircraft entering Taiwan's air defense identification zone"
NODE_WITH_CHARTS = "1.1"  # two indicators, approved notes
NODE_WITH_MILESTONES = "M1"  # Management Objective 1: an overdue milestone
APPROVED_NOTE = "Export recovery and barrier cases closed"  # with a source link
SUBMITTED_NOTE = "China joins creditor committee talks"  # waits for a manager
RETURNED_NOTE = "Sanctions leads: follow-up meeting"  # back with demo-analyst


@dataclass(frozen=True)
class Demo:
    base_url: str
    mission: int
    strategy: int
    nodes: dict[str, int]  # by reference: "2.3", or "M1" for Management Objective 1
    indicators: dict[str, int]  # by name
    notes: dict[str, int]  # by title
    report: int  # today's on-demand report, built (snapshot and PDF)
    unsubscribe_token: str  # the signed link of the viewer's monthly subscription

    def url(self, name: str, *args: object) -> str:
        return self.base_url + reverse(name, args=args)


def load_demo(base_url: str) -> Demo:
    """Load the demo into the current database and look up what the tests open."""
    call_command("load_demo", "--quiet", stdout=io.StringIO())
    strategy = Strategy.objects.get(mission__slug="china")
    nodes = {
        f"M{node.code}" if node.kind == NodeKind.MANAGEMENT_OBJECTIVE else node.code: node.pk
        for node in strategy.nodes.all()
    }
    indicators = dict(Indicator.objects.filter(node__strategy=strategy).values_list("name", "pk"))
    notes = dict(ProgressNote.objects.filter(strategy=strategy).values_list("title", "pk"))
    report = services.report_request(strategy=strategy, by=None)
    services.report_build(report_id=report.pk)
    subscription = Subscription.objects.get(strategy=strategy, user__username="demo-viewer")
    return Demo(
        base_url=base_url.rstrip("/"),
        mission=strategy.mission_id,
        strategy=strategy.pk,
        nodes=nodes,
        indicators=indicators,
        notes=notes,
        report=report.pk,
        unsubscribe_token=services.unsubscribe_token(subscription),
    )
