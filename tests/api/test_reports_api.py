"""Reports and subscriptions over the API (SPEC §2.3, §5): asking for a report answers 202
with a link to poll; the list leaves out the snapshot, the detail has it; the PDF and XLSX
downloads, and 409 while a report is being prepared; subscriptions with ETags and
If-Match; other missions' objects are 404 (or "does not exist" in a body); lists run a
fixed number of queries however many rows they hold.

Ready reports are made here without WeasyPrint: the snapshot comes from the real
`report_content` selector, the PDF is a stand-in (`ready_report`).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from strategy.models import Strategy
from strategy.services import api_token_create
from tracking.models import Cadence, Report, ReportState, Subscription
from tracking.reports.periods import ReportPeriod, period_for
from tracking.reports.selectors import report_content

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.4 test"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ready_report(
    strategy: Strategy,
    *,
    cadence: str = Cadence.WEEKLY,
    day: date = date(2026, 11, 16),
    pdf: bytes = FAKE_PDF,
) -> Report:
    """A ready report of `strategy` for the `cadence` period containing `day`: its snapshot
    from the real builder's selector (no PDF rendering), its PDF a stand-in."""
    period = period_for(cadence, day)
    strategy = Strategy.objects.select_related("mission").get(pk=strategy.pk)
    now = timezone.now()
    content = report_content(
        strategy=strategy,
        period=ReportPeriod(period.cadence, period.start, period.end),
        generated_at=now,
    )
    return Report.objects.create(
        strategy=strategy,
        cadence=cadence,
        period_start=period.start,
        period_end=period.end,
        label=period.label,
        state=ReportState.READY,
        content=content,
        pdf=pdf,
        built_at=now,
    )


def pending_report(strategy: Strategy, *, day: date = date(2026, 11, 25)) -> Report:
    return Report.objects.create(
        strategy=strategy,
        cadence=Cadence.ON_DEMAND,
        period_start=day,
        period_end=day,
        label=f"{day:%-d %b %Y}",
    )


def subscription(strategy, user=None, *, cadence=Cadence.WEEKLY, email="") -> Subscription:
    return Subscription.objects.create(
        strategy=strategy, cadence=cadence, user=user, email=email, created_by=user
    )


_tokens = itertools.count(1)  # token names are unique per user


def api(user) -> APIClient:
    """An API client sending a real token of `user`, with JSON bodies."""
    _, key = api_token_create(user=user, name=f"reports api {next(_tokens)}")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    client.default_format = "json"
    return client


def report_url(report: Report, action: str = "detail") -> str:
    return reverse(f"api:report-{action}", args=[report.pk])


def sub_url(sub: Subscription) -> str:
    return reverse("api:subscription-detail", args=[sub.pk])


# --- Asking for a report: 202 and a link to poll -----------------------------------------


def test_a_manager_asks_for_a_report_and_gets_202_with_a_link_to_poll(
    personas, tree, django_capture_on_commit_callbacks
):
    client = api(personas.manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("api:report-list"), {"strategy": tree.strategy.id})
    assert response.status_code == 202, response.content
    body = response.json()
    report = Report.objects.get(pk=body["id"])
    assert body == {"id": report.id, "state": "pending", "url": response["Location"]}
    assert response["Location"] == f"http://testserver/api/v1/reports/{report.id}/"
    assert report.cadence == Cadence.ON_DEMAND and report.requested_by == personas.manager
    assert len(callbacks) == 1, "the build is enqueued once the request's transaction commits"

    polled = client.get(body["url"]).json()
    assert polled["state"] == "pending" and polled["content"] == {}

    Report.objects.filter(pk=report.pk).update(
        state=ReportState.READY, built_at=timezone.now(), content={"schema": 1}
    )
    polled = client.get(body["url"]).json()
    assert polled["state"] == "ready" and polled["content"] == {"schema": 1}


def test_asking_again_for_the_same_period_returns_the_same_report(personas, tree):
    client = api(personas.manager)
    first = client.post(reverse("api:report-list"), {"strategy": tree.strategy.id}).json()
    second = client.post(reverse("api:report-list"), {"strategy": tree.strategy.id})
    assert second.status_code == 202
    assert second.json()["id"] == first["id"]
    assert Report.objects.count() == 1


