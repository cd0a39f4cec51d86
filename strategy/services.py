"""Every write to missions, strategies, the tree and milestones.

Entry points (pages, API, commands, tasks) call these functions and nothing else writes
these models. Each is keyword-only, atomic, checks the caller's role, validates, and
leaves exactly one history row per changed object with `by` as its author. `by=None` is
a system action (a management command run by an operator).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from strategy.concurrency import apply_update, locked
from strategy.ics.parser import parse_ics
from strategy.ics.types import ParsedDocument, ParsedItem
from strategy.models import (
    PARENT_KIND,
    ApiToken,
    Membership,
    Milestone,
    Mission,
    Node,
    NodeKind,
    Role,
    Strategy,
    code_sort_key,
)
from strategy.selectors import require_member, require_role

User = AbstractBaseUser

NODE_TEXT_FIELDS = ("title", "description", "justification", "risks")


def _save(instance: Model, *, by: User | None, **kwargs: Any) -> None:
    """Save with `by` recorded as the history author (outside a request too)."""
    instance._history_user = by
    instance.save(**kwargs)


def _clean(instance: Model, exclude: list[str] | None = None) -> None:
    """Field validation (lengths, choices, blanks); constraints are left to the database."""
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def check_flags(values: dict[str, Any], names: tuple[str, ...]) -> None:
    """Only True or False for the yes/no fields among `values`: anything else ("false", 1,
    None) is refused with a field-level message instead of being coerced by the model."""
    for name in names:
        if name in values and not isinstance(values[name], bool):
            raise ValidationError({name: "Choose true or false."})


# --- Missions and members --------------------------------------------------------------


@transaction.atomic
def mission_create(*, name: str, country: str = "", slug: str = "", by: User | None) -> Mission:
    if by is not None and not by.is_superuser:
        raise PermissionDenied("Only a superuser may create missions.")
    mission = Mission(name=name.strip(), country=country.strip(), slug=slug or slugify(name)[:100])
    _clean(mission)
    if Mission.objects.filter(slug=mission.slug).exists():
        raise ValidationError({"slug": f"A mission with the slug “{mission.slug}” already exists."})
    _save(mission, by=by)
    return mission


@transaction.atomic
def membership_set(*, mission: Mission, user: User, role: str, by: User | None) -> Membership:
    """Give `user` a role in `mission` (or change it). Admins of the mission only."""
    require_role(by, mission.id, Role.ADMIN, "manage members")
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role “{role}”."})
    membership = Membership.objects.filter(mission=mission, user=user).first()
    if membership is None:
        membership = Membership(mission=mission, user=user, role=role)
    elif membership.role == role:
        return membership
    membership.role = role
    _save(membership, by=by)
    if hasattr(user, "_mission_roles"):
        del user._mission_roles
    return membership


@transaction.atomic
def membership_remove(*, mission: Mission, user: User, by: User | None) -> None:
    require_role(by, mission.id, Role.ADMIN, "manage members")
    for membership in Membership.objects.filter(mission=mission, user=user):
        membership._history_user = by
        membership.delete()


# --- Strategies ------------------------------------------------------------------------

# Sensitive narrative is left out of the public-release version of the document. The
# flags are the app's, not the document's: an ICS import never names them, so
# re-importing a document never resets them (see `_import_into` and `_sync_tree`).
STRATEGY_FLAGS = ("com_priorities_sensitive",)
STRATEGY_FIELDS = (
    "title",
    "kind",
    "period_start_fy",
    "period_end_fy",
    "approved_on",
    "reviewed_on",
    "status",
    "com_priorities",
    *STRATEGY_FLAGS,
    "freshness_days",
    "rollup",
)


def _check_strategy(values: dict[str, Any]) -> None:
    """What the database's constraints would refuse, as field-level messages."""
    check_flags(values, STRATEGY_FLAGS)
    start, end = values.get("period_start_fy"), values.get("period_end_fy")
    if isinstance(start, int) and isinstance(end, int) and end < start:
        raise ValidationError({"period_end_fy": "The period cannot end before it starts."})
    days = values.get("freshness_days")
    if isinstance(days, int) and not isinstance(days, bool) and days < 1:
        raise ValidationError({"freshness_days": "A cadence is at least one day."})


