"""The labelled rules sets (issue 13) are well formed and target the demo catalogue as it is."""
from __future__ import annotations

from collections import Counter

import pytest

from scripts import rules_eval as R


@pytest.fixture(scope="module")
def catalogue():
    return R.load_catalogue()


@pytest.fixture(scope="module")
def splits():
    return {split: R.load_items(split) for split in R.SPLITS}


def test_the_demo_catalogue_is_version_2_with_routes_typed_limits_and_exceptions(catalogue):
    entries = catalogue["mandates"]
    assert catalogue["version"] == 2
    assert not any("limit_dkk" in e for e in entries)
    assert {e["limit"]["unit"] for e in entries if e.get("limit")} == set(R.LIMIT_UNITS)
    assert {e.get("route") for e in entries} >= {"mistake", "concern"}
    assert sum(len(e.get("exceptions") or ()) for e in entries) >= 30


def test_every_item_has_the_fields_and_known_values(splits):
    ids = Counter()
    for split, items in splits.items():
        for item in items:
            ids[item["id"]] += 1
            assert set(R.REQUIRED) <= set(item) <= set(R.REQUIRED) | set(R.OPTIONAL), item
            assert all(isinstance(item[k], str) and item[k].strip() for k in R.REQUIRED), item
            assert item["expect_decides"] in R.DECIDERS, item
            assert item["kind"] in R.KINDS, item
            assert item["lang"] in R.LANGS, item
            assert ("previous" in item) == (item["kind"] == "follow_up"), item
            if item["kind"] == "yes":
                assert item["expect_decides"] in R.SELF and item["expect"] != "none", item
    assert [i for i, n in ids.items() if n > 1] == []


def test_every_expected_entry_exists_and_is_in_force_for_the_team(splits, catalogue):
    entries = R.entries_by_id(catalogue)
    for items in splits.values():
        for item in items:
            if item["expect"] == "none":
                continue
            assert item["expect"] in entries, item
            assert item["expect"] in R.in_force_ids(catalogue, item["team"]), item


def test_mistakes_and_concerns_expect_a_route_entry_of_their_kind(splits, catalogue):
    entries = R.entries_by_id(catalogue)
    for items in splits.values():
        for item in items:
            if item["kind"] in R.ROUTE_KINDS and item["expect"] != "none":
                assert entries[item["expect"]].get("route") == item["kind"], item


def test_size_languages_and_kinds(splits):
    assert sum(len(items) for items in splits.values()) >= 160
    sizes = [len(items) for items in splits.values()]
    assert max(sizes) - min(sizes) <= 10
    for split, items in splits.items():
        assert {i["lang"] for i in items} == set(R.LANGS), split
        assert {i["kind"] for i in items} == set(R.KINDS), split
        # a bot that always says "no" must score badly: plenty of items are a plain yes
        assert sum(i["expect_decides"] in R.SELF for i in items) >= len(items) // 4, split


def test_wrong_yes_rate_counts_yes_headlines_on_items_that_are_not_yes(catalogue):
    items = [
        {"id": "a", "team": "hjemmeplejen-syd", "text": "x", "expect": "sk-gaver", "expect_decides": "nobody"},
        {"id": "b", "team": "hjemmeplejen-syd", "text": "x", "expect": "sk-gaver"},  # the entry's decision
        {"id": "c", "team": "hjemmeplejen-syd", "text": "x", "expect": "none"},
        {"id": "d", "team": "hjemmeplejen-syd", "text": "x", "expect": "sk-kursus"},
    ]
    yes = {"type": "mandate_answer", "decision": "employee"}
    answers = {"a": yes, "b": yes, "c": yes, "d": {**yes, "decides": "leader"}}
    result = R.wrong_yes_rate(items, lambda item: answers[item["id"]], catalogue)
    assert (result["wrong"], result["n"], result["ids"]) == (2, 4, ["a", "c"])
    over = {"type": "mandate_answer", "decision": "employee", "over_limit": True}
    assert R.headline_decides(over) == "leader" and R.headline_decides({"type": "no_mandate"}) is None
