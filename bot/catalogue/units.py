"""Finding a unit from what a user typed: id, name or alias, typo-tolerant."""
from __future__ import annotations

import re
from typing import Iterable

from rapidfuzz import fuzz

from bot.language import fold_ascii, normalise

_FILLER = re.compile(
    r"\b(jeg|vi|er|i|på|paa|pa|hos|arbejder|arbejde|sidder|ansat|min|mit|vores|enhed|team|teamet|"
    r"afdeling|afdelingen|det|hedder|fra|the|in|work|at|im|i'm|er ansat)\b"
)


def _key(text: str) -> str:
    return " ".join(fold_ascii(normalise(text)).replace("-", " ").split())


def match_unit(text: str, units: Iterable, min_ratio: float = 85.0) -> str | None:
    """The id of the unit ``text`` names, or None.

    Args:
        text: user text, e.g. "jeg er i hjemmeplejen nord", "SOS", "tandplejn".
        units: objects with ``id``, ``name`` and ``aliases``.
        min_ratio: rapidfuzz ratio (0..100) needed for a fuzzy match.

    Exact (folded, case-insensitive) mentions win, longest first; otherwise the
    best fuzzy match of the text without filler words, if it reaches
    ``min_ratio`` and is clearly ahead of the next unit.
    """
    needle = _key(text)
    if not needle:
        return None
    padded = f" {needle} "
    names: list[tuple[str, str]] = []
    for unit in units:
        for name in [unit.name, unit.id, *(unit.aliases or [])]:
            key = _key(name)
            if key:
                names.append((key, unit.id))
    exact = [(len(k), uid) for k, uid in names if f" {k} " in padded]
    if exact:
        return max(exact)[1]
    core = " ".join(_FILLER.sub(" ", needle).split()) or needle
    scored: dict[str, float] = {}
    for key, uid in names:
        score = fuzz.ratio(core, key)
        if len(key) >= 5 and len(core) > len(key):
            score = max(score, fuzz.partial_ratio(key, core) - 5)
        scored[uid] = max(scored.get(uid, 0.0), score)
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < min_ratio:
        return None
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 3:
        return None
    return ranked[0][0]
