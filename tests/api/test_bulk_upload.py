"""`POST /api/v1/indicator-periods/bulk/`: many indicator values at once, as JSON or CSV,
upserted by (indicator, period start). All or nothing (SPEC §5): one bad row rejects the
batch, the error names every bad row as `rows[N]…` (N from 1, header excluded), and
nothing is written. Limits: BULK_MAX_ROWS rows and API_MAX_BODY_BYTES bytes (413 above).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from strategy.services import api_token_create
from tests.factories import IndicatorFactory, IndicatorPeriodFactory
from tracking.models import IndicatorPeriod

pytestmark = pytest.mark.django_db

URL = "/api/v1/indicator-periods/bulk/"
MONTHS = [date(2015 + m // 12, m % 12 + 1, 1) for m in range(100)]  # Jan 2015 – Apr 2023


def _client(user) -> APIClient:
    _, key = api_token_create(user=user, name="bulk uploads")
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def _post_json(client, rows):
    return client.post(URL, json.dumps(rows), content_type="application/json")


def _post_csv(client, text: str | bytes):
    return client.post(URL, text, content_type="text/csv")


def _csv(rows: list[dict], fields=("indicator", "period_start", "actual", "comment")) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _written() -> tuple[int, int]:
    """(periods, period history rows): both must stay put when a batch is refused."""
    return IndicatorPeriod.objects.count(), IndicatorPeriod.history.count()


@pytest.fixture
def monthly(tree):
    return IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")


@pytest.fixture
def analyst(personas):
    return _client(personas.analyst)


@pytest.fixture
def indicators(tree):
    """A hundred monthly indicators: with MONTHS, room for 10,000 distinct rows."""
    return [
        IndicatorFactory(node=tree.obj11, name=f"Indicator {i:03}", frequency="monthly")
        for i in range(100)
    ]


def _rows(indicators, count: int) -> list[dict]:
    rows = [
        {"indicator": ind.id, "period_start": month.isoformat(), "actual": str(i % 997)}
        for i, (ind, month) in enumerate((ind, month) for ind in indicators for month in MONTHS)
    ]
    return rows[:count]


# --- Counts ----------------------------------------------------------------------------


def _existing(monthly):
    """Three periods already recorded: two will change, one will be sent unchanged."""
    return [
        IndicatorPeriodFactory(
            indicator=monthly,
            period_start=MONTHS[i],
            period_end=MONTHS[i + 1] - timedelta(days=1),
            actual=Decimal(10),
        )
        for i in range(3)
    ]


def _upsert_rows(monthly) -> list[dict]:
    """Against _existing(): rows 1–2 change, row 3 is the same, rows 4–6 are new; the last
    carries a comment because an empty CSV cell means "not given"."""
    actuals = ["11", "12.5", "10.0000", "7", "8", ""]
    rows = [
        {"indicator": monthly.id, "period_start": MONTHS[m].isoformat(), "actual": actual}
        for m, actual in enumerate(actuals)
    ]
    rows[5]["comment"] = "Not measured this month."
    return rows


def test_json_upload_reports_created_updated_and_unchanged_rows(personas, monthly, analyst):
    existing = _existing(monthly)
    response = _post_json(analyst, _upsert_rows(monthly))

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 2, "unchanged": 1}
    periods = {p.period_start: p for p in IndicatorPeriod.objects.filter(indicator=monthly)}
    assert [periods[MONTHS[i]].actual for i in range(5)] == [11, Decimal("12.5"), 10, 7, 8]
    assert periods[MONTHS[5]].actual is None
    assert periods[MONTHS[5]].comment == "Not measured this month."
    assert periods[MONTHS[0]].recorded_by == personas.analyst
    assert [periods[MONTHS[i]].version for i in range(3)] == [2, 2, 1]
    assert periods[MONTHS[2]].history.count() == existing[2].history.count()


def test_csv_upload_reports_the_same_counts(monthly, analyst):
    _existing(monthly)
    response = _post_csv(analyst, _csv(_upsert_rows(monthly)))

    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 2, "unchanged": 1}


def test_uploading_the_same_batch_twice_changes_nothing_the_second_time(indicators, analyst):
    rows = _rows(indicators, 50)
    assert _post_json(analyst, rows).json() == {"created": 50, "updated": 0, "unchanged": 0}
    written = _written()
    assert _post_json(analyst, rows).json() == {"created": 0, "updated": 0, "unchanged": 50}
    assert _written() == written


# --- Ten thousand rows -------------------------------------------------------------------


def test_one_bad_row_among_ten_thousand_rejects_the_batch_and_names_the_row(indicators, analyst):
    rows = _rows(indicators, 10_000)
    rows[7341]["period_start"] = "2023-02-30"  # row 7,342

    response = _post_json(analyst, rows)

    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert set(body["fields"]) == {"rows[7342].period_start", "non_field_errors"}
    assert "1 of 10000 rows are invalid (rows 7342)" in body["detail"]
    assert "nothing was written" in body["detail"]
    assert _written() == (0, 0)


def test_ten_thousand_valid_rows_are_all_written(indicators, analyst):
    rows = _rows(indicators, 10_000)

    response = _post_json(analyst, rows)

    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"created": 10_000, "updated": 0, "unchanged": 0}
    assert _written() == (10_000, 10_000)
    last = IndicatorPeriod.objects.get(indicator=indicators[-1], period_start=MONTHS[-1])
    assert last.actual == Decimal(rows[-1]["actual"])


def test_every_bad_row_is_listed_not_just_the_first(indicators, analyst):
    rows = _rows(indicators, 300)
    for number in (3, 150, 300):
        rows[number - 1]["actual"] = "lots"

    body = _post_json(analyst, rows).json()

    assert {k for k in body["fields"] if k.startswith("rows[")} == {
        "rows[3].actual",
        "rows[150].actual",
        "rows[300].actual",
    }
    assert _written() == (0, 0)


# --- Limits ----------------------------------------------------------------------------


def test_more_rows_than_bulk_max_rows_is_413(settings, indicators, analyst):
    settings.BULK_MAX_ROWS = 5
    assert _post_json(analyst, _rows(indicators, 5)).status_code == 200

    response = _post_json(analyst, _rows(indicators, 6))

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "too_large"
    assert "at most 5 per request" in response.json()["detail"]
    assert _written() == (5, 5)


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_a_body_over_api_max_body_bytes_is_413(settings, indicators, analyst, fmt):
    rows = _rows(indicators, 40)
    body = json.dumps(rows) if fmt == "json" else _csv(rows)
    settings.API_MAX_BODY_BYTES = len(body.encode()) - 1

    response = _post_json(analyst, rows) if fmt == "json" else _post_csv(analyst, body)

    assert response.status_code == 413, response.content
    assert f"over {settings.API_MAX_BODY_BYTES:,} bytes" in response.json()["detail"]
    assert _written() == (0, 0)


# --- Refusals that name the row ----------------------------------------------------------


def test_the_same_indicator_and_period_twice_in_one_batch_is_400(monthly, analyst):
    rows = [
        {"indicator": monthly.id, "period_start": "2023-01-01", "actual": "1"},
        {"indicator": monthly.id, "period_start": "2023-02-01", "actual": "2"},
        {"indicator": monthly.id, "period_start": "2023-01-01", "actual": "3"},
    ]

    response = _post_json(analyst, rows)

    assert response.status_code == 400, response.content
    assert response.json()["fields"]["rows[3].period_start"] == [
        "Same indicator and period as row 1."
    ]
    assert _written() == (0, 0)


def test_an_analyst_may_not_set_targets_and_is_told_which_row(monthly, analyst):
    rows = [
        {"indicator": monthly.id, "period_start": "2023-01-01", "actual": "1"},
        {"indicator": monthly.id, "period_start": "2023-02-01", "target": "5"},
    ]

    response = _post_json(analyst, rows)

    assert response.status_code == 400, response.content
    assert response.json()["fields"]["rows[2].target"] == [
        "You need the manager role to set targets."
    ]
    assert _written() == (0, 0)


def test_a_manager_may_set_targets(personas, monthly):
    rows = [{"indicator": monthly.id, "period_start": "2023-02-01", "target": "5"}]
    response = _post_json(_client(personas.manager), rows)
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}


def test_an_indicator_of_another_mission_is_refused_like_an_unknown_one(personas, tree, analyst):
    elsewhere = IndicatorFactory(node=tree.other_goal, frequency="monthly")
    rows = [{"indicator": elsewhere.id, "period_start": "2023-01-01", "actual": "1"}]

    response = _post_json(analyst, rows)

    assert response.status_code == 400
    assert response.json()["fields"]["rows[1].indicator"] == [
        f"No indicator '{elsewhere.id}' among your missions."
    ]
    assert _written() == (0, 0)


# --- CSV ---------------------------------------------------------------------------------


def test_csv_without_the_period_start_column_is_400_saying_which_columns(monthly, analyst):
    response = _post_csv(analyst, f"indicator,actual\n{monthly.id},5\n")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == (
        "The CSV needs a header row with indicator and period_start."
    )


def test_csv_row_with_more_cells_than_the_header_is_400_naming_the_row(monthly, analyst):
    text = (
        f"indicator,period_start,actual\n{monthly.id},2023-01-01,5\n{monthly.id},2023-02-01,6,7\n"
    )

    response = _post_csv(analyst, text)

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"rows[2]": ["This row has more cells than the header."]}
    assert _written() == (0, 0)


def test_csv_with_a_byte_order_mark_reads_its_first_column(monthly, analyst):
    """Excel's "CSV UTF-8" starts with a BOM; it must not glue itself to "indicator"."""
    text = "\ufeff" + _csv([{"indicator": monthly.id, "period_start": "2023-01-01", "actual": 5}])

    response = _post_csv(analyst, text.encode("utf-8"))

    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


