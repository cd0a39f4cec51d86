"""Read the text of an Integrated Country Strategy into a `ParsedDocument`.

Callers: `strategy.services.strategy_import` (web upload, API, `manage.py import_ics`) passes
the text `strategy.ics.extract.document_text` decoded. Nothing here touches the database.

The text arrives in many shapes: extracted from a PDF (hard-wrapped lines, page numbers,
classification banners, running headers, paragraphs cut by page breaks), Markdown (headings,
bold markers, escapes) or one paragraph per line from a DOCX. The parser works in passes,
each a small function, so a new layout quirk has one obvious home:

1. `_normalise`       characters: line endings, control characters, odd spaces.
2. `_clean_lines`     each line: Markdown syntax, table pipes, portion marks, bullets; and
                      what the line is (furniture, date, heading, label, text) — once.
3. `_read_metadata`   title, mission, period and dates, before any line is dropped.
4. `_drop_furniture`  banners, page numbers, contents entries, running headers, date lines.
5. `_paragraphs`      lines → paragraphs: unwrap, rejoin paragraphs cut by page breaks.
6. `_Reader`          a small state machine over paragraphs: sections, items, labels.
7. `_merge`           one item per (kind, code), discrepancies between sections, the tree.

`parse_ics` never raises: the worst input gives an empty document with warnings. Also
public: `title_key` (how titles are compared) and `linkage_tags` (narrative → "NSS Pillar 2"),
and for the document writers (`strategy.ics.docx_writer`, `pdf_writer`), which must write
what this parser reads back: `read_line`, `literal` and `line_shape`.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from strategy.ics.types import Discrepancy, ParsedDocument, ParsedItem

logger = logging.getLogger(__name__)

# --- Vocabulary ----------------------------------------------------------------------------

GOAL = "mission_goal"
OBJECTIVE = "mission_objective"
SUB_OBJECTIVE = "sub_objective"
MANAGEMENT_OBJECTIVE = "management_objective"
MANAGEMENT_SUB_OBJECTIVE = "management_sub_objective"

KIND_LABELS = {
    GOAL: "Mission Goal",
    OBJECTIVE: "Mission Objective",
    SUB_OBJECTIVE: "Sub-Objective",
    MANAGEMENT_OBJECTIVE: "Management Objective",
    MANAGEMENT_SUB_OBJECTIVE: "Management Sub-Objective",
}
_PARENT_KIND = {
    OBJECTIVE: GOAL,
    SUB_OBJECTIVE: OBJECTIVE,
    MANAGEMENT_SUB_OBJECTIVE: MANAGEMENT_OBJECTIVE,
}
_STRATEGY_TITLES = {
    "ics": "Integrated Country Strategy",
    "fbs": "Functional Bureau Strategy",
    "jrs": "Joint Regional Strategy",
}
FIELDS = ("description", "justification", "risks")

NO_GOALS_WARNING = "No Mission Goals were found — is this an ICS document?"

_DASH_CHARS = "-‐‑‒–—―−"  # hyphen-minus, hyphen, non-breaking hyphen, figure/en/em dash, bar, minus
_DASHES = "\\" + _DASH_CHARS  # the same, escaped for a regex character class
_QUOTE_FOLD = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`", "'"),
        **dict.fromkeys("“”„‟″", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)


def _first_words(text: str, count: int) -> set[str]:
    """The first words of a line, lower case, without surrounding punctuation: a cheap
    test run on every line before the costly patterns (section, date, banner)."""
    words = text[:60].lower().replace("/", " ").split(None, count)[:count]
    return {word.strip("().:|-–—#") for word in words}


def _fold(text: str) -> str:
    """Lower case, straight quotes, ASCII dashes, single spaces: for comparing, never shown."""
    return " ".join(text.translate(_QUOTE_FOLD).lower().split())


def title_key(title: str) -> str:
    """How two titles are compared: case, spacing, quote and dash style and trailing
    punctuation do not count as a difference."""
    return _fold(title).rstrip(" .;:,")


def _punctuation_free(title: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", title_key(title)).split())


def _code_tuple(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split("."))


def _family(kind: str) -> str:
    return "management" if kind.startswith("management") else "mission"


def _sort_key(kind: str, code: str) -> tuple[int, tuple[int, ...]]:
    """Goals before management objectives, then numerically: "2" < "10", "1.2" < "1.10"."""
    return (0 if _family(kind) == "mission" else 1, _code_tuple(code))


# --- 1. Characters -------------------------------------------------------------------------

_LINE_BREAK_RE = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")  # VT: Word's line break
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_INVISIBLE_RE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff]")  # soft hyphen, zero widths
_ODD_SPACE_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Symbol-font bullets that PDF extraction leaves in the private use area.
_PRIVATE_BULLET_RE = re.compile(r"[\uf0a7\uf0b7\uf076\uf0d8\uf0fc\uf0a8]")
_PRIVATE_RE = re.compile(r"[\ue000-\uf8ff]")


def _normalise(text: str) -> tuple[str, float]:
    """Plain characters and "\\n" line ends; returns the text and the share of characters
    that were unreadable (control characters, replacement marks) for a warning."""
    text = _LINE_BREAK_RE.sub("\n", text)
    unreadable = len(_CONTROL_RE.findall(text)) / max(len(text), 1)
    text = _CONTROL_RE.sub("", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _ODD_SPACE_RE.sub(" ", text)
    text = text.replace("\t", "  ")  # a tab separates table cells: see `_CELL_GAP_RE`
    text = _PRIVATE_BULLET_RE.sub("•", text)
    # Private-use characters are dropped: `_clean_line` borrows that range for escapes.
    text = _PRIVATE_RE.sub("", text)
    return text, unreadable


# --- 2. Lines ------------------------------------------------------------------------------


@dataclass
class _Line:
    text: str
    heading: bool = False  # a Markdown heading or a wholly bold line: stands alone
    shape: str = "text"  # what `_shape` says; computed once, several passes need it


_ITEM_LABEL = (
    r"(?:mission\s+|management\s+)?"
    rf"(?:sub\s?[{_DASHES}]?\s?objective|objective|goal)s?"
    r"\s*(?:#|no\.|number\b)?\s*"
    r"\d{1,4}(?:\.\d{1,4}){0,2}(?![\d.]*\d)"
)
_RULE_RE = re.compile(r"(?:[-*_=+|:]\s*){3,}")  # also pandoc grid-table borders
_MD_HEADING_RE = re.compile(r"#{1,6}(?:\s(.*))?")
_TOC_LINK_RE = re.compile(r"(?:[-*+]\s+|\d+\.\s+)?\[[^\]\n]+\]\(#[^)\n]*\)")
_BLOCKQUOTE_RE = re.compile(r"^(?:>\s?)+")
_MD_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED_RE = re.compile(r"[\ue000-\ue07f]")
# "**Mission Goal 1** Title": a bold marker closing right after the code separates the title.
_BOLD_AFTER_CODE_RE = re.compile(
    rf"^(?P<head>[*_\s]{{0,4}}{_ITEM_LABEL})\s*(?P<mark>\*\*|__)"
    rf"(?!\s*[:.|){_DASHES}])(?=\s*\S)",
    re.IGNORECASE,
)
# "## Mission Goal 1 Title": in a heading, the code alone separates the title.
_HEADING_ITEM_RE = re.compile(rf"^({_ITEM_LABEL})\s+(?=[^\s:.|){_DASHES}])", re.IGNORECASE)
_HTML_TAG_RE = re.compile(
    r"</?(?:br|span|div|p|strong|em|b|i|u|sup|sub|a|font|mark|small|ins|del)\b[^>\n]{0,200}>",
    re.IGNORECASE,
)
_HTML_ENTITIES = {"&nbsp;": " ", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"'}
_HTML_ENTITY_RE = re.compile("|".join(map(re.escape, _HTML_ENTITIES)))
# Brackets are excluded inside the link text so a run of "[" cannot make these quadratic.
_IMAGE_RE = re.compile(r"!\[[^\[\]\n]*\]\([^()\n]*\)")
_LINK_RE = re.compile(r"\[([^\[\]\n]+)\]\([^()\n]*\)")
_ITALIC_STAR_RE = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_ITALIC_UNDERSCORE_RE = re.compile(r"(?<!\w)_(?=[^\s_])([^_\n]*?[^\s_])_(?!\w)")
_PORTION_MARK_RE = re.compile(
    r"^\((?:U|SBU|C|S|TS|CUI|U//FOUO|SBU//NF|SBU//NOFORN|U//SBU)\)\s*", re.IGNORECASE
)
_BULLET_GLYPHS = "•▪◦●‣■□➢►✓"
_BULLET_GLYPH_RE = re.compile(rf"^[{_BULLET_GLYPHS}]\s*")
_SPACES_RE = re.compile(r"\s+")
# Anything `_clean_line` may need to undo: Markdown, HTML, table pipes, portion marks, rules.
_MARKUP_RE = re.compile(r"[#*_>\\\[<&|]|^[(+]|^[-=]\s?[-=]")


def _protect_escapes(text: str) -> str:
    """Markdown escapes (\\$, \\*) become private-use stand-ins so emphasis stripping
    cannot eat them; `_restore_escapes` puts back the bare character."""
    return _MD_ESCAPE_RE.sub(lambda m: chr(0xE000 + ord(m.group(1))), text)


def _restore_escapes(text: str) -> str:
    return _ESCAPED_RE.sub(lambda m: chr(ord(m.group(0)) - 0xE000), text)


def _strip_emphasis(text: str) -> str:
    text = text.replace("**", "").replace("__", "")
    text = _ITALIC_STAR_RE.sub(r"\1", text)
    return _ITALIC_UNDERSCORE_RE.sub(r"\1", text)


def _table_row(text: str) -> str | None:
    """A Markdown table row as one line of text (cells joined), "" for a separator row,
    None when the line is not a table row."""
    if not (text.startswith("|") and text.count("|") >= 2):
        return None
    if re.fullmatch(r"[|:\-\s]+", text):
        return ""
    cells = [cell.strip() for cell in text.strip("|").split("|")]
    cells = [cell for cell in cells if cell]
    if not cells:
        return ""
    if len(cells) > 1 and _is_bare_heading(cells[0].rstrip(":")):
        # | Mission Goal 1 | Title |, | Justification | Text | — the cell boundary separates.
        return f"{cells[0].rstrip(':')}: {' '.join(cells[1:])}"
    return " ".join(cells)


def _is_bare_heading(text: str) -> bool:
    """An item label and code, or a narrative label, with nothing after it."""
    heading = _item_heading(text)
    if heading is not None:
        return heading.bare
    label = _narrative_label(text)
    return label is not None and not label.rest


def _strip_markup(text: str) -> tuple[str, bool]:
    """Markdown and HTML syntax off one line; True when the line is a heading (a "#"
    heading or a wholly bold line). Each step runs only when its trigger is present."""
    heading = False
    match = _MD_HEADING_RE.fullmatch(text)
    if match:  # "## Title ##": closing hashes are optional in Markdown
        heading, text = True, (match.group(1) or "").rstrip("#").strip()
    if text.startswith(">"):
        text = _BLOCKQUOTE_RE.sub("", text)
    if "\\" in text:
        text = _protect_escapes(text)
    if "*" in text or "_" in text:
        text = _BOLD_AFTER_CODE_RE.sub(r"\g<head>:\g<mark>", text)
        heading = heading or (len(text) <= 300 and text[:2] == text[-2:] == "**")
    if "<" in text:
        text = _HTML_TAG_RE.sub(" ", text)
    if "&" in text:
        text = _HTML_ENTITY_RE.sub(lambda m: _HTML_ENTITIES[m.group(0)], text)
    if "](" in text:
        text = _LINK_RE.sub(r"\1", _IMAGE_RE.sub("", text))
    if "*" in text or "_" in text:
        text = _strip_emphasis(text)
    text = text.strip()
    if text.startswith("|"):
        row = _table_row(text)
        text = text if row is None else row
    if text.startswith("("):
        text = _PORTION_MARK_RE.sub("", text)
    if heading:
        text = _HEADING_ITEM_RE.sub(r"\1: ", text)
    return _SPACES_RE.sub(" ", _restore_escapes(text)).strip(), heading and bool(text)


def _clean_line(raw: str) -> _Line:
    """One line without Markdown syntax; blank for a horizontal rule."""
    if "  " in raw:  # "Mission Goal 1      Title": a table's cells, before spaces collapse
        raw = _CELL_GAP_RE.sub(_cell_gap_to_colon, raw, count=1)
    text = " ".join(raw.split())
    heading = False
    if _MARKUP_RE.search(text):  # most lines of a PDF's text have nothing to strip
        if _RULE_RE.fullmatch(text):
            return _Line("")
        if _TOC_LINK_RE.fullmatch(text):  # "- [Mission Goals](#goals)"
            return _Line(_strip_markup(text)[0], shape="contents")
        text, heading = _strip_markup(text)
    if len(text) > 1 and text[0] in _BULLET_GLYPHS:
        text = _BULLET_GLYPH_RE.sub("- ", text)
    return _Line(text, heading)


# --- Recognising structure (used by several passes) ----------------------------------------


@dataclass(slots=True)
class _ItemHeading:
    family: str  # "goal", "objective" or "sub"
    prefix: str  # "mission", "management" or ""
    code: str
    title: str

    @property
    def bare(self) -> bool:
        """Only the label and code: the title is the next paragraph."""
        return not self.title


_ITEM_RE = re.compile(
    r"(?P<prefix>mission\s+|management\s+)?"
    rf"(?P<family>sub\s?[{_DASHES}]?\s?objective|objective|goal)s?"
    r"\s*(?:#|no\.|number\b)?\s*"
    r"(?P<code>\d{1,4}(?:\.\d{1,4}){0,2})(?![\d.]*\d)"
    r"(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
# What may follow the code: a separator then the title, or nothing. A bare "Objective 1.1
# is ..." inside a sentence has neither, so it is not a heading.
_ITEM_SEPARATOR_RE = re.compile(
    rf"(?:\s*[:|)]|\s+[{_DASHES}]|\s*[.–—](?=\s|$))\s*(?P<title>.*)", re.DOTALL
)


def _item_heading(text: str) -> _ItemHeading | None:
    if not text or text[0] not in "MGOS":  # Mission, Management, Goal, Objective, Sub-
        return None
    match = _ITEM_RE.fullmatch(text)
    if match is None:
        return None
    rest = match.group("rest")
    if rest.strip():
        separated = _ITEM_SEPARATOR_RE.fullmatch(rest)
        if separated is None:
            return None
        title = separated.group("title").strip().lstrip(f":.|{_DASH_CHARS} ").strip()
    else:
        title = ""
    family = match.group("family").lower()
    return _ItemHeading(
        family="sub" if family.startswith("sub") else family,
        prefix=(match.group("prefix") or "").strip().lower(),
        code=".".join(str(int(part)) for part in match.group("code").split(".")),
        title=title,
    )


def _resolve_kind(heading: _ItemHeading, context: str, section: str) -> str | None:
    """The node kind a heading names. Plain "Objective 1.1" / "Sub-Objective 1.1" follow
    the family being read (a management section or a preceding "Management Objective");
    plain "Goal N" is a mission goal except inside a management section."""
    depth = heading.code.count(".") + 1
    mission_kinds = {
        "goal": {1: GOAL},
        "objective": {2: OBJECTIVE, 3: SUB_OBJECTIVE},
        "sub": {3: SUB_OBJECTIVE},
    }[heading.family]
    management_kinds = {
        "goal": {1: MANAGEMENT_OBJECTIVE, 2: MANAGEMENT_SUB_OBJECTIVE},
        "objective": {1: MANAGEMENT_OBJECTIVE, 2: MANAGEMENT_SUB_OBJECTIVE},
        "sub": {2: MANAGEMENT_SUB_OBJECTIVE},
    }[heading.family]
    if heading.prefix == "management":
        return management_kinds.get(depth)
    if heading.prefix == "mission":
        return mission_kinds.get(depth)
    in_management = (
        section == "management" if heading.family == "goal" else (context == "management")
    )
    if in_management:
        return management_kinds.get(depth) or mission_kinds.get(depth)
    return mission_kinds.get(depth)


@dataclass(slots=True)
class _Label:
    field: str  # one of FIELDS
    rest: str  # text on the same line after the label


_LABEL_NAMES = (
    r"(?P<description>(?:goal\s+)?descriptions?\s*(?:\(s\)\s*)?(?:(?:and|&)\s*linkages?)?"
    r"|linkages?)"
    r"|(?P<justification>(?:(?:mission|management)\s+)?"
    rf"(?:(?:sub\s?[{_DASHES}]?\s?)?objective\s+|goal\s+)?justifications?)"
    r"|(?P<risks>risks?(?:\s+(?:considerations?|assessments?|factors|analysis))?"
    r"(?:\s+(?:and|&)\s+mitigations?)?)"
)
_LABEL_RE = re.compile(
    rf"(?:{_LABEL_NAMES})"
    rf"(?:(?:\s*[:|]|\s+[{_DASHES}]|\s*[.–—](?=\s|$))\s*(?P<rest>.*))?",
    re.IGNORECASE | re.DOTALL,
)


# A table cell boundary after a label or an item code, as pdftotext -layout (runs of spaces)
# or a DOCX table (tab) leaves it: "Mission Goal 1      Title", "Justification\tText".
_CELL_GAP_RE = re.compile(rf"^\s*((?:{_ITEM_LABEL})|(?:{_LABEL_NAMES}))\s{{2,}}(?=\S)", re.I)


def _cell_gap_to_colon(match: re.Match[str]) -> str:
    label = match.group(1).rstrip()
    following = match.string[match.end()]
    # Justified -layout text pads every gap, and its next word may be lower case; a cell
    # label is written with single spaces and the next cell starts a sentence or a title.
    if "  " in label or not label[0].isupper() or following.islower():
        return match.group(0)
    return f"{label}: "


def _narrative_label(text: str) -> _Label | None:
    if not text or text[0] not in "DLJMOSGR":  # the first letters of the labels
        return None
    match = _LABEL_RE.fullmatch(text)
    if match is None:
        return None
    name = next(name for name in FIELDS if match.group(name))
    return _Label(field=name, rest=(match.group("rest") or "").strip())


# The words a section heading can start with, after any "1." / "II." / "Section 2:".
_SECTION_FIRST_WORDS = frozenset({
    "table", "contents", "chief", "com", "ambassador", "ambassador's", "ambassadors",
    "mission", "management", "strategic", "ics", "integrated", "country", "results",
    "framework", "detailed", "goals", "goal", "annex", "annexes", "appendix", "appendices",
    "acronyms", "abbreviations", "glossary", "attachment", "attachments", "references",
    "endnotes",
})  # fmt: skip
_SECTION_NUMBER_RE = re.compile(
    r"^(?:(?:section|part|chapter)\s+)?(?:\d{1,2}|[ivx]{1,4}|[a-h])(?:\s*[.):]\s*|\s+-\s*|\s+)"
)
_SECTION_PATTERNS = [
    ("toc", re.compile(r"(?:table of )?contents")),
    (
        "com",
        re.compile(r"(?:the )?(?:chief of mission|com|ambassadors?) priorities(?: statement)?"),
    ),
    (
        "management",
        re.compile(
            r"(?:mission )?management (?:objectives?|goals?(?: and (?:management )?objectives?)?"
            r"|platform(?: objectives?)?)"
        ),
    ),
    (
        "framework",
        re.compile(
            r"(?:(?:mission|ics|integrated country strategy|country|results) )?"
            r"(?:strategic )?framework(?: summary| overview)?"
        ),
    ),
    (
        "detail",
        re.compile(
            r"(?:detailed |strategic |country )?(?:mission )?goals?"
            r"(?:,? (?:and )?(?:mission )?objectives?)?"
            r"(?:,? (?:and )?sub-?objectives?)?"
        ),
    ),
    (
        "other",
        re.compile(
            r"(?:annex(?:es)?|appendix|appendices|acronyms|abbreviations|glossary|attachments?"
            r"|references|endnotes)(?: [a-z0-9 -]{0,60})?"
        ),
    ),
]


def _section_kind(text: str, check_item: bool = True) -> tuple[str, bool] | None:
    """("com" | "framework" | "detail" | "management" | "toc" | "other", is_contents_entry)
    when the paragraph is a section heading, optionally numbered ("1.", "II.", "Section 2:")
    and, in a table of contents, followed by a page number."""
    if len(text) > 110 or _SECTION_FIRST_WORDS.isdisjoint(_first_words(text, 4)):
        return None
    if len(text.split()) > 14 or (check_item and _item_heading(text) is not None):
        return None  # "Mission Goal 1" is an item, not "Mission Goals" on page 1
    folded = _SECTION_NUMBER_RE.sub("", _fold(text), count=1)
    folded = re.sub(r"\([^)]*\)", " ", folded)  # "Chief of Mission (COM) Priorities"
    contents_entry = False
    page = re.search(r"\s\d{1,3}$", folded)
    if page:
        contents_entry, folded = True, folded[: page.start()]
    folded = folded.replace("&", " and ").replace("'s ", " ")
    folded = " ".join(re.sub(r"[^a-z0-9\- ,]", " ", folded).split()).strip(" -,")
    for kind, pattern in _SECTION_PATTERNS:
        if pattern.fullmatch(folded):
            return kind, contents_entry and kind != "other"  # "Annex 1" is no page number
    return None


_BULLET_RE = re.compile(r"(?:[-*+•▪◦●‣]\s+|\(?(?:\d{1,2}|[a-h])[.)]\s+)")


def _shape(line: _Line) -> str:
    """What a line (or paragraph) is, as far as unwrapping cares."""
    text = line.text
    heading = _item_heading(text)
    if heading is not None:
        return "bare_item" if heading.bare else "item"
    if _section_kind(text, check_item=False):
        return "section"
    label = _narrative_label(text)
    if label is not None:
        return "label" if label.rest else "bare_label"
    if _BULLET_RE.match(text):
        return "bullet"
    return "heading" if line.heading else "text"


# --- 3. Metadata ---------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    rf"(?:{_MONTH}\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{4})"
)
_DATE_STATEMENT_RE = re.compile(
    r"(?P<label>(?:originally\s+|initially\s+|first\s+)?approved(?:\s+on)?"
    r"|date\s+(?:of\s+)?approv(?:al|ed)"
    r"|(?:last\s+)?reviewed(?:\s*(?:and|&|/)\s*(?:updated|revised))?(?:\s+on)?"
    r"|(?:last\s+)?(?:updated|revised)(?:\s+on)?"
    r"|date\s+(?:of\s+)?(?:last\s+)?(?:review|update|revision))"
    rf"\s*[:{_DASHES}]?\s*(?P<date>{_DATE})",
    re.IGNORECASE,
)
_DATE_FIRST_WORDS = frozenset({
    "approved", "originally", "initially", "first", "date", "last", "reviewed", "updated",
    "revised",
})  # fmt: skip


def _parse_date(text: str) -> date | None:
    """A date as ICS documents write them; a month without a day is its first day."""
    text = text.strip().lower().replace(",", " ")
    year = month = None
    day = 1
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    numeric = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif numeric:  # U.S. order: month/day/year
        month, day, year = (int(part) for part in numeric.groups())
    else:
        words = re.findall(r"[a-z]+|\d+", re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text))
        for word in words:
            if word.isdigit():
                if len(word) == 4:
                    year = int(word)
                else:
                    day = int(word)
            elif word in _MONTHS:
                month = _MONTHS[word]
    if year is None or month is None or not 1990 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date_statements(text: str) -> list[tuple[str, date | None]] | None:
    """[("approved" | "reviewed", date), ...] when the line consists only of date
    statements ("Originally Approved: August 2018"), perhaps beside a page number; else
    None. A date that is no full date ("2020", "February 30") comes back as None."""
    if len(text) > 200 or _DATE_FIRST_WORDS.isdisjoint(_first_words(text, 1)):
        return None
    if not _DATE_STATEMENT_RE.match(text):
        return None
    residue = _PAGE_PHRASE_RE.sub("", _DATE_STATEMENT_RE.sub("", text))
    if residue.strip(f" |,;./(){_DASH_CHARS}"):
        return None
    return [
        (
            "approved" if "approv" in match.group("label").lower() else "reviewed",
            _parse_date(match.group("date")),
        )
        for match in _DATE_STATEMENT_RE.finditer(text)
    ]


_KIND_RE = re.compile(
    r"(?P<ics>integrated\s+country\s+strateg(?:y|ies))"
    r"|(?P<fbs>functional\s+bureau\s+strateg(?:y|ies))"
    r"|(?P<jrs>joint\s+regional\s+strateg(?:y|ies))",
    re.IGNORECASE,
)
_PERIOD_RE = re.compile(
    r"\b(?:FY|fiscal\s+years?)\s*'?(?P<start>(?:19|20)?\d{2})\s*"
    rf"(?:[/{_DASHES}]|to|through|thru)\s*(?:FY\s*)?'?(?P<end>(?:19|20)?\d{{2}})\b",
    re.IGNORECASE,
)
_YEAR_RANGE_RE = re.compile(
    rf"\b(?P<start>(?:19|20)\d{{2}})\s*[/{_DASHES}]\s*(?P<end>(?:19|20)\d{{2}})\b"
)
_NAME_PREFIX_RE = re.compile(
    r"^(?:(?:for|of)\s+)?(?:the\s+)?(?:U\.?\s?S\.?\s+)?"
    r"(?:(?:mission|embassy|consulate(?:\s+general)?)(?:\s+(?:to|in|of))?\s+(?:the\s+)?)?",
    re.IGNORECASE,
)
_NOT_A_NAME_RE = re.compile(
    r"\b(?:strateg(?:y|ies)|goals?|objectives?|priorities|framework|contents|approved|reviewed"
    r"|updated|page)\b",
    re.IGNORECASE,
)
# Words that start a sentence mentioning the strategy, not a country's name.
_NOT_NAMES = {"mission", "embassy", "this", "the", "our", "an", "a", "its", "each", "that"}
_SMALL_WORDS = {"of", "and", "the", "to", "for", "in", "on", "at", "de", "da", "du", "del"}
_MISSION_MENTION_RE = re.compile(r"\bMission\s+([A-Z][a-z]{2,})\b")
_NOT_COUNTRIES = {
    "Goal", "Goals", "Objective", "Objectives", "Strategic", "Statement", "Sub", "Management",
    "Priorities", "Staff", "Activities", "Framework",
}  # fmt: skip


@dataclass
class _Metadata:
    kind: str = "other"
    title: str = ""
    mission: str = ""
    period: tuple[int, int] | None = None
    approved_on: date | None = None
    reviewed_on: date | None = None
    warnings: list[str] = field(default_factory=list)


def _title_case(name: str) -> str:
    words = name.lower().split()
    return " ".join(
        word if index and word in _SMALL_WORDS else word[:1].upper() + word[1:]
        for index, word in enumerate(words)
    )


def _clean_name(text: str) -> str:
    """A mission or country name from what surrounds the strategy title, or ""."""
    if len(text) > 200:
        return ""
    text = _PERIOD_RE.sub(" ", text)
    text = _YEAR_RANGE_RE.sub(" ", text)
    text = re.sub(r"\(\s*(?:ICS|FBS|JRS)\s*\)|\b(?:ICS|FBS|JRS)\b", " ", text)
    text = text.strip(f" :|,;/()[]{_DASH_CHARS}")
    text = _NAME_PREFIX_RE.sub("", text).strip(f" :|,;/(){_DASH_CHARS}")
    words = text.split()
    if not 1 <= len(words) <= 8 or len(text) > 60 or not re.search(r"[A-Za-z]", text):
        return ""
    if re.search(r"\d", text) or _NOT_A_NAME_RE.search(text) or _is_furniture(text):
        return ""
    if text[0].islower() or text.endswith(".") or text.lower() in _NOT_NAMES:
        return ""
    return _title_case(text) if text.isupper() else text


def _read_period(text: str, bare_years: bool = False) -> tuple[int, int] | None:
    """ "FY 2018-2022", "FY2022–FY2026", "FY22-26"; "2022–2026" only on the title line."""
    for pattern in (_PERIOD_RE, _YEAR_RANGE_RE) if bare_years else (_PERIOD_RE,):
        match = pattern.search(text)
        if match is None:
            continue
        start, end = (int(match.group(name)) for name in ("start", "end"))
        start, end = (year + 2000 if year < 100 else year for year in (start, end))
        if 0 <= end - start <= 10:
            return start, end
    return None


def _read_title(meta: _Metadata, top: list[str]) -> None:
    """Strategy kind, title and mission name from the title line near the top: "Integrated
    Country Strategy – Kenya", "Kenya Integrated Country Strategy", or the title alone with
    the name on a following line ("INTEGRATED COUNTRY STRATEGY" / "REPUBLIC OF KOREA")."""
    for index, line in enumerate(top):
        match = _KIND_RE.search(line)
        if match is None or len(line.split()) > 14:
            continue
        meta.kind = match.lastgroup or "other"
        meta.mission = _clean_name(line[match.end() :]) or _clean_name(line[: match.start()])
        for following in top[index + 1 : index + 6]:
            if meta.mission:
                break
            if _section_kind(following) or _item_heading(following):
                break
            if _read_period(following) and not _clean_name(following):
                continue
            meta.mission = _clean_name(following)
        if meta.period is None:
            meta.period = _read_period(line, bare_years=True)
        return


def _read_mission_fallback(meta: _Metadata, top: list[str], lines: list[_Line]) -> None:
    """No name beside the title: a "Mission Brazil" / "U.S. Embassy Lima" line near the top,
    else the "Mission X" the narrative mentions most (documents say "Mission China")."""
    for line in top[:15]:
        if re.match(r"(?:U\.?\s?S\.?\s+)?(?:mission|embassy)\s+\S", line, re.IGNORECASE):
            name = _clean_name(line)
            if name:
                meta.mission = name
                return
    mentions = Counter(
        name
        for line in lines
        if "Mission " in line.text
        for name in _MISSION_MENTION_RE.findall(line.text)
        if name not in _NOT_COUNTRIES
    )
    if mentions:
        name, count = mentions.most_common(1)[0]
        if count >= 2:
            meta.mission = name


def _read_metadata(lines: list[_Line]) -> _Metadata:
    meta = _Metadata()
    top = list(islice((line.text for line in lines if line.shape != "furniture" and line.text), 40))
    _read_title(meta, top)
    if not meta.mission:
        _read_mission_fallback(meta, top, lines)
    if meta.period is None:
        meta.period = next(filter(None, (_read_period(line) for line in top)), None)
    reviewed: list[date] = []
    for line in lines:
        if line.shape != "date":
            continue
        for which, when in _date_statements(line.text) or []:
            if when is None:
                meta.warnings.append(f"“{line.text}” gives no full date; it was not recorded.")
            elif which == "approved" and meta.approved_on is None:
                meta.approved_on = when
            elif which == "reviewed":
                reviewed.append(when)
    meta.reviewed_on = max(reviewed) if reviewed else None  # the latest review counts
    if meta.kind in _STRATEGY_TITLES:
        name = _STRATEGY_TITLES[meta.kind]
        meta.title = f"{name} — {meta.mission}" if meta.mission else name
    return meta


# --- 4. Page furniture ---------------------------------------------------------------------

_BANNER_RE = re.compile(
    r"\b(?:sensitive\s+but\s+unclassified|unclassified|top\s+secret|confidential|secret"
    r"|for\s+official\s+use\s+only|limited\s+official\s+use"
    r"|controlled\s+unclassified\s+information"
    r"|(?:approved\s+|cleared\s+)?for\s+public\s+release|public|noforn|fouo|sbu|cui|lou)\b"
    r"|\bclassification\s*:",
    re.IGNORECASE,
)
# The words a banner line can start with (a page number may come first).
_BANNER_FIRST_WORDS = frozenset({
    "unclassified", "sensitive", "for", "approved", "cleared", "sbu", "confidential",
    "secret", "top", "limited", "controlled", "cui", "public", "noforn", "fouo", "lou",
    "classification", "page",
})  # fmt: skip
_PAGE = (
    r"page\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?|\d{1,4}\s*\|\s*p\s?a\s?g\s?e"
    r"|page\s*\|\s*\d{1,4}|\d{1,4}\s*(?:of|/)\s*\d{1,4}|\d{1,3}|\[\d{1,4}\]"
    rf"|[{_DASHES}]\s*\d{{1,4}}\s*[{_DASHES}]"
)
_PAGE_LINE_RE = re.compile(_PAGE, re.IGNORECASE)
_PAGE_PHRASE_RE = re.compile(rf"\b(?:{_PAGE})\b", re.IGNORECASE)
_ROMAN_PAGE_RE = re.compile(r"[ivxlc]{1,7}")  # front-matter page numbers, lower case only
_FURNITURE_PUNCTUATION = f" |/(),:.{_DASH_CHARS}"
_DIGITS_RE = re.compile(r"\d+")
_DOT_LEADER_RE = re.compile(r"(?:(?:\.\s?){5,}|…{2,}|\s_{4,})\s*\d{0,4}\s*$")


def _is_furniture(text: str) -> bool:
    """A classification banner or a page number alone on its line, or both together
    ("UNCLASSIFIED | Page 3 of 12")."""
    if len(text) > 120:
        return False
    if _PAGE_LINE_RE.fullmatch(text) or _ROMAN_PAGE_RE.fullmatch(text):
        return True
    first = _first_words(text, 2)
    if _BANNER_FIRST_WORDS.isdisjoint(first) and not any(word.isdigit() for word in first):
        return False
    residue, banners = _BANNER_RE.subn(" ", text)
    if not banners:
        return False
    return not _PAGE_PHRASE_RE.sub(" ", residue).strip(_FURNITURE_PUNCTUATION)


def _has_dot_leader(text: str) -> bool:
    """A contents line: "Mission Goals and Objectives ........ 4"."""
    if ".." not in text and ". ." not in text and "…" not in text and "__" not in text:
        return False
    return _DOT_LEADER_RE.search(text) is not None


def _header_key(text: str) -> str:
    """Page numbers differ between repeats of a running header ("China | 3", "China | 4")."""
    return _DIGITS_RE.sub("#", text.lower())


def _running_headers(lines: list[_Line]) -> set[str]:
    """Lines repeated on many pages: short, not a sentence, not structure. Three times is
    enough, twice when the line names the strategy ("Integrated Country Strategy | Peru")."""
    counts: Counter[str] = Counter()
    for line in lines:
        text = line.text
        if not text or len(text) > 100 or line.heading or text[0].islower():
            continue
        if line.shape != "text" or text[-1] in ".,;:!?":
            continue
        counts[_header_key(text)] += 1
    return {
        key for key, count in counts.items() if count >= 3 or (count >= 2 and _KIND_RE.search(key))
    }


def _drop_furniture(lines: list[_Line]) -> list[_Line]:
    """Remove what a page adds around the text. A removed line leaves no gap, so a
    paragraph cut by a page break joins up again in `_paragraphs`."""
    headers = _running_headers(lines)
    kept: list[_Line] = []
    after_bare_item = False
    for line in lines:
        text = line.text
        if not text:
            kept.append(line)
            continue
        if len(text) < 300 and _has_dot_leader(text):
            # Kept, marked: the reader must know it is in a table of contents.
            kept.append(_Line(_DOT_LEADER_RE.sub("", text).strip(), shape="contents"))
            continue
        if line.shape in ("furniture", "date") or (
            headers and not after_bare_item and _header_key(text) in headers
        ):
            continue
        # A title on the line after "Mission Goal 2" repeats wherever the goal does.
        after_bare_item = line.shape == "bare_item"
        kept.append(line)
    return kept


# --- Classifying lines (pass 2 continued) ------------------------------------------------

_SPECIAL_STARTS = f"ivxlc([{_BULLET_GLYPHS}*+…{_DASH_CHARS}"  # roman page numbers, bullets
_ITEM_AND_LABEL_WORDS = frozenset({
    "mission", "management", "goal", "objective", "sub-objective", "subobjective", "sub",
    "description", "descriptions", "linkage", "linkages", "justification", "risk", "risks",
    "section", "part", "chapter",
})  # fmt: skip
_INTERESTING_PREFIXES = frozenset(
    word[:4]
    for word in _SECTION_FIRST_WORDS
    | _DATE_FIRST_WORDS
    | _BANNER_FIRST_WORDS
    | _ITEM_AND_LABEL_WORDS
)


def _plainly_prose(line: _Line) -> bool:
    """True for a line no pattern can apply to, judged from its first words alone: most
    lines of a long document, which then cost almost nothing to classify."""
    text = line.text
    if line.heading or text[0] in _SPECIAL_STARTS or text[0].isdigit():
        return False
    words = text[:60].replace("/", " ").split(None, 4)[:4]
    if not words:
        return False
    if len(words[0]) <= 3 and words[0][-1] in ".)":  # "a) ", "iv. "
        return False
    return _INTERESTING_PREFIXES.isdisjoint(word.strip("().:|-–—#").lower()[:4] for word in words)


def _line_shape(line: _Line) -> str:
    """`_shape`, plus the two kinds of line that are dropped: page furniture and dates."""
    if _plainly_prose(line):
        return "text"
    if _is_furniture(line.text):
        return "furniture"
    if _date_statements(line.text) is not None:
        return "date"
    return _shape(line)


def _clean_lines(raw_lines: list[str]) -> list[_Line]:
    lines: list[_Line] = []
    pending_bullet = False  # a bullet glyph alone on its line belongs to the next line
    for raw in raw_lines:
        line = _clean_line(raw)
        if len(line.text) == 1 and line.text in _BULLET_GLYPHS:
            pending_bullet = True
            continue
        if pending_bullet and line.text:
            line.text, pending_bullet = f"- {line.text}", False
        if line.text and line.shape == "text":
            line.shape = _line_shape(line)
        lines.append(line)
    return lines


# --- 5. Paragraphs -------------------------------------------------------------------------

_TERMINAL_RE = re.compile(r"[.!?:;][\"'”’)\]]*$")
# A line ending on one of these words stops mid-sentence, whatever comes next.
_CONTINUATION_WORDS = frozenset({
    "a", "an", "the", "of", "and", "or", "nor", "to", "with", "for", "in", "on", "by", "from",
    "as", "at", "its", "their", "our", "his", "her", "that", "which", "between", "into",
    "under", "over", "than", "this", "these", "those", "is", "are", "was", "were", "be",
    "been", "will", "would", "can", "could", "should", "must", "has", "have", "had", "not",
    "both", "either", "such", "including", "among", "per", "via",
})  # fmt: skip
_SHORT_LINE = 0.6  # of the wrap width: shorter lines end where their author ended them
_HYPHEN_END_RE = re.compile(r"([A-Za-z]+)-$")
_COMPOUND_BREAK_RE = re.compile(r"[A-Za-z.]-$")  # a line cut inside a hyphenated word
_WORD_START_RE = re.compile(r"[a-z]+")


@dataclass
class _Vocabulary:
    """Words the document spells whole or hyphenated: decides "inter-" + "national"."""

    words: set[str]
    hyphenated: set[str]

    @classmethod
    def of(cls, text: str) -> _Vocabulary:
        lowered = text.lower()
        # "\b" and possessive runs keep this linear on a line of a million letters.
        hyphenated = re.findall(r"\b[a-z]++-[a-z]++", lowered)
        return cls(set(re.findall(r"[a-z]+", lowered)), set(hyphenated))


@dataclass
class _Paragraph:
    text: str
    heading: bool = False
    contents: bool = False  # a table-of-contents entry ("Mission Goals ..... 4")
    after_gap: bool = False  # a blank line came before it


def _wrap_width(lines: list[_Line]) -> int | None:
    """The line width of hard-wrapped text (pdftotext, 80-column Markdown), or None when
    lines are whole paragraphs. Wrapped text betrays itself by lines that go on in lower
    case on the next line."""
    breaks = lower = 0
    lengths: list[int] = []
    previous = ""
    for line in lines:
        text = line.text
        if len(text) >= 20:
            lengths.append(len(text))
        if previous and text and len(previous) >= 40:
            breaks += 1
            lower += text[0].islower()
        previous = text
    if breaks < 3 or lower < 0.2 * breaks or not lengths:
        return None
    lengths.sort()
    width = lengths[int(len(lengths) * 0.9)]
    return width if width <= 200 else None


def _last_word(text: str) -> str:
    words = text.rsplit(None, 1)
    return words[-1].lower() if words else ""


def _continues(
    previous: str, para_shape: str, line: _Line, shape: str, width: int | None, gap: bool
) -> bool:
    """Whether `line` goes on the paragraph whose last line is `previous`."""
    if para_shape in ("section", "bare_item", "bare_label", "heading", "contents"):
        return False
    if line.heading or shape == "contents":
        return False
    text = line.text
    terminal = bool(_TERMINAL_RE.search(previous))
    starts_lower = text[0].islower()
    if gap:  # a blank line, or a page break: only an unfinished sentence goes on
        if terminal or shape not in ("text", "heading"):
            return False
        return starts_lower or _last_word(previous) in _CONTINUATION_WORDS
    if shape != "text":
        # "...activities under\nSub-Objective 3.1.1\nis to..." — a full wrapped line that
        # stops mid-sentence is not followed by a heading.
        full_line = width is not None and len(previous) >= 0.8 * width
        return shape in ("bare_item", "bare_label") and full_line and not terminal
    if starts_lower or _last_word(previous) in _CONTINUATION_WORDS:
        return True
    if _COMPOUND_BREAK_RE.search(previous[-3:]):  # "U.S.-" + "China"
        return True
    if width is None:
        # One paragraph per line — unless a long line stops mid-sentence, which only a
        # wrapped paragraph does ("…we will also protect the many" / "Americans who…").
        return not terminal and len(previous) >= 40
    if terminal:  # a sentence ended: a new paragraph only if the next word would have fitted
        return len(previous) + 1 + len(text.split(None, 1)[0]) > width
    # No full stop, but a line this short was ended on purpose: an unpunctuated paragraph
    # end or heading when the next line starts a sentence of its own (the lower-case and
    # continuation-word cases went on above).
    return len(previous) >= _SHORT_LINE * width


def _append(pieces: list[str], text: str, vocabulary: _Vocabulary) -> None:
    """Join a line onto a paragraph: "inter-" + "national" loses its hyphen when the
    document spells "international" elsewhere; "state-" + "owned" keeps it."""
    last = pieces[-1]
    hyphen = _HYPHEN_END_RE.search(last[-80:]) if last.endswith("-") else None
    start = _WORD_START_RE.match(text)
    if hyphen and start:
        head, tail = hyphen.group(1), start.group(0)
        whole, split = (head + tail).lower(), f"{head}-{tail}".lower()
        if whole in vocabulary.words and split not in vocabulary.hyphenated:
            pieces[-1] = last[:-1]
        pieces.append(text)
    elif re.fullmatch(r"[A-Za-z0-9.]-", last[-2:]) and text[:1].isalnum():
        pieces.append(text)  # "U.S.-" + "China"
    else:
        pieces.append(" ")
        pieces.append(text)


def _paragraphs(lines: list[_Line], vocabulary: _Vocabulary) -> list[_Paragraph]:
    """Lines into paragraphs: a line joins the paragraph above when `_continues` says the
    sentence goes on, across a blank line or a dropped page footer too."""
    width = _wrap_width(lines)
    paragraphs: list[_Paragraph] = []
    pieces: list[str] = []
    para_shape, heading, previous, gap, para_gap = "text", False, "", False, False

    def flush() -> None:
        if pieces:
            text = "".join(pieces)
            paragraphs.append(_Paragraph(text, heading, para_shape == "contents", para_gap))
            pieces.clear()

    for line in lines:
        if not line.text:
            gap = bool(pieces)
            continue
        shape = line.shape
        if pieces and _continues(previous, para_shape, line, shape, width, gap):
            _append(pieces, line.text, vocabulary)
        else:
            flush()
            pieces.append(line.text)
            para_shape, heading, para_gap = shape, line.heading, gap
        previous, gap = line.text, False
    flush()
    return paragraphs


# --- 6. Reading paragraphs -----------------------------------------------------------------


@dataclass
class _Occurrence:
    """One statement of an item: in the framework, or in the detailed sections."""

    kind: str
    code: str
    title: str
    source: str  # "framework" or "detail"
    fields: dict[str, list[str]] = field(default_factory=lambda: {name: [] for name in FIELDS})

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.code)


def _last_line(text: str) -> str:
    return text.rsplit("\n", 1)[-1]


def _default_field(kind: str) -> str:
    """Unlabelled text under an item: goals describe, objectives justify."""
    return "description" if kind == GOAL else "justification"


_MAX_TITLE = 700  # longer than any title: a paragraph this long is narrative


class _Reader:
    """Reads paragraphs in order. Knows the current section ("preamble", "toc", "com",
    "framework", "detail", "management", "other", or "implicit" for items before any
    section heading), the item being read and the narrative field being filled. Nothing
    in an "other" section (annex, appendix, glossary) is read until a known section
    heading comes back."""

    def __init__(self) -> None:
        self.section = "preamble"
        self.context = "mission"  # which family plain "Objective 1.1" belongs to
        self.occurrences: list[_Occurrence] = []
        self.com: list[str] = []
        self.current: _Occurrence | None = None
        self.field: str | None = None
        self.expect_title = False
        self.region_start = 0  # index of the section's first occurrence
        self.listed_in_contents: set[str] = set()  # headings an unnumbered contents listed
        self.contents_numbered = False  # the contents gave page numbers

    def feed(self, paragraph: _Paragraph) -> None:
        text = paragraph.text
        if paragraph.contents:
            self._contents_entry()
            return
        heading = _item_heading(text)
        section = None if heading else _section_kind(text, check_item=False)
        if section is not None:
            self._enter(*section)
            return
        if self.section == "toc":
            if len(text) <= 150 and _narrative_label(text) is None:
                return  # a contents entry without page number
            self.section = "preamble"
        if heading is not None and self._start_item(heading):
            return
        label = _narrative_label(text)
        if label is not None and self.current is not None:
            self.field, self.expect_title = label.field, False
            if label.rest:
                self._add_text(label.rest)
            return
        if self.expect_title and self.current is not None and len(text) <= _MAX_TITLE:
            self.current.title, self.expect_title = text, False
            return
        self.expect_title = False
        self._add_text(text, tight=not paragraph.after_gap)

    def _contents_entry(self) -> None:
        """ "Mission Strategic Framework ..... 4": a contents list, even without its heading."""
        if self.section != "toc":
            self._enter("toc", contents_entry=False)
        self.contents_numbered = True

    def _enter(self, section: str, contents_entry: bool) -> None:
        if contents_entry:
            self._contents_entry()
            return
        unnumbered_contents = self.section == "toc" and not self.contents_numbered
        if unnumbered_contents and section not in self.listed_in_contents:
            # Contents without page numbers: the section starts when its heading comes back.
            self.listed_in_contents.add(section)
            return
        self.current, self.field, self.expect_title = None, None, False
        self.section, self.region_start = section, len(self.occurrences)
        if section in ("framework", "detail"):
            self.context = "mission"
        elif section == "management":
            self.context = "management"

    def _start_item(self, heading: _ItemHeading) -> bool:
        if self.section == "other":
            return False  # an annex's tables name items too; the strategy is stated above
        kind = _resolve_kind(heading, self.context, self.section)
        if kind is None:
            return False
        if self.section in ("preamble", "com"):
            self.section, self.region_start = "implicit", len(self.occurrences)
        self._notice_second_listing((kind, heading.code))
        source = "framework" if self.section == "framework" else "detail"
        occurrence = _Occurrence(kind, heading.code, heading.title, source)
        self.occurrences.append(occurrence)
        self.current, self.field, self.expect_title = occurrence, None, heading.bare
        self.context = _family(kind)
        return True

    def _notice_second_listing(self, key: tuple[str, str]) -> None:
        """The list starting over ("Mission Goal 1" again) without a section heading means
        the first list was the framework and the detailed section begins."""
        if self.section not in ("framework", "implicit"):
            return
        region = self.occurrences[self.region_start :]
        if not region or region[0].key != key:
            return
        for occurrence in region:
            occurrence.source = "framework"
        self.section, self.region_start = "detail", len(self.occurrences)

    def _add_text(self, text: str, tight: bool = False) -> None:
        text = _PORTION_MARK_RE.sub("", text)  # "Justification: (SBU) The ..."
        if self.current is None:
            if self.section != "com":
                return  # title page, introductions: not part of any item
            target = self.com
        else:
            target = self.current.fields[self.field or _default_field(self.current.kind)]
        if tight and target and _BULLET_RE.match(text) and _BULLET_RE.match(_last_line(target[-1])):
            # A list item right under another (no blank line): one tight Markdown list.
            target[-1] = f"{target[-1]}\n{text}"
        else:
            target.append(text)


# --- 7. Merging ----------------------------------------------------------------------------


def _label(kind: str, code: str) -> str:
    return f"{KIND_LABELS[kind]} {code}"


def _first_title(occurrences: list[_Occurrence]) -> str:
    return next((occ.title for occ in occurrences if occ.title), "")


def _duplicates(
    kind: str, code: str, occurrences: list[_Occurrence], where: str
) -> list[Discrepancy]:
    if len(occurrences) < 2:
        return []
    return [
        Discrepancy(
            code=code,
            kind=kind,
            problem="duplicate",
            framework_text=occurrences[0].title,
            detail_text=occurrences[1].title,
            message=(
                f"{_label(kind, code)} appears {len(occurrences)} times in the {where}; "
                "the first title was kept and the narratives were combined."
            ),
        )
    ]


def _title_discrepancy(
    kind: str, code: str, framework_title: str, detail_title: str
) -> list[Discrepancy]:
    if not framework_title or not detail_title:
        return []
    if title_key(framework_title) == title_key(detail_title):
        return []
    minor = _punctuation_free(framework_title) == _punctuation_free(detail_title)
    return [
        Discrepancy(
            code=code,
            kind=kind,
            problem="title_mismatch",
            framework_text=framework_title,
            detail_text=detail_title,
            message=(
                f"{_label(kind, code)} has a different title in the Mission Strategic Framework"
                f" and in the detailed section{' (punctuation only)' if minor else ''}; "
                "the detailed section's title was kept."
            ),
        )
    ]


def _merge_item(
    key: tuple[str, str],
    occurrences: list[_Occurrence],
    framework_families: set[str],
    detail_families: set[str],
) -> tuple[ParsedItem, list[Discrepancy]]:
    kind, code = key
    framework = [occ for occ in occurrences if occ.source == "framework"]
    detail = [occ for occ in occurrences if occ.source == "detail"]
    problems = _duplicates(kind, code, framework, "Mission Strategic Framework")
    problems += _duplicates(kind, code, detail, "detailed section")
    framework_title, detail_title = _first_title(framework), _first_title(detail)
    problems += _title_discrepancy(kind, code, framework_title, detail_title)
    label = _label(kind, code)
    if framework and not detail and _family(kind) in detail_families:
        problems.append(
            Discrepancy(
                code=code,
                kind=kind,
                problem="framework_only",
                framework_text=framework_title,
                message=(
                    f"{label} is in the Mission Strategic Framework but not in the detailed "
                    "section; it was kept with the framework's title."
                ),
            )
        )
    if detail and not framework and _family(kind) in framework_families:
        problems.append(
            Discrepancy(
                code=code,
                kind=kind,
                problem="detail_only",
                detail_text=detail_title,
                message=(
                    f"{label} is in the detailed section but not in the Mission Strategic "
                    "Framework; it was kept."
                ),
            )
        )
    item = ParsedItem(kind=kind, code=code, title=detail_title or framework_title)
    for name in FIELDS:
        # The detailed section's narrative wins; a framework that carries narrative (some
        # documents have no second listing) still gives it.
        paragraphs = [text for occ in detail for text in occ.fields[name]]
        if not paragraphs:
            paragraphs = [text for occ in framework for text in occ.fields[name]]
        setattr(item, name, "\n\n".join(paragraphs))
    item.sources = (["framework"] if framework else []) + (["detail"] if detail else [])
    return item, problems


def _parent_code(kind: str, code: str) -> str:
    parts = code.split(".")
    return ".".join(parts[:-1]) if kind in _PARENT_KIND else ""


def _add_missing_parents(items: dict[tuple[str, str], ParsedItem]) -> list[Discrepancy]:
    """Every objective gets its goal: a placeholder titled like "Mission Goal 3" when the
    document never states it, so the tree stays valid."""
    problems: list[Discrepancy] = []
    queue = sorted(items.values(), key=lambda item: _sort_key(item.kind, item.code), reverse=True)
    while queue:
        item = queue.pop()
        parent_kind = _PARENT_KIND.get(item.kind)
        if parent_kind is None:
            continue
        item.parent_code = _parent_code(item.kind, item.code)
        key = (parent_kind, item.parent_code)
        if key in items:
            continue
        placeholder = ParsedItem(kind=parent_kind, code=item.parent_code, title=_label(*key))
        items[key] = placeholder
        queue.append(placeholder)
        problems.append(
            Discrepancy(
                code=item.code,
                kind=item.kind,
                problem="missing_parent",
                detail_text=item.title,
                message=(
                    f"{_label(item.kind, item.code)} has no {_label(*key)} in the document; "
                    f"a placeholder titled “{placeholder.title}” was created so the tree "
                    "stays valid."
                ),
            )
        )
    return problems


def _build_tree(items: dict[tuple[str, str], ParsedItem]) -> list[ParsedItem]:
    roots: list[ParsedItem] = []
    for item in sorted(items.values(), key=lambda item: _sort_key(item.kind, item.code)):
        parent_kind = _PARENT_KIND.get(item.kind)
        if parent_kind is None:
            roots.append(item)
        else:
            items[(parent_kind, item.parent_code or "")].children.append(item)
    return roots


_PROBLEM_ORDER = ("duplicate", "title_mismatch", "framework_only", "detail_only", "missing_parent")


def _merge(occurrences: list[_Occurrence]) -> tuple[list[ParsedItem], list[Discrepancy], list[str]]:
    groups: dict[tuple[str, str], list[_Occurrence]] = {}
    for occurrence in occurrences:
        groups.setdefault(occurrence.key, []).append(occurrence)
    framework_families = {_family(occ.kind) for occ in occurrences if occ.source == "framework"}
    detail_families = {_family(occ.kind) for occ in occurrences if occ.source == "detail"}
    items: dict[tuple[str, str], ParsedItem] = {}
    problems: list[Discrepancy] = []
    warnings: list[str] = []
    for key, group in groups.items():
        item, item_problems = _merge_item(key, group, framework_families, detail_families)
        if not item.title:
            item.title = _label(*key)
            warnings.append(f"{item.title} has no title in the document; its label was used.")
        item.linkages = linkage_tags(f"{item.description}\n{item.justification}")
        items[key] = item
        problems += item_problems
    problems += _add_missing_parents(items)
    problems.sort(key=lambda d: (*_sort_key(d.kind, d.code), _PROBLEM_ORDER.index(d.problem)))
    return _build_tree(items), problems, warnings


# --- Linkage tags --------------------------------------------------------------------------

_NUMBER = r"(?:\d{1,2}|[ivx]{1,4}|one|two|three|four|five|six)"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_ROMAN = {
    "i": 1,
    "ii": 2,
    "iii": 3,
    "iv": 4,
    "v": 5,
    "vi": 6,
    "vii": 7,
    "viii": 8,
    "ix": 9,
    "x": 10,
}
# Cheap test before the patterns: most narratives name no higher framework.
_LINKAGE_WORDS = (
    "security strategy",
    "nss",
    "strategic",
    "jsp",
    "regional",
    "jrs",
    "bureau",
    "fbs",
)
_NSS = r"(?:national\s+security\s+strategy|NSS)"
_JSP = r"(?:joint\s+strategic\s+(?:plan|goal\s+framework)|JSP)"
_POSSESSIVE = r"(?:['’]s)?"
_NSS_PILLAR_RES = [
    re.compile(
        rf"\bpillar\s+(?P<n>{_NUMBER})\s+of\s+(?:the\s+)?(?:\d{{4}}\s+)?(?:U\.S\.\s+)?{_NSS}\b",
        re.I,
    ),
    re.compile(
        rf"\b{_NSS}{_POSSESSIVE}\s+(?:[\w,\-]+\s+){{0,8}}?pillar\s+(?P<n>{_NUMBER})\b", re.I
    ),
]
_JSP_GOAL_RES = [
    re.compile(
        rf"\bgoal\s+(?P<n>{_NUMBER})\s+of\s+(?:the\s+)?(?:FY\s?\d{{4}}\s*[{_DASHES}]\s*\d{{2,4}}\s+)?"
        rf"(?:(?:department\s+of\s+)?state\s*[{_DASHES}/\s]\s*USAID\s+)?{_JSP}\b",
        re.I,
    ),
    re.compile(rf"\b{_JSP}{_POSSESSIVE}\s+(?:[\w,\-]+\s+){{0,6}}?goal\s+(?P<n>{_NUMBER})\b", re.I),
]
_NSS_RE = re.compile(r"\bnational\s+security\s+strategy\b|\bNSS\b", re.I)
_JSP_RE = re.compile(r"\bjoint\s+strategic\s+(?:plan|goal\s+framework)\b|\bJSP\b", re.I)
_BUREAU_TAGS = [
    ("JRS", re.compile(r"\bjoint\s+regional\s+strateg(?:y|ies)\b|\bJRS\b", re.I)),
    ("FBS", re.compile(r"\bfunctional\s+bureau\s+strateg(?:y|ies)\b|\bFBS\b", re.I)),
]


def _number(text: str) -> int | None:
    text = text.lower()
    if text.isdigit():
        return int(text)
    return _NUMBER_WORDS.get(text) or _ROMAN.get(text)


def _numbered(patterns: list[re.Pattern[str]], text: str) -> list[int]:
    found = {_number(match.group("n")) for pattern in patterns for match in pattern.finditer(text)}
    return sorted(number for number in found if number)


def linkage_tags(text: str) -> list[str]:
    """Tags for the higher frameworks a narrative names: "Pillar 2 of the National Security
    Strategy" → "NSS Pillar 2", "goal 2 of the State-USAID Joint Strategic Plan" → "JSP Goal
    2"; a framework named without a number gives the bare tag ("NSS", "JSP")."""
    lowered = text.lower()
    if not any(word in lowered for word in _LINKAGE_WORDS):
        return []
    tags = [f"NSS Pillar {n}" for n in _numbered(_NSS_PILLAR_RES, text)]
    if not tags and _NSS_RE.search(text):
        tags.append("NSS")
    goals = [f"JSP Goal {n}" for n in _numbered(_JSP_GOAL_RES, text)]
    tags += goals or (["JSP"] if _JSP_RE.search(text) else [])
    tags += [tag for tag, pattern in _BUREAU_TAGS if pattern.search(text)]
    return tags


