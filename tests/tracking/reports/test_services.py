"""Subscriptions, the dispatcher, deliveries and reminders — the rules, with the database
and Django's in-memory mail outbox. Real SMTP and a real worker: test_delivery_worker.py."""

import smtplib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.base import BaseEmailBackend

from tests.factories import IndicatorFactory, IndicatorPeriodFactory, MilestoneFactory, UserFactory
from tracking.models import (
    Cadence,
    Delivery,
    DeliveryState,
    Reminder,
    Report,
    ReportState,
    Subscription,
)
from tracking.reports import services

UTC = ZoneInfo("UTC")
# Monday 23 Nov 2026, 07:00 UTC: the week of 16 Nov is due (send hour 6, TIME_ZONE UTC).
MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TIME_ZONE = "UTC"
    settings.REPORTS_SEND_HOUR = 6
    settings.DELIVERY_MAX_ATTEMPTS = 3
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    settings.SITE_URL = "https://tracker.example.org"


def subscribe(tree, user, cadence=Cadence.WEEKLY, when=MONDAY - timedelta(days=30), **kwargs):
    sub = services.subscription_create(
        strategy=tree.strategy, cadence=cadence, by=kwargs.pop("by", user), **kwargs
    )
    type(sub).objects.filter(pk=sub.pk).update(created_at=when)
    sub.refresh_from_db()
    return sub


def run_dispatch(django_capture_on_commit_callbacks, now=MONDAY):
    """Dispatch at `now` (frozen, so rows it creates are stamped `now` too)."""
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks() as callbacks:
        result = services.dispatch(now=now)
    return result, callbacks


# --- Subscriptions ---------------------------------------------------------------------


def test_a_viewer_subscribes_themself(tree, personas):
    sub = services.subscription_create(
        strategy=tree.strategy, cadence=Cadence.MONTHLY, by=personas.viewer
    )
    assert (sub.user, sub.email, sub.is_active) == (personas.viewer, "", True)
    assert sub.address == "viewer@example.org"


def test_an_outsider_cannot_subscribe_to_another_missions_strategy(tree, personas):
    with pytest.raises(PermissionDenied):
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.outsider
        )


def test_only_managers_add_outside_addresses(tree, personas):
    with pytest.raises(PermissionDenied):
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.analyst, email="a@b.org"
        )
    sub = services.subscription_create(
        strategy=tree.strategy,
        cadence=Cadence.WEEKLY,
        by=personas.manager,
        email=" Desk@State.GOV ",
    )
    assert (sub.user, sub.email) == (None, "desk@state.gov")


def test_a_bad_outside_address_is_refused_with_a_message(tree, personas):
    with pytest.raises(ValidationError) as error:
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.manager, email="nope"
        )
    assert "valid e-mail" in str(error.value)


def test_subscribing_twice_is_refused_and_resubscribing_reactivates_the_same_row(tree, personas):
    sub = services.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    with pytest.raises(ValidationError):
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
        )
    services.unsubscribe(subscription=sub)
    again = services.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    assert again.pk == sub.pk and again.is_active


def test_a_user_without_an_email_address_cannot_subscribe(tree, personas):
    personas.viewer.email = ""
    personas.viewer.save()
    with pytest.raises(ValidationError, match="no e-mail address"):
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
        )


def test_on_demand_is_not_a_subscription_cadence(tree, personas):
    with pytest.raises(ValidationError):
        services.subscription_create(
            strategy=tree.strategy, cadence=Cadence.ON_DEMAND, by=personas.viewer
        )


def test_unsubscribe_tokens_round_trip_and_forgeries_are_refused(tree, personas):
    sub = services.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    token = services.unsubscribe_token(sub)
    assert services.subscription_from_token(token) == sub
    assert services.subscription_from_token(token[:-2] + "xx") is None
    assert services.subscription_from_token("") is None
    services.unsubscribe(subscription=sub)
    services.unsubscribe(subscription=sub)  # idempotent
    sub.refresh_from_db()
    assert not sub.is_active and sub.unsubscribed_at is not None


