"""Spreadsheet cells that cannot turn into formulas: the one rule every exporter (the
report XLSX, the CSV of indicator values) uses, and its inverse for files coming back.

Spreadsheet programs run a cell that starts with = + - @ (or a tab or carriage return
before one) as a formula, even when it came from a CSV or a text cell someone edits:
"CSV/formula injection". `neutralise` puts an apostrophe in front of such text (OWASP's
advice): the cell stays a string, with the apostrophe visible, and nothing evaluates it.
Numbers are written as numbers by the exporters and never pass through here, so a
negative value stays a negative value.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise(text: str) -> str:
    """User text for a spreadsheet cell: a leading formula character gets a ' in front."""
    return QUOTE + text if text.startswith(FORMULA_TRIGGERS) else text


def restore(text: str) -> str:
    """The inverse, for a file we exported coming back: "'=x" → "=x". Text that merely
    starts with an apostrophe (and no formula character after it) is left as it is."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text
