"""The calibrated answer / ask / abstain decision: fitted on dev, measured on test.

``python -m scripts.decision_eval --fit`` ranks the dev split of
``tests/data/eval`` with the demo catalogue (hybrid: words + e5; lexical:
words only), fits :mod:`bot.decide`'s two logistic regressions per mode,
chooses their thresholds on dev (direct answers on ``none`` at most 2 %) and
writes ``bot/decision_model.json``. Without ``--fit`` it only prints the
figures of the shipped model on both splits. ``make eval`` calls both.

Figures per split (answerable questions unless said):
direct: the right entry answered directly; wrong_none / wrong_smalltalk: direct
answers on questions without a rule / small talk; resolved: the right entry
answered directly or offered in the clarifying question; clarify_rate: share of
questions answered with a clarifying question; top1: the right entry ranked first.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
from typing import Sequence

from scripts.retrieval_eval import DEMO, ROOT, TODAY, load_items

MODEL_PATH = ROOT / "bot" / "decision_model.json"


@functools.lru_cache(maxsize=1)
def service():
    """A MandateService on a fresh demo database, deciding with legacy thresholds (ranking only)."""
    from bot.config import get_settings
    from bot.retrieval import Retriever
    from bot.service import MandateService
    from scripts.live import catalogue_database

    url = catalogue_database(DEMO, prefix="mandat-decide-")
    settings = dataclasses.replace(get_settings(), database_url=url, today_override=TODAY.isoformat())
    return MandateService(settings, retriever=Retriever(None))


def indexes(svc) -> dict:
    """``{"hybrid": index, "lexical": index}`` of the demo catalogue (hybrid only with an embedder)."""
    from sqlalchemy import select

    from bot import lexicon
    from bot.db.models import Mandate, Unit
    from bot.db.session import session_scope
    from bot.retrieval import build_index

    with session_scope(svc.settings.database_url) as session:
        out = {"lexical": None}
        if svc.embedder is not None:
            out["hybrid"] = svc.index(session)
        entries = session.execute(select(Mandate)).scalars().all()
        names = [n for u in session.execute(select(Unit)).scalars() for n in (u.name, *(u.aliases or []))]
        out["lexical"] = build_index(entries, svc.analyzer, lexicon.load(svc.settings.lexicon_dir), names)
    return out


def outcome(item: dict, candidates: Sequence) -> str:
    """``right``, ``in_options``, ``wrong`` or ``none`` for one ranked item (see bot.decide.choose_thresholds)."""
    from bot.decide import CLARIFY_OPTIONS

    expect = item["expect"]
    if expect in ("none", "smalltalk"):
        return "none"
    ids = [c.mandate_id for c in candidates]
    if ids[:1] == [expect]:
        return "right"
    return "in_options" if expect in ids[:CLARIFY_OPTIONS] else "wrong"


def parents_of(svc) -> dict:
    from bot.catalogue.tree import unit_parents
    from bot.db.session import session_scope

    with session_scope(svc.settings.database_url) as session:
        return unit_parents(session)


def parse_items(svc, items: Sequence[dict], embed: bool = True) -> list:
    """Each item's text parsed once (:func:`bot.question.parse`), with the embedder when ``embed``."""
    from bot.question import parse

    embedder = svc.embedder if embed else None
    return [parse(item["text"], svc.analyzer, embedder) for item in items]


def _row(item: dict, question, ranked: Sequence, outside, mode: str) -> dict:
    from bot.retrieval import OUTSIDE_MARGIN, Retriever

    row = {"item": item, "mode": mode, "ids": [c.mandate_id for c in ranked[:5]],
           "best": ranked[0].score if ranked else None, "second": ranked[1].score if len(ranked) > 1 else None}
    if not ranked:
        row.update(features=None, outcome=outcome(item, []), other_unit=outside is not None)
    else:
        margin = OUTSIDE_MARGIN["hybrid" if mode == "dense" else mode]
        row.update(features=Retriever.features(question, ranked, outside), outcome=outcome(item, ranked),
                   other_unit=outside is not None and outside.score > ranked[0].score + margin)
    return row


