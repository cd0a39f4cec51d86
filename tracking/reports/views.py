"""HTML pages of status reports and subscriptions (SPEC §2.3, §4).

- /strategies/<pk>/reports/            the archive of one strategy; managers "Generate now"
- /reports/<pk>/  (+ pdf/, xlsx/)       one report in the site layout, and its files
- /subscriptions/                      "My subscriptions": subscribe, change, unsubscribe
- /strategies/<pk>/subscriptions/      managers: every recipient, add, remove, "Send now",
                                       and the recent deliveries with their state
- /unsubscribe/<token>/                the signed link of every e-mail; no sign-in

Thin, like `tracking.views`: who may see what comes from the selectors (objects of other
missions are 404s), every write is one `tracking.reports.services` call, and a role the
service refuses gets the 403 page. No page waits for a report: "Generate now" creates a
pending row and redirects to it; the pending page asks htmx to fetch its state partial
every two seconds (the same view, `HX-Request`) until the report is ready, and then swaps
the report in. Templates get lists, so nothing queries while rendering; the archive and
"My subscriptions" pin their query counts (tests/tracking/reports/test_pages.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from strategy.concurrency import StaleVersion
from strategy.models import Role, Strategy
from strategy.selectors import has_role, require_role, visible_strategies
from tracking.models import Cadence, DeliveryState, Report, Subscription
from tracking.reports.forms import (
    AddAddressForm,
    AddMemberForm,
    ReportFilter,
    SubscribeForm,
    SubscriptionEditForm,
)
from tracking.reports.periods import latest_due_period, period_for
from tracking.reports.selectors import (
    recent_deliveries,
    report_deliveries,
    visible_reports,
    visible_subscriptions,
)
from tracking.reports.services import (
    report_request,
    report_send_now,
    subscription_create,
    subscription_delete,
    subscription_from_token,
    subscription_update,
    unsubscribe,
)

User = get_user_model()

REPORTS_PER_PAGE = 25
RECENT_DELIVERIES = 50  # on the managers' subscriptions page
POLL_SECONDS = 2  # how often a pending report page asks whether it is ready

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- Shared -------------------------------------------------------------------------------


def _refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Render the 403 page with the service's sentence when a role is refused (as
    `tracking.views` does for its pages)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return render(request, "tracking/forbidden.html", {"reason": str(exc)}, status=403)

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _cadence_word(cadence: str) -> str:
    """“weekly”, “monthly”, “quarterly” — for sentences ("the weekly report")."""
    return cadence.replace("_", "-")


def _visible_strategy(user, pk: int) -> Strategy:
    return get_object_or_404(visible_strategies(user=user), pk=pk)


def _is_manager(user, strategy: Strategy) -> bool:
    return has_role(user, strategy.mission_id, Role.MANAGER)


def report_file_response(report: Report, fmt: str) -> HttpResponse:
    """The stored PDF or a freshly written XLSX of a ready report, as a download named
    like the e-mail attachment ("testland-week-of-2-nov-2026.pdf"). Shared by the pages
    and the API; the caller has checked that the report is ready and loaded its content
    (and its PDF, for "pdf")."""
    from tracking.reports.render import report_filename, report_xlsx  # WeasyPrint: lazily

    if fmt == "pdf":
        body, content_type = bytes(report.pdf or b""), "application/pdf"
    else:
        body, content_type = report_xlsx(content=report.content), XLSX_TYPE
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=report_filename(content=report.content, extension=fmt)
    )
    # Reports never change once ready, but they are a mission's business: no shared caches.
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- The archive ----------------------------------------------------------------------------


@login_required
@require_safe
def report_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Every report of one strategy, newest first, with links to each format; managers
    get "Generate now". Queries: session, user, memberships, the strategy, the count and
    the page of reports (without their content or PDF) — whatever the number of reports."""
    user = request.user
    strategy = _visible_strategy(user, pk)
    reports = visible_reports(user=user).filter(strategy=strategy).order_by("-created_at", "-id")
    filters = ReportFilter(request.GET or None, queryset=reports)
    page = Paginator(filters.qs, REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    keep = request.GET.copy()
    keep.pop("page", None)
    context = {
        "strategy": strategy,
        "page": page,
        "reports": list(page.object_list),
        "filters": filters,
        "filtered": any(request.GET.get(name) for name in ("cadence", "state")),
        "page_query": keep.urlencode(),
        "can_generate": _is_manager(user, strategy),
    }
    return render(request, "tracking/reports/list.html", context)


@login_required
@require_POST
@_refusals
def report_generate(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers ask for today's on-demand report. It is built by the worker: the page it
    redirects to shows "being prepared" until it is ready. Reports are immutable, so a
    second press on the same day opens the report made the first time."""
    user = request.user
    strategy = _visible_strategy(user, pk)
    today = period_for(Cadence.ON_DEMAND, timezone.localdate())
    existed = Report.objects.filter(
        strategy=strategy, cadence=Cadence.ON_DEMAND, period_start=today.start
    ).exists()
    report = report_request(strategy=strategy, by=user, cadence=Cadence.ON_DEMAND)
    if not existed:
        messages.success(
            request, "The report is being prepared. This page shows it as soon as it is ready."
        )
    elif report.is_ready:
        built = timezone.localtime(report.built_at)
        messages.info(
            request,
            f"Today's report was generated at {built:%H:%M}; reports are immutable — it "
            "shows the state at that time. Tomorrow's “Generate now” makes a new one.",
        )
    else:
        messages.info(request, "Today's report was already asked for and is being prepared.")
    return redirect("report-detail", pk=report.pk)


# --- One report --------------------------------------------------------------------------------


def _visible_report(user, pk: int, *, with_pdf: bool = False) -> Report:
    """A report of the user's missions with its content (and PDF) read too, else 404.
    (`visible_reports` leaves both out: lists never need them.)"""
    reports = visible_reports(user=user).defer(None).select_related("requested_by")
    reports = reports if with_pdf else reports.defer("pdf")
    return get_object_or_404(reports, pk=pk)


def _report_context(request: HttpRequest, report: Report) -> dict[str, Any]:
    user = request.user
    is_manager = _is_manager(user, report.strategy)
    context: dict[str, Any] = {
        "report": report,
        "strategy": report.strategy,
        "is_manager": is_manager,
        "poll_seconds": POLL_SECONDS,
        "deliveries": report_deliveries(report=report) if is_manager else [],
    }
    if report.is_ready:
        from tracking.reports.render import hydrate, report_charts

        context["content"] = hydrate(report.content)
        context["charts"] = report_charts(content=report.content)
    return context


@login_required
@require_safe
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report in the site layout. While it is pending the page says so and htmx asks
    this view for `_report_state.html` every two seconds; once ready, that partial carries
    the report (and no more polling). Managers also see who it was e-mailed to."""
    report = _visible_report(request.user, pk)
    context = _report_context(request, report)
    if _is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true":
        context["oob"] = True
        response = render(request, "tracking/reports/_report_state.html", context)
    else:
        response = render(request, "tracking/reports/detail.html", context)
    patch_vary_headers(response, ["HX-Request"])  # one URL, two representations
    return response


@login_required
@require_safe
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF stored when the report was built (404 while it is being prepared)."""
    report = _visible_report(request.user, pk, with_pdf=True)
    if not report.is_ready or not report.pdf:
        raise Http404("This report is still being prepared.")
    return report_file_response(report, "pdf")


@login_required
@require_safe
def report_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    """The indicator table as a spreadsheet, written from the stored snapshot."""
    report = _visible_report(request.user, pk)
    if not report.is_ready:
        raise Http404("This report is still being prepared.")
    return report_file_response(report, "xlsx")


# --- My subscriptions -------------------------------------------------------------------------


def next_report_at(cadence: str, now: datetime | None = None) -> datetime:
    """When the next report of `cadence` goes out: the period after the latest due one."""
    now = now or timezone.now()
    latest = latest_due_period(cadence, now)
    return period_for(cadence, latest.end + timedelta(days=1)).due_at()


class SubscriptionRow(NamedTuple):
    subscription: Subscription
    next_at: datetime | None  # None when unsubscribed, or the strategy is archived

    @property
    def is_archived(self) -> bool:
        return self.subscription.strategy.status == Strategy.Status.ARCHIVED


def _rows(subscriptions: list[Subscription]) -> list[SubscriptionRow]:
    """Each subscription with its next report's time (archived strategies get none: the
    dispatcher skips them)."""
    now = timezone.now()
    return [
        SubscriptionRow(
            s,
            next_report_at(s.cadence, now)
            if s.is_active and s.strategy.status != Strategy.Status.ARCHIVED
            else None,
        )
        for s in subscriptions
    ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def subscriptions_page(request: HttpRequest) -> HttpResponse:
    """The user's own subscriptions (active and not) and a form to subscribe to another
    strategy of their missions. Queries: session, user, memberships, the subscriptions
    (with strategies and missions), the strategies offered — however many there are."""
    user = request.user
    strategies = list(
        visible_strategies(user=user)
        .exclude(status=Strategy.Status.ARCHIVED)
        .order_by("mission__name", "-period_start_fy", "title", "id")
    )
    form = SubscribeForm(request.POST or None, strategies=strategies)
    if request.method == "POST" and form.is_valid():
        strategy = form.chosen_strategy()
        try:
            subscription = subscription_create(
                strategy=strategy, cadence=form.cleaned_data["cadence"], by=user
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                f"Subscribed to the {_cadence_word(subscription.cadence)} report on "
                f"“{strategy.title}”. It is e-mailed to {user.email}.",
            )
            return redirect("subscriptions")
    mine = list(
        visible_subscriptions(user=user)
        .filter(user=user)
        .order_by("-is_active", "strategy__mission__name", "strategy__title", "cadence", "id")
    )
    context = {
        "rows": _rows(mine),
        "form": form,
        "has_strategies": bool(strategies),
        "cadences": SubscriptionEditForm.base_fields["cadence"].choices,
    }
    return render(
        request,
        "tracking/reports/subscriptions.html",
        context,
        status=400 if form.is_bound else 200,
    )


def _back(request: HttpRequest, subscription: Subscription) -> HttpResponse:
    """Back to the page the button was on: "My subscriptions" or the strategy's list."""
    if request.POST.get("next") == "strategy":
        return redirect("strategy-subscriptions", pk=subscription.strategy_id)
    return redirect("subscriptions")


def _recipient(subscription: Subscription) -> str:
    return subscription.address or subscription.recipient_label


@login_required
@require_POST
@_refusals
def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a subscription's cadence, unsubscribe or re-subscribe (its subscriber, or a
    manager of the strategy's mission). Conditional on the version the page showed."""
    user = request.user
    subscription = get_object_or_404(visible_subscriptions(user=user), pk=pk)
    form = SubscriptionEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the cadences offered.")
        return _back(request, subscription)
    try:
        updated = subscription_update(subscription=subscription, by=user, **form.service_kwargs())
    except StaleVersion:
        messages.error(
            request,
            "This subscription changed since the page was shown (another tab, or a manager). "
            "Check it below and try again.",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        what = f"the {_cadence_word(updated.cadence)} report on “{updated.strategy.title}”"
        if form.cleaned_data["active"] is False:
            messages.success(request, f"Unsubscribed {_recipient(updated)} from {what}.")
        elif form.cleaned_data["active"] is True:
            messages.success(request, f"Subscribed {_recipient(updated)} to {what} again.")
        else:
            messages.success(request, f"{_recipient(updated)} now receives {what}.")
    return _back(request, subscription)


@login_required
@require_POST
@_refusals
def subscription_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a subscription (a manager removing a recipient; its deliveries stay)."""
    user = request.user
    subscription = get_object_or_404(visible_subscriptions(user=user), pk=pk)
    recipient = _recipient(subscription)
    subscription_delete(subscription=subscription, by=user)
    messages.success(request, f"Removed {recipient} from the recipients of this strategy.")
    return _back(request, subscription)


@login_required
@require_POST
@_refusals
def subscription_send(request: HttpRequest, pk: int) -> HttpResponse:
    """“Send now”: today's on-demand report to this subscription's address. Pressing it
    again the same day does not send a second copy (one delivery per report and address)."""
    user = request.user
    subscription = get_object_or_404(visible_subscriptions(user=user), pk=pk)
    try:
        delivery = report_send_now(subscription=subscription, by=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back(request, subscription)
    if delivery.state == DeliveryState.SENT:
        sent = timezone.localtime(delivery.sent_at)
        messages.info(
            request,
            f"Today's report was already sent to {delivery.email} at {sent:%H:%M}; "
            "it is not sent twice.",
        )
    elif delivery.state == DeliveryState.FAILED:
        messages.warning(
            request,
            f"Sending today's report to {delivery.email} failed: {delivery.last_error}",
        )
    else:
        messages.success(
            request,
            f"Today's report will be e-mailed to {delivery.email} as soon as it is ready. "
            "The deliveries below show its progress.",
        )
    return _back(request, subscription)


# --- Subscriptions of one strategy (managers) -------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def strategy_subscriptions(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers: every subscription of the strategy — members and outside addresses —
    with "Send now" and "Remove", forms to add a member or an address, and the recent
    deliveries with their state. Queries: session, user, memberships, the strategy, the
    members offered, the subscriptions, the recent deliveries."""
    user = request.user
    strategy = _visible_strategy(user, pk)
    require_role(user, strategy.mission_id, Role.MANAGER, "manage the subscriptions of a strategy")
    members = list(
        User.objects.filter(memberships__mission_id=strategy.mission_id, is_active=True)
        .exclude(email="")
        .order_by("username")
    )
    adding = request.POST.get("add") if request.method == "POST" else None
    member_form = AddMemberForm(request.POST if adding == "member" else None, members=members)
    address_form = AddAddressForm(request.POST if adding == "address" else None)
    form = member_form if adding == "member" else address_form if adding == "address" else None
    if form is not None and form.is_valid():
        extra = (
            {"user": member_form.chosen_member()}
            if form is member_form
            else {"email": address_form.cleaned_data["email"]}
        )
        try:
            subscription = subscription_create(
                strategy=strategy, cadence=form.cleaned_data["cadence"], by=user, **extra
            )
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                f"{_recipient(subscription)} now receives the "
                f"{_cadence_word(subscription.cadence)} report.",
            )
            return redirect("strategy-subscriptions", pk=strategy.pk)
    subscriptions = list(
        visible_subscriptions(user=user)
        .filter(strategy=strategy)
        .order_by("-is_active", "cadence", "user__username", "email", "id")
    )
    context = {
        "strategy": strategy,
        "rows": _rows(subscriptions),
        "member_form": member_form,
        "address_form": address_form,
        "deliveries": recent_deliveries(strategy=strategy, limit=RECENT_DELIVERIES),
        "recent_limit": RECENT_DELIVERIES,
        "cadences": SubscriptionEditForm.base_fields["cadence"].choices,
    }
    if request.method == "POST" and form is None:
        messages.error(request, "Choose whom to add: a member or an outside address.")
    status = 400 if request.method == "POST" else 200  # a valid POST has redirected
    return render(request, "tracking/reports/strategy_subscriptions.html", context, status=status)


# --- Unsubscribing from an e-mail ---------------------------------------------------------------


# No CSRF check here, on purpose. RFC 8058 "one-click" unsubscribing: the mail client (or
# the provider's server) POSTs `List-Unsubscribe=One-Click` to the URL of our
# `List-Unsubscribe` header, with no cookie, no session and no way to fetch a CSRF token.
# Nothing here relies on who the browser is signed in as: the signed token in the URL
# names the one subscription, and the only thing a POST can do is switch it off
# (idempotent, reversible by its owner), so a forged cross-site POST gains nothing that
# knowing the link does not already give. GET never changes anything (link scanners
# follow links in e-mails): it asks for confirmation.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link of every report e-mail. Works without signing in."""
    subscription = subscription_from_token(token)
    if subscription is None:
        response = render(request, "tracking/reports/unsubscribe_invalid.html", status=404)
    else:
        was_active = subscription.is_active
        if request.method == "POST":
            subscription = unsubscribe(subscription=subscription)
            template = "tracking/reports/unsubscribe_done.html"
        else:
            template = "tracking/reports/unsubscribe.html"
        context = {
            "subscription": subscription,
            "address": subscription.address,
            "cadence": _cadence_word(subscription.cadence),
            "strategy": subscription.strategy,
            "was_active": was_active,
            "token": token,
        }
        response = render(request, template, context)
    add_never_cache_headers(response)  # the URL is a credential of sorts: keep it out of caches
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
