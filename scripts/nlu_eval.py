"""NLU on held-out questions: intent macro-F1 of a trained model, and the bot's decision on the test split.

Items: every question of ``tests/data/eval/{dev,test}.yaml`` (answerable and
``none`` items are ``ask_mandate``; small talk carries its ``intent``) plus the
dialogue intents of ``tests/data/eval/dialogue.yaml`` (list_mandates,
inform_unit, affirm, deny, report_mistake). None of them is in data/nlu.

The bot's decision (what a user sees) follows the rules in data/stories:
``ask_mandate`` -> retrieval; ``out_of_scope`` and ``nlu_fallback`` ->
retrieval with the strict threshold (actions.actions.STRICT_INTENTS); any
other intent -> no mandate answer.

The baseline is Rasa's language-agnostic default pipeline (the ``rasa init``
config of Rasa 3.6: whitespace tokenizer, count vectors on words and on
character 1-4-grams, DIET 100 epochs, fallback 0.3), trained on the same data.
"""
from __future__ import annotations

import asyncio
import logging
import re
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "tests" / "data" / "eval"
BASELINE_CONFIG = EVAL_DIR / "baseline_config.yml"
NONE_INTENTS = "ask_mandate|out_of_scope"
"""Gold intent of a question with no entry: a mandate question the catalogue lacks, or one outside
the bot's scope ("Hvornår bliver lønnen udbetalt?"); either is right, and both lead to no mandate answer."""
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def training_texts() -> set[str]:
    """The examples of data/nlu, lower case, without entity annotations."""
    texts = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                line = re.sub(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})", r"\1", line)
                texts.add(line.strip().lstrip("-").strip().lower())
    return texts


def nlu_items(split: str) -> list[dict]:
    """``[{"text", "intent", "item"}]`` for ``split`` (``dev`` or ``test``); ``item`` is the question item or None.

    Items whose text is also a training example ("Hej", "Mange tak") are left
    out: they are not held out from the NLU.
    """
    seen = training_texts()
    out = []
    for item in yaml.safe_load((EVAL_DIR / f"{split}.yaml").read_text(encoding="utf-8")):
        intent = item.get("intent") if item["expect"] == "smalltalk" else (
            NONE_INTENTS if item["expect"] == "none" else "ask_mandate")
        if not intent:
            raise ValueError(f"{EVAL_DIR / (split + '.yaml')}: item {item['id']}: small talk without an intent")
        out.append({"text": item["text"], "intent": intent, "item": item})
    for row in yaml.safe_load((EVAL_DIR / "dialogue.yaml").read_text(encoding="utf-8")):
        if row["split"] == split:
            out.append({"text": row["text"], "intent": row["intent"], "item": None})
    return [i for i in out if i["text"].strip().lower() not in seen]


def parse(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    """``(intent, confidence)`` for each text from the trained model at ``model`` (loaded in-process)."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no debug line per parsed message

    async def run():
        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]

    return [(p["intent"]["name"], float(p["intent"]["confidence"])) for p in asyncio.run(run())]


def intent_scores(gold: list[str], predicted: list[str]) -> dict:
    """Macro-F1 over the gold intents (a prediction of another label, e.g. nlu_fallback, counts as wrong).

    A gold label "a|b" accepts either (see :data:`NONE_INTENTS`).
    """
    from sklearn.metrics import f1_score

    gold = [p if "|" in g and p in g.split("|") else g.split("|")[0] for g, p in zip(gold, predicted)]
    labels = sorted(set(gold))
    per = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    return {
        "intent_macro_f1": round(float(per.mean()), 4),
        "intent_f1": {label: round(float(f), 3) for label, f in zip(labels, per)},
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / max(len(gold), 1), 4),
        "n": len(gold),
        "confusions": sorted({f"{g} -> {p}" for g, p in zip(gold, predicted) if g != p}),
    }


def train_baseline(out_dir: Path) -> tuple[Path, float]:
    """Train the NLU of Rasa's default pipeline on data/nlu; returns (model path, seconds).

    Like ``make train``, the model is kept in ``MODEL_CACHE`` (default
    ``~/.cache/mandatbot/models``) under a hash of its inputs and reused while
    they are unchanged (about 9 minutes of training on 2 cores otherwise).
    """
    import hashlib
    import shutil

    inputs = [BASELINE_CONFIG, ROOT / "requirements.lock", *sorted((ROOT / "data" / "nlu").glob("*.yml"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in inputs)).hexdigest()[:16]
    cache = Path(os.environ.get("MODEL_CACHE", Path.home() / ".cache" / "mandatbot" / "models"))
    cached = cache / f"baseline-{digest}.tar.gz"
    if cached.exists():
        return cached, 0.0
    start = time.monotonic()
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--config", str(BASELINE_CONFIG),
         "--nlu", "data/nlu", "--out", str(out_dir), "--fixed-model-name", "baseline"],
        cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    cache.mkdir(parents=True, exist_ok=True)
    shutil.copy(out_dir / "baseline.tar.gz", cached)
    return cached, time.monotonic() - start


def bot_decisions(items: list[dict], parsed: list[tuple[str, float]]) -> dict:
    """The bot's answer on each question item of the test split: NLU first, then retrieval.

    Returns the figures of :func:`scripts.retrieval_eval.score` for what the bot does.
    """
    from actions.actions import STRICT_INTENTS
    from scripts import retrieval_eval as R

    service = R.demo_service()
    questions = [(i, p) for i, p in zip(items, parsed) if i["item"] is not None]
    ranked = R.rank_ours(service, [i["item"] for i, _ in questions])
    decided = []
    for (i, (intent, _)), r in zip(questions, ranked):
        if intent == "ask_mandate":
            decided.append(R.decide(r, service.retriever.min_score, service.retriever.min_margin))
        elif intent in STRICT_INTENTS:  # the Retriever's strict mode
            decided.append(R.decide(r, service.retriever.min_score * service.retriever.STRICT_FACTOR,
                                    service.retriever.min_margin))
        else:
            decided.append("none")
    return R.score_decisions([i["item"] for i, _ in questions], decided)


def evaluate(model: Path, baseline_dir: Path | None = None, split: str = "test") -> dict:
    """Intent figures on ``split`` for our model and the baseline, and the bot's decisions."""
    test = nlu_items(split)
    texts, gold = [i["text"] for i in test], [i["intent"] for i in test]
    ours = parse(model, texts)
    report = {"ours": intent_scores(gold, [p for p, _ in ours])}
    report["bot"] = bot_decisions(test, ours)
    if baseline_dir is not None:
        path, seconds = train_baseline(baseline_dir)
        report["rasa_default_pipeline"] = intent_scores(gold, [p for p, _ in parse(path, texts)])
        report["rasa_default_pipeline"]["train_seconds"] = round(seconds)
    return report


if __name__ == "__main__":
    import json

    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default="test", choices=["dev", "test"])
    parser.add_argument("--baseline", action="store_true", help="also train and test Rasa's default pipeline")
    parser.add_argument("--model", default=str(ROOT / "models" / "current.tar.gz"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mandat-baseline-") as tmp:
        print(json.dumps(evaluate(Path(args.model), Path(tmp) if args.baseline else None, args.split),
                         indent=2, ensure_ascii=False))