def rank(svc, index, items: Sequence[dict], embed: bool, questions: Sequence | None = None,
         parents: dict | None = None) -> list[dict]:
    """Per item: features, outcome, the candidates' ids, and the fixed (model-free) abstentions.

    ``questions``: the items already parsed (:func:`parse_items`; with an embedding for the hybrid
    index), so one parse serves every index; parsed here when None.
    """
    from bot.retrieval import Retriever

    parents = parents if parents is not None else parents_of(svc)
    questions = questions if questions is not None else parse_items(svc, items, embed)
    retriever = Retriever(None)
    rows = []
    for item, question in zip(items, questions):
        ranked, outside, _, mode = retriever.rank(index, question, item["team"], parents, TODAY)
        rows.append(_row(item, question, ranked, outside, mode))
    return rows


def rank_dense(svc, index, items: Sequence[dict], questions: Sequence, parents: dict | None = None) -> list[dict]:
    """:func:`rank` by meaning alone (ablation): the hybrid index's e5 scores fused without the word
    score (``bot.retrieval.FUSION_WEIGHTS`` of dense_whole and dense_part on z-scores), same units,
    inheritance, validity and "another unit fits better" check as :meth:`bot.retrieval.Retriever.rank`."""
    import numpy as np

    from bot.catalogue.tree import ancestors, select_in_force
    from bot.decide import Candidate
    from bot.retrieval import FUSION_WEIGHTS, _zscore

    parents = parents if parents is not None else parents_of(svc)
    rows = []
    for item, question in zip(items, questions):
        in_scope = {e.id for e in select_in_force(index.entries, ancestors(item["team"], parents), TODAY)}
        lexical, coverage = index.match(question.text, question.english)
        whole, part = index.dense.scores(question.embedding)
        fused = FUSION_WEIGHTS["dense_whole"] * _zscore(whole) + FUSION_WEIGHTS["dense_part"] * _zscore(part)
        keys = {e.topic_key for e in index.entries if e.id in in_scope and e.topic_key}
        ranked, outside = [], None
        for i in np.argsort(-fused, kind="stable"):
            e = index.entries[i]
            cand = Candidate(e.id, e.unit_id, e.decision, float(fused[i]), e.id in in_scope, float(coverage[i]),
                             float(lexical[i]), float(whole[i]), float(part[i]))
            if cand.in_scope:
                ranked.append(cand)
            elif outside is None and e.topic_key not in keys:
                outside = cand
        rows.append(_row(item, question, ranked, outside, "dense"))
    return rows


def rank_splits(svc, idx: dict, splits: Sequence[str] = ("dev", "test"), dense: bool = False,
                questions_out: dict | None = None) -> dict:
    """``{mode: {split: rows}}`` for every index of :func:`indexes` (and ``dense``, by meaning alone, when
    asked and an embedder is configured); each question is parsed once for all of them (and kept in
    ``questions_out[split]`` when given, for further rankings)."""
    parents = parents_of(svc)
    out: dict = {}
    for split in splits:
        items = load_items(split)
        questions = parse_items(svc, items, "hybrid" in idx)
        if questions_out is not None:
            questions_out[split] = questions
        for mode, index in idx.items():
            out.setdefault(mode, {})[split] = rank(svc, index, items, mode == "hybrid", questions, parents)
        if dense and "hybrid" in idx:
            out.setdefault("dense", {})[split] = rank_dense(svc, idx["hybrid"], items, questions, parents)
    return out


def fit(rows: Sequence[dict]):
    """A :class:`bot.decide.DecisionModel` fitted on ``rows`` (dev), with its dev figures in ``meta``."""
    from bot.decide import DecisionModel, choose_thresholds, fit_logistic

    usable = [r for r in rows if r["features"] is not None and not r["other_unit"]]
    feats = [r["features"] for r in usable]
    answer = fit_logistic(feats, [r["outcome"] == "right" for r in usable])
    resolve = fit_logistic(feats, [r["outcome"] in ("right", "in_options") for r in usable])
    # The rates are over every dev question: those the other-unit rule abstains on count too.
    totals = (sum(r["outcome"] == "none" for r in rows), sum(r["outcome"] != "none" for r in rows))
    t_answer, t_clarify, figures = choose_thresholds(answer, resolve, feats, [r["outcome"] for r in usable],
                                                     totals=totals)
    meta = {"fitted_on": "tests/data/eval/dev.yaml", "questions": len(usable),
            **{k: round(v, 4) for k, v in figures.items()}}
    return DecisionModel(answer, resolve, t_answer, t_clarify, meta)


