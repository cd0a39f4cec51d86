"""Every write about reports: subscriptions, asking for and building reports, deliveries,
sending them exactly once, and the weekly reminder digest.

Exactly once, step by step:
- a Report row is unique per (strategy, cadence, period start); it is built outside any
  transaction and stored with one conditional UPDATE (pending → ready), so two builders
  racing store one snapshot and a builder killed halfway stores nothing;
- a Delivery row is unique per (report, address), created with the report in the same
  transaction; enqueueing its send happens only on commit;
- a sender must claim the row (pending → sending, a conditional UPDATE) before it may talk
  to the mail server, and marks it sent right after; a claim older than
  REPORTS_STALE_SECONDS (a worker died mid-send) is released by the dispatcher; the
  resent message keeps the same Message-ID, which mail systems use to drop duplicates;
- transient SMTP failures (4xx, connection errors) go back to pending with an
  exponential backoff; permanent ones (5xx) and the last attempt mark the row failed.
The dispatcher (`dispatch`) also re-enqueues anything whose message was lost (broker down,
worker killed), so the database — not the broker — is the source of truth.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from strategy.concurrency import StaleVersion
from strategy.models import Role, Strategy
from strategy.selectors import require_role
from tracking.models import (
    Cadence,
    Delivery,
    DeliveryState,
    Reminder,
    Report,
    ReportState,
    Subscription,
)
from tracking.reports.periods import ReportPeriod, latest_due_period, period_for, reminder_week

logger = logging.getLogger(__name__)
User = get_user_model()

SCHEDULED = [Cadence.WEEKLY, Cadence.MONTHLY, Cadence.QUARTERLY]
UNSUBSCRIBE_SALT = "tracking.reports.unsubscribe"


def _enqueue(task_name: str, *args: Any) -> None:
    """Send a task once the current transaction commits (at once outside one).

    A broker that cannot be reached must not fail the request or task that asked: the
    row it is about is committed and stays pending, and the dispatcher re-enqueues
    pending work older than REPORTS_STALE_SECONDS once the broker is back."""
    from tracking import tasks

    task = getattr(tasks, task_name)

    def publish() -> None:
        try:
            task.delay(*args)
        except Exception as exc:  # kombu raises OperationalError; any failure is the same
            logger.warning(
                "Could not enqueue %s%r (%s: %s); the row stays pending for the dispatcher",
                task_name,
                args,
                type(exc).__name__,
                exc,
            )

    transaction.on_commit(publish)


# --- Subscriptions -----------------------------------------------------------------------


def _check_cadence(cadence: str) -> None:
    if cadence not in SCHEDULED:
        raise ValidationError({"cadence": f"Choose one of: {', '.join(SCHEDULED)}."})


@transaction.atomic
def subscription_create(
    *, strategy: Strategy, cadence: str, by: User, user: User | None = None, email: str = ""
) -> Subscription:
    """Subscribe `user` (default: `by` themself) or an outside `email` to a strategy.

    Members subscribe themselves; only managers add outside addresses or other users.
    Subscribing again after unsubscribing reactivates the same row."""
    _check_cadence(cadence)
    email = (email or "").strip().lower()
    if email and user is not None:
        raise ValidationError({"email": "Give either a user or an outside address, not both."})
    if email or (user is not None and user != by):
        require_role(by, strategy.mission_id, Role.MANAGER, "subscribe other people")
    else:
        require_role(by, strategy.mission_id, Role.VIEWER, "subscribe to this strategy")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"email": "Enter a valid e-mail address."}) from None
        lookup: dict[str, Any] = {"user": None, "email": email}
    else:
        user = user or by
        if not user.email:
            raise ValidationError(
                {"user": f"{user.get_username()} has no e-mail address on their account."}
            )
        if not user.is_superuser and strategy.mission_id not in _missions_of(user):
            raise ValidationError({"user": "That user is not a member of this mission."})
        lookup = {"user": user, "email": ""}
    existing = (
        Subscription.objects.select_for_update()
        .filter(strategy=strategy, cadence=cadence, **lookup)
        .first()
    )
    if existing is not None:
        if existing.is_active:
            raise ValidationError({"cadence": "Already subscribed to this report."})
        existing.is_active = True
        existing.unsubscribed_at = None
        existing.version += 1
        existing._history_user = by
        existing.save(update_fields=["is_active", "unsubscribed_at", "version"])
        return existing
    subscription = Subscription(strategy=strategy, cadence=cadence, created_by=by, **lookup)
    subscription._history_user = by
    subscription.full_clean(exclude=["user", "strategy", "created_by"])
    subscription.save()
    return subscription


def _missions_of(user: User) -> set[int]:
    from strategy.selectors import user_roles

    return set(user_roles(user))


def _may_manage(subscription: Subscription, by: User) -> bool:
    if subscription.user_id is not None and subscription.user_id == by.id:
        return True
    require_role(
        by, subscription.strategy.mission_id, Role.MANAGER, "manage other people's subscriptions"
    )
    return True


@transaction.atomic
def subscription_update(
    *,
    subscription: Subscription,
    by: User,
    cadence: str | None = None,
    is_active: bool | None = None,
    expected_version: int | None = None,
) -> Subscription:
    _may_manage(subscription, by)
    fresh = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if expected_version is not None and fresh.version != expected_version:
        raise StaleVersion(fresh.version, expected_version)
    if cadence is not None and cadence != fresh.cadence:
        _check_cadence(cadence)
        clash = Subscription.objects.filter(
            strategy_id=fresh.strategy_id, cadence=cadence, user_id=fresh.user_id, email=fresh.email
        ).exclude(pk=fresh.pk)
        if clash.exists():
            raise ValidationError({"cadence": "Already subscribed at that cadence."})
        fresh.cadence = cadence
    if is_active is not None and is_active != fresh.is_active:
        fresh.is_active = is_active
        fresh.unsubscribed_at = None if is_active else timezone.now()
    fresh.version += 1
    fresh._history_user = by
    fresh.save()
    return fresh


@transaction.atomic
def subscription_delete(*, subscription: Subscription, by: User) -> None:
    _may_manage(subscription, by)
    subscription._history_user = by
    subscription.delete()


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed, non-expiring token naming one subscription, for e-mail links."""
    return signing.dumps({"s": subscription.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def subscription_from_token(token: str) -> Subscription | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        return None
    return (
        Subscription.objects.select_related("strategy__mission", "user")
        .filter(pk=data["s"])
        .first()
    )


@transaction.atomic
def unsubscribe(*, subscription: Subscription) -> Subscription:
    """What the signed link does: no sign-in, idempotent, the row stays (inactive)."""
    updated = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, unsubscribed_at=timezone.now(), version=F("version") + 1
    )
    subscription.refresh_from_db()
    if updated:
        logger.info("Subscription %s unsubscribed through its e-mail link", subscription.pk)
        # A row in history, with no user: the recipient acted through the signed link.
        # (save(update_fields=[]) would return before the signal that writes history.)
        subscription._history_user = None
        subscription.save(update_fields=["is_active", "unsubscribed_at", "version"])
    return subscription


# --- Reports -----------------------------------------------------------------------------


def _get_or_create_report(
    *, strategy: Strategy, period: ReportPeriod, by: User | None
) -> tuple[Report, bool]:
    """The Report row for (strategy, period), created pending if missing. Race-safe."""
    try:
        with transaction.atomic():
            return Report.objects.defer("pdf", "content").get_or_create(
                strategy=strategy,
                cadence=period.cadence,
                period_start=period.start,
                defaults={"period_end": period.end, "label": period.label, "requested_by": by},
            )
    except IntegrityError:  # a concurrent dispatcher created it first
        report = Report.objects.defer("pdf", "content").get(
            strategy=strategy, cadence=period.cadence, period_start=period.start
        )
        return report, False


def _needs_build(report: Report, created: bool, now: datetime) -> bool:
    """Enqueue a build for a new report, or for one pending so long its build was lost;
    a build already under way is left alone."""
    stale = now - timedelta(seconds=settings.REPORTS_STALE_SECONDS)
    return report.state == ReportState.PENDING and (created or report.created_at < stale)


def report_request(
    *,
    strategy: Strategy,
    by: User | None,
    cadence: str = Cadence.ON_DEMAND,
    now: datetime | None = None,
) -> Report:
    """Ask for a report now: today's on-demand report, or the latest due report of a
    scheduled cadence. Returns at once (the build runs on the worker); asking again for
    the same period returns the same report. Managers only."""
    require_role(by, strategy.mission_id, Role.MANAGER, "generate reports")
    return _request_report(strategy=strategy, cadence=cadence, requested_by=by, now=now)


def _request_report(
    *, strategy: Strategy, cadence: str, requested_by: User | None, now: datetime | None
) -> Report:
    if cadence not in Cadence.values:
        raise ValidationError({"cadence": f"Choose one of: {', '.join(Cadence.values)}."})
    now = now or timezone.now()
    if cadence == Cadence.ON_DEMAND:
        period = period_for(cadence, timezone.localdate(now))
    else:
        period = latest_due_period(cadence, now)
    report, created = _get_or_create_report(strategy=strategy, period=period, by=requested_by)
    if _needs_build(report, created, now):
        _enqueue("build_report", report.pk)
    return report


def report_build(*, report_id: int, now: datetime | None = None) -> Report | None:
    """Build a pending report's snapshot and PDF, store them, create its deliveries.

    The expensive part runs outside any transaction; the result is stored only if the
    report is still pending (one conditional UPDATE), so concurrent builders and
    redelivered messages store one snapshot and create one set of deliveries."""
    from tracking.reports.render import report_pdf
    from tracking.reports.selectors import previous_report, report_content

    report = (
        Report.objects.select_related("strategy__mission").defer("pdf").filter(pk=report_id).first()
    )
    if report is None:
        return None
    if report.state != ReportState.PENDING:
        return report  # built already: a redelivered message or a concurrent builder
    now = now or timezone.now()
    period = ReportPeriod(report.cadence, report.period_start, report.period_end)
    as_of = min(period.end, timezone.localdate(now))
    logger.info("Building report %s (%s, %s)", report.pk, report.strategy, report.label)
    content = report_content(
        strategy=report.strategy,
        period=period,
        generated_at=now,
        previous=previous_report(report=report),
        as_of=as_of,
    )
    pdf = report_pdf(content=content)
    with transaction.atomic():
        stored = Report.objects.filter(pk=report.pk, state=ReportState.PENDING).update(
            state=ReportState.READY, content=content, pdf=pdf, built_at=now
        )
        report.refresh_from_db()
        if stored:
            if report.cadence != Cadence.ON_DEMAND:
                deliveries_create(report=report)
            _enqueue_pending_deliveries(report)
            logger.info("Report %s ready (%d bytes of PDF)", report.pk, len(pdf))
    return report


# A user's subscription counts only while they may still read the strategy: an active
# account that is still a member of the mission (or a superuser). Outside addresses count
# until a manager removes them or the reader unsubscribes.
STILL_ENTITLED = Q(user__isnull=True) | (
    Q(user__is_active=True)
    & (Q(user__is_superuser=True) | Q(user__memberships__mission=F("strategy__mission")))
)


def _due_subscriptions(report: Report):
    """Active subscriptions that should receive this scheduled report: subscribed to its
    strategy at its cadence before the report fell due, and still entitled to it."""
    due_at = ReportPeriod(report.cadence, report.period_start, report.period_end).due_at()
    return (
        Subscription.objects.filter(
            strategy_id=report.strategy_id,
            cadence=report.cadence,
            is_active=True,
            created_at__lt=due_at,
        )
        .filter(STILL_ENTITLED)
        .select_related("user")
        .distinct()
        .order_by("id")
    )


def deliveries_create(*, report: Report) -> list[int]:
    """One pending delivery per recipient address of `report`; rows that exist are kept
    as they are (unique per report and address). Returns the ids of the new rows."""
    existing = set(Delivery.objects.filter(report=report).values_list("email", flat=True))
    rows: dict[str, Delivery] = {}
    for sub in _due_subscriptions(report):
        address = (sub.address or "").strip().lower()
        if address and address not in existing and address not in rows:
            rows[address] = Delivery(report=report, subscription=sub, email=address)
    if not rows:
        return []
    Delivery.objects.bulk_create(rows.values(), ignore_conflicts=True)  # a racer may win
    return list(
        Delivery.objects.filter(
            report=report, email__in=list(rows), state=DeliveryState.PENDING
        ).values_list("id", flat=True)
    )


def _enqueue_pending_deliveries(report: Report) -> None:
    for delivery_id in Delivery.objects.filter(
        report=report, state=DeliveryState.PENDING, next_attempt_at__isnull=True
    ).values_list("id", flat=True):
        _enqueue("send_delivery", delivery_id)


@transaction.atomic
def report_send_now(*, subscription: Subscription, by: User) -> Delivery:
    """“Send now”: today's on-demand report to this subscription's address, once."""
    _may_manage(subscription, by)
    # The subscriber themself may ask (no manager role needed to e-mail yourself).
    report = _request_report(
        strategy=subscription.strategy, cadence=Cadence.ON_DEMAND, requested_by=by, now=None
    )
    address = (subscription.address or "").strip().lower()
    if not address:
        raise ValidationError("This subscription has no e-mail address.")
    delivery, created = Delivery.objects.get_or_create(
        report=report, email=address, defaults={"subscription": subscription}
    )
    if created and report.state == ReportState.READY:
        _enqueue("send_delivery", delivery.pk)
    return delivery


# --- Sending -------------------------------------------------------------------------------


@dataclass
class SendOutcome:
    state: str
    retry_in: float | None = None  # seconds, when the caller should try again
    error: str = ""


def _classify(exc: Exception) -> tuple[bool, str]:
    """(transient?, message) for an exception raised while sending."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{code} {msg!r}" for code, msg in exc.recipients.values())
        return all(400 <= c < 500 for c in codes), f"Recipient refused: {text}"
    if isinstance(exc, smtplib.SMTPResponseException):
        message = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return 400 <= exc.smtp_code < 500, f"SMTP {exc.smtp_code}: {message}"
    if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)):
        return True, f"Mail server unreachable: {exc}"
    return True, f"{type(exc).__name__}: {exc}"


def backoff_seconds(attempt: int) -> float:
    """Exponential: base, 2×base, 4×base … after the 1st, 2nd, 3rd failed attempt."""
    return settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(0, attempt - 1))


def _claim(model, pk: int, now: datetime, extra: Q | None = None) -> bool:
    rows = model.objects.filter(pk=pk, state=DeliveryState.PENDING)
    if extra is not None:
        rows = rows.filter(extra)
    return bool(
        rows.update(state=DeliveryState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )


def _finish(model, pk: int, exc: Exception | None, now: datetime) -> SendOutcome:
    row = model.objects.get(pk=pk)
    if exc is None:
        model.objects.filter(pk=pk, state=DeliveryState.SENDING).update(
            state=DeliveryState.SENT, sent_at=now, last_error="", next_attempt_at=None
        )
        return SendOutcome(DeliveryState.SENT)
    transient, message = _classify(exc)
    if transient and row.attempts < settings.DELIVERY_MAX_ATTEMPTS:
        delay = backoff_seconds(row.attempts)
        model.objects.filter(pk=pk, state=DeliveryState.SENDING).update(
            state=DeliveryState.PENDING,
            last_error=message,
            next_attempt_at=now + timedelta(seconds=delay),
        )
        logger.warning(
            "%s %s: attempt %d failed, retry in %ss: %s",
            model.__name__,
            pk,
            row.attempts,
            delay,
            message,
        )
        return SendOutcome(DeliveryState.PENDING, retry_in=delay, error=message)
    model.objects.filter(pk=pk, state=DeliveryState.SENDING).update(
        state=DeliveryState.FAILED, last_error=message, next_attempt_at=None
    )
    logger.error("%s %s failed after %d attempt(s): %s", model.__name__, pk, row.attempts, message)
    return SendOutcome(DeliveryState.FAILED, error=message)


def _message_id(kind: str, pk: int) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"
    return f"<{kind}-{pk}@{domain}>"


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> SendOutcome:
    """Claim one delivery and e-mail its report. Safe to call any number of times."""
    from tracking.reports.render import render_report_email

    now = now or timezone.now()
    if not _claim(Delivery, delivery_id, now, Q(report__state=ReportState.READY)):
        state = Delivery.objects.filter(pk=delivery_id).values_list("state", flat=True).first()
        return SendOutcome(state or "missing")
    delivery = Delivery.objects.select_related("report__strategy__mission", "subscription").get(
        pk=delivery_id
    )
    try:
        unsubscribe_url = (
            site_url(reverse("unsubscribe", args=[unsubscribe_token(delivery.subscription)]))
            if delivery.subscription
            else site_url(reverse("subscriptions"))
        )
        message = render_report_email(
            report=delivery.report,
            recipient=delivery.email,
            unsubscribe_url=unsubscribe_url,
            report_url=site_url(reverse("report-detail", args=[delivery.report_id])),
        )
        message.extra_headers["Message-ID"] = _message_id("report-delivery", delivery.pk)
        message.send(fail_silently=False)
    except Exception as exc:  # classified below: transient errors retry
        return _finish(Delivery, delivery_id, exc, timezone.now())
    return _finish(Delivery, delivery_id, None, timezone.now())


# --- Reminders -----------------------------------------------------------------------------


def _reminder_items(*, week_start: date, today: date) -> dict[int, dict[str, list]]:
    """What each user owns that needs them, over every strategy that is not archived:
    stale nodes, indicator periods past their reporting deadline, overdue milestones.
    An indicator or milestone without its own owner falls to its node's owner."""
    from tracking.selectors import strategy_trees

    items: dict[int, dict[str, list]] = {}

    def bucket(user_id: int) -> dict[str, list]:
        return items.setdefault(
            user_id, {"stale_nodes": [], "late_indicators": [], "overdue_milestones": []}
        )

    strategies = list(
        Strategy.objects.exclude(status=Strategy.Status.ARCHIVED)
        .select_related("mission")
        .order_by("id")
    )
    for offset in range(0, len(strategies), 50):  # bounded memory at department scale
        chunk = strategies[offset : offset + 50]
        for tree in strategy_trees(strategies=chunk, today=today).values():
            s = tree.strategy
            where = {"mission": s.mission.name, "strategy": s.title}
            for t in tree.walk():
                node = t.node
                path = reverse("node-detail", args=[node.pk])
                if t.is_stale and node.owner_id and node.kind != "mission_goal":
                    bucket(node.owner_id)["stale_nodes"].append(
                        {
                            **where,
                            "code": node.code,
                            "title": node.title,
                            "last_update": t.last_update.isoformat() if t.last_update else None,
                            "path": path,
                        }
                    )
                for i in t.indicators:
                    owner = i.indicator.owner_id or node.owner_id
                    if i.is_late and owner:
                        bucket(owner)["late_indicators"].append(
                            {
                                **where,
                                "code": node.code,
                                "indicator": i.indicator.name,
                                "period_label": i.late_period_label,
                                "path": path,
                            }
                        )
                for m in t.milestones:
                    owner = m.owner_id or node.owner_id
                    if m.is_overdue_on(today) and owner:
                        bucket(owner)["overdue_milestones"].append(
                            {
                                **where,
                                "code": node.code,
                                "title": m.title,
                                "due_on": m.due_on.isoformat(),
                                "path": path,
                            }
                        )
    return items


def reminders_create(*, now: datetime | None = None) -> list[int]:
    """Create this week's digests for people with something due who have none yet.
    Returns the ids of new rows (their sends are enqueued on commit)."""
    now = now or timezone.now()
    week_start = reminder_week(now)
    today = timezone.localdate(now)
    items = _reminder_items(week_start=week_start, today=today)
    already = set(Reminder.objects.filter(week_start=week_start).values_list("user_id", flat=True))
    users = {
        u.pk: u
        for u in User.objects.filter(
            pk__in=[pk for pk in items if pk not in already], is_active=True
        ).exclude(email="")
    }
    rows = [
        Reminder(
            user=users[pk], week_start=week_start, email=users[pk].email.lower(), items=items[pk]
        )
        for pk in sorted(users)
    ]
    with transaction.atomic():
        Reminder.objects.bulk_create(rows, ignore_conflicts=True)
        new_ids = list(
            Reminder.objects.filter(
                week_start=week_start,
                user_id__in=list(users),
                state=DeliveryState.PENDING,
                attempts=0,
            ).values_list("id", flat=True)
        )
        for pk in new_ids:
            _enqueue("send_reminder", pk)
    return new_ids


def reminder_send(*, reminder_id: int, now: datetime | None = None) -> SendOutcome:
    from tracking.reports.render import render_reminder_email

    now = now or timezone.now()
    if not _claim(Reminder, reminder_id, now):
        state = Reminder.objects.filter(pk=reminder_id).values_list("state", flat=True).first()
        return SendOutcome(state or "missing")
    reminder = Reminder.objects.select_related("user").get(pk=reminder_id)
    try:
        message = render_reminder_email(reminder=reminder, site_url=settings.SITE_URL.rstrip("/"))
        message.extra_headers["Message-ID"] = _message_id("reminder", reminder.pk)
        message.send(fail_silently=False)
    except Exception as exc:  # classified: transient errors retry
        return _finish(Reminder, reminder_id, exc, timezone.now())
    return _finish(Reminder, reminder_id, None, timezone.now())


# --- The dispatcher ----------------------------------------------------------------------


@dataclass
class DispatchResult:
    reports: list[int] = field(default_factory=list)  # reports whose build was enqueued
    deliveries: int = 0  # delivery rows created for ready reports
    resent: int = 0  # sends re-enqueued (lost message, stale claim, retry due)


def dispatch(*, now: datetime | None = None) -> DispatchResult:
    """Run every few minutes by beat: ask for due reports, create missing deliveries,
    and re-enqueue whatever a lost message or a dead worker left behind. Idempotent:
    ten dispatchers at once create each report once and each delivery once."""
    now = now or timezone.now()
    result = DispatchResult()
    stale = now - timedelta(seconds=settings.REPORTS_STALE_SECONDS)
    for cadence in SCHEDULED:
        period = latest_due_period(cadence, now)
        received = Delivery.objects.filter(
            subscription=OuterRef("pk"), report__cadence=cadence, report__period_start=period.start
        )
        strategy_ids = set(
            Subscription.objects.filter(
                cadence=cadence, is_active=True, created_at__lt=period.due_at()
            )
            .filter(STILL_ENTITLED)
            .exclude(strategy__status=Strategy.Status.ARCHIVED)
            .exclude(Exists(received))
            .values_list("strategy_id", flat=True)
        )
        for strategy in Strategy.objects.filter(pk__in=strategy_ids).select_related("mission"):
            report, created = _get_or_create_report(strategy=strategy, period=period, by=None)
            if report.state == ReportState.READY:
                # Built already: only subscribers the build did not know about are new.
                with transaction.atomic():
                    new = deliveries_create(report=report)
                    for delivery_id in new:
                        _enqueue("send_delivery", delivery_id)
                result.deliveries += len(new)
            elif _needs_build(report, created, now):
                result.reports.append(report.pk)
                _enqueue("build_report", report.pk)

    # Builds whose message was lost or whose worker died: pending for too long.
    for report_id in (
        Report.objects.filter(state=ReportState.PENDING, created_at__lt=stale)
        .exclude(pk__in=result.reports)
        .values_list("id", flat=True)
    ):
        result.reports.append(report_id)
        _enqueue("build_report", report_id)

    for model, task in ((Delivery, "send_delivery"), (Reminder, "send_reminder")):
        # A claim older than the stale limit: its worker died mid-send. Release it.
        model.objects.filter(state=DeliveryState.SENDING, claimed_at__lt=stale).update(
            state=DeliveryState.PENDING, next_attempt_at=None
        )
        lost = model.objects.filter(state=DeliveryState.PENDING).filter(
            Q(next_attempt_at__lt=now - timedelta(seconds=60))
            | Q(next_attempt_at__isnull=True, created_at__lt=stale)
        )
        if model is Delivery:
            lost = lost.filter(report__state=ReportState.READY)
        for pk in lost.values_list("id", flat=True):
            result.resent += 1
            _enqueue(task, pk)
    return result