# --- Writing text this parser reads back -----------------------------------------------------

# Markdown escapes `literal` adds: every character `_strip_markup` may act on.
_LITERAL_RE = re.compile(r"[\\`*_\[\]<>&#|(]")


def read_line(text: str) -> str:
    """One line of a document as this parser reads it: Markdown and HTML syntax, table
    pipes and portion marks gone, spaces single. For writers that show narrative as text
    (DOCX, PDF) exactly as an import of the Markdown document would store it."""
    return _clean_line(_normalise(text)[0]).text


def line_shape(text: str) -> str:
    """What this parser takes a line starting with `text` for: "text" for prose, else
    "item", "bare_item", "label", "bare_label", "bullet", "section", "date", "furniture",
    "contents" or "heading". For writers that wrap lines themselves (PDF): a wrapped line
    must read as prose, so a writer keeps such words off the start of a line."""
    line = _clean_line(_normalise(text)[0])
    if not line.text:
        return "furniture" if text.strip() else "text"
    return line.shape if line.shape != "text" else _line_shape(line)


def literal(text: str, *, after: str = "") -> str:
    """`text` (spaces made single) written so that this parser reads it back unchanged on
    a line that starts with `after` (e.g. "Mission Goal 1: "): `text` itself when nothing
    in it reads as markup — nearly always — else with a Markdown escape before each
    character that could ("R\\&amp;D", "\\*not emphasis\\*")."""
    text = " ".join(text.split())
    if read_line(after + text) == " ".join(f"{after}{text}".split()):
        return text
    return _LITERAL_RE.sub(r"\\\g<0>", text)


