"""Turn an uploaded ICS file's bytes into text for `strategy.ics.parser.parse_ics`.

Callers: the import page, the API import endpoint and `manage.py import_ics` hand over the
raw bytes; `DocumentError` carries a message fit to show the person who uploaded the file.

The format is recognised from the content, not the file name (names lie: "strategy.txt"
saved from Word is often a DOCX). Each format has one reader in `_READERS`: PDF text comes
from pypdf (pages separated by form feeds, as pdftotext does, so the parser can rejoin
paragraphs cut by a page break), DOCX from python-docx (paragraphs and tables in document
order; headings keep their level as Markdown `#`; table cells are joined with " | ", which
the parser reads as label separators).
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


MAX_PDF_PAGES = 500
MAX_DOCX_XML_BYTES = 50 * 1024 * 1024  # word/document.xml, uncompressed
_MIN_TEXT_CHARS = 40  # less than this from a whole PDF means it has no text layer


def _read_pdf(data: bytes, filename: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(
                f"{_describe(filename)} is password-protected; remove the password and upload it again."
            )
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DocumentError(
                f"{_describe(filename)} has {len(reader.pages)} pages; at most {MAX_PDF_PAGES} are read."
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
        RecursionError,
    ) as exc:
        raise DocumentError(
            f"{_describe(filename)} could not be read as a PDF ({type(exc).__name__})."
        ) from exc
    text = "\n\f\n".join(page.replace("\x00", "") for page in pages)
    if len(text.strip()) < _MIN_TEXT_CHARS:
        raise DocumentError(
            f"{_describe(filename)} has no text layer — it looks like a scanned image. Run it "
            "through OCR, or upload the document as Word, text or Markdown."
        )
    return text


def _read_docx(data: bytes, filename: str) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.getinfo("word/document.xml").file_size > MAX_DOCX_XML_BYTES:
                raise DocumentError(f"{_describe(filename)} is too large to read.")
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                text = block.text.strip()
                style = (block.style.name if block.style is not None else "") or ""
                level = style.removeprefix("Heading ").strip()
                if text and style.startswith("Heading ") and level.isdigit():
                    text = "#" * min(int(level), 6) + " " + text
                lines.append(text)
            elif isinstance(block, Table):
                for row in block.rows:
                    cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                    if cells:
                        lines.append(" | ".join(cells))
                lines.append("")
    except DocumentError:
        raise
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        OSError,
    ) as exc:
        raise DocumentError(
            f"{_describe(filename)} could not be read as a Word document ({type(exc).__name__})."
        ) from exc
    text = "\n".join(lines).replace("\x00", "")
    if not text.strip():
        raise DocumentError(f"{_describe(filename)} contains no text.")
    return text


def _unsupported(message: str) -> Callable[[bytes, str], str]:
    def reader(data: bytes, filename: str) -> str:
        raise DocumentError(f"{_describe(filename)} {message}")

    return reader


_READERS: dict[str, Callable[[bytes, str], str]] = {
    "text": _plain_text,
    "pdf": _read_pdf,
    "docx": _read_docx,
    "zip": _unsupported("is a ZIP archive, not an ICS document."),
    "doc": _unsupported("is an old Word 97-2003 (.doc) file; save it as DOCX or plain text."),
    "rtf": _unsupported("is a Rich Text (.rtf) file; save it as plain text or Markdown."),
}


def document_text(data: bytes, filename: str = "") -> str:
    """The text of an uploaded ICS document.

    Raises `DocumentError` (a `ValueError`) with a message for the user when the file is
    empty, binary, a scanned PDF without text, damaged, or in a format we do not read.
    """
    if not data or not data.strip():
        raise DocumentError(f"{_describe(filename)} is empty.")
    return _READERS[_sniff(data)](data, filename)
