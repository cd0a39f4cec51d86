"""Run the report dispatcher once, now — what beat does every REPORTS_DISPATCH_SECONDS:
ask for due reports, create their deliveries, re-enqueue lost work. The builds and sends
it enqueues run on the worker."""

from django.core.management.base import BaseCommand

from tracking.reports import services


class Command(BaseCommand):
    help = "Run the scheduled-report dispatcher once (the worker does the building and sending)."

    def handle(self, *args, **options):
        result = services.dispatch()
        self.stdout.write(
            f"{len(result.reports)} report build(s) enqueued, {result.deliveries} new "
            f"deliveries, {result.resent} send(s) re-enqueued."
        )
