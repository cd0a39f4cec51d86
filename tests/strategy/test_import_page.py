"""The import page: upload (or paste) an ICS document → preview of the parsed tree, the
discrepancies and what would change (a dry run: nothing written) → confirm imports exactly
the previewed document, cancel writes nothing. Managers only; tampered, expired or someone
else's confirmations are refused with a message and write nothing."""

import datetime as dt
import os
import re
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from strategy.forms import EXPIRED, TAMPERED
from strategy.models import Mission, Node, Strategy
from strategy.services import strategy_import
from tests.factories import StrategyFactory
from tests.strategy.test_import import DOC

SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "ics-china.txt"

# DOC with two discrepancies: 1.1's titles differ between the framework and the detailed
# section, and 2.2 is only in the framework.
SEED_LIKE = DOC.replace(
    "**Mission Objective 1.1: Freedonian tariffs on U.S. goods fall.**",
    "**Mission Objective 1.1: Freedonian tariffs on American goods fall.**",
).replace(
    "**Mission Objective 2.1:** Consular cases are resolved quickly.\n\n",
    "**Mission Objective 2.1:** Consular cases are resolved quickly.\n\n"
    "**Mission Objective 2.2:** Visa waits shorten.\n\n",
)


@pytest.fixture
def seed_path():
    if not SEED.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the seed document at {SEED}")
        pytest.skip("../shared/seeds/ics-china.txt is not beside this checkout")
    return SEED


def import_url(mission) -> str:
    return reverse("strategy-import", args=[mission.pk])


def confirm_url(mission) -> str:
    return reverse("strategy-import-confirm", args=[mission.pk])


def upload(text: str | bytes, name: str = "ics.txt") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/plain")


def html_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def payload_of(html: str) -> str:
    return re.search(r'<input type="hidden" name="payload" value="([^"]+)"', html).group(1)


def written() -> tuple[int, ...]:
    """Everything an import could write, counted."""
    return (
        Mission.objects.count(),
        Strategy.objects.count(),
        Node.objects.count(),
        Node.history.count(),
        Strategy.history.count(),
    )


def preview(client, mission, document=SEED_LIKE, target="new", **extra):
    data = {"file": upload(document), "target": target, **extra}
    return client.post(import_url(mission), data)


# --- Who may import -----------------------------------------------------------------------


def test_manager_gets_the_upload_form_with_the_missions_strategies(client, personas):
    strategy = StrategyFactory(mission=personas.mission, title="ICS 2022")
    StrategyFactory(mission=personas.other_mission, title="Not theirs")
    client.force_login(personas.manager)
    response = client.get(import_url(personas.mission) + f"?strategy={strategy.pk}")
    assert response.status_code == 200
    html = html_of(response)
    assert "<h1>Import an ICS document</h1>" in html
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="id_file">Document file</label>' in html
    assert '<label for="id_text">' in html and '<label for="id_target">' in html
    assert (
        f'<option value="{strategy.pk}" selected>ICS 2022 · FY2022–FY2026 · Approved</option>'
        in html
    )
    assert '<option value="new">A new strategy</option>' in html
    assert "Not theirs" not in html
    assert "up to 5.0\xa0MB" in html  # filesizeformat keeps number and unit together


@pytest.mark.parametrize("role", ["viewer", "analyst"])
def test_viewers_and_analysts_are_refused(client, personas, role):
    client.force_login(personas.by_role(role))
    before = written()
    assert client.get(import_url(personas.mission)).status_code == 403
    response = preview(client, personas.mission)
    assert response.status_code == 403
    assert "You need the manager role to import strategies." in html_of(response)
    assert client.post(confirm_url(personas.mission), {"payload": "x"}).status_code == 403
    assert written() == before


def test_outsiders_get_404_and_anonymous_visitors_sign_in(client, personas):
    client.force_login(personas.outsider)
    assert client.get(import_url(personas.mission)).status_code == 404
    assert preview(client, personas.mission).status_code == 404
    assert client.post(confirm_url(personas.mission), {"payload": "x"}).status_code == 404
    assert client.get(reverse("strategy-import", args=[999_999])).status_code == 404
    client.logout()
    response = client.get(import_url(personas.mission))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_viewer_cannot_confirm_a_managers_payload(client, personas):
    client.force_login(personas.manager)
    payload = payload_of(html_of(preview(client, personas.mission)))
    client.force_login(personas.viewer)
    before = written()
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "confirm"})
    assert response.status_code == 403
    assert written() == before


