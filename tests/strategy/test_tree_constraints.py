"""The database itself refuses an invalid tree, whatever code path writes it."""

import pytest
from django.db import IntegrityError, transaction

from strategy.models import Node, NodeKind, code_sort_key
from tests.factories import NodeFactory, StrategyFactory


def raw_node(**fields) -> Node:
    fields.setdefault("sort_key", code_sort_key(fields["kind"], fields["code"]))
    fields.setdefault("title", "x")
    return Node(**fields)


def assert_rejected(node: Node) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        node.save()


def test_objective_cannot_be_a_root(tree):
    assert_rejected(raw_node(strategy=tree.strategy, kind=NodeKind.MISSION_OBJECTIVE, code="9.1"))


def test_goal_cannot_have_a_parent(tree):
    assert_rejected(
        raw_node(
            strategy=tree.strategy,
            kind=NodeKind.MISSION_GOAL,
            code="9",
            parent=tree.goal1,
            parent_kind="mission_goal",
        )
    )


def test_sub_objective_cannot_sit_under_a_goal(tree):
    assert_rejected(
        raw_node(
            strategy=tree.strategy,
            kind=NodeKind.SUB_OBJECTIVE,
            code="1.9.1",
            parent=tree.goal1,
            parent_kind="mission_goal",
        )
    )


def test_parent_kind_cannot_lie_about_the_parent(tree):
    # Claims its parent is an objective, but the parent row is a goal.
    assert_rejected(
        raw_node(
            strategy=tree.strategy,
            kind=NodeKind.SUB_OBJECTIVE,
            code="1.9.1",
            parent=tree.goal1,
            parent_kind="mission_objective",
        )
    )


def test_parent_must_be_in_the_same_strategy(tree):
    other = StrategyFactory(mission=tree.strategy.mission)
    assert_rejected(
        raw_node(
            strategy=other,
            kind=NodeKind.MISSION_OBJECTIVE,
            code="1.1",
            parent=tree.goal1,
            parent_kind="mission_goal",
        )
    )


def test_codes_are_unique_per_strategy_and_kind(tree):
    assert_rejected(raw_node(strategy=tree.strategy, kind=NodeKind.MISSION_GOAL, code="1"))
    # The same code in another kind is fine: management objective 1 exists beside goal 1.
    assert tree.mgmt1.code == tree.goal1.code


def test_a_parent_cannot_change_into_a_kind_its_children_do_not_accept(tree):
    tree.goal1.kind = NodeKind.MANAGEMENT_OBJECTIVE
    with pytest.raises(IntegrityError), transaction.atomic():
        tree.goal1.save()


def test_a_valid_tree_is_accepted(tree):
    node = NodeFactory(parent=tree.obj12, kind=NodeKind.SUB_OBJECTIVE, code="1.2.1")
    assert node.pk and node.parent_kind == "mission_objective"
