"""`make eval`: one quality report, printed and written to reports/eval.{json,md}.

Parts:
  1. ``rasa test nlu`` 5-fold cross-validation on data/nlu: intent macro-F1,
     entity F1 per entity (DIET).
  2. Retrieval on the labelled sets in tests/data/eval (dev for calibration,
     test held out): ours at the configured thresholds and calibrated on dev,
     plain TF-IDF and rapidfuzz keyword baselines calibrated the same way;
     the calibration curve is drawn to reports/calibration.png.
  3. The shared acceptance set end to end over REST (servers started here).

Run: ``make eval`` (or ``.venv/bin/python -m scripts.evaluate [--skip-cv]``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def cross_validation(folds: int = 5) -> dict:
    """Intent macro-F1 and entity F1 per entity from ``rasa test nlu --cross-validation``."""
    out = Path(tempfile.mkdtemp(prefix="mandat-cv-"))
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml",
         "--cross-validation", "--folds", str(folds), "--out", str(out)],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    intents = json.loads((out / "intent_report.json").read_text())
    result = {
        "folds": folds,
        "seconds": round(time.monotonic() - start),
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
    """The acceptance figures from a live bot on a fresh database (demo + acceptance catalogue)."""
    from scripts import acceptance
    from scripts.live import catalogue_database, running_bot

    url = catalogue_database(ROOT / "bot" / "demo" / "catalogue.yaml", acceptance.ACCEPTANCE / "catalogue.yaml",
                             prefix="mandat-eval-")
    items, entries = acceptance.load()
    with running_bot({"MANDAT_DATABASE_URL": url}) as base:
        return acceptance.run(base, items, entries).summary()


def retrieval() -> dict:
    """Retrieval figures per method on the dev and test splits (see scripts/retrieval_eval.py)."""
    from scripts import retrieval_eval as R

    service = R.demo_service()
    dev, test = R.load_items("dev"), R.load_items("test")
    out: dict = {"configured": {"min_score": service.retriever.min_score, "min_margin": service.retriever.min_margin}}
    for name, rank in (("mandatbot", R.rank_ours), ("tfidf", R.rank_tfidf), ("rapidfuzz", R.rank_fuzzy)):
        ranked_dev, ranked_test = rank(service, dev), rank(service, test)
        min_score, min_margin, curve = R.calibrate(ranked_dev)
        out[name] = {
            "calibrated": {"min_score": min_score, "min_margin": min_margin},
            "dev": R.score(ranked_dev, min_score, min_margin),
            "test": R.score(ranked_test, min_score, min_margin),
        }
        if name == "mandatbot":
            out[name]["test_at_configured"] = R.score(ranked_test, service.retriever.min_score, service.retriever.min_margin)
            _plot(curve, min_score, min_margin)
    return out


def _plot(curve: list, min_score: float, min_margin: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for margin in sorted({m for _, m, _, _ in curve}):
        points = [(w, a) for s, m, a, w in curve if m == margin]
        ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", label=f"margin {margin:.2f}")
    chosen = [(w, a) for s, m, a, w in curve if s == min_score and m == min_margin][0]
    ax.scatter([chosen[0]], [chosen[1]], s=120, facecolors="none", edgecolors="black", zorder=5,
               label=f"chosen: score {min_score:.2f}, margin {min_margin:.2f}")
    ax.axvline(0.02, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("mandate answers on 'none' questions (dev)")
    ax.set_ylabel("correct entries on answerable questions (dev)")
    ax.set_title("Abstention threshold calibration (dev split)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    REPORTS.mkdir(exist_ok=True)
    fig.savefig(REPORTS / "calibration.png")
    plt.close(fig)


def markdown(report: dict) -> str:
    """The report as Markdown."""
    lines = ["# Mandatbot evaluation", ""]
    cv = report.get("nlu_cross_validation")
    if cv:
        lines += ["## NLU (rasa test nlu, %d-fold cross-validation)" % cv["folds"], "",
                  f"- intent macro-F1: **{cv['intent_macro_f1']}** (weighted {cv['intent_weighted_f1']})"]
        for name, f1 in sorted(cv.get("entity_f1", {}).items()):
            lines.append(f"- entity `{name}` F1: {f1}")
        lines.append("")
    ret = report.get("retrieval")
    if ret:
        lines += ["## Retrieval on the labelled sets (demo catalogue)", "",
                  "Thresholds calibrated on dev (wrong answers on `none` <= 2 %, small talk <= 1 %), figures on the held-out test split.", "",
                  "| method | min_score | margin | test accuracy | test abstain | test wrong on none | test wrong on small talk |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for name in ("mandatbot", "tfidf", "rapidfuzz"):
            r = ret[name]
            t = r["test"]
            lines.append(f"| {name} | {r['calibrated']['min_score']} | {r['calibrated']['min_margin']} | "
                         f"{t['accuracy']:.3f} | {t['abstain_rate']:.3f} | {t['wrong_none']:.3f} | {t['wrong_smalltalk']:.3f} |")
        c = ret["mandatbot"]["test_at_configured"]
        lines += ["", f"Mandatbot at the configured thresholds ({ret['configured']['min_score']}, "
                  f"{ret['configured']['min_margin']}): accuracy {c['accuracy']:.3f}, abstain {c['abstain_rate']:.3f}, "
                  f"wrong on none {c['wrong_none']:.3f}, wrong on small talk {c['wrong_smalltalk']:.3f}.", "",
                  "Per kind (test, calibrated): " + ", ".join(f"{k} {v}" for k, v in ret["mandatbot"]["test"]["per_kind"].items()),
                  "", "![calibration](calibration.png)", ""]
    acc = report.get("acceptance")
    if acc:
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
    args = parser.parse_args(argv)
    report: dict = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if not args.skip_cv:
        report["nlu_cross_validation"] = cross_validation()
    report["retrieval"] = retrieval()
    report["acceptance"] = acceptance_over_rest()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    text = markdown(report)
    (REPORTS / "eval.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
