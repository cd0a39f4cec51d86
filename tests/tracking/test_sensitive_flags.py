"""The sensitive flags in the services: strategies, nodes and notes take them like their
other fields (booleans only, one history row per change), re-importing an ICS document
never resets them, and a manager marks a note under review or approved with
`note_mark_sensitive` — which changes that flag and nothing else."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from strategy.concurrency import StaleVersion
from strategy.models import Node
from strategy.services import (
    node_create,
    node_update,
    strategy_create,
    strategy_import,
    strategy_update,
)
from tests.factories import ProgressNoteFactory
from tests.strategy.test_import import DOC, revised
from tracking.models import NoteState
from tracking.services import (
    note_create,
    note_mark_sensitive,
    note_submit,
    note_supersede,
    note_update,
)

AS_OF = dt.date(2024, 5, 1)


def draft(author, node, **fields):
    return note_create(
        strategy=node.strategy,
        author=author,
        title="Talks",
        body="Frank exchange.",
        assessment="on_track",
        as_of=AS_OF,
        nodes=[node],
        **fields,
    )


# --- Strategies and nodes ---------------------------------------------------------------


def test_node_flags_are_written_with_one_history_row_each_change(personas, tree):
    node = node_create(
        strategy=tree.strategy,
        kind="mission_objective",
        code="1.3",
        parent=tree.goal1,
        title="Tourism",
        description="Visas.",
        description_sensitive=True,
        by=personas.manager,
    )
    assert (node.description_sensitive, node.justification_sensitive) == (True, False)
    node_update(node=node, risks_sensitive=True, by=personas.manager, expected_version=1)
    node.refresh_from_db()
    assert (node.risks_sensitive, node.version, node.history.count()) == (True, 2, 2)
    node_update(node=node, risks_sensitive=True, by=personas.manager)  # as it is: no write
    assert (node.version, node.history.count()) == (2, 2)


@pytest.mark.parametrize("value", ["true", 1, None, "on"])
def test_flags_take_booleans_only(personas, tree, value):
    with pytest.raises(ValidationError) as caught:
        node_update(node=tree.obj11, justification_sensitive=value, by=personas.manager)
    assert caught.value.message_dict == {"justification_sensitive": ["Choose true or false."]}
    with pytest.raises(ValidationError):
        strategy_update(strategy=tree.strategy, com_priorities_sensitive=value, by=None)
    with pytest.raises(ValidationError):
        draft(personas.analyst, tree.obj11, is_sensitive=value)
    tree.obj11.refresh_from_db()
    assert tree.obj11.version == 1


def test_strategy_flag_and_period_are_checked_by_the_service(personas, tree):
    strategy = strategy_create(
        mission=personas.mission,
        title="ICS 2027",
        com_priorities_sensitive=True,
        by=personas.manager,
    )
    assert strategy.com_priorities_sensitive
    with pytest.raises(ValidationError) as caught:
        strategy_update(strategy=tree.strategy, period_end_fy=2001, by=personas.manager)
    assert "period_end_fy" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        strategy_update(strategy=tree.strategy, com_priorities_sensitive=True, by=personas.analyst)


def test_reimporting_a_document_never_resets_the_flags(personas):
    strategy = strategy_import(document=DOC, by=None).strategy
    strategy_update(strategy=strategy, com_priorities_sensitive=True, by=None)
    goal = Node.objects.get(strategy=strategy, kind="mission_goal", code="1")
    obj11 = Node.objects.get(strategy=strategy, kind="mission_objective", code="1.1")
    node_update(node=goal, description_sensitive=True, by=None)
    node_update(node=obj11, justification_sensitive=True, risks_sensitive=True, by=None)

    again = strategy_import(document=DOC, by=None)
    assert not again.changed_anything
    # A revision rewords 1.1 (its title changes in place); the flags stay.
    result = strategy_import(document=revised(DOC), by=None)
    assert "Mission Objective 1.1" in result.updated

    strategy.refresh_from_db()
    goal.refresh_from_db()
    obj11.refresh_from_db()
    assert strategy.com_priorities_sensitive
    assert goal.description_sensitive
    assert (obj11.justification_sensitive, obj11.risks_sensitive) == (True, True)
    assert obj11.title == "Freedonian tariffs and quotas on U.S. goods fall."
    added = Node.objects.get(strategy=strategy, kind="mission_objective", code="2.2")
    assert not (added.description_sensitive or added.justification_sensitive)


# --- Notes --------------------------------------------------------------------------------


def test_the_author_sets_the_flag_on_a_draft_and_a_supersedor_inherits_it(personas, tree):
    note = draft(personas.analyst, tree.obj11, is_sensitive=True)
    assert note.is_sensitive
    note_update(note=note, is_sensitive=False, by=personas.analyst, expected_version=1)
    assert (note.is_sensitive, note.version) == (False, 2)

    approved = ProgressNoteFactory(
        strategy=tree.strategy, author=personas.analyst, nodes=[tree.obj11], is_sensitive=True
    )
    assert note_supersede(note=approved, by=personas.analyst).is_sensitive


def test_an_approved_note_is_never_edited_not_even_its_flag(personas, tree):
    approved = ProgressNoteFactory(
        strategy=tree.strategy, author=personas.analyst, nodes=[tree.obj11]
    )
    with pytest.raises(ValidationError, match="Approved notes cannot be edited"):
        note_update(note=approved, is_sensitive=True, by=personas.analyst)
    approved.refresh_from_db()
    assert not approved.is_sensitive and approved.version == 1


def test_a_manager_marks_an_approved_note_with_a_history_row(personas, tree):
    approved = ProgressNoteFactory(
        strategy=tree.strategy, author=personas.analyst, nodes=[tree.obj11], title="Talks"
    )
    rows = approved.history.count()
    note_mark_sensitive(note=approved, sensitive=True, by=personas.manager, expected_version=1)
    assert (approved.is_sensitive, approved.version, approved.state) == (
        True, 2, NoteState.APPROVED,
    )  # fmt: skip
    latest = approved.history.first()
    assert (latest.history_user, latest.is_sensitive, latest.title) == (
        personas.manager, True, "Talks",
    )  # fmt: skip
    note_mark_sensitive(note=approved, sensitive=True, by=personas.manager)  # as it is
    assert (approved.version, approved.history.count()) == (2, rows + 1)
    with pytest.raises(StaleVersion):
        note_mark_sensitive(note=approved, sensitive=False, by=personas.manager, expected_version=1)


def test_marking_a_note_takes_a_manager_and_a_note_that_reached_them(personas, tree):
    note = draft(personas.analyst, tree.obj11)
    with pytest.raises(ValidationError, match="A draft note is its author's"):
        note_mark_sensitive(note=note, sensitive=True, by=personas.manager)
    note_submit(note=note, by=personas.analyst)
    with pytest.raises(PermissionDenied):
        note_mark_sensitive(note=note, sensitive=True, by=personas.analyst)
    note_mark_sensitive(note=note, sensitive=True, by=personas.manager)
    assert note.is_sensitive and note.state == NoteState.SUBMITTED
    with pytest.raises(ValidationError) as caught:
        note_mark_sensitive(note=note, sensitive="yes", by=personas.manager)
    assert caught.value.message_dict == {"sensitive": ["Choose true or false."]}