def test_asking_for_a_ready_report_again_says_it_is_ready(personas, tree):
    today = timezone.localdate()
    ready = ready_report(tree.strategy, cadence=Cadence.ON_DEMAND, day=today)
    response = api(personas.manager).post(
        reverse("api:report-list"), {"strategy": tree.strategy.id}
    )
    assert response.status_code == 202
    assert response.json()["id"] == ready.id and response.json()["state"] == "ready"


def test_a_scheduled_cadence_asks_for_its_latest_due_period(personas, tree):
    response = api(personas.manager).post(
        reverse("api:report-list"), {"strategy": tree.strategy.id, "cadence": "monthly"}
    )
    assert response.status_code == 202
    report = Report.objects.get(pk=response.json()["id"])
    assert report.cadence == Cadence.MONTHLY and report.period_end < timezone.localdate()


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_members_below_manager_cannot_ask_for_reports(personas, tree, persona):
    response = api(personas.by_role(persona)).post(
        reverse("api:report-list"), {"strategy": tree.strategy.id}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "You need the manager role to generate reports."
    assert not Report.objects.exists()


def test_a_request_without_a_strategy_or_with_an_unknown_cadence_is_400(personas, tree):
    client = api(personas.manager)
    response = client.post(reverse("api:report-list"), {"cadence": "weekly"})
    assert response.status_code == 400 and "strategy" in response.json()["fields"]
    body = {"strategy": tree.strategy.id, "cadence": "daily"}
    response = client.post(reverse("api:report-list"), body)
    assert response.status_code == 400 and "cadence" in response.json()["fields"]
    assert not Report.objects.exists()


def test_another_missions_strategy_does_not_exist_for_the_caller(personas, tree):
    response = api(personas.outsider).post(
        reverse("api:report-list"), {"strategy": tree.strategy.id}
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["strategy"][0]


# --- Reading reports ---------------------------------------------------------------------


def test_the_list_leaves_out_the_snapshot_and_the_detail_has_it_with_links(personas, tree):
    report = ready_report(tree.strategy)
    client = api(personas.viewer)
    listed = client.get(reverse("api:report-list")).json()["results"]
    assert [r["id"] for r in listed] == [report.id]
    assert "content" not in listed[0]
    assert listed[0]["strategy_title"] == tree.strategy.title
    assert listed[0]["label"] == "Week of 16 Nov 2026" and listed[0]["state"] == "ready"

    detail = client.get(report_url(report)).json()
    assert detail["content"]["strategy"]["id"] == tree.strategy.id
    assert detail["content"]["period"]["label"] == "Week of 16 Nov 2026"
    assert detail["links"] == {
        "api": f"http://testserver/api/v1/reports/{report.id}/",
        "html": f"http://testserver/reports/{report.id}/",
        "pdf": f"http://testserver/api/v1/reports/{report.id}/pdf/",
        "xlsx": f"http://testserver/api/v1/reports/{report.id}/xlsx/",
    }


def test_the_list_filters_by_strategy_cadence_and_state(personas, tree):
    weekly = ready_report(tree.strategy)
    monthly = ready_report(tree.strategy, cadence=Cadence.MONTHLY)
    pending = pending_report(tree.strategy)
    client = api(personas.viewer)

    def ids(**query) -> set[int]:
        response = client.get(reverse("api:report-list"), query)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {weekly.id, monthly.id, pending.id}
    assert ids(cadence="monthly") == {monthly.id}
    assert ids(state="pending") == {pending.id}
    assert ids(strategy=tree.strategy.id, state="ready") == {weekly.id, monthly.id}
    assert ids(strategy=tree.other_strategy.id) == set()


@pytest.mark.parametrize("query", [{"state": "done"}, {"cadence": "daily"}, {"strategy": "x"}])
def test_a_bad_filter_value_is_400(personas, query):
    response = api(personas.viewer).get(reverse("api:report-list"), query)
    assert response.status_code == 400
    assert set(query) <= set(response.json()["fields"])


def test_reports_of_another_mission_are_not_listed_and_are_404(personas, tree):
    report = ready_report(tree.other_strategy)
    client = api(personas.manager)
    assert client.get(reverse("api:report-list")).json()["results"] == []
    for action in ("detail", "pdf", "xlsx"):
        assert client.get(report_url(report, action)).status_code == 404


def test_reports_are_read_only(personas, tree):
    report = ready_report(tree.strategy)
    client = api(personas.superuser)
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(report_url(report), {}, format="json")
        assert response.status_code == 405, method


# --- Downloads ---------------------------------------------------------------------------


def test_the_pdf_is_the_stored_file_as_an_attachment_with_a_descriptive_name(personas, tree):
    report = ready_report(tree.strategy)
    response = api(personas.viewer).get(report_url(report, "pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == FAKE_PDF
    assert response["Content-Disposition"] == (
        'attachment; filename="testland-week-of-16-nov-2026.pdf"'
    )


def test_the_xlsx_is_a_workbook_of_the_indicator_table(personas, tree):
    report = ready_report(tree.strategy, cadence=Cadence.MONTHLY)
    response = api(personas.viewer).get(report_url(report, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response.content[:2] == b"PK"  # a zip, as every .xlsx is
    assert response["Content-Disposition"] == ('attachment; filename="testland-november-2026.xlsx"')


def test_a_client_asking_for_the_pdf_type_is_not_refused(personas, tree):
    report = ready_report(tree.strategy)
    response = api(personas.viewer).get(report_url(report, "pdf"), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response.content == FAKE_PDF


@pytest.mark.parametrize("action", ["pdf", "xlsx"])
def test_downloads_of_a_pending_report_are_409_with_a_clear_message(personas, tree, action):
    report = pending_report(tree.strategy)
    response = api(personas.viewer).get(report_url(report, action), HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The report is still being prepared; poll it until its state is ready.",
        "code": "report_pending",
        "fields": {},
    }


# --- Subscriptions -----------------------------------------------------------------------


def test_a_member_subscribes_themself_and_gets_an_etag(personas, tree):
    response = api(personas.viewer).post(
        reverse("api:subscription-list"), {"strategy": tree.strategy.id, "cadence": "weekly"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    sub = Subscription.objects.get(pk=body["id"])
    assert sub.user == personas.viewer and sub.is_active
    assert body["address"] == "viewer@example.org" and body["username"] == "viewer"
    assert body["email"] == "" and body["version"] == 1
    assert response["ETag"] == f'"subscription-{sub.id}-v1"'


def test_subscribing_twice_is_400_on_the_cadence(personas, tree):
    client = api(personas.viewer)
    body = {"strategy": tree.strategy.id, "cadence": "weekly"}
    assert client.post(reverse("api:subscription-list"), body).status_code == 201
    response = client.post(reverse("api:subscription-list"), body)
    assert response.status_code == 400
    assert response.json()["fields"] == {"cadence": ["Already subscribed to this report."]}


def test_on_demand_is_not_a_subscription_cadence(personas, tree):
    response = api(personas.viewer).post(
        reverse("api:subscription-list"), {"strategy": tree.strategy.id, "cadence": "on_demand"}
    )
    assert response.status_code == 400 and "cadence" in response.json()["fields"]


@pytest.mark.parametrize(("persona", "expected"), [("analyst", 403), ("manager", 201)])
def test_only_managers_subscribe_outside_addresses(personas, tree, persona, expected):
    body = {"strategy": tree.strategy.id, "cadence": "monthly", "email": "Front.Office@Example.org"}
    response = api(personas.by_role(persona)).post(reverse("api:subscription-list"), body)
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.json()["email"] == "front.office@example.org"
        assert response.json()["user"] is None
    else:
        assert not Subscription.objects.exists()


def test_a_manager_subscribes_a_member_by_id(personas, tree):
    body = {"strategy": tree.strategy.id, "cadence": "weekly", "user": personas.analyst.id}
    response = api(personas.manager).post(reverse("api:subscription-list"), body)
    assert response.status_code == 201, response.content
    assert response.json()["username"] == "analyst"
    assert response.json()["created_by"] == "manager"


def test_a_user_outside_the_callers_missions_does_not_exist(personas, tree):
    body = {"strategy": tree.strategy.id, "cadence": "weekly", "user": personas.outsider.id}
    response = api(personas.manager).post(reverse("api:subscription-list"), body)
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["user"][0]


def test_a_bad_outside_address_is_400_on_the_email(personas, tree):
    body = {"strategy": tree.strategy.id, "cadence": "weekly", "email": "not an address"}
    response = api(personas.manager).post(reverse("api:subscription-list"), body)
    assert response.status_code == 400
    assert response.json()["fields"] == {"email": ["Enter a valid e-mail address."]}


def test_a_strategy_of_another_mission_does_not_exist_for_subscribing(personas, tree):
    response = api(personas.viewer).post(
        reverse("api:subscription-list"),
        {"strategy": tree.other_strategy.id, "cadence": "weekly"},
    )
    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["strategy"][0]


def test_a_stale_if_match_is_412_and_changes_nothing(personas, tree):
    sub = subscription(tree.strategy, personas.viewer)
    client = api(personas.viewer)
    etag = client.get(sub_url(sub))["ETag"]
    assert etag == f'"subscription-{sub.id}-v1"'

    changed = client.patch(sub_url(sub), {"cadence": "monthly"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == f'"subscription-{sub.id}-v2"'
    assert changed.json()["cadence"] == "monthly"

    stale = client.patch(sub_url(sub), {"cadence": "quarterly"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    sub.refresh_from_db()
    assert (sub.cadence, sub.version) == (Cadence.MONTHLY, 2)


def test_unsubscribing_through_the_api_keeps_the_row(personas, tree):
    sub = subscription(tree.strategy, personas.viewer)
    response = api(personas.viewer).patch(sub_url(sub), {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False and response.json()["unsubscribed_at"]
    sub.refresh_from_db()
    assert not sub.is_active


def test_a_member_sees_only_their_own_subscriptions_and_a_manager_all_of_the_mission(
    personas, tree
):
    own = subscription(tree.strategy, personas.viewer)
    others = subscription(tree.strategy, personas.analyst)
    outside = subscription(tree.strategy, email="press@example.org")
    elsewhere = subscription(tree.other_strategy, personas.outsider)

    def listed(user) -> set[int]:
        return {s["id"] for s in api(user).get(reverse("api:subscription-list")).json()["results"]}

    assert listed(personas.viewer) == {own.id}
    assert listed(personas.manager) == {own.id, others.id, outside.id}
    assert listed(personas.outsider) == {elsewhere.id}
    assert api(personas.viewer).get(sub_url(others)).status_code == 404
    assert api(personas.manager).get(sub_url(elsewhere)).status_code == 404
    assert (
        api(personas.manager).patch(sub_url(elsewhere), {"cadence": "monthly"}).status_code == 404
    )
    assert api(personas.manager).delete(sub_url(elsewhere)).status_code == 404


def test_a_manager_removes_a_subscription(personas, tree):
    sub = subscription(tree.strategy, email="press@example.org")
    assert api(personas.manager).delete(sub_url(sub)).status_code == 204
    assert not Subscription.objects.filter(pk=sub.pk).exists()


def test_subscriptions_are_never_replaced_whole(personas, tree):
    sub = subscription(tree.strategy, personas.viewer)
    response = api(personas.viewer).put(sub_url(sub), {"cadence": "monthly"}, format="json")
    assert response.status_code == 405


# --- Query counts ------------------------------------------------------------------------

# Every request with a token starts with these two (tests/api/test_query_counts.py).
AUTH = ["the API token, with its user", "the user's roles in each mission"]
LISTS = {
    # the count, then the page with strategies and missions (no content, no PDF)
    "report": [*AUTH, "count of the reports", "the page of reports, with strategies"],
    # the count, then the page with strategies, missions, users and their creators
    "subscription": [*AUTH, "count of the subscriptions", "the page, with strategies and users"],
}


def _fill(kind: str, tree, personas, n: int) -> None:
    start = date(2026, 1, 5)
    for i in range(n):
        if kind == "report":
            Report.objects.create(
                strategy=tree.strategy,
                cadence=Cadence.WEEKLY,
                period_start=start + timedelta(weeks=i),
                period_end=start + timedelta(weeks=i, days=6),
                label=f"Week {i}",
                state=ReportState.READY,
                built_at=datetime(2026, 1, 1, tzinfo=timezone.get_current_timezone()),
                content={"schema": 1},
            )
        else:
            subscription(tree.strategy, email=f"reader{i}@example.org")


@pytest.mark.parametrize("n", [1, 20])
@pytest.mark.parametrize("kind", list(LISTS))
def test_lists_run_a_fixed_number_of_queries(personas, tree, kind, n, django_assert_num_queries):
    _fill(kind, tree, personas, n)
    client = api(personas.manager)
    url = reverse(f"api:{kind}-list")
    client.get(url)  # warm-up: records the token's use
    with django_assert_num_queries(len(LISTS[kind])):
        response = client.get(url)
    assert response.status_code == 200
    assert response.json()["count"] == n
