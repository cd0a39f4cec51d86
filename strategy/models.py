"""Missions, their strategies and the strategy tree.

Mission ─< Membership >─ User
Mission ─< Strategy ─< Node (self-referencing tree) ─< Milestone

`tracking` hangs indicators and progress notes off `Node` with plain foreign keys; this
app never imports `tracking`. Every write goes through `strategy.services`.
"""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Mission(models.Model):
    """A post or organisation unit (an embassy with its consulates). Users join it by role."""

    name = models.CharField(max_length=200)
    country = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """Per-mission roles, weakest first: each role may do everything the ones before it may."""

    VIEWER = "viewer", "Viewer"
    ANALYST = "analyst", "Analyst"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Admin"

    @classmethod
    def rank(cls, role: str | None) -> int:
        order = [None, cls.VIEWER, cls.ANALYST, cls.MANAGER, cls.ADMIN]
        return order.index(role) if role in order else 0


class Membership(models.Model):
    """A user's role in one mission. Objects of other missions are invisible to them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    mission = models.ForeignKey(Mission, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["mission", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "mission"], name="membership_one_per_mission"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.mission}"


class Strategy(models.Model):
    """One version of a mission's plan (an ICS covers four fiscal years)."""

    class Kind(models.TextChoices):
        ICS = "ics", "Integrated Country Strategy"
        FBS = "fbs", "Functional Bureau Strategy"
        JRS = "jrs", "Joint Regional Strategy"
        OTHER = "other", "Other strategy"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        ARCHIVED = "archived", "Archived"

    class Rollup(models.TextChoices):
        WORST = "worst", "Worst of the node and its children"
        OWN_FIRST = "own_first", "A node's own assessment first, else worst of its children"

    mission = models.ForeignKey(Mission, on_delete=models.PROTECT, related_name="strategies")
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ICS)
    period_start_fy = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="First fiscal year covered, e.g. 2018."
    )
    period_end_fy = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Last fiscal year covered, e.g. 2022."
    )
    approved_on = models.DateField(null=True, blank=True)
    reviewed_on = models.DateField(
        null=True, blank=True, help_text="Date the document was last reviewed and updated."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    com_priorities = models.TextField(
        "Chief of Mission priorities", blank=True, help_text="Narrative, Markdown."
    )
    com_priorities_sensitive = models.BooleanField(
        "Chief of Mission priorities are sensitive",
        default=False,
        help_text="Left out of the public-release version of the document.",
    )
    freshness_days = models.PositiveSmallIntegerField(
        default=90,
        help_text="A node is stale when it has no approved note dated within this many days.",
    )
    rollup = models.CharField(max_length=10, choices=Rollup.choices, default=Rollup.WORST)
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["mission", "-period_start_fy", "title"]
        verbose_name_plural = "strategies"
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end_fy__isnull=True)
                | Q(period_start_fy__isnull=True)
                | Q(period_end_fy__gte=F("period_start_fy")),
                name="strategy_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(freshness_days__gte=1), name="strategy_freshness_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.period_label})" if self.period_label else self.title

    @property
    def period_label(self) -> str:
        if self.period_start_fy and self.period_end_fy:
            return f"FY{self.period_start_fy}–FY{self.period_end_fy}"
        return ""


class NodeKind(models.TextChoices):
    MISSION_GOAL = "mission_goal", "Mission Goal"
    MISSION_OBJECTIVE = "mission_objective", "Mission Objective"
    SUB_OBJECTIVE = "sub_objective", "Sub-Objective"
    MANAGEMENT_OBJECTIVE = "management_objective", "Management Objective"
    MANAGEMENT_SUB_OBJECTIVE = "management_sub_objective", "Management Sub-Objective"


# kind -> the kind its parent must have (None: a root). The database enforces this table
# through the (kind, parent_kind) check constraint below plus a composite foreign key
# (parent_id, parent_kind, strategy_id) -> (id, kind, strategy_id) added in migration 0002,
# so parent_kind can never lie about the parent and a parent is always in the same strategy.
PARENT_KIND: dict[str, str | None] = {
    NodeKind.MISSION_GOAL: None,
    NodeKind.MISSION_OBJECTIVE: NodeKind.MISSION_GOAL,
    NodeKind.SUB_OBJECTIVE: NodeKind.MISSION_OBJECTIVE,
    NodeKind.MANAGEMENT_OBJECTIVE: None,
    NodeKind.MANAGEMENT_SUB_OBJECTIVE: NodeKind.MANAGEMENT_OBJECTIVE,
}

# How many dot-separated numbers a kind's code has ("1", "1.1", "3.1.1").
CODE_DEPTH: dict[str, int] = {
    NodeKind.MISSION_GOAL: 1,
    NodeKind.MISSION_OBJECTIVE: 2,
    NodeKind.SUB_OBJECTIVE: 3,
    NodeKind.MANAGEMENT_OBJECTIVE: 1,
    NodeKind.MANAGEMENT_SUB_OBJECTIVE: 2,
}

