"""Danish normalisation: what a user notices is that spelling variants still match."""
import pytest

from bot.language import DanishAnalyzer, fold_ascii, looks_english, normalise, option_choice, parse_amounts


@pytest.fixture(scope="module")
def analyzer():
    from bot.config import get_settings

    return DanishAnalyzer(get_settings().spacy_model)


def test_normalise_nfc_case_and_spaces():
    decomposed = "Ma\u030a jeg  VÆLGE"  # "å" as a + combining ring
    assert normalise(decomposed) == "må jeg vælge"


@pytest.mark.parametrize("word, folded", [("må", "maa"), ("vælge", "vaelge"), ("køre", "koere"), ("Ærø", "aeroe")])
def test_fold_ascii(word, folded):
    assert fold_ascii(word) == folded


def test_ascii_spelling_meets_danish_spelling(analyzer):
    assert analyzer.terms("Maa jeg selv vaelge en vikar?") == analyzer.terms("Må jeg selv vælge en vikar?")
    assert analyzer.terms("koere i bilen") == analyzer.terms("køre i bilen")


def test_lemmas_reduce_inflections(analyzer):
    assert analyzer.terms("vagterne") == analyzer.terms("vagt")
    assert analyzer.terms("vikarer") == analyzer.terms("vikar")
    assert analyzer.terms("kontanter") == analyzer.terms("kontant")


def test_question_framing_words_are_not_topic_terms(analyzer):
    assert analyzer.terms("Må jeg selv bestemme det, eller skal jeg spørge min leder om lov?") == []
    # what something costs is not what it is about; the noun "kost" (diet) stays
    assert analyzer.terms("hvad hvis det koster 3.000 kr.?") == []
    assert analyzer.terms("særlig kost") != []


def test_chat_spellings_count_as_the_words_they_stand_for(analyzer):
    assert analyzer.terms("ka jeg gi fru hansen en kop kakao hun kan ik sove") == \
        analyzer.terms("kan jeg give fru hansen en kop kakao hun kan ikke sove")
    assert "give" in analyzer.lemmas("må jeg gi hende en kop kaffe")


@pytest.mark.parametrize(
    "text, amounts",
    [
        ("en printer til 3.000 kr.", [3000]),
        ("det koster 2500 kroner", [2500]),
        ("kr. 400 til kage", [400]),
        ("hvad hvis det koster 8.000?", [8000]),
        ("1.500,50 kr og 250 DKK", [1500, 250]),
        ("kl. 19 på torsdag, 2. sal", []),
    ],
)
def test_parse_amounts(text, amounts):
    assert parse_amounts(text) == amounts


def test_english_detection():
    assert looks_english("Can I drive a resident to an appointment in the house car?")
    assert not looks_english("Må jeg køre en beboer til lægen?")
    assert not looks_english("Hej")


@pytest.mark.parametrize("reply, picked", [
    ("den første", 0), ("Den anden", 1), ("ja, den anden tak", 1), ("nr. 2", 1), ("B", 1),
    ("den sidste", 1), ("the second one", 1), ("2", 1), ("første mulighed", 0), ("jeg mener den anden", 1),
])
def test_a_typed_choice_picks_an_option(reply, picked):
    assert option_choice(reply, 2) == picked


@pytest.mark.parametrize("reply", ["ja", "Må jeg købe den første bog?", "den tredje", "hvad med vikarer"])
def test_a_reply_that_is_not_a_choice_picks_nothing(reply):
    assert option_choice(reply, 2) is None


def test_english_lemmas_from_the_lookup_table():
    from bot.language import english_lemma

    assert [english_lemma(w) for w in ("cars", "repaired", "children", "snow")] == ["car", "repair", "child", "snow"]


def test_stemming_is_safe_from_several_threads():
    # The action server answers in a thread pool; one shared Snowball stemmer raised IndexError.
    from concurrent.futures import ThreadPoolExecutor

    from bot.language import stem_term

    words_ = ["vikarerne", "gavekortene", "borgernøglerne", "hjemmearbejdsdagene", "sikkerhedsskoene"] * 400
    expected = [stem_term(w) for w in words_]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(stem_term, words_)) == expected