def actions(model, rows: Sequence[dict], clarify: bool = True) -> list[str]:
    """The action per ranked row: ``model`` decides (None: always answer the best entry); a clarifying
    question with fewer than two entries, and one when not ``clarify``, becomes an abstention."""
    out = []
    for r in rows:
        action = "abstain"
        if r["features"] is not None and not r["other_unit"]:
            action = model.decide(r["features"])[0] if model else "answer"
            if action == "clarify" and (len(r["ids"]) < 2 or not clarify):
                action = "abstain"
        out.append(action)
    return out


def threshold_actions(rows: Sequence[dict], min_score: float, min_margin: float) -> list[str]:
    """The action per ranked row under a plain score threshold and margin (no model, no clarification)."""
    return ["answer" if r["features"] is not None and not r["other_unit"] and r["best"] >= min_score
            and (r["second"] is None or r["best"] - r["second"] >= min_margin) else "abstain" for r in rows]


def calibrate_threshold(rows: Sequence[dict]) -> tuple[float, float]:
    """``(min_score, min_margin)`` on ``rows`` (dev): the most right direct answers with direct answers on
    ``none`` at most 2 % and on small talk at most 1 % (the grids are quantiles of the rows' own scores,
    so any score scale works)."""
    import numpy as np

    from scripts.retrieval_eval import MAX_WRONG_NONE, MAX_WRONG_SMALLTALK

    usable = [r for r in rows if r["features"] is not None]
    bests = np.array([r["best"] for r in usable])
    gaps = np.array([r["best"] - r["second"] for r in usable if r["second"] is not None])
    score_grid = np.unique(np.quantile(bests, np.linspace(0, 1, 101)))
    margin_grid = np.unique(np.quantile(gaps, [0, 0.1, 0.2, 0.3, 0.4, 0.5])) if len(gaps) else [0.0]
    best = None
    for m in margin_grid:
        for t in score_grid:
            s = score_actions(rows, threshold_actions(rows, float(t), float(m)))
            if s["wrong_none"] <= MAX_WRONG_NONE and s["wrong_smalltalk"] <= MAX_WRONG_SMALLTALK:
                key = (s["direct"], -t, -m)
                if best is None or key > best[0]:
                    best = (key, float(t), float(m))
    return (best[1], best[2]) if best else (float(score_grid[-1]) + 1.0, 0.0)


def score(model, rows: Sequence[dict], clarify: bool = True) -> dict:
    """The figures of the module docstring for ``model`` on ranked ``rows``, with per-kind counts."""
    return score_actions(rows, actions(model, rows, clarify))


def score_actions(rows: Sequence[dict], acts: Sequence[str]) -> dict:
    """:func:`score` for given actions (``answer``/``clarify``/``abstain`` per row)."""
    groups = {"answerable": 0, "none": 0, "smalltalk": 0}
    direct = resolved = top1 = wrong_none = wrong_small = clarified = 0
    wrong_direct = 0
    kinds: dict[str, list[int]] = {}
    for r, action in zip(rows, acts):
        expect = r["item"]["expect"]
        group = expect if expect in ("none", "smalltalk") else "answerable"
        groups[group] += 1
        clarified += action == "clarify"
        if group == "answerable":
            first = r["ids"][:1] == [expect]
            top1 += first
            ok_direct = action == "answer" and first
            ok_resolved = ok_direct or (action == "clarify" and expect in r["ids"][:3])
            direct += ok_direct
            wrong_direct += action == "answer" and not first
            resolved += ok_resolved
            k = kinds.setdefault(r["item"].get("kind", "?"), [0, 0, 0, 0])
            k[0] += ok_direct
            k[1] += ok_resolved
            k[2] += 1
            k[3] += first
        elif action == "answer":
            wrong_none += group == "none"
            wrong_small += group == "smalltalk"
    n = max(groups["answerable"], 1)
    return {
        "direct": direct / n, "resolved": resolved / n, "top1": top1 / n, "wrong_direct": wrong_direct / n,
        "wrong_none": wrong_none / max(groups["none"], 1), "wrong_smalltalk": wrong_small / max(groups["smalltalk"], 1),
        "clarify_rate": clarified / max(len(rows), 1), "n": groups,
        "per_kind": {k: {"direct": f"{v[0]}/{v[2]}", "resolved": f"{v[1]}/{v[2]}", "top1": f"{v[3]}/{v[2]}"}
                     for k, v in sorted(kinds.items())},
    }


