"""The site's own error pages: 404 and 403 inside the app's layout, 500 standalone."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory


@pytest.mark.django_db
def test_a_missing_page_is_404_in_the_app_layout(client, personas):
    client.force_login(personas.viewer)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Nothing here" in response.content and b"Strategy Tracker" in response.content


def test_the_500_page_renders_without_a_request_or_database():
    html = render_to_string("500.html")
    assert "Something went wrong" in html and "{%" not in html


@pytest.mark.django_db
def test_the_403_page_explains_roles(personas):
    request = RequestFactory().get("/")
    request.user = personas.viewer
    html = render_to_string("403.html", {"reason": "You need the manager role."}, request=request)
    assert "You need the manager role." in html
