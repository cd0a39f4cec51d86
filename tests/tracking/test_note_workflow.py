"""Who may move a progress note where, and what each step requires."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import IndicatorFactory, IndicatorPeriodFactory
from tracking.models import NoteLink, NoteState, ProgressNote
from tracking.services import (
    StaleVersion,
    note_approve,
    note_create,
    note_delete,
    note_return,
    note_submit,
    note_supersede,
    note_update,
)

TODAY = date(2024, 3, 1)


def draft(personas, tree, **overrides):
    fields = {
        "strategy": tree.strategy,
        "author": personas.analyst,
        "title": "Exports rose in Q1",
        "body": "**Soybean** sales recovered.",
        "assessment": "on_track",
        "as_of": date(2024, 2, 15),
        "nodes": [tree.obj11],
        "today": TODAY,
    }
    fields.update(overrides)
    return note_create(**fields)


def test_analyst_drafts_submits_and_manager_approves(personas, tree):
    note = draft(personas, tree)
    assert note.state == NoteState.DRAFT
    assert note.body_html == "<p><strong>Soybean</strong> sales recovered.</p>"
    note_submit(note=note, by=personas.analyst, today=TODAY)
    assert note.state == NoteState.SUBMITTED and note.submitted_at
    note_approve(note=note, by=personas.manager)
    note.refresh_from_db()
    assert (note.state, note.reviewed_by, note.version) == (NoteState.APPROVED, personas.manager, 3)
    assert note.approved_at is not None


def test_returned_note_can_be_edited_and_resubmitted(personas, tree):
    note = draft(personas, tree)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    note_return(note=note, by=personas.manager, comment="Cite the customs figures.")
    assert (note.state, note.review_comment) == (NoteState.RETURNED, "Cite the customs figures.")
    note_update(note=note, by=personas.analyst, body="Customs: +12 %.", today=TODAY)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    assert note.state == NoteState.RESUBMITTED
    note_approve(note=note, by=personas.manager2)
    assert note.state == NoteState.APPROVED


def test_returning_requires_a_comment(personas, tree):
    note = draft(personas, tree)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    with pytest.raises(ValidationError) as exc:
        note_return(note=note, by=personas.manager, comment="  ")
    assert "comment" in exc.value.message_dict
    assert ProgressNote.objects.get(pk=note.pk).state == NoteState.SUBMITTED


def test_off_track_needs_a_justification(personas, tree):
    note = draft(personas, tree, assessment="off_track")
    with pytest.raises(ValidationError) as exc:
        note_submit(note=note, by=personas.analyst, today=TODAY)
    assert "off track" in exc.value.message_dict["justification"][0]
    note_update(
        note=note, by=personas.analyst, justification="Tariffs doubled in January.", today=TODAY
    )
    note_submit(note=note, by=personas.analyst, today=TODAY)
    assert note.state == NoteState.SUBMITTED


def test_disagreeing_with_the_indicators_needs_a_justification(personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, baseline_value=0)
    IndicatorPeriodFactory(
        indicator=indicator,
        period_start=date(2023, 10, 1),
        period_end=date(2023, 12, 31),
        target=100,
        actual=20,
    )  # 20 % of target: off track
    note = draft(personas, tree, assessment="on_track")
    with pytest.raises(ValidationError) as exc:
        note_submit(note=note, by=personas.analyst, today=TODAY)
    assert "indicators say off track" in exc.value.message_dict["justification"][0]


def test_agreeing_note_needs_no_justification(personas, tree):
    indicator = IndicatorFactory(node=tree.obj11, baseline_value=0)
    IndicatorPeriodFactory(indicator=indicator, target=100, actual=95)
    note = draft(personas, tree, assessment="on_track")
    note_submit(note=note, by=personas.analyst, today=TODAY)
    assert note.state == NoteState.SUBMITTED


def test_approved_notes_cannot_be_edited_only_superseded(personas, tree):
    note = draft(personas, tree)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    note_approve(note=note, by=personas.manager)
    with pytest.raises(ValidationError, match="supersede"):
        note_update(note=note, by=personas.analyst, title="Rewritten", today=TODAY)
    with pytest.raises(ValidationError):
        note_delete(note=note, by=personas.analyst)
    successor = note_supersede(note=note, by=personas.analyst2, today=TODAY)
    assert (successor.state, successor.supersedes, successor.author) == (
        NoteState.DRAFT,
        note,
        personas.analyst2,
    )
    assert ProgressNote.objects.get(pk=note.pk).title == "Exports rose in Q1"


def test_a_note_under_review_cannot_be_edited(personas, tree):
    note = draft(personas, tree)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    with pytest.raises(ValidationError, match="under review"):
        note_update(note=note, by=personas.analyst, title="Sneaky", today=TODAY)


def test_managers_cannot_approve_their_own_notes(personas, tree):
    note = draft(personas, tree, author=personas.manager)
    note_submit(note=note, by=personas.manager, today=TODAY)
    with pytest.raises(PermissionDenied):
        note_approve(note=note, by=personas.manager)
    note_approve(note=note, by=personas.manager2)


@pytest.mark.parametrize("role", ["viewer", "analyst", "outsider"])
def test_only_managers_of_the_mission_approve(personas, tree, role):
    note = draft(personas, tree, author=personas.analyst2)
    note_submit(note=note, by=personas.analyst2, today=TODAY)
    with pytest.raises(PermissionDenied):
        note_approve(note=note, by=personas.by_role(role))
    assert ProgressNote.objects.get(pk=note.pk).state == NoteState.SUBMITTED


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_outsiders_cannot_write_notes(personas, tree, role):
    with pytest.raises(PermissionDenied):
        draft(personas, tree, author=personas.by_role(role))
    assert not ProgressNote.objects.exists()


def test_only_the_author_edits_or_submits(personas, tree):
    note = draft(personas, tree)
    with pytest.raises(PermissionDenied):
        note_update(note=note, by=personas.analyst2, title="Mine now", today=TODAY)
    with pytest.raises(PermissionDenied):
        note_submit(note=note, by=personas.manager, today=TODAY)


def test_a_note_cannot_link_another_mission_s_node(personas, tree):
    with pytest.raises(ValidationError) as exc:
        draft(personas, tree, nodes=[tree.obj11, tree.other_goal])
    assert "nodes" in exc.value.message_dict
    assert not ProgressNote.objects.exists()


def test_several_linked_nodes_have_one_primary(personas, tree):
    note = draft(personas, tree, nodes=[tree.obj11, tree.obj21], primary_node=tree.obj21)
    links = {link.node_id: link.is_primary for link in NoteLink.objects.filter(note=note)}
    assert links == {tree.obj11.id: False, tree.obj21.id: True}
    note_update(note=note, by=personas.analyst, primary_node=tree.obj11, today=TODAY)
    links = {link.node_id: link.is_primary for link in NoteLink.objects.filter(note=note)}
    assert links == {tree.obj11.id: True, tree.obj21.id: False}


def test_as_of_cannot_be_in_the_future(personas, tree):
    with pytest.raises(ValidationError) as exc:
        draft(personas, tree, as_of=date(2024, 3, 2))
    assert "as_of" in exc.value.message_dict


def test_markdown_body_is_sanitised(personas, tree):
    note = draft(
        personas,
        tree,
        body='Hi <script>alert(1)</script><img src="https://evil.example/x.png"> [x](javascript:alert(1))',
    )
    assert (
        "<script" not in note.body_html
        and "<img" not in note.body_html
        and "javascript:" not in note.body_html
    )


def test_a_stale_version_is_refused_and_changes_nothing(personas, tree):
    note = draft(personas, tree)
    note_update(note=note, by=personas.analyst, title="First edit", expected_version=1, today=TODAY)
    with pytest.raises(StaleVersion):
        note_update(
            note=note, by=personas.analyst, title="Second edit", expected_version=1, today=TODAY
        )
    assert ProgressNote.objects.get(pk=note.pk).title == "First edit"


def test_each_step_leaves_one_history_row_by_its_actor(personas, tree):
    note = draft(personas, tree)
    note_submit(note=note, by=personas.analyst, today=TODAY)
    note_approve(note=note, by=personas.manager)
    rows = list(
        note.history.order_by("history_date").values_list("state", "history_user__username")
    )
    assert rows == [("draft", "analyst"), ("submitted", "analyst"), ("approved", "manager")]


def test_sources_must_be_links(personas, tree):
    with pytest.raises(ValidationError) as exc:
        draft(personas, tree, sources=["not a url"])
    assert "sources" in exc.value.message_dict
    note = draft(
        personas,
        tree,
        sources=[{"url": "https://www.census.gov/foreign-trade/", "label": "Census"}],
    )
    assert [s.label for s in note.sources.all()] == ["Census"]
