"""Answer, ask or abstain: a calibrated decision over a ranking (DESIGN.md, "Answering", step 3).

:func:`bot.retrieval.Retriever.retrieve` ranks the entries in force for the
asker's unit and hands the ranking's features to a :class:`DecisionModel`:
two logistic regressions (scikit-learn, fitted on the dev split by ``make
eval``; coefficients shipped as JSON in ``bot/decision_model.json``):

* ``answer``: the probability that the best entry is the right one;
* ``resolve``: the probability that the right entry is among the first
  :data:`CLARIFY_OPTIONS` (so that "Handler det om A, B eller C?" helps).

The bot answers directly when ``p_answer`` reaches ``t_answer``, asks one
clarifying question when ``p_resolve`` reaches ``t_clarify``, and abstains
otherwise. Both thresholds are chosen on dev so that direct answers on
questions without a rule stay at or under 2 % (:data:`MAX_WRONG_NONE`).
A wrong "ja, det må du" is the worst failure: asking or abstaining beats guessing.

The result is a frozen :class:`Decision`; nothing downstream changes it.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

FEATURES = ("lexical", "dense_whole", "dense_part", "coverage", "lexical_margin", "dense_margin", "agree",
            "outside_gap", "length", "english", "english_lexical", "english_coverage", "english_dense_part")
"""The decision model's inputs, per question (:meth:`bot.retrieval.Retriever.features`):

lexical: the best entry's word score (0..1); dense_whole / dense_part: its cosines (whole text, best
part; 0 without an embedder); coverage: the share of the asked words it contains (0..1);
lexical_margin / dense_margin: its word score (best-part cosine) minus the best other entry's;
agree: 1 when the best entry is also first by words and by meaning, 0.5 when by one of them;
outside_gap: the best entry not in force for the unit minus the best one in force (fused; 0 if none);
length: log(1 + number of words) of the message; english: 1 for an English question (its words
reach the Danish catalogue through a dictionary, so its scores run lower), and english_* the
same scores again for English questions only (their own slope).

