"""Dense (sentence-embedding) similarity of a question to every catalogue entry.

Each entry is embedded as passages (:mod:`bot.embeddings`, cached by a hash of
their text, so only new or edited entries cost an embedding):

* its whole text (topic, summary, conditions, keywords, example phrasings);
* its parts: topic + summary, and each example phrasing, and each question
  HR linked to it in the review queue (the employees' own words).

:meth:`DenseIndex.scores` returns, per entry, the cosine to the whole text and
the best cosine over its parts: two matrix-vector products and one grouped max
over the entries' rows (about 2 ms for the demo catalogue's 71 entries; 100,000
entries are measured by ``make bench``).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from bot.embeddings import Embedder, PassageCache


def whole_text(entry) -> str:
    """An entry as one passage: topic, summary, conditions, exception cases, keywords and example phrasings."""
    parts = [f"{entry.topic}.", entry.summary, *entry.conditions]
    if entry.exceptions:
        parts.append("Undtagelser: " + ", ".join(entry.exceptions) + ".")
    if entry.keywords:
        parts.append("Nøgleord: " + ", ".join(entry.keywords) + ".")
    parts.extend(entry.examples)
    return " ".join(p.strip() for p in parts if p and p.strip())


def part_texts(entry) -> list[str]:
    """An entry's parts as passages: topic + summary, each example phrasing, each linked question."""
    return [f"{entry.topic}: {entry.summary}", *entry.examples, *entry.learned]


class DenseIndex:
    """Entry vectors for one catalogue version.

    Args:
        entries: entry snapshots (:class:`bot.retrieval.EntryDoc`: topic, summary,
            conditions, keywords, examples, learned).
        cache: the passage cache of the process's embedder.
    """

    def __init__(self, entries: Sequence, cache: PassageCache):
        self.cache = cache
        self.embedder: Embedder = cache.embedder
        n = len(entries)
        self.whole = cache.encode([whole_text(e) for e in entries]) if n else np.zeros((0, self.embedder.dim),
                                                                                       np.float32)
        texts, owners = [], []
        for i, entry in enumerate(entries):
            for text in part_texts(entry):
                texts.append(text)
                owners.append(i)
        self.parts = cache.encode(texts) if texts else np.zeros((0, self.embedder.dim), np.float32)
        order = np.argsort(np.asarray(owners, dtype=np.int64), kind="stable")
        self.parts = self.parts[order]
        self._owners = np.asarray(owners, dtype=np.int64)[order]
        self._starts = np.searchsorted(self._owners, np.arange(n)) if n else np.zeros(0, np.int64)
        self.size = n

    def scores(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(whole, best_part)``: cosine of ``query`` ((dim,), L2-normalised) to each entry's whole text
        and its best part, each ``(len(entries),)`` float32."""
        if self.size == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        whole = self.whole @ query
        part_scores = self.parts @ query
        best = np.maximum.reduceat(part_scores, self._starts) if len(part_scores) else whole.copy()
        return whole, best
