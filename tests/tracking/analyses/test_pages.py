"""The analysis pages: the strategy's list, "Add analysis" (paste or upload), the analysis
page with ranked suggestions and highlighted passages, confirming links (never without a
person ticking them), and the node page's timeline; for each role."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.analyses.models import AnalysisDocument, AnalysisLink
from tracking.analyses.services import analysis_create, analysis_link

TEXT = (
    "A reading of the port statement.\n\n"
    "Nonproliferation suffers when sanctions enforcement at the ports weakens, and the "
    "nonproliferation channel with customs has gone quiet.\n\n"
    "Exports to the region were steady."
)


@pytest.fixture
def document(tree, personas):
    from datetime import date

    tree.obj21.justification = "Sanctions enforcement keeps nonproliferation credible."
    tree.obj21.save()
    return analysis_create(
        strategy=tree.strategy,
        by=personas.analyst,
        title="Port statement",
        author="Political section",
        document_date=date(2024, 2, 1),
        text=TEXT,
    )


def html(response) -> str:
    return response.content.decode()


def test_the_list_shows_analyses_and_the_add_button_to_analysts(client, tree, personas, document):
    url = reverse("analysis-list", args=[tree.strategy.pk])
    client.force_login(personas.analyst)
    page = html(client.get(url))
    assert "Port statement" in page and "Not linked yet" in page
    assert reverse("analysis-create", args=[tree.strategy.pk]) in page
    client.force_login(personas.viewer)
    page = html(client.get(url))
    assert "Port statement" in page
    assert reverse("analysis-create", args=[tree.strategy.pk]) not in page
    client.force_login(personas.outsider)
    assert client.get(url).status_code == 404


def test_pasting_an_analysis_links_nothing_and_opens_its_page(client, tree, personas):
    client.force_login(personas.analyst)
    response = client.post(
        reverse("analysis-create", args=[tree.strategy.pk]),
        {"title": "Port statement", "document_date": "2024-02-01", "text": TEXT},
    )
    document = AnalysisDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("analysis-detail", args=[document.pk])
    assert not AnalysisLink.objects.exists()


def test_uploading_a_file_and_errors_shown_on_the_form(client, tree, personas):
    client.force_login(personas.analyst)
    url = reverse("analysis-create", args=[tree.strategy.pk])
    upload = SimpleUploadedFile("port.md", TEXT.encode(), content_type="text/markdown")
    response = client.post(url, {"title": "Port", "document_date": "2024-02-01", "file": upload})
    assert response.status_code == 302
    assert AnalysisDocument.objects.get().file_name == "port.md"
    binary = SimpleUploadedFile("photo.jpg", bytes(range(256)) * 20)
    response = client.post(url, {"title": "Photo", "document_date": "2024-02-01", "file": binary})
    assert response.status_code == 400 and "does not look like a text document" in html(response)
    response = client.post(url, {"title": "Empty", "document_date": "2024-02-01"})
    assert response.status_code == 400 and "Paste the analysis or upload a file" in html(response)


def test_viewers_get_the_403_page_on_the_add_form(client, tree, personas):
    client.force_login(personas.viewer)
    response = client.get(reverse("analysis-create", args=[tree.strategy.pk]))
    assert response.status_code == 403 and "analyst role" in html(response)


def test_the_analysis_page_ranks_suggestions_with_marked_passages(client, personas, document):
    client.force_login(personas.analyst)
    page = html(client.get(reverse("analysis-detail", args=[document.pk])))
    suggestions = page.split('class="suggestions"')[1]
    first = re.search(r'<span class="code-tag">([\d.]+)</span>', suggestions).group(1)
    assert first == "2.1"
    assert "<mark>Nonproliferation</mark>" in page and "<mark>sanctions</mark>" in page
    # Nothing is ticked for the user: confirming is their decision.
    assert 'name="nodes"' in page and "checked" not in suggestions
    assert "<script" not in page.split("</head>")[1] and 'style="' not in page


def test_confirmed_links_show_on_the_analysis_and_in_both_node_timelines(
    client, tree, personas, document
):
    client.force_login(personas.analyst)
    response = client.post(
        reverse("analysis-links", args=[document.pk]), {"nodes": [tree.obj21.pk, tree.goal1.pk]}
    )
    assert response.status_code == 302
    links = {link.node_id: link for link in AnalysisLink.objects.all()}
    assert links.keys() == {tree.obj21.pk, tree.goal1.pk}
    assert links[tree.obj21.pk].score > 0  # the ranker's score when confirmed
    assert links[tree.goal1.pk].confirmed_by == personas.analyst
    page = html(client.get(reverse("analysis-detail", args=[document.pk])))
    assert "confirmed by" in page and 'class="badge badge-linked"' in page
    for node in (tree.obj21, tree.goal1):
        node_page = html(client.get(reverse("node-detail", args=[node.pk])))
        assert reverse("analysis-detail", args=[document.pk]) in node_page
        assert "Port statement" in node_page and "linked by" in node_page


def test_nodes_of_another_strategy_are_refused_and_viewers_cannot_link(
    client, tree, personas, document
):
    client.force_login(personas.analyst)
    url = reverse("analysis-links", args=[document.pk])
    client.post(url, {"nodes": [tree.other_goal.pk]})
    assert not AnalysisLink.objects.exists()
    client.force_login(personas.viewer)
    page = html(client.get(reverse("analysis-detail", args=[document.pk])))
    assert 'name="nodes"' not in page
    assert client.post(url, {"nodes": [tree.obj21.pk]}).status_code == 403
    assert not AnalysisLink.objects.exists()


def test_removing_a_link_and_deleting_the_analysis(client, tree, personas, document):
    analysis_link(document=document, nodes=[tree.obj21], by=personas.analyst)
    client.force_login(personas.analyst2)
    client.post(reverse("analysis-unlink", args=[document.pk, tree.obj21.pk]))
    assert not AnalysisLink.objects.exists()
    assert client.post(reverse("analysis-delete", args=[document.pk])).status_code == 403
    client.force_login(personas.manager)
    response = client.post(reverse("analysis-delete", args=[document.pk]))
    assert response["Location"] == reverse("analysis-list", args=[tree.strategy.pk])
    assert not AnalysisDocument.objects.exists()


def test_other_missions_analyses_are_404(client, personas, document):
    client.force_login(personas.outsider)
    assert client.get(reverse("analysis-detail", args=[document.pk])).status_code == 404
    assert client.post(reverse("analysis-delete", args=[document.pk])).status_code == 404


# The analysis page, for an analyst:
#  1. the session, 2. the signed-in user, 3. the user's memberships (user_roles),
#  4. the analysis with its strategy, mission and who added it (visible_analyses),
#  5. its links with their nodes and who confirmed them (prefetched),
#  6. the strategy's nodes, 7. their indicators' names (ranker_nodes).
ANALYSIS_PAGE_QUERIES = 7


def test_the_analysis_page_runs_a_fixed_number_of_queries(
    client, tree, personas, document, django_assert_num_queries
):
    client.force_login(personas.analyst)
    url = reverse("analysis-detail", args=[document.pk])
    with django_assert_num_queries(ANALYSIS_PAGE_QUERIES):
        assert client.get(url).status_code == 200
    analysis_link(
        document=document, nodes=[tree.obj21, tree.goal1, tree.mgmt1], by=personas.analyst
    )
    with django_assert_num_queries(ANALYSIS_PAGE_QUERIES):
        assert client.get(url).status_code == 200
