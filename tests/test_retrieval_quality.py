"""Quality floors on the held-out test split (tests/data/eval/test.yaml, dialogue.yaml).

The floors sit at the levels `make eval` measured when they were set (see the
comments), minus at most one question; they catch regressions. The targets of
issue 12 (ranking 92 %, direct 85 % at <= 2 % on `none`, resolved 95 %) are
printed by `make eval` next to the measured figures.

Each split is ranked once per module (scripts.decision_eval.rank_splits) and
scored with the shipped decision model (bot/decision_model.json); the figures
are scripts.decision_eval.score's, so they are make eval's.
"""
from pathlib import Path

import pytest

from scripts import decision_eval as D
from scripts import nlu_eval
from scripts import retrieval_eval as R

ROOT = Path(__file__).resolve().parent.parent

# Measured by `python -m scripts.evaluate` on 2026-12-01 (reports/eval.md), test split, hybrid ranking (words +
# e5) and the decision model refitted on dev in that run; at most one question below the measured value:
TOP1_FLOOR = 0.84  # measured 0.846 (right entry ranked first; the target is 0.92)
DIRECT_FLOOR = 0.52  # measured 0.537 (right entry answered directly; target 0.85)
RESOLVED_FLOOR = 0.92  # measured 0.930 (answered directly or offered in the clarifying question; target 0.95)
WRONG_NONE_CEILING = 0.02  # measured 0.018 (1/55 direct answers on `none`): the limit
WRONG_SMALLTALK_CEILING = 0.01  # measured 0.0 (retrieval alone; the limit)
PARAPHRASE_RESOLVED_FLOOR = 0.57  # measured 21/35 = 0.600 (target 0.70)
LONG_RESOLVED_FLOOR = 0.81  # measured 14/16 = 0.875 (target 0.85)
ENGLISH_RESOLVED_FLOOR = 0.89  # measured 35/38 = 0.921
LEXICAL_TOP1_FLOOR = 0.76  # measured 0.768: MANDAT_EMBEDDER=none still ranks as before
INTENT_MACRO_F1_FLOOR = 0.91  # measured 0.919 on the 431 held-out items (model trained before the latest
# data/nlu changes; any retraining moves it by up to 0.02; the target is 0.94)
BOT_DIRECT_FLOOR = 0.35  # measured 0.364: the bot (NLU, then MandateService.answer) on the test split
BOT_RESOLVED_FLOOR = 0.90  # measured 0.915
BOT_WRONG_NONE_CEILING = 0.02  # measured 0.018 (1/55)
BOT_WRONG_SMALLTALK_CEILING = 0.01  # measured 0.0: the target


@pytest.fixture(scope="module")
def ranked():
    """``{mode: {"test": rows}}`` for hybrid and lexical, each question parsed once."""
    svc = D.service()
    return D.rank_splits(svc, D.indexes(svc), splits=("test",))


@pytest.fixture(scope="module")
def hybrid(ranked):
    from bot.decide import load_models

    if "hybrid" not in ranked:
        pytest.skip("no embedder configured (MANDAT_EMBEDDER=none)")
    return D.score(load_models(D.MODEL_PATH)["hybrid"], ranked["hybrid"]["test"])


def _kind(scores: dict, kind: str) -> float:
    right, total = map(int, scores["per_kind"][kind]["resolved"].split("/"))
    return right / total


def test_the_right_entry_is_ranked_first(hybrid):
    assert hybrid["top1"] >= TOP1_FLOOR, hybrid


def test_direct_answers_and_resolved(hybrid):
    assert hybrid["direct"] >= DIRECT_FLOOR, hybrid
    assert hybrid["resolved"] >= RESOLVED_FLOOR, hybrid


def test_no_direct_answers_without_a_rule(hybrid):
    assert hybrid["wrong_none"] <= WRONG_NONE_CEILING, hybrid
    assert hybrid["wrong_smalltalk"] <= WRONG_SMALLTALK_CEILING, hybrid


def test_paraphrases_long_and_english_questions_are_resolved(hybrid):
    assert _kind(hybrid, "paraphrase") >= PARAPHRASE_RESOLVED_FLOOR, hybrid["per_kind"]
    assert _kind(hybrid, "long") >= LONG_RESOLVED_FLOOR, hybrid["per_kind"]
    assert _kind(hybrid, "english") >= ENGLISH_RESOLVED_FLOOR, hybrid["per_kind"]


def test_the_words_alone_still_rank(ranked):
    lexical = D.score(None, ranked["lexical"]["test"])
    assert lexical["top1"] >= LEXICAL_TOP1_FLOOR, lexical


@pytest.fixture(scope="module")
def bot_on_test_split():
    """Intent figures of the trained model and the bot's decisions (NLU, then the service) on the test split."""
    items = nlu_eval.nlu_items("test")
    parsed = nlu_eval.parse(ROOT / "models" / "current.tar.gz", [i["text"] for i in items])
    return {
        "intents": nlu_eval.intent_scores([i["intent"] for i in items], [p.intent for p in parsed]),
        "bot": nlu_eval.bot_decisions(items, [p.intent for p in parsed]),
    }


@pytest.mark.model
def test_intent_macro_f1_floor(bot_on_test_split):
    assert bot_on_test_split["intents"]["intent_macro_f1"] >= INTENT_MACRO_F1_FLOOR, bot_on_test_split["intents"]


@pytest.mark.model
def test_the_bot_answers_no_small_talk_with_a_mandate(bot_on_test_split):
    assert bot_on_test_split["bot"]["wrong_smalltalk"] <= BOT_WRONG_SMALLTALK_CEILING, bot_on_test_split["bot"]


@pytest.mark.model
def test_the_bot_floor_on_answerable_and_none(bot_on_test_split):
    bot = bot_on_test_split["bot"]
    assert bot["accuracy"] >= BOT_DIRECT_FLOOR, bot
    assert bot["resolved"] >= BOT_RESOLVED_FLOOR, bot
    assert bot["wrong_none"] <= BOT_WRONG_NONE_CEILING, bot


def test_the_labelled_sets_are_large_and_disjoint():
    dev, test = R.load_items("dev"), R.load_items("test")
    assert len(dev) + len(test) >= 400
    assert not {i["text"] for i in dev} & {i["text"] for i in test}
    assert sum(i["expect"] == "none" for i in dev + test) >= 60
    assert sum(i["expect"] == "smalltalk" for i in dev + test) >= 40
    kinds = {i["kind"] for i in test}
    assert {"plain", "paraphrase", "ascii", "typo", "informal", "long", "english", "amount", "inherited",
            "override", "expired"} <= kinds


def test_no_held_out_question_is_in_the_nlu_training_data():
    training = nlu_eval.training_texts()
    assert "må jeg selv ringe efter en vikar, når en kollega melder sig syg?" in training  # annotations removed
    held_out = nlu_eval.nlu_items("test")
    assert len(held_out) >= 350
    assert not training & {i["text"].strip().lower() for i in held_out}
