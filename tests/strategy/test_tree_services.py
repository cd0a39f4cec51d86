"""Tree writes through the services: validation messages, roles, history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from strategy.models import Node, NodeKind
from strategy.services import node_create, node_delete, node_update
from tests.factories import IndicatorFactory


def test_manager_adds_an_objective_under_a_goal(personas, tree):
    node = node_create(
        strategy=tree.strategy, kind=NodeKind.MISSION_OBJECTIVE, code="1.3", title=" Tourism ", parent=tree.goal1,
        by=personas.manager,
    )  # fmt: skip
    assert (node.title, node.parent_kind, node.sort_key) == (
        "Tourism",
        "mission_goal",
        "G0001.0003",
    )
    assert node.history.get().history_user == personas.manager


@pytest.mark.parametrize(
    ("kind", "code", "parent_attr", "field"),
    [
        (NodeKind.MISSION_OBJECTIVE, "1.3", None, "parent"),
        (NodeKind.MISSION_OBJECTIVE, "2.3", "goal1", "code"),
        (NodeKind.SUB_OBJECTIVE, "1.3", "obj11", "code"),
        (NodeKind.MISSION_GOAL, "1", None, "code"),
        (NodeKind.MISSION_OBJECTIVE, "1.1", "goal1", "code"),
        (NodeKind.SUB_OBJECTIVE, "1.1.9", "goal1", "parent"),
    ],
)
def test_invalid_positions_get_a_field_message(personas, tree, kind, code, parent_attr, field):
    parent = getattr(tree, parent_attr) if parent_attr else None
    with pytest.raises(ValidationError) as exc:
        node_create(
            strategy=tree.strategy,
            kind=kind,
            code=code,
            title="x",
            parent=parent,
            by=personas.manager,
        )
    assert field in exc.value.message_dict


def test_parent_from_another_mission_is_refused(personas, tree):
    with pytest.raises(ValidationError):
        node_create(
            strategy=tree.strategy, kind=NodeKind.MISSION_OBJECTIVE, code="1.5", title="x", parent=tree.other_goal,
            by=personas.manager,
        )  # fmt: skip


@pytest.mark.parametrize("role", ["viewer", "analyst", "outsider"])
def test_only_managers_edit_the_tree(personas, tree, role):
    with pytest.raises(PermissionDenied):
        node_update(node=tree.goal1, title="Changed", by=personas.by_role(role))
    tree.goal1.refresh_from_db()
    assert tree.goal1.title == "Prosperity"


def test_update_without_change_writes_no_history(personas, tree):
    before = Node.history.count()
    node_update(node=tree.goal1, title="Prosperity", by=personas.manager)
    assert Node.history.count() == before


def test_a_node_carrying_indicators_cannot_be_deleted(personas, tree):
    IndicatorFactory(node=tree.obj12)
    with pytest.raises(ValidationError, match="carries indicators"):
        node_delete(node=tree.obj12, by=personas.manager)
    assert Node.objects.filter(pk=tree.obj12.pk).exists()


def test_a_node_with_children_cannot_be_deleted(personas, tree):
    with pytest.raises(ValidationError, match="has children"):
        node_delete(node=tree.goal2, by=personas.manager)


def test_an_empty_leaf_is_deleted_and_the_deletion_recorded(personas, tree):
    node_id = tree.obj12.pk
    node_delete(node=tree.obj12, by=personas.manager)
    assert not Node.objects.filter(pk=node_id).exists()
    deletion = Node.history.filter(id=node_id, history_type="-").get()
    assert deletion.history_user == personas.manager


def test_linkages_must_be_short_tags(personas, tree):
    with pytest.raises(ValidationError):
        node_update(node=tree.goal1, linkages="NSS", by=personas.manager)
    node_update(
        node=tree.goal1,
        linkages=["NSS Pillar 2", "NSS Pillar 2", " JSP Goal 2 "],
        by=personas.manager,
    )
    assert tree.goal1.linkages == ["NSS Pillar 2", "JSP Goal 2"]
