"""Sign-in lockout (django-axes) with the real configuration: AXES_FAILURE_LIMIT failed
sign-ins for one username from one address lock that pair for AXES_COOLOFF_MINUTES, on the
site's sign-in page and the admin's; API tokens are untouched (issue #7, accounts)."""

import logging
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from strategy.services import api_token_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LOCKED_TEXT = "Too many failed sign-ins for this account from your address"


def fail(client, username, times, *, url=LOGIN, address="127.0.0.1"):
    for _ in range(times):
        response = client.post(
            url, {"username": username, "password": "not-the-password"}, REMOTE_ADDR=address
        )
    return response


def sign_in(client, username, *, url=LOGIN, address="127.0.0.1", password=PASSWORD):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "config.accounts.LockoutBackend"


def test_four_failures_do_not_lock_and_a_success_clears_them(client, personas):
    response = fail(client, "viewer", settings.AXES_FAILURE_LIMIT - 1)
    assert response.status_code == 200  # the form again, "enter a correct username…"
    assert LOCKED_TEXT not in response.text
    assert sign_in(client, "viewer").status_code == 302
    # AXES_RESET_ON_SUCCESS: the four failures are forgotten.
    assert not AccessAttempt.objects.filter(username="viewer", failures_since_start__gt=0).exists()


def test_the_fifth_failure_locks_even_the_right_password_out_with_a_clear_message(
    client, personas, caplog
):
    with caplog.at_level(logging.WARNING, logger="config.security"):
        fail(client, "viewer", settings.AXES_FAILURE_LIMIT - 1)
        locked = fail(client, "viewer", 1)
    assert locked.status_code == 429
    assert LOCKED_TEXT in locked.text and "15 minutes" in locked.text
    assert '<form method="post" action="/accounts/login/"' in locked.text  # still the page
    assert "Sign-in locked for 'viewer' from 127.0.0.1 after 5 failures" in caplog.text

    right = sign_in(client, "viewer")
    assert right.status_code == 429 and LOCKED_TEXT in right.text
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # not signed in


def test_the_lock_is_per_username_and_address(client, personas):
    fail(client, "viewer", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "viewer").status_code == 429
    # Another account from the same address, and the same account from elsewhere, sign in.
    assert sign_in(client, "analyst").status_code == 302
    client.post(reverse("logout"))
    assert sign_in(client, "viewer", address="198.51.100.7").status_code == 302


def test_the_lock_ends_after_the_cool_off(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, "viewer", settings.AXES_FAILURE_LIMIT)
        assert sign_in(client, "viewer").status_code == 429
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert sign_in(client, "viewer").status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):
        assert sign_in(client, "viewer").status_code == 302


def test_an_operator_unlocks_with_axes_reset_username(client, personas):
    fail(client, "viewer", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "viewer").status_code == 429
    call_command("axes_reset_username", "viewer")
    assert sign_in(client, "viewer").status_code == 302


def test_the_admin_sign_in_is_covered_too(client, personas):
    admin_login = reverse("admin:login")
    fail(client, "root", settings.AXES_FAILURE_LIMIT, url=admin_login)
    locked = sign_in(client, "root", url=admin_login)
    assert locked.status_code == 429 and LOCKED_TEXT in locked.text
    # …and the site's own sign-in page for the same pair.
    assert sign_in(client, "root").status_code == 429


def test_api_tokens_keep_working_for_a_locked_out_account(client, personas):
    _, key = api_token_create(user=personas.viewer, name="pipeline", expires_at=None)
    fail(client, "viewer", settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "viewer").status_code == 429
    response = client.get("/api/v1/missions/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert [m["slug"] for m in response.json()["results"]] == ["testland"]


def test_code_that_authenticates_without_a_request_is_not_counted(client, personas):
    """The test client's login() and shell use: no address, so nothing to count or lock."""
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert not client.login(username="viewer", password="wrong")
    assert client.login(username="viewer", password=PASSWORD)
    assert not AccessAttempt.objects.exists()
