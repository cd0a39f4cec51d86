"""Helpers for the ICS parser tests: the invented fixture documents and lookups."""

from pathlib import Path

from strategy.ics.parser import parse_ics
from strategy.ics.types import ParsedDocument, ParsedItem

FIXTURES = Path(__file__).parent / "fixtures"
SEED = Path(__file__).resolve().parents[4] / "shared" / "seeds" / "ics-china.txt"


def parse_fixture(name: str) -> ParsedDocument:
    return parse_ics((FIXTURES / name).read_text(encoding="utf-8"))


def item(doc: ParsedDocument, kind: str, code: str) -> ParsedItem:
    """The item of that kind and code; fails the test when it is missing."""
    found = [i for i in doc.items() if (i.kind, i.code) == (kind, code)]
    assert len(found) == 1, f"{kind} {code}: {len(found)} found"
    return found[0]


def problems(doc: ParsedDocument) -> set[tuple[str, str]]:
    return {(d.code, d.problem) for d in doc.discrepancies}


def all_text(doc: ParsedDocument) -> str:
    """Every narrative and title the document yielded, for "never contains" checks."""
    parts = [doc.com_priorities, doc.title, doc.mission_name]
    for i in doc.items():
        parts += [i.title, i.description, i.justification, i.risks]
    return "\n".join(parts)
