"""Progress towards target is baseline- and direction-aware; status follows thresholds."""

from decimal import Decimal as D

import pytest

from tracking.status import (
    AT_RISK,
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
    StatusInfo,
    disagrees,
    progress_ratio,
    roll_up,
    status_for_progress,
)


def test_increase_measures_distance_from_baseline():
    assert progress_ratio(baseline=D(10), target=D(20), actual=D(15), direction="increase") == 0.5


def test_decrease_mirrors_increase():
    # From 100 down to 60: reaching 70 covers 30 of the 40 to go.
    assert progress_ratio(baseline=D(100), target=D(60), actual=D(70), direction="decrease") == 0.75


def test_decrease_going_the_wrong_way_is_negative():
    assert (
        progress_ratio(baseline=D(100), target=D(60), actual=D(110), direction="decrease") == -0.25
    )


def test_over_achievement_is_not_clamped():
    assert progress_ratio(baseline=D(0), target=D(10), actual=D(12), direction="increase") == 1.2


@pytest.mark.parametrize(
    ("direction", "actual", "expected"),
    [("increase", 50, 1.0), ("increase", 49, 0.0), ("decrease", 50, 1.0), ("decrease", 51, 0.0)],
)
def test_zero_distance_is_met_or_not(direction, actual, expected):
    assert (
        progress_ratio(baseline=D(50), target=D(50), actual=D(actual), direction=direction)
        == expected
    )


def test_maintain_falls_with_relative_deviation():
    assert progress_ratio(baseline=D(90), target=D(100), actual=D(100), direction="maintain") == 1.0
    assert progress_ratio(
        baseline=D(90), target=D(100), actual=D(80), direction="maintain"
    ) == pytest.approx(0.8)
    assert progress_ratio(baseline=None, target=D(0), actual=D(0), direction="maintain") == 1.0


def test_missing_baseline_counts_as_zero():
    assert progress_ratio(baseline=None, target=D(8), actual=D(6), direction="increase") == 0.75


@pytest.mark.parametrize(("target", "actual"), [(None, D(1)), (D(1), None), (None, None)])
def test_no_actual_or_target_is_no_data(target, actual):
    assert progress_ratio(baseline=D(0), target=target, actual=actual, direction="increase") is None
    assert status_for_progress(None) == NO_DATA


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        (1.3, ON_TRACK),
        (0.85, ON_TRACK),
        (0.849, AT_RISK),
        (0.5, AT_RISK),
        (0.499, OFF_TRACK),
        (-1, OFF_TRACK),
    ],
)
def test_status_thresholds(progress, status):
    assert status_for_progress(progress) == status


def test_thresholds_come_from_settings(settings):
    settings.STATUS_ON_TRACK_THRESHOLD = 0.95
    assert status_for_progress(0.9) == AT_RISK


def test_disagreement_only_between_comparable_statuses():
    assert disagrees("on_track", "off_track")
    assert disagrees("achieved", "at_risk")
    assert not disagrees("achieved", "on_track")
    assert not disagrees("not_started", "off_track")
    assert not disagrees("off_track", NO_DATA)


def test_roll_up_takes_the_worst_child_and_says_why():
    own = StatusInfo(ON_TRACK, "On track: note of 1 May", "note of 1 May")
    child = StatusInfo(
        AT_RISK, "At risk: note “Talks stalled” of 3 May 2024", "note “Talks stalled” of 3 May 2024"
    )
    rolled = roll_up(code="2", own=own, children=[("2.1", child)])
    assert rolled.status == AT_RISK
    assert rolled.reason == "At risk because 2.1 is at risk: note “Talks stalled” of 3 May 2024"
    assert rolled.from_code == "2.1"


def test_roll_up_keeps_own_status_on_ties_and_when_worse():
    own = StatusInfo(OFF_TRACK, "Off track: own", "own")
    assert roll_up(code="1", own=own, children=[("1.1", StatusInfo(OFF_TRACK, "x", "x"))]) is own


def test_own_first_rule_prefers_the_node_s_own_assessment():
    own = StatusInfo(ON_TRACK, "On track: own", "own")
    child = StatusInfo(OFF_TRACK, "Off track: child", "child")
    assert roll_up(code="1", own=own, children=[("1.1", child)], rule="own_first") is own
    no_own = StatusInfo(NO_DATA, "none")
    assert (
        roll_up(code="1", own=no_own, children=[("1.1", child)], rule="own_first").status
        == OFF_TRACK
    )