# --- Entry point ---------------------------------------------------------------------------


def _as_text(text: object) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", errors="replace")
    return "" if text is None else str(text)


def _document_warnings(doc: ParsedDocument, unreadable: float) -> list[str]:
    warnings: list[str] = []
    if unreadable > 0.05:
        warnings.append(
            "Much of the text is unreadable (control characters or broken encoding); "
            "it may not be a text document."
        )
    if not doc.counts()[GOAL]:
        warnings.append(NO_GOALS_WARNING)
    elif not doc.mission_name:
        warnings.append("The mission or country name was not found; enter it by hand.")
    return warnings


def _parse(text: str) -> ParsedDocument:
    text, unreadable = _normalise(_as_text(text))
    doc = ParsedDocument(strategy_kind="other")
    if not text.strip():
        doc.warnings = ["The document is empty.", NO_GOALS_WARNING]
        return doc
    lines = _clean_lines(text.split("\n"))
    meta = _read_metadata(lines)
    lines = _drop_furniture(lines)
    reader = _Reader()
    for paragraph in _paragraphs(lines, _Vocabulary.of(text)):
        reader.feed(paragraph)
    roots, discrepancies, merge_warnings = _merge(reader.occurrences)
    doc.mission_name = meta.mission
    doc.title = meta.title
    doc.strategy_kind = meta.kind
    if meta.period:
        doc.period_start_fy, doc.period_end_fy = meta.period
    doc.approved_on, doc.reviewed_on = meta.approved_on, meta.reviewed_on
    doc.com_priorities = "\n\n".join(reader.com)
    doc.roots, doc.discrepancies = roots, discrepancies
    if doc.strategy_kind == "other" and (doc.com_priorities or doc.counts()[GOAL]):
        # No title line, but Chief of Mission Priorities and Mission Goals are ICS parts.
        doc.strategy_kind = "ics"
    doc.warnings = meta.warnings + merge_warnings + _document_warnings(doc, unreadable)
    return doc


def parse_ics(text: str) -> ParsedDocument:
    """Parse an ICS document's text (plain, Markdown, or extracted from PDF/DOCX).

    Returns the metadata, the Chief of Mission Priorities, the merged tree (goals in code
    order, then management objectives) and every discrepancy between the document's
    sections. The strategy kind comes from the title line; without one, a document with
    Mission Goals or Chief of Mission Priorities is an ICS, anything else "other".
    Never raises: unreadable input gives an empty document with warnings.
    """
    try:
        return _parse(text)
    except Exception:  # a parser bug must not turn an upload into a server error
        logger.exception("ICS parser failed")
        return ParsedDocument(
            strategy_kind="other",
            warnings=["The document could not be read (internal parser error).", NO_GOALS_WARNING],
        )
