"""Every named URL answers with the security headers, whatever the status.

The URL names come from the URLconf itself, so a new page or endpoint is checked the day
it is added: a pattern whose arguments this module cannot fill fails
`test_every_named_url_is_requested_or_skipped_with_a_reason` until it is given an object
below (or a reason in SKIPPED). Each URL is requested with GET as a signed-in manager of
the mission the objects belong to; POST-only views answer 405 and the admin (the manager
is not staff) redirects to its login — those responses must carry the headers too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from strategy.services import api_token_create
from tests.api.conftest import World
from tests.api.conftest import world as api_world  # noqa: F401 - the fixture, see below
from tests.api.test_reports_api import ready_report
from tracking.analyses.services import analysis_create, analysis_link
from tracking.models import Cadence
from tracking.reports.services import subscription_create, unsubscribe_token

# Which object of the fixture world fills the arguments of each URL name that takes any.
OBJECT_OF = {
    "strategy": [
        "strategy-detail",
        "strategy-export",
        "strategy-edit",
        "report-list",
        "report-generate",
        "strategy-subscriptions",
        "indicator-values-csv",
        "indicator-values-upload",
        "analysis-list",
        "analysis-create",
        "api:strategy-detail",
        "api:strategy-tree",
        "api:strategy-export",
    ],
    "mission": [
        "strategy-import",
        "strategy-import-confirm",
        "api:mission-detail",
        "api:mission-members",
        "api:mission-member",
    ],
    "node": ["node-detail", "node-edit", "node-history", "note-create", "api:node-detail"],
    "milestone": ["api:milestone-detail"],
    "indicator": ["indicator-record", "indicator-history", "api:indicator-detail"],
    "period": ["api:indicator-period-detail"],
    "note": [
        "note-detail",
        "note-edit",
        "note-submit",
        "note-review",
        "note-delete",
        "note-supersede",
        "note-sensitive",
        "note-history",
        "api:note-detail",
        "api:note-approve",
        "api:note-return-note",
        "api:note-sensitive",
        "api:note-submit",
    ],
    "report": [
        "report-detail",
        "report-pdf",
        "report-xlsx",
        "api:report-detail",
        "api:report-pdf",
        "api:report-xlsx",
    ],
    "subscription": [
        "subscription-edit",
        "subscription-remove",
        "subscription-send",
        "api:subscription-detail",
    ],
    "token": ["api-token-revoke"],
    "analysis": [
        "analysis-detail",
        "analysis-links",
        "analysis-delete",
        "api:analysis-detail",
        "api:analysis-links",
    ],
}
# URL names with arguments this module does not fill, each with the reason.
SKIPPED: dict[str, str] = {}
# The admin's own pages: the manager is not staff, so every one redirects to the admin
# login before it reads its arguments; any well-formed value will do.
ADMIN_ARGUMENTS = {
    "app_label": "strategy",
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "pk": "1",  # django-otp's device pages (config, QR code)
}


def named_patterns(patterns=None, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(namespaced name, pattern) of every named URL, first pattern of each name only
    (the API's `.json` suffix twins reach the same views)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, (namespace, pattern.namespace)))
            yield from named_patterns(pattern.url_patterns, inner)
        elif pattern.name and "format" not in pattern.pattern.regex.groupindex:
            yield ":".join(filter(None, (namespace, pattern.name))), pattern


def argument_names(pattern: URLPattern) -> list[str]:
    """Its named arguments, or "1", "2", … for unnamed groups (simple-history's admin)."""
    regex = pattern.pattern.regex
    return list(regex.groupindex) or [str(n) for n in range(1, regex.groups + 1)]


def urls_to_request(world: World) -> dict[str, str]:
    manager = world.personas.manager
    token, _ = api_token_create(user=manager, name="headers test")
    subscription = subscription_create(strategy=world.strategy, cadence=Cadence.WEEKLY, by=manager)
    analysis = analysis_create(
        strategy=world.strategy,
        by=manager,
        title="Harbour reading",
        document_date=world.period.period_start,
        text="Exports grow as the harbour opens.",
    )
    analysis_link(document=analysis, nodes=[world.objective], by=manager)
    objects = {
        "strategy": world.strategy,
        "mission": world.mission,
        "node": world.objective,
        "milestone": world.milestone,
        "indicator": world.indicator,
        "period": world.period,
        "note": world.submitted_note,
        "report": ready_report(world.strategy),
        "subscription": subscription,
        "token": token,
        "analysis": analysis,
    }
    pk_of = {name: objects[kind].pk for kind, names in OBJECT_OF.items() for name in names}
    urls = {}
    for name, pattern in named_patterns():
        arguments = argument_names(pattern)
        if name in SKIPPED:
            continue
        if not arguments:
            urls[name] = reverse(name)
        elif name == "unsubscribe":
            urls[name] = reverse(name, kwargs={"token": unsubscribe_token(subscription)})
        elif name in ("analysis-unlink", "api:analysis-unlink"):
            node = "node_pk" if name == "analysis-unlink" else "node_id"
            urls[name] = reverse(name, kwargs={"pk": analysis.pk, node: world.objective.pk})
        elif name == "api:mission-member":
            urls[name] = reverse(name, kwargs={"pk": pk_of[name], "user_id": manager.pk})
        elif name.startswith("admin:") and arguments[0].isdigit():
            urls[name] = reverse(name, args=["1"] * len(arguments))
        elif name.startswith("admin:"):
            urls[name] = reverse(name, kwargs={a: ADMIN_ARGUMENTS[a] for a in arguments})
        elif name in pk_of and arguments == ["pk"]:
            urls[name] = reverse(name, kwargs={"pk": pk_of[name]})
    return urls


@pytest.fixture
def objects(request) -> World:
    """The API tests' world (tests/api/conftest.py): the personas, the small tree and an
    indicator, period, milestone and notes in it."""
    return request.getfixturevalue("api_world")


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def header_problems(response) -> list[str]:
    problems = []
    csp = response.get("Content-Security-Policy")
    if not csp:
        return ["no Content-Security-Policy"]
    policy = csp_directives(csp)
    for directive in ("object-src", "base-uri", "frame-ancestors"):
        if policy.get(directive) != ["'none'"]:
            problems.append(f"{directive} is {policy.get(directive)}, not 'none'")
    script_src = policy.get("script-src", policy.get("default-src", []))
    if {"'unsafe-inline'", "'unsafe-eval'"} & set(script_src):
        problems.append(f"script-src allows {script_src}")
    # same-origin everywhere; the unsubscribe page, whose URL is a credential, sends none.
    if response.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        problems.append(f"Referrer-Policy is {response.get('Referrer-Policy')!r}")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for header, value in expected.items():
        if response.get(header) != value:
            problems.append(f"{header} is {response.get(header)!r}, not {value!r}")
    return problems


@pytest.mark.django_db
def test_every_named_url_is_requested_or_skipped_with_a_reason(objects):
    urls = urls_to_request(objects)
    missing = {name for name, _ in named_patterns()} - urls.keys() - SKIPPED.keys()
    assert not missing, f"give these URL names an object in OBJECT_OF or a reason: {missing}"
    assert len(urls) > 150  # the admin's pages, the API's and ours


@pytest.mark.django_db
def test_every_named_url_answers_with_the_security_headers(client, objects):
    urls = urls_to_request(objects)
    client.force_login(objects.personas.manager)
    statuses = {}
    found = []
    for name, url in sorted(urls.items()):
        response = client.get(url)
        statuses[name] = response.status_code
        found += [f"{name} ({url}, {response.status_code}): {p}" for p in header_problems(response)]
        assert response.status_code < 500, f"{name} ({url}): {response.status_code}"
    assert not found, "\n".join(found)
    # Guards the loop: most of our own pages and endpoints really rendered.
    ours = [s for n, s in statuses.items() if not n.startswith("admin:")]
    assert ours.count(200) > 40, statuses


def test_the_policy_allows_no_inline_code_and_only_this_site(settings):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["script-src"] == directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["form-action"] == ["'self'"]


def test_session_and_csrf_cookies_are_http_only_and_same_site_lax(settings):
    assert settings.SESSION_COOKIE_HTTPONLY and settings.CSRF_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == settings.CSRF_COOKIE_SAMESITE == "Lax"


@pytest.mark.django_db
def test_the_sign_in_page_sets_an_http_only_lax_csrf_cookie(client):
    response = client.get(reverse("login"))
    cookie = response.cookies["csrftoken"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
