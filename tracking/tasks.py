"""Celery tasks. They take ids, call a service, and are safe to run twice.

The schedule that runs them lives in settings.CELERY_BEAT_SCHEDULE and nowhere else.
Tasks that build or send use `acks_late` with `reject_on_worker_lost`: a message is
acknowledged only after the work is done, and a worker killed mid-task puts it back.
The services' conditional claims make the second run a no-op when the first finished.
"""

import logging

from celery import shared_task
from django.db.models import Count

from strategy.models import Strategy
from tracking.reports import services as reports

logger = logging.getLogger(__name__)

SAFE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="tracking.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Proves the worker and beat are alive: one log line per run, nothing written."""
    counts = Strategy.objects.aggregate(strategies=Count("id", distinct=True), nodes=Count("nodes"))
    message = f"heartbeat: worker and beat alive ({counts['strategies']} strategies, {counts['nodes']} nodes)"
    logger.info(message)
    return message


@shared_task(name="tracking.tasks.dispatch_reports", ignore_result=True)
def dispatch_reports() -> str:
    """Every few minutes: ask for due reports, create deliveries, catch up lost work."""
    result = reports.dispatch()
    message = (
        f"dispatch: {len(result.reports)} report build(s) enqueued, "
        f"{result.deliveries} new deliveries, {result.resent} send(s) re-enqueued"
    )
    logger.info(message)
    return message


@shared_task(name="tracking.tasks.build_report", **SAFE)
def build_report(report_id: int) -> None:
    reports.report_build(report_id=report_id)


@shared_task(bind=True, name="tracking.tasks.send_delivery", max_retries=None, **SAFE)
def send_delivery(self, delivery_id: int) -> str:
    outcome = reports.delivery_send(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(name="tracking.tasks.create_reminders", ignore_result=True)
def create_reminders() -> str:
    """Daily: this week's digest for everyone with something due who has none yet."""
    created = reports.reminders_create()
    message = f"reminders: {len(created)} digest(s) created"
    logger.info(message)
    return message


@shared_task(bind=True, name="tracking.tasks.send_reminder", max_retries=None, **SAFE)
def send_reminder(self, reminder_id: int) -> str:
    outcome = reports.reminder_send(reminder_id=reminder_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state
