"""The OpenAPI schema validates, documents every operation's errors, and the docs page
works offline (its assets come from this server, never a CDN)."""

import re
from io import StringIO

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    assert schema["openapi"].startswith("3.")
    assert len([op for ops in schema["paths"].values() for op in ops]) >= 45


def test_every_operation_documents_its_error_responses():
    out = StringIO()
    call_command("spectacular", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in codes, (method, path)
            if method in ("put", "patch", "delete") and "{" in path:
                assert "412" in codes, (method, path)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"detail", "code", "fields"}


def test_docs_page_loads_its_assets_locally(client, personas):
    client.force_login(personas.viewer)
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    html = page.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the docs page references its assets"
    assert all(u.startswith("/") for u in urls), urls
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    for url in urls:
        if url.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        ):
            assert finders.find(url.split("/static/", 1)[1]), f"{url} is not a local static file"


def test_schema_needs_no_login_but_the_api_does(client):
    assert client.get(reverse("api-schema")).status_code == 200
    assert client.get("/api/v1/missions/").status_code == 401