def risk_coverage(model, rows: Sequence[dict]) -> list[tuple[float, float]]:
    """``(coverage, risk)`` points as ``t_answer`` sweeps 0..1: coverage = share of all questions
    answered directly, risk = share of those answers that are wrong (wrong entry, or a question
    without a rule)."""
    probs = []
    for r in rows:
        if r["features"] is None or r["other_unit"]:
            continue
        p = model.answer.probability(r["features"])
        expect = r["item"]["expect"]
        probs.append((p, r["ids"][:1] == [expect] and expect not in ("none", "smalltalk")))
    points = []
    for t in [i / 50 for i in range(51)]:
        answered = [ok for p, ok in probs if p >= t]
        if answered:
            points.append((len(answered) / len(rows), 1 - sum(answered) / len(answered)))
    return points


def fit_and_save(ranked: dict) -> dict:
    """Fit a model per mode on the ``dev`` rows of :func:`rank_splits` and write ``bot/decision_model.json``
    (the shipped modes only: hybrid and lexical); returns the models loaded back."""
    from bot.decide import load_models, save_models

    save_models({mode: fit(r["dev"]) for mode, r in ranked.items() if mode in ("hybrid", "lexical")}, MODEL_PATH)
    return load_models(MODEL_PATH)


def figures(ranked: dict, models: dict) -> dict:
    """Every figure of :func:`run` from rankings (:func:`rank_splits`) and models per mode."""
    out = {}
    for mode, splits in ranked.items():
        model = models.get(mode)
        out[mode] = {split: {"calibrated": score(model, rows), "rank_only": score(None, rows)}
                     for split, rows in splits.items()}
        out[mode]["risk_coverage_test"] = risk_coverage(model, splits["test"]) if model else []
        out[mode]["thresholds"] = {"t_answer": model.t_answer, "t_clarify": model.t_clarify} if model else None
    return out


def run(fit_model: bool) -> dict:
    """Rank both splits in both modes; fit on dev when ``fit_model``; return every figure."""
    from bot.decide import load_models

    svc = service()
    ranked = rank_splits(svc, indexes(svc))
    models = fit_and_save(ranked) if fit_model else load_models(MODEL_PATH)
    return figures(ranked, models)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit bot/decision_model.json on the dev split")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    # Every service here runs on a throwaway database: development secrets are fine.
    __import__("os").environ.setdefault("MANDAT_DEV_MODE", "1")
    figures = run(args.fit)
    for mode, data in figures.items():
        for split in ("dev", "test"):
            s = data[split]["calibrated"]
            print(f"{mode:8s} {split:4s} top1 {s['top1']:.1%}  direct {s['direct']:.1%}  resolved {s['resolved']:.1%}  "
                  f"wrong direct {s['wrong_direct']:.1%}  wrong on none {s['wrong_none']:.1%}  "
                  f"small talk {s['wrong_smalltalk']:.1%}  clarify {s['clarify_rate']:.1%}")
        print(f"{mode:8s} test per kind: " + ", ".join(
            f"{k} direct {v['direct']} resolved {v['resolved']}" for k, v in data["test"]["calibrated"]["per_kind"].items()))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1, default=lambda o: o if not isinstance(o, float) or math.isfinite(o) else None)


if __name__ == "__main__":
    main()
