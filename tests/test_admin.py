"""The Django admin is usable for every model: list, search, add and change pages render."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import IndicatorPeriodFactory, MilestoneFactory, ProgressNoteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(tree):
    period = IndicatorPeriodFactory(indicator__node=tree.obj11)
    return [
        tree.strategy.mission,
        tree.strategy,
        tree.obj11,
        MilestoneFactory(node=tree.mgmt1),
        period.indicator,
        period,
        ProgressNoteFactory(
            strategy=tree.strategy,
            nodes=[tree.obj11],
            state="draft",
            approved_at=None,
            reviewed_by=None,
        ),
    ]


def test_every_registered_model_lists_searches_and_adds(client, personas):
    client.force_login(personas.superuser)
    ours = [m for m in admin.site._registry if m._meta.app_label in ("strategy", "tracking")]
    assert len(ours) >= 8
    read_only = {"report", "delivery", "reminder", "subscription"}  # logs and snapshots
    for model in ours:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "x"}).status_code == 200, changelist
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        expected = 403 if opts.model_name in read_only else 200
        assert client.get(add).status_code == expected, add


def test_change_and_history_pages_render(client, personas, objects):
    client.force_login(personas.superuser)
    for obj in objects:
        opts = obj._meta
        for view in ("change", "history"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
            assert client.get(url).status_code == 200, url


def test_approved_notes_are_read_only_in_the_admin(client, personas, tree):
    note = ProgressNoteFactory(strategy=tree.strategy, nodes=[tree.obj11])
    client.force_login(personas.superuser)
    url = reverse("admin:tracking_progressnote_change", args=[note.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content  # view-only
    assert client.post(url, {"title": "Rewritten"}).status_code == 403
    note.refresh_from_db()
    assert note.title != "Rewritten"
    delete = reverse("admin:tracking_progressnote_delete", args=[note.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_staff_without_superuser_cannot_open_the_admin_lists(client, personas):
    client.force_login(personas.manager)
    response = client.get(reverse("admin:strategy_node_changelist"))
    assert response.status_code == 302