def test_managers_change_and_remove_others_subscriptions_members_only_their_own(tree, personas):
    sub = services.subscription_create(
        strategy=tree.strategy, cadence=Cadence.WEEKLY, by=personas.viewer
    )
    with pytest.raises(PermissionDenied):
        services.subscription_update(subscription=sub, by=personas.analyst, cadence="monthly")
    updated = services.subscription_update(subscription=sub, by=personas.viewer, cadence="monthly")
    assert (updated.cadence, updated.version) == ("monthly", 2)
    services.subscription_delete(subscription=updated, by=personas.manager)
    assert not type(sub).objects.filter(pk=sub.pk).exists()


# --- Dispatcher and building -----------------------------------------------------------


def test_dispatcher_asks_for_each_due_report_once_however_often_it_runs(
    tree, personas, django_capture_on_commit_callbacks
):
    subscribe(tree, personas.viewer)
    subscribe(tree, personas.analyst)
    first, callbacks = run_dispatch(django_capture_on_commit_callbacks)
    again, _ = run_dispatch(django_capture_on_commit_callbacks)
    report = Report.objects.get()
    assert (report.cadence, report.period_start, report.state) == (
        "weekly",
        date(2026, 11, 16),
        ReportState.PENDING,
    )
    assert first.reports == [report.pk]
    assert again.reports == []  # its build is under way: not enqueued twice
    assert len(callbacks) == 1  # one build enqueued on commit


def test_subscriptions_made_after_a_report_fell_due_wait_for_the_next_one(
    tree, personas, django_capture_on_commit_callbacks
):
    subscribe(tree, personas.viewer, when=MONDAY - timedelta(minutes=30))  # after 06:00
    result, _ = run_dispatch(django_capture_on_commit_callbacks)
    assert result.reports == [] and not Report.objects.exists()


def test_a_built_report_has_one_delivery_per_address_and_each_is_sent_once(
    tree, personas, django_capture_on_commit_callbacks
):
    subscribe(tree, personas.viewer)
    subscribe(tree, personas.analyst)
    services.subscription_create(  # the same person's address, added by a manager
        strategy=tree.strategy,
        cadence=Cadence.WEEKLY,
        by=personas.manager,
        email="VIEWER@example.org",
    )
    Subscription.objects.update(created_at=MONDAY - timedelta(days=30))
    run_dispatch(django_capture_on_commit_callbacks)
    report = Report.objects.get()
    with django_capture_on_commit_callbacks() as sends:
        services.report_build(report_id=report.pk, now=MONDAY)
    report.refresh_from_db()
    assert report.state == ReportState.READY and bytes(report.pdf)[:5] == b"%PDF-"
    assert report.content["period"]["label"] == "Week of 16 Nov 2026"
    assert sorted(Delivery.objects.values_list("email", flat=True)) == [
        "analyst@example.org",
        "viewer@example.org",
    ]
    assert len(sends) == 2
    for delivery in Delivery.objects.all():
        assert services.delivery_send(delivery_id=delivery.pk).state == DeliveryState.SENT
        assert services.delivery_send(delivery_id=delivery.pk).state == DeliveryState.SENT
    assert sorted(m.to[0] for m in mail.outbox) == ["analyst@example.org", "viewer@example.org"]
    message = mail.outbox[0]
    assert message.extra_headers["Message-ID"].startswith("<report-delivery-")
    # The one-click link names this recipient's own subscription, signed.
    link = message.extra_headers["List-Unsubscribe"]
    prefix = "<https://tracker.example.org/unsubscribe/"
    assert link.startswith(prefix) and link.endswith("/>"), link
    subscription = services.subscription_from_token(link[len(prefix) : -2])
    assert subscription is not None and subscription.address == message.to[0]
    # A second build of the same report (a redelivered message) changes nothing.
    with django_capture_on_commit_callbacks() as again:
        services.report_build(report_id=report.pk, now=MONDAY + timedelta(hours=1))
    assert Delivery.objects.count() == 2 and len(mail.outbox) == 2
    assert again == []


