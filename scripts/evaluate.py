"""`make eval`: one quality report, printed and written to reports/eval.{json,md}.

Parts:
  1. ``rasa test nlu`` 5-fold cross-validation on data/nlu: intent macro-F1,
     entity F1 per entity (DIET).
  2. The shared acceptance set end to end over REST (servers started here).

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
    from bot.catalogue.io import import_file
    from bot.db.migrate import upgrade
    from bot.db.session import new_session
    from scripts import acceptance
    from scripts.live import running_bot

    path = Path(tempfile.mkdtemp(prefix="mandat-eval-")) / "mandat.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    for catalogue in (ROOT / "bot" / "demo" / "catalogue.yaml", acceptance.ACCEPTANCE / "catalogue.yaml"):
        session = new_session(url)
        try:
            import_file(session, catalogue)
        finally:
            session.close()
    items, entries = acceptance.load()
    with running_bot({"MANDAT_DATABASE_URL": url}) as base:
        return acceptance.run(base, items, entries).summary()


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
    report["acceptance"] = acceptance_over_rest()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    text = markdown(report)
    (REPORTS / "eval.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
