"""The report and subscription pages (SPEC §2.3, §4): who may see, generate, subscribe and
manage on each page; the pending report that polls with htmx until it is ready; the
downloads; "Send now" that never sends twice; the unsubscribe link that works without
signing in (also as an RFC 8058 one-click POST from a mail client); and the archive and
"My subscriptions" in a fixed number of queries however many rows they show.

Ready reports come from `tests.api.test_reports_api.ready_report` (the real snapshot
selector, a stand-in PDF); one test builds a report for real, WeasyPrint included.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from strategy.models import Strategy
from tests.api.test_reports_api import FAKE_PDF, XLSX_TYPE, pending_report, ready_report
from tracking.models import Cadence, Delivery, DeliveryState, Report, ReportState, Subscription
from tracking.reports.services import report_build, unsubscribe_token

# Wednesday 25 November 2026, 10:02 (UTC, the test TIME_ZONE): the latest weekly report
# fell due on Monday 23rd; the next one is due on Monday 30th at 06:00.
NOW = dt.datetime(2026, 11, 25, 10, 2, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def text_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    assert "<script>" not in html and " style=" not in html, "inline script or style"
    return html


def signed_in(client: Client, user) -> Client:
    client.force_login(user)
    return client


def subscribe(strategy, user=None, *, cadence=Cadence.WEEKLY, email="") -> Subscription:
    return Subscription.objects.create(
        strategy=strategy, cadence=cadence, user=user, email=email, created_by=user
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Who may see what ----------------------------------------------------------------------


@pytest.fixture
def report(tree) -> Report:
    return ready_report(tree.strategy)


def page_urls(tree, report, subscription) -> dict[str, str]:
    return {
        "archive": reverse("report-list", args=[tree.strategy.pk]),
        "report": reverse("report-detail", args=[report.pk]),
        "pdf": reverse("report-pdf", args=[report.pk]),
        "xlsx": reverse("report-xlsx", args=[report.pk]),
        "mine": reverse("subscriptions"),
        "strategy subscriptions": reverse("strategy-subscriptions", args=[tree.strategy.pk]),
    }


# Page → status for each persona (the outsider is a manager of another mission).
WHO_SEES = {
    "archive": {"viewer": 200, "analyst": 200, "manager": 200, "outsider": 404},
    "report": {"viewer": 200, "analyst": 200, "manager": 200, "outsider": 404},
    "pdf": {"viewer": 200, "analyst": 200, "manager": 200, "outsider": 404},
    "xlsx": {"viewer": 200, "analyst": 200, "manager": 200, "outsider": 404},
    "mine": {"viewer": 200, "analyst": 200, "manager": 200, "outsider": 200},
    "strategy subscriptions": {"viewer": 403, "analyst": 403, "manager": 200, "outsider": 404},
}


@pytest.mark.parametrize("page", list(WHO_SEES))
def test_each_page_answers_each_persona_as_their_role_allows(client, personas, tree, report, page):
    url = page_urls(tree, report, None)[page]
    for persona, expected in WHO_SEES[page].items():
        response = signed_in(Client(), personas.by_role(persona)).get(url)
        assert response.status_code == expected, (page, persona, response.status_code)
        if expected == 403:
            assert "You need the manager role" in response.content.decode()


@pytest.mark.parametrize("page", list(WHO_SEES))
def test_anonymous_visitors_are_sent_to_sign_in(client, personas, tree, report, page):
    url = page_urls(tree, report, None)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={url}"


def test_the_strategy_page_and_the_navigation_link_to_reports_and_subscriptions(
    client, personas, tree
):
    html = text_of(
        signed_in(client, personas.manager).get(reverse("strategy-detail", args=[tree.strategy.pk]))
    )
    assert f'href="{reverse("report-list", args=[tree.strategy.pk])}">Reports</a>' in html
    assert (
        f'href="{reverse("strategy-subscriptions", args=[tree.strategy.pk])}">Subscriptions</a>'
        in html
    )
    assert f'href="{reverse("subscriptions")}">Subscriptions</a>' in html  # the site navigation

    viewer = text_of(
        signed_in(Client(), personas.viewer).get(
            reverse("strategy-detail", args=[tree.strategy.pk])
        )
    )
    assert reverse("strategy-subscriptions", args=[tree.strategy.pk]) not in viewer


# --- The archive ------------------------------------------------------------------------------


def test_the_archive_lists_each_report_with_its_formats(client, personas, tree, report):
    pending = pending_report(tree.strategy, day=dt.date(2026, 11, 25))
    html = text_of(
        signed_in(client, personas.viewer).get(reverse("report-list", args=[tree.strategy.pk]))
    )
    assert "Week of 16 Nov 2026" in html and "Weekly" in html
    assert reverse("report-pdf", args=[report.pk]) in html
    assert reverse("report-xlsx", args=[report.pk]) in html
    assert "Being prepared" in html and "Ready" in html
    assert reverse("report-pdf", args=[pending.pk]) not in html
    assert '<th scope="col">Period</th>' in html


def test_only_managers_are_offered_generate_now(client, personas, tree):
    url = reverse("report-list", args=[tree.strategy.pk])
    generate = reverse("report-generate", args=[tree.strategy.pk])
    assert generate not in text_of(signed_in(client, personas.analyst).get(url))
    manager = text_of(signed_in(Client(), personas.manager).get(url))
    assert f'action="{generate}"' in manager
    assert "Generate today's report now</button>" in manager


def test_the_archive_filters_by_cadence_and_pages(client, personas, tree, report):
    ready_report(tree.strategy, cadence=Cadence.MONTHLY)
    client = signed_in(client, personas.viewer)
    url = reverse("report-list", args=[tree.strategy.pk])
    html = text_of(client.get(url, {"cadence": "monthly"}))
    assert "November 2026" in html and "Week of 16 Nov 2026" not in html
    for week in range(1, 30):
        Report.objects.create(
            strategy=tree.strategy,
            cadence=Cadence.WEEKLY,
            period_start=dt.date(2025, 1, 6) + dt.timedelta(weeks=week),
            period_end=dt.date(2025, 1, 12) + dt.timedelta(weeks=week),
            label=f"Old week {week}",
        )
    html = text_of(client.get(url, {"cadence": "weekly"}))
    assert "page 1 of 2" in html
    assert 'href="?cadence=weekly&amp;page=2" rel="next"' in html


# Queries of the archive: the session, the user, the user's roles, the strategy, the
# count of its reports, the page of reports (with strategy and mission, no content or PDF).
ARCHIVE_QUERIES = 6


@pytest.mark.parametrize("n", [1, 40])
def test_the_archive_runs_a_fixed_number_of_queries(
    client, personas, tree, n, django_assert_num_queries
):
    for week in range(n):
        Report.objects.create(
            strategy=tree.strategy,
            cadence=Cadence.WEEKLY,
            period_start=dt.date(2025, 1, 6) + dt.timedelta(weeks=week),
            period_end=dt.date(2025, 1, 12) + dt.timedelta(weeks=week),
            label=f"Week {week}",
            state=ReportState.READY,
            built_at=NOW,
            content={"schema": 1},
        )
    client = signed_in(client, personas.manager)
    with django_assert_num_queries(ARCHIVE_QUERIES):
        response = client.get(reverse("report-list", args=[tree.strategy.pk]))
    assert response.status_code == 200


# --- Generate now ---------------------------------------------------------------------------------


def test_a_manager_generates_a_report_and_lands_on_its_page_while_it_is_prepared(
    client, personas, tree, django_capture_on_commit_callbacks
):
    client = signed_in(client, personas.manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("report-generate", args=[tree.strategy.pk]))
    report = Report.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("report-detail", args=[report.pk])
    assert report.cadence == Cadence.ON_DEMAND and report.state == ReportState.PENDING
    assert len(callbacks) == 1, "the build is enqueued on commit"
    page = client.get(response.url)
    assert "The report is being prepared." in messages_of(page)[0]


def test_generating_again_the_same_day_opens_the_same_report_and_says_when_it_was_made(
    client, personas, tree
):
    made = ready_report(tree.strategy, cadence=Cadence.ON_DEMAND, day=dt.date(2026, 11, 25))
    client = signed_in(client, personas.manager)
    response = client.post(reverse("report-generate", args=[tree.strategy.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("report-detail", args=[made.pk])
    assert Report.objects.count() == 1
    assert messages_of(response)[0].startswith(
        "Today's report was generated at 10:02; reports are immutable — it shows the state "
        "at that time."
    )


@pytest.mark.parametrize(
    ("persona", "status"), [("viewer", 403), ("analyst", 403), ("outsider", 404)]
)
def test_only_managers_of_the_mission_generate_reports(client, personas, tree, persona, status):
    response = signed_in(client, personas.by_role(persona)).post(
        reverse("report-generate", args=[tree.strategy.pk])
    )
    assert response.status_code == status
    assert not Report.objects.exists()


def test_generate_now_refuses_get(client, personas, tree):
    response = signed_in(client, personas.manager).get(
        reverse("report-generate", args=[tree.strategy.pk])
    )
    assert response.status_code == 405


# --- One report ---------------------------------------------------------------------------------


def test_a_ready_report_shows_in_the_site_layout_with_its_downloads(client, personas, tree, report):
    html = text_of(
        signed_in(client, personas.viewer).get(reverse("report-detail", args=[report.pk]))
    )
    assert "<h1>" in html and "Week of 16 Nov 2026" in html
    assert "Status at a glance" in html  # the body partial
    assert f'href="{reverse("report-pdf", args=[report.pk])}"' in html
    assert "hx-trigger" not in html


def test_a_pending_report_asks_for_its_state_every_two_seconds(client, personas, tree):
    pending = pending_report(tree.strategy)
    url = reverse("report-detail", args=[pending.pk])
    html = text_of(signed_in(client, personas.viewer).get(url))
    assert "This report is being prepared" in html
    assert f'hx-get="{url}" hx-trigger="every 2s" hx-swap="outerHTML"' in html
    assert "vendor/htmx/htmx.min.js" in html


def test_the_poll_gets_the_state_partial_until_the_report_is_ready(client, personas, tree):
    pending = pending_report(tree.strategy)
    client = signed_in(client, personas.viewer)
    url = reverse("report-detail", args=[pending.pk])
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert "HX-Request" in partial["Vary"]
    html = text_of(partial)
    assert "<html" not in html and 'hx-trigger="every 2s"' in html

    ready = ready_report(tree.strategy, cadence=Cadence.MONTHLY)
    Report.objects.filter(pk=pending.pk).update(
        state=ReportState.READY, content=ready.content, pdf=FAKE_PDF, built_at=NOW
    )
    html = text_of(client.get(url, HTTP_HX_REQUEST="true"))
    assert "<html" not in html and "hx-trigger" not in html
    assert "Status at a glance" in html
    # The header's state and build time follow, out of band.
    assert '<dd id="report-fact-state" hx-swap-oob="true"><span class="badge' in html
    assert ">Ready</span>" in html.split('id="report-fact-state"')[1]


def test_managers_see_who_a_report_was_emailed_to_and_how_it_went(client, personas, tree, report):
    Delivery.objects.create(
        report=report, email="sent@example.org", state=DeliveryState.SENT, attempts=1, sent_at=NOW
    )
    Delivery.objects.create(
        report=report, email="bounced@example.org", state=DeliveryState.FAILED, attempts=5,
        last_error="SMTP 550: mailbox unavailable",
    )  # fmt: skip
    url = reverse("report-detail", args=[report.pk])
    html = text_of(signed_in(client, personas.manager).get(url))
    assert "E-mailed to" in html
    assert "sent@example.org" in html and ">Sent</span>" in html
    assert "bounced@example.org" in html and ">Failed</span>" in html
    assert "SMTP 550: mailbox unavailable" in html

    viewer = text_of(signed_in(Client(), personas.viewer).get(url))
    assert "bounced@example.org" not in viewer


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_downloads_are_attachments_of_the_right_type(client, personas, tree, report, fmt):
    response = signed_in(client, personas.viewer).get(reverse(f"report-{fmt}", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == {"pdf": "application/pdf", "xlsx": XLSX_TYPE}[fmt]
    assert response["Content-Disposition"] == (
        f'attachment; filename="testland-week-of-16-nov-2026.{fmt}"'
    )
    body = response.content
    assert body == FAKE_PDF if fmt == "pdf" else body[:2] == b"PK"


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_downloads_of_a_report_being_prepared_are_404(client, personas, tree, fmt):
    pending = pending_report(tree.strategy)
    response = signed_in(client, personas.viewer).get(reverse(f"report-{fmt}", args=[pending.pk]))
    assert response.status_code == 404


def test_a_report_generated_for_real_shows_on_its_page(
    client, personas, tree, django_capture_on_commit_callbacks
):
    """The whole path once, WeasyPrint included: generate, build, open, download."""
    client = signed_in(client, personas.manager)
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("report-generate", args=[tree.strategy.pk]))
    report = Report.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        report_build(report_id=report.pk)
    html = text_of(client.get(reverse("report-detail", args=[report.pk])))
    assert "Status at a glance" in html and tree.goal1.title in html
    pdf = client.get(reverse("report-pdf", args=[report.pk]))
    assert pdf.content.startswith(b"%PDF-")


# --- My subscriptions ----------------------------------------------------------------------------


def test_my_subscriptions_shows_each_cadence_and_when_the_next_report_comes(client, personas, tree):
    subscribe(tree.strategy, personas.viewer, cadence=Cadence.WEEKLY)
    subscribe(tree.strategy, personas.viewer, cadence=Cadence.MONTHLY)
    subscribe(tree.strategy, personas.analyst)  # someone else's
    html = text_of(signed_in(client, personas.viewer).get(reverse("subscriptions")))
    assert "Next report: <time" in html
    assert "Monday 30 Nov 2026, 06:00" in html  # weekly: the Monday after this week
    assert "Tuesday 1 Dec 2026, 06:00" in html  # monthly: the 1st of next month
    assert html.count(">Subscribed</span>") == 2
    assert "viewer@example.org" in html


def test_a_subscription_to_an_archived_strategy_says_no_more_reports_come(client, personas, tree):
    Strategy.objects.filter(pk=tree.strategy.pk).update(status=Strategy.Status.ARCHIVED)
    subscribe(tree.strategy, personas.viewer)
    html = text_of(signed_in(client, personas.viewer).get(reverse("subscriptions")))
    assert "No more reports: the strategy is archived." in html
    assert "Next report" not in html


def test_a_member_subscribes_from_the_page(client, personas, tree):
    response = signed_in(client, personas.viewer).post(
        reverse("subscriptions"), {"strategy": tree.strategy.pk, "cadence": "monthly"}, follow=True
    )
    sub = Subscription.objects.get()
    assert (sub.user, sub.cadence, sub.is_active) == (personas.viewer, Cadence.MONTHLY, True)
    assert messages_of(response)[0].startswith("Subscribed to the monthly report on")


def test_subscribing_twice_shows_the_error_next_to_the_field(client, personas, tree):
    subscribe(tree.strategy, personas.viewer)
    response = signed_in(client, personas.viewer).post(
        reverse("subscriptions"), {"strategy": tree.strategy.pk, "cadence": "weekly"}
    )
    assert response.status_code == 400
    html = text_of(response)
    assert (
        'id="id_subscribe_cadence_error"' in html and "Already subscribed to this report." in html
    )
    assert Subscription.objects.count() == 1


def test_only_strategies_of_the_users_missions_are_offered(client, personas, tree):
    client = signed_in(client, personas.viewer)
    html = text_of(client.get(reverse("subscriptions")))
    assert f'<option value="{tree.strategy.pk}"' in html
    assert f'<option value="{tree.other_strategy.pk}"' not in html
    response = client.post(
        reverse("subscriptions"), {"strategy": tree.other_strategy.pk, "cadence": "weekly"}
    )
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_unsubscribing_and_subscribing_again_from_my_subscriptions(client, personas, tree):
    sub = subscribe(tree.strategy, personas.viewer)
    client = signed_in(client, personas.viewer)
    edit = reverse("subscription-edit", args=[sub.pk])
    response = client.post(edit, {"active": "no", "version": 1, "next": "mine"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("subscriptions")
    assert messages_of(response)[0].startswith("Unsubscribed viewer@example.org from the weekly")
    sub.refresh_from_db()
    assert not sub.is_active
    assert "Subscribe again<span" in text_of(response)

    client.post(edit, {"active": "yes", "version": sub.version})
    sub.refresh_from_db()
    assert sub.is_active


def test_changing_how_often(client, personas, tree):
    sub = subscribe(tree.strategy, personas.viewer)
    signed_in(client, personas.viewer).post(
        reverse("subscription-edit", args=[sub.pk]), {"cadence": "quarterly", "version": 1}
    )
    sub.refresh_from_db()
    assert sub.cadence == Cadence.QUARTERLY


def test_a_change_from_a_stale_page_is_refused_and_changes_nothing(client, personas, tree):
    sub = subscribe(tree.strategy, personas.viewer)
    Subscription.objects.filter(pk=sub.pk).update(version=2)  # changed in another tab
    response = signed_in(client, personas.viewer).post(
        reverse("subscription-edit", args=[sub.pk]),
        {"cadence": "monthly", "version": 1},
        follow=True,
    )
    assert "changed since the page was shown" in messages_of(response)[0]
    sub.refresh_from_db()
    assert sub.cadence == Cadence.WEEKLY


def test_someone_elses_subscription_cannot_be_changed_or_sent(client, personas, tree):
    sub = subscribe(tree.strategy, personas.viewer)
    client = signed_in(client, personas.analyst)
    assert (
        client.post(reverse("subscription-edit", args=[sub.pk]), {"active": "no"}).status_code
        == 404
    )
    assert client.post(reverse("subscription-remove", args=[sub.pk])).status_code == 404
    assert client.post(reverse("subscription-send", args=[sub.pk])).status_code == 404
    sub.refresh_from_db()
    assert sub.is_active


# Queries of "My subscriptions": the session, the user, the user's roles, the strategies
# offered (with missions), the user's subscriptions (with strategies, missions, users).
MINE_QUERIES = 5


@pytest.mark.parametrize("n", [1, 12])
def test_my_subscriptions_runs_a_fixed_number_of_queries(
    client, personas, tree, n, django_assert_num_queries
):
    from tests.factories import StrategyFactory

    for i in range(n):
        strategy = StrategyFactory(mission=personas.mission, title=f"Strategy {i}")
        subscribe(strategy, personas.viewer, cadence=[Cadence.WEEKLY, Cadence.MONTHLY][i % 2])
    client = signed_in(client, personas.viewer)
    with django_assert_num_queries(MINE_QUERIES):
        response = client.get(reverse("subscriptions"))
    assert response.status_code == 200
    assert text_of(response).count(">Subscribed</span>") == n


# --- Subscriptions of a strategy (managers) ---------------------------------------------------


def test_managers_see_every_recipient_and_the_recent_deliveries(client, personas, tree, report):
    member = subscribe(tree.strategy, personas.viewer)
    subscribe(tree.strategy, email="press@example.org")
    subscribe(tree.other_strategy, personas.outsider)
    Delivery.objects.create(
        report=report, subscription=member, email="viewer@example.org", state=DeliveryState.PENDING,
        attempts=2, last_error="Mail server unreachable: timed out",
    )  # fmt: skip
    html = text_of(
        signed_in(client, personas.manager).get(
            reverse("strategy-subscriptions", args=[tree.strategy.pk])
        )
    )
    assert "Recipients (2)" in html
    assert "press@example.org" in html and "Outside address" in html
    assert "viewer@example.org" in html and "Member" in html
    assert "outsider" not in html
    assert "Recent deliveries" in html and "Waiting to send" in html
    assert "Mail server unreachable: timed out" in html
    assert "Send today's report now<span" in html


def test_a_manager_adds_an_outside_address(client, personas, tree):
    response = signed_in(client, personas.manager).post(
        reverse("strategy-subscriptions", args=[tree.strategy.pk]),
        {
            "add": "address",
            "address-email": "Front.Office@Example.org",
            "address-cadence": "monthly",
        },
        follow=True,
    )
    sub = Subscription.objects.get()
    assert (sub.email, sub.user, sub.cadence) == ("front.office@example.org", None, Cadence.MONTHLY)
    assert messages_of(response)[0] == "front.office@example.org now receives the monthly report."


def test_a_manager_adds_a_member(client, personas, tree):
    signed_in(client, personas.manager).post(
        reverse("strategy-subscriptions", args=[tree.strategy.pk]),
        {"add": "member", "member-member": personas.analyst.pk, "member-cadence": "weekly"},
    )
    assert Subscription.objects.get().user == personas.analyst


def test_a_bad_address_is_shown_next_to_its_field(client, personas, tree):
    response = signed_in(client, personas.manager).post(
        reverse("strategy-subscriptions", args=[tree.strategy.pk]),
        {"add": "address", "address-email": "not an address", "address-cadence": "weekly"},
    )
    assert response.status_code == 400
    assert 'id="id_address-email_error"' in text_of(response)
    assert not Subscription.objects.exists()


def test_only_managers_may_add_outside_addresses(client, personas, tree):
    response = signed_in(client, personas.analyst).post(
        reverse("strategy-subscriptions", args=[tree.strategy.pk]),
        {"add": "address", "address-email": "press@example.org", "address-cadence": "weekly"},
    )
    assert response.status_code == 403
    assert not Subscription.objects.exists()


def test_send_now_creates_exactly_one_delivery_even_when_pressed_twice(
    client, personas, tree, django_capture_on_commit_callbacks
):
    sub = subscribe(tree.strategy, email="press@example.org")
    client = signed_in(client, personas.manager)
    url = reverse("subscription-send", args=[sub.pk])
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(url, {"next": "strategy"}, follow=True)
        second = client.post(url, {"next": "strategy"}, follow=True)
    delivery = Delivery.objects.get()
    assert (delivery.email, delivery.subscription, delivery.state) == (
        "press@example.org", sub, DeliveryState.PENDING,
    )  # fmt: skip
    assert delivery.report.cadence == Cadence.ON_DEMAND
    assert Report.objects.count() == 1
    assert first.redirect_chain[-1][0] == reverse("strategy-subscriptions", args=[tree.strategy.pk])
    assert "will be e-mailed to press@example.org" in messages_of(first)[0]
    assert "will be e-mailed to press@example.org" in messages_of(second)[0]


def test_send_now_says_when_todays_report_already_went_out(client, personas, tree):
    sub = subscribe(tree.strategy, email="press@example.org")
    today = ready_report(tree.strategy, cadence=Cadence.ON_DEMAND, day=dt.date(2026, 11, 25))
    Delivery.objects.create(
        report=today,
        subscription=sub,
        email="press@example.org",
        state=DeliveryState.SENT,
        sent_at=NOW,
    )
    response = signed_in(client, personas.manager).post(
        reverse("subscription-send", args=[sub.pk]), {"next": "strategy"}, follow=True
    )
    assert "already sent to press@example.org at 10:02" in messages_of(response)[0]
    assert Delivery.objects.count() == 1


def test_a_manager_removes_a_recipient(client, personas, tree):
    sub = subscribe(tree.strategy, email="press@example.org")
    response = signed_in(client, personas.manager).post(
        reverse("subscription-remove", args=[sub.pk]), {"next": "strategy"}, follow=True
    )
    assert not Subscription.objects.exists()
    assert (
        messages_of(response)[0]
        == "Removed press@example.org from the recipients of this strategy."
    )


# --- Unsubscribing from an e-mail, without signing in -----------------------------------------


@pytest.fixture
def csrf_client() -> Client:
    """A client that enforces CSRF like a real browser session would."""
    return Client(enforce_csrf_checks=True)


def test_the_unsubscribe_link_asks_first_and_changes_nothing(client, personas, tree):
    sub = subscribe(tree.strategy, personas.viewer)
    response = client.get(reverse("unsubscribe", args=[unsubscribe_token(sub)]))
    assert response.status_code == 200
    html = text_of(response)
    title = tree.strategy.title
    assert (
        f"Unsubscribe <strong>viewer@example.org</strong> from the weekly report on <strong>{title}</strong>"
        in html
    )
    assert "Unsubscribe viewer@example.org</button>" in html
    assert response["Cache-Control"].startswith("max-age=0")
    sub.refresh_from_db()
    assert sub.is_active


def test_confirming_unsubscribes_once_and_again_changes_nothing(csrf_client, personas, tree):
    sub = subscribe(tree.strategy, email="press@example.org")
    url = reverse("unsubscribe", args=[unsubscribe_token(sub)])
    response = csrf_client.post(url)
    assert response.status_code == 200
    assert "<strong>press@example.org</strong> will no longer receive the weekly report" in text_of(
        response
    )
    sub.refresh_from_db()
    assert not sub.is_active and sub.version == 2

    again = csrf_client.post(url)
    assert again.status_code == 200
    sub.refresh_from_db()
    assert sub.version == 2
    assert "Already unsubscribed" in text_of(csrf_client.get(url))


def test_a_mail_clients_one_click_post_unsubscribes_without_a_csrf_token(
    csrf_client, personas, tree
):
    sub = subscribe(tree.strategy, personas.viewer)
    response = csrf_client.post(
        reverse("unsubscribe", args=[unsubscribe_token(sub)]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    assert not sub.is_active


@pytest.mark.parametrize("forge", ["cut", "tampered", "made up"])
def test_a_forged_or_cut_token_is_a_404_with_a_clear_message(client, personas, tree, forge):
    sub = subscribe(tree.strategy, personas.viewer)
    token = unsubscribe_token(sub)
    bad = {
        "cut": token[:-6],
        "tampered": re.sub(r"^(.)", lambda m: "A" if m.group(1) != "A" else "B", token),
        "made up": "not-a-token",
    }[forge]
    for method in (client.get, client.post):
        response = method(reverse("unsubscribe", args=[bad]))
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in text_of(response)
    sub.refresh_from_db()
    assert sub.is_active


def test_the_link_of_a_removed_subscription_is_a_404(client, personas, tree):
    sub = subscribe(tree.strategy, email="press@example.org")
    token = unsubscribe_token(sub)
    sub.delete()
    response = client.post(reverse("unsubscribe", args=[token]))
    assert response.status_code == 404