def test_csv_with_a_byte_order_mark_and_a_bad_row_still_names_the_row(monthly, analyst):
    text = "\ufeff" + _csv([{"indicator": monthly.id, "period_start": "2023-01-01", "actual": "x"}])

    response = _post_csv(analyst, text.encode("utf-8"))

    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == {"rows[1].actual", "non_field_errors"}


def test_csv_that_is_not_utf8_is_400_saying_so(monthly, analyst):
    text = _csv(
        [{"indicator": monthly.id, "period_start": "2023-01-01", "actual": 5, "comment": "Déjà"}]
    )

    response = _post_csv(analyst, text.encode("latin-1"))

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "CSV must be UTF-8 encoded."
    assert _written() == (0, 0)


def test_csv_with_only_a_header_is_400(analyst):
    response = _post_csv(analyst, "indicator,period_start,actual\n")
    assert response.status_code == 400
    assert response.json()["detail"] == "There are no rows to upload."


# --- Queries do not grow with the rows (PostgreSQL) ---------------------------------------

CREATING = [
    "the API token, with its user",
    "SAVEPOINT (the service is atomic; inside the test's transaction)",
    "the rows' indicators, with nodes and strategies",
    "the user's roles in each mission",
    "the periods that already exist",
    "one INSERT of the new periods",
    "one INSERT of their history rows",
    "RELEASE SAVEPOINT",
]
UPSERTING = [
    *CREATING[:-1],
    "one UPDATE of the changed periods",
    "one INSERT of their history rows",
    "RELEASE SAVEPOINT",
]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's parameter limit splits large inserts into several statements",
)
@pytest.mark.parametrize("size", [10, 1_000])
def test_ten_rows_and_a_thousand_rows_cost_the_same_queries(
    indicators, analyst, size, django_assert_num_queries
):
    analyst.get("/api/v1/missions/")  # records the token's use, once a minute
    rows = _rows(indicators, 2 * size)
    first, second = rows[:size], rows[size:]
    with django_assert_num_queries(len(CREATING)):
        assert _post_json(analyst, first).status_code == 200

    for row in first[: size // 2]:
        row["actual"] = str(int(row["actual"]) + 1)
    mixed = first[: size // 2] + second[: size // 2]  # half updates, half new
    with django_assert_num_queries(len(UPSERTING)):
        response = _post_json(analyst, mixed)
    assert response.json() == {"created": size // 2, "updated": size // 2, "unchanged": 0}
