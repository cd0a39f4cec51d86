"""Analyses travel with the strategy's JSON export and come back on import, links and
who confirmed them included; exports made before analyses existed still import."""

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tracking.analyses.models import AnalysisDocument, AnalysisLink
from tracking.analyses.services import analysis_create, analysis_link
from tracking.exports import strategy_export_json, strategy_import_json


def without(document, *keys):
    return {k: v for k, v in document.items() if k not in keys}


@pytest.fixture
def exported(tree, personas):
    document = analysis_create(
        strategy=tree.strategy,
        by=personas.analyst,
        title="Port statement",
        author="Political section",
        document_date=date(2024, 2, 1),
        source_url="https://example.org/statement",
        text="Sanctions enforcement at the ports weakened.",
    )
    analysis_link(
        document=document,
        nodes=[tree.obj21, tree.goal2],
        by=personas.manager,
        scores={tree.obj21.pk: 6.25},
    )
    return json.loads(json.dumps(strategy_export_json(strategy=tree.strategy)))


def test_an_analysis_round_trips_with_its_links(exported, personas):
    (analysis,) = exported["analyses"]
    assert analysis["created_by"] == "analyst" and analysis["source_kind"] == "pasted"
    assert [(x["node_code"], x["confirmed_by"], x["score"]) for x in analysis["links"]] == [
        ("2", "manager", None),
        ("2.1", "manager", 6.25),
    ]
    restored = strategy_import_json(data=exported, mission_slug="restored")
    again = json.loads(json.dumps(strategy_export_json(strategy=restored)))
    assert without(again, "exported_at", "mission") == without(exported, "exported_at", "mission")
    copy = AnalysisDocument.objects.get(strategy=restored)
    assert copy.created_by == personas.analyst and copy.history.count() == 1
    assert AnalysisLink.objects.filter(document=copy).count() == 2


def test_older_exports_without_analyses_import(exported):
    del exported["analyses"]
    restored = strategy_import_json(data=exported, mission_slug="older")
    assert not AnalysisDocument.objects.filter(strategy=restored).exists()


def test_a_bad_score_or_a_link_to_a_node_the_document_lacks_is_refused_by_place(exported):
    bad_score = json.loads(json.dumps(exported))
    bad_score["analyses"][0]["links"][1]["score"] = "high"
    with pytest.raises(ValidationError, match=r"analyses\[0\]\.links\[1\]\.score: must be a"):
        strategy_import_json(data=bad_score, mission_slug="broken")
    exported["analyses"][0]["links"][0]["node_code"] = "9"
    with pytest.raises(ValidationError, match=r"analyses\[0\]\.links\[0\]\.node_code"):
        strategy_import_json(data=exported, mission_slug="broken")
    assert not AnalysisDocument.objects.filter(strategy__mission__slug="broken").exists()
