"""Quality floors of issue 13 on the held-out rules split (tests/data/eval/rules_test.yaml).

The figures are ``scripts.rules_eval``'s (``make eval`` prints them): the demo catalogue in a
throwaway database, every item answered by ``MandateService.answer`` as the chat answers it (a
follow-up after its previous question, a clarifying question resolved as pressing the right
button would). The floors sit at the measured values; the issue's targets (wrong-yes at most
1 %, limits in every unit at least 95 %, mistakes and serious situations routed at least 95 %)
are not met yet, and the comments say by how much.
"""
import pytest

from scripts import rules_eval as R

# Measured by `python -m scripts.rules_eval --split test` on 2026-12-01, at commit "Over a limit the
# answer says what the entry's own sentence says then" (85 items):
WRONG_YES_CEILING = 6 / 85        # measured 6/85 = 7.1 % (target 1 %; 9.4 % before this session)
RIGHT_ENTRY_FLOOR = 81 / 85       # measured 81/85 = 95.3 %
ROUTED_FLOOR = 14 / 16            # measured 14/16 = 87.5 % (target 95 %)
LIMIT_FLOORS = {"kr": 10 / 12, "minutter": 4 / 4, "timer": 5 / 6, "dage": 4 / 6, "personer": 4 / 4, "gange": 3 / 4}
"""Limits judged right per unit, measured (target 95 % each)."""


@pytest.fixture(scope="module")
def figures():
    return R.evaluate(R.load_items("test"), R.service_answer_fn())


def test_the_wrong_yes_rate_stays_at_most_the_measured(figures):
    assert figures["wrong_yes"]["rate"] <= WRONG_YES_CEILING + 1e-9, figures["wrong_yes_ids"]


def test_the_right_entry_answers(figures):
    assert figures["right_entry"]["rate"] >= RIGHT_ENTRY_FLOOR - 1e-9, figures["right_entry"]


def test_mistakes_and_serious_situations_are_routed(figures):
    assert figures["routed"]["rate"] >= ROUTED_FLOOR - 1e-9, figures["routed"]


@pytest.mark.parametrize("unit", list(LIMIT_FLOORS))
def test_limits_are_judged_right_in_each_unit(figures, unit):
    assert figures["limits"][unit]["rate"] >= LIMIT_FLOORS[unit] - 1e-9, figures["limits"][unit]
