"""Bulk upload writes exactly what was sent (issue #6 moved its writes to array
parameters on PostgreSQL): awkward comments, negative, tiny and huge numbers, nulls, new
rows and updates alike, each with one history row naming the uploader."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from strategy.services import api_token_create
from tests.factories import IndicatorFactory, IndicatorPeriodFactory
from tracking.models import IndicatorPeriod

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicator-periods/bulk/"
AWKWARD = [
    'She said "done", then left',
    'back\\slash and \\" both',
    "{braces, commas}",
    "NULL",
    "new\nline and tab\t",
    "ünïcødé ✓",
    "",
]


def test_awkward_values_round_trip_and_each_write_has_its_history(tree, personas):
    from rest_framework.test import APIClient

    _, key = api_token_create(user=personas.manager, name="bulk values")
    client = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    indicator = IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")
    existing = IndicatorPeriodFactory(
        indicator=indicator, period_start=date(2023, 1, 1), period_end=date(2023, 1, 31),
        actual=Decimal("1"), target=Decimal("2"), comment="old",
    )  # fmt: skip
    numbers = ["-12.5", "0.0001", "123456789.1234", None, "7", "0", "3.25"]
    rows = [
        {
            "indicator": indicator.id,
            "period_start": date(2023, 1 + i, 1).isoformat(),
            "actual": numbers[i],
            "target": numbers[-1 - i],
            "comment": comment,
        }
        for i, comment in enumerate(AWKWARD)
    ]

    response = client.post(URL, json.dumps(rows), content_type="application/json")

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 6, "updated": 1, "unchanged": 0}
    stored = {p.period_start.month: p for p in IndicatorPeriod.objects.filter(indicator=indicator)}
    for i, comment in enumerate(AWKWARD):
        period = stored[1 + i]
        assert period.comment == comment.strip()
        assert period.actual == (None if numbers[i] is None else Decimal(numbers[i]))
        assert period.target == (None if numbers[-1 - i] is None else Decimal(numbers[-1 - i]))
        assert period.period_end.month == 1 + i
        recorded = numbers[i] is not None
        assert (period.recorded_by_id == personas.manager.id) is recorded
        assert (period.recorded_at is not None) is recorded
        history = list(period.history.order_by("history_date"))
        assert history[-1].history_user_id == personas.manager.id
        assert history[-1].comment == period.comment
    assert stored[1].id == existing.id and stored[1].version == existing.version + 1
    assert [h.history_type for h in stored[1].history.order_by("history_date")][-1] == "~"
    assert stored[2].version == 1
    assert [h.history_type for h in stored[2].history.all()] == ["+"]
