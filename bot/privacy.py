"""Redaction of personal data before anything is stored, logged or shown to HR.

One module, used by every store and log (the question store, feedback, the
tracker store and log records): :func:`redact` replaces

- CPR numbers (``[CPR-NR]``): DDMMYY-SSSS (the CPR Act, LBK nr. 1297 af 2017
  §3) in every common written form: ``0102031234``, ``010203-1234``,
  ``010203 - 1234``, ``010203/1234``, ``010203–1234`` (en dash),
  ``01 02 03 1234``, ``01.02.03-1234``, ``01-02-03-1234``. The date part is
  validated (day 01-31, month 01-12); the modulus-11 check is *not* used,
  because numbers issued since 2007 may fail it. After a context word
  ("cpr", "personnummer", ...) any ten digits in that shape are redacted.
- Danish phone numbers (``[TELEFON]``): eight digits, with or without +45 /
  0045, written in one block, in pairs or in fours, separated by spaces,
  dashes, dots or slashes (one separator throughout). Without a prefix or a
  context word ("tlf", "ring", "mobil", ...), the number must not start with
  0 (nor with 1 when written in one block: Danish subscriber numbers start
  with 2-9) and must not read as a date (24.12.2026, 20261224) or a pair of
  years (2025-2026). Numbers of other countries count when written with
  their + prefix ("+46 70 123 45 67").
- E-mail addresses (``[E-MAIL]``), also written ``anna.jensen (at) gmail.com``,
  ``[at]``, ``(a)``, `` at `` (then with a known top-level domain), and with
  ``(dot)``/``[punktum]`` for the dots.
- Names (``[NAVN]``): capitalised words after a title or role word ("fru",
  "hr.", "frk.", "borgeren", "min kollega", "pårørende", "datter", "mor",
  "patienten", "hedder", ...; after "fru"/"frk."/"hr." also a lowercase
  word), names from a configurable list (:attr:`bot.config.Settings.redact_names_file`,
  by default the common Danish first names and surnames from Danmarks
  Statistik in ``bot/language_data/navne.txt``) written with a capital
  initial, and capitalised "-sen" surnames inside a sentence. A listed name
  that is also an ordinary word ("Hans", "Per", "Bo", "Mark") is left alone at
  the start of a sentence unless a listed name follows ("Hans Jensen"). The
  capitalised words that follow a name (surnames) go with it.
- Danish street addresses (``[ADRESSE]``): a word ending in a street-name
  suffix (-vej, -gade, -allé, -alle, -stræde, -plads, -parken, -toften,
  -vænget, -bakken, -haven, -stien, -boulevard, -torv, ...) followed by a
  house number, with an optional letter, floor and side ("12B, 2. tv") and
  postcode and town ("8000 Aarhus C"); "Sankt Annæ Plads 3" and
  "Gammel Kongevej 10" take the words before the street type along.

Kept as written: dates ("1.12.2026", "3. december"), amounts ("12.500 kr.",
"3.000,50 kr."), times ("14.30", "kl. 14"), entry ids ("sk-gaver"), class
names ("7.b"), years, percentages, unit names and ordinary capitalised words.

Every pattern is linear-time: all quantifiers are bounded or over a single
character class followed by a character outside it, and every pattern that
could start inside a run is anchored with a look-behind to the run's start,
so no input makes the regular-expression engine backtrack more than a
constant amount per character (tests/test_privacy.py feeds 100 KB of each
character class). Patterns and context words were modelled on Microsoft
Presidio's recognizers (phone, e-mail, the Danish CPR recognizers of its
community), whose e-mail expression itself nests quantifiers and is not used.

:class:`RedactingFilter` and :func:`install_log_redaction` put the same
redaction on log records.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import logging
import re
import traceback
from pathlib import Path
from typing import Iterable, NamedTuple

CPR_PLACEHOLDER = "[CPR-NR]"
EMAIL_PLACEHOLDER = "[E-MAIL]"
PHONE_PLACEHOLDER = "[TELEFON]"
NAME_PLACEHOLDER = "[NAVN]"
ADDRESS_PLACEHOLDER = "[ADRESSE]"

CATEGORIES = ("email", "cpr", "telefon", "adresse", "navn")
"""The kinds of personal data :func:`redact` finds, in order of precedence."""

PLACEHOLDERS = {
    "email": EMAIL_PLACEHOLDER,
    "cpr": CPR_PLACEHOLDER,
    "telefon": PHONE_PLACEHOLDER,
    "adresse": ADDRESS_PLACEHOLDER,
    "navn": NAME_PLACEHOLDER,
}


class Span(NamedTuple):
    """A piece of personal data in a text: ``text[start:end]`` of ``category``."""

    start: int
    end: int
    category: str


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------

_SP = r"[ \t\u00a0\u202f]"  # a space, also no-break and narrow no-break
_DASH = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, en/em dash, minus
_GROUP_SEP = rf"(?:{_SP}{{0,3}}[{_DASH}./]{_SP}{{0,3}}|{_SP}{{1,3}})?"
_UNIT_AFTER = (
    rf"{_SP}{{0,2}}(?:kr\b|kroner|dkk\b|,-|%|procent|timer?\b|t\b|min\b|minutter|dage?\b|uger?\b|"
    rf"måneder|år\b|gange?\b|personer|beboere|børn|borgere|medarbejdere|elever|stk\b|km\b|m\b|meter)"
)

# --------------------------------------------------------------------------
# CPR
# --------------------------------------------------------------------------

_CPR = re.compile(
    rf"(?<!\d)(?<!\d[.,])(?P<d>\d{{2}}){_GROUP_SEP}(?P<m>\d{{2}}){_GROUP_SEP}(?P<y>\d{{2}})"
    rf"{_GROUP_SEP}(?P<s>\d{{4}})(?!\d)(?![.,]\d)",
)
_CPR_CONTEXT = re.compile(r"(?:cpr|personn(?:ummer|r)|pers\.?\s?nr|p-nr|cpr-nr|cprnr|født)\W{0,6}$", re.I)
_UNIT_AFTER_RE = re.compile(_UNIT_AFTER, re.I)


def _cpr_spans(text: str) -> Iterable[Span]:
    for m in _CPR.finditer(text):
        unit = _UNIT_AFTER_RE.match(text, m.end())
        # A unit word after the number makes it a quantity ("... 1234 kroner"), but not a single
        # letter: "010190-1234 T..." is a CPR number before a word (Hypothesis found it).
        if unit and len(unit.group().strip()) > 1:
            continue
        day, month = int(m["d"]), int(m["m"])
        valid_date = 1 <= day <= 31 and 1 <= month <= 12
        if valid_date or _CPR_CONTEXT.search(text, max(0, m.start() - 24), m.start()):
            yield Span(m.start(), m.end(), "cpr")


# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------

_PSEP = rf"[ \t\u00a0.{_DASH}/]"
_PHONE = re.compile(
    rf"(?<!\d)(?<!\d[.,])"
    rf"(?P<prefix>\(?(?:\+|00){_SP}?45\)?{_SP}{{0,2}}[{_DASH}.]?{_SP}{{0,2}})?"
    rf"(?:(?P<b8>\d{{8}})"
    rf"|(?P<p1>\d{{2}})(?P<s1>{_PSEP})(?P<p2>\d{{2}})(?P=s1)(?P<p3>\d{{2}})(?P=s1)(?P<p4>\d{{2}})"
    rf"|(?P<f1>\d{{4}})(?P<s2>{_PSEP}|{_SP}[{_DASH}]{_SP})(?P<f2>\d{{4}})"
    rf"|(?P<q1>\d{{2}})(?P<s3>{_PSEP})(?P<q2>\d{{2}})(?P=s3)(?P<q3>\d{{4}})"
    rf"|(?P<r1>\d{{4}})(?P<s4>{_SP})(?P<r2>\d{{2}})(?P=s4)(?P<r3>\d{{2}}))"
    rf"(?!\d)(?![.,]\d)"
)
# numbers of other countries: "+46 70 123 45 67", "+4670123456" (separators required between groups)
_INTL_PHONE = re.compile(
    rf"(?<![\w+])\+(?!45)\d{{1,3}}(?:(?:{_SP}|[{_DASH}.]){{1,2}}\d{{2,4}}){{2,5}}(?!\d)(?![.,]\d)"
    rf"|(?<![\w+])\+(?!45)\d{{8,13}}(?!\d)"
)
_PHONE_CONTEXT = re.compile(
    r"(?:\btlf|\btelefon\w*|\bmobil\w*|\bnummer|\bnr|\bring\w*|\bsms\w*|\bopkald|\bkontakt\w*|"
    r"\bfastnet|\bhotline|\bvagttelefon)\W{0,6}$",
    re.I,
)


def _is_date(day: int, month: int, year: int) -> bool:
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2099


def _phone_spans(text: str) -> Iterable[Span]:
    for m in _INTL_PHONE.finditer(text):
        yield Span(m.start(), m.end(), "telefon")
    for m in _PHONE.finditer(text):
        if _UNIT_AFTER_RE.match(text, m.end()):
            continue
        if m["prefix"] or _PHONE_CONTEXT.search(text, max(0, m.start() - 30), m.start()):
            yield Span(m.start(), m.end(), "telefon")
            continue
        digits = "".join(ch for ch in m.group() if ch.isdigit())
        if digits[0] == "0" or (m["b8"] and digits[0] == "1"):
            continue  # Danish subscriber numbers start with 2-9 (written in groups: 1-9)
        if m["b8"] and (_is_date(int(digits[:2]), int(digits[2:4]), int(digits[4:]))
                        or _is_date(int(digits[6:]), int(digits[4:6]), int(digits[:4]))):
            continue  # 24122026, 20261224
        if m["q1"] and _is_date(int(m["q1"]), int(m["q2"]), int(m["q3"])):
            continue  # 24.12.2026
        if m["f1"] and 1900 <= int(m["f1"]) <= 2099 and 1900 <= int(m["f2"]) <= 2099:
            continue  # 2025-2026
        if m["r1"] and _is_date(int(m["r3"]), int(m["r2"]), int(m["r1"])):
            continue  # 2026 12 24
        yield Span(m.start(), m.end(), "telefon")


# --------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------

_AT = (
    rf"(?P<at>{_SP}{{0,2}}@{_SP}{{0,2}}"
    rf"|{_SP}{{0,2}}[(\[{{<]{_SP}?(?:at|snabel-a|a){_SP}?[)\]}}>]{_SP}{{0,2}}"
    rf"|{_SP}{{1,2}}(?P<bare>at|snabel-a){_SP}{{1,2}})"
)
_DOT = (
    rf"(?:\.|{_SP}{{0,2}}[(\[{{<]{_SP}?(?:dot|punktum|prik){_SP}?[)\]}}>]{_SP}{{0,2}}"
    rf"|{_SP}{{1,2}}(?:dot|punktum){_SP}{{1,2}})"
)
_EMAIL = re.compile(
    rf"(?<![\w.+%'-])(?P<local>[\w.+%'-]{{1,64}}){_AT}"
    rf"(?P<domain>[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{1,5}})(?![\w-])",
    re.I,
)
_KNOWN_TLDS = frozenset(
    "dk com net org eu se no de nu info io uk fi is gl fo biz me co gov edu".split()
)
_TLD = re.compile(r"[^\W\d_]{2,24}$")


def _email_spans(text: str) -> Iterable[Span]:
    for m in _EMAIL.finditer(text):
        domain = m["domain"]
        tld = re.split(r"[.\s)\]}>]+", domain.rstrip())[-1]
        if not _TLD.match(tld):
            continue
        if (m["bare"] or "@" not in m["at"]) and tld.lower() not in _KNOWN_TLDS:
            continue  # "huske at gøre.det": only with a real mail domain
        yield Span(m.start(), m.end(), "email")


# --------------------------------------------------------------------------
# Street addresses
# --------------------------------------------------------------------------

_STREET_SUFFIXES = tuple(sorted(
    """vej vejen gade gaden allé alle alléen stræde strædet plads pladsen parken park toften toft
    vænget vænge bakken bakke haven have stien sti boulevard torv torvet vang vangen løkke løkken
    engen marken dalen lund lunden kaj kajen gyde gyden krogen hegnet holmen skoven ager agre
    højen høj bro broen kvarter kvarteret tofte hus huse mosen bjerg""".split(),
    key=len, reverse=True,
))
# suffixes strong enough to count in a lowercase word ("skovvej 12")
_STRONG_SUFFIXES = ("vej", "vejen", "gade", "gaden", "allé", "alle", "stræde", "strædet", "vænget",
                    "boulevard", "toften", "parken", "plads", "pladsen", "torv", "torvet")
# street types written as a word of their own after the name ("Sankt Annæ Plads")
_STREET_TYPE_WORDS = frozenset(
    "vej gade allé alle plads boulevard torv stræde park have vænge bakke".split()
)
# the definite forms that are street names of their own ("Torvet 3", "Bakken 12")
_DEFINITE_STREETS = frozenset(
    """torvet pladsen parken bakken vænget toften stien vejen gaden strædet engen marken lunden
    kajen løkken holmen dalen højen broen""".split()
)
_STREET_WORD = re.compile(
    rf"(?<![\w'-])(?P<street>[^\W\d_][^\W\d_'-]{{0,40}})"
    rf"(?P<num>{_SP}{{1,2}}\d{{1,4}}(?!\d)(?![.,]\d)(?:-\d{{1,4}}(?!\d))?(?:{_SP}?[a-zA-Z](?![\w]))?)"
)
_ADDRESS_TAIL = re.compile(
    rf"(?:,?{_SP}{{0,2}}(?:(?:\d{{1,2}}|st|kld)\.?{_SP}{{0,2}}(?:th|tv|mf|sal|t\.h|t\.v)(?![\w])\.?"
    rf"|st(?:uen)?(?![\w])\.?))?"
    rf"(?:,?{_SP}{{1,2}}\d{{4}}{_SP}{{1,2}}[A-ZÆØÅ][a-zæøå]{{1,30}}(?:{_SP}[A-Z]{{1,2}}(?![\w]))?)?"
)
_STREET_BEFORE = re.compile(
    r"(?:(?:[A-ZÆØÅ][a-zæøåéü]{1,20}s?|[A-ZÆØÅ]\.(?:[A-ZÆØÅ]\.)?|Sct\.|Skt\.)[ \u00a0]){1,3}$"
)
_STREET_PREFIX_WORDS = frozenset(
    "gammel gamle ny nye nørre søndre østre vestre øster vester store lille sankt sct. skt. kong "
    "dronning prins prinsesse h.c. n. j. c.".split()
)
_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
           "oktober", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "sep", "sept", "okt", "nov", "dec")
_AFTER_NUMBER_DATE = re.compile(rf"\.?{_SP}{{0,2}}(?:{'|'.join(_MONTHS)})\b", re.I)


def _address_spans(text: str) -> Iterable[Span]:
    for m in _STREET_WORD.finditer(text):
        street = m["street"]
        low = street.lower()
        suffix = next((s for s in _STREET_SUFFIXES if low.endswith(s)), None)
        if suffix is None:
            continue
        if _UNIT_AFTER_RE.match(text, m.end()) or _AFTER_NUMBER_DATE.match(text, m.end()):
            continue
        start = m.start()
        capitalised = street[0].isupper()
        before = _STREET_BEFORE.search(text, max(0, start - 64), start)
        if len(low) > len(suffix) + (0 if capitalised else 1):
            if not capitalised and suffix not in _STRONG_SUFFIXES:
                continue
            if before and before.group().split()[-1].lower() in _STREET_PREFIX_WORDS:
                start = before.start()  # "Gammel Kongevej 10", "Nørre Allé 3"
        elif capitalised and low in _STREET_TYPE_WORDS and before:
            start = before.start()  # "Sankt Annæ Plads 3", "H.C. Andersens Boulevard 12"
        elif capitalised and low in _DEFINITE_STREETS and not _sentence_initial(text, start):
            pass  # "på Torvet 3": a capitalised street word inside a sentence is a name
        else:
            continue
        tail = _ADDRESS_TAIL.match(text, m.end())
        yield Span(start, tail.end() if tail else m.end(), "adresse")


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_]{1,60}(?:[-'\u2019][^\W\d_]{1,60}){0,3}")
_STRONG_TITLES = frozenset(["fru", "frk", "hr", "herr", "fr", "frøken"])
_ROLE_WORDS = frozenset(
    """borger borgeren borgerens beboer beboeren beboerens kollega kollegaen kollegaer kollegas
    kollegaens kollegerne pårørende pårørendes datter datteren datterens søn sønnen sønnens mor moren
    morens far faren farens barnet barnets barn patient patienten patientens klient klienten
    brugeren bruger elev eleven elevens ægtefælle ægtefællen hustru hustruen mand manden kone konen
    bror broren søster søsteren svigermor svigerfar svigerdatter svigersøn onkel tante nabo naboen
    barnebarn barnebarnet plejebarn plejebarnet kæreste kæresten veninde ven vennen mormor morfar
    farmor farfar bedstemor bedstefar sagsbehandler sagsbehandleren vikar vikaren
    medarbejder medarbejderen hedder navn navnet dr læge lægen""".split()
)
# capitalised words that follow a role word or a name without being a name
_NOT_NAMES = frozenset(
    """jeg du han hun vi i de den det der dem må kan skal vil har er og men hvis når hvad hvem hvor
    hvordan hvorfor hvilken tak hej god godt team hr it med sosu fru frk herr hr fr dr
    kommune kommunen afdeling afdelingen plejecenter plejecentret hjemmeplejen hjemmepleje
    mandag tirsdag onsdag torsdag fredag lørdag søndag ja nej ok okay sig så nu""".split()
)
# listed names that are also ordinary Danish words: kept at the start of a sentence
_COMMON_WORD_NAMES = frozenset(
    """hans per bo mark sten tom lykke gry storm august karl tage kaj aksel else bent ask aske line
    holm lund skov berg saga viola rosa frank ebbe bjørn maj ruth lis kim dahl friis bach vera
    mona nova luna leo thor vagn ove ib egon kate jane""".split()
)
_LOWER_STOP = frozenset(
    """og i på til fra er har skal vil kan må som der den det en et med om at for af ikke også
    eller men så jeg du han hun vi de mig dig ham hende os dem sin sit sine hans hendes deres""".split()
)
_NOT_SEN_SURNAMES = frozenset(["horsens", "vojens", "avisen", "krisen", "prisen", "ansen"])
_SENTENCE_END = ".!?:;\n\r\"“”«»(*•–-"


class _Tok(NamedTuple):
    start: int
    end: int
    word: str


def _is_cap(word: str) -> bool:
    """Capital initial followed by lower case ("Anne", "Jensen-Hansen"), not "HR"."""
    return word[0].isupper() and any(ch.islower() for ch in word[1:])


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and start - i <= 6 and text[i] in " \t\u00a0\u202f":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _name_like(tok: _Tok) -> bool:
    return _is_cap(tok.word) and tok.word.lower() not in _NOT_NAMES and len(tok.word) >= 2


_names_cache: dict[str, frozenset[str]] = {}
_names_path: list[str | None] = []


def load_names(path: str | Path) -> frozenset[str]:
    """The names in ``path`` (UTF-8, one a line, ``#`` comments), cached per path."""
    key = str(path)
    if key not in _names_cache:
        names = set()
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                names.add(line)
        _names_cache[key] = frozenset(names)
    return _names_cache[key]


def reload_names() -> None:
    """Forget the configured names file (read again on the next :func:`redact`)."""
    _names_path.clear()
    _names_cache.clear()


def _configured_names() -> frozenset[str]:
    if not _names_path:
        try:
            from bot.config import get_settings

            _names_path.append(get_settings().redact_names_file)
        except Exception:  # a malformed unrelated setting must not stop redaction
            _names_path.append(str(Path(__file__).resolve().parent / "language_data" / "navne.txt"))
    path = _names_path[0]
    if not path:
        return frozenset()
    try:
        return load_names(path)
    except OSError:
        logging.getLogger(__name__).error("MANDAT_REDACT_NAMES_FILE %s cannot be read", path)
        _names_cache[str(path)] = frozenset()
        return frozenset()


def _name_spans(text: str, names: frozenset[str]) -> Iterable[Span]:
    toks = [_Tok(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    n = len(toks)

    def gap(i: int) -> str:
        return text[toks[i].end:toks[i + 1].start]

    def run_from(j: int) -> int:
        """Index of the last token of the name run starting at ``j`` (surnames follow)."""
        k = j
        while k + 1 < n and k - j < 3 and gap(k) in (" ", "\u00a0") and _name_like(toks[k + 1]):
            k += 1
        return k

    i = 0
    while i < n:
        tok = toks[i]
        low = tok.word.lower()
        # 1. after a title or a role word
        if (low in _ROLE_WORDS or low in _STRONG_TITLES) and i + 1 < n and tok.word != "HR":
            g = gap(i)
            if re.fullmatch(r"[.,:]?[ \t\u00a0]{1,2}", g) and not (g.startswith(".") and low not in _STRONG_TITLES):
                nxt = toks[i + 1]
                if _name_like(nxt):
                    k = run_from(i + 1)
                    yield Span(nxt.start, toks[k].end, "navn")
                    i = k + 1
                    continue
                if (low in _STRONG_TITLES and nxt.word.islower() and len(nxt.word) >= 2
                        and nxt.word not in _LOWER_STOP):
                    yield Span(nxt.start, nxt.end, "navn")  # "fru jensen"
                    i += 2
                    continue
        # 2. a listed name, or a "-sen" surname inside a sentence
        if _is_cap(tok.word):
            listed = tok.word in names or tok.word.split("-")[0] in names
            initial = _sentence_initial(text, tok.start)
            if listed and initial and low in _COMMON_WORD_NAMES:
                # "Hans bil" stays; "Hans Jensen" is a name: the next word is a listed name
                nxt = toks[i + 1].word if i + 1 < n and gap(i) == " " else ""
                listed = bool(nxt) and _is_cap(nxt) and (nxt in names or nxt.lower().endswith("sen"))
            if listed:
                k = run_from(i)
                yield Span(tok.start, toks[k].end, "navn")
                i = k + 1
                continue
            if (not initial and len(tok.word) >= 5 and (low.endswith("sen") or low.endswith("sens"))
                    and low not in _NOT_SEN_SURNAMES):
                k = run_from(i)
                yield Span(tok.start, toks[k].end, "navn")
                i = k + 1
                continue
        i += 1


# --------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------

def find_spans(text: str, names: frozenset[str] | None = None) -> list[Span]:
    """The personal data in ``text``: non-overlapping spans, in text order.

    Where recognizers overlap, the earlier category in :data:`CATEGORIES` wins
    the overlapping characters (an e-mail over a phone number, a CPR number
    over the phone number inside it, an address over a name run that ran into
    it); the rest of the weaker span is kept.

    Args:
        text: any text.
        names: the name list; default: the configured one
            (``MANDAT_REDACT_NAMES_FILE``).
    """
    if not text:
        return []
    if names is None:
        names = _configured_names()
    found = {
        "email": _email_spans(text),
        "cpr": _cpr_spans(text),
        "telefon": _phone_spans(text),
        "adresse": _address_spans(text),
        "navn": _name_spans(text, names),
    }
    owner = bytearray(len(text))
    pieces: list[Span] = []
    for code, category in enumerate(CATEGORIES, start=1):
        for span in found[category]:
            s, e = span.start, span.end
            segment = owner[s:e]
            if not any(segment):
                owner[s:e] = bytes([code]) * (e - s)
                pieces.append(span)
                continue
            i = s
            while i < e:  # the free parts of a span that overlaps a stronger one
                while i < e and owner[i]:
                    i += 1
                j = i
                while j < e and not owner[j]:
                    j += 1
                if j > i and any(ch.isalnum() for ch in text[i:j]):
                    owner[i:j] = bytes([code]) * (j - i)
                    pieces.append(Span(i, j, category))
                i = j
    pieces.sort()
    merged: list[Span] = []
    for p in pieces:
        if merged:
            last = merged[-1]
            between = text[last.end:p.start]
            if last.category == p.category and (between == "" or (p.category == "navn" and between in (" ", "-"))):
                merged[-1] = Span(last.start, p.end, last.category)
                continue
        merged.append(p)
    # trim spaces and stray punctuation at the edges
    result = []
    for s, e, cat in merged:
        while s < e and text[s] in " \t\u00a0\u202f,":
            s += 1
        while e > s and text[e - 1] in " \t\u00a0\u202f,":
            e -= 1
        if e > s:
            result.append(Span(s, e, cat))
    return result


def redact(text: str) -> str:
    """``text`` with CPR numbers, e-mail addresses, phone numbers, names and
    street addresses replaced by Danish placeholders (see the module doc).

    Linear in the length of ``text``; the placeholders are never redacted
    again, so ``redact(redact(t)) == redact(t)``.

    Examples:
        >>> redact("Borger 010190-1234 ringede fra 22 33 44 55, mail a@b.dk")
        'Borger [CPR-NR] ringede fra [TELEFON], mail [E-MAIL]'
        >>> redact("Fru Jensen på Skovvej 12, 2. tv har fået 12.500 kr. den 3. december")
        'Fru [NAVN] på [ADRESSE] har fået 12.500 kr. den 3. december'
    """
    if not text:
        return text
    spans = find_spans(text)
    if not spans:
        return text
    out = []
    pos = 0
    for s, e, cat in spans:
        out.append(text[pos:s])
        out.append(PLACEHOLDERS[cat])
        pos = e
    out.append(text[pos:])
    return "".join(out)


def pseudonym(user_id: str | None, key: str) -> str | None:
    """Keyed hash (HMAC-SHA256, first 32 hex digits) of a user id; None stays None."""
    if not user_id:
        return None
    return hmac.new(key.encode(), user_id.encode(), hashlib.sha256).hexdigest()[:32]


# --------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------

DEFAULT_LOGGERS = (
    "root", "rasa", "rasa_sdk", "bot", "actions", "sanic", "sanic.root", "sanic.error",
    "sanic.access", "sanic.server", "socketio", "engineio", "sqlalchemy", "apscheduler",
    "aiohttp", "urllib3", "alembic", "uvicorn", "werkzeug",
)
"""Loggers (besides the root logger) whose handlers :func:`install_log_redaction` filters."""

_UNREDACTABLE = "[log record could not be redacted]"
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """A logging filter that redacts a record's message before any handler writes it.

    The message is formatted (``record.msg % record.args``), redacted with
    :func:`redact` and stored back (``record.msg``, ``record.args = None``);
    the traceback text (``record.exc_text``), ``record.stack_info`` and the
    string fields a caller passed with ``extra=`` (Sanic's access log puts the
    request line there) are redacted too. A record is redacted once, however many handlers see it.
    The filter never drops a record and never raises: a record whose message
    cannot be formatted is replaced by a fixed text.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: A003 (logging's name)
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record`` in place (message, args, traceback, stack) and return it."""
    if getattr(record, "_mandat_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep nothing of it
        message = _UNREDACTABLE
    try:
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):  # `extra` fields, e.g. Sanic's access "request"
            if key not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
    except Exception:
        record.msg, record.args, record.exc_text = _UNREDACTABLE, None, None
    record._mandat_redacted = True
    return record


_FILTER = RedactingFilter()
_original_factory: list = []


def install_log_redaction(
    loggers: Iterable[str] = DEFAULT_LOGGERS, *, record_factory: bool = True
) -> RedactingFilter:
    """Redact every log record of this process before it is written.

    Attaches one :class:`RedactingFilter` to the root logger's handlers and to
    each named logger and its handlers ("root" is the root logger), and to the
    handlers of every other logger that exists at the call. Handlers added
    *later* (Rasa and Sanic configure logging after start-up) are covered by
    ``record_factory``: the process's log-record factory is wrapped so that
    every record is redacted when it is made (only records that pass their
    logger's level are made). Calling it again is harmless (nothing is
    attached twice), and it is cheap.

    Returns:
        the filter, e.g. to add to a handler made afterwards.
    """
    root = logging.getLogger()
    targets = [root]
    for name in loggers:
        targets.append(root if name in ("root", "") else logging.getLogger(name))
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.handlers:
            targets.append(logger)
    for logger in targets:
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(_FILTER)
    if record_factory and not _original_factory:
        original = logging.getLogRecordFactory()
        _original_factory.append(original)

        def factory(*args, **kwargs):
            return redact_record(original(*args, **kwargs))

        logging.setLogRecordFactory(factory)
    return _FILTER


def uninstall_log_redaction() -> None:
    """Undo :func:`install_log_redaction` (for tests)."""
    if _original_factory:
        logging.setLogRecordFactory(_original_factory.pop())
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for holder in [logger, *logger.handlers]:
            for f in [f for f in holder.filters if isinstance(f, RedactingFilter)]:
                holder.removeFilter(f)
