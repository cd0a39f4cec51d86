"""Write an `IcsDocument` as a Word file (python-docx).

Caller: `tracking.documents.strategy_document`. The file looks like the source documents:
the strategy kind in the Title style, the four sections as Heading 1, goals and management
objectives as Heading 2, objectives as Heading 3, sub-objectives as Heading 4 ("Mission
Objective 1.1: …"), the framework as bold-labelled lines, narrative under bold
"Justification:" labels, the appendix as tables. In public mode "FOR PUBLIC RELEASE" heads
the first page and every page's header and footer; footers number the pages.

Made to read back: `strategy.ics.extract.document_text` turns headings into Markdown `#`
lines and paragraphs into lines, and `parse_ics` then finds the same tree and narrative as
in the Markdown export. So the body carries exactly what the Markdown document's lines
carry: a paragraph per Markdown line group (soft line breaks inside it), an empty
paragraph where the Markdown has a blank line between paragraphs (the parser's paragraph
break), and text the parser reads literally (`document.text_blocks`, `parser.literal`).
Headers and footers are not read by the importer.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from strategy.ics.document import (
    PUBLIC_BANNER,
    Block,
    IcsDocument,
    TextBlock,
    heading_text,
    starts_block,
    text_blocks,
)
from strategy.ics.parser import literal

AUTHOR = "Strategy Tracker"
# Item headings by level: goals and management objectives 2, objectives 3, sub-objectives 4.
_ITEM_STYLE = {1: "Heading 2", 2: "Heading 3", 3: "Heading 4"}
_INDENT = Mm(6)  # per framework level, and a list item's hanging indent
_MUTED = RGBColor(0x56, 0x60, 0x6B)
# Characters XML 1.0 cannot carry (python-docx refuses them).
_XML_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def write_docx(document: IcsDocument, *, generated_at: datetime | None = None) -> bytes:
    """The document as DOCX bytes."""
    word = docx.Document()
    _page_setup(word, document)
    _properties(word, document, generated_at or datetime.now(UTC))
    writer = _Writer(word)
    for block in document.blocks:
        writer.write(block)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def _clean(text: str) -> str:
    return _XML_ILLEGAL_RE.sub("", text)


def _page_setup(word: docx.document.Document, document: IcsDocument) -> None:
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(22)
    section.top_margin = section.bottom_margin = Mm(22)
    normal = word.styles["Normal"]
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if document.public:
        header.add_run(PUBLIC_BANNER).bold = True
        footer.add_run(PUBLIC_BANNER).bold = True
        footer = section.footer.add_paragraph()
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    _field(footer, "PAGE", "1")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES", "1")
    for paragraph in (*section.header.paragraphs, *section.footer.paragraphs):
        for run in paragraph.runs:
            run.font.size = Pt(9)


def _field(paragraph: Paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in when it lays the pages out."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _properties(word: docx.document.Document, document: IcsDocument, when: datetime) -> None:
    properties = word.core_properties
    properties.title = _clean(document.title)
    properties.author = AUTHOR
    properties.last_modified_by = AUTHOR
    properties.subject = "Integrated Country Strategy export"
    properties.comments = "FOR PUBLIC RELEASE" if document.public else ""
    properties.keywords = "ICS; public release" if document.public else "ICS"
    properties.created = properties.modified = when
    properties.revision = 1


class _Writer:
    def __init__(self, word: docx.document.Document) -> None:
        self.word = word

    def write(self, block: Block) -> None:
        getattr(self, f"_{block.kind}")(block)

    # --- front matter and sections ---

    def _banner(self, block: Block) -> None:
        paragraph = self.word.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.add_run(block.text).bold = True
        paragraph.paragraph_format.space_after = Pt(12)

    def _title(self, block: Block) -> None:
        self.word.add_paragraph(_clean(block.text), style="Title")

    def _meta(self, block: Block) -> None:
        paragraph = self.word.add_paragraph(_clean(literal(block.text)))
        paragraph.paragraph_format.space_after = Pt(4)

    def _section(self, block: Block) -> None:
        self.word.add_heading(_clean(block.text), level=1)

    # --- the tree ---

    def _entry(self, block: Block) -> None:
        paragraph = self.word.add_paragraph()
        paragraph.paragraph_format.left_indent = _INDENT * (block.level - 1)
        paragraph.paragraph_format.space_after = Pt(6)
        paragraph.add_run(f"{block.label}:").bold = True
        paragraph.add_run(" " + _clean(literal(block.title, after=f"{block.label}: ")))

    def _item(self, block: Block) -> None:
        style = _ITEM_STYLE[block.level]
        self.word.add_paragraph(_clean(heading_text(block.label, block.title)), style=style)

    def _narrative(self, block: Block) -> None:
        paragraphs = text_blocks(block.text)
        if not paragraphs:
            return
        if block.label:
            label = self.word.add_paragraph()
            label.add_run(f"{block.label}:").bold = True
            if starts_block(block.text):
                self._gap()  # the Markdown document puts a blank line after the label
            else:
                first, *rest = paragraphs[0]
                label.add_run(" ")
                self._lines(label, first.lines)
                paragraphs[0] = rest
        for index, blocks in enumerate(paragraphs):
            if index:
                self._gap()
            for text_block in blocks:
                self._text_block(text_block)
        self._gap()

    def _gap(self) -> None:
        """An empty paragraph: a blank line to the reader and the importer alike."""
        self.word.add_paragraph()

    def _text_block(self, block: TextBlock) -> None:
        paragraph = self.word.add_paragraph()
        if block.list_item:
            paragraph.paragraph_format.left_indent = _INDENT
            paragraph.paragraph_format.first_line_indent = -_INDENT
        self._lines(paragraph, block.lines)

    @staticmethod
    def _lines(paragraph: Paragraph, lines: tuple[str, ...]) -> None:
        for index, line in enumerate(lines):
            run = paragraph.add_run(_clean(line))
            if index < len(lines) - 1:
                run.add_break()

    # --- the appendix ---

    def _subheading(self, block: Block) -> None:
        self.word.add_heading(_clean(block.label), level=2)

    def _table(self, block: Block) -> None:
        table = self.word.add_table(rows=1 + len(block.rows), cols=len(block.columns))
        table.style = self.word.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, block.columns, strict=True):
            cell.paragraphs[0].add_run(text).bold = True
        for row, cells in zip(table.rows[1:], block.rows, strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.paragraphs[0].add_run(_clean(text))
        for row in table.rows:
            for cell in row.cells:
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(9)
        self._gap()

    def _note(self, block: Block) -> None:
        paragraph = self.word.add_paragraph()
        run = paragraph.add_run(_clean(block.text))
        run.italic = True
        run.font.color.rgb = _MUTED
        paragraph.paragraph_format.space_after = Pt(6)
