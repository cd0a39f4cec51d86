"""The admin site in Chromium, under the same Content-Security-Policy as every page: the
index, the list of every registered model (ours, django-axes' and django-otp's), the add
form of each, and the change form and history of the demo's main objects. None may log a
CSP violation or a console error, request another host, or fail to open.

Django's admin is not our code, but it is served under our headers, so a script or style
it inlines would be refused here first (docs/security.md).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.e2e.demo import APPROVED_NOTE, NODE_WITH_CHARTS, Demo

pytestmark = pytest.mark.e2e


def admin_urls(demo: Demo) -> list[str]:
    """Index, every model's list and add form, and a few change forms and histories.
    Computed before the browser opens a page: ids come from the demo, not the database."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    objects = {
        "strategy_mission": demo.mission,
        "strategy_strategy": demo.strategy,
        "strategy_node": demo.nodes[NODE_WITH_CHARTS],
        "tracking_progressnote": demo.notes[APPROVED_NOTE],
    }
    for name, pk in objects.items():
        urls.append(reverse(f"admin:{name}_change", args=[pk]))
        urls.append(reverse(f"admin:{name}_history", args=[pk]))
    return urls


def _superuser_request():
    """Enough of a request for `has_add_permission`: a superuser may add what can be added."""

    class User:
        is_active = is_staff = is_superuser = True

        def has_perm(self, perm, obj=None):
            return True

    class Request:
        user = User()

    return Request()


def test_admin_pages_open_under_the_csp_without_errors(visitor, demo: Demo):
    urls = admin_urls(demo)
    page = visitor.open("demo-admin")
    failures = []
    for url in urls:
        visitor.watch.clear()
        response = page.goto(demo.base_url + url)
        page.evaluate("() => 1")  # a round trip: the load's console events are in
        status = response.status if response else None
        if status != 200:
            failures.append(f"{url}: HTTP {status}")
        failures += [f"{url}: {problem}" for problem in visitor.watch.problems()]
    assert len(urls) > 30, urls  # every registered model's list and add form
    assert not failures, "\n".join(failures)
