"""Retrieval quality on labelled question sets, threshold calibration and baselines.

The labelled sets (``tests/data/eval/dev.yaml`` for tuning, ``test.yaml``
held out) target the demo catalogue. Every item is answered by the retrieval
layer alone (no Rasa): small talk must be abstained on here too, which is
stricter than the bot, where the NLU sees small talk first.

Calibration: the abstention threshold and margin are chosen on the dev split
to keep mandate answers on ``none`` items at or under 2 % (and on small talk
at or under 1 %) while answering as many answerable items correctly as
possible (a constrained grid search). The same procedure calibrates each
baseline, so the comparison on the test split is fair.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "data" / "eval"
DEMO = ROOT / "bot" / "demo" / "catalogue.yaml"
TODAY = dt.date(2026, 11, 29)
MAX_WRONG_NONE = 0.02
MAX_WRONG_SMALLTALK = 0.01


@dataclass
class Ranked:
    """One item ranked by a method: best in-scope id and score, runner-up score, outside score."""

    item: dict
    best_id: str | None
    best: float
    second: float
    outside: float


def load_items(split: str) -> list[dict]:
    """The items of ``dev`` or ``test``."""
    return yaml.safe_load((EVAL_DIR / f"{split}.yaml").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def demo_service():
    """A MandateService on a temporary database holding the demo catalogue (one per process: the
    evaluation only reads it, and each copy costs a migration and an import)."""
    from bot.config import get_settings
    from bot.service import MandateService
    from scripts.live import catalogue_database

    url = catalogue_database(DEMO, prefix="mandat-reval-")
    settings = dataclasses.replace(get_settings(), database_url=url, today_override=TODAY.isoformat())
    return MandateService(settings)


def variant_index(service, *, lexicon_dir: str | None = "default", unit_names: bool = True,
                  lemmas: str = "default", learned: dict | None = None, english_lemmas: bool = True,
                  max_per_word: bool = True, dense: bool = False):
    """The demo catalogue's index built another way, for ablations in ``make eval``.

    Args:
        lexicon_dir: ``"default"`` (the configured one), or None: no thesaurus / dictionary.
        unit_names: False: do not take unit names out of questions.
        lemmas: ``"default"`` (the configured spaCy pipeline), or ``"none"``: a blank Danish
            pipeline without a lemmatizer (surface forms, Snowball stems only).
        learned: ``{mandate_id: [question, ...]}`` as if HR had linked these questions to
            the entries in the review queue (:func:`bot.service.linked_questions`); with
            ``dense`` they also become the entries' dense parts (:func:`bot.dense.part_texts`).
        english_lemmas: False: English words are looked up only as written.
        max_per_word: False: every matched term of an entry counts (the sum before
            :meth:`bot.retrieval.CatalogueIndex.match` took the best match per asked word).
        dense: True: with the service's embedder (a hybrid index); False: words only.
    """
    import tempfile

    import spacy
    from sqlalchemy import select

    from bot import lexicon
    from bot.db.models import Mandate, Unit
    from bot.db.session import session_scope
    from bot.embeddings import PassageCache
    from bot.language import DanishAnalyzer
    from bot.retrieval import build_index

    analyzer = service.analyzer
    if lemmas == "none":
        path = Path(tempfile.mkdtemp(prefix="mandat-spacy-blank-"))
        spacy.blank("da").to_disk(path)
        analyzer = DanishAnalyzer(str(path))
    lexicon_dir = service.settings.lexicon_dir if lexicon_dir == "default" else lexicon_dir
    cache = None
    if dense and service.embedder is not None:
        cache = PassageCache(service.embedder, Path(service.settings.var_dir) / "embeddings")
    with session_scope(service.settings.database_url) as session:
        entries = session.execute(select(Mandate)).scalars().all()
        names = [n for u in session.execute(select(Unit)).scalars() for n in (u.name, *(u.aliases or []))]
        return build_index(entries, analyzer, lexicon.load(lexicon_dir), names if unit_names else (), learned,
                           english_lemmas, max_per_word, passage_cache=cache)


def to_ranked(rows: Sequence[dict]) -> list[Ranked]:
    """:class:`Ranked` of :func:`scripts.decision_eval.rank` rows (for the threshold calibration here).
    An entry not in force that beats the best in-scope one by the outside margin makes the bot
    abstain whatever the threshold: folded in as a best score of -inf."""
    out = []
    for r in rows:
        best = r["best"] if r["best"] is not None else 0.0
        if r["other_unit"]:
            best = float("-inf")
        out.append(Ranked(r["item"], r["ids"][0] if r["ids"] else None, best,
                          r["second"] if r["second"] is not None else best - 1.0, 0.0))
    return out


def rank_ours(service, items: Sequence[dict], index=None, questions: Sequence | None = None) -> list[Ranked]:
    """Rank with Mandatbot's retrieval (thresholds are applied later); ``index``: a variant (ablations;
    default: the service's own); ``questions``: the items already parsed (:func:`bot.question.parse`)."""
    from bot.db.session import session_scope
    from scripts import decision_eval as D

    if index is None:
        with session_scope(service.settings.database_url) as session:
            index = service.index(session)
    embed = index.dense is not None
    return to_ranked(D.rank(service, index, items, embed, questions))