@transaction.atomic
def strategy_create(*, mission: Mission, title: str, by: User | None, **fields: Any) -> Strategy:
    require_role(by, mission.id, Role.MANAGER, "create strategies")
    unknown = set(fields) - set(STRATEGY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown strategy fields: {sorted(unknown)}")
    _check_strategy(fields)
    strategy = Strategy(mission=mission, title=title, **fields)
    _clean(strategy, exclude=["mission"])
    _save(strategy, by=by)
    return strategy


@transaction.atomic
def strategy_update(
    *, strategy: Strategy, by: User | None, expected_version: int | None = None, **fields: Any
) -> Strategy:
    require_role(by, strategy.mission_id, Role.MANAGER, "edit strategies")
    unknown = set(fields) - set(STRATEGY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown strategy fields: {sorted(unknown)}")
    _check_strategy(
        {
            "period_start_fy": strategy.period_start_fy,
            "period_end_fy": strategy.period_end_fy,
            **fields,
        }
    )
    apply_update(
        strategy, fields=fields, by=by, expected_version=expected_version, clean_exclude=["mission"]
    )
    return strategy


# --- The tree --------------------------------------------------------------------------

# Which narrative fields are left out of the public-release document (see STRATEGY_FLAGS).
NODE_FLAGS = ("description_sensitive", "justification_sensitive", "risks_sensitive")


def _validate_node_position(
    *, strategy: Strategy, kind: str, code: str, parent: Node | None
) -> None:
    if kind not in NodeKind.values:
        raise ValidationError({"kind": f"Unknown kind “{kind}”."})
    if not Node.code_is_valid(kind, code):
        raise ValidationError(
            {"code": f"“{code}” is not a valid code for a {NodeKind(kind).label.lower()}."}
        )
    expected_parent = PARENT_KIND[kind]
    if expected_parent is None:
        if parent is not None:
            raise ValidationError({"parent": f"A {NodeKind(kind).label.lower()} has no parent."})
        return
    if parent is None:
        raise ValidationError(
            {
                "parent": f"A {NodeKind(kind).label.lower()} needs a {NodeKind(expected_parent).label.lower()} as parent."
            }
        )
    if parent.strategy_id != strategy.id:
        raise ValidationError({"parent": "The parent belongs to another strategy."})
    if parent.kind != expected_parent:
        raise ValidationError(
            {
                "parent": f"A {NodeKind(kind).label.lower()} must sit under a {NodeKind(expected_parent).label.lower()}."
            }
        )
    if not code.startswith(parent.code + "."):
        raise ValidationError(
            {"code": f"Code “{code}” must start with its parent's code “{parent.code}.”."}
        )


@transaction.atomic
def node_create(
    *,
    strategy: Strategy,
    kind: str,
    code: str,
    title: str,
    parent: Node | None = None,
    description: str = "",
    justification: str = "",
    risks: str = "",
    description_sensitive: bool = False,
    justification_sensitive: bool = False,
    risks_sensitive: bool = False,
    linkages: list[str] | None = None,
    owner: User | None = None,
    by: User | None,
) -> Node:
    require_role(by, strategy.mission_id, Role.MANAGER, "edit the strategy tree")
    require_member(owner, strategy.mission_id)
    flags = {
        "description_sensitive": description_sensitive,
        "justification_sensitive": justification_sensitive,
        "risks_sensitive": risks_sensitive,
    }
    check_flags(flags, NODE_FLAGS)
    code = code.strip()
    _validate_node_position(strategy=strategy, kind=kind, code=code, parent=parent)
    node = Node(
        strategy=strategy,
        parent=parent,
        parent_kind=parent.kind if parent else "",
        kind=kind,
        code=code,
        sort_key=code_sort_key(kind, code),
        title=title.strip(),
        description=description,
        justification=justification,
        risks=risks,
        **flags,
        linkages=_clean_linkages(linkages or []),
        owner=owner,
    )
    _clean(node, exclude=["strategy", "parent", "owner"])
    try:
        with transaction.atomic():
            _save(node, by=by)
    except IntegrityError as exc:
        raise ValidationError(
            {"code": f"{NodeKind(kind).label} {code} already exists in this strategy."}
        ) from exc
    return node


NODE_EDITABLE_FIELDS = (
    "title",
    "description",
    "justification",
    "risks",
    *NODE_FLAGS,
    "linkages",
    "owner",
)


@transaction.atomic
def node_update(
    *, node: Node, by: User | None, expected_version: int | None = None, **fields: Any
) -> Node:
    """Change a node's text (and which of it is sensitive), linkages or owner. Kind, code
    and parent are fixed once made."""
    require_role(by, node.strategy.mission_id, Role.MANAGER, "edit the strategy tree")
    unknown = set(fields) - set(NODE_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    check_flags(fields, NODE_FLAGS)
    if "linkages" in fields:
        fields["linkages"] = _clean_linkages(fields["linkages"])
    if fields.get("owner") is not None:
        require_member(fields["owner"], node.strategy.mission_id)
    for name in ("title",):
        if name in fields and isinstance(fields[name], str):
            fields[name] = fields[name].strip()
    apply_update(
        node,
        fields=fields,
        by=by,
        expected_version=expected_version,
        clean_exclude=["strategy", "parent", "owner"],
    )
    return node


@transaction.atomic
def node_delete(*, node: Node, by: User | None, expected_version: int | None = None) -> None:
    """Delete a node that carries nothing: no children, indicators, notes or milestones."""
    require_role(by, node.strategy.mission_id, Role.MANAGER, "edit the strategy tree")
    fresh = locked(node, expected_version)
    if fresh.children.exists():
        raise ValidationError(f"{node.label} has children; delete or move them first.")
    if fresh.milestones.exists():
        raise ValidationError(f"{node.label} has milestones; delete them first.")
    fresh._history_user = by
    try:
        with transaction.atomic():
            fresh.delete()
    except ProtectedError as exc:
        raise ValidationError(
            f"{node.label} carries indicators or progress notes and cannot be deleted."
        ) from exc


def _clean_linkages(linkages: Any) -> list[str]:
    if not isinstance(linkages, list | tuple):
        raise ValidationError({"linkages": "Linkages must be a list of short tags."})
    out: list[str] = []
    for tag in linkages:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
            raise ValidationError({"linkages": "Each linkage must be a tag of 1–100 characters."})
        if tag.strip() not in out:
            out.append(tag.strip())
    return out


# --- Milestones ------------------------------------------------------------------------


@transaction.atomic
def milestone_create(
    *,
    node: Node,
    title: str,
    due_on,
    completed_on=None,
    owner: User | None = None,
    by: User | None,
) -> Milestone:
    require_role(by, node.strategy.mission_id, Role.MANAGER, "edit milestones")
    require_member(owner, node.strategy.mission_id)
    milestone = Milestone(
        node=node, title=title.strip(), due_on=due_on, completed_on=completed_on, owner=owner
    )
    _clean(milestone, exclude=["node", "owner"])
    _save(milestone, by=by)
    return milestone


@transaction.atomic
def milestone_update(
    *, milestone: Milestone, by: User | None, expected_version: int | None = None, **fields: Any
) -> Milestone:
    """Edit a milestone; analysts may only mark it completed (or not), managers anything."""
    allowed = {"title", "due_on", "completed_on", "owner"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    minimum = Role.ANALYST if set(fields) <= {"completed_on"} else Role.MANAGER
    require_role(by, milestone.node.strategy.mission_id, minimum, "edit milestones")
    if fields.get("owner") is not None:
        require_member(fields["owner"], milestone.node.strategy.mission_id)
    apply_update(
        milestone,
        fields=fields,
        by=by,
        expected_version=expected_version,
        clean_exclude=["node", "owner"],
    )
    return milestone


@transaction.atomic
def milestone_delete(
    *, milestone: Milestone, by: User | None, expected_version: int | None = None
) -> None:
    require_role(by, milestone.node.strategy.mission_id, Role.MANAGER, "edit milestones")
    fresh = locked(milestone, expected_version)
    fresh._history_user = by
    fresh.delete()


# --- Missions (editing) ----------------------------------------------------------------


@transaction.atomic
def mission_update(
    *, mission: Mission, by: User | None, expected_version: int | None = None, **fields: Any
) -> Mission:
    """Rename a mission or change its country; its admins may."""
    require_role(by, mission.id, Role.ADMIN, "edit the mission")
    unknown = set(fields) - {"name", "country"}
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    apply_update(mission, fields=fields, by=by, expected_version=expected_version)
    return mission


# --- API tokens ------------------------------------------------------------------------

TOKEN_PREFIX = "st_"  # noqa: S105 - a public marker, not a secret
TOKEN_MAX_EXPIRY_DAYS = 365  # the token page and `create_api_token --expires-days` both allow 1–365


def api_token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns (token, key). The key is never stored or shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Name the token (1–100 characters) after what uses it."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if ApiToken.objects.filter(user=user, name=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": f"You already have an active token called “{name}”."})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=key[:11],
                digest=api_token_digest(key),
                expires_at=expires_at,
            )
    except IntegrityError as exc:  # the same name created a moment ago by another request
        raise ValidationError(
            {"name": f"You already have an active token called “{name}”."}
        ) from exc
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token; its owner or a superuser may. Revoking twice changes nothing."""
    if by.pk != token.user_id and not by.is_superuser:
        raise PermissionDenied("Only the token's owner may revoke it.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- ICS import ------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do)."""

    document: ParsedDocument
    dry_run: bool
    mission: Mission | None = None
    strategy: Strategy | None = None
    mission_created: bool = False
    strategy_created: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # gone from the document but carrying data

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.mission_created
            or self.strategy_created
            or self.created
            or self.updated
            or self.removed
        )

    def to_dict(self) -> dict[str, Any]:
        data = self.document.to_dict()
        data.update(
            {
                "dry_run": self.dry_run,
                "mission": {
                    "id": self.mission.id,
                    "slug": self.mission.slug,
                    "name": self.mission.name,
                }
                if self.mission and not self.dry_run
                else None,
                "strategy_id": self.strategy.id if self.strategy and not self.dry_run else None,
                "mission_created": self.mission_created,
                "strategy_created": self.strategy_created,
                "changes": {
                    "created": self.created,
                    "updated": self.updated,
                    "unchanged": self.unchanged,
                    "removed": self.removed,
                    "kept_with_data": self.kept,
                },
            }
        )
        return data