def test_generate_now_returns_todays_report_when_asked_twice(tree, personas):
    first = services.report_request(strategy=tree.strategy, by=personas.manager)
    second = services.report_request(strategy=tree.strategy, by=personas.manager)
    assert first.pk == second.pk and first.cadence == Cadence.ON_DEMAND


def test_only_managers_generate_reports(tree, personas):
    with pytest.raises(PermissionDenied):
        services.report_request(strategy=tree.strategy, by=personas.analyst)


def test_send_now_delivers_todays_report_to_that_subscription_once(
    tree, personas, django_capture_on_commit_callbacks
):
    sub = subscribe(tree, personas.viewer)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.report_send_now(subscription=sub, by=personas.manager)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.report_send_now(subscription=sub, by=personas.manager)
    assert first.pk == second.pk
    services.report_build(report_id=first.report_id)
    services.delivery_send(delivery_id=first.pk)
    services.delivery_send(delivery_id=first.pk)
    assert [m.to for m in mail.outbox] == [["viewer@example.org"]]


# --- Sending failures ------------------------------------------------------------------


class ScriptedBackend(BaseEmailBackend):
    """The edge of the world: a mail server that answers from a script."""

    script: list[Exception | None] = []
    sent: list = []

    def send_messages(self, messages):
        outcome = ScriptedBackend.script.pop(0) if ScriptedBackend.script else None
        if outcome is not None:
            raise outcome
        ScriptedBackend.sent.extend(messages)
        return len(messages)


@pytest.fixture
def ready_delivery(tree, personas, settings):
    settings.EMAIL_BACKEND = f"{__name__}.ScriptedBackend"
    ScriptedBackend.sent = []
    report = Report.objects.create(
        strategy=tree.strategy,
        cadence=Cadence.WEEKLY,
        period_start=date(2026, 11, 16),
        period_end=date(2026, 11, 22),
        label="Week of 16 Nov 2026",
        state=ReportState.READY,
        built_at=MONDAY,
        content={},
        pdf=None,
    )
    sub = subscribe(tree, personas.viewer)
    return Delivery.objects.create(report=report, subscription=sub, email="viewer@example.org")


@pytest.fixture
def no_render(monkeypatch):
    """Rendering is tested elsewhere; here a plain message stands in for it."""
    from django.core.mail import EmailMultiAlternatives

    from tracking.reports import render

    monkeypatch.setattr(
        render,
        "render_report_email",
        lambda *, report, recipient, **kw: EmailMultiAlternatives("s", "b", to=[recipient]),
    )


def test_a_transient_smtp_error_is_retried_with_exponential_backoff(ready_delivery, no_render):
    ScriptedBackend.script = [smtplib.SMTPResponseException(451, b"try later")] * 2
    first = services.delivery_send(delivery_id=ready_delivery.pk, now=MONDAY)
    assert (first.state, first.retry_in) == (DeliveryState.PENDING, 10)
    second = services.delivery_send(delivery_id=ready_delivery.pk, now=MONDAY)
    assert (second.state, second.retry_in) == (DeliveryState.PENDING, 20)
    third = services.delivery_send(delivery_id=ready_delivery.pk, now=MONDAY)
    assert third.state == DeliveryState.SENT
    ready_delivery.refresh_from_db()
    assert (ready_delivery.attempts, ready_delivery.state) == (3, DeliveryState.SENT)
    assert len(ScriptedBackend.sent) == 1


def test_the_last_transient_failure_marks_the_delivery_failed(ready_delivery, no_render):
    ScriptedBackend.script = [ConnectionRefusedError("refused")] * 5
    outcomes = [services.delivery_send(delivery_id=ready_delivery.pk).state for _ in range(4)]
    assert outcomes == ["pending", "pending", "failed", "failed"]
    ready_delivery.refresh_from_db()
    assert ready_delivery.attempts == 3
    assert "unreachable" in ready_delivery.last_error


