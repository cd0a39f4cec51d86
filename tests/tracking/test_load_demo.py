"""manage.py load_demo: the demo mission shows every status, state and freshness case the
product has, and running it again creates and changes nothing."""

from io import StringIO
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from strategy.ics.parser import parse_ics
from strategy.models import Membership, Mission, Node, NodeKind, Role, Strategy
from tracking import status as st
from tracking.models import Direction, Indicator, IndicatorPeriod, NoteState, ProgressNote
from tracking.selectors import strategy_tree

DEMO_DOCUMENT = Path(__file__).resolve().parents[2] / "strategy" / "demo" / "ics-demo.md"

# The Mission Strategic Framework titles of ../shared/seeds/ics-china.txt (titles only):
# the demo keeps the seed's real goals and objectives and invents everything else.
SEED_TITLES = {
    ("mission_goal", "1"): "Rebalance the U.S. trade and economic relationship with China for "
    "the benefit of American workers, farmers, innovators, and businesses.",
    ("mission_objective", "1.1"): "Increase export market access for U.S. goods and services "
    "and eliminate trade and investment barriers, and boost U.S. exports to China through "
    "trade promotion. Coordinate efforts with third-country governments, business chambers, "
    "and international organizations to induce China to level its commercial playing field, "
    "including by curbing its state-led targeting of foreign technologies for strategic "
    "purposes.",
    ("mission_goal", "2"): "Enhance U.S. leadership in the Indo-Pacific, and strengthen global "
    "and regional security.",
    ("mission_objective", "2.1"): "China maintains maximum pressure on DPRK regime until final, "
    "fully verified denuclearization of North Korea.",
    ("mission_objective", "2.2"): "China increasingly adopts and adheres to international rules "
    "and supports the international order.",
    ("mission_objective", "2.3"): "China pursues stable and constructive cross-Strait relations "
    "with Taiwan.",
    ("mission_goal", "3"): "Promote and protect the health, safety, and welfare of American "
    "citizens.",
    ("mission_objective", "3.1"): "China reduces the flow of synthetic opioids and strengthens "
    "cooperation on transnational law enforcement issues.",
    ("mission_objective", "3.2"): "China strengthens its cooperation with the United States in "
    "countering global threats to public health and safety and improving Global Health "
    "Security (GHS).",
    ("mission_objective", "3.3"): "China adheres to due process and the norms of the Vienna "
    "Consular Convention and the 1980 U.S.-China Bilateral Consular Convention in its "
    "treatment of U.S. citizens.",
    ("mission_objective", "3.4"): "China to fulfill its obligations to accept the return of "
    "Chinese citizens removed from the United States.",
    ("mission_goal", "4"): "Promote fundamental freedoms and American values to advance peace "
    "and prosperity.",
    ("mission_objective", "4.1"): "Through outreach, exchanges, and dialogue, advocate for and "
    "urge China to adhere to the rule of law, respect the individual rights and dignity of "
    "all its citizens, and ease restrictions on the free flow of information and ideas to "
    "advance civil society.",
    ("management_objective", "1"): "Provide safe and secure facilities as a platform for "
    "Mission activities.",
    ("management_objective", "2"): "Ensure secure and reliable communications for all Mission "
    "staff.",
    ("management_objective", "3"): "Ensure the efficiency of our Mission China support platform "
    "while maintaining high service standards.",
}

DEMO_USERS = ["demo-admin", "demo-manager", "demo-manager2", "demo-analyst", "demo-viewer"]


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def china_tree():
    strategy = Strategy.objects.get(mission__slug="china")
    tree = strategy_tree(strategy=strategy)
    return [t for t in tree.walk() if t.node.kind != NodeKind.MISSION_GOAL]


def row_counts() -> dict[str, int]:
    """Rows of every model, historical models included."""
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def normalise(title: str) -> str:
    return " ".join(title.split()).rstrip(".")


def test_demo_document_parses_without_discrepancies_and_keeps_the_seed_titles():
    doc = parse_ics(DEMO_DOCUMENT.read_text(encoding="utf-8"))

    assert doc.discrepancies == []
    assert doc.mission_name == "China"
    assert (doc.period_start_fy, doc.period_end_fy) == (2024, 2027)
    items = {(item.kind, item.code): item for item in doc.items()}
    for key, title in SEED_TITLES.items():
        assert normalise(items[key].title) == normalise(title), key
    assert set(items) - set(SEED_TITLES) == {("sub_objective", "3.1.1")}
    assert items["sub_objective", "3.1.1"].justification
    assert all(item.justification for item in doc.items() if item.kind != "mission_goal")
    assert all(item.description for item in doc.items() if item.kind == "mission_goal")
    assert sum(bool(item.risks) for item in doc.items()) >= 2


