"""document_text: uploaded bytes to text, with a clear error for what cannot be read."""

import io
import random
import zipfile

import pytest

from strategy.ics.extract import DocumentError, document_text


def zipped(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        "Mission Goal 1: Trade — “fair”.".encode(),
        "\ufeffMission Goal 1: Trade — “fair”.".encode(),
        "Mission Goal 1: Trade — “fair”.".encode("utf-16"),
        "Mission Goal 1: Trade — “fair”.".encode("utf-16-le"),
        "Mission Goal 1: Trade — “fair”.".encode("utf-16-be"),
        "Mission Goal 1: Trade — “fair”.".encode("utf-32"),
        "Mission Goal 1: Trade — “fair”.".encode("cp1252"),
    ],
)
def test_text_in_common_encodings_is_decoded(data):
    assert document_text(data, "ics.txt") == "Mission Goal 1: Trade — “fair”."


def test_nul_bytes_are_stripped_and_line_endings_normalised():
    assert document_text(b"Goal\x00 1\r\nNext\rLast") == "Goal 1\nNext\nLast"


@pytest.mark.parametrize("data", [b"", b"   \n\t ", "\ufeff".encode(), "  ".encode("utf-16")])
def test_empty_files_are_refused(data):
    with pytest.raises(DocumentError, match=r"empty|no text"):
        document_text(data, "blank.txt")


def test_binary_junk_is_refused_with_a_clear_message():
    junk = random.Random(3).randbytes(20_000)
    with pytest.raises(DocumentError, match="does not look like a text document"):
        document_text(junk, "junk.bin")
    with pytest.raises(DocumentError):
        document_text(bytes(range(256)) * 40)


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "ics.pdf"),
        (b"\n\n%PDF-1.4 after some junk", "renamed.txt"),
        (zipped(["[Content_Types].xml", "word/document.xml"]), "ics.docx"),
    ],
)
def test_damaged_pdf_and_docx_are_recognised_by_content_and_refused_clearly(data, filename):
    # Readable PDF and DOCX files are imported: see test_pdf_docx.py.
    with pytest.raises(DocumentError, match="could not be read as a") as error:
        document_text(data, filename)
    assert filename in str(error.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (zipped(["xl/workbook.xml"]), "ZIP archive"),
        (b"PK\x03\x04 truncated archive", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Word 97-2003"),
        (b"{\\rtf1\\ansi Mission Goal 1}", "Rich Text"),
    ],
)
def test_other_formats_are_refused_by_name(data, message):
    with pytest.raises(DocumentError, match=message):
        document_text(data, "upload")


def test_document_error_is_a_value_error():
    assert issubclass(DocumentError, ValueError)