def review_loop(service, rows_dev: Sequence[dict], rows_test: Sequence[dict], model) -> dict:
    """The HR review loop, simulated: the dev questions the bot misses are linked to their entries.

    Every answerable dev item that the bot (hybrid ranking, the calibrated decision ``model``) does
    not answer directly with its entry is linked to that entry, as HR would do in the review queue
    (``none`` items would be marked not relevant: nothing is linked). A linked question counts for
    the words (:data:`bot.retrieval.LEARNED_MATCH`) and becomes one of the entry's dense parts.
    ``rows_dev``/``rows_test``: :func:`scripts.decision_eval.rank` rows of the splits on the hybrid index.
    Returns the test split's figures before and after (:func:`scripts.decision_eval.score`), how
    many questions were linked, and the figures of the linked questions asked again.
    """
    from scripts import decision_eval as D

    acts = D.actions(model, rows_dev)
    learned: dict[str, list[str]] = {}
    for r, action in zip(rows_dev, acts):
        expect = r["item"]["expect"]
        if expect not in ("none", "smalltalk") and not (action == "answer" and r["ids"][:1] == [expect]):
            learned.setdefault(expect, []).append(r["item"]["text"])
    index = variant_index(service, learned=learned, dense=True)
    linked = [r["item"] for r in rows_dev if r["item"]["text"] in learned.get(r["item"]["expect"], ())]
    test = [r["item"] for r in rows_test]
    embed = index.dense is not None
    return {"linked": len(linked), "entries": len(learned),
            "asked_again": D.score(model, D.rank(service, index, linked, embed)),
            "before": D.score(model, rows_test), "after": D.score(model, D.rank(service, index, test, embed))}


def _scope(service) -> tuple[list, Callable[[str], set]]:
    from bot.catalogue.tree import ancestors, select_in_force, unit_parents
    from bot.db.session import session_scope

    with session_scope(service.settings.database_url) as session:
        index = service.index(session)
        parents = unit_parents(session)
    entries = index.entries

    def in_scope(team: str) -> set:
        return {e.id for e in select_in_force(entries, ancestors(team, parents), TODAY)}

    return entries, in_scope


def rank_tfidf(service, items: Sequence[dict]) -> list[Ranked]:
    """Baseline: plain word TF-IDF (scikit-learn defaults, lower-cased) over each entry's text."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    entries, in_scope = _scope(service)
    docs = [" ".join([e.topic, e.summary, *e.keywords, *e.examples, *e.conditions]) for e in entries]
    vectorizer = TfidfVectorizer()
    matrix = vectorizer.fit_transform(docs)
    return _rank_matrix(entries, in_scope, items, lambda texts: (vectorizer.transform(texts) @ matrix.T).toarray())


def rank_fuzzy(service, items: Sequence[dict]) -> list[Ranked]:
    """Baseline: rapidfuzz keyword matching (best partial_ratio of topic/keywords in the question)."""
    from rapidfuzz import fuzz

    entries, in_scope = _scope(service)
    phrases = [[p.lower() for p in (e.topic, *e.keywords)] for e in entries]

    def scores(texts):
        return np.array([[max(fuzz.partial_ratio(p, t.lower()) for p in ps) / 100 for ps in phrases] for t in texts])

    return _rank_matrix(entries, in_scope, items, scores)


def _rank_matrix(entries, in_scope, items, score_fn) -> list[Ranked]:
    sims = score_fn([i["text"] for i in items])
    out = []
    for row, item in zip(sims, items):
        scope = in_scope(item["team"])
        order = np.argsort(-row, kind="stable")
        inside = [i for i in order if entries[i].id in scope]
        best = inside[0] if inside else None
        out.append(Ranked(item, entries[best].id if best is not None else None,
                          float(row[best]) if best is not None else 0.0,
                          float(row[inside[1]]) if len(inside) > 1 else 0.0, 0.0))
    return out


def decide(r: Ranked, min_score: float, min_margin: float) -> str:
    """The method's outcome for one item: a mandate id or ``none``."""
    if r.best_id is None or r.best < min_score or r.best - r.second < min_margin:
        return "none"
    return r.best_id


