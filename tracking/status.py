"""The status rules, as pure functions (no database): progress, indicator status, roll-up.

Two channels describe a node:
- the *assessment*: the analyst's latest approved progress note;
- the *computed* status: from the node's indicators.
Parents roll up their children in both channels (worst-of by default) and every status
carries a sentence that says where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
ACHIEVED = "achieved"
NOT_STARTED = "not_started"
NO_DATA = "no_data"

LABELS = {
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    OFF_TRACK: "Off track",
    ACHIEVED: "Achieved",
    NOT_STARTED: "Not started",
    NO_DATA: "No data",
}

# Worst first wins a roll-up. "On track" outranks "not started" and "achieved": a goal
# with one objective on track and one achieved is still in progress, i.e. on track.
SEVERITY = {OFF_TRACK: 5, AT_RISK: 4, ON_TRACK: 3, NOT_STARTED: 2, ACHIEVED: 1, NO_DATA: 0}


def label(status: str) -> str:
    return LABELS.get(status, status.replace("_", " ").capitalize())


def progress_ratio(
    *,
    baseline: Decimal | None,
    target: Decimal | None,
    actual: Decimal | None,
    direction: str,
) -> float | None:
    """Share of the way from baseline to target that the actual has covered.

    increase: (actual − baseline) / (target − baseline); decrease mirrors it, which is the
    same fraction with both signs flipped. When target equals baseline ("zero distance")
    the target is simply met (1.0) or not (0.0). maintain: 1.0 at the target, falling
    linearly with the relative deviation. A missing baseline counts as zero. Returns None
    when there is no actual or no target. Not clamped: 1.2 is over-achievement.
    """
    if actual is None or target is None:
        return None
    base = baseline if baseline is not None else Decimal(0)
    if direction == "maintain":
        if target == 0:
            return 1.0 if actual == 0 else 0.0
        return max(0.0, 1.0 - float(abs(actual - target) / abs(target)))
    distance = target - base
    if distance == 0:
        met = actual >= target if direction == "increase" else actual <= target
        return 1.0 if met else 0.0
    return float((actual - base) / distance)


def status_for_progress(progress: float | None) -> str:
    """on track ≥ STATUS_ON_TRACK_THRESHOLD, off track < STATUS_OFF_TRACK_THRESHOLD."""
    if progress is None:
        return NO_DATA
    if progress >= settings.STATUS_ON_TRACK_THRESHOLD:
        return ON_TRACK
    if progress < settings.STATUS_OFF_TRACK_THRESHOLD:
        return OFF_TRACK
    return AT_RISK


def comparable(status: str) -> str | None:
    """Map a status onto the computed channel's scale, or None when they can't be compared."""
    if status == ACHIEVED:
        return ON_TRACK
    if status in (ON_TRACK, AT_RISK, OFF_TRACK):
        return status
    return None


def disagrees(assessment: str, computed: str) -> bool:
    """True when an analyst's assessment contradicts the indicators' computed status."""
    a, c = comparable(assessment), comparable(computed)
    return a is not None and c is not None and a != c


@dataclass(frozen=True)
class StatusInfo:
    """A node's status in one channel and the sentence explaining it."""

    status: str
    reason: str  # "At risk because 2.1 is at risk: note of 3 May 2024"
    basis: str = ""  # the root cause alone: "note of 3 May 2024"
    from_code: str = ""  # code of the node the status came from ("" = its own)

    @property
    def label(self) -> str:
        return label(self.status)


def roll_up(
    *, code: str, own: StatusInfo, children: list[tuple[str, StatusInfo]], rule: str = "worst"
) -> StatusInfo:
    """Combine a node's own status with its children's (already rolled-up) statuses.

    rule "worst": the worst of own and children; own wins ties.
    rule "own_first": own when it has one, else the worst child.
    """
    if rule == "own_first" and own.status != NO_DATA:
        return own
    best = own
    for child_code, child in children:
        if SEVERITY[child.status] > SEVERITY[best.status]:
            best = StatusInfo(
                status=child.status,
                reason=f"{label(child.status)} because {child_code} is {label(child.status).lower()}"
                + (f": {child.basis}" if child.basis else ""),
                basis=child.basis,
                from_code=child.from_code or child_code,
            )
    return best