def test_import_links_are_shown_to_managers_only(client, personas):
    strategy = StrategyFactory(mission=personas.mission)
    strategy_url = reverse("strategy-detail", args=[strategy.pk])
    for role, shown in [("viewer", False), ("analyst", False), ("manager", True)]:
        client.force_login(personas.by_role(role))
        home = html_of(client.get(reverse("home")))
        page = html_of(client.get(strategy_url))
        assert (import_url(personas.mission) in home) is shown, role
        assert (f"{import_url(personas.mission)}?strategy={strategy.pk}" in page) is shown, role
        assert reverse("strategy-import-new-mission") not in home


# --- Preview, confirm, cancel -------------------------------------------------------------


def test_preview_shows_the_tree_counts_discrepancies_and_changes_and_writes_nothing(
    client, personas
):
    client.force_login(personas.manager)
    before = written()
    response = preview(client, personas.mission)
    assert response.status_code == 200
    assert written() == before
    html = html_of(response)
    assert "<h1>Integrated Country Strategy — Freedonia</h1>" in html
    assert "no-store" in response["Cache-Control"]
    # The parsed tree: kinds, codes, titles, narrative excerpts.
    assert '<span class="kind">Mission Objective 2.1</span>' in html
    assert '<span class="title">Consular cases are resolved quickly.</span>' in html
    assert "Tariffs average 18 percent." in html
    assert '<li class="tag">NSS Pillar 2</li>' in html
    # Counts per kind.
    assert "<dt>Mission Goals</dt><dd>2</dd>" in html
    assert "<dt>Mission Objectives</dt><dd>4</dd>" in html
    assert "<dt>Management Objective</dt><dd>1</dd>" in html
    # The discrepancies, as a table with both texts and the message.
    table = html[html.index('<table class="data discrepancies">') :]
    table = table[: table.index("</table>")]
    assert table.count('<th scope="row"') == 2
    assert "Titles differ" in table and "Only in the framework" in table
    assert "Freedonian tariffs on U.S. goods fall." in table
    assert "Freedonian tariffs on American goods fall." in table
    assert "the detailed section&#x27;s title was kept" in table
    # What would change: a new strategy with all 7 items.
    assert "A new strategy “Integrated Country Strategy — Freedonia” will be created" in html
    assert 'Added <span class="count">(7)</span>' in html
    assert "<li>Mission Objective 2.2</li>" in html
    # Confirm and cancel, with the document signed in a hidden field.
    assert f'action="{confirm_url(personas.mission)}"' in html
    assert 'name="action" value="confirm"' in html and 'name="action" value="cancel"' in html
    assert payload_of(html)


def test_confirm_imports_the_previewed_document_and_says_what_changed(client, personas):
    client.force_login(personas.manager)
    payload = payload_of(html_of(preview(client, personas.mission)))
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "confirm"})
    strategy = Strategy.objects.get(mission=personas.mission)
    assert response.status_code == 302
    assert response.url == reverse("strategy-detail", args=[strategy.pk])
    assert strategy.title == "Integrated Country Strategy — Freedonia"
    assert Node.objects.filter(strategy=strategy).count() == 7
    assert Node.objects.get(strategy=strategy, code="1.1").title == (
        "Freedonian tariffs on American goods fall."
    )
    # The history names the manager.
    assert {h.history_user for h in Node.history.filter(strategy_id=strategy.pk)} == {
        personas.manager
    }
    page = html_of(client.get(response.url))
    assert "Created “Integrated Country Strategy — Freedonia” with 7 goals and objectives." in page


def test_cancel_writes_nothing_and_says_so(client, personas):
    client.force_login(personas.manager)
    payload = payload_of(html_of(preview(client, personas.mission)))
    before = written()
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "cancel"})
    assert response.status_code == 302 and response.url == import_url(personas.mission)
    assert written() == before
    assert "Import cancelled: nothing was changed." in html_of(client.get(response.url))


def test_a_tampered_payload_is_refused_and_writes_nothing(client, personas):
    client.force_login(personas.manager)
    payload = payload_of(html_of(preview(client, personas.mission)))
    before = written()
    for bad in [payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], "", "junk"]:
        response = client.post(confirm_url(personas.mission), {"payload": bad, "action": "confirm"})
        assert response.status_code == 400
        html = html_of(response)
        assert TAMPERED.replace("'", "&#x27;") in html
        assert 'role="alert"' in html
        assert "<h1>Import an ICS document</h1>" in html  # the upload form, to start again
    assert written() == before


