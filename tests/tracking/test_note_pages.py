"""The progress-note pages: write, edit, submit, review (approve / return with a comment),
resubmit, supersede and delete, for each role; the review queue and "my notes"; and the
review queue's fixed number of queries."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from tests.factories import NodeFactory, ProgressNoteFactory, StrategyFactory
from tracking.models import NoteLink, NoteState, ProgressNote
from tracking.services import note_approve, note_create, note_return, note_submit

TODAY = dt.datetime(2024, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _frozen_today():
    with time_machine.travel(TODAY, tick=False):
        yield


def html_of(response) -> str:
    html = response.content.decode()
    assert "{#" not in html and "{%" not in html, "a template comment or tag leaked"
    return html


def url(name: str, obj) -> str:
    return reverse(name, args=[obj.pk])


def draft(author, node, **overrides) -> ProgressNote:
    fields = {
        "strategy": node.strategy,
        "author": author,
        "title": "Exports rose in Q2",
        "body": "**Soybean** sales recovered.",
        "assessment": "at_risk",
        "as_of": dt.date(2024, 5, 1),
        "nodes": [node],
    }
    fields.update(overrides)
    return note_create(**fields)


def submitted(author, node, **overrides) -> ProgressNote:
    note = draft(author, node, **overrides)
    note_submit(note=note, by=author)
    return note


def review_buttons(html: str) -> bool:
    return 'name="decision" value="approve"' in html or 'name="decision" value="return"' in html


NEW_NOTE = {
    "title": "Trade mission results",
    "assessment": "at_risk",
    "as_of": "2024-05-10",
    "body": "Two deals *signed*, three pending.",
    "justification": "",
    "sources": "https://example.org/report Customs report\nhttps://example.org/raw",
}


# --- Writing a note ---------------------------------------------------------------------


def test_add_note_page_preselects_the_node_and_offers_the_others(client, personas, tree):
    client.force_login(personas.analyst)
    response = client.get(url("note-create", tree.obj11))
    assert response.status_code == 200
    html = html_of(response)
    assert "About <strong>Mission Objective 1.1</strong>: Exports grow" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'value="2024-05-15"' in html  # as of today by default
    options = re.findall(r'name="other_nodes" value="(\d+)"', html)
    assert {int(o) for o in options} == {
        n.pk for n in (tree.goal1, tree.sub111, tree.obj12, tree.goal2, tree.obj21, tree.mgmt1)
    }
    assert str(tree.other_goal.pk) not in options


def test_analyst_saves_a_draft_linked_to_several_nodes(client, personas, tree):
    client.force_login(personas.analyst)
    response = client.post(
        url("note-create", tree.obj11), {**NEW_NOTE, "other_nodes": [tree.obj12.pk]}
    )
    note = ProgressNote.objects.get()
    assert response.status_code == 302
    assert response.url == url("note-detail", note)
    assert (note.state, note.author, note.title) == (
        NoteState.DRAFT,
        personas.analyst,
        NEW_NOTE["title"],
    )
    links = {(link.node_id, link.is_primary) for link in note.links.all()}
    assert links == {(tree.obj11.pk, True), (tree.obj12.pk, False)}
    assert [(s.url, s.label) for s in note.sources.all()] == [
        ("https://example.org/report", "Customs report"),
        ("https://example.org/raw", ""),
    ]

    html = html_of(client.get(response.url))
    assert "Draft saved." in html
    assert "<p>Two deals <em>signed</em>, three pending.</p>" in html
    assert ">Customs report</a>" in html
    assert f'href="{url("node-detail", tree.obj12)}"' in html
    assert "Mission Objective 1.1 · primary" in html
    assert '<span class="badge badge-state badge-state-draft">Draft</span>' in html


def test_note_form_errors_are_shown_next_to_fields_and_nothing_is_saved(client, personas, tree):
    client.force_login(personas.analyst)
    response = client.post(
        url("note-create", tree.obj11),
        {**NEW_NOTE, "title": "", "as_of": "2024-06-01", "sources": "not a link"},
    )
    assert response.status_code == 400
    html = html_of(response)
    assert 'id="id_title_error"><p>This field is required.</p>' in html
    assert ProgressNote.objects.count() == 0

    response = client.post(url("note-create", tree.obj11), {**NEW_NOTE, "as_of": "2024-06-01"})
    assert 'id="id_as_of_error"><p>The as-of date cannot be in the future.</p>' in html_of(response)
    response = client.post(url("note-create", tree.obj11), {**NEW_NOTE, "sources": "not a link"})
    assert 'id="id_sources_error"><p>“not” is not a valid link.</p>' in html_of(response)
    assert ProgressNote.objects.count() == 0


def test_viewer_cannot_write_notes(client, personas, tree):
    client.force_login(personas.viewer)
    assert client.get(url("note-create", tree.obj11)).status_code == 403
    response = client.post(url("note-create", tree.obj11), NEW_NOTE)
    assert response.status_code == 403
    assert "You need the analyst role to write progress notes." in html_of(response)
    assert ProgressNote.objects.count() == 0


def test_outsider_gets_404_on_note_pages(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.outsider)
    for name in ["note-detail", "note-edit"]:
        assert client.get(url(name, note)).status_code == 404
    for name in ["note-submit", "note-review", "note-delete", "note-supersede"]:
        assert client.post(url(name, note), {"decision": "approve"}).status_code == 404
    assert client.get(url("note-create", tree.obj11)).status_code == 404
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED


def test_drafts_are_visible_to_their_author_only(client, personas, tree):
    note = draft(personas.analyst, tree.obj11)
    client.force_login(personas.analyst2)
    assert client.get(url("note-detail", note)).status_code == 404
    client.force_login(personas.manager)
    assert client.get(url("note-detail", note)).status_code == 404
    client.force_login(personas.analyst)
    assert client.get(url("note-detail", note)).status_code == 200


# --- The workflow -----------------------------------------------------------------------


def test_note_created_submitted_and_approved_in_the_queue_becomes_the_assessment(
    client, personas, tree
):
    client.force_login(personas.analyst)
    response = client.post(url("note-create", tree.obj11), {**NEW_NOTE, "action": "submit"})
    note = ProgressNote.objects.get()
    assert note.state == NoteState.SUBMITTED
    assert "Note submitted for review." in html_of(client.get(response.url))
    node_html = html_of(client.get(url("node-detail", tree.obj11)))
    assert '<span class="chip chip-no_data"' in node_html[node_html.index('id="node-status"') :]

    client.force_login(personas.manager)
    queue = html_of(client.get(reverse("review-queue")))
    assert f'href="{url("note-detail", note)}">Trade mission results</a>' in queue
    assert f'action="{url("note-review", note)}"' in queue
    response = client.post(
        url("note-review", note),
        {"decision": "approve", "comment": "Good.", "version": note.version, "next": "queue"},
    )
    assert response.status_code == 302
    assert response.url == reverse("review-queue")
    queue = html_of(client.get(response.url))
    assert "Approved: “Trade mission results”." in queue
    assert "Nothing is waiting for review." in queue
    note.refresh_from_db()
    assert (note.state, note.reviewed_by, note.review_comment) == (
        NoteState.APPROVED, personas.manager, "Good.",
    )  # fmt: skip

    node_html = html_of(client.get(url("node-detail", tree.obj11)))
    status = node_html[node_html.index('id="node-status"') :]
    assert (
        '<span class="chip chip-at_risk" title="At risk: note “Trade mission results” of 10 May 2024'
        in status
    )
    assert "updated 5 days ago" in node_html


def test_approving_from_the_note_page_returns_to_it(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.manager)
    html = html_of(client.get(url("note-detail", note)))
    assert review_buttons(html)
    response = client.post(
        url("note-review", note), {"decision": "approve", "version": note.version, "next": "note"}
    )
    assert response.url == url("note-detail", note)
    html = html_of(client.get(response.url))
    assert '<span class="badge badge-state badge-state-approved">Approved</span>' in html
    assert not review_buttons(html)


@pytest.mark.parametrize("back", ["queue", "note"])
def test_returning_a_note_requires_a_comment(client, personas, tree, back):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.manager)
    response = client.post(
        url("note-review", note),
        {"decision": "return", "comment": "  ", "version": note.version, "next": back},
    )
    assert response.status_code == 400
    html = html_of(response)
    assert (
        f'<div class="field-error" id="id_note{note.pk}_comment_error"><p>Say what the author should change.</p></div>'
        in html
    )
    assert ("<h1>Review queue</h1>" in html) == (back == "queue")
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED


def test_review_with_a_stale_version_changes_nothing(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.manager)
    response = client.post(
        url("note-review", note), {"decision": "approve", "version": note.version - 1}
    )
    assert response.status_code == 400
    assert "The note changed since you opened the page" in html_of(response)
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED


def test_author_sees_the_comment_edits_and_resubmits_a_returned_note(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    note_return(note=note, by=personas.manager, comment="Cite the customs figures.")
    client.force_login(personas.analyst)

    mine = html_of(client.get(reverse("my-notes")))
    assert "Returned to you (1)" in mine
    assert "Cite the customs figures." in mine
    assert f'href="{url("note-edit", note)}"' in mine

    html = html_of(client.get(url("note-detail", note)))
    assert "Returned with a comment" in html and "Cite the customs figures." in html
    assert "Resubmit for review" in html

    edit = html_of(client.get(url("note-edit", note)))
    assert "The reviewer asked for changes" in edit
    assert 'value="Exports rose in Q2"' in edit
    response = client.post(
        url("note-edit", note),
        {
            "title": "Exports rose in Q2",
            "assessment": "at_risk",
            "as_of": "2024-05-01",
            "body": "Customs: +12 %.",
            "version": note.version,
            "action": "submit",
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.state, note.body) == (NoteState.RESUBMITTED, "Customs: +12 %.")

    client.force_login(personas.manager2)
    queue = html_of(client.get(reverse("review-queue")))
    assert '<span class="badge badge-state badge-state-resubmitted">Resubmitted</span>' in queue
    assert "Earlier review comment:</strong> Cite the customs figures." in queue

    history = html_of(client.get(url("note-detail", note)))
    steps = re.findall(r'badge-state-(\w+)">', history[history.index('<ol class="history">') :])
    assert steps == ["draft", "submitted", "returned", "resubmitted"]


def test_submitting_without_a_needed_justification_shows_the_reason_on_the_edit_page(
    client, personas, tree
):
    note = draft(personas.analyst, tree.obj11, assessment="off_track")
    client.force_login(personas.analyst)
    edit = html_of(client.get(url("note-edit", note)))
    assert (
        "A justification is required.</strong> A note that says “off track” needs a justification."
        in edit
    )

    response = client.post(url("note-submit", note))
    assert response.status_code == 400
    html = html_of(response)
    assert "<h1>Edit note</h1>" in html
    assert (
        '<div class="field-error" id="id_justification_error"><p>A note that says “off track” needs a justification.</p></div>'
        in html
    )
    note.refresh_from_db()
    assert note.state == NoteState.DRAFT

    response = client.post(
        url("note-edit", note),
        {
            "title": note.title, "assessment": "off_track", "as_of": "2024-05-01",
            "body": note.body, "justification": "Tariffs doubled.", "version": note.version,
            "action": "submit",
        },
    )  # fmt: skip
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED


def test_save_and_submit_that_fails_saves_nothing(client, personas, tree):
    client.force_login(personas.analyst)
    response = client.post(
        url("note-create", tree.obj11), {**NEW_NOTE, "assessment": "off_track", "action": "submit"}
    )
    assert response.status_code == 400
    assert 'id="id_justification_error"' in html_of(response)
    assert ProgressNote.objects.count() == 0


def test_notes_under_review_or_approved_cannot_be_edited(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.analyst)
    html = html_of(client.get(url("note-detail", note)))
    assert url("note-edit", note) not in html
    response = client.get(url("note-edit", note))
    assert response.status_code == 302
    assert "cannot be edited" in html_of(client.get(response.url))


def test_only_the_author_may_edit_or_submit(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    note_return(note=note, by=personas.manager, comment="More detail.")
    client.force_login(personas.analyst2)
    html = html_of(client.get(url("note-detail", note)))
    assert url("note-edit", note) not in html and url("note-submit", note) not in html
    assert client.get(url("note-edit", note)).status_code == 403
    assert client.post(url("note-submit", note)).status_code == 403
    note.refresh_from_db()
    assert note.state == NoteState.RETURNED


# --- Who sees which buttons -------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "analyst2"])
def test_viewers_and_analysts_see_no_review_buttons_and_are_refused(client, personas, tree, role):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.by_role(role))
    assert not review_buttons(html_of(client.get(url("note-detail", note))))
    queue = html_of(client.get(reverse("review-queue")))
    assert "You are not a manager of any mission" in queue
    assert not review_buttons(queue)
    response = client.post(url("note-review", note), {"decision": "approve"})
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED


def test_a_manager_cannot_approve_their_own_note(client, personas, tree):
    note = submitted(personas.manager, tree.obj11, title="My own assessment")
    client.force_login(personas.manager)
    assert not review_buttons(html_of(client.get(url("note-detail", note))))
    queue = html_of(client.get(reverse("review-queue")))
    assert "My own assessment" in queue
    assert "This is your own note: another manager must review it." in queue
    assert not review_buttons(queue)
    response = client.post(
        url("note-review", note), {"decision": "approve", "version": note.version}
    )
    assert response.status_code == 403
    assert "You cannot approve your own note" in html_of(response)
    note.refresh_from_db()
    assert note.state == NoteState.SUBMITTED

    client.force_login(personas.manager2)
    assert review_buttons(html_of(client.get(reverse("review-queue"))))


def test_review_queue_shows_only_the_missions_a_user_manages(client, personas, tree):
    submitted(personas.analyst, tree.obj11, title="Testland note")
    other = ProgressNoteFactory(
        strategy=tree.other_strategy, nodes=[tree.other_goal], state=NoteState.SUBMITTED,
        title="Elsewhere note", reviewed_by=None, approved_at=None,
    )  # fmt: skip
    client.force_login(personas.manager)
    queue = html_of(client.get(reverse("review-queue")))
    assert "Testland note" in queue and "Elsewhere note" not in queue
    client.force_login(personas.outsider)  # a manager of the other mission
    queue = html_of(client.get(reverse("review-queue")))
    assert "Elsewhere note" in queue and "Testland note" not in queue
    assert f'action="{url("note-review", other)}"' in queue


# --- Supersede and delete ---------------------------------------------------------------


def test_superseding_an_approved_note_opens_a_new_draft(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11, title="Spring assessment")
    note_approve(note=note, by=personas.manager)
    client.force_login(personas.analyst2)
    html = html_of(client.get(url("note-detail", note)))
    assert f'action="{url("note-supersede", note)}"' in html
    assert url("note-edit", note) not in html  # approved notes are never edited

    response = client.post(url("note-supersede", note))
    new = ProgressNote.objects.exclude(pk=note.pk).get()
    assert response.status_code == 302
    assert response.url == url("note-edit", new)
    assert (new.state, new.author, new.supersedes, new.title) == (
        NoteState.DRAFT, personas.analyst2, note, "Spring assessment",
    )  # fmt: skip
    assert list(new.links.values_list("node_id", "is_primary")) == [(tree.obj11.pk, True)]
    note.refresh_from_db()
    assert note.state == NoteState.APPROVED
    edit = html_of(client.get(response.url))
    assert "A new draft will replace “Spring assessment” once approved." in edit
    detail = html_of(client.get(url("note-detail", new)))
    assert f'<a href="{url("note-detail", note)}">Spring assessment</a>' in detail


def test_viewers_cannot_supersede(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    note_approve(note=note, by=personas.manager)
    client.force_login(personas.viewer)
    assert url("note-supersede", note) not in html_of(client.get(url("note-detail", note)))
    assert client.post(url("note-supersede", note)).status_code == 403
    assert ProgressNote.objects.count() == 1


def test_author_deletes_a_draft(client, personas, tree):
    note = draft(personas.analyst, tree.obj11)
    client.force_login(personas.analyst)
    assert f'action="{url("note-delete", note)}"' in html_of(client.get(url("note-detail", note)))
    response = client.post(url("note-delete", note))
    assert response.status_code == 302
    assert response.url == reverse("my-notes")
    assert "Deleted the draft “Exports rose in Q2”." in html_of(client.get(response.url))
    assert not ProgressNote.objects.exists()
    assert not NoteLink.objects.exists()


def test_submitted_notes_cannot_be_deleted(client, personas, tree):
    note = submitted(personas.analyst, tree.obj11)
    client.force_login(personas.analyst)
    assert url("note-delete", note) not in html_of(client.get(url("note-detail", note)))
    response = client.post(url("note-delete", note))
    assert response.status_code == 302
    assert "Only draft or returned notes can be deleted." in html_of(client.get(response.url))
    assert ProgressNote.objects.filter(pk=note.pk).exists()


# --- My notes ---------------------------------------------------------------------------


def test_my_notes_lists_drafts_returned_and_submitted_notes_but_not_approved_ones(
    client, personas, tree
):
    draft(personas.analyst, tree.obj11, title="A draft")
    submitted(personas.analyst, tree.obj12, title="Under review")
    returned = submitted(personas.analyst, tree.obj21, title="Sent back")
    note_return(note=returned, by=personas.manager, comment="Add the figures.")
    approved = submitted(personas.analyst, tree.obj11, title="Done and dusted")
    note_approve(note=approved, by=personas.manager)
    draft(personas.analyst2, tree.obj11, title="Someone else's")

    client.force_login(personas.analyst)
    html = html_of(client.get(reverse("my-notes")))
    assert (
        html.index("Returned to you (1)")
        < html.index("Drafts (1)")
        < html.index("Awaiting review (1)")
    )
    for title in ["A draft", "Under review", "Sent back", "Add the figures."]:
        assert title in html
    assert "Done and dusted" not in html and "Someone else" not in html
    assert f'href="{url("node-detail", tree.obj21)}">Mission Objective 2.1</a>' in html


def test_home_and_strategy_pages_link_to_my_notes_and_for_managers_the_queue(
    client, personas, tree
):
    client.force_login(personas.analyst)
    for page in [reverse("home"), url("strategy-detail", tree.strategy)]:
        html = html_of(client.get(page))
        assert f'href="{reverse("my-notes")}"' in html
        assert f'href="{reverse("review-queue")}"' not in html
    assert f'href="{url("node-detail", tree.obj11)}"' in html  # tree rows open node pages
    client.force_login(personas.manager)
    for page in [reverse("home"), url("strategy-detail", tree.strategy)]:
        assert f'href="{reverse("review-queue")}"' in html_of(client.get(page))


# --- Query counts -----------------------------------------------------------------------

# Review queue, for a manager:
#  1. the session
#  2. the signed-in user
#  3. the user's memberships (which missions they manage)
#  4. the submitted and resubmitted notes, with authors, strategies and missions
#     (tracking.selectors.review_queue)
#  5. their links
#  6. the linked nodes
REVIEW_QUEUE_QUERIES = 6


def test_review_queue_query_count_is_the_same_for_1_and_15_notes(
    client, personas, tree, django_assert_num_queries
):
    submitted(personas.analyst, tree.obj11)
    client.force_login(personas.manager)
    with django_assert_num_queries(REVIEW_QUEUE_QUERIES):
        response = client.get(reverse("review-queue"))
    assert html_of(response).count('class="card queue-item"') == 1

    second = StrategyFactory(mission=personas.mission, title="Second strategy")
    goal = NodeFactory(strategy=second, code="1")
    for i in range(7):
        submitted(personas.analyst2, goal, title=f"Second {i}")
        submitted(personas.analyst, tree.obj12, title=f"First {i}", nodes=[tree.obj12, tree.obj21])
    with django_assert_num_queries(REVIEW_QUEUE_QUERIES):
        response = client.get(reverse("review-queue"))
    assert html_of(response).count('class="card queue-item"') == 15


# Note page: session, user, memberships, the note (+ author, reviewer, strategy, mission,
# superseded note), its links (+ nodes), its sources, its history (+ who).
NOTE_PAGE_QUERIES = 7


def test_note_page_query_count_is_fixed(client, personas, tree, django_assert_num_queries):
    note = submitted(
        personas.analyst, tree.obj11, nodes=[tree.obj11, tree.obj12, tree.obj21],
        sources=["https://example.org/a", "https://example.org/b"],
    )  # fmt: skip
    note_return(note=note, by=personas.manager, comment="More.")
    client.force_login(personas.manager)
    with django_assert_num_queries(NOTE_PAGE_QUERIES):
        response = client.get(url("note-detail", note))
    assert response.status_code == 200
