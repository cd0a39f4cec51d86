"""Build a status report now, in this process, and optionally e-mail it.

    python manage.py generate_report china                      # today's on-demand report
    python manage.py generate_report china --cadence weekly      # the latest due weekly one
    python manage.py generate_report china --email me@example.org

No worker is needed: the build and the sends run here, through the same services the
worker uses (so a report that already exists is reused, and an address that already got
it is not sent it again)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from strategy.models import Strategy
from tracking.models import Cadence, Delivery, DeliveryState
from tracking.reports import services


class Command(BaseCommand):
    help = "Build a strategy's status report now and optionally e-mail it to addresses."

    def add_arguments(self, parser):
        parser.add_argument("mission", help="Mission slug (its latest strategy) or strategy id.")
        parser.add_argument("--cadence", default=Cadence.ON_DEMAND, choices=Cadence.values)
        parser.add_argument(
            "--email", action="append", default=[], help="Send the report to this address."
        )

    def handle(self, *args, mission: str, cadence: str, email: list[str], **options):
        strategy = self._strategy(mission)
        for address in email:
            try:
                validate_email(address)
            except Exception:
                raise CommandError(f"Not an e-mail address: {address!r}") from None
        with transaction.atomic():
            report = services.report_request(strategy=strategy, by=None, cadence=cadence)
        report = services.report_build(report_id=report.pk)
        url = services.site_url(reverse("report-detail", args=[report.pk]))
        self.stdout.write(f"Report {report.pk}: {strategy} — {report.label} ({report.state})")
        self.stdout.write(f"  {url}")
        for address in email:
            delivery, _ = Delivery.objects.get_or_create(report=report, email=address.lower())
            outcome = services.delivery_send(delivery_id=delivery.pk)
            if outcome.state == DeliveryState.SENT:
                self.stdout.write(f"  sent to {address}")
            else:
                self.stderr.write(f"  not sent to {address}: {outcome.state} {outcome.error}")
        if email and getattr(settings, "EMAIL_FILE_PATH", None):
            self.stdout.write(f"  mail folder: {settings.EMAIL_FILE_PATH}")

    def _strategy(self, ref: str) -> Strategy:
        strategies = Strategy.objects.select_related("mission")
        found = (
            strategies.filter(pk=int(ref)).first()
            if ref.isdigit()
            else strategies.filter(mission__slug=ref).order_by("-period_end_fy", "-id").first()
        )
        if found is None:
            raise CommandError(f"No strategy for {ref!r}: give a mission slug or a strategy id.")
        return found
