"""Markdown to safe HTML for note bodies and narratives.

Markdown is rendered first, then nh3 keeps only a small set of tags and attributes, so
raw HTML in the source (scripts, event handlers, iframes, remote images) never reaches a
page, an e-mail or a PDF. Links get rel="noopener noreferrer nofollow".
"""

import threading
from html import unescape

import markdown as md
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}

# Building a Markdown converter loads its extensions (milliseconds); a report renders
# dozens of texts, so each thread keeps one and resets it between texts.
_local = threading.local()


def _to_html(text: str) -> str:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(
            extensions=["tables", "sane_lists"], output_format="html"
        )
    return converter.reset().convert(text)


def render_markdown(text: str) -> str:
    """Render Markdown to HTML that is safe to show anywhere without further escaping."""
    if not text:
        return ""
    html = _to_html(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(text: str) -> str:
    """The words of a Markdown text with every tag and markup removed, on one line — for
    excerpts in reports, where the reader's template escapes it again."""
    if not text:
        return ""
    html = _to_html(text)
    stripped = nh3.clean(html, tags=set(), attributes={})
    return " ".join(unescape(stripped).split())
