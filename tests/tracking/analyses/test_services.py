"""Writes of analyses: who may add, change, link and delete; what the text may be; files
read with the ICS import's extraction; links only to the analysis' own strategy; history."""

import datetime as dt
import io

import docx
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from strategy.concurrency import StaleVersion
from strategy.pdf import html_to_pdf
from tracking.analyses import services
from tracking.analyses.models import AnalysisDocument, AnalysisLink, SourceKind
from tracking.analyses.services import (
    analysis_create,
    analysis_delete,
    analysis_link,
    analysis_unlink,
    analysis_update,
)

DAY = dt.date(2024, 2, 1)
TEXT = "Customs stopped coal smuggling; sanctions enforcement improved at the ports."


def add(tree, by, **extra):
    fields = {"title": "Coal at the ports", "document_date": DAY, "text": TEXT, **extra}
    return analysis_create(strategy=tree.strategy, by=by, **fields)


def test_an_analyst_adds_pasted_text_with_its_details(tree, personas):
    document = add(
        tree,
        personas.analyst,
        author="Political section",
        source_url="https://example.org/statement",
        text="Line one\r\nLine two",
    )
    document.refresh_from_db()
    assert document.text == "Line one\nLine two"
    assert document.source_kind == SourceKind.PASTED and document.file_name == ""
    assert document.created_by == personas.analyst and document.version == 1
    assert document.history.get().history_user == personas.analyst


def test_a_viewer_may_not_add_an_analysis(tree, personas):
    with pytest.raises(PermissionDenied, match="analyst role"):
        add(tree, personas.viewer)
    assert not AnalysisDocument.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"text": "Nul\x00led"}, "text", "NUL"),
        ({"text": "   "}, "text", "Paste the analysis"),
        ({"title": " "}, "title", "title"),
        ({"source_url": "javascript:alert(1)"}, "source_url", "http"),
        ({"text": "x" * (services.MAX_TEXT_CHARS + 1)}, "text", "at most"),
    ],
)
def test_bad_input_is_refused_with_a_message_on_its_field(tree, personas, fields, field, message):
    with pytest.raises(ValidationError) as caught:
        add(tree, personas.analyst, **fields)
    assert message in " ".join(caught.value.message_dict[field])


def test_a_word_document_is_read_with_its_headings(tree, personas):
    word = docx.Document()
    word.add_heading("Coal smuggling", level=1)
    word.add_paragraph("Ship-to-ship transfers continue off the coast.")
    buffer = io.BytesIO()
    word.save(buffer)
    document = add(
        tree, personas.analyst, text="", file_data=buffer.getvalue(), file_name="coal.docx"
    )
    assert document.source_kind == SourceKind.DOCX and document.file_name == "coal.docx"
    assert "# Coal smuggling" in document.text and "Ship-to-ship" in document.text


def test_a_pdf_is_read_from_its_text_layer(tree, personas):
    pdf = html_to_pdf("<h1>Harbour review</h1><p>Customs clearance for exports sped up.</p>")
    document = add(tree, personas.analyst, text="", file_data=pdf, file_name="review.pdf")
    assert document.source_kind == SourceKind.PDF
    assert "Customs clearance for exports" in document.text


def test_markdown_files_are_kept_as_text(tree, personas):
    data = b"# Title\n\nBody about exports.\n"
    document = add(tree, personas.analyst, text="", file_data=data, file_name="note.md")
    assert document.source_kind == SourceKind.TEXT and document.text.startswith("# Title")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04not really a zip", "ZIP"),
        (b"{\\rtf1 hello}", "Rich Text"),
        (bytes(range(256)) * 40, "binary"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(tree, personas, data, message):
    with pytest.raises(ValidationError) as caught:
        add(tree, personas.analyst, text="", file_data=data, file_name="upload.bin")
    assert message in " ".join(caught.value.message_dict["file"])


def test_files_over_the_size_limit_are_refused(tree, personas, monkeypatch):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1024)
    with pytest.raises(ValidationError, match="at most"):
        add(tree, personas.analyst, text="", file_data=b"a" * 2048, file_name="big.txt")


def test_text_and_file_together_are_refused(tree, personas):
    with pytest.raises(ValidationError, match="not both"):
        add(tree, personas.analyst, file_data=b"Exports.", file_name="a.txt")


def test_links_are_made_once_with_who_confirmed_them_and_the_score(tree, personas):
    document = add(tree, personas.analyst)
    made = analysis_link(
        document=document,
        nodes=[tree.obj21, tree.goal2],
        by=personas.analyst,
        scores={tree.obj21.pk: 7.5},
    )
    assert {link.node for link in made} == {tree.obj21, tree.goal2}
    again = analysis_link(document=document, nodes=[tree.obj21], by=personas.manager)
    assert again == []  # already linked: left as it was
    link = AnalysisLink.objects.get(document=document, node=tree.obj21)
    assert link.confirmed_by == personas.analyst and link.score == 7.5
    assert AnalysisLink.objects.get(document=document, node=tree.goal2).score is None
    document.refresh_from_db()
    assert document.version == 2  # one bump for the batch, none for the repeat


def test_only_nodes_of_the_same_strategy_can_be_linked(tree, personas):
    document = add(tree, personas.analyst)
    with pytest.raises(ValidationError, match="own strategy"):
        analysis_link(document=document, nodes=[tree.obj11, tree.other_goal], by=personas.manager)
    assert not AnalysisLink.objects.exists()


def test_viewers_may_not_link_and_unlinking_removes_the_link_with_history(tree, personas):
    document = add(tree, personas.analyst)
    with pytest.raises(PermissionDenied):
        analysis_link(document=document, nodes=[tree.obj11], by=personas.viewer)
    analysis_link(document=document, nodes=[tree.obj11], by=personas.analyst)
    analysis_unlink(document=document, node=tree.obj11, by=personas.analyst2)
    assert not AnalysisLink.objects.exists()
    removed = AnalysisLink.history.filter(history_type="-").get()
    assert removed.history_user == personas.analyst2 and removed.node_id == tree.obj11.pk
    with pytest.raises(ValidationError, match="not linked"):
        analysis_unlink(document=document, node=tree.obj11, by=personas.analyst)


def test_who_added_it_or_a_manager_edits_and_deletes_others_may_not(tree, personas):
    document = add(tree, personas.analyst)
    with pytest.raises(PermissionDenied, match="who added"):
        analysis_update(document=document, by=personas.analyst2, title="Mine now")
    analysis_update(document=document, by=personas.analyst, title="Coal, revised")
    analysis_update(document=document, by=personas.manager, author="Political section")
    document.refresh_from_db()
    assert (document.title, document.author, document.version) == (
        "Coal, revised",
        "Political section",
        3,
    )
    with pytest.raises(StaleVersion):
        analysis_update(document=document, by=personas.manager, title="Old", expected_version=1)
    with pytest.raises(PermissionDenied):
        analysis_delete(document=document, by=personas.analyst2)
    analysis_link(document=document, nodes=[tree.obj11], by=personas.analyst)
    analysis_delete(document=document, by=personas.manager)
    assert not AnalysisDocument.objects.exists() and not AnalysisLink.objects.exists()
    assert AnalysisDocument.history.filter(history_type="-").get().history_user == personas.manager
