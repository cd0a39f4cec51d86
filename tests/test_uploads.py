"""Indicator values as files (tracking.indicator_files): CSV download, CSV and XLSX upload
on the page and through the API, with size and type limits, and XLSX parsed under
defusedxml — a billion-laughs or external-entity workbook is refused with a clear
message and changes nothing (issue #7, content)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from rest_framework.test import APIClient

from strategy.services import api_token_create
from tests.factories import IndicatorFactory
from tracking import indicator_files
from tracking.cells import neutralise, restore
from tracking.models import IndicatorPeriod

pytestmark = pytest.mark.django_db

API = "/api/v1/indicator-periods/bulk/"
XLSX = indicator_files.XLSX_TYPE


@pytest.fixture
def monthly(tree):
    return IndicatorFactory(node=tree.obj11, name="Visits", frequency="monthly")


def written() -> tuple[int, int]:
    return IndicatorPeriod.objects.count(), IndicatorPeriod.history.count()


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def replace_member(xlsx: bytes, member: str, transform) -> bytes:
    """A copy of the workbook with one XML part rewritten."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == member:
                data = transform(data)
            target.writestr(info, data)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b"<!DOCTYPE lolz [\n"
    b' <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>\n"
)


def _body(data: bytes) -> bytes:
    """The part without its XML declaration (openpyxl writes none)."""
    return data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data


def with_billion_laughs(data: bytes) -> bytes:
    return BILLION_LAUGHS + _body(data).replace(b"<sheetData>", b"<sheetData>&lol9;", 1)


def with_external_entity(data: bytes) -> bytes:
    body = _body(data)
    doctype = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    )
    return doctype + body.replace(b"<sheetData>", b"<sheetData>&secret;", 1)


def page_upload(client, strategy, name: str, data: bytes):
    return client.post(
        reverse("indicator-values-upload", args=[strategy.pk]),
        {"file": SimpleUploadedFile(name, data)},
    )


def test_openpyxl_parses_with_defusedxml():
    """Sheets are read with defusedxml's parser; the other parts with lxml, told not to
    resolve entities. indicator_files refuses any DTD before either parser runs."""
    import openpyxl.xml.functions

    assert openpyxl.xml.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")


def test_the_cell_helper_neutralises_and_restores():
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(text) == "'" + text
        assert restore(neutralise(text)) == text
    assert neutralise("plain") == "plain" and restore("'plain") == "'plain"


# --- The page -------------------------------------------------------------------------------


def test_an_analyst_uploads_a_csv(client, personas, tree, monthly):
    client.force_login(personas.analyst)
    data = (
        "indicator,period_start,actual,comment\r\n"
        f"{monthly.pk},2025-01-01,12.5,first\r\n"
        f"{monthly.pk},2025-02-01,14,'=kept as text\r\n"
    ).encode()
    response = page_upload(client, tree.strategy, "values.csv", data)
    assert response.status_code == 302
    periods = IndicatorPeriod.objects.filter(indicator=monthly).order_by("period_start")
    assert [(p.period_start, p.actual, p.comment) for p in periods] == [
        (date(2025, 1, 1), Decimal("12.5"), "first"),
        (date(2025, 2, 1), Decimal("14"), "=kept as text"),
    ]
    assert all(p.history.first().history_user == personas.analyst for p in periods)
    follow = client.get(response["Location"])
    assert "Uploaded 2 rows: 2 new, 0 updated, 0 unchanged." in follow.text


def test_a_manager_uploads_an_xlsx_with_real_dates_and_numbers(client, personas, tree, monthly):
    client.force_login(personas.manager)
    data = workbook(
        [
            ["indicator", "period_start", "actual", "target", "comment", "notes for people"],
            [monthly.pk, datetime(2025, 3, 1), 7, 10.25, "March", "ignored"],
            [monthly.pk, date(2025, 4, 1), None, 11, None, None],
        ]
    )
    assert page_upload(client, tree.strategy, "Values.XLSX", data).status_code == 302
    march, april = IndicatorPeriod.objects.filter(indicator=monthly).order_by("period_start")
    assert (march.actual, march.target, march.comment) == (Decimal(7), Decimal("10.25"), "March")
    assert (april.actual, april.target) == (None, Decimal(11))


