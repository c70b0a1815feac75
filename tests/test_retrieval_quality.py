"""Regression floor for retrieval quality on the held-out test split (tests/data/eval/test.yaml).

The floor is the level measured when it was set (2026-11-29, `make eval`):
accuracy 0.574 and 14.5 % mandate answers on `none` at the configured
thresholds. It catches regressions; the answer-quality issue raises it.
"""
import pytest

from scripts import retrieval_eval as R


@pytest.fixture(scope="module")
def test_split_scores():
    service = R.demo_service()
    ranked = R.rank_ours(service, R.load_items("test"))
    return R.score(ranked, service.retriever.min_score, service.retriever.min_margin)


def test_answerable_questions_floor(test_split_scores):
    assert test_split_scores["accuracy"] >= 0.55, test_split_scores


def test_wrong_answers_on_none_ceiling(test_split_scores):
    assert test_split_scores["wrong_none"] <= 0.16, test_split_scores


def test_the_labelled_sets_are_large_and_disjoint():
    dev, test = R.load_items("dev"), R.load_items("test")
    assert len(dev) + len(test) >= 400
    assert not {i["text"] for i in dev} & {i["text"] for i in test}
    assert sum(i["expect"] == "none" for i in dev + test) >= 60
    assert sum(i["expect"] == "smalltalk" for i in dev + test) >= 40
