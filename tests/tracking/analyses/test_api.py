"""/api/v1/analyses/: create from JSON text or a multipart file, list and filter, retrieve
with ETag, conditional update, confirm and remove links, and /suggest/, which stores
nothing. (Who may call what is in tests/api/test_authorization_matrix.py; other missions'
objects in tests/api/test_cross_mission.py.)"""

import io

import docx
import pytest
from django.apps import apps
from django.urls import reverse

from tests.api.conftest import client_for
from tracking.analyses.models import AnalysisDocument, AnalysisLink

TEXT = (
    "Nonproliferation talks stalled.\n\n"
    "Exports grew after the trade missions; prosperity follows when tariffs fall."
)


@pytest.fixture
def analyst(personas):
    return client_for(personas.analyst)


def create(client, tree, **extra):
    body = {"strategy": tree.strategy.id, "title": "Trade missions", "document_date": "2024-02-01"}
    return client.post(reverse("api:analysis-list"), {**body, "text": TEXT, **extra}, format="json")


def test_create_from_json_returns_the_analysis_with_an_etag(analyst, tree, personas):
    response = create(analyst, tree, author="Economic section")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["text"] == TEXT and data["text_length"] == len(TEXT)
    assert data["links"] == [] and data["created_by"] == "analyst"
    assert data["source_kind"] == "pasted" and data["mission"] == personas.mission.id
    assert response["ETag"] == f'"analysisdocument-{data["id"]}-v1"'


def test_create_from_an_uploaded_word_file(analyst, tree):
    word = docx.Document()
    word.add_paragraph("Exports grew after the trade missions.")
    buffer = io.BytesIO()
    word.save(buffer)
    buffer.seek(0)
    buffer.name = "missions.docx"
    body = {
        "strategy": tree.strategy.id,
        "title": "Missions",
        "document_date": "2024-02-01",
        "file": buffer,
    }
    response = analyst.post(reverse("api:analysis-list"), body, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["source_kind"] == "docx"
    assert response.json()["file_name"] == "missions.docx"
    assert "trade missions" in response.json()["text"]


def test_a_binary_upload_is_a_400_naming_the_file(analyst, tree):
    upload = io.BytesIO(bytes(range(256)) * 20)
    upload.name = "photo.jpg"
    body = {"strategy": tree.strategy.id, "title": "x", "document_date": "2024-02-01"}
    response = analyst.post(
        reverse("api:analysis-list"), {**body, "file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "photo.jpg" in response.json()["fields"]["file"][0]


def test_list_leaves_the_text_out_and_filters_by_node(analyst, tree, personas):
    first = AnalysisDocument.objects.get(pk=create(analyst, tree).json()["id"])
    create(analyst, tree, title="Other")
    analyst.post(
        reverse("api:analysis-links", args=[first.pk]), {"nodes": [tree.obj11.id]}, format="json"
    )
    response = analyst.get(reverse("api:analysis-list"), {"node": tree.obj11.id})
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [first.pk]
    assert "text" not in rows[0] and rows[0]["text_length"] == len(TEXT)
    assert rows[0]["links"][0]["code"] == "1.1"


def test_links_are_confirmed_and_removed_and_change_the_etag(analyst, tree, personas):
    created = create(analyst, tree).json()
    url = reverse("api:analysis-links", args=[created["id"]])
    response = analyst.post(
        url, {"nodes": [tree.obj11.id, tree.goal1.id], "scores": {str(tree.obj11.id): 4.2}},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    links = {link["code"]: link for link in response.json()["links"]}
    assert links["1.1"]["score"] == 4.2 and links["1"]["score"] is None
    assert links["1.1"]["confirmed_by"] == "analyst"
    assert response["ETag"].endswith('-v2"')
    stale = analyst.delete(
        reverse("api:analysis-unlink", args=[created["id"], tree.goal1.id]),
        HTTP_IF_MATCH=f'"analysisdocument-{created["id"]}-v1"',
    )
    assert stale.status_code == 412
    response = analyst.delete(reverse("api:analysis-unlink", args=[created["id"], tree.goal1.id]))
    assert [link["code"] for link in response.json()["links"]] == ["1.1"]


def test_linking_a_node_of_another_strategy_of_the_same_mission_is_a_400(analyst, tree):
    from tests.factories import NodeFactory, StrategyFactory

    sibling = StrategyFactory(mission=tree.strategy.mission)
    stranger = NodeFactory(strategy=sibling, code="9", title="Elsewhere in time")
    created = create(analyst, tree).json()
    response = analyst.post(
        reverse("api:analysis-links", args=[created["id"]]), {"nodes": [stranger.id]}, format="json"
    )
    assert response.status_code == 400
    assert "own strategy" in response.json()["fields"]["nodes"][0]
    assert not AnalysisLink.objects.exists()


def test_update_honours_if_match(analyst, tree):
    created = create(analyst, tree).json()
    url = reverse("api:analysis-detail", args=[created["id"]])
    tag = f'"analysisdocument-{created["id"]}-v1"'
    response = analyst.patch(url, {"title": "Renamed"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    again = analyst.patch(url, {"title": "Again"}, format="json", HTTP_IF_MATCH=tag)
    assert again.status_code == 412


def test_suggest_ranks_nodes_with_marked_passages_and_stores_nothing(analyst, tree):
    before = {m._meta.label: m.objects.count() for m in apps.get_models()}
    response = analyst.post(
        reverse("api:analysis-suggest"), {"strategy": tree.strategy.id, "text": TEXT}, format="json"
    )
    assert response.status_code == 200, response.content
    after = {m._meta.label: m.objects.count() for m in apps.get_models()}
    assert before == after
    best = response.json()[0]
    assert best["code"] in ("1.1", "1.1.1") and best["relevance"] == 100
    passage = best["passages"][0]
    assert passage["text"] == TEXT[passage["start"] : passage["end"]]
    words = {passage["text"][s:e].lower() for s, e in passage["marks"]}
    assert "exports" in words or "trade" in words


def test_suggest_from_a_file_and_refusals(analyst, tree):
    upload = io.BytesIO(TEXT.encode())
    upload.name = "notes.txt"
    url = reverse("api:analysis-suggest")
    response = analyst.post(url, {"strategy": tree.strategy.id, "file": upload}, format="multipart")
    assert response.status_code == 200 and response.json()
    empty = analyst.post(url, {"strategy": tree.strategy.id, "text": " "}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()["fields"]
