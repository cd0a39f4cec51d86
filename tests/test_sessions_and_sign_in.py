"""Browser sessions end when idle or old, when the password changes, and every failed
sign-in is logged (issue #7, accounts)."""

import logging

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(client, user) -> None:
    assert client.login(username=user.username, password=PASSWORD)


def test_a_session_idle_longer_than_the_limit_is_signed_out(client, personas, settings):
    settings.SESSION_IDLE_SECONDS = 600
    home = reverse("home")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        signed_in(client, personas.viewer)
        assert client.get(home).status_code == 200
    with time_machine.travel(start.timestamp() + 500, tick=False):
        assert client.get(home).status_code == 200  # active: still in
    with time_machine.travel(start.timestamp() + 500 + 601, tick=False):
        response = client.get(home)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_session_ends_at_the_absolute_limit_even_when_active(client, personas, settings):
    settings.SESSION_IDLE_SECONDS = 600
    settings.SESSION_MAX_SECONDS = 1800
    home = reverse("home")
    start = timezone.now().timestamp()
    with time_machine.travel(start, tick=False):
        signed_in(client, personas.viewer)
        client.get(home)
    for minutes in (8, 16, 24):  # never idle for ten minutes
        with time_machine.travel(start + minutes * 60, tick=False):
            assert client.get(home).status_code == 200
    with time_machine.travel(start + 31 * 60, tick=False):
        assert client.get(home).status_code == 302


def test_changing_the_password_ends_the_other_sessions(client, personas):
    from django.test import Client

    other = Client()
    signed_in(other, personas.viewer)
    signed_in(client, personas.viewer)
    assert other.get(reverse("home")).status_code == 200
    personas.viewer.set_password("a-new-long-passphrase-2026")
    personas.viewer.save()
    assert other.get(reverse("home")).status_code == 302


def test_a_failed_sign_in_is_logged_with_the_name_and_never_the_password(client, personas, caplog):
    with caplog.at_level(logging.WARNING, logger="config.security"):
        client.post(reverse("login"), {"username": "viewer", "password": "wrong-guess-123"})
    assert "Sign-in failed for 'viewer'" in caplog.text
    assert "wrong-guess-123" not in caplog.text
