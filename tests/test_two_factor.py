"""Two-factor sign-in with TOTP (django-otp), end to end with real codes computed from the
device's key at test time: enrolment, the second sign-in step, the setting that makes it
mandatory for managers and admins, API tokens untouched (issue #7, accounts)."""

import logging
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from strategy.services import api_token_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HOME = "/"
VERIFY = "/accounts/login/code/"
SETUP = "/account/two-factor/"


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def password_sign_in(client, username):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.text[:500]
    return response


class Clock:
    """Moves time on in whole TOTP steps: a code is accepted once per 30-second step."""

    def __init__(self):
        self.now = timezone.now().timestamp() // 30 * 30 + 1

    def step(self, steps: int = 2):
        self.now += 30 * steps
        return time_machine.travel(self.now, tick=False)


def enrol(client, clock) -> TOTPDevice:
    with clock.step():
        page = client.get(SETUP)
        assert page.status_code == 200
        device = TOTPDevice.objects.get(user__username=page.context["user"].username)
        assert not device.confirmed
        # The page shows the key in base32 groups, the otpauth link and a QR code (SVG data:).
        assert device.config_url in page.text.replace("&amp;", "&")
        assert 'src="data:image/svg+xml' in page.text
        shown_key = re.search(r'<code class="secret-key">([A-Z2-7 ]+)</code>', page.text)[1]
        from base64 import b32encode

        assert shown_key.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")
        confirmed = client.post(SETUP, {"action": "enable", "code": code_for(device)})
    assert confirmed.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_without_two_factor_sign_in_is_one_step(client, personas):
    password_sign_in(client, "viewer")
    assert client.get(HOME).status_code == 200


def test_enrol_then_every_sign_in_asks_for_a_code(client, personas, caplog):
    clock = Clock()
    password_sign_in(client, "viewer")
    device = enrol(client, clock)
    with clock.step():
        assert client.get(HOME).status_code == 200  # this session proved the code already
        page = client.get(SETUP)
        assert "<strong>On.</strong>" in page.text
    client.post(reverse("logout"))

    with clock.step():
        first = password_sign_in(client, "viewer")
        assert first["Location"] == "/"
        gated = client.get("/account/tokens/")
        assert gated.status_code == 302
        assert gated["Location"] == f"{VERIFY}?next=/account/tokens/"
        # Nothing else opens meanwhile: pages, admin, session API calls.
        assert client.get(reverse("my-notes"))["Location"].startswith(VERIFY)
        assert client.get("/api/v1/missions/").status_code == 403
        form = client.get(gated["Location"])
        assert form.status_code == 200 and "Enter your sign-in code" in form.text

        right = code_for(device)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        with caplog.at_level(logging.WARNING, logger="config.security"):
            refused = client.post(VERIFY, {"code": wrong, "next": "/account/tokens/"})
        assert refused.status_code == 400 and "That code is not right" in refused.text
        assert "Two-factor code refused (sign-in) for viewer" in caplog.text
    with clock.step():  # django-otp's back-off after a wrong code has passed
        accepted = client.post(VERIFY, {"code": code_for(device), "next": "/account/tokens/"})
        assert accepted.status_code == 302 and accepted["Location"] == "/account/tokens/"
        assert client.get("/account/tokens/").status_code == 200
        assert client.get("/api/v1/missions/").status_code == 200


def test_a_code_works_once(client, personas):
    clock = Clock()
    password_sign_in(client, "viewer")
    device = enrol(client, clock)
    client.post(reverse("logout"))
    with clock.step():
        password_sign_in(client, "viewer")
        code = code_for(device)
        assert client.post(VERIFY, {"code": code}).status_code == 302
        client.post(reverse("logout"))
        password_sign_in(client, "viewer")
        again = client.post(VERIFY, {"code": code})  # same step: a replay
    assert again.status_code == 400
    assert client.get(HOME).status_code == 302


def test_a_next_url_elsewhere_is_ignored(client, personas):
    clock = Clock()
    password_sign_in(client, "viewer")
    device = enrol(client, clock)
    client.post(reverse("logout"))
    with clock.step():
        password_sign_in(client, "viewer")
        response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_turning_it_off_needs_a_code(client, personas):
    clock = Clock()
    password_sign_in(client, "viewer")
    device = enrol(client, clock)
    with clock.step():
        refused = client.post(SETUP, {"action": "disable", "code": "000000"})
        assert refused.status_code == 400 and TOTPDevice.objects.filter(pk=device.pk).exists()
    with clock.step():
        done = client.post(SETUP, {"action": "disable", "code": code_for(device)})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=personas.viewer).exists()
    client.post(reverse("logout"))
    password_sign_in(client, "viewer")
    assert client.get(HOME).status_code == 200


@pytest.mark.parametrize("who", ["manager", "admin", "root"])
def test_when_required_managers_and_admins_enrol_before_anything_else(
    client, personas, settings, who
):
    settings.OTP_REQUIRED_FOR_MANAGERS = True
    clock = Clock()
    password_sign_in(client, who)
    target = "/admin/" if who == "root" else "/account/tokens/"
    gated = client.get(target)
    assert gated.status_code == 302 and gated["Location"] == f"{SETUP}?next={target}"
    assert client.get("/api/v1/missions/").status_code == 403
    with clock.step():
        page = client.get(gated["Location"])
        assert "Your role requires two-factor sign-in" in page.text
        device = TOTPDevice.objects.get(user__username=who, confirmed=False)
        done = client.post(SETUP, {"action": "enable", "code": code_for(device), "next": target})
    assert done["Location"] == target
    assert client.get(target).status_code == 200
    # Required: the page offers no way to turn it off, and a forged POST changes nothing.
    with clock.step():
        assert "Turn it off" not in client.get(SETUP).text
        client.post(SETUP, {"action": "disable", "code": code_for(device)})
    assert TOTPDevice.objects.filter(user__username=who, confirmed=True).count() == 1


def test_when_required_viewers_and_analysts_are_not_asked(client, personas, settings):
    settings.OTP_REQUIRED_FOR_MANAGERS = True
    for who in ("viewer", "analyst"):
        password_sign_in(client, who)
        assert client.get(HOME).status_code == 200
        client.post(reverse("logout"))


def test_api_tokens_are_not_affected(client, personas, settings):
    settings.OTP_REQUIRED_FOR_MANAGERS = True
    _, key = api_token_create(user=personas.manager, name="pipeline", expires_at=None)
    response = client.get("/api/v1/missions/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    # Even alongside a browser session that still owes its code.
    password_sign_in(client, "manager")
    assert client.get("/api/v1/missions/").status_code == 403
    response = client.get("/api/v1/missions/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


def test_a_removed_device_lets_an_unrequired_user_through(client, personas):
    clock = Clock()
    password_sign_in(client, "viewer")
    enrol(client, clock)
    client.post(reverse("logout"))
    password_sign_in(client, "viewer")
    TOTPDevice.objects.filter(user=personas.viewer).delete()  # an admin removed it
    response = client.get(VERIFY + "?next=/notes/mine/")
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_a_session_from_before_two_factor_is_checked_once(client, personas):
    """A session signed in before the state was recorded (e.g. before an upgrade) is
    judged on its first request: with a device, it owes a code."""
    clock = Clock()
    password_sign_in(client, "viewer")
    enrol(client, clock)
    client.post(reverse("logout"))
    password_sign_in(client, "viewer")
    session = client.session
    del session["_two_factor"]
    session.save()
    response = client.get("/notes/mine/?page=2&q=a")
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=/notes/mine/%3Fpage%3D2%26q%3Da"
