"""Turn an uploaded ICS file's bytes into text for `strategy.ics.parser.parse_ics`.

Callers: the import page, the API import endpoint and `manage.py import_ics` hand over the
raw bytes; `DocumentError` carries a message fit to show the person who uploaded the file.

The format is recognised from the content, not the file name (names lie: "strategy.txt"
saved from Word is often a DOCX). Each format has one reader in `_READERS`; PDF and DOCX
readers are placeholders until their issue lands, so adding one is one function.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable


class DocumentError(ValueError):
    """The upload cannot be read as an ICS document; the message says why, for the user."""


_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"
# Control characters other than tab, line feed, form feed and carriage return, plus the
# replacement mark a bad decode leaves: their share tells text from binary.
_UNREADABLE_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_MAX_UNREADABLE = 0.05
_PDF_SNIFF_BYTES = 1024  # the PDF header may follow a little junk


def _describe(filename: str) -> str:
    return f"“{filename}”" if filename else "The file"


def _sniff(data: bytes) -> str:
    """ "pdf", "docx", "zip", "doc", "rtf" or "text"."""
    if b"%PDF-" in data[:_PDF_SNIFF_BYTES]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "zip"
        return "docx" if "word/document.xml" in names else "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE: Word 97-2003
        return "doc"
    if data.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    return "text"


def _looks_like_utf16(data: bytes) -> str | None:
    """UTF-16 without a byte order mark: ASCII text leaves a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even_nuls = sample[0::2].count(0) / len(sample[0::2])
    odd_nuls = sample[1::2].count(0) / len(sample[1::2])
    if odd_nuls > 0.4 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.4 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _decode(data: bytes) -> str:
    """BOM first, then UTF-8, then Windows-1252 (what Word and Notepad save on Windows)."""
    if data.startswith(_UTF32_BOMS):
        return data.decode("utf-32", errors="replace")
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :].decode("utf-8", errors="replace")
    utf16 = _looks_like_utf16(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _plain_text(data: bytes, filename: str) -> str:
    """TXT and Markdown."""
    text = _decode(data).replace("\x00", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentError(f"{_describe(filename)} contains no text.")
    unreadable = len(_UNREADABLE_RE.findall(text)) / len(text)
    if unreadable > _MAX_UNREADABLE:
        raise DocumentError(
            f"{_describe(filename)} does not look like a text document (it contains binary "
            "data). Upload the strategy as plain text (.txt) or Markdown (.md)."
        )
    return text


def _not_yet(data: bytes, filename: str) -> str:
    raise DocumentError(
        f"{_describe(filename)} is a PDF or Word file. PDF/DOCX import is not available yet: "
        "save the document as plain text (.txt) or Markdown (.md) and upload that."
    )


def _unsupported(message: str) -> Callable[[bytes, str], str]:
    def reader(data: bytes, filename: str) -> str:
        raise DocumentError(f"{_describe(filename)} {message}")

    return reader


_READERS: dict[str, Callable[[bytes, str], str]] = {
    "text": _plain_text,
    "pdf": _not_yet,  # a later issue: text from the PDF's pages
    "docx": _not_yet,  # a later issue: paragraphs of word/document.xml
    "zip": _unsupported("is a ZIP archive, not an ICS document."),
    "doc": _unsupported("is an old Word 97-2003 (.doc) file; save it as DOCX or plain text."),
    "rtf": _unsupported("is a Rich Text (.rtf) file; save it as plain text or Markdown."),
}


def document_text(data: bytes, filename: str = "") -> str:
    """The text of an uploaded ICS document.

    Raises `DocumentError` (a `ValueError`) with a message for the user when the file is
    empty, binary, or in a format that cannot be imported yet.
    """
    if not data or not data.strip():
        raise DocumentError(f"{_describe(filename)} is empty.")
    return _READERS[_sniff(data)](data, filename)