def test_the_csv_download_round_trips(client, personas, tree, monthly):
    client.force_login(personas.manager)
    assert (
        page_upload(
            client,
            tree.strategy,
            "v.csv",
            f"indicator,period_start,actual,target,comment\n{monthly.pk},2025-01-01,-3,5,=risky\n".encode(),
        ).status_code
        == 302
    )
    download = client.get(reverse("indicator-values-csv", args=[tree.strategy.pk]))
    text = download.content.decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "indicator,period_start,actual,target,comment,node,indicator_name,period_end"
    )
    assert f"{monthly.pk},2025-01-01,-3,5,'=risky,1.1 Exports grow,Visits,2025-01-31" in text
    edited = text.replace(",-3,5,", ",-4,5,").encode("utf-8-sig")
    assert page_upload(client, tree.strategy, "v.csv", edited).status_code == 302
    period = IndicatorPeriod.objects.get(indicator=monthly)
    assert (period.actual, period.comment) == (Decimal(-4), "=risky")


def test_analysts_download_no_target_column(client, personas, tree, monthly):
    client.force_login(personas.analyst)
    text = client.get(reverse("indicator-values-csv", args=[tree.strategy.pk])).content
    assert text.decode("utf-8-sig").startswith("indicator,period_start,actual,comment,")


def test_one_bad_row_records_nothing_and_every_bad_row_is_listed(client, personas, tree, monthly):
    client.force_login(personas.analyst)
    before = written()
    data = (
        "indicator,period_start,actual\n"
        f"{monthly.pk},2025-01-01,3\n"
        f"{monthly.pk},2025-01-15,4\n"
        f"{monthly.pk},2025-02-01,lots\n"
    ).encode()
    response = page_upload(client, tree.strategy, "v.csv", data)
    assert response.status_code == 400
    assert "Nothing was recorded." in response.text
    assert "Row 2, period_start:" in response.text and "Row 3, actual:" in response.text
    assert written() == before


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("values.txt", b"indicator,period_start\n", "is neither .csv nor .xlsx"),
        ("values.csv", b"PK\x03\x04 not really", "is a spreadsheet workbook, not a CSV"),
        ("values.xlsx", b"indicator,period_start\n1,2025-01-01\n", "This is not an XLSX workbook"),
        ("values.xlsx", b"PK\x03\x04broken", "This XLSX workbook is damaged"),
        ("values.csv", "indicator;period_start\n".encode("utf-16"), "This is not a UTF-8 CSV"),
        (
            "values.csv",
            b"period_start,actual\n2025-01-01,3\n",
            "including indicator and period_start",
        ),
        ("values.csv", b"indicator,period_start\n", "no values under it"),
    ],
)
def test_wrong_files_get_a_clear_message_and_change_nothing(
    client, personas, tree, monthly, name, data, message
):
    client.force_login(personas.analyst)
    before = written()
    response = page_upload(client, tree.strategy, name, data)
    assert response.status_code == 400
    assert message in response.text.replace("&quot;", '"').replace("&#x27;", "'")
    assert written() == before


def test_a_file_over_the_limit_is_refused(client, personas, tree, monthly, settings):
    settings.INDICATOR_FILE_MAX_BYTES = 1000
    client.force_login(personas.analyst)
    data = ("indicator,period_start,actual\n" + f"{monthly.pk},2025-01-01,1\n" * 200).encode()
    response = page_upload(client, tree.strategy, "big.csv", data)
    assert response.status_code == 400
    assert "“big.csv” is " in response.text
    assert "the limit is 1000\xa0bytes." in response.text
    assert written() == (0, 0)