def test_a_permanent_smtp_error_fails_at_once(ready_delivery, no_render):
    ScriptedBackend.script = [
        smtplib.SMTPRecipientsRefused({"viewer@example.org": (550, b"no such user")})
    ]
    outcome = services.delivery_send(delivery_id=ready_delivery.pk)
    assert (outcome.state, outcome.retry_in) == (DeliveryState.FAILED, None)
    ready_delivery.refresh_from_db()
    assert ready_delivery.attempts == 1 and "550" in ready_delivery.last_error


def test_the_dispatcher_releases_a_dead_workers_claim_and_resends(
    ready_delivery, no_render, settings, django_capture_on_commit_callbacks
):
    settings.REPORTS_STALE_SECONDS = 600
    Delivery.objects.filter(pk=ready_delivery.pk).update(
        state=DeliveryState.SENDING, claimed_at=MONDAY - timedelta(hours=1), attempts=1
    )
    Delivery.objects.filter(pk=ready_delivery.pk).update(created_at=MONDAY - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.dispatch(now=MONDAY)
    assert result.resent == 1 and len(callbacks) == 1
    assert services.delivery_send(delivery_id=ready_delivery.pk).state == DeliveryState.SENT


def test_the_dispatcher_leaves_a_fresh_claim_alone(
    ready_delivery, no_render, django_capture_on_commit_callbacks
):
    Delivery.objects.filter(pk=ready_delivery.pk).update(
        state=DeliveryState.SENDING, claimed_at=MONDAY - timedelta(seconds=5)
    )
    with django_capture_on_commit_callbacks() as callbacks:
        services.dispatch(now=MONDAY)
    assert callbacks == []
    ready_delivery.refresh_from_db()
    assert ready_delivery.state == DeliveryState.SENDING


# --- Reminders ---------------------------------------------------------------------------


def test_one_weekly_digest_per_owner_listing_everything_due(
    tree, personas, django_capture_on_commit_callbacks
):
    tree.obj11.owner = personas.analyst
    tree.obj11.save()
    indicator = IndicatorFactory(node=tree.obj11, name="Visas issued", frequency="monthly")
    IndicatorPeriodFactory(
        indicator=indicator, period_start=date(2026, 9, 1), period_end=date(2026, 9, 30)
    )
    MilestoneFactory(
        node=tree.mgmt1, owner=personas.analyst, title="Annex", due_on=date(2026, 11, 1)
    )
    quiet = UserFactory(username="quiet")
    with time_machine.travel(MONDAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            created = services.reminders_create()
        with django_capture_on_commit_callbacks(execute=True):
            again = services.reminders_create()
    reminder = Reminder.objects.get()
    assert created == [reminder.pk] and again == []
    assert reminder.user == personas.analyst and reminder.week_start == date(2026, 11, 23)
    assert [n["code"] for n in reminder.items["stale_nodes"]] == ["1.1"]
    assert [i["indicator"] for i in reminder.items["late_indicators"]] == ["Visas issued"]
    assert [m["title"] for m in reminder.items["overdue_milestones"]] == ["Annex"]
    assert not Reminder.objects.filter(user=quiet).exists()
    assert services.reminder_send(reminder_id=reminder.pk).state == DeliveryState.SENT
    assert services.reminder_send(reminder_id=reminder.pk).state == DeliveryState.SENT
    assert [m.to for m in mail.outbox] == [["analyst@example.org"]]


def test_nobody_gets_a_digest_when_nothing_is_due(tree, personas):
    with time_machine.travel(MONDAY, tick=False):
        assert services.reminders_create() == []
    assert not Reminder.objects.exists()


def test_people_who_left_the_mission_or_were_deactivated_get_no_more_reports(
    tree, personas, django_capture_on_commit_callbacks
):
    from strategy.models import Membership

    subscribe(tree, personas.viewer)
    subscribe(tree, personas.analyst)
    subscribe(tree, personas.manager)
    Membership.objects.filter(user=personas.viewer).delete()
    personas.analyst.is_active = False
    personas.analyst.save()
    run_dispatch(django_capture_on_commit_callbacks)
    report = Report.objects.get()
    with django_capture_on_commit_callbacks():
        services.report_build(report_id=report.pk, now=MONDAY)
    assert list(Delivery.objects.values_list("email", flat=True)) == ["manager@example.org"]
