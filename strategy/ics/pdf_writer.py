"""Write an `IcsDocument` as an A4 PDF (WeasyPrint, template strategy/ics_document.html).

Caller: `tracking.documents.strategy_document`. The PDF looks like the source documents —
title block, the four numbered sections, bold item headings ("Mission Objective 1.1: …")
and narrative labels, the appendix as tables — with page numbers in the footer and, in
public mode, "FOR PUBLIC RELEASE" on top of the first page and in every page's header and
footer. Resources load only through `strategy.pdf` (static files and data: URIs).

Made to read back. `strategy.ics.extract` takes the text layer with pypdf, which gives one
line per printed line and no blank line between paragraphs, and the parser rebuilds
paragraphs from the wrapped lines (`parser._continues`). So the layout tells it where a
paragraph ends, and only there, in ways a reader does not notice:

- a line never ends on a full stop, colon or semicolon inside a paragraph (the space after
  one is a no-break space), so "the sentence goes on" holds for every wrapped line;
- the last line of a paragraph always ends early (its last words carry a wide right
  padding): after a full stop, the next word would clearly have fitted; without one, the
  line ends before the middle — both of which the parser reads as a paragraph's end;
- a wrapped line never starts with words the parser would take for structure ("Goal 2:",
  "Justification:", "- ", a lone "12"): the space before them does not break;
- words with a hyphen, dash or slash do not break inside (hyphenation is off too);
- a paragraph never breaks across pages, and headings stay with what follows.

Page furniture is what the parser already drops: "Page 3 of 9" and "FOR PUBLIC RELEASE"
(pypdf puts margin boxes after the page's body text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from strategy.ics.document import (
    PUBLIC_BANNER,
    Block,
    IcsDocument,
    TextBlock,
    heading_text,
    starts_block,
    text_blocks,
)
from strategy.ics.parser import line_shape, literal
from strategy.pdf import html_to_pdf

AUTHOR = "Strategy Tracker"
NBSP = "\u00a0"
# A sentence ends on a word: full stop, question or exclamation mark, colon or semicolon,
# perhaps with closing quotes or brackets (the parser's `_TERMINAL_RE`).
_TERMINAL_RE = re.compile(r"[.!?:;][\"'”’)\]]*$")
# A word with a break opportunity inside it (hyphen, dash, slash, other symbols).
_INNER_BREAK_RE = re.compile(r"[^\w.,;:'’\"“”()\[\]]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_END_WORDS = 2  # the last words of a paragraph, kept together on its (short) last line
_CHECK_REST = 120  # a shorter rest of a paragraph might be its whole last line


def write_pdf(document: IcsDocument, *, fetch: Any = None) -> bytes:
    """The document as PDF bytes. `fetch` replaces the safe URL fetcher (tests wrap it)."""
    html = render_html(document)
    return html_to_pdf(html) if fetch is None else html_to_pdf(html, fetch=fetch)


def render_html(document: IcsDocument) -> str:
    """The standalone HTML WeasyPrint lays out."""
    return render_to_string(
        "strategy/ics_document.html",
        {
            "document": document,
            "banner": PUBLIC_BANNER if document.public else "",
            "author": AUTHOR,
            "blocks": [_view(block) for block in document.blocks],
        },
    )


@dataclass(frozen=True)
class _Paragraph:
    html: SafeString
    list_item: bool = False
    gap_before: bool = False  # a new Markdown paragraph (else the same one, tight)


@dataclass(frozen=True)
class _View:
    """A block as the template shows it: `html` is escaped text with line-break control."""

    kind: str
    html: str = ""  # a SafeString from `_flow`
    level: int = 1
    label: str = ""
    paragraphs: tuple[_Paragraph, ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _view(block: Block) -> _View:
    if block.kind == "entry":
        return _View(
            "entry",
            html=_flow(block.label + ":", literal(block.title, after=f"{block.label}: ")),
            level=block.level,
        )
    if block.kind == "item":
        return _View("item", html=_flow(heading_text(block.label, block.title)), level=block.level)
    if block.kind == "narrative":
        return _narrative(block)
    if block.kind == "table":
        return _View(
            "table",
            columns=block.columns,
            rows=tuple(tuple(_plain(cell) for cell in row) for row in block.rows),
        )
    if block.kind == "subheading":
        return _View("subheading", html=_flow(block.label))
    if block.kind in ("meta", "note"):
        return _View(block.kind, html=_flow(literal(block.text)))
    return _View(block.kind, html=_flow(block.text))  # banner, title, section


def _narrative(block: Block) -> _View:
    paragraphs: list[_Paragraph] = []
    chunks = text_blocks(block.text)
    label_line: tuple[str, ...] = ()
    if block.label and chunks and not starts_block(block.text):
        first, *rest = chunks[0]
        label_line, chunks[0] = first.lines, rest
    for index, chunk in enumerate(chunks):
        for position, text_block in enumerate(chunk):
            paragraphs.append(
                _Paragraph(
                    _lines(text_block),
                    list_item=text_block.list_item,
                    gap_before=index > 0 and position == 0,
                )
            )
    label = ""
    if block.label:
        label = block.label + ":"
    head = _lines(TextBlock(label_line), lead=label) if label else SafeString("")
    return _View("narrative", html=head, label=label, paragraphs=tuple(paragraphs))


def _lines(block: TextBlock, lead: str = "") -> SafeString:
    """A block's lines, joined by forced line breaks; the last one ends the paragraph."""
    if not block.lines:
        return _flow(lead, end=False)
    parts = []
    for index, line in enumerate(block.lines):
        last = index == len(block.lines) - 1
        parts.append(_flow(lead if index == 0 else "", line, end=last))
    return mark_safe("<br>".join(parts))  # each part was escaped by `_flow`