@pytest.mark.parametrize(
    ("member", "transform"),
    [
        ("xl/worksheets/sheet1.xml", with_billion_laughs),
        ("xl/workbook.xml", with_billion_laughs),
        ("xl/worksheets/sheet1.xml", with_external_entity),
    ],
)
def test_entity_tricks_in_an_xlsx_are_refused(client, personas, tree, monthly, member, transform):
    client.force_login(personas.analyst)
    good = workbook([["indicator", "period_start", "actual"], [monthly.pk, "2025-01-01", 3]])
    hostile = replace_member(good, member, transform)
    before = written()
    response = page_upload(client, tree.strategy, "values.xlsx", hostile)
    assert response.status_code == 400
    assert "contains XML entity declarations, which are refused" in response.text
    assert written() == before
    # The same workbook without the trick is fine: the refusal is about the entities.
    assert page_upload(client, tree.strategy, "values.xlsx", good).status_code == 302


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client, personas, tree, monthly, monkeypatch):
    monkeypatch.setattr(indicator_files, "XLSX_MAX_UNPACKED_BYTES", 1_000_000)
    good = workbook([["indicator", "period_start", "actual"], [monthly.pk, "2025-01-01", 3]])
    bomb = replace_member(good, "xl/worksheets/sheet1.xml", lambda d: d + b" " * 2_000_000)
    assert len(bomb) < 100_000
    client.force_login(personas.analyst)
    response = page_upload(client, tree.strategy, "values.xlsx", bomb)
    assert response.status_code == 400 and "unpacks to more than" in response.text
    assert written() == (0, 0)


def test_viewers_and_outsiders_cannot_upload(client, personas, tree, monthly):
    client.force_login(personas.viewer)
    url = reverse("indicator-values-upload", args=[tree.strategy.pk])
    assert client.get(url).status_code == 403
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("indicator-values-csv", args=[tree.strategy.pk])).status_code == 404


# --- The API --------------------------------------------------------------------------------


def api(user) -> APIClient:
    _, key = api_token_create(user=user, name="uploads")
    return APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def test_the_api_takes_an_xlsx_body(personas, tree, monthly):
    data = workbook([["indicator", "period_start", "actual"], [monthly.pk, date(2025, 1, 1), 9]])
    response = api(personas.analyst).post(API, data, content_type=XLSX)
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 0}
    assert IndicatorPeriod.objects.get(indicator=monthly).actual == Decimal(9)


def test_the_api_refuses_entity_tricks_with_400(personas, tree, monthly):
    good = workbook([["indicator", "period_start", "actual"], [monthly.pk, "2025-01-01", 3]])
    hostile = replace_member(good, "xl/worksheets/sheet1.xml", with_billion_laughs)
    response = api(personas.analyst).post(API, hostile, content_type=XLSX)
    assert response.status_code == 400
    assert "XML entity declarations" in response.json()["detail"]
    assert written() == (0, 0)


def test_the_api_refuses_an_xlsx_over_the_limit_with_413(personas, tree, monthly, settings):
    settings.INDICATOR_FILE_MAX_BYTES = 1000
    data = workbook([["indicator", "period_start", "actual"], [monthly.pk, "2025-01-01", 3]])
    response = api(personas.analyst).post(API, data, content_type=XLSX)
    assert response.status_code == 413
    assert written() == (0, 0)


def test_without_the_pre_scan_defusedxml_still_refuses_a_sheet_with_entities(monkeypatch):
    """Defence in depth: the parser underneath refuses too, with the same message."""
    monkeypatch.setattr(indicator_files, "_DTD_MARKERS", ())
    good = workbook([["indicator", "period_start", "actual"], [1, "2025-01-01", 3]])
    for transform in (with_billion_laughs, with_external_entity):
        hostile = replace_member(good, "xl/worksheets/sheet1.xml", transform)
        with pytest.raises(indicator_files.FileRefused, match="XML entity declarations"):
            indicator_files.read_xlsx(hostile)
