"""Quantities with units in a question: amounts, durations, persons and times.

DESIGN.md ("Answering", step 4) checks a question against an entry's limit in
the limit's unit (:data:`bot.domain.LIMIT_UNITS`: kr, minutter, timer, dage,
personer, gange). This module finds those quantities in Danish and English as
staff write them in a chat:

* money: "8.000 kr.", "3000 kroner", "kr. 3.000,-", "3.000,50 kr." (one amount,
  3000.5), "ca. 3.000 kr.", "5 t.kr.", "10k", "3 tusind kroner", "3 mio.",
  "2 millioner", "500 DKK", and bare thousands after a price word ("hvad hvis
  det koster 8.000?");
* durations: "to timer", "en time", "en halv time", "halvanden time", "1,5 time",
  "30 min", "et kvarter", "tre dage", "i to døgn", "en uge", "2 hours",
  "half an hour", "3 days";
* persons: "8 personer", "5 børn", "12 deltagere", "4 medarbejdere";
* times: "3 gange", "for anden gang", "twice".

Danish number format: "." groups thousands ("8.000") and "," starts the
decimals ("1,5"); the English "1.5" (a point and one or two digits) is read as
a decimal too. Source of the Danish conventions: Retskrivningsordbogen
(Dansk Sprognævn), §§ 59 and 62 on "tal" and "decimalkomma".

Bounded, linear time (DESIGN.md, "Privacy and security": every step on the
message path runs in bounded, linear time): the text is cut into tokens by one
regular expression whose alternatives are single character classes with one
quantifier each (no nesting, no two adjacent quantifiers over the same
characters), so a run of digits, spaces, letters or punctuation is consumed
once; the tokens are then read by hand in one pass with a bounded look-ahead.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from bot.domain import LIMIT_UNITS

__all__ = ["Quantity", "parse_quantities", "bare_numbers", "format_quantity", "describe"]


@dataclass(frozen=True)
class Quantity:
    """A quantity named in a text: ``value`` in ``unit`` (one of :data:`bot.domain.LIMIT_UNITS`).

    ``text`` is the span of the original text it was read from ("3.000,50 kr.", "en halv time").

    A vague or open quantity has a range: ``value`` is its smallest reading and ``upper`` its
    largest ("et par dage": 2 to 3; "flere gange": 2 to infinity; "2-3 timer": 2 to 3); ``upper``
    is None for an exact quantity. ``above``: strictly more than ``value`` ("over 2 timer",
    "mere end 3 gange", "more than 500 kr").

    Raises:
        ValueError: on construction, for a unit outside :data:`bot.domain.LIMIT_UNITS`.
    """

    value: float
    unit: str
    text: str
    upper: float | None = None
    above: bool = False

    def __post_init__(self):
        if self.unit not in LIMIT_UNITS:
            raise ValueError(f"quantity unit must be one of {', '.join(LIMIT_UNITS)}, not {self.unit!r}")
        if self.upper is not None and self.upper < self.value:
            raise ValueError(f"quantity upper bound {self.upper} is below its value {self.value}")

    @property
    def exact(self) -> bool:
        """True for one exact value ("3 dage"), False for a range or an open quantity."""
        return self.upper is None and not self.above


_TOKEN = re.compile(r"(?P<num>[0-9]+)|(?P<word>[^\W\d_]+)|(?P<space>\s+)|(?P<punct>[^\w\s]|_)")
"""One token: a run of digits, a run of letters, a run of whitespace, or one other character.
Each alternative is one character class under one quantifier, so matching is linear."""

NUMBER_WORDS = {
    # Danish (Retskrivningsordbogen's grundtal); "en"/"et" are also articles: see _ARTICLES.
    "nul": 0, "en": 1, "én": 1, "et": 1, "ét": 1, "to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6,
    "syv": 7, "otte": 8, "ni": 9, "ti": 10, "elleve": 11, "tolv": 12, "tretten": 13, "fjorten": 14,
    "femten": 15, "seksten": 16, "sytten": 17, "atten": 18, "nitten": 19, "tyve": 20, "tredive": 30,
    "fyrre": 40, "halvtreds": 50, "tres": 60, "halvfjerds": 70, "firs": 80, "halvfems": 90,
    "hundrede": 100, "hundred": 100,
    # English.
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}
"""Number words, Danish and English, as people write small numbers in a chat."""

_ARTICLES = frozenset({"en", "et", "a", "an"})
_FREQUENCY = frozenset({"twice", "once", "times", "gange", "gang", "per", "pr", "om", "hver", "each", "every"})
"""Words before an article that make "a day" a rate ("twice a day", "3 gange om ugen"), not a duration."""
"""Number words that are also articles ("en borger"): a number only right before a unit of time
("en time", "et døgn", "an hour"), never before a person noun or money."""

_FRACTION_WORDS = {"halvanden": 1.5, "halvandet": 1.5}
"""Words that are a number with a fraction: "halvanden time" = 1.5 timer."""

ORDINALS = {
    "første": 1, "anden": 2, "andet": 2, "tredje": 3, "fjerde": 4, "femte": 5, "sjette": 6,
    "syvende": 7, "ottende": 8, "niende": 9, "tiende": 10,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
}
"""Ordinals of "for anden gang" / "for the third time": the n-th time is n times."""

# unit word -> (unit, factor). The factor turns the word's unit into a LIMIT_UNITS unit.
_MONEY_WORDS = {"kr": 1.0, "kroner": 1.0, "krone": 1.0, "kroners": 1.0, "dkk": 1.0}
_TIME_WORDS = {
    "time": ("timer", 1.0), "timer": ("timer", 1.0), "timers": ("timer", 1.0), "timen": ("timer", 1.0),
    "timer's": ("timer", 1.0), "hour": ("timer", 1.0), "hours": ("timer", 1.0), "hr": ("timer", 1.0),
    "hrs": ("timer", 1.0),
    "min": ("minutter", 1.0), "minut": ("minutter", 1.0), "minutter": ("minutter", 1.0),
    "minutters": ("minutter", 1.0), "minute": ("minutter", 1.0), "minutes": ("minutter", 1.0),
    "mins": ("minutter", 1.0),
    "kvarter": ("minutter", 15.0), "kvarters": ("minutter", 15.0),
    "dag": ("dage", 1.0), "dage": ("dage", 1.0), "dages": ("dage", 1.0), "dagen": ("dage", 1.0),
    "døgn": ("dage", 1.0), "døgns": ("dage", 1.0), "arbejdsdag": ("dage", 1.0), "arbejdsdage": ("dage", 1.0),
    "hverdag": ("dage", 1.0), "hverdage": ("dage", 1.0), "day": ("dage", 1.0), "days": ("dage", 1.0),
    # A week is read as 7 days, the larger reading (5 working days would be the smaller): a
    # question about "en uge" is then never judged within a limit that only 5 days would fit,
    # so an error leans towards asking the leader, never towards a wrong "Ja" (DESIGN.md).
    "uge": ("dage", 7.0), "uger": ("dage", 7.0), "ugers": ("dage", 7.0), "week": ("dage", 7.0),
    "weeks": ("dage", 7.0), "ugen": ("dage", 7.0), "fortnight": ("dage", 14.0),
    # A weekend is Saturday and Sunday; a month is read as 31 days, the larger reading, for the
    # reason given for the week.
    "weekend": ("dage", 2.0), "weekenden": ("dage", 2.0), "weekender": ("dage", 2.0),
    "weekends": ("dage", 2.0),
    "måned": ("dage", 31.0), "måneder": ("dage", 31.0), "måneds": ("dage", 31.0),
    "måneden": ("dage", 31.0), "month": ("dage", 31.0), "months": ("dage", 31.0),
    "nat": ("dage", 1.0), "nætter": ("dage", 1.0), "natten": ("dage", 1.0), "night": ("dage", 1.0),
    "nights": ("dage", 1.0),
}
_HOUR_ABBREVIATION = "t"
""""2t", "2 t." and "1½ t" are hours; "5 t.kr." (thousand kroner) is read before it."""

_WHOLE_WORDS = frozenset({"hel", "helt", "hele", "whole", "full", "entire"})
""""en hel uge", "et helt døgn", "hele dagen", "a whole week": the unit once, in full."""
_WHOLE_UNITS = frozenset({"dagen", "ugen", "weekenden", "natten", "døgnet", "måneden", "day", "week",
                          "weekend", "night", "month", "timen"})
"""The units "hele ..." makes a duration of: "hele dagen" is 1 day ("hele tiden" is not)."""

_VAGUE = {
    # word(s) before a unit -> (smallest, largest reading)
    "par": (2.0, 3.0), "couple": (2.0, 3.0), "nogle": (2.0, 5.0), "nogen": (2.0, 5.0),
    "flere": (2.0, float("inf")), "mange": (3.0, float("inf")),
    "few": (2.0, 4.0), "several": (2.0, float("inf")), "many": (3.0, float("inf")),
    "some": (2.0, 5.0),
}
"""Vague counts: "et par dage", "nogle timer", "flere gange", "a few days", "several times". As a
range, a limit inside it is neither kept nor broken: the answer asks the employee to check."""

_ABOVE = (("over",), ("mere", "end"), ("mer", "end"), ("længere", "end"), ("flere", "end"),
          ("more", "than"), ("longer", "than"), ("godt",), ("lidt", "over"),
          ("mindst",), ("minimum",), ("at", "least"))
"""Words before a quantity that make it open upwards: "over 2 timer", "mere end 3 gange", "mindst 2
dage". Most are strictly more ("over 2 timer" against a 2-hour limit is over it); "mindst",
"minimum" and "at least" include the value itself (:data:`_STRICT_ABOVE`)."""
_ABOVE_LAST = frozenset(words[-1] for words in _ABOVE)
_STRICT_ABOVE = frozenset({("over",), ("mere", "end"), ("mer", "end"), ("længere", "end"),
                           ("flere", "end"), ("more", "than"), ("longer", "than"), ("godt",),
                           ("lidt", "over")})

WEEKDAYS = {
    "mandag": 0, "tirsdag": 1, "onsdag": 2, "torsdag": 3, "fredag": 4, "lørdag": 5, "søndag": 6,
    "man": 0, "tirs": 1, "tir": 1, "ons": 2, "tors": 3, "tor": 3, "fre": 4, "lør": 5, "søn": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
"""Weekday names: "fra mandag til torsdag" is 4 days (both days counted: the larger reading)."""
_RANGE_WORDS = frozenset({"til", "to", "through", "until", "-", "–"})

_FRACTION_SIGNS = {"½": 0.5, "¼": 0.25, "¾": 0.75}
"""Vulgar fractions as staff type them: "1½ time", "½ time", "2¾ timer"."""
_PERSON_WORDS = frozenset(
    """personer person pers deltagere deltager medarbejdere kolleger kollegaer borgere beboere børn
    elever gæster brugere mennesker voksne unge ansatte people persons children kids participants
    employees colleagues residents guests pupils""".split()
)
"""Nouns that count persons ("8 personer", "5 børn"); "en"/"et" before them is an article, not 1."""
_TIMES_WORDS = frozenset({"gang", "gange", "times"})

_MULTIPLIERS = {"tusind": 1_000.0, "tusinde": 1_000.0, "thousand": 1_000.0, "k": 1_000.0,
                "mio": 1_000_000.0, "million": 1_000_000.0, "millioner": 1_000_000.0,
                "millions": 1_000_000.0, "mill": 1_000_000.0}
_MILLIONS = frozenset({"mio", "million", "millioner", "millions", "mill"})
"""Millions are money in a question at work: "3 mio." without a unit is read as kroner."""

_PRICE_CUES = frozenset({"koster", "kostede", "koste", "pris", "prisen", "beløb", "beløbet", "for", "til",
                         "betale", "betaler", "costs", "cost", "price", "worth", "pay"})
"""Words after which a bare number of at least three digits (or with a thousands point) is an amount:
"hvad hvis det koster 8.000?", "en printer til 2500"."""
_AFTER_BARE = frozenset({"i", "og", "eller", "om", "pr", "per", "hver", "inkl", "ekskl", "incl", "excl",
                         "med", "på", "for", "til", "in", "and", "or", "each", "a"})
"""Words that may follow a bare amount without making it a count of something else
("for 2000 i alt"); any other word ("for 200 år siden") means the number is not money."""


class _Tok(NamedTuple):
    kind: str   # num, word, punct
    text: str   # lower case, NFC
    start: int
    end: int
    space: bool  # whitespace before it


_KINDS = (None, "num", "word", "space", "punct")


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    append = out.append
    space = False
    kinds = _KINDS
    for match in _TOKEN.finditer(text):
        kind = kinds[match.lastindex]
        if kind == "space":
            space = True
            continue
        start, end = match.span()
        token = text[start:end]
        append(_Tok(kind, token.lower() if kind == "word" else token, start, end, space))
        space = False
    return out


def _word(toks: list[_Tok], i: int) -> str | None:
    return toks[i].text if i < len(toks) and toks[i].kind == "word" else None


def _is(toks: list[_Tok], i: int, kind: str, text: str | None = None, *, tight: bool = False) -> bool:
    """Token ``i`` is of ``kind`` (and ``text``); ``tight``: no whitespace before it."""
    if i >= len(toks):
        return False
    tok = toks[i]
    return tok.kind == kind and (text is None or tok.text == text) and not (tight and tok.space)


_MAX_DIGITS = 15
_MAX_VALUE = 1e15
"""A run of more than 15 digits (or a grouped number that large) is no quantity a question means:
it is not read (and ``int()`` of a 100 KB digit run is refused by Python anyway)."""


def _digits(toks: list[_Tok], i: int) -> tuple[float, int, bool] | None:
    """A written number at token ``i``: ``(value, next index, money)``; ``money`` for the ",-" of
    "kr. 3.000,-". Thousands groups "8.000" / "8 000" / "8,000" (a group is exactly three digits
    after a first group of at most three), decimals ",5" / ",50" / ".5"."""
    first = toks[i].text
    if len(first) > _MAX_DIGITS:
        return None
    value = float(int(first))
    j = i + 1
    if len(first) <= 3:
        while value < _MAX_VALUE:
            if (_is(toks, j, "punct", ".", tight=True) or _is(toks, j, "punct", ",", tight=True)) \
                    and _is(toks, j + 1, "num", tight=True) and len(toks[j + 1].text) == 3:
                # "3,000" is English grouping; "1,500 kr" is never 1.5 kroner in a question.
                value = value * 1000 + int(toks[j + 1].text)
                j += 2
            elif _is(toks, j, "num") and toks[j].space and len(toks[j].text) == 3 and not _space_group_stop(toks, j):
                value = value * 1000 + int(toks[j].text)
                j += 1
            else:
                break
    money = False
    if _is(toks, j, "word", tight=True) and toks[j].text in _FRACTION_SIGNS:  # "1½"
        return value + _FRACTION_SIGNS[toks[j].text], j + 1, False
    if (_is(toks, j, "punct", ",", tight=True) or _is(toks, j, "punct", ".", tight=True)) \
            and _is(toks, j + 1, "num", tight=True) and len(toks[j + 1].text) <= 2:
        decimals = toks[j + 1].text
        value += int(decimals) / (10 ** len(decimals))
        j += 2
    if _is(toks, j, "punct", ",", tight=True) and _is(toks, j + 1, "punct", "-", tight=True):
        money = True
        j += 2
    return value, j, money


def _space_group_stop(toks: list[_Tok], j: int) -> bool:
    """A three-digit number after a space is a thousands group ("2 500 kr") unless it is itself
    grouped further or followed by a decimal point of its own ("kl. 8 100.5" is not a number)."""
    return _is(toks, j + 1, "punct", ".", tight=True) and _is(toks, j + 2, "num", tight=True) \
        and len(toks[j + 2].text) != 3


def _money_unit(toks: list[_Tok], j: int) -> int | None:
    """Index after a money unit at ``j`` ("kr", "kr.", "kroner", "dkk", ",-", "t.kr."), else None."""
    word = _word(toks, j)
    if word in _MONEY_WORDS:
        j += 1
        if word == "kr" and _is(toks, j, "punct", ".", tight=True):
            j += 1
        if _is(toks, j, "punct", ",", tight=True) and _is(toks, j + 1, "punct", "-", tight=True):
            j += 2
        return j
    return None


_COMPOUND_TIME_HEADS = ("dage", "dag", "døgn", "timer", "time", "uger", "uge")
"""Heads of Danish compounds that count time: "3 hjemmearbejdsdage", "2 feriedage", "4 mødetimer"."""


def _compound_time_word(word: str) -> tuple[str, float] | None:
    """``(unit, factor)`` of a compound ending in a unit of time (a first part of at least four
    letters: "hjemmearbejdsdage" -> dage; not "fredage": "fre" is no word of its own), else None."""
    for head in _COMPOUND_TIME_HEADS:
        if word.endswith(head) and len(word) - len(head) >= 4:
            return _TIME_WORDS[head]
    return None


def _unit_after(toks: list[_Tok], j: int, article: bool) -> tuple[str, float, int] | None:
    """The unit right after a number: ``(unit, factor, next index)``; an optional hyphen first
    ("2-timers møde"). ``article``: the number was "en"/"et"/"a"/"an" (time units only)."""
    if _is(toks, j, "punct", "-", tight=True):
        j += 1
    word = _word(toks, j)
    if word is None:
        return None
    if word in _TIME_WORDS:
        unit, factor = _TIME_WORDS[word]
        j += 1
        if word == "min" and _is(toks, j, "punct", ".", tight=True):
            j += 1
        return unit, factor, j
    if word == _HOUR_ABBREVIATION and not article:
        if _is(toks, j + 1, "punct", ".", tight=True):
            if _word(toks, j + 2) == "kr":
                return None
            return "timer", 1.0, j + 2
        return "timer", 1.0, j + 1
    compound = _compound_time_word(word)
    if compound is not None and not article:
        return compound[0], compound[1], j + 1
    if article:
        return None
    if word in _PERSON_WORDS:
        return "personer", 1.0, j + 1
    if word in _TIMES_WORDS:
        return "gange", 1.0, j + 1
    end = _money_unit(toks, j)
    if end is not None:
        return "kr", 1.0, end
    return None


def parse_quantities(text: str) -> list[Quantity]:
    """The quantities of ``text`` with their units, in text order (see the module docstring).

    Args:
        text: a message, any length (linear time).

    Returns:
        :class:`Quantity` items; a number without a unit (and not a bare amount after a
        price word) is not a quantity: "kl. 19 på torsdag, 2. sal" gives none.
    """
    text = unicodedata.normalize("NFC", text or "")
    toks = _tokens(text)
    spans: list[list] = []  # [value, unit, start token, end token, upper, above]
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        got = None
        if tok.kind == "num":
            got = _read_number(toks, i)
            if isinstance(got, int):
                i = max(i + 1, got)
                continue
        elif tok.kind == "word":
            got = _read_word(toks, i)
        if got is None:
            i += 1
            continue
        value, unit, start, end, *rest = got
        upper = rest[0] if rest else None
        start, upper, above = _qualified(toks, start, value, upper)
        spans.append([value, unit, start, end, upper, above])
        i = end
    spans = _summed(toks, spans)
    return [Quantity(value, unit, text[toks[start].start:toks[end - 1].end], upper, above)
            for value, unit, start, end, upper, above in spans]


_CLOCK_WORDS = frozenset({"kl", "klokken", "at", "den", "d", "nr", "nummer", "number", "no", "side", "page",
                          "stue", "værelse", "room", "år", "årig", "years", "year"})
"""Words next to a number that make it a clock time, a date, a number or an age ("kl. 3", "den 3.",
"stue 12", "3 år"), not a count a follow-up could mean."""


BARE_NUMBERS_MAX_CHARS = 300
"""Only a short message is read for bare numbers: they serve follow-ups, which are at most ten words
(:func:`bot.language.looks_like_follow_up`); a long message costs nothing here."""


def bare_numbers(text: str, quantities: list[Quantity] | tuple[Quantity, ...] | None = None) -> list[float]:
    """The numbers of ``text`` that are part of no quantity and no clock time, date, room or age:
    "what about 6 of them?" -> [6.0]; "hvad hvis vi er 12?" -> [12.0]; "kl. 14" -> [].

    A follow-up reads such a number in the unit of the previous answer's limit
    (:meth:`bot.service.MandateService.answer`). Linear time, as :func:`parse_quantities`.
    ``quantities``: ``parse_quantities(text)`` when the caller has it already (not read again).
    """
    if len(text or "") > BARE_NUMBERS_MAX_CHARS:
        return []
    text = unicodedata.normalize("NFC", text or "")
    toks = _tokens(text)
    taken = _quantity_spans(text, quantities)  # in text order: walked with one pointer (linear)
    span = 0
    out: list[float] = []
    for i, tok in enumerate(toks):
        if tok.kind != "num" or len(tok.text) > 6:
            continue
        while span < len(taken) and taken[span][1] <= tok.start:
            span += 1
        if span < len(taken) and taken[span][0] <= tok.start < taken[span][1]:
            continue
        if i >= 2 and toks[i - 1].kind == "punct" and toks[i - 1].text in ".:/-," and not tok.space \
                and toks[i - 2].kind == "num":
            continue  # the second part of "10.30", "3/12", "2-3"
        before = _word(toks, i - 1) if i >= 1 else None
        if i >= 2 and toks[i - 1].text == "." and _word(toks, i - 2) in _CLOCK_WORDS:
            before = _word(toks, i - 2)
        after = toks[i + 1] if i + 1 < len(toks) else None
        if before in _CLOCK_WORDS or (after is not None and (
                after.kind == "num" or (after.kind == "punct" and after.text in ".:/-" and not after.space
                                        and i + 2 < len(toks) and toks[i + 2].kind == "num")
                or (after.kind == "punct" and after.text == "." and not after.space
                    and i + 2 < len(toks) and toks[i + 2].kind == "word")
                or (after.kind == "word" and after.text in _CLOCK_WORDS))):
            continue
        out.append(float(int(tok.text)))
    return out


def _quantity_spans(text: str, quantities=None) -> list[tuple[int, int]]:
    """Character spans of ``quantities`` (default: what :func:`parse_quantities` finds) in ``text`` (NFC)."""
    spans, position = [], 0
    for quantity in parse_quantities(text) if quantities is None else quantities:
        start = text.find(quantity.text, position)
        if start >= 0:
            spans.append((start, start + len(quantity.text)))
            position = start + len(quantity.text)
    return spans


def _qualified(toks: list[_Tok], start: int, value: float, upper: float | None) -> tuple[int, float | None, bool]:
    """``(start, upper, above)`` after the words before a quantity (:data:`_ABOVE`): "over 2 timer"
    is open upwards and strictly more; "mindst 2 dage" open upwards from 2 itself."""
    if start < 1 or _word(toks, start - 1) not in _ABOVE_LAST:
        return start, upper, False
    for words_before in _ABOVE:
        k = len(words_before)
        if start - k < 0:
            continue
        if all(_word(toks, start - k + m) == words_before[m] for m in range(k)):
            return start - k, float("inf"), words_before in _STRICT_ABOVE
    return start, upper, False


_SUM_UNITS = {("timer", "minutter"): ("minutter", 60.0), ("dage", "timer"): ("timer", 24.0)}
"""Two durations joined by "og"/"and" are one: "2 timer og 30 minutter" is 150 minutes."""


def _summed(toks: list[_Tok], spans: list[list]) -> list[list]:
    """``spans`` with "2 timer og 30 minutter" / "1 dag og 6 timer" merged into one exact sum."""
    out: list[list] = []
    for span in spans:
        if out:
            prev = out[-1]
            pair = _SUM_UNITS.get((prev[1], span[1]))
            if pair and prev[4] is None and span[4] is None and not span[5] and span[2] == prev[3] + 1 \
                    and _word(toks, prev[3]) in ("og", "and"):
                unit, factor = pair
                out[-1] = [prev[0] * factor + span[0], unit, prev[2], span[3], None, prev[5]]
                continue
        out.append(span)
    return out


def _prefix_money(toks: list[_Tok], i: int) -> int | None:
    """Start of a "kr. 3.000" / "DKK 500" before the number at ``i``: index of "kr"/"dkk", else None."""
    if i >= 2 and toks[i - 1].text == "." and _word(toks, i - 2) in ("kr",):
        return i - 2
    if i >= 1 and _word(toks, i - 1) in ("kr", "dkk"):
        return i - 1
    return None


def _read_number(toks: list[_Tok], i: int) -> tuple[float, str, int, int] | int:
    """A quantity starting with digits at ``i``: ``(value, unit, first token, end token)``, else the
    index after the number (no token inside a written number starts a quantity: going on after it
    keeps the pass linear on "1.234.567.890...", each group read once)."""
    read = _digits(toks, i)
    if read is None:
        return i + 1
    value, j, money = read
    start = i
    # "10k", "5 t.kr.", "3 tusind kroner", "3 mio."
    word = _word(toks, j)
    multiplied = False
    if word == "t" and _is(toks, j + 1, "punct", ".", tight=True) and _word(toks, j + 2) == "kr":
        value *= 1000
        end = _money_unit(toks, j + 2)
        return value, "kr", start, end
    if word in _MULTIPLIERS and (word != "k" or not toks[j].space):
        value *= _MULTIPLIERS[word]
        multiplied = True
        j += 1
        if word in ("mio", "mill") and _is(toks, j, "punct", ".", tight=True):
            j += 1
    ranged = _range_end(toks, j) if not multiplied else None
    if ranged is not None:  # "2-3 dage", "2 til 3 timer", "4 eller 5 personer"
        high, k = ranged
        unit = _unit_after(toks, k, article=False)
        if unit is not None and high > value:
            name, factor, end = unit
            return value * factor, name, start, end, high * factor
    unit = _unit_after(toks, j, article=False)
    if unit is not None:
        name, factor, end = unit
        if not (multiplied and name != "kr" and name != "personer"):
            return value * factor, name, start, end
    pre = _prefix_money(toks, i)
    if pre is not None:
        return value, "kr", pre, j
    if money or (multiplied and (word == "k" or word in _MILLIONS)):
        return value, "kr", start, j
    cue = _word(toks, i - 1) if i >= 1 else None
    if cue in _PRICE_CUES and (multiplied or _bare_amount(toks, j, value)):
        return value, "kr", start, j
    return j  # no quantity: the caller goes on after the number


def _range_end(toks: list[_Tok], j: int) -> tuple[float, int] | None:
    """The second number of a range after the first ends at ``j`` ("-3", "til 3", "eller 3", "to 3"):
    ``(value, index after it)``, else None."""
    joiner = toks[j] if j < len(toks) else None
    if joiner is None or not (joiner.text in ("-", "–") or joiner.text in ("til", "eller", "to", "or")):
        return None
    if not _is(toks, j + 1, "num"):
        return None
    read = _digits(toks, j + 1)
    if read is None:
        return None
    return read[0], read[1]


def _bare_amount(toks: list[_Tok], j: int, value: float) -> bool:
    """A number after a price word, ending before token ``j``, is an amount when it is at least 100
    (not a clock time "til 10.30" nor a count "for 2") and no other noun follows it
    (:data:`_AFTER_BARE`: "for 200 år siden" is no amount)."""
    if value < 100:
        return False
    follower = _word(toks, j)
    return follower is None or follower in _AFTER_BARE


def _read_word(toks: list[_Tok], i: int) -> tuple[float, str, int, int] | None:
    """A quantity starting with a word at ``i``: number words, "halvanden", "en halv time",
    "half an hour", "et kvarter", "for anden gang", "twice"."""
    word = toks[i].text
    if word == "twice":
        return 2.0, "gange", i, i + 1
    if word == "once" and _word(toks, i + 1) is None:
        return None
    # "for anden gang", "for the third time"
    if word in ("for",):
        k = i + 1
        if _word(toks, k) == "the":
            k += 1
        ordinal = _word(toks, k)
        if ordinal in ORDINALS and _word(toks, k + 1) in ("gang", "time"):
            if _word(toks, k + 1) == "time" and _word(toks, i + 1) != "the":
                return None  # "for anden time" is not "the second time"
            return float(ORDINALS[ordinal]), "gange", i, k + 2
        return None
    # "a quarter of an hour", "three quarters of an hour" (15 and 45 minutes)
    if word in ("quarter", "quarters") and _word(toks, i + 1) == "of" and _word(toks, i + 2) in ("an", "a") \
            and _word(toks, i + 3) in ("hour",):
        before = _word(toks, i - 1) if i >= 1 else None
        count = float(NUMBER_WORDS.get(before, 1)) if before in NUMBER_WORDS else 1.0
        return 15.0 * count, "minutter", (i - 1 if before in NUMBER_WORDS else i), i + 4
    # "half an hour", "en halv time", "et halvt døgn"
    if word == "half" and _word(toks, i + 1) in ("an", "a") and _word(toks, i + 2) in _TIME_WORDS:
        unit, factor = _TIME_WORDS[toks[i + 2].text]
        return 0.5 * factor, unit, i, i + 3
    if word in _ARTICLES and _word(toks, i + 1) in ("halv", "halvt") and _word(toks, i + 2) in _TIME_WORDS:
        unit, factor = _TIME_WORDS[toks[i + 2].text]
        return 0.5 * factor, unit, i, i + 3
    if word in _FRACTION_WORDS:
        found = _unit_after(toks, i + 1, article=True)
        if found:
            unit, factor, end = found
            return _FRACTION_WORDS[word] * factor, unit, i, end
        return None
    if word in _FRACTION_SIGNS:  # "½ time"
        found = _unit_after(toks, i + 1, article=True)
        if found:
            unit, factor, end = found
            return _FRACTION_SIGNS[word] * factor, unit, i, end
        return None
    vague = _read_vague(toks, i)
    if vague is not None:
        return vague
    if word in ORDINALS:
        return _read_ordinal(toks, i)
    if word in ("hele", "whole", "entire") and _word(toks, i + 1) in _WHOLE_UNITS:  # "hele dagen"
        unit, factor = _TIME_WORDS.get(toks[i + 1].text, ("dage", 1.0))  # "døgnet": 1 day
        return factor, unit, i, i + 2
    if word in WEEKDAYS:
        return _read_weekdays(toks, i)
    if word in _ARTICLES and _word(toks, i + 1) in _WHOLE_WORDS:  # "en hel uge", "a whole day"
        found = _unit_after(toks, i + 2, article=True)
        if found:
            unit, factor, end = found
            return factor, unit, i, end
        return None
    if word not in NUMBER_WORDS:
        return None
    value = float(NUMBER_WORDS[word])
    article = word in _ARTICLES
    if article and i >= 1 and _word(toks, i - 1) in _FREQUENCY:
        return None
    j = i + 1
    # "to og en halv time" = 2.5 timer
    if not article and _word(toks, j) == "og" and _word(toks, j + 1) in _ARTICLES \
            and _word(toks, j + 2) in ("halv", "halvt"):
        found = _unit_after(toks, j + 3, article=True)
        if found:
            unit, factor, end = found
            return (value + 0.5) * factor, unit, i, end
    if not article and _word(toks, j) in ("tusind", "tusinde", "thousand", "millioner", "million", "mio"):
        multiplier = _MULTIPLIERS[toks[j].text]
        j += 1
        if _is(toks, j, "punct", ".", tight=True) and toks[j - 1].text == "mio":
            j += 1
        end = _money_unit(toks, j)
        if end is not None:
            return value * multiplier, "kr", i, end
        if multiplier >= 1_000_000 or (i >= 1 and _word(toks, i - 1) in _PRICE_CUES):
            return value * multiplier, "kr", i, j
        return None
    found = _unit_after(toks, j, article=article)
    if found is None:
        return None
    unit, factor, end = found
    if unit == "kr" and article:
        return None
    return value * factor, unit, i, end


def _read_vague(toks: list[_Tok], i: int) -> tuple[float, str, int, int, float] | None:
    """A vague count before a unit (:data:`_VAGUE`): "et par dage", "nogle timer", "flere gange",
    "a couple of days", "a few hours"; not money ("nogle kroner" says no amount)."""
    word = toks[i].text
    k = i
    if word in _ARTICLES and _word(toks, i + 1) in ("par", "couple", "few"):
        k = i + 1
    elif word not in _VAGUE:
        return None
    low, high = _VAGUE[toks[k].text]
    if toks[k].text == "couple" and _word(toks, k + 1) == "of":
        k += 1
    found = _unit_after(toks, k + 1, article=False)
    if found is None or found[0] == "kr":
        return None
    unit, factor, end = found
    return low * factor, unit, i, end, high * factor


def _read_ordinal(toks: list[_Tok], i: int) -> tuple[float, str, int, int] | None:
    """"tredje gang", "det er anden gang", "the third time": the n-th time is n times. "anden" /
    "andet" only after "er", "nu", "for", "den" or "det" ("en anden gang" is another time, not the second)."""
    word = toks[i].text
    follower = _word(toks, i + 1)
    before = _word(toks, i - 1) if i >= 1 else None
    if follower == "gang":
        if word in ("anden", "andet") and before not in ("er", "nu", "for", "den", "det"):
            return None
        return float(ORDINALS[word]), "gange", i, i + 2
    if follower == "time" and before in ("the", "a") and word in ("second", "third", "fourth", "fifth"):
        return float(ORDINALS[word]), "gange", i - 1, i + 2
    return None


def _read_weekdays(toks: list[_Tok], i: int) -> tuple[float, str, int, int] | None:
    """"mandag til torsdag", "fra mandag til og med fredag", "man-fre", "Monday to Friday": the days
    counted with both ends (the larger reading). Abbreviations only with a hyphen ("man" is also a
    pronoun)."""
    first = toks[i].text
    j = i + 1
    joiner = toks[j].text if j < len(toks) else None
    if joiner not in _RANGE_WORDS:
        return None
    j += 1
    if joiner == "til" and _word(toks, j) == "og" and _word(toks, j + 1) == "med":
        j += 2
    last = _word(toks, j)
    if last not in WEEKDAYS:
        return None
    if (len(first) <= 4 or len(last) <= 4) and joiner not in ("-", "–"):
        return None
    days = (WEEKDAYS[last] - WEEKDAYS[first]) % 7 + 1
    return float(days), "dage", i, j + 1


def describe(quantity: Quantity) -> str:
    """The quantity as the answer names it: "3 dage" for an exact one, the asker's own words
    ("et par dage", "over 2 timer") for a range or an open one."""
    if quantity.exact:
        return format_quantity(quantity.value, quantity.unit)
    return quantity.text.strip()


def format_quantity(value: float, unit: str) -> str:
    """Danish text of a value in a limit unit: ``(2500, "kr")`` -> ``"2.500 kr."``,
    ``(1, "timer")`` -> ``"1 time"``, ``(1.5, "timer")`` -> ``"1,5 timer"``, ``(1, "dage")`` -> ``"1 dag"``.

    Raises:
        ValueError: ``unit`` is not one of :data:`bot.domain.LIMIT_UNITS`.
    """
    if unit not in LIMIT_UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    if unit == "kr":
        whole = round(value, 2)
        if whole == int(whole):
            return f"{int(whole):,}".replace(",", ".") + " kr."
        return f"{int(whole):,}".replace(",", ".") + "," + f"{whole - int(whole):.2f}"[2:] + " kr."
    number = f"{value:g}".replace(".", ",") if value != int(value) else str(int(value))
    singular = {"minutter": "minut", "timer": "time", "dage": "dag", "personer": "person", "gange": "gang"}
    return f"{number} {singular[unit] if value == 1 else unit}"
