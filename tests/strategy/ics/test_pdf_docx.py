"""PDF and DOCX uploads become text the same parser reads: page furniture and page breaks
in a PDF, headings, paragraphs and framework tables in a Word file."""

import io
import json
from io import StringIO

import docx
import pytest
from django.core.management import call_command

from strategy.ics.extract import DocumentError, document_text
from strategy.ics.parser import parse_ics


def _escape(text: str) -> str:
    return text.replace("\\\\", "\\\\\\\\").replace("(", "\\\\(").replace(")", "\\\\)")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a real text layer: one Helvetica line per string, per page."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        body = (
            "BT /F1 10 Tf 14 TL 40 800 Td "
            + " ".join(f"({_escape(line)}) Tj T*" for line in lines)
            + " ET"
        )
        stream = body.encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


PDF_PAGES = [
    [
        "UNCLASSIFIED",
        "Integrated Country Strategy",
        "Republic of Vandalia",
        "Approved: June 2, 2023",
        "1. Chief of Mission Priorities",
        "We will expand trade with Vandalia and keep Americans",
        "safe while they travel and work here.",
        "Page 1 of 3",
    ],
    [
        "UNCLASSIFIED",
        "2. Mission Goals and Objectives",
        "Mission Goal 1: Vandalia buys more American goods.",
        "Description and Linkages: Supports NSS Pillar 2.",
        "Mission Objective 1.1: Vandalian tariffs on U.S. farm goods fall.",
        "Justification: Tariffs on soybeans and poultry average twenty percent, which keeps American farmers out",
        "Page 2 of 3",
    ],
    [
        "UNCLASSIFIED",
        "of a growing market.",
        "Mission Goal 2: Americans in Vandalia are safe.",
        "Mission Objective 2.1: Consular services reach every province.",
        "Justification: Citizens in the north wait months for passports.",
        "Management Objective 1: Move the Embassy warehouse.",
        "Justification: The lease ends in 2025.",
        "Page 3 of 3",
    ],
]


def test_a_pdf_s_text_layer_is_parsed_with_furniture_gone_and_page_breaks_joined():
    text = document_text(make_pdf(PDF_PAGES), "vandalia.pdf")
    doc = parse_ics(text)
    assert doc.mission_name == "Republic of Vandalia"
    assert doc.counts()["mission_goal"] == 2 and doc.counts()["mission_objective"] == 2
    assert doc.counts()["management_objective"] == 1
    obj11 = next(i for i in doc.items() if i.code == "1.1")
    assert obj11.justification.endswith("which keeps American farmers out of a growing market.")
    everything = (
        " ".join(i.title + i.description + i.justification for i in doc.items())
        + doc.com_priorities
    )
    assert "UNCLASSIFIED" not in everything and "Page 2" not in everything
    assert "keep Americans safe while they travel" in doc.com_priorities


def test_a_pdf_without_a_text_layer_gets_a_clear_message():
    with pytest.raises(DocumentError, match="no text layer"):
        document_text(make_pdf([[]]), "scan.pdf")


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Integrated Country Strategy", level=1)
    document.add_paragraph("Kingdom of Lorania")
    document.add_heading("Mission Strategic Framework", level=2)
    table = document.add_table(rows=3, cols=2)
    for row, (label, title) in zip(
        table.rows,
        [
            ("Mission Goal 1", "Lorania hosts more U.S. investment."),
            ("Mission Objective 1.1", "Lorania simplifies business licensing."),
            ("Management Objective 1", "Replace the chancery roof."),
        ],
        strict=True,
    ):
        row.cells[0].text, row.cells[1].text = label, title
    document.add_heading("Mission Goals and Objectives", level=2)
    document.add_heading("Mission Goal 1: Lorania hosts more U.S. investment.", level=3)
    document.add_paragraph("Description and Linkages")
    document.add_paragraph("Investment creates jobs at home. This supports JSP Goal 2.")
    document.add_heading("Mission Objective 1.1: Lorania simplifies business licensing.", level=3)
    document.add_paragraph("Justification")
    document.add_paragraph("A license takes nine months today.")
    document.add_heading("Management Objectives", level=2)
    document.add_heading("Management Objective 1: Replace the chancery roof.", level=3)
    document.add_paragraph("Justification: The roof leaks every winter.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_word_file_s_headings_tables_and_paragraphs_are_parsed():
    doc = parse_ics(document_text(make_docx(), "lorania.docx"))
    assert doc.mission_name == "Kingdom of Lorania"
    assert doc.counts()["mission_goal"] == 1 and doc.counts()["mission_objective"] == 1
    assert doc.counts()["management_objective"] == 1
    assert doc.discrepancies == []  # the framework table and the detail agree
    goal = doc.roots[0]
    assert goal.description.startswith("Investment creates jobs") and "JSP Goal 2" in goal.linkages
    assert goal.children[0].justification == "A license takes nine months today."


def test_import_ics_reads_a_pdf_by_content_whatever_its_name(tmp_path, db):
    path = tmp_path / "strategy.txt"  # misnamed: the content decides
    path.write_bytes(make_pdf(PDF_PAGES))
    out = StringIO()
    call_command("import_ics", str(path), "--dry-run", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["counts"]["mission_objective"] == 2 and data["approved_on"] == "2023-06-02"