def test_an_expired_payload_is_refused_and_writes_nothing(client, personas):
    client.force_login(personas.manager)
    now = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(now, tick=False):
        payload = payload_of(html_of(preview(client, personas.mission)))
    before = written()
    with time_machine.travel(now + dt.timedelta(hours=2), tick=False):
        client.force_login(personas.manager)
        response = client.post(
            confirm_url(personas.mission), {"payload": payload, "action": "confirm"}
        )
    assert response.status_code == 400
    assert EXPIRED in html_of(response)
    assert written() == before


def test_someone_elses_payload_is_refused(client, personas):
    client.force_login(personas.manager)
    payload = payload_of(html_of(preview(client, personas.mission)))
    client.force_login(personas.manager2)
    before = written()
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "confirm"})
    assert response.status_code == 400
    assert TAMPERED.replace("'", "&#x27;") in html_of(response)
    assert written() == before


def test_a_payload_for_another_mission_is_refused(client, personas):
    client.force_login(personas.superuser)
    payload = payload_of(html_of(preview(client, personas.other_mission)))
    before = written()
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "confirm"})
    assert response.status_code == 400
    assert written() == before


def test_reimporting_the_same_document_shows_no_changes(client, personas):
    strategy = strategy_import(document=SEED_LIKE, mission=personas.mission, by=None).strategy
    client.force_login(personas.manager)
    before = written()
    html = html_of(preview(client, personas.mission, target=str(strategy.pk)))
    assert "<strong>No changes.</strong>" in html
    assert "will be updated" in html
    payload = payload_of(html)
    response = client.post(confirm_url(personas.mission), {"payload": payload, "action": "confirm"})
    assert response.status_code == 302
    assert written() == before
    page = html_of(client.get(response.url))
    assert f"Nothing changed: “{strategy.title}” already matches this document." in page


def test_a_revised_document_updates_the_chosen_strategy_in_place(client, personas):
    strategy = strategy_import(document=DOC, mission=personas.mission, by=None).strategy
    client.force_login(personas.manager)
    html = html_of(preview(client, personas.mission, target=str(strategy.pk)))
    changes = html[html.index('id="changes-heading"') : html.index('id="discrepancies-heading"')]
    assert 'Added <span class="count">(1)</span>' in changes  # 2.2
    assert 'Updated <span class="count">(1)</span>' in changes  # 1.1's title
    assert (
        "<li>Mission Objective 1.1</li>" in changes and "<li>Mission Objective 2.2</li>" in changes
    )
    response = client.post(
        confirm_url(personas.mission), {"payload": payload_of(html), "action": "confirm"}
    )
    assert response.url == reverse("strategy-detail", args=[strategy.pk])
    assert Strategy.objects.filter(mission=personas.mission).count() == 1
    assert Node.objects.filter(strategy=strategy).count() == 7
    page = html_of(client.get(response.url))
    assert f"Imported into “{strategy.title}”: 1 added, 1 updated, 5 unchanged." in page


def test_new_strategy_matching_an_existing_one_says_it_will_update_it(client, personas):
    strategy = strategy_import(document=DOC, mission=personas.mission, by=None).strategy
    client.force_login(personas.manager)
    html = html_of(preview(client, personas.mission, target="new"))
    assert "already has a strategy of this document" in html
    assert "so it will be updated rather than a new one created" in html
    client.post(confirm_url(personas.mission), {"payload": payload_of(html), "action": "confirm"})
    assert list(Strategy.objects.filter(mission=personas.mission)) == [strategy]


def test_pasted_text_is_previewed_like_a_file(client, personas):
    client.force_login(personas.manager)
    response = client.post(import_url(personas.mission), {"text": SEED_LIKE, "target": "new"})
    assert response.status_code == 200
    html = html_of(response)
    assert "<dd>pasted text</dd>" in html and "Titles differ" in html


def test_a_target_from_another_mission_is_refused(client, personas):
    other = StrategyFactory(mission=personas.other_mission)
    client.force_login(personas.manager)
    before = written()
    response = preview(client, personas.mission, target=str(other.pk))
    assert response.status_code == 400
    assert "Select a valid choice." in html_of(response)
    assert written() == before


# --- Bad uploads get clear messages ------------------------------------------------------


def test_an_oversize_file_is_refused_with_the_limit(client, personas, settings):
    settings.ICS_IMPORT_MAX_BYTES = 1000
    client.force_login(personas.manager)
    response = client.post(
        import_url(personas.mission), {"file": upload("x" * 2000, "big.txt"), "target": "new"}
    )
    assert response.status_code == 400
    html = html_of(response)
    assert "“big.txt” is 2.0\xa0KB; the limit is 1000\xa0bytes." in html
    assert 'class="field field-file field-invalid"' in html


