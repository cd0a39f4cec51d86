"""python manage.py load_demo [--quiet]

Loads the demo: Mission China with the strategy in `strategy/demo/ics-demo.md`, demo users
for every role, owners, indicators with four fiscal years of quarterly targets and actuals,
milestones, progress notes in every workflow state and one analysis document linked to two
objectives; plus "Mission Elsewhere" with its
own tiny strategy and manager, so that what one mission cannot see is visible too.

Every write goes through `strategy.services` and `tracking.services`. Running it again
creates nothing and changes nothing: objects are found by natural keys (username, mission
slug, (node, indicator name), (node, milestone title), (strategy, note title)), and values
come from fixed formulas and a seeded random generator. Dates are relative to today, so
the demo always has fresh, stale, overdue and late items.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from strategy.models import Mission, NodeKind, Role, Strategy
from strategy.services import (
    membership_set,
    milestone_create,
    milestone_update,
    mission_create,
    node_create,
    node_update,
    strategy_create,
    strategy_import,
    strategy_update,
)
from tracking.analyses.selectors import suggestions
from tracking.analyses.services import analysis_create, analysis_link
from tracking.fiscal import fiscal_year, fiscal_year_start, periods_of_fiscal_years
from tracking.models import (
    Assessment,
    Cadence,
    CumulativeMode,
    Direction,
    Frequency,
    Indicator,
    NoteState,
    ProgressNote,
)
from tracking.reports.services import subscription_create
from tracking.services import (
    indicator_create,
    indicator_period_record,
    note_approve,
    note_create,
    note_return,
    note_submit,
    note_update,
)

DOCUMENT = Path(__file__).resolve().parents[3] / "strategy" / "demo" / "ics-demo.md"
ANALYSIS = Path(__file__).resolve().parents[2] / "analyses" / "demo_analysis.md"
PASSWORD = "demo-password-2026"  # noqa: S105 - published demo credentials, printed on purpose
SEED = 2026
YEARS = 4  # fiscal years of periods, ending with the current one

# username, first name, last name, role in Mission China ("" = none)
USERS = [
    ("demo-admin", "Avery", "Admin", Role.ADMIN),
    ("demo-manager", "Morgan", "Reyes", Role.MANAGER),
    ("demo-manager2", "Jordan", "Kim", Role.MANAGER),
    ("demo-analyst", "Casey", "Nguyen", Role.ANALYST),
    ("demo-viewer", "Riley", "Patel", Role.VIEWER),
    ("demo-outsider", "Sam", "Okafor", ""),
]


# --- Indicators ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoIndicator:
    """One indicator and the formula of its values.

    Targets move in a straight line from the baseline to `target` over the sixteen
    quarters (period-sum and maintain indicators: `target` every quarter). An actual
    covers `performance` of the way from baseline to that quarter's target, moving from
    the first to the second value over the first eight quarters, plus a little noise; so
    the latest actual, and with it the computed status, is always near the second value
    (on track ≥ 0.85, at risk, off track < 0.5).
    """

    node: str  # "1.1", "3.1.1"; "M2" = Management Objective 2
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float
    performance: tuple[float, float]
    data_source: str
    definition: str
    collection_method: str = "Compiled quarterly by the objective owner from the data source."
    cumulative_mode: str = CumulativeMode.NON_CUMULATIVE
    places: int = 0
    noise: float = 0.03
    late: bool = False  # the latest quarter past its reporting deadline has no actual


INCREASE, DECREASE, MAINTAIN = Direction.INCREASE, Direction.DECREASE, Direction.MAINTAIN
PERIOD_SUM, CUMULATIVE = CumulativeMode.PERIOD_SUM, CumulativeMode.CUMULATIVE

INDICATORS = [
    DemoIndicator(
        "1.1", "U.S. agricultural exports to China", "USD billion", INCREASE, 24.0, 34.0,
        (0.9, 1.05), "U.S. Census Bureau trade data (USDA GATS)",
        "Value of U.S. agricultural, fish and forestry exports to mainland China in the "
        "quarter, seasonally adjusted.", places=2,
    ),
    DemoIndicator(
        "1.1", "Market-access barriers resolved through Mission advocacy", "cases", INCREASE,
        None, 3, (1.0, 1.0), "Mission market-access case log",
        "Trade or investment barriers affecting U.S. firms that were removed or eased in "
        "the quarter after Mission engagement.", cumulative_mode=PERIOD_SUM,
    ),
    DemoIndicator(
        "2.1", "DPRK sanctions-evasion leads acted on by Chinese authorities", "%", INCREASE,
        20, 60, (0.95, 0.68), "Mission reporting; UN 1718 Committee",
        "Share of specific evasion leads passed to Chinese authorities on which they "
        "reported an inspection, seizure or investigation.",
    ),
    DemoIndicator(
        "2.1", "Suspected ship-to-ship transfers with DPRK vessels in Chinese waters",
        "transfers", DECREASE, 48, 20, (0.9, 0.95), "Partner maritime surveillance reports",
        "Suspected transfers of sanctioned cargo to or from DPRK-flagged or DPRK-controlled "
        "vessels observed in Chinese territorial waters in the quarter.",
    ),
    DemoIndicator(
        "2.2", "Chinese overseas development loans with published terms", "%", INCREASE,
        15, 45, (0.9, 1.0), "World Bank International Debt Statistics; Mission analysis",
        "Share of new Chinese official lending commitments whose terms are published or "
        "shared with multilateral creditors.",
    ),
    DemoIndicator(
        "2.3", "PLA aircraft entering Taiwan's air defense identification zone",
        "aircraft per month", DECREASE, 130, 80, (0.4, 0.3),
        "Published Taiwan defense ministry figures",
        "Monthly average of People's Liberation Army aircraft reported entering Taiwan's "
        "air defense identification zone during the quarter.",
    ),
    DemoIndicator(
        "3.1", "Fentanyl-related seizures reported by CBP from China", "pounds", DECREASE,
        2400, 1200, (0.9, 0.66), "U.S. Customs and Border Protection drug seizure statistics",
        "Weight of fentanyl and fentanyl-related substances seized at U.S. ports of entry "
        "in shipments traced to China in the quarter.",
    ),
    DemoIndicator(
        "3.1", "Parcel-interdiction leads shared by Chinese customs", "leads", INCREASE,
        None, 12, (0.9, 1.0), "DHS attaché reporting",
        "Actionable leads on parcels containing synthetic opioids or precursors that "
        "Chinese customs shared with U.S. agencies in the quarter.", cumulative_mode=PERIOD_SUM,
    ),
    DemoIndicator(
        "3.1.1", "Fentanyl-related substances and precursors under control in China",
        "substances", INCREASE, 10, 40, (1.0, 1.05), "Chinese scheduling notices; DEA analysis",
        "Running total of fentanyl-related substances and precursor chemicals China has "
        "placed under national control, counting class-wide listings by member.",
        cumulative_mode=CUMULATIVE,
    ),
    DemoIndicator(
        "3.2", "Joint public-health surveillance and laboratory exchanges", "exchanges",
        INCREASE, None, 4, (1.0, 1.0), "CDC China office activity log",
        "Technical exchanges, joint trainings and laboratory visits held with Chinese "
        "public-health counterparts in the quarter.", cumulative_mode=PERIOD_SUM,
    ),
    DemoIndicator(
        "3.2", "Days to share genomic sequences of novel influenza strains", "days", DECREASE,
        30, 10, (0.9, 1.0), "WHO collaborating centre records",
        "Median days from Chinese detection of a novel influenza strain to its sequence "
        "being shared on a public database.",
    ),
    DemoIndicator(
        "3.3", "Exit-ban cases of U.S. citizens", "open cases", DECREASE, 30, 10, (0.6, 0.25),
        "Consular case-management system",
        "U.S. citizens known to the Mission to be barred from leaving China at the end of "
        "the quarter.",
    ),
    DemoIndicator(
        "3.3", "Consular notifications of detained U.S. citizens within four days", "%",
        INCREASE, 55, 95, (0.85, 0.7), "Consular case-management system",
        "Share of arrests and detentions of U.S. citizens notified to the Mission within the "
        "four days the 1980 Consular Convention requires.",
    ),
    DemoIndicator(
        "3.4", "Travel documents issued within 30 days of request", "%", INCREASE, 10, 60,
        (0.8, 0.72), "ICE Enforcement and Removal Operations",
        "Share of travel-document requests for Chinese nationals with final removal orders "
        "that China answered with a document within 30 days.",
    ),
    DemoIndicator(
        "3.4", "Chinese nationals with final removal orders awaiting travel documents", "cases",
        DECREASE, 1200, 600, (0.85, 0.9), "ICE Enforcement and Removal Operations",
        "Chinese nationals with final orders of removal still waiting for a travel "
        "document at the end of the quarter.", late=True,
    ),
    DemoIndicator(
        "4.1", "U.S. exchange alumni engaged in Mission programs", "people", INCREASE, None, 150,
        (1.05, 0.95), "Public Affairs alumni database",
        "Alumni of U.S. government exchange programs who took part in a Mission event or "
        "program in the quarter.", cumulative_mode=PERIOD_SUM,
    ),
    DemoIndicator(
        "4.1", "Mission social-media posts removed by censors within 24 hours", "%", DECREASE,
        40, 20, (0.8, 0.65), "Public Affairs social-media monitoring",
        "Share of the Mission's posts on Chinese platforms deleted or hidden within 24 hours "
        "of publication.", late=True,
    ),
    DemoIndicator(
        "M2", "Classified pouch transit time, Beijing to Washington", "days", DECREASE, 21, 12,
        (0.8, 1.0), "Diplomatic pouch tracking", "Median days from dispatch to delivery.",
        places=1,
    ),
    DemoIndicator(
        "M2", "Unclassified network availability", "%", MAINTAIN, 99.5, 99.5, (0.997, 0.999),
        "IRM network monitoring", "Share of business hours the network was available at all posts.",
        places=2, noise=0.001,
    ),
]  # fmt: skip


# --- Milestones ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoMilestone:
    node: str
    title: str
    due_in_days: int  # negative: in the past
    completed_in_days: int | None = None  # None: not completed
    owner: str = "demo-manager2"


MILESTONES = [
    DemoMilestone("M1", "Complete lease fit-out of the Wuhan consulate office", -300, -310),
    DemoMilestone("M1", "Sign a secure resupply arrangement with host authorities", -45),
    DemoMilestone("M1", "Select a site for the new Shenyang consulate compound", 120),
    DemoMilestone("M2", "Open an independent Diplomatic Post Office in Beijing", -400, -380),
    DemoMilestone("M2", "Route the first classified pouch by sea freight", -60, -70),
    DemoMilestone("M2", "Move the unclassified network to redundant circuits at all posts", 60),
    DemoMilestone("M2", "Pilot encrypted mobile devices for consulate duty officers", 200),
    DemoMilestone("M3", "Publish the warehouse consolidation study", -20),
    DemoMilestone("M3", "Move Guangzhou HR functions to the regional HR center", 90),
    DemoMilestone("M3", "Launch online service requests at all posts", 180),
    DemoMilestone("M3", "Close the leased Shanghai warehouse", 330),
]


# --- Progress notes --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoNote:
    node: str  # the primary node
    title: str
    assessment: str
    days_ago: int  # as-of date
    body: str
    justification: str = ""
    state: str = NoteState.APPROVED  # where the note ends up
    reviewer: str = "demo-manager"
    review_comment: str = ""  # the return comment (returned and resubmitted notes)
    revised_body: str = ""  # what the author changed before resubmitting
    also: tuple[str, ...] = ()  # further linked nodes
    sources: tuple[tuple[str, str], ...] = ()


ON, RISK, OFF = Assessment.ON_TRACK, Assessment.AT_RISK, Assessment.OFF_TRACK

NOTES = [
    DemoNote(
        "1.1", "Agricultural exports dip after the spring tariff round", RISK, 200,
        "- Soybean and sorghum orders **paused** while buyers waited for tariff exclusions.\n"
        "- Two medical-device registration cases closed; three remain open.\n"
        "- Next step: joint letter with the EU and Japanese chambers on data-transfer rules.",
        justification="Quarterly export figures held up on shipments contracted earlier, but new "
        "orders fell sharply after the tariff round, so the next quarters will be weaker.",
        sources=(("https://apps.fas.usda.gov/gats/", "USDA Global Agricultural Trade System"),),
    ),
    DemoNote(
        "1.1", "Export recovery and barrier cases closed", ON, 18,
        "- Agricultural exports are **back above target** for the third quarter running.\n"
        "- Four market-access cases resolved this quarter, including beef plant registrations.\n"
        "- Watch: new cybersecurity review rules for foreign software vendors.",
        sources=(("https://apps.fas.usda.gov/gats/", "USDA Global Agricultural Trade System"),),
    ),
    DemoNote(
        "2.1", "Sanctions enforcement slips on maritime leads", RISK, 30,
        "- China acted on **fewer than half** of the evasion leads we passed this quarter.\n"
        "- Ship-to-ship transfers observed at sea are down, mostly because of weather.\n"
        "- Raised at the political counselor level; follow-up meeting requested.",
    ),
    DemoNote(
        "2.2", "Loan transparency improving in multilateral settings", ON, 40,
        "- China shared loan terms for **two** restructurings under the Common Framework.\n"
        "- Publication of terms on new commitments is on the planned path.",
    ),
    DemoNote(
        "3.1", "Counternarcotics cooperation holding despite high seizures", ON, 12,
        "- Working-group meetings resumed on schedule; **three joint parcel cases** opened.\n"
        "- China shared more interdiction leads than planned.\n"
        "- Seizure weights at U.S. ports remain above the target path.",
        justification="Seizures lag enforcement by two to three quarters: the cooperation this "
        "objective asks for is in place and growing, and the higher seizure weights partly "
        "reflect better U.S. targeting built on Chinese leads.",
        sources=(
            (
                "https://www.cbp.gov/newsroom/stats/drug-seizure-statistics",
                "CBP drug seizure statistics",
            ),
        ),
    ),
    DemoNote(
        "3.1.1", "Class-wide scheduling in force", Assessment.ACHIEVED, 25,
        "- The class-wide control of fentanyl-related substances **took effect** this year.\n"
        "- Quarterly laboratory data exchange is now routine.\n"
        "- Remaining work moves to enforcement under 3.1.",
    ),
    DemoNote(
        "3.2", "Health exchanges continue on schedule", ON, 130,
        "- Four technical exchanges held, including a joint influenza laboratory visit.\n"
        "- Sequence sharing for a novel H9N2 detection took **12 days**.",
    ),
    DemoNote(
        "3.3", "Exit bans rising; notifications late", OFF, 9,
        "- **Two new exit-ban cases** this quarter, both relatives of people sought in China.\n"
        "- Notifications of detentions arrived within four days in only about 70 % of cases.\n"
        "- The Ambassador raised both issues with the Vice Foreign Minister.",
        justification="Exit-ban cases are barely below the baseline and notifications keep "
        "missing the treaty deadline; nothing suggests a change before the next review.",
    ),
    DemoNote(
        "3.4", "Travel-document backlog shrinking slowly", RISK, 55,
        "- China issued travel documents for two charter flights.\n"
        "- Most requests still take **longer than 30 days**.",
    ),
    DemoNote(
        "4.1", "Exchange programs full; online reach constrained", RISK, 33,
        "- Alumni events drew more participants than planned in Beijing and Chengdu.\n"
        "- Censors removed roughly a third of the Mission's posts within a day.\n"
        "- Data for last quarter's censorship rate is still being compiled.",
        also=("4",),
    ),
    DemoNote(
        "M1", "Resupply arrangement overdue", RISK, 21,
        "- Wuhan fit-out completed last year.\n"
        "- The resupply arrangement **missed its due date**; host authorities have not replied.",
    ),
    DemoNote(
        "M2", "Pouch times down; sea route proven", ON, 15,
        "- First classified pouch by sea freight arrived intact.\n"
        "- Median transit time is on the target path.",
    ),
    DemoNote(
        "M3", "Warehouse consolidation not yet started", Assessment.NOT_STARTED, 10,
        "- The consolidation study is still in clearance.\n"
        "- HR regionalisation planning starts next quarter.",
        reviewer="demo-manager2",
    ),
    # One note in each other workflow state.
    DemoNote(
        "4.1", "Alumni outreach plan for the new fiscal year", ON, 2,
        "- Draft calendar of alumni events for the next two quarters.\n- _To do:_ add budget.",
        state=NoteState.DRAFT,
    ),
    DemoNote(
        "2.2", "China joins creditor committee talks", ON, 4,
        "- China's policy banks attended the **creditor committee** for a second borrower.\n"
        "- Terms shared with other creditors, not yet published.",
        state=NoteState.SUBMITTED,
    ),
    DemoNote(
        "2.1", "Sanctions leads: follow-up meeting", RISK, 6,
        "- Follow-up meeting held; Chinese side promised written replies on **five** leads.",
        state=NoteState.RETURNED,
        review_comment="Please say which of the leads China has already acted on and cite the "
        "latest Panel of Experts findings you rely on.",
    ),
    DemoNote(
        "3.4", "Charter flight schedule for removals", RISK, 8,
        "- One charter flight scheduled for next month.",
        state=NoteState.RESUBMITTED,
        reviewer="demo-manager2",
        review_comment="How many travel documents are still pending? Add the figure.",
        revised_body="- One charter flight scheduled for next month.\n"
        "- **About 650** cases still await travel documents (ICE figure).",
    ),
]  # fmt: skip


def _kind_code(ref: str) -> tuple[str, str]:
    """Node kind and code of a reference: "M2" is Management Objective 2; "1", "1.1" and
    "3.1.1" are a goal, an objective and a sub-objective."""
    if ref.startswith("M"):
        return NodeKind.MANAGEMENT_OBJECTIVE, ref[1:]
    kinds = [NodeKind.MISSION_GOAL, NodeKind.MISSION_OBJECTIVE, NodeKind.SUB_OBJECTIVE]
    return kinds[ref.count(".")], ref


def _quantize(value: float, places: int) -> Decimal:
    return Decimal(str(round(value, places)))


class Command(BaseCommand):
    help = (
        "Load the demo mission (Mission China), its strategy, indicators, notes and demo users. "
        "Safe to run again: once loaded, later runs change nothing (edits made since survive)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--quiet", action="store_true", help="Do not print the demo users and their password."
        )

    def handle(self, *args, quiet: bool = False, **options):
        self.today = timezone.localdate()
        self.created: dict[str, int] = {}
        # `make run` calls this on every start. Once the demo is in (one transaction, so
        # all or nothing), leave it alone: values and notes people changed must survive.
        if Strategy.objects.filter(mission__slug="china").exists():
            self.stdout.write("Demo already loaded: nothing changed.")
            if not quiet:
                self._print_credentials()
            return
        with transaction.atomic():
            users = self._users()
            china = self._mission("Mission China", "China", "china")
            strategy = self._strategy(china)
            self._memberships(china, users)
            nodes = {(n.kind, n.code): n for n in strategy.nodes.all()}
            self._owners(nodes, users)
            self._indicators(nodes, users)
            self._milestones(nodes, users)
            self._notes(strategy, nodes, users)
            self._analysis(strategy, nodes, users)
            self._subscriptions(strategy, users)
            self._elsewhere(users["demo-outsider"])
        made = ", ".join(f"{n} {what}" for what, n in self.created.items() if n)
        self.stdout.write(f"Demo loaded: {made or 'nothing new (already loaded)'}.")
        if not quiet:
            self._print_credentials()

    def _count(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n

    # --- people and missions

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, first, last, _role in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                make = (
                    User.objects.create_superuser
                    if username == "demo-admin"
                    else User.objects.create_user
                )
                user = make(
                    username=username,
                    email=f"{username}@example.org",
                    password=PASSWORD,
                    first_name=first,
                    last_name=last,
                )
                self._count("users")
            users[username] = user
        return users

    def _mission(self, name: str, country: str, slug: str) -> Mission:
        mission = Mission.objects.filter(slug=slug).first()
        if mission is None:
            mission = mission_create(name=name, country=country, slug=slug, by=None)
            self._count("missions")
        return mission

    def _memberships(self, mission: Mission, users: dict) -> None:
        for username, _first, _last, role in USERS:
            if role:
                membership_set(mission=mission, user=users[username], role=role, by=None)

    # --- the strategy

    def _strategy(self, mission: Mission) -> Strategy:
        result = strategy_import(
            document=DOCUMENT.read_text(encoding="utf-8"), mission=mission, by=None
        )
        for problem in result.document.discrepancies:
            self.stderr.write(f"Demo document: {problem.code} {problem.problem}: {problem.message}")
        if result.strategy_created:
            self._count("strategies")
        if result.created:
            self._count("nodes", len(result.created))
        strategy = result.strategy
        strategy_update(strategy=strategy, status=Strategy.Status.APPROVED, by=None)
        return strategy

    def _owners(self, nodes: dict, users: dict) -> None:
        for (kind, _code), node in nodes.items():
            owner = (
                users["demo-manager"] if kind == NodeKind.MISSION_GOAL else users["demo-analyst"]
            )
            if node.owner_id is None:
                node_update(node=node, owner=owner, by=None)

    # --- indicators and their periods

    def _indicators(self, nodes: dict, users: dict) -> None:
        rng = random.Random(SEED)  # noqa: S311 - demo values, not secrets
        current_fy = fiscal_year(self.today)
        periods = periods_of_fiscal_years(Frequency.QUARTERLY, current_fy - YEARS + 1, current_fy)
        baseline_date = fiscal_year_start(current_fy - YEARS + 1) - timedelta(days=1)
        due_before = self.today - timedelta(days=settings.INDICATOR_REPORTING_GRACE_DAYS)
        past_due = [p for p in periods if p.end < due_before]
        late_from = past_due[-1].start if past_due else self.today
        for spec in INDICATORS:
            node = nodes[_kind_code(spec.node)]
            # Drawn for every period whether recorded or not, so values never depend on
            # what a previous run did.
            noise = [rng.uniform(-spec.noise, spec.noise) for _ in periods]
            indicator = Indicator.objects.filter(node=node, name=spec.name).first()
            if indicator is None:
                indicator = indicator_create(
                    node=node,
                    name=spec.name,
                    definition=spec.definition,
                    unit=spec.unit,
                    direction=spec.direction,
                    baseline_value=spec.baseline,
                    baseline_date=baseline_date if spec.baseline is not None else None,
                    data_source=spec.data_source,
                    collection_method=spec.collection_method,
                    frequency=Frequency.QUARTERLY,
                    cumulative_mode=spec.cumulative_mode,
                    owner=users["demo-analyst"],
                    by=None,
                )
                self._count("indicators")
            for i, period in enumerate(periods):
                target, actual = self._values(spec, i, len(periods), noise[i])
                has_ended = period.end < self.today
                if spec.late and period.start >= late_from:
                    has_ended = False
                values = {"target": target, "actual": actual} if has_ended else {"target": target}
                _row, changed = indicator_period_record(
                    indicator=indicator,
                    period_start=period.start,
                    by=None,
                    today=self.today,
                    **values,
                )
                if changed:
                    self._count("period values")

    @staticmethod
    def _values(spec: DemoIndicator, i: int, n: int, noise: float) -> tuple[Decimal, Decimal]:
        early, latest = spec.performance
        performance = early + (latest - early) * min(i, 8) / 8 + noise
        if spec.cumulative_mode == PERIOD_SUM or spec.direction == MAINTAIN:
            target = _quantize(spec.target, spec.places)
            return target, _quantize(float(target) * performance, spec.places)
        base = spec.baseline or 0.0
        target = _quantize(base + (spec.target - base) * (i + 1) / n, spec.places)
        return target, _quantize(base + (float(target) - base) * performance, spec.places)

    # --- milestones

    def _milestones(self, nodes: dict, users: dict) -> None:
        for spec in MILESTONES:
            node = nodes[_kind_code(spec.node)]
            if node.milestones.filter(title=spec.title).exists():
                continue
            milestone = milestone_create(
                node=node,
                title=spec.title,
                due_on=self.today + timedelta(days=spec.due_in_days),
                owner=users[spec.owner],
                by=None,
            )
            if spec.completed_in_days is not None:
                milestone_update(
                    milestone=milestone,
                    completed_on=self.today + timedelta(days=spec.completed_in_days),
                    by=None,
                )
            self._count("milestones")

    # --- progress notes

    def _notes(self, strategy: Strategy, nodes: dict, users: dict) -> None:
        existing = set(
            ProgressNote.objects.filter(strategy=strategy).values_list("title", flat=True)
        )
        author = users["demo-analyst"]
        for spec in NOTES:
            if spec.title in existing:
                continue
            linked = [nodes[_kind_code(ref)] for ref in (spec.node, *spec.also)]
            note = note_create(
                strategy=strategy,
                author=author,
                title=spec.title,
                assessment=spec.assessment,
                as_of=self.today - timedelta(days=spec.days_ago),
                nodes=linked,
                primary_node=linked[0],
                body=spec.body,
                justification=spec.justification,
                sources=[{"url": url, "label": label} for url, label in spec.sources],
                today=self.today,
            )
            self._count("notes")
            if spec.state == NoteState.DRAFT:
                continue
            note_submit(note=note, by=author, today=self.today)
            if spec.state == NoteState.SUBMITTED:
                continue
            reviewer = users[spec.reviewer]
            if spec.state in (NoteState.RETURNED, NoteState.RESUBMITTED):
                note_return(note=note, by=reviewer, comment=spec.review_comment)
                if spec.state == NoteState.RETURNED:
                    continue
                note_update(note=note, by=author, body=spec.revised_body, today=self.today)
                note_submit(note=note, by=author, today=self.today)
                continue
            note_approve(note=note, by=reviewer)

    # --- an analysis document, confirmed against two objectives (issue #9)

    def _analysis(self, strategy: Strategy, nodes: dict, users: dict) -> None:
        title = "The joint statement after the leaders' meeting in Beijing"
        if strategy.analyses.filter(title=title).exists():
            return
        analyst = users["demo-analyst"]
        document = analysis_create(
            strategy=strategy,
            by=analyst,
            title=title,
            author="Political section",
            document_date=self.today - timedelta(days=3),
            text=ANALYSIS.read_text(encoding="utf-8"),
        )
        scores = {s.node.pk: s.score for s in suggestions(strategy=strategy, text=document.text)}
        linked = [nodes[_kind_code(ref)] for ref in ("2.1", "2.2")]
        analysis_link(document=document, nodes=linked, by=analyst, scores=scores)
        self._count("analyses")

    # --- the other mission

    def _elsewhere(self, outsider) -> None:
        mission = self._mission("Mission Elsewhere", "Elsewhere", "elsewhere")
        membership_set(mission=mission, user=outsider, role=Role.MANAGER, by=None)
        title = "Integrated Country Strategy — Elsewhere"
        strategy = mission.strategies.filter(title=title).first()
        if strategy is None:
            fy = fiscal_year(self.today)
            strategy = strategy_create(
                mission=mission,
                title=title,
                period_start_fy=fy - 1,
                period_end_fy=fy + 2,
                status=Strategy.Status.APPROVED,
                by=None,
            )
            self._count("strategies")
        goal = strategy.nodes.filter(kind=NodeKind.MISSION_GOAL, code="1").first()
        if goal is None:
            goal = node_create(
                strategy=strategy,
                kind=NodeKind.MISSION_GOAL,
                code="1",
                title="Expand two-way trade and investment with Elsewhere.",
                by=None,
            )
            self._count("nodes")
        if not strategy.nodes.filter(kind=NodeKind.MISSION_OBJECTIVE, code="1.1").exists():
            node_create(
                strategy=strategy,
                kind=NodeKind.MISSION_OBJECTIVE,
                code="1.1",
                parent=goal,
                title="Elsewhere lowers tariffs on U.S. machinery and medical equipment.",
                owner=outsider,
                by=None,
            )
            self._count("nodes")

    # --- report subscriptions

    def _subscriptions(self, strategy: Strategy, users: dict) -> None:
        """The manager reads the weekly report, the viewer the monthly one, and the front
        office (an outside address) the quarterly one."""
        manager = users["demo-manager"]
        for user, cadence, email in [
            (manager, Cadence.WEEKLY, ""),
            (users["demo-viewer"], Cadence.MONTHLY, ""),
            (None, Cadence.QUARTERLY, "front-office@example.org"),
        ]:
            subscription_create(
                strategy=strategy,
                cadence=cadence,
                by=manager if email else user,
                email=email,
            )
            self._count("report subscriptions")

    # --- output

    def _print_credentials(self) -> None:
        out = self.stdout
        out.write("")
        out.write(f"Demo users (password for all: {PASSWORD})")
        out.write(f"  {'username':<15} role")
        for username, _first, _last, role in USERS:
            if username == "demo-admin":
                what = "admin of Mission China, superuser (admin site)"
            elif role:
                what = f"{Role(role).label.lower()} of Mission China"
            else:
                what = "manager of Mission Elsewhere only"
            out.write(f"  {username:<15} {what}")
        out.write("")