class _DryRunRollback(Exception):
    """Raised inside the import transaction to undo a dry run."""


def strategy_import(
    *,
    document: str | ParsedDocument,
    mission: Mission | None = None,
    mission_slug: str = "",
    strategy: Strategy | None = None,
    dry_run: bool = False,
    by: User | None,
) -> ImportResult:
    """Import an ICS document: create or update the mission's strategy and its tree.

    Items are matched by (kind, code): re-importing the same document changes nothing,
    and a revised document updates nodes in place, so notes and indicators stay on every
    code that survived. Nodes the document no longer has are deleted when they carry
    nothing and kept (and listed) when they carry indicators, notes or milestones.
    Without `mission` (or `strategy`), the mission is found by `mission_slug` (or a slug
    of the document's mission name) and created when missing (superusers and commands).
    A dry run performs the same work inside a transaction that is then rolled back.
    """
    parsed = parse_ics(document) if isinstance(document, str) else document
    if not parsed.roots:
        reason = parsed.warnings[0] if parsed.warnings else "No mission goals or objectives found."
        raise ValidationError(f"Nothing to import: {reason}")
    result = ImportResult(document=parsed, dry_run=dry_run)
    try:
        with transaction.atomic():
            _import_into(
                result, mission=mission, mission_slug=mission_slug, strategy=strategy, by=by
            )
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return result


