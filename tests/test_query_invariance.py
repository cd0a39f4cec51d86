"""Query counts do not grow with the data (issue #6, case b of `make bench`).

Two missions' worth of generated data (`tracking.datagen`, the SQL behind
`manage.py generate_data`), then four more: every page, API list and detail, the strategy
tree, the report snapshot and a bulk upload must run exactly as many queries on the
bigger database as on the smaller one — for a superuser, who sees every mission, and for
a mission manager. The bench runs the same measurement at scale 1 and scale 10.
"""

from __future__ import annotations

import pytest

from bench.query_counts import measure
from strategy.models import Node
from tracking import datagen
from tracking.models import Indicator, IndicatorPeriod, NoteLink, ProgressNote
from tracking.selectors import strategy_tree

pytestmark = pytest.mark.django_db


def test_query_counts_are_the_same_for_two_and_six_missions():
    datagen.generate(missions=2, seed=1)
    small = measure(seed=1)
    datagen.generate(missions=4, seed=2)
    large = measure(seed=1)

    assert len(small) > 25  # every page and endpoint was measured
    grew = {name: (small[name], large[name]) for name in small if small[name] != large[name]}
    assert not grew, f"queries grew with the data (small, large): {grew}"


def test_generated_data_has_the_documented_shape():
    g = datagen.generate(missions=2, seed=3)

    assert Node.objects.filter(strategy__mission__slug__startswith="gen-3-").count() == 2 * 54
    assert g.indicators == Indicator.objects.count() == 2 * 49 * 4
    assert g.periods == IndicatorPeriod.objects.count() == 2 * 49 * 4 * 36
    assert g.notes == ProgressNote.objects.filter(state="approved").count() == 2 * 49 * 10
    assert NoteLink.objects.filter(is_primary=True).count() == g.notes
    # realistic: a mix of statuses, some stale objectives and some late indicators
    counts = strategy_tree(strategy=Node.objects.first().strategy).counts()
    assert counts["total"] == 49
    assert len(counts["computed"]) >= 3 and len(counts["assessment"]) >= 3
    assert 0 < counts["stale"] < 49
    assert counts["late_indicators"] > 0


def test_a_seed_fixes_the_text_and_rare_words_are_rare():
    assert datagen._sentences(7) == datagen._sentences(7)
    assert datagen._sentences(7) != datagen._sentences(8)
    rare = set(datagen.rare_words(7))
    common = {w for title, body in datagen._sentences(7) for w in f"{title} {body}".split()}
    assert not rare & {w.strip(".").lower() for w in common}


def test_a_superusers_home_lists_every_strategy_with_counts_only(client):
    datagen.generate(missions=3, seed=6)
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("home-admin", "h@example.org", None)
    client.force_login(admin)
    html = client.get("/").content.decode()
    assert html.count("49 tracked items") == 3  # one line per strategy, from one COUNT query
    assert "Statuses are on the" in html
    assert "chip-on_track" not in html  # no trees were built for the status chips
