"""Celery tasks. They take ids, call a service or selector, and are safe to run twice."""

import logging

from celery import shared_task
from django.db.models import Count

from strategy.models import Strategy

logger = logging.getLogger(__name__)


@shared_task(name="tracking.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Proves the worker and beat are alive: one log line per run, nothing written."""
    counts = Strategy.objects.aggregate(strategies=Count("id", distinct=True), nodes=Count("nodes"))
    message = f"heartbeat: worker and beat alive ({counts['strategies']} strategies, {counts['nodes']} nodes)"
    logger.info(message)
    return message