def _import_into(
    result: ImportResult,
    *,
    mission: Mission | None,
    mission_slug: str,
    strategy: Strategy | None,
    by: User | None,
) -> None:
    doc = result.document
    if strategy is not None:
        mission = strategy.mission
    if mission is None:
        name = doc.mission_name or mission_slug or "Unnamed mission"
        slug = mission_slug or slugify(name)[:100] or "mission"
        mission = Mission.objects.filter(slug=slug).first()
        if mission is None:
            mission = mission_create(name=name, country=doc.mission_name, slug=slug, by=by)
            result.mission_created = True
    require_role(by, mission.id, Role.MANAGER, "import strategies")
    result.mission = mission

    if strategy is None:
        strategy = _strategy_for_document(mission, doc)
    title = doc.title or f"{Strategy.Kind(doc.strategy_kind).label} — {mission.name}"
    fields = {
        "title": title[:300],
        "kind": doc.strategy_kind,
        "period_start_fy": doc.period_start_fy,
        "period_end_fy": doc.period_end_fy,
        "approved_on": doc.approved_on,
        "reviewed_on": doc.reviewed_on,
        "com_priorities": doc.com_priorities,
    }
    if strategy is None:
        strategy = strategy_create(mission=mission, by=by, **fields)
        result.strategy_created = True
    else:
        # What a document leaves out (dates, period, priorities) does not erase what the
        # strategy already has, and it never names the sensitive flag (STRATEGY_FLAGS).
        fields = {k: v for k, v in fields.items() if v not in (None, "")}
        strategy_update(strategy=strategy, by=by, **fields)
    result.strategy = strategy
    _sync_tree(result, strategy=strategy, by=by)


