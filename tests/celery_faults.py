"""The project's Celery app with faults a test can switch on: `celery -A tests.celery_faults
worker …`. Production code knows nothing of it; without a FAULT_* variable the worker is
exactly `config.celery.app`.

FAULT_SLOW_PDF_SECONDS=n — every PDF render logs "FAULT: rendering PDF" and sleeps n
seconds first, so a test that waits for that line knows a report build is under way and
can kill the worker in the middle of it. The wrapper replaces the attribute on
`tracking.reports.render`, which `services.report_build` reads at call time.
"""

import functools
import logging
import os
import time

from celery.signals import worker_process_init

from config.celery import app

__all__ = ["SLOW_PDF_MARKER", "app"]

SLOW_PDF_MARKER = "FAULT: rendering PDF"

logger = logging.getLogger(__name__)


def _slow_down_pdf(seconds: float) -> None:
    from tracking.reports import render

    original = render.report_pdf
    if getattr(original, "is_fault", False):
        return

    @functools.wraps(original)
    def slow_report_pdf(*args, **kwargs):
        logger.warning("%s (sleeping %.1f s first)", SLOW_PDF_MARKER, seconds)
        time.sleep(seconds)
        return original(*args, **kwargs)

    slow_report_pdf.is_fault = True
    render.report_pdf = slow_report_pdf


@worker_process_init.connect(weak=False)
def _install_faults(**kwargs) -> None:
    """In each pool process (prefork), after Django is set up: patch what is asked for."""
    slow_pdf = os.environ.get("FAULT_SLOW_PDF_SECONDS")
    if slow_pdf:
        _slow_down_pdf(float(slow_pdf))
