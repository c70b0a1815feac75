"""Precision and recall of :func:`bot.privacy.redact` on the redaction table.

    .venv/bin/python -m scripts.redaction_report [--misses] [--table PATH]

The table (``tests/data/privacy/redaction.yaml``) holds Danish chat messages
with the personal data that must go (by category) and text that must stay.
Scoring is by characters:

- recall: the share of gold characters (of a category: of gold spans of that
  category) covered by a redaction span of any category: hidden is hidden;
- precision: the share of redacted characters (of a category: of the spans
  the redactor labelled with it) that lie inside a gold span of any category.

Besides the character scores it counts whole items: a gold item is "found"
when every letter and digit of it is redacted, and a "must stay" item is
"kept" when none of its characters is. ``--misses`` lists what was missed or
over-redacted. tests/test_redaction_table.py asserts floors on these figures.
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.privacy import CATEGORIES, find_spans, redact

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tests" / "data" / "privacy" / "redaction.yaml"


@dataclass
class Item:
    """One table row: the text, its gold spans and its must-stay spans."""

    text: str
    gold: list[tuple[int, int, str]]
    keep: list[tuple[int, int]]


def _occurrences(text: str, sub: str) -> list[tuple[int, int]]:
    out, i = [], text.find(sub)
    while sub and i >= 0:
        out.append((i, i + len(sub)))
        i = text.find(sub, i + len(sub))
    return out


def load_table(path: Path = TABLE) -> list[Item]:
    """The table's items, spans located in their texts.

    Raises:
        ValueError: a span is not in its text, or a category is unknown.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for row in data["items"]:
        text = row["text"]
        gold = []
        for category, subs in (row.get("redact") or {}).items():
            if category not in CATEGORIES:
                raise ValueError(f"unknown category {category!r} in {text!r}")
            for sub in subs or []:
                found = _occurrences(text, sub)
                if not found:
                    raise ValueError(f"{sub!r} is not in {text!r}")
                gold += [(s, e, category) for s, e in found]
        keep = []
        for sub in row.get("keep") or []:
            found = _occurrences(text, sub)
            if not found:
                raise ValueError(f"{sub!r} is not in {text!r}")
            keep += found
        items.append(Item(text, gold, keep))
    return items


@dataclass
class Scores:
    """Character and item counts, overall and per category."""

    gold_chars: dict = field(default_factory=lambda: defaultdict(int))
    found_chars: dict = field(default_factory=lambda: defaultdict(int))
    pred_chars: dict = field(default_factory=lambda: defaultdict(int))
    right_chars: dict = field(default_factory=lambda: defaultdict(int))
    gold_items: dict = field(default_factory=lambda: defaultdict(int))
    found_items: dict = field(default_factory=lambda: defaultdict(int))
    keep_items: int = 0
    kept_items: int = 0
    sentences: int = 0
    misses: list = field(default_factory=list)
    over: list = field(default_factory=list)

    def recall(self, category: str | None = None) -> float:
        cats = [category] if category else list(CATEGORIES)
        gold = sum(self.gold_chars[c] for c in cats)
        return sum(self.found_chars[c] for c in cats) / gold if gold else 1.0

    def precision(self, category: str | None = None) -> float:
        cats = [category] if category else list(CATEGORIES)
        pred = sum(self.pred_chars[c] for c in cats)
        return sum(self.right_chars[c] for c in cats) / pred if pred else 1.0

    def item_recall(self, category: str | None = None) -> float:
        cats = [category] if category else list(CATEGORIES)
        gold = sum(self.gold_items[c] for c in cats)
        return sum(self.found_items[c] for c in cats) / gold if gold else 1.0

    def keep_rate(self) -> float:
        return self.kept_items / self.keep_items if self.keep_items else 1.0


def score(items: list[Item]) -> Scores:
    """Score :func:`bot.privacy.find_spans` on ``items``."""
    sc = Scores()
    for item in items:
        sc.sentences += 1
        text = item.text
        pred = find_spans(text)
        covered = [False] * len(text)
        for s, e, _ in pred:
            for i in range(s, e):
                covered[i] = True
        in_gold = [False] * len(text)
        for s, e, _ in item.gold:
            for i in range(s, e):
                in_gold[i] = True
        for s, e, cat in item.gold:
            sc.gold_chars[cat] += e - s
            sc.found_chars[cat] += sum(covered[s:e])
            sc.gold_items[cat] += 1
            if all(covered[i] for i in range(s, e) if text[i].isalnum()):
                sc.found_items[cat] += 1
            else:
                sc.misses.append((cat, text[s:e], text))
        for s, e, cat in pred:
            sc.pred_chars[cat] += e - s
            sc.right_chars[cat] += sum(in_gold[s:e])
            if not all(in_gold[s:e]):
                sc.over.append((cat, text[s:e], text))
        for s, e in item.keep:
            sc.keep_items += 1
            if not any(covered[s:e]):
                sc.kept_items += 1
            else:
                sc.over.append(("keep", text[s:e], text))
    return sc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--misses", action="store_true", help="list misses and over-redactions")
    args = parser.parse_args(argv)
    items = load_table(args.table)
    sc = score(items)
    print(f"Redaction table: {args.table.relative_to(ROOT) if args.table.is_relative_to(ROOT) else args.table}"
          f" ({sc.sentences} sentences, {sum(sc.gold_items.values())} items to redact,"
          f" {sc.keep_items} spans that must stay)")
    print("Scored by characters (recall: gold characters redacted; precision: redacted characters"
          " inside gold spans); items: gold items with every letter/digit redacted.")
    print(f"{'category':10s} {'items':>5s} {'precision':>9s} {'recall':>7s} {'items found':>11s}")
    for cat in CATEGORIES:
        print(f"{cat:10s} {sc.gold_items[cat]:5d} {sc.precision(cat):9.3f} {sc.recall(cat):7.3f}"
              f" {sc.found_items[cat]:5d}/{sc.gold_items[cat]:<5d}")
    total = sum(sc.gold_items.values())
    print(f"{'all':10s} {total:5d} {sc.precision():9.3f} {sc.recall():7.3f}"
          f" {sum(sc.found_items.values()):5d}/{total:<5d}")
    print(f"must stay: {sc.kept_items}/{sc.keep_items} kept ({sc.keep_rate():.3f})")
    if args.misses:
        print("\nMissed (category, gold, text):")
        for cat, sub, text in sc.misses:
            print(f"  {cat:8s} {sub!r:32s} {text}")
        print("\nOver-redacted (category, redacted, text -> redacted):")
        for cat, sub, text in sc.over:
            print(f"  {cat:8s} {sub!r:32s} {text}\n           -> {redact(text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
