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


def rank(svc, index, items: Sequence[dict], embed: bool) -> list[dict]:
    """Per item: features, outcome, the candidates' ids, and the fixed (model-free) abstentions."""
    from bot.catalogue.tree import unit_parents
    from bot.db.session import session_scope
    from bot.question import parse
    from bot.retrieval import OUTSIDE_MARGIN, Retriever

    with session_scope(svc.settings.database_url) as session:
        parents = unit_parents(session)
    retriever = Retriever(None)
    rows = []
    for item in items:
        question = parse(item["text"], svc.analyzer, svc.embedder if embed else None)
        ranked, outside, _, mode = retriever.rank(index, question, item["team"], parents, TODAY)
        row = {"item": item, "mode": mode, "ids": [c.mandate_id for c in ranked[:5]]}
        if not ranked:
            row.update(features=None, outcome=outcome(item, []), other_unit=outside is not None)
        else:
            row.update(features=retriever.features(question, ranked, outside), outcome=outcome(item, ranked),
                       other_unit=outside is not None and outside.score > ranked[0].score + OUTSIDE_MARGIN[mode])
        rows.append(row)
    return rows


def fit(rows: Sequence[dict]):
    """A :class:`bot.decide.DecisionModel` fitted on ``rows`` (dev), with its dev figures in ``meta``."""
    from bot.decide import DecisionModel, choose_thresholds, fit_logistic

    usable = [r for r in rows if r["features"] is not None and not r["other_unit"]]
    feats = [r["features"] for r in usable]
    answer = fit_logistic(feats, [r["outcome"] == "right" for r in usable])
    resolve = fit_logistic(feats, [r["outcome"] in ("right", "in_options") for r in usable])
    t_answer, t_clarify, figures = choose_thresholds(answer, resolve, feats, [r["outcome"] for r in usable])
    meta = {"fitted_on": "tests/data/eval/dev.yaml", "questions": len(usable),
            **{k: round(v, 4) for k, v in figures.items()}}
    return DecisionModel(answer, resolve, t_answer, t_clarify, meta)


def score(model, rows: Sequence[dict]) -> dict:
    """The figures of the module docstring for ``model`` on ranked ``rows``, with per-kind counts."""
    groups = {"answerable": 0, "none": 0, "smalltalk": 0}
    direct = resolved = top1 = wrong_none = wrong_small = clarified = 0
    wrong_direct = 0
    kinds: dict[str, list[int]] = {}
    for r in rows:
        expect = r["item"]["expect"]
        group = expect if expect in ("none", "smalltalk") else "answerable"
        groups[group] += 1
        action = "abstain"
        if r["features"] is not None and not r["other_unit"]:
            action = model.decide(r["features"])[0] if model else "answer"
            if action == "clarify" and len(r["ids"]) < 2:
                action = "abstain"
        clarified += action == "clarify"
        if group == "answerable":
            first = r["ids"][:1] == [expect]
            top1 += first
            ok_direct = action == "answer" and first
            ok_resolved = ok_direct or (action == "clarify" and expect in r["ids"][:3])
            direct += ok_direct
            wrong_direct += action == "answer" and not first
            resolved += ok_resolved
            k = kinds.setdefault(r["item"].get("kind", "?"), [0, 0, 0])
            k[0] += ok_direct
            k[1] += ok_resolved
            k[2] += 1
        elif action == "answer":
            wrong_none += group == "none"
            wrong_small += group == "smalltalk"
    n = max(groups["answerable"], 1)
    return {
        "direct": direct / n, "resolved": resolved / n, "top1": top1 / n, "wrong_direct": wrong_direct / n,
        "wrong_none": wrong_none / max(groups["none"], 1), "wrong_smalltalk": wrong_small / max(groups["smalltalk"], 1),
        "clarify_rate": clarified / max(len(rows), 1), "n": groups,
        "per_kind": {k: {"direct": f"{v[0]}/{v[2]}", "resolved": f"{v[1]}/{v[2]}"} for k, v in sorted(kinds.items())},
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


def run(fit_model: bool) -> dict:
    """Rank both splits in both modes; fit on dev when ``fit_model``; return every figure."""
    from bot.decide import load_models, save_models

    svc = service()
    idx = indexes(svc)
    ranked = {mode: {split: rank(svc, index, load_items(split), mode == "hybrid") for split in ("dev", "test")}
              for mode, index in idx.items()}
    if fit_model:
        save_models({mode: fit(r["dev"]) for mode, r in ranked.items()}, MODEL_PATH)
    models = load_models(MODEL_PATH)
    out = {}
    for mode, splits in ranked.items():
        model = models.get(mode)
        out[mode] = {split: {"calibrated": score(model, rows), "rank_only": score(None, rows)}
                     for split, rows in splits.items()}
        out[mode]["risk_coverage_test"] = risk_coverage(model, splits["test"]) if model else []
        out[mode]["thresholds"] = {"t_answer": model.t_answer, "t_clarify": model.t_clarify} if model else None
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="refit bot/decision_model.json on the dev split")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.fit)
    for mode, data in figures.items():
        for split in ("dev", "test"):
            s = data[split]["calibrated"]
            print(f"{mode:8s} {split:4s} top1 {s['top1']:.1%}  direct {s['direct']:.1%}  resolved {s['resolved']:.1%}  "
                  f"wrong direct {s['wrong_direct']:.1%}  wrong on none {s['wrong_none']:.1%}  "
                  f"small talk {s['wrong_smalltalk']:.1%}  clarify {s['clarify_rate']:.1%}")
        print(f"{mode:8s} test per kind: " + ", ".join(
            f"{k} {v['direct']}/{v['resolved']}" for k, v in data["test"]["calibrated"]["per_kind"].items()))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=1, default=lambda o: o if not isinstance(o, float) or math.isfinite(o) else None)


if __name__ == "__main__":
    main()
