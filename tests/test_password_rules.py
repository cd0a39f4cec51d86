"""Password rules on the password change page (/account/password/): Django's four
validators are on, weak passwords are refused with the reason, and a good one is taken
(issue #7, accounts)."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/account/password/"


def change(client, new):
    return client.post(URL, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})


def test_the_four_validators_are_configured():
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("Xq7!rt", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("48213957604", "This password is entirely numeric."),
        ("analyst2026", "The password is too similar to the username."),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(client, personas, new, reason):
    assert client.login(username="analyst", password=PASSWORD)
    response = change(client, new)
    assert response.status_code == 400
    assert reason in response.text
    user = get_user_model().objects.get(username="analyst")
    assert user.check_password(PASSWORD) and not user.check_password(new)


def test_the_old_password_must_be_right(client, personas):
    assert client.login(username="analyst", password=PASSWORD)
    response = client.post(
        URL,
        {
            "old_password": "wrong",
            "new_password1": "x7-Tundra-Quill",
            "new_password2": "x7-Tundra-Quill",
        },
    )
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.text


def test_a_good_password_is_taken_and_other_sessions_end(client, personas):
    other = Client()
    assert other.login(username="analyst", password=PASSWORD)
    assert client.login(username="analyst", password=PASSWORD)
    response = change(client, "x7-Tundra-Quill")
    assert response.status_code == 302 and response["Location"] == URL
    assert client.get(reverse("home")).status_code == 200  # this session goes on
    assert other.get(reverse("home")).status_code == 302  # the other one is signed out
    assert get_user_model().objects.get(username="analyst").check_password("x7-Tundra-Quill")


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response["Location"]
