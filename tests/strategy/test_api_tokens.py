"""Per-client API tokens: the authentication class, the management commands and the page.

The authentication class is exercised through a throwaway DRF view (it answers with the
caller's username), so these tests do not depend on the API's endpoints. Who may do what:
every signed-in user may hold tokens (a token acts with its user's roles), only the owner
sees or revokes them, a key is shown once and only its digest is stored.
"""

import datetime as dt
import hashlib
import logging
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from strategy.api.authentication import ApiTokenAuthentication
from strategy.models import ApiToken
from strategy.services import api_token_create, api_token_revoke

NOW = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


class WhoAmI(APIView):
    """Answers with the caller's username; only this module's authentication class."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.username, "token": request.auth.name})


def call_api(authorization: str | bytes | None):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    request = APIRequestFactory().get("/whoami/", **headers)
    return WhoAmI.as_view()(request)


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def analyst_key(personas) -> str:
    return api_token_create(user=personas.analyst, name="pipeline")[1]


# --- The authentication class ----------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "BEARER"])
def test_a_key_is_accepted_as_token_or_bearer_in_any_case(analyst_key, scheme):
    response = call_api(f"{scheme} {analyst_key}")
    assert response.status_code == 200
    assert response.data == {"username": "analyst", "token": "pipeline"}


def test_without_credentials_the_answer_is_401_with_a_challenge(db):
    assert_refused(call_api(None))


def test_another_scheme_is_left_to_other_authentication_classes(analyst_key):
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION="Basic YW5hbHlzdDpwdw==")
    assert ApiTokenAuthentication().authenticate(request) is None


def test_a_wrong_key_is_refused_without_saying_why(analyst_key):
    response = call_api("Token st_" + "x" * 43)
    assert_refused(response)
    assert response.data["detail"] == "Invalid or expired token."


def test_a_revoked_token_is_refused(personas, analyst_key):
    api_token_revoke(token=ApiToken.objects.get(), by=personas.analyst)
    response = call_api(f"Token {analyst_key}")
    assert_refused(response)
    assert response.data["detail"] == "Invalid or expired token."


def test_an_expired_token_is_refused(personas, frozen):
    _, key = api_token_create(
        user=personas.analyst, name="short", expires_at=NOW + dt.timedelta(days=1)
    )
    assert call_api(f"Token {key}").status_code == 200
    frozen.shift(dt.timedelta(days=1))
    response = call_api(f"Token {key}")
    assert_refused(response)
    assert response.data["detail"] == "Invalid or expired token."


def test_an_inactive_users_token_is_refused(personas, analyst_key):
    personas.analyst.is_active = False
    personas.analyst.save()
    response = call_api(f"Token {analyst_key}")
    assert_refused(response)
    assert response.data["detail"] == "Invalid or expired token."


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Token", "no key given"),
        ("Bearer   ", "no key given"),
        ("Token st_abc def", "must not contain spaces"),
        ("Token st_abc\x00def", "characters a key never has"),
        ("Token st_abc\u00e9", "characters a key never has"),
        ("Token st_abc\u20ac", "characters a key never has"),  # not even Latin-1
        (b"Token st_\xff\xfe", "characters a key never has"),
        ("Token " + "a" * 201, "too long"),
    ],
)
def test_malformed_headers_are_401_with_a_clear_message(db, header, message):
    response = call_api(header)
    assert_refused(response)
    assert message in str(response.data["detail"])


def test_a_key_of_200_characters_is_looked_up_not_refused_as_malformed(db):
    response = call_api("Token " + "a" * 200)
    assert_refused(response)
    assert response.data["detail"] == "Invalid or expired token."


def test_refusals_are_logged_with_the_prefix_only(analyst_key, caplog):
    wrong = analyst_key[:-4] + "zzzz"
    with caplog.at_level(logging.WARNING, logger="strategy.auth"):
        call_api(f"Token {wrong}")
    [record] = [r for r in caplog.records if r.name == "strategy.auth"]
    assert record.levelno == logging.WARNING
    assert wrong[:11] in record.getMessage()
    assert wrong[11:] not in record.getMessage()


def test_last_used_is_written_at_most_once_a_minute(personas, frozen, django_assert_num_queries):
    token, key = api_token_create(user=personas.analyst, name="pipeline")
    assert token.last_used_at is None

    # 1 the token with its user, 2 the conditional UPDATE of last_used_at
    with django_assert_num_queries(2):
        assert call_api(f"Token {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == NOW

    frozen.shift(dt.timedelta(seconds=59))
    # 1 the token with its user: used less than a minute ago, nothing written
    with django_assert_num_queries(1):
        assert call_api(f"Bearer {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == NOW

    frozen.shift(dt.timedelta(seconds=2))
    assert call_api(f"Token {key}").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == NOW + dt.timedelta(seconds=61)


def test_concurrent_requests_write_last_used_once(personas):
    """Two requests read the token before either wrote: the conditional UPDATE lets one in."""
    token, _ = api_token_create(user=personas.analyst, name="pipeline")
    first, second = ApiToken.objects.get(pk=token.pk), ApiToken.objects.get(pk=token.pk)
    ApiTokenAuthentication()._touch(first, NOW)
    ApiTokenAuthentication()._touch(second, NOW + dt.timedelta(seconds=10))
    token.refresh_from_db()
    assert token.last_used_at == NOW


def test_only_the_digest_of_the_key_is_stored(personas):
    token, key = api_token_create(user=personas.analyst, name="pipeline")
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith("st_") and row["prefix"] == key[:11]
    assert not any(key in str(value) for value in row.values())


# --- The management commands ----------------------------------------------------------


def create_token(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_token_prints_a_working_key_once(personas):
    out, err = create_token("analyst", "--name", "nightly import")
    key = out.strip()
    assert out == key + "\n"  # the key alone, so `KEY=$(…)` works
    assert "cannot be shown again" in err and key not in err
    assert call_api(f"Token {key}").data["username"] == "analyst"
    token = ApiToken.objects.get()
    assert (token.name, token.expires_at) == ("nightly import", None)


def test_create_api_token_can_expire(personas, frozen):
    out, _ = create_token("viewer", "--name", "trial", "--expires-days", "30")
    assert ApiToken.objects.get().expires_at == NOW + dt.timedelta(days=30)
    frozen.shift(dt.timedelta(days=30))
    assert_refused(call_api(f"Token {out.strip()}"))


def test_create_api_token_refuses_a_duplicate_active_name(personas):
    create_token("analyst", "--name", "pipeline")
    with pytest.raises(CommandError, match="already have an active token"):
        create_token("analyst", "--name", "pipeline")
    assert ApiToken.objects.count() == 1


def test_create_api_token_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user called “nobody”"):
        create_token("nobody", "--name", "pipeline")


@pytest.mark.parametrize("days", ["0", "-3", "366", "ten", "1.5"])
def test_create_api_token_refuses_a_bad_expiry(personas, days):
    with pytest.raises(CommandError, match="from 1 to 365"):
        create_token("analyst", "--name", "pipeline", "--expires-days", days)
    assert not ApiToken.objects.exists()


def test_revoke_api_token_stops_the_key_and_frees_the_name(personas):
    key = create_token("analyst", "--name", "pipeline")[0].strip()
    out = StringIO()
    call_command("revoke_api_token", "analyst", "--name", "pipeline", stdout=out)
    assert "Revoked token “pipeline”" in out.getvalue()
    assert_refused(call_api(f"Token {key}"))
    create_token("analyst", "--name", "pipeline")  # the name may be used again
    with pytest.raises(CommandError, match="no active token called “other”"):
        call_command("revoke_api_token", "analyst", "--name", "other")


# --- The token page --------------------------------------------------------------------

TOKENS_URL = "/account/tokens/"


def revoke_url(token: ApiToken) -> str:
    return reverse("api-token-revoke", args=[token.pk])


def test_token_urls_are_named():
    assert reverse("api-tokens") == TOKENS_URL
    assert reverse("api-token-revoke", args=[7]) == "/account/tokens/7/revoke/"


def test_the_token_page_requires_sign_in(client, personas):
    token, _ = api_token_create(user=personas.analyst, name="pipeline")
    response = client.get(TOKENS_URL)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={TOKENS_URL}"
    assert client.post(TOKENS_URL, {"name": "sneaky"}).status_code == 302
    assert client.post(revoke_url(token)).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_signed_in_users_see_the_link_in_the_header(client, personas):
    client.force_login(personas.viewer)
    html = client.get(reverse("home")).content.decode()
    assert f'href="{TOKENS_URL}">API tokens</a>' in html


def test_the_page_lists_only_your_own_tokens(client, personas, frozen):
    api_token_create(user=personas.analyst, name="analyst pipeline")
    revoked, _ = api_token_create(user=personas.analyst, name="old laptop")
    api_token_revoke(token=revoked, by=personas.analyst)
    api_token_create(user=personas.analyst, name="trial", expires_at=NOW + dt.timedelta(minutes=1))
    api_token_create(user=personas.viewer, name="viewer spreadsheet")
    frozen.shift(dt.timedelta(minutes=2))
    client.force_login(personas.analyst)
    response = client.get(TOKENS_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert [row.token.name for row in response.context["rows"]] == [
        "trial",
        "old laptop",
        "analyst pipeline",
    ]
    assert [row.status for row in response.context["rows"]] == ["expired", "revoked", "active"]
    assert "viewer spreadsheet" not in html
    assert "<caption>" in html and 'scope="row"' in html
    assert '<label for="id_name">' in html and '<label for="id_expires_days">' in html


def test_the_page_says_when_there_are_no_tokens(client, personas):
    client.force_login(personas.outsider)
    assert "You have no API tokens yet" in client.get(TOKENS_URL).content.decode()


def test_creating_a_token_shows_the_key_once_and_then_only_its_prefix(client, personas):
    client.force_login(personas.analyst)
    response = client.post(TOKENS_URL, {"name": "pipeline", "expires_days": "90"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    html = response.content.decode()
    assert f"<code>{key}</code>" in html
    assert f'curl -H "Authorization: Token {key}" http://testserver/api/v1/missions/' in html
    token = ApiToken.objects.get(user=personas.analyst)
    assert token.name == "pipeline" and token.expires_at is not None
    assert key not in str(dict(client.session))

    listing = client.get(TOKENS_URL)
    assert key not in listing.content.decode()
    assert f"{token.prefix}…" in listing.content.decode()
    assert call_api(f"Token {key}").data["username"] == "analyst"


def test_the_list_page_is_not_marked_no_store(client, personas):
    client.force_login(personas.analyst)
    assert "no-store" not in client.get(TOKENS_URL).get("Cache-Control", "")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "pipeline", "expires_days": "0"}, "greater than or equal to 1"),
        ({"name": "pipeline", "expires_days": "366"}, "less than or equal to 365"),
        ({"name": "pipeline", "expires_days": "soon"}, "Enter a whole number."),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"name": "  "}, "This field is required."),
    ],
)
def test_invalid_input_redisplays_the_form_and_creates_nothing(client, personas, data, error):
    client.force_login(personas.analyst)
    response = client.post(TOKENS_URL, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_duplicate_active_name_is_a_form_error(client, personas):
    api_token_create(user=personas.analyst, name="pipeline")
    client.force_login(personas.analyst)
    response = client.post(TOKENS_URL, {"name": "pipeline"})
    assert response.status_code == 200
    assert "already have an active token called" in response.content.decode()
    assert "key" not in response.context
    assert ApiToken.objects.count() == 1


def test_a_viewer_may_create_a_token_that_acts_as_the_viewer(client, personas):
    client.force_login(personas.viewer)
    response = client.post(TOKENS_URL, {"name": "read-only dashboard"})
    assert response.status_code == 200
    assert call_api(f"Token {response.context['key']}").data["username"] == "viewer"


def test_revoking_your_own_token(client, personas):
    token, key = api_token_create(user=personas.analyst, name="pipeline")
    client.force_login(personas.analyst)
    response = client.post(revoke_url(token), follow=True)
    assert response.redirect_chain == [(TOKENS_URL, 302)]
    assert "Revoked “pipeline”" in response.content.decode()
    assert [row.status for row in response.context["rows"]] == ["revoked"]
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_refused(call_api(f"Token {key}"))


def test_revoking_is_post_only(client, personas):
    token, _ = api_token_create(user=personas.analyst, name="pipeline")
    client.force_login(personas.analyst)
    assert client.get(revoke_url(token)).status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("who", ["viewer", "manager", "outsider", "superuser"])
def test_revoking_another_users_token_is_404_and_changes_nothing(client, personas, who):
    token, key = api_token_create(user=personas.analyst, name="pipeline")
    client.force_login(personas.by_role(who))
    assert client.post(revoke_url(token)).status_code == 404
    assert client.post(reverse("api-token-revoke", args=[999_999])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert call_api(f"Token {key}").status_code == 200
