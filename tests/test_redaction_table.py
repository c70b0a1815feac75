"""Precision and recall of the redaction on the table of Danish chat messages.

Scored by characters (scripts/redaction_report.py says how); the floors are
the figures measured (rounded down to three decimals) when the table was written (2026-12, 240 sentences), so
a change that redacts less, or more than it should, fails here. Print the
figures with ``.venv/bin/python -m scripts.redaction_report --misses``.
"""
import pytest

from scripts.redaction_report import load_table, score

# category: (precision floor, recall floor), measured
FLOORS = {
    "cpr": (1.000, 1.000),
    "telefon": (1.000, 0.963),
    "email": (1.000, 0.974),
    "adresse": (1.000, 0.984),
    "navn": (0.993, 0.974),
}
OVERALL = (0.998, 0.978)
KEEP_RATE = 0.991  # "must stay" spans left as written
ITEM_RECALL = 0.970  # gold items with every letter and digit redacted


@pytest.fixture(scope="module")
def scores():
    return score(load_table())


def test_table_is_big_enough():
    items = load_table()
    assert len(items) >= 150
    assert sum(1 for item in items if item.gold) >= 150


@pytest.mark.parametrize("category", list(FLOORS))
def test_precision_and_recall_per_category(scores, category):
    precision, recall = FLOORS[category]
    assert scores.precision(category) >= precision, scores.misses
    assert scores.recall(category) >= recall, scores.misses


def test_overall_precision_recall_and_what_must_stay(scores):
    assert scores.precision() >= OVERALL[0], scores.over
    assert scores.recall() >= OVERALL[1], scores.misses
    assert scores.keep_rate() >= KEEP_RATE, scores.over
    assert scores.item_recall() >= ITEM_RECALL, scores.misses


def test_no_cpr_number_survives(scores):
    assert not [m for m in scores.misses if m[0] == "cpr"]