Chosen on the dev split by 5-fold cross-validation (direct right answers at <= 2 % on questions
without a rule, mean of 8 shuffles): the scores without the language 37.3 %; with ``english``
45.3 %; with the English slopes 49.8 %. Earlier, on 3 shuffles: the fused score and its margin
added to the scores 23.1 % against 33.6 %; random forests and gradient boosting no better. The
NLU's intent confidence is not an input: the retrieval decision is the same for every NLU, and a
low confidence already makes the decision strict (:data:`STRICT_MARGIN`)."""

CLARIFY_OPTIONS = 3
"""At most this many entries in a clarifying question (plus "Ingen af dem")."""
MAX_WRONG_NONE = 0.02
"""Direct answers on questions without a rule, at most (the dev split; issue "Understand what employees mean")."""
CLARIFY_NONE_COST = 0.5
"""What a clarifying question on a question without a rule costs, against one answerable question
resolved by it (the employee reads the options and picks "Ingen af dem": time lost, no harm done,
and the question still reaches HR)."""
STRICT_MARGIN = 0.1
"""When the NLU fell back or called the message out of scope, ``p_answer`` must exceed the threshold by this."""


@dataclass(frozen=True)
class Candidate:
    """One ranked entry.

    Attributes:
        mandate_id / unit_id / decision: the entry.
        score: fused score (z-scored; higher is better); equals ``lexical`` without an embedder.
        in_scope: in force for the asker's unit.
        coverage: share of the asked words the entry contains (0..1).
        lexical: word score (0..1). dense_whole / dense_part: cosines (-1..1), 0 without an embedder.
    """

    mandate_id: str
    unit_id: str
    decision: str
    score: float
    in_scope: bool
    coverage: float = 1.0
    lexical: float = 0.0
    dense_whole: float = 0.0
    dense_part: float = 0.0


@dataclass(frozen=True)
class Decision:
    """What to do with a question: frozen, made once per message.

    Attributes:
        action: ``answer``, ``clarify`` or ``abstain``.
        reason: ``answered``, ``clarify``, ``follow_up``, ``low_score``, ``other_unit``
            (an entry not in force for the unit fits better) or ``no_entries``.
        answer: the entry to answer from (action ``answer``), else None.
        candidates: the best in-scope entries, best first (at most 5).
        outside: the best entry not in force for the unit whose topic has no entry in force.
        in_scope: ids of every entry in force for the unit.
        p_answer / p_resolve: the model's probabilities (None when not scored).
        features: the model's inputs (:data:`FEATURES`), for HR's review and ``make eval``.
    """

    action: str
    reason: str
    answer: Candidate | None = None
    candidates: tuple[Candidate, ...] = ()
    outside: Candidate | None = None
    in_scope: frozenset = frozenset()
    p_answer: float | None = None
    p_resolve: float | None = None
    features: Mapping[str, float] = field(default_factory=dict)

    @property
    def best(self) -> Candidate | None:
        """The best in-scope candidate, answered or not (for HR's review)."""
        return self.candidates[0] if self.candidates else None

    @property
    def options(self) -> tuple[Candidate, ...]:
        """The entries a clarifying question offers (action ``clarify``)."""
        return self.candidates[:CLARIFY_OPTIONS] if self.action == "clarify" else ()


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic regression on standardised :data:`FEATURES`."""

    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def probability(self, features: Mapping[str, float]) -> float:
        """P(positive) for one question's features."""
        z = self.intercept + sum(c * (features[name] - m) / s
                                 for c, name, m, s in zip(self.coef, FEATURES, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


@dataclass(frozen=True)
class DecisionModel:
    """The calibrated answer / clarify / abstain policy for one retrieval mode (hybrid or lexical).

    Attributes:
        answer / resolve: the two regressions.
        t_answer / t_clarify: thresholds on their probabilities (chosen on dev).
        meta: where the figures come from (split, counts, measured rates).
    """

    answer: Logistic
    resolve: Logistic
    t_answer: float
    t_clarify: float
    meta: Mapping = field(default_factory=dict)

    def decide(self, features: Mapping[str, float], strict: bool = False) -> tuple[str, float, float]:
        """``(action, p_answer, p_resolve)`` for one question's features."""
        p_answer, p_resolve = self.answer.probability(features), self.resolve.probability(features)
        if p_answer >= self.t_answer + (STRICT_MARGIN if strict else 0.0):
            return "answer", p_answer, p_resolve
        if p_resolve >= self.t_clarify + (STRICT_MARGIN if strict else 0.0):
            return "clarify", p_answer, p_resolve
        return "abstain", p_answer, p_resolve


def _logistic(data: Mapping) -> Logistic:
    return Logistic(tuple(data["coef"]), float(data["intercept"]), tuple(data["mean"]), tuple(data["scale"]))


def load_models(path: str | Path) -> dict[str, DecisionModel]:
    """``{"hybrid": model, "lexical": model}`` from the JSON file ``make eval`` writes.

    Raises:
        FileNotFoundError: no file at ``path`` (set ``MANDAT_DECISION_MODEL`` or run ``make eval``).
        ValueError: the file is not a decision model of these :data:`FEATURES`.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if tuple(data.get("features", ())) != FEATURES:
        raise ValueError(f"{path}: decision model features {data.get('features')} are not {list(FEATURES)}; "
                         "run `make eval` to refit it")
    return {mode: DecisionModel(_logistic(m["answer"]), _logistic(m["resolve"]), float(m["t_answer"]),
                                float(m["t_clarify"]), m.get("meta", {}))
            for mode, m in data["models"].items()}


def save_models(models: Mapping[str, DecisionModel], path: str | Path) -> None:
    """Write ``models`` as :func:`load_models` reads them."""
    def logistic(m: Logistic) -> dict:
        return {"coef": [round(c, 6) for c in m.coef], "intercept": round(m.intercept, 6),
                "mean": [round(v, 6) for v in m.mean], "scale": [round(v, 6) for v in m.scale]}
    data = {"features": list(FEATURES), "models": {
        mode: {"answer": logistic(m.answer), "resolve": logistic(m.resolve), "t_answer": m.t_answer,
               "t_clarify": m.t_clarify, "meta": dict(m.meta)} for mode, m in models.items()}}
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def fit_logistic(rows: Sequence[Mapping[str, float]], labels: Sequence[int]) -> Logistic:
    """A logistic regression (scikit-learn, L2, C=0.1) on standardised features (C chosen with the
    features, :data:`FEATURES`).

    Raises:
        ValueError: fewer than two classes among ``labels``.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        raise ValueError("fit_logistic needs positive and negative examples")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=0.1, max_iter=1000).fit((x - mean) / scale, y)
    return Logistic(tuple(model.coef_[0].tolist()), float(model.intercept_[0]), tuple(mean.tolist()),
                    tuple(scale.tolist()))


def choose_thresholds(answer: Logistic, resolve: Logistic, rows: Sequence[Mapping[str, float]],
                      outcomes: Sequence[str], max_wrong_none: float = MAX_WRONG_NONE,
                      totals: tuple[int, int] | None = None) -> tuple[float, float, dict]:
    """Thresholds on dev.

    ``t_answer``: the most right direct answers with direct answers on ``none`` at most
    ``max_wrong_none`` and wrong direct answers on answerable questions at most as many (in rate).
    ``t_clarify``: the most answerable questions resolved by a clarifying question, less
    :data:`CLARIFY_NONE_COST` for each clarifying question on a ``none`` question.

    Args:
        rows: features per dev question.
        outcomes: per question ``right`` (best entry is the expected one), ``in_options`` (the
            expected entry is among the first :data:`CLARIFY_OPTIONS` but not first), ``wrong``
            (an answerable question whose entry is not among them) or ``none`` (no rule / small talk:
            both are questions without a rule).
        totals: ``(questions without a rule, answerable questions)`` of the whole split, when
            ``rows`` leave some out (those the other-unit rule abstains on): the rates are over all.

    Returns:
        ``(t_answer, t_clarify, figures on dev at those thresholds)``.
    """
    p_a = [answer.probability(r) for r in rows]
    p_r = [resolve.probability(r) for r in rows]
    n_none = max(totals[0] if totals else sum(o == "none" for o in outcomes), 1)
    n_ans = max(totals[1] if totals else sum(o != "none" for o in outcomes), 1)
    grid = [i / 100 for i in range(1, 100)]
    best = None
    for t in grid:
        answered = [o for o, p in zip(outcomes, p_a) if p >= t]
        wrong_none = sum(o == "none" for o in answered) / n_none
        wrong_ans = sum(o in ("wrong", "in_options") for o in answered) / n_ans
        right = sum(o == "right" for o in answered) / n_ans
        if wrong_none <= max_wrong_none and wrong_ans <= max_wrong_none and (best is None or (right, -t) > best[0]):
            best = ((right, -t), t, right, wrong_none, wrong_ans)
    t_answer = best[1] if best else 0.99
    best_c = None
    for t in grid:
        asked = [o for o, pa, pr in zip(outcomes, p_a, p_r) if pa < t_answer and pr >= t]
        utility = sum(o in ("right", "in_options") for o in asked) - CLARIFY_NONE_COST * sum(o == "none" for o in asked)
        if best_c is None or (utility, t) > best_c[0]:
            best_c = ((utility, t), t, sum(o in ("right", "in_options") for o in asked) / n_ans,
                      sum(o == "none" for o in asked) / n_none)
    t_clarify = best_c[1]
    figures = {"right_direct": best[2] if best else 0.0, "wrong_none_direct": best[3] if best else 0.0,
               "wrong_answerable_direct": best[4] if best else 0.0,
               "resolved_by_clarify": best_c[2], "clarify_on_none": best_c[3]}
    return t_answer, t_clarify, figures
