"""Grouping similar questions, so 30 variants of one missing topic show as one group.

Method: the question-framing and stop words are removed ("må jeg selv ...",
"hvem bestemmer ...": they say nothing about the topic), the rest is folded
to ASCII (æ -> ae) and described by TF-IDF over character 3-5-grams within
words (robust to Danish compounds, inflection and typos). Two questions are
similar when the cosine of their vectors reaches ``threshold``. Groups are
formed greedily around the question with the most similar neighbours ("star"
clustering): unlike single linkage it does not chain unrelated questions
together through intermediate ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from bot.language import FRAMING_WORDS, fold_ascii, words

DEFAULT_THRESHOLD = 0.5
MERGE_THRESHOLD = 0.4
WORD_WEIGHT = 0.3


# Framing words plus common function words (spaCy's Danish list is not needed here:
# importing spaCy costs seconds in the web process).
STOP_WORDS = frozenset(fold_ascii(w) for w in FRAMING_WORDS | set(
    """alle allerede altså andet at bag bare begge blev bliver da de dem den denne der deres det dette
    dig din dine disse dit efter eller end enten et fik flere for fordi fra få gjorde godt hans har
    havde hende hendes her hvad hvem hver hvilke hvis hvor hvordan hvorfor hvornår ikke ind ingen
    intet jer jeres kun kunne lidt lige man mange med meget men mens mere mig min mine mit mod måske
    ned noget nogle nu når og også om op os over på sammen samme selv sig sin sine sit skal skulle
    som stadig så sådan thi til ud uden under var ved vi vil ville vores være været""".split()))


def topic_text(question: str) -> str:
    """The words of a question that carry its topic (folded, without framing/stop words)."""
    tokens = words(question)
    content = [fold_ascii(t) for t in tokens if fold_ascii(t) not in STOP_WORDS and not t.isdigit()]
    return " ".join(content) if content else " ".join(fold_ascii(t) for t in tokens)


def _vectors(keys: list[str]):
    """L2-normalised TF-IDF of character 3-5-grams (weight 0.7) and whole words (0.3)."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    try:
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                dtype=np.float32).fit_transform(keys)
        tokens = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", sublinear_tf=True,
                                 dtype=np.float32).fit_transform(keys)
    except ValueError:  # only empty texts
        return None
    return normalize(hstack([chars * (1 - WORD_WEIGHT) ** 0.5, tokens * WORD_WEIGHT ** 0.5]).tocsr())


def _merge_stars(matrix, assigned: np.ndarray, centres: list[int], weights: np.ndarray,
                 merge_threshold: float) -> list[int]:
    """Merge groups with similar centroids (largest first); relabels ``assigned``, returns the centres."""
    if len(centres) < 2:
        return centres
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    position = {c: i for i, c in enumerate(centres)}
    rows = np.array([position[a] for a in assigned])
    membership = csr_matrix((weights.astype(np.float32), (rows, np.arange(len(assigned)))),
                            shape=(len(centres), len(assigned)))
    centroids = normalize(membership @ matrix)
    sims = (centroids @ centroids.T).toarray()
    size = np.asarray(membership.sum(axis=1)).ravel()
    taken = np.zeros(len(centres), dtype=bool)
    target = np.arange(len(centres))
    kept = []
    for i in sorted(range(len(centres)), key=lambda i: (-size[i], centres[i])):
        if taken[i]:
            continue
        taken[i] = True
        kept.append(centres[i])
        join = np.where((sims[i] >= merge_threshold) & ~taken)[0]
        taken[join] = True
        target[join] = i
    new_centre = np.array([centres[t] for t in target])
    assigned[:] = new_centre[rows]
    return kept


@dataclass
class Group:
    """Indices (into the input) of similar questions; ``centre`` represents the group."""

    centre: int
    members: list[int]


def group_texts(texts: Sequence[str], threshold: float = DEFAULT_THRESHOLD,
                merge_threshold: float = MERGE_THRESHOLD) -> list[Group]:
    """Group similar questions.

    Args:
        texts: the (redacted) question texts.
        threshold: cosine similarity (0..1) from which two questions are "the same topic".
        merge_threshold: cosine similarity of two groups' centroids from which they merge.

    Returns:
        Every input index in exactly one group, largest groups first (then by
        lowest index); members in input order with the centre first.
    """
    n = len(texts)
    if n == 0:
        return []
    topics = [topic_text(t) for t in texts]
    # Identical topic texts are one item for the vectoriser (cheap exact de-duplication).
    unique: dict[str, int] = {}
    rep = np.empty(n, dtype=np.int64)
    for i, topic in enumerate(topics):
        rep[i] = unique.setdefault(topic, len(unique))
    keys = list(unique)
    m = len(keys)
    weights = np.bincount(rep, minlength=m)
    if m == 1 or not any(keys):
        return [Group(0, list(range(n)))]
    matrix = _vectors(keys)
    if matrix is None:
        return [Group(0, list(range(n)))]
    blocks = []
    chunk = 2000
    for start in range(0, m, chunk):
        sims = (matrix[start:start + chunk] @ matrix.T).tocsr()
        sims.data[sims.data < threshold] = 0
        sims.eliminate_zeros()
        blocks.append(sims)
    from scipy.sparse import vstack

    similar = vstack(blocks).tocsr() if len(blocks) > 1 else blocks[0]
    degree = similar.astype(bool).astype(np.float32) @ weights.astype(np.float32)
    indptr, indices = similar.indptr, similar.indices
    # Phase 1: stars around the questions with the most (weighted) neighbours.
    assigned = np.full(m, -1, dtype=np.int64)
    order = sorted(range(m), key=lambda k: (-degree[k], k))
    centres: list[int] = []
    for k in order:
        if assigned[k] >= 0:
            continue
        assigned[k] = k
        centres.append(k)
        nb = indices[indptr[k]:indptr[k + 1]]
        free = nb[assigned[nb] < 0]
        assigned[free] = k
    # Phase 2: merge stars whose centroids are close (variants that share the
    # topic with the group as a whole, not with its centre alone).
    centres = _merge_stars(matrix, assigned, centres, weights, merge_threshold)
    members: dict[int, list[int]] = {c: [] for c in centres}
    for i in range(n):
        members[int(assigned[rep[i]])].append(i)
    groups = []
    for centre_key, items in members.items():
        centre = next(i for i in items if rep[i] == centre_key)
        ordered = [centre] + [i for i in items if i != centre]
        groups.append(Group(centre, ordered))
    groups.sort(key=lambda g: (-len(g.members), min(g.members)))
    return groups
