"""The Danish thesaurus and English-Danish word list (bot/lexicon.py) and what they do for retrieval."""
from __future__ import annotations

import datetime as dt
import gzip

import pytest

from bot import lexicon
from bot.language import DanishAnalyzer
from bot.lexicon import Lexicon
from bot.question import parse
from bot.retrieval import EntryDoc, Retriever, build_index

MYTHES = """UTF-8
arbejdsstøvle|1
|sikkerhedssko|arbejdssko
fodtøj|1
|sandal (underbegreb)|gummistøvle (underbegreb)|sko
blød pakke|1
|gave
"""

FREEDICT = """00-database-info
Danish-English FreeDict Dictionary
gave /ˈɡaːvə/ <n>
gift, present [noget man giver]
støvle /ˈsdøʊ̯lə/ <n>
boot
"""


@pytest.fixture()
def sources(tmp_path):
    mythes = tmp_path / "th_da_DK.dat"
    mythes.write_text(MYTHES, encoding="utf-8")
    freedict = tmp_path / "freedict-dan-eng.dict.dz"
    with gzip.open(freedict, "wt", encoding="utf-8") as handle:
        handle.write(FREEDICT)
    return mythes, freedict


def test_thesaurus_keeps_synonyms_both_ways_and_hypernyms_not_hyponyms(sources):
    related = lexicon.parse_mythes(sources[0])
    assert "sikkerhedssko" in related["arbejdsstøvle"] and "arbejdsstøvle" in related["sikkerhedssko"]
    assert "fodtøj" in related["gummistøvle"]  # a boot is footwear ...
    assert "gummistøvle" not in related.get("fodtøj", [])  # ... but footwear is not a boot
    assert "blød pakke" not in related and "blød pakke" not in related.get("gave", [])  # single words only


def test_english_words_map_to_danish_headwords(sources):
    english = lexicon.parse_freedict(sources[1])
    assert english["present"] == ["gave"] and english["boot"] == ["støvle"]
    assert "noget" not in english  # glosses in brackets are not translations


def test_build_writes_both_files_and_load_reads_them(sources, tmp_path):
    out = tmp_path / "lexicon"
    message = lexicon.build(out, *sources)
    assert "da-related.tsv" in message and "en-da.tsv" in message
    loaded = lexicon.load.__wrapped__(str(out))
    assert "sikkerhedssko" in loaded.related["arbejdsstøvle"] and loaded.english["gift"] == ("gave",)


def test_missing_sources_say_what_to_install(tmp_path):
    message = lexicon.build(tmp_path / "lexicon", tmp_path / "nope.dat", tmp_path / "nope.dz")
    assert "mythes-da" in message and not (tmp_path / "lexicon" / "da-related.tsv").exists()
    assert not lexicon.load.__wrapped__(str(tmp_path / "lexicon"))


def test_not_a_thesaurus_file_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "th.dat"
    bad.write_text("latin1\nord|1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"th.dat:1"):
        lexicon.parse_mythes(bad)


ENTRIES = [
    EntryDoc(id="arbejdstoej", unit_id="k", topic_key=None, decision="employee", valid_from=None, valid_to=None,
             topic="Arbejdstøj og sikkerhedssko", summary="Du må selv bestille arbejdstøj og sikkerhedssko.",
             keywords=("arbejdstøj", "sikkerhedssko")),
    EntryDoc(id="gaver", unit_id="k", topic_key=None, decision="leader", valid_from=None, valid_to=None,
             topic="Gaver fra borgere", summary="Små gaver må du tage imod.", keywords=("gave",)),
]


@pytest.mark.parametrize("question, expected", [
    ("Må jeg selv bestille nye arbejdsstøvler?", "arbejdstoej"),  # Danish synonym the catalogue does not use
    ("Can I accept a present from a citizen?", "gaver"),  # English word through the dictionary
])
def test_a_word_only_the_lexicon_knows_finds_the_entry(question, expected):
    analyzer = DanishAnalyzer()
    table = Lexicon(related={"arbejdsstøvle": ("sikkerhedssko", "arbejdssko")},
                    english={"present": ("gave",), "accept": ("modtage",)}, source="test")
    retriever = Retriever(min_score=0.2, min_margin=0.0)
    day = dt.date(2026, 11, 29)
    parsed = parse(question, analyzer)
    with_lexicon = retriever.retrieve(build_index(ENTRIES, analyzer, table), parsed, "k", {"k": None}, day)
    without = retriever.retrieve(build_index(ENTRIES, analyzer), parsed, "k", {"k": None}, day)
    assert with_lexicon.answer is not None and with_lexicon.answer.mandate_id == expected
    assert without.answer is None or without.best.score < with_lexicon.best.score
