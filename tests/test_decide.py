"""The calibrated answer / ask / abstain decision (bot/decide.py) and the shipped model."""
from __future__ import annotations

import json

import pytest

from bot.config import get_settings
from bot.decide import FEATURES, DecisionModel, choose_thresholds, fit_logistic, load_models, save_models


def _row(**values):
    base = {name: 0.0 for name in FEATURES}
    base.update(values)
    return base


def _toy_rows():
    """Clear right answers have high word and meaning scores; questions without a rule low ones."""
    rows, outcomes = [], []
    for i in range(30):
        rows.append(_row(lexical=0.3 + i / 100, dense_part=0.9, coverage=0.8, agree=1.0, dense_margin=0.03))
        outcomes.append("right")
        rows.append(_row(lexical=0.05 + i / 300, dense_part=0.83, coverage=0.2, agree=0.5, dense_margin=0.005))
        outcomes.append("none")
        rows.append(_row(lexical=0.15 + i / 300, dense_part=0.87, coverage=0.4, agree=0.5, dense_margin=0.0))
        outcomes.append("in_options")
    return rows, outcomes


def test_thresholds_keep_direct_answers_on_questions_without_a_rule_under_two_percent():
    rows, outcomes = _toy_rows()
    answer = fit_logistic(rows, [o == "right" for o in outcomes])
    resolve = fit_logistic(rows, [o in ("right", "in_options") for o in outcomes])
    t_answer, t_clarify, figures = choose_thresholds(answer, resolve, rows, outcomes)
    model = DecisionModel(answer, resolve, t_answer, t_clarify)
    actions = [model.decide(r)[0] for r in rows]
    direct_on_none = sum(a == "answer" and o == "none" for a, o in zip(actions, outcomes)) / outcomes.count("none")
    assert direct_on_none <= 0.02 and figures["wrong_none_direct"] <= 0.02
    assert sum(a == "answer" and o == "right" for a, o in zip(actions, outcomes)) >= 25
    assert any(a == "clarify" for a, o in zip(actions, outcomes) if o == "in_options")


def test_strict_mode_demands_more():
    rows, outcomes = _toy_rows()
    answer = fit_logistic(rows, [o == "right" for o in outcomes])
    row = rows[0]
    p = answer.probability(row)
    model = DecisionModel(answer, answer, p - 0.05, 0.99)  # just under this question's probability
    assert model.decide(row)[0] == "answer"
    assert model.decide(row, strict=True)[0] == "abstain"


def test_a_model_needs_both_classes():
    with pytest.raises(ValueError, match="positive and negative"):
        fit_logistic([_row(), _row()], [1, 1])


def test_models_round_trip_through_json(tmp_path):
    rows, outcomes = _toy_rows()
    answer = fit_logistic(rows, [o == "right" for o in outcomes])
    path = tmp_path / "model.json"
    save_models({"hybrid": DecisionModel(answer, answer, 0.7, 0.4, {"fitted_on": "toy"})}, path)
    loaded = load_models(path)["hybrid"]
    assert loaded.t_answer == 0.7 and loaded.meta["fitted_on"] == "toy"
    assert abs(loaded.answer.probability(rows[0]) - answer.probability(rows[0])) < 1e-4


def test_a_model_of_other_features_is_refused(tmp_path):
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"features": ["fused"], "models": {}}))
    with pytest.raises(ValueError, match="run `make eval`"):
        load_models(path)


def test_the_shipped_model_was_fitted_on_dev_under_the_two_percent_limit():
    models = load_models(get_settings().decision_model)
    assert set(models) == {"hybrid", "lexical"}
    for model in models.values():
        assert model.meta["fitted_on"] == "tests/data/eval/dev.yaml"
        assert model.meta["wrong_none_direct"] <= 0.02
        assert 0 < model.t_clarify <= model.t_answer < 1