def _strategy_for_document(mission: Mission, doc: ParsedDocument) -> Strategy | None:
    """The strategy a document updates: same kind, not archived, same period if it has one."""
    candidates = mission.strategies.filter(kind=doc.strategy_kind).exclude(
        status=Strategy.Status.ARCHIVED
    )
    if doc.period_start_fy:
        same_period = candidates.filter(period_start_fy=doc.period_start_fy).first()
        if same_period:
            return same_period
        if candidates.filter(period_start_fy__isnull=False).exists():
            return None  # a new period is a new strategy
    return candidates.order_by("-created_at").first()


def _sync_tree(result: ImportResult, *, strategy: Strategy, by: User | None) -> None:
    existing = {(n.kind, n.code): n for n in strategy.nodes.all()}
    seen: set[tuple[str, str]] = set()
    by_key: dict[tuple[str, str], Node] = {}

    def upsert(item: ParsedItem, parent: Node | None) -> None:
        key = (item.kind, item.code)
        seen.add(key)
        node = existing.get(key)
        # The sensitive flags are not in `values`: they are set in the app and survive
        # every re-import. Linkage tags people added in the app are kept too: the
        # document only adds tags.
        linkages = list(node.linkages) if node is not None else []
        linkages += [tag for tag in item.linkages if tag not in linkages]
        values = {
            "title": item.title,
            "description": item.description,
            "justification": item.justification,
            "risks": item.risks,
            "linkages": linkages,
        }
        if node is None:
            node = node_create(
                strategy=strategy, kind=item.kind, code=item.code, parent=parent, by=by, **values
            )
            result.created.append(node.label)
        elif any(getattr(node, name) != value for name, value in values.items()):
            node_update(node=node, by=by, **values)
            result.updated.append(node.label)
        else:
            result.unchanged += 1
        by_key[key] = node
        for child in item.children:
            upsert(child, node)

    for root in doc_roots(result.document):
        upsert(root, None)

    # Leaves first, so a parent is only considered once its children are settled.
    gone = sorted(
        (node for key, node in existing.items() if key not in seen),
        key=lambda n: n.code.count("."),
        reverse=True,
    )
    for node in gone:
        if node.children.exists() or node.milestones.exists():
            result.kept.append(node.label)
            continue
        node._history_user = by
        try:
            with transaction.atomic():
                node.delete()
            result.removed.append(node.label)
        except ProtectedError:
            result.kept.append(node.label)


def doc_roots(doc: ParsedDocument) -> list[ParsedItem]:
    """Roots in the order the tree is built: goals, then management objectives."""
    return sorted(doc.roots, key=lambda item: code_sort_key(item.kind, item.code))
