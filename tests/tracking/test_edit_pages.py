"""The editing pages: a node's narrative (each part may be marked sensitive), a strategy's
fields, the "sensitive" checkbox of the note form, and a manager marking a note under
review or approved as sensitive — who may open and post each, conditional updates
(a stale form changes nothing), history rows, and the node edit page's fixed queries."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from strategy.models import Node
from tests.factories import MembershipFactory, ProgressNoteFactory, UserFactory
from tracking.models import NoteState, ProgressNote
from tracking.services import note_create, note_submit

SENSITIVE = "Sensitive — leave out of the public-release document"


def html_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def url(name: str, obj) -> str:
    return reverse(name, args=[obj.pk])


def node_form(node: Node, **changes) -> dict:
    """What the node edit page posts when nothing is touched, with `changes` applied."""
    data = {
        "title": node.title,
        "owner": node.owner_id or "",
        "description": node.description,
        "justification": node.justification,
        "risks": node.risks,
        "linkages": ", ".join(node.linkages),
        "version": node.version,
    }
    for flag in ("description_sensitive", "justification_sensitive", "risks_sensitive"):
        if getattr(node, flag):
            data[flag] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def strategy_form(strategy, **changes) -> dict:
    data = {
        "title": strategy.title,
        "status": strategy.status,
        "period_start_fy": strategy.period_start_fy or "",
        "period_end_fy": strategy.period_end_fy or "",
        "approved_on": strategy.approved_on.isoformat() if strategy.approved_on else "",
        "reviewed_on": strategy.reviewed_on.isoformat() if strategy.reviewed_on else "",
        "freshness_days": strategy.freshness_days,
        "rollup": strategy.rollup,
        "com_priorities": strategy.com_priorities,
        "version": strategy.version,
    }
    if strategy.com_priorities_sensitive:
        data["com_priorities_sensitive"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def checkbox(html: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert match, f"no {name} checkbox"
    return match.group(0)


@pytest.fixture
def narrated(tree):
    node = tree.obj11
    node.description = "Our **exports** grow."
    node.justification = "Tariffs fell.\n\nTwo trade missions."
    node.risks = "Elections."
    node.linkages = ["NSS Pillar 2"]
    node.save()
    return node


# --- Who may open and post the pages ----------------------------------------------------


@pytest.mark.parametrize("name", ["node-edit", "strategy-edit"])
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("viewer", 403), ("analyst", 403), ("manager", 200), ("admin", 200), ("superuser", 200)],
)
def test_only_managers_may_open_the_edit_pages(client, personas, tree, name, persona, expected):
    obj = tree.obj11 if name == "node-edit" else tree.strategy
    client.force_login(personas.by_role(persona))
    response = client.get(url(name, obj))
    assert response.status_code == expected
    if expected == 403:
        assert "You need the manager role to edit" in html_of(response)


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_members_below_manager_cannot_post_an_edit(client, personas, tree, persona):
    client.force_login(personas.by_role(persona))
    node_post = client.post(url("node-edit", tree.obj11), node_form(tree.obj11, title="Mine"))
    strategy_post = client.post(
        url("strategy-edit", tree.strategy), strategy_form(tree.strategy, title="Mine")
    )
    assert (node_post.status_code, strategy_post.status_code) == (403, 403)
    tree.obj11.refresh_from_db()
    tree.strategy.refresh_from_db()
    assert tree.obj11.title == "Exports grow" and tree.obj11.version == 1
    assert tree.strategy.title != "Mine" and tree.strategy.version == 1


def test_outsider_gets_404_on_the_edit_pages(client, personas, tree):
    note = ProgressNoteFactory(strategy=tree.strategy, author=personas.analyst, nodes=[tree.obj11])
    client.force_login(personas.outsider)  # a manager of the other mission
    assert client.get(url("node-edit", tree.obj11)).status_code == 404
    assert client.get(url("strategy-edit", tree.strategy)).status_code == 404
    assert client.post(url("node-edit", tree.obj11), node_form(tree.obj11)).status_code == 404
    assert client.post(url("note-sensitive", note), {"sensitive": "1"}).status_code == 404
    note.refresh_from_db()
    assert not note.is_sensitive


def test_signed_out_visitors_are_sent_to_sign_in(client, tree):
    for target in [url("node-edit", tree.obj11), url("strategy-edit", tree.strategy)]:
        response = client.get(target)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={target}"
    response = client.post(url("note-sensitive", tree.obj11), {"sensitive": "1"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_node_page_links_to_the_edit_page_for_managers_only(client, personas, tree):
    edit = f'href="{url("node-edit", tree.obj11)}"'
    client.force_login(personas.manager)
    assert edit in html_of(client.get(url("node-detail", tree.obj11)))
    client.force_login(personas.analyst)
    assert edit not in html_of(client.get(url("node-detail", tree.obj11)))


# --- Editing a node -----------------------------------------------------------------------


def test_node_edit_page_shows_the_stored_values_with_a_labelled_checkbox_per_narrative_field(
    client, personas, narrated
):
    narrated.justification_sensitive = True
    narrated.save()
    client.force_login(personas.manager)
    html = html_of(client.get(url("node-edit", narrated)))
    assert 'name="csrfmiddlewaretoken"' in html
    assert f'name="version" value="{narrated.version}"' in html
    assert 'value="NSS Pillar 2"' in html
    assert "Tariffs fell.\n\nTwo trade missions.</textarea>" in html
    for name in ("title", "owner", "description", "justification", "risks", "linkages"):
        assert f'<label for="id_{name}">' in html
    assert "checked" in checkbox(html, "justification_sensitive")
    assert "checked" not in checkbox(html, "description_sensitive")
    assert "checked" not in checkbox(html, "risks_sensitive")
    for name, subject in [
        ("description_sensitive", "Description and linkages"),
        ("justification_sensitive", "Justification"),
        ("risks_sensitive", "Risks"),
    ]:
        assert re.search(
            rf'<label for="id_{name}"><input type="checkbox" name="{name}"[^>]*> '
            rf'<span>{SENSITIVE}<span class="visually-hidden">: {subject}</span></span></label>',
            html,
        )
    # The owner is chosen among the mission's members; "Nobody" is a choice.
    owners = set(re.findall(r'<option value="(\d*)"', html))
    assert owners == {""} | {str(p.pk) for p in (personas.viewer, personas.analyst,
        personas.analyst2, personas.manager, personas.manager2, personas.admin)}  # fmt: skip


def test_manager_saves_narrative_flags_owner_and_linkages_with_one_history_row(
    client, personas, narrated
):
    client.force_login(personas.manager)
    rows = narrated.history.count()
    response = client.post(
        url("node-edit", narrated),
        node_form(
            narrated,
            title="Exports grow fast",
            risks="Elections.\r\nStrikes.",
            risks_sensitive="on",
            justification_sensitive="on",
            owner=personas.analyst.pk,
            linkages="NSS Pillar 2, JSP Goal 2 ,, ",
        ),
    )
    assert response.status_code == 302
    assert response.url == url("node-detail", narrated)
    narrated.refresh_from_db()
    assert (narrated.title, narrated.risks, narrated.owner) == (
        "Exports grow fast", "Elections.\nStrikes.", personas.analyst,
    )  # fmt: skip
    assert (
        narrated.description_sensitive,
        narrated.justification_sensitive,
        narrated.risks_sensitive,
    ) == (False, True, True)
    assert narrated.linkages == ["NSS Pillar 2", "JSP Goal 2"]
    assert narrated.version == 2
    assert narrated.history.count() == rows + 1
    latest = narrated.history.first()
    assert (latest.history_user, latest.risks_sensitive) == (personas.manager, True)

    html = html_of(client.get(response.url))
    assert "Saved Mission Objective 1.1." in html
    sensitive = '<span class="badge badge-context badge-sensitive"'
    assert re.search(rf"<h3>Justification {sensitive}[^>]*>Sensitive</span></h3>", html)
    assert re.search(rf"<h3>Risks {sensitive}[^>]*>Sensitive</span></h3>", html)
    assert "<h3>Description and linkages</h3>" in html


def test_saving_an_untouched_form_changes_nothing(client, personas, narrated):
    """The browser sends textareas with CRLF line breaks; they are not a change."""
    client.force_login(personas.manager)
    rows = narrated.history.count()
    data = node_form(narrated, justification=narrated.justification.replace("\n", "\r\n"))
    response = client.post(url("node-edit", narrated), data)
    assert response.status_code == 302
    narrated.refresh_from_db()
    assert (narrated.version, narrated.history.count()) == (1, rows)
    assert "Nothing changed: Mission Objective 1.1 already said this." in html_of(
        client.get(response.url)
    )


def test_a_stale_node_form_is_refused_and_changes_nothing(client, personas, narrated):
    client.force_login(personas.manager)
    opened = node_form(narrated, description_sensitive="on", title="Mine")
    narrated.title = "Theirs"
    narrated.version += 1  # someone saved meanwhile
    narrated.save()

    response = client.post(url("node-edit", narrated), opened)
    assert response.status_code == 400
    html = html_of(response)
    assert "Someone changed this item since you opened the page, so nothing was saved." in html
    assert 'value="Mine"' in html  # what they typed is still there to copy
    narrated.refresh_from_db()
    assert (narrated.title, narrated.description_sensitive, narrated.version) == (
        "Theirs",
        False,
        2,
    )


def test_node_form_errors_are_shown_next_to_their_fields(client, personas, narrated):
    stranger = UserFactory(username="stranger")
    client.force_login(personas.manager)
    response = client.post(
        url("node-edit", narrated),
        node_form(narrated, title="", owner=stranger.pk, linkages="x" * 101),
    )
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="id_title_error"><p>This field is required.</p>' in html
    assert 'id="id_owner_error"><p>Select a valid choice.' in html
    narrated.refresh_from_db()
    assert narrated.version == 1

    response = client.post(url("node-edit", narrated), node_form(narrated, linkages="x" * 101))
    assert 'id="id_linkages_error"><p>Each linkage must be a tag of 1–100 characters.</p>' in (
        html_of(response)
    )


def test_an_owner_who_left_the_mission_does_not_block_saving(client, personas, narrated):
    former = MembershipFactory(user=UserFactory(username="former"), mission=personas.mission).user
    narrated.owner = former
    narrated.save()
    former.memberships.all().delete()
    client.force_login(personas.manager)
    html = html_of(client.get(url("node-edit", narrated)))
    assert f'<option value="{former.pk}" selected>former (not a member any more)</option>' in html

    response = client.post(url("node-edit", narrated), node_form(narrated, risks_sensitive="on"))
    assert response.status_code == 302
    narrated.refresh_from_db()
    assert (narrated.owner, narrated.risks_sensitive) == (former, True)


# The node edit page, whatever the mission's size:
#  1. the session
#  2. the user
#  3. the user's memberships (roles, cached on the user for the page)
#  4. the node, with its strategy and mission
#  5. the mission's members, offered as owners
NODE_EDIT_QUERIES = 5


def test_node_edit_page_query_count_does_not_grow_with_members(
    client, personas, narrated, django_assert_num_queries
):
    client.force_login(personas.manager)
    with django_assert_num_queries(NODE_EDIT_QUERIES):
        assert client.get(url("node-edit", narrated)).status_code == 200
    for i in range(20):
        MembershipFactory(user=UserFactory(username=f"colleague{i}"), mission=personas.mission)
    with django_assert_num_queries(NODE_EDIT_QUERIES):
        response = client.get(url("node-edit", narrated))
    assert html_of(response).count("<option ") == 1 + 6 + 20


# --- Editing a strategy ---------------------------------------------------------------------


def test_manager_edits_the_strategy_and_marks_the_priorities_sensitive(client, personas, tree):
    strategy = tree.strategy
    client.force_login(personas.manager)
    html = html_of(client.get(url("strategy-edit", strategy)))
    for name in (
        "title", "status", "period_start_fy", "period_end_fy", "approved_on", "reviewed_on",
        "freshness_days", "rollup", "com_priorities",
    ):  # fmt: skip
        assert f'<label for="id_{name}">' in html
    assert "checked" not in checkbox(html, "com_priorities_sensitive")

    rows = strategy.history.count()
    response = client.post(
        url("strategy-edit", strategy),
        strategy_form(
            strategy,
            title="ICS 2022–2026",
            status="approved",
            period_start_fy=2022,
            period_end_fy=2026,
            approved_on="2022-04-01",
            freshness_days=60,
            rollup="own_first",
            com_priorities="Keep the **trade** focus.",
            com_priorities_sensitive="on",
        ),
    )
    assert response.status_code == 302
    assert response.url == url("strategy-detail", strategy)
    strategy.refresh_from_db()
    assert (strategy.title, strategy.status, strategy.period_label, strategy.freshness_days) == (
        "ICS 2022–2026", "approved", "FY2022–FY2026", 60,
    )  # fmt: skip
    assert (strategy.approved_on, strategy.rollup) == (dt.date(2022, 4, 1), "own_first")
    assert strategy.com_priorities_sensitive
    assert strategy.version == 2 and strategy.history.count() == rows + 1
    assert strategy.history.first().history_user == personas.manager
    assert "Saved the strategy." in html_of(client.get(response.url))

    html = html_of(client.get(url("strategy-edit", strategy)))
    assert "checked" in checkbox(html, "com_priorities_sensitive")


def test_strategy_form_errors_are_shown_next_to_their_fields(client, personas, tree):
    strategy = tree.strategy
    client.force_login(personas.manager)
    response = client.post(
        url("strategy-edit", strategy),
        strategy_form(strategy, period_start_fy=2026, period_end_fy=2022, freshness_days=0),
    )
    assert response.status_code == 400
    assert 'id="id_freshness_days_error"><p>Ensure this value is greater than or equal to 1.' in (
        html_of(response)
    )
    response = client.post(
        url("strategy-edit", strategy),
        strategy_form(strategy, period_start_fy=2026, period_end_fy=2022),
    )
    assert response.status_code == 400
    assert 'id="id_period_end_fy_error"><p>The period cannot end before it starts.</p>' in (
        html_of(response)
    )
    strategy.refresh_from_db()
    assert strategy.version == 1


def test_a_stale_strategy_form_is_refused_and_changes_nothing(client, personas, tree):
    strategy = tree.strategy
    client.force_login(personas.manager)
    opened = strategy_form(strategy, com_priorities_sensitive="on")
    strategy.version += 1
    strategy.save()
    response = client.post(url("strategy-edit", strategy), opened)
    assert response.status_code == 400
    assert "Someone changed this strategy since you opened the page" in html_of(response)
    strategy.refresh_from_db()
    assert not strategy.com_priorities_sensitive and strategy.version == 2


# --- Notes: the form's checkbox -------------------------------------------------------------

NEW_NOTE = {
    "title": "Trade mission results",
    "assessment": "on_track",
    "as_of": "2024-05-10",
    "body": "Two deals signed.",
    "justification": "",
    "sources": "",
}


def test_an_analyst_writes_a_sensitive_note_and_the_edit_form_keeps_it_sensitive(
    client, personas, tree
):
    client.force_login(personas.analyst)
    html = html_of(client.get(url("note-create", tree.obj11)))
    assert f"<span>{SENSITIVE}</span></label>" in html
    assert "checked" not in checkbox(html, "is_sensitive")

    response = client.post(url("note-create", tree.obj11), {**NEW_NOTE, "is_sensitive": "on"})
    note = ProgressNote.objects.get()
    assert response.status_code == 302 and note.is_sensitive
    html = html_of(client.get(url("note-detail", note)))
    assert '<span class="badge badge-context badge-sensitive"' in html

    html = html_of(client.get(url("note-edit", note)))
    assert "checked" in checkbox(html, "is_sensitive")
    client.post(url("note-edit", note), {**NEW_NOTE, "version": note.version})  # unticked
    note.refresh_from_db()
    assert not note.is_sensitive
    assert [h.is_sensitive for h in note.history.order_by("history_id")] == [True, False]


# --- Notes: a manager marks one sensitive ---------------------------------------------------


@pytest.fixture
def approved(personas, tree) -> ProgressNote:
    return ProgressNoteFactory(
        strategy=tree.strategy, author=personas.analyst, nodes=[tree.obj11], title="Tariff talks"
    )


def test_manager_marks_an_approved_note_sensitive_and_publishable_again(client, personas, approved):
    client.force_login(personas.manager)
    html = html_of(client.get(url("note-detail", approved)))
    assert f'action="{url("note-sensitive", approved)}"' in html
    assert 'name="sensitive" value="1"' in html and "Mark sensitive" in html
    rows = approved.history.count()

    response = client.post(
        url("note-sensitive", approved), {"sensitive": "1", "version": approved.version}
    )
    assert response.status_code == 302
    assert response.url == url("note-detail", approved)
    approved.refresh_from_db()
    assert approved.is_sensitive and approved.state == NoteState.APPROVED
    assert (approved.version, approved.history.count()) == (2, rows + 1)
    assert approved.history.first().history_user == personas.manager
    html = html_of(client.get(response.url))
    assert "Marked sensitive: the note is left out of the public-release document." in html
    assert '<span class="badge badge-context badge-sensitive"' in html
    assert 'name="sensitive" value="0"' in html and "Mark publishable" in html

    client.post(url("note-sensitive", approved), {"sensitive": "0", "version": approved.version})
    approved.refresh_from_db()
    assert not approved.is_sensitive and approved.version == 3
    assert (approved.title, approved.body) == ("Tariff talks", "Progress as planned.")


@pytest.mark.parametrize("persona", ["viewer", "analyst"])
def test_members_below_manager_cannot_mark_a_note_sensitive(client, personas, approved, persona):
    client.force_login(personas.by_role(persona))
    assert 'name="sensitive"' not in html_of(client.get(url("note-detail", approved)))
    response = client.post(url("note-sensitive", approved), {"sensitive": "1"})
    assert response.status_code == 403
    assert "You need the manager role to mark progress notes sensitive." in html_of(response)
    approved.refresh_from_db()
    assert not approved.is_sensitive and approved.version == 1


def test_a_stale_sensitive_button_changes_nothing(client, personas, approved):
    client.force_login(personas.manager)
    response = client.post(url("note-sensitive", approved), {"sensitive": "1", "version": 0})
    assert response.status_code == 302
    assert "The note changed since you opened the page" in html_of(client.get(response.url))
    approved.refresh_from_db()
    assert not approved.is_sensitive and approved.version == 1


def test_a_draft_is_its_authors_to_mark(client, personas, tree):
    draft = note_create(
        strategy=tree.strategy,
        author=personas.manager,
        title="My own draft",
        assessment="on_track",
        as_of=dt.date(2024, 5, 1),
        nodes=[tree.obj11],
    )
    client.force_login(personas.manager)
    assert 'name="sensitive"' not in html_of(client.get(url("note-detail", draft)))
    response = client.post(url("note-sensitive", draft), {"sensitive": "1"})
    assert (
        "A draft note is its author&#x27;s: they mark it sensitive when they edit it."
        in html_of(client.get(response.url))
    )
    draft.refresh_from_db()
    assert not draft.is_sensitive


def test_a_manager_may_mark_a_note_under_review(client, personas, tree):
    note = note_create(
        strategy=tree.strategy,
        author=personas.analyst,
        title="Under review",
        body="Text.",
        assessment="on_track",
        as_of=dt.date(2024, 5, 1),
        nodes=[tree.obj11],
    )
    note_submit(note=note, by=personas.analyst)
    client.force_login(personas.manager)
    assert "Mark sensitive" in html_of(client.get(url("note-detail", note)))
    client.post(url("note-sensitive", note), {"sensitive": "1", "version": note.version})
    note.refresh_from_db()
    assert note.is_sensitive and note.state == NoteState.SUBMITTED


def test_the_sensitive_button_takes_only_post(client, personas, approved):
    client.force_login(personas.manager)
    assert client.get(url("note-sensitive", approved)).status_code == 405


def test_the_strategy_page_links_managers_to_the_edit_page_and_nobody_else(client, personas, tree):
    from django.urls import reverse

    edit = reverse("strategy-edit", args=[tree.strategy.pk])
    page = reverse("strategy-detail", args=[tree.strategy.pk])
    client.force_login(personas.manager)
    assert edit in client.get(page).content.decode()
    client.force_login(personas.analyst)
    assert edit not in client.get(page).content.decode()
