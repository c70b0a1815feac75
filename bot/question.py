"""A message parsed once into a question value (DESIGN.md, "Answering", step 3).

:func:`parse` runs every analysis the answering path needs, once per message:
normalised text, ``(token, lemma)`` pairs and content terms (:mod:`bot.language`),
amounts and durations with their units (:mod:`bot.quantities`), the language,
the sentences and the one that asks, and the sentence embedding
(:mod:`bot.embeddings`). Retrieval, the rule check and the answer texts read
the :class:`Question`; none of them parses the raw string again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.language import DanishAnalyzer, abbreviation_before, looks_english, normalise, without_filler_abbreviations
from bot.quantities import Quantity, bare_numbers, parse_quantities

if TYPE_CHECKING:
    from bot.embeddings import Embedder

FOCUS_WEIGHT = 0.0
"""Share of the asking sentence in the embedding of a message of several sentences (the rest: the
whole message). Measured on the dev split (right entry ranked first, hybrid ranking): 0.6 gives
84.4 %, 0.5 gives 90.2 % on the version 1 catalogue against 90.6 % for 0.0, and 0.0 gives 90.2 % on
version 2. The asking sentence of a long message mostly points back at the story with a pronoun
("Må jeg beholde den?"), so the whole message carries the topic; e5 already weighs it (its
attention reads the question in context). At 0.0 a message is embedded once."""

EMBED_MAX_CHARS = 400
"""Characters of a message the sentence embedder reads: the first and the last half of this many
when the message is longer. Every labelled question fits whole (tests/data/eval: at most 213
characters), and at most ~400 tokens is one e5 window (512 tokens): embedding a long message costs
one window instead of one per 510 tokens (2,000 emoji were four windows, over 5 s on a loaded
machine), while the lexical ranker still reads the whole message. The tail keeps the question of a
long story ("... Må jeg det?")."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")
_ASKING = re.compile(
    r"\?|^\s*(?:må|maa|kan|skal|bør|har|hvem|hvad|hvordan|hvornår|hvorfor|hvilken|hvilke|er det|gælder|"
    r"may|can|should|who|what|how|is it|am i|are we|do i|do we)\b", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class Question:
    """One message, analysed.

    Attributes:
        text: the message as received (already capped in length by the channel).
        normalised: NFC, lower case, single spaces (:func:`bot.language.normalise`).
        language: ``"da"`` or ``"en"`` (a cheap guess on function words).
        sentences: the message's sentences, in order.
        focus: the sentence that asks (the last one with a question mark or a
            question word), or the whole text when there is one sentence.
        tokens: ``(token, lemma)`` pairs of the whole text.
        terms: content terms (stemmed, folded lemmas without stop words).
        quantities: amounts, durations, persons and times with their units.
        numbers: numbers that are part of no quantity, clock time or date
            (:func:`bot.quantities.bare_numbers`): a follow-up reads them in the unit of the
            previous answer's limit ("what about 6 of them?").
        embedding: ``(dim,)`` float32, L2-normalised, or None without an embedder.
    """

    text: str
    normalised: str
    language: str
    sentences: tuple[str, ...]
    focus: str
    tokens: tuple[tuple[str, str], ...]
    terms: tuple[str, ...]
    quantities: tuple[Quantity, ...]
    embedding: np.ndarray | None = field(default=None, repr=False)
    numbers: tuple[float, ...] = ()

    @property
    def english(self) -> bool:
        """True when the message looks English."""
        return self.language == "en"

    @property
    def amount_dkk(self) -> int | None:
        """The first amount in kroner, whole kroner, or None."""
        for quantity in self.quantities:
            if quantity.unit == "kr":
                return int(quantity.value)
        return None


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after ``.``, ``!``, ``?`` and at line breaks).

    The dot of an abbreviation (:func:`bot.language.abbreviation_before`) is no sentence end: "Må jeg
    købe for ca. 3.000 kr. f.eks. en stol?" is one sentence. An abbreviation that can close a
    sentence ("kr.", "osv.") ends one only before a capital letter ("Den koster 300 kr. Må jeg ...?").
    """
    text = text or ""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start()
        if end > start and text[end - 1] == ".":
            # Only the last few characters are read (linear time on any message): the longest form is short.
            abbreviation = abbreviation_before(text[max(start, end - 12):end])
            if abbreviation is not None and not (abbreviation.ends and text[match.end():match.end() + 1].isupper()):
                continue
        sentences.append(text[start:end])
        start = match.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if s.strip()]


def asking_sentence(sentences: list[str]) -> str:
    """The sentence that asks: the last one with a "?" or starting with a question word, else the last."""
    for sentence in reversed(sentences):
        if _ASKING.search(sentence):
            return sentence
    return sentences[-1] if sentences else ""


def _embedded_part(text: str) -> str:
    """``text`` itself when at most :data:`EMBED_MAX_CHARS` characters, else its first and last halves."""
    if len(text) <= EMBED_MAX_CHARS:
        return text
    half = EMBED_MAX_CHARS // 2
    return text[:half] + " … " + text[-half:]


def parse(text: str, analyzer: DanishAnalyzer, embedder: "Embedder | None" = None) -> Question:
    """Analyse ``text`` once.

    Args:
        text: the user's message.
        analyzer: the Danish analyser (lemmas, terms).
        embedder: the sentence embedder, or None (lexical only). A message of
            several sentences is embedded twice (whole, and the asking sentence),
            mixed by :data:`FOCUS_WEIGHT`; at most :data:`EMBED_MAX_CHARS` characters
            of it are embedded.

    Only the first ``MANDAT_MAX_MESSAGE_CHARS`` characters (:attr:`bot.config.Settings.max_message_chars`)
    are read: every step below is then bounded, whoever calls.

    Raises:
        ValueError: a ``MANDAT_*`` setting is malformed (:func:`bot.config.get_settings`).
    """
    from bot.config import get_settings

    # Defence in depth: the channels refuse longer messages before the NLU; any other caller
    # (REST of Rasa itself, the CLI, previews) gets at most the cap analysed and stored.
    text = (text or "")[:get_settings().max_message_chars]
    sentences = split_sentences(text)
    focus = asking_sentence(sentences) if len(sentences) > 1 else text.strip()
    tokens = tuple(analyzer.tokens(text))
    quantities = tuple(parse_quantities(text))
    embedding = None
    if embedder is not None and text.strip():
        # Filler abbreviations ("ca.", "f.eks.") are left out of what is embedded, as out of the terms:
        # with or without them, a question gets the same answer (issue 17).
        meant, meant_focus = without_filler_abbreviations(text), without_filler_abbreviations(focus)
        if FOCUS_WEIGHT and focus and focus != text.strip():
            whole, asked = embedder.encode_queries([_embedded_part(meant), _embedded_part(meant_focus)])
            mixed = (1 - FOCUS_WEIGHT) * whole + FOCUS_WEIGHT * asked
            embedding = (mixed / (np.linalg.norm(mixed) or 1.0)).astype(np.float32)
        else:
            embedding = embedder.encode_queries([_embedded_part(meant)])[0]
    return Question(
        text=text, normalised=normalise(text), language="en" if looks_english(text) else "da",
        sentences=tuple(sentences), focus=focus, tokens=tokens, terms=tuple(analyzer.terms_of(list(tokens))),
        quantities=quantities, embedding=embedding, numbers=tuple(bare_numbers(text, quantities)),
    )
