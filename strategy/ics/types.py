"""The parsed shape of an ICS document, independent of the database."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any


@dataclass
class ParsedItem:
    """One tree item as the document states it, merged across the document's sections."""

    kind: str  # a strategy.models.NodeKind value
    code: str  # "1", "1.1", "3.1.1"
    title: str
    description: str = ""  # "Description(s) and Linkages"
    justification: str = ""
    risks: str = ""
    linkages: list[str] = field(default_factory=list)  # e.g. ["NSS Pillar 2", "JSP Goal 2"]
    parent_code: str | None = None  # code of the parent item (same family), None for roots
    sources: list[str] = field(default_factory=list)  # "framework", "detail": where it appeared
    children: list[ParsedItem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["children"] = [child.to_dict() for child in self.children]
        return data


@dataclass
class Discrepancy:
    """Something the document states inconsistently; reported, never silently resolved."""

    code: str
    kind: str  # the item's NodeKind value ("" for document-level problems)
    problem: (
        str  # "title_mismatch", "framework_only", "detail_only", "missing_parent", "duplicate", ...
    )
    framework_text: str = ""  # what the Mission Strategic Framework says (or first occurrence)
    detail_text: str = ""  # what the detailed section says (or later occurrence)
    message: str = ""  # one human sentence: what differs and which text was kept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ParsedDocument:
    """Everything `parse_ics` read from one document."""

    mission_name: str = ""  # e.g. "China" — the country or post the strategy is for
    strategy_kind: str = "ics"  # a strategy.models.Strategy.Kind value
    title: str = ""  # e.g. "Integrated Country Strategy — China"
    period_start_fy: int | None = None
    period_end_fy: int | None = None
    approved_on: date | None = None
    reviewed_on: date | None = None
    com_priorities: str = ""
    roots: list[ParsedItem] = field(default_factory=list)  # goals first, then management objectives
    discrepancies: list[Discrepancy] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. "no Mission Goals found"

    def items(self) -> list[ParsedItem]:
        """Every item, depth first in document order."""
        out: list[ParsedItem] = []

        def walk(items: list[ParsedItem]) -> None:
            for item in items:
                out.append(item)
                walk(item.children)

        walk(self.roots)
        return out

    def counts(self) -> dict[str, int]:
        counts = {
            "mission_goal": 0,
            "mission_objective": 0,
            "sub_objective": 0,
            "management_objective": 0,
            "management_sub_objective": 0,
        }
        for item in self.items():
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "mission_name": self.mission_name,
            "strategy_kind": self.strategy_kind,
            "title": self.title,
            "period_start_fy": self.period_start_fy,
            "period_end_fy": self.period_end_fy,
            "approved_on": self.approved_on.isoformat() if self.approved_on else None,
            "reviewed_on": self.reviewed_on.isoformat() if self.reviewed_on else None,
            "counts": self.counts(),
            "com_priorities": self.com_priorities,
            "tree": [item.to_dict() for item in self.roots],
            "discrepancies": [d.to_dict() for d in self.discrepancies],
            "warnings": list(self.warnings),
        }