def _plain(text: str) -> str:
    return " ".join(_CONTROL_RE.sub("", text).split())


def _flow(lead: str, text: str = "", *, end: bool = False) -> SafeString:
    """One line of the document as HTML the browser may wrap only where the parser will
    rejoin it (see the module docstring). `lead` is a bold label ("Justification:") that
    starts the line; `end` marks the last line of a paragraph (kept short)."""
    lead_words = _plain(lead).split(" ") if _plain(lead) else []
    words = lead_words + (_plain(text).split(" ") if _plain(text) else [])
    if not words:
        return SafeString("")
    # Length of the text from each word to the end: a short rest may be a whole last line.
    rest_lengths = [0] * (len(words) + 1)
    for index in range(len(words) - 1, -1, -1):
        rest_lengths[index] = rest_lengths[index + 1] + len(words[index]) + 1
    pieces: list[str] = []
    for index, word in enumerate(words):
        html = escape(word)
        if _INNER_BREAK_RE.search(word[:-1]):
            html = f'<span class="nobreak">{html}</span>'
        if index < len(lead_words):
            html = f"<strong>{html}</strong>"
        if index:
            pieces.append(" " if _may_break_before(words, index, rest_lengths[index]) else NBSP)
        pieces.append(html)
    if end:
        # Glue the last words and pad them, so the paragraph's last line ends early: well
        # before the next word would have fitted after a full stop, before the middle of
        # the line without one.
        keep = min(_END_WORDS, len(words))
        tail_start = len(pieces) - (2 * keep - 1)
        tail = "".join(NBSP if piece == " " else piece for piece in pieces[tail_start:])
        kind = "paragraph-end" if _TERMINAL_RE.search(words[-1]) else "paragraph-end-open"
        pieces[tail_start:] = [f'<span class="{kind}">{tail}</span>']
    return mark_safe("".join(pieces))  # every word went through escape()


def _may_break_before(words: list[str], index: int, rest_length: int) -> bool:
    """Whether a wrapped line may start at `words[index]`: not after a sentence's end, and
    not where the line would read as structure (judged on the rest of the paragraph when
    it is short enough to be the whole last line, else on the line's first words)."""
    if _TERMINAL_RE.search(words[index - 1]):
        return False
    rest = words[index:]
    if rest_length <= _CHECK_REST and line_shape(" ".join(rest)) != "text":
        return False
    return line_shape(" ".join(rest[:12])) == "text"