def score(ranked: Iterable[Ranked], min_score: float, min_margin: float) -> dict:
    """Accuracy on answerable items, abstain rate, wrong answers on none and small talk, per kind;
    ``top1``: the share of answerable items whose entry is ranked first (no abstention: the
    ceiling that any threshold can reach)."""
    ranked = list(ranked)
    out = score_decisions([r.item for r in ranked], [decide(r, min_score, min_margin) for r in ranked])
    answerable = [r for r in ranked if r.item["expect"] not in ("none", "smalltalk")]
    out["top1"] = sum(r.best_id == r.item["expect"] for r in answerable) / max(len(answerable), 1)
    return out


def score_decisions(items: Sequence[dict], decided: Sequence[str]) -> dict:
    """:func:`score` for given outcomes (a mandate id or ``none`` per item)."""
    groups: dict[str, list[int]] = {"answerable": [0, 0], "none": [0, 0], "smalltalk": [0, 0]}
    kinds: dict[str, list[int]] = {}
    abstained = 0
    for item, got in zip(items, decided):
        expect = item["expect"]
        group = expect if expect in ("none", "smalltalk") else "answerable"
        ok = got == expect if group == "answerable" else got == "none"
        if group == "answerable" and got == "none":
            abstained += 1
        groups[group][0] += ok
        groups[group][1] += 1
        k = kinds.setdefault(item.get("kind", "?"), [0, 0])
        k[0] += ok
        k[1] += 1
    n_ans = max(groups["answerable"][1], 1)
    return {
        "accuracy": groups["answerable"][0] / n_ans,
        "abstain_rate": abstained / n_ans,
        "wrong_none": 1 - groups["none"][0] / max(groups["none"][1], 1),
        "wrong_smalltalk": 1 - groups["smalltalk"][0] / max(groups["smalltalk"][1], 1),
        "n": {g: v[1] for g, v in groups.items()},
        "per_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(kinds.items())},
    }


def calibrate(ranked: Sequence[Ranked], scores_grid=None, margins_grid=None) -> tuple[float, float, list]:
    """Best (min_score, min_margin) on ``ranked`` under the wrong-answer limits, and the curve.

    Returns:
        ``(min_score, min_margin, curve)`` where curve lists
        ``(min_score, min_margin, accuracy, wrong_none)`` for every grid point.
    """
    scores_grid = scores_grid if scores_grid is not None else np.round(np.arange(0.05, 1.001, 0.01), 2)
    margins_grid = margins_grid if margins_grid is not None else [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    curve, best = [], None
    for m in margins_grid:
        for s in scores_grid:
            sc = score(ranked, float(s), float(m))
            curve.append((float(s), float(m), sc["accuracy"], sc["wrong_none"]))
            feasible = sc["wrong_none"] <= MAX_WRONG_NONE and sc["wrong_smalltalk"] <= MAX_WRONG_SMALLTALK
            key = (sc["accuracy"], -s, -m)
            if feasible and (best is None or key > best[0]):
                best = (key, float(s), float(m))
    if best is None:  # no grid point meets the limits: the strictest one, flagged by the caller's figures
        return float(scores_grid[-1]), float(margins_grid[-1]), curve
    return best[1], best[2], curve