def test_oversize_pasted_text_is_refused_with_the_limit(client, personas, settings):
    settings.ICS_IMPORT_MAX_BYTES = 1000
    client.force_login(personas.manager)
    response = client.post(import_url(personas.mission), {"text": "é" * 600, "target": "new"})
    assert response.status_code == 400
    assert "The pasted text is 1.2\xa0KB; the limit is 1000\xa0bytes." in html_of(response)


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "ics.pdf", "could not be read as a PDF"),
        (bytes(range(256)) * 8, "ics.txt", "does not look like a text document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "ics.doc", "old Word 97-2003"),
        (b"   \n  ", "empty.txt", "“empty.txt” is empty."),
    ],
    ids=["pdf", "binary", "doc", "empty"],
)
def test_unreadable_files_get_the_extractors_message(client, personas, data, name, message):
    client.force_login(personas.manager)
    before = written()
    response = client.post(
        import_url(personas.mission), {"file": upload(data, name), "target": "new"}
    )
    assert response.status_code == 400
    assert message in html_of(response)
    assert written() == before


def test_a_document_without_goals_is_refused_with_the_reason(client, personas):
    client.force_login(personas.manager)
    response = client.post(
        import_url(personas.mission), {"text": "Just a shopping list.\n", "target": "new"}
    )
    assert response.status_code == 400
    assert "Nothing to import:" in html_of(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a file to upload, or paste the document&#x27;s text."),
        ({"text": "x", "file": True}, "Upload a file or paste the text, not both"),
    ],
)
def test_exactly_one_source_is_needed(client, personas, data, message):
    client.force_login(personas.manager)
    if data.get("file"):
        data = {**data, "file": upload(SEED_LIKE)}
    response = client.post(import_url(personas.mission), {**data, "target": "new"})
    assert response.status_code == 400
    assert message in html_of(response)


# --- The seed document and a superuser's new mission --------------------------------------


def test_manager_imports_the_seed_document_through_the_page(client, personas, seed_path):
    client.force_login(personas.manager)
    response = client.post(
        import_url(personas.mission),
        {"file": upload(seed_path.read_bytes(), "ics-china.txt"), "target": "new"},
    )
    html = html_of(response)
    assert response.status_code == 200
    for code in ("2.1", "3.3", "3.4"):
        assert f"</span>{code}</th>" in html
    assert "Only in the framework" in html and "Titles differ" in html
    response = client.post(
        confirm_url(personas.mission), {"payload": payload_of(html), "action": "confirm"}
    )
    strategy = Strategy.objects.get(mission=personas.mission)
    assert Node.objects.filter(strategy=strategy).count() == 16
    again = html_of(
        client.post(
            import_url(personas.mission),
            {"file": upload(seed_path.read_bytes(), "ics-china.txt"), "target": str(strategy.pk)},
        )
    )
    assert "<strong>No changes.</strong>" in again


def test_superuser_imports_into_a_new_mission(client, personas):
    client.force_login(personas.superuser)
    assert reverse("strategy-import-new-mission") in html_of(client.get(reverse("home")))
    response = client.post(reverse("strategy-import-new-mission"), {"file": upload(SEED_LIKE)})
    html = html_of(response)
    assert response.status_code == 200
    assert "A new mission “Freedonia” will be created" in html
    assert not Mission.objects.filter(slug="freedonia").exists()
    response = client.post(
        reverse("strategy-import-new-mission-confirm"),
        {"payload": payload_of(html), "action": "confirm"},
    )
    mission = Mission.objects.get(slug="freedonia")
    strategy = Strategy.objects.get(mission=mission)
    assert response.url == reverse("strategy-detail", args=[strategy.pk])


def test_only_superusers_import_into_a_new_mission(client, personas):
    client.force_login(personas.manager)
    assert client.get(reverse("strategy-import-new-mission")).status_code == 403
    response = client.post(reverse("strategy-import-new-mission"), {"file": upload(SEED_LIKE)})
    assert response.status_code == 403
    assert not Mission.objects.filter(slug="freedonia").exists()


def test_the_pages_have_no_inline_scripts_or_styles(client, personas):
    client.force_login(personas.manager)
    for response in (client.get(import_url(personas.mission)), preview(client, personas.mission)):
        html = html_of(response)
        assert "<script" not in html.split("</head>")[1]
        assert " style=" not in html
        assert re.search(r"\son[a-z]+=", html) is None