_CODE_RE = re.compile(r"^\d{1,4}(\.\d{1,4}){0,2}$")


def code_sort_key(kind: str, code: str) -> str:
    """A string that sorts nodes the way the document does: goals before management
    objectives, then numerically by code ("2" < "10", "1.2" < "1.10")."""
    family = "M" if kind.startswith("management") else "G"
    parts = [p for p in code.split(".") if p.isdigit()]
    return family + ".".join(f"{int(p):04d}" for p in parts)


def _valid_parent_kinds() -> Q:
    condition = Q()
    for kind, parent_kind in PARENT_KIND.items():
        if parent_kind is None:
            condition |= Q(kind=kind, parent__isnull=True, parent_kind="")
        else:
            condition |= Q(kind=kind, parent__isnull=False, parent_kind=parent_kind)
    return condition


class Node(models.Model):
    """One item of the strategy tree: a mission goal, objective, sub-objective, management
    objective or management sub-objective. One model for every level, so indicators, notes
    and milestones attach to any level with a plain foreign key."""

    strategy = models.ForeignKey(Strategy, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    kind = models.CharField(max_length=30, choices=NodeKind.choices)
    # Copy of parent.kind, kept truthful by the composite foreign key (see PARENT_KIND).
    parent_kind = models.CharField(max_length=30, blank=True, default="", editable=False)
    code = models.CharField(
        max_length=20, help_text='As the document numbers it: "1", "1.1", "3.1.1".'
    )
    sort_key = models.CharField(max_length=40, editable=False, db_index=False)
    title = models.TextField()
    description = models.TextField(
        "description and linkages", blank=True, help_text="Markdown. Mostly used on goals."
    )
    justification = models.TextField(blank=True, help_text="Markdown. Mostly used on objectives.")
    risks = models.TextField(blank=True, help_text="Markdown.")
    # Sensitive narrative is left out of the public-release version of the document.
    description_sensitive = models.BooleanField("description is sensitive", default=False)
    justification_sensitive = models.BooleanField("justification is sensitive", default=False)
    risks_sensitive = models.BooleanField("risks are sensitive", default=False)
    linkages = models.JSONField(
        default=list,
        blank=True,
        help_text='Tags linking to higher frameworks, e.g. ["NSS Pillar 2", "JSP Goal 2"].',
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_nodes",
    )
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["strategy", "sort_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "kind", "code"], name="node_code_unique_per_strategy_kind"
            ),
            # Target of the composite foreign key from (parent, parent_kind, strategy).
            models.UniqueConstraint(
                fields=["id", "kind", "strategy"], name="node_id_kind_strategy"
            ),
            models.CheckConstraint(condition=Q(kind__in=NodeKind.values), name="node_kind_valid"),
            models.CheckConstraint(condition=_valid_parent_kinds(), name="node_parent_kind_valid"),
            models.CheckConstraint(condition=~Q(code=""), name="node_code_not_empty"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="node_not_own_parent"),
        ]
        indexes = [
            # strategy_tree(): WHERE strategy_id = %s ORDER BY sort_key; the API node list
            # orders by (strategy, sort_key, id) and picks a page's ids first, so with id in
            # the key a deep page skips its offset in an index-only scan (issue #6, c-deep).
            models.Index(fields=["strategy", "sort_key", "id"], name="node_strategy_sort_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}: {self.title[:60]}"

    @property
    def label(self) -> str:
        """ "Mission Objective 1.1" — how the document names it."""
        return f"{self.get_kind_display()} {self.code}"

    @property
    def is_management(self) -> bool:
        return self.kind in (NodeKind.MANAGEMENT_OBJECTIVE, NodeKind.MANAGEMENT_SUB_OBJECTIVE)

    @staticmethod
    def code_is_valid(kind: str, code: str) -> bool:
        return bool(_CODE_RE.match(code)) and code.count(".") + 1 == CODE_DEPTH.get(kind, 0)


class Milestone(models.Model):
    """A dated step in a node's timetable; management objectives use these."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=500)
    due_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_milestones",
    )
    # Bumped by every write through the services: the API's ETag and the guard of
    # conditional updates (If-Match).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["node", "due_on", "id"]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_on:%d %b %Y})"

    def is_overdue_on(self, today: date) -> bool:
        return self.completed_on is None and self.due_on < today

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_on(timezone.localdate())


class ApiToken(models.Model):
    """A named credential a tool sends as `Authorization: Token <key>` (or `Bearer <key>`).

    Only the SHA-256 digest of the key is stored; the key itself is shown once, when the
    token is created (`strategy.services.api_token_create`). A user may hold several,
    each revocable and optionally expiring. The token acts with its user's roles.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text='What uses it, e.g. "indicator pipeline".')
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to recognise it."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="apitoken_active_name_unique_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active_at(self, moment) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > moment)