def test_load_demo_creates_users_missions_and_an_approved_strategy(db):
    output = load_demo()

    strategy = Strategy.objects.get(mission__slug="china")
    assert strategy.mission.name == "Mission China"
    assert strategy.status == Strategy.Status.APPROVED
    assert strategy.nodes.count() == len(SEED_TITLES) + 1
    roles = dict(
        Membership.objects.filter(mission=strategy.mission).values_list("user__username", "role")
    )
    assert roles == {
        "demo-admin": Role.ADMIN,
        "demo-manager": Role.MANAGER,
        "demo-manager2": Role.MANAGER,
        "demo-analyst": Role.ANALYST,
        "demo-viewer": Role.VIEWER,
    }
    User = get_user_model()
    admin = User.objects.get(username="demo-admin")
    assert admin.is_superuser and admin.is_staff
    assert all(
        u.check_password("demo-password-2026")
        for u in User.objects.filter(username__startswith="demo-")
    )
    elsewhere = Mission.objects.get(slug="elsewhere")
    assert list(elsewhere.memberships.values_list("user__username", "role")) == [
        ("demo-outsider", Role.MANAGER)
    ]
    assert Node.objects.filter(strategy__mission=elsewhere).count() == 2
    assert "demo-password-2026" in output and "demo-outsider" in output
    for username in DEMO_USERS:
        assert username in output


def test_quiet_load_prints_no_credentials(db):
    output = load_demo("--quiet")

    assert "demo-password-2026" not in output


def test_demo_shows_every_note_state_status_and_freshness_case(db):
    load_demo()
    tracked = china_tree()
    by_code = {(t.node.kind, t.node.code): t for t in tracked}

    states = set(ProgressNote.objects.values_list("state", flat=True))
    assert states == set(NoteState.values)
    returned = ProgressNote.objects.filter(state__in=[NoteState.RETURNED, NoteState.RESUBMITTED])
    assert all(note.review_comment for note in returned)

    assert {st.ON_TRACK, st.AT_RISK, st.OFF_TRACK} <= {t.computed.status for t in tracked}
    assert {st.ON_TRACK, st.AT_RISK, st.OFF_TRACK, st.ACHIEVED, st.NOT_STARTED} <= {
        t.assessment.status for t in tracked
    }
    assert ProgressNote.objects.filter(state=NoteState.APPROVED, assessment="off_track").exclude(
        justification=""
    )

    stale_with_note = [t for t in tracked if t.is_stale and t.latest_note]
    never_updated = [t for t in tracked if t.latest_note is None and t.last_update is None]
    assert stale_with_note and never_updated
    assert sum(t.is_stale for t in tracked) < len(tracked) / 2  # most objectives are fresh
    disagreeing = [t for t in tracked if t.disagreement]
    assert disagreeing
    assert all(ProgressNote.objects.get(id=t.latest_note.id).justification for t in disagreeing)
    assert by_code["mission_objective", "3.1"].disagreement


def test_demo_has_overdue_milestones_late_data_and_indicators_both_ways(db):
    load_demo()
    tracked = china_tree()

    assert sum(t.overdue_milestones for t in tracked) >= 1
    milestones = [m for t in tracked for m in t.milestones]
    assert any(m.completed_on for m in milestones)
    assert any(m.completed_on is None and not m.is_overdue for m in milestones)
    assert any(i.is_late for t in tracked for i in t.indicators)

    directions = set(Indicator.objects.values_list("direction", flat=True))
    assert directions == set(Direction.values)
    assert Indicator.objects.filter(cumulative_mode="period_sum").exists()
    assert all(t.indicators for t in tracked if t.node.kind == NodeKind.MISSION_OBJECTIVE)
    two_indicators = [t for t in tracked if len(t.indicators) == 2]
    assert len(two_indicators) >= 7
    # Four fiscal years of quarters, each with a target.
    indicator = Indicator.objects.first()
    assert indicator.periods.count() == 16
    assert not indicator.periods.filter(target__isnull=True).exists()


def test_running_load_demo_twice_creates_and_changes_nothing(db):
    load_demo("--quiet")
    before = row_counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))

    output = load_demo("--quiet")

    assert row_counts() == before
    assert {"strategy.HistoricalNode", "tracking.HistoricalIndicatorPeriod"} <= set(before)
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert "nothing changed" in output


def test_values_edited_after_loading_survive_a_second_run(db):
    # `make run` loads the demo on every start: it must never undo what people recorded.
    load_demo("--quiet")
    period = IndicatorPeriod.objects.filter(actual__isnull=False).first()
    edited = period.actual + 1
    IndicatorPeriod.objects.filter(pk=period.pk).update(actual=edited)
    load_demo("--quiet")
    assert IndicatorPeriod.objects.get(pk=period.pk).actual == edited
