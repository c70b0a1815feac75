"""Quantities with units as staff write them (bot.quantities), and the parse stays linear."""
from __future__ import annotations

import time

import pytest

from bot.language import parse_amounts
from bot.quantities import Quantity, format_quantity, parse_quantities


@pytest.mark.parametrize("text, expected", [
    # money
    ("en printer til 8.000 kr.", [(8000, "kr")]),
    ("det koster 3000 kroner", [(3000, "kr")]),
    ("kr. 3.000,-", [(3000, "kr")]),
    ("3.000,50 kr.", [(3000.5, "kr")]),
    ("3000,50 kr", [(3000.5, "kr")]),  # one amount, not 3000 and 50
    ("ca. 3.000 kr.", [(3000, "kr")]),
    ("5 t.kr.", [(5000, "kr")]),
    ("kan jeg bruge 10k på det", [(10000, "kr")]),
    ("3 tusind kroner", [(3000, "kr")]),
    ("3 mio.", [(3_000_000, "kr")]),
    ("2 millioner", [(2_000_000, "kr")]),
    ("hvad hvis det koster 8.000?", [(8000, "kr")]),
    ("500 DKK", [(500, "kr")]),
    ("a 2,500 DKK laptop", [(2500, "kr")]),
    # durations
    ("to timer", [(2, "timer")]),
    ("2 timer", [(2, "timer")]),
    ("en time", [(1, "timer")]),
    ("en halv time", [(0.5, "timer")]),
    ("halvanden time", [(1.5, "timer")]),
    ("1,5 time", [(1.5, "timer")]),
    ("to og en halv time", [(2.5, "timer")]),
    ("30 min", [(30, "minutter")]),
    ("30 minutter", [(30, "minutter")]),
    ("et kvarter", [(15, "minutter")]),
    ("tre kvarter", [(45, "minutter")]),
    ("can I come a quarter of an hour late", [(15, "minutter")]),  # not "an hour"
    ("three quarters of an hour", [(45, "minutter")]),
    ("3 dage", [(3, "dage")]),
    ("tre dage", [(3, "dage")]),
    ("i to døgn", [(2, "dage")]),
    ("en uge", [(7, "dage")]),
    ("et 2-timers møde", [(2, "timer")]),
    ("2 hours", [(2, "timer")]),
    ("half an hour", [(0.5, "timer")]),
    ("3 days", [(3, "dage")]),
    ("tolv timer og femten minutter", [(735, "minutter")]),  # one duration: the sum
    # persons
    ("8 personer", [(8, "personer")]),
    ("5 børn", [(5, "personer")]),
    ("12 deltagere", [(12, "personer")]),
    ("4 medarbejdere", [(4, "personer")]),
    ("tyve personer", [(20, "personer")]),
    # times
    ("3 gange", [(3, "gange")]),
    ("for anden gang", [(2, "gange")]),
    ("for tredje gang", [(3, "gange")]),
    ("twice", [(2, "gange")]),
    # in order, several units
    ("Må jeg tage 5 børn med i svømmehallen i 2 timer for 300 kr.?",
     [(5, "personer"), (2, "timer"), (300, "kr")]),
])
def test_quantities_with_units(text, expected):
    assert [(q.value, q.unit) for q in parse_quantities(text)] == [(float(v), u) for v, u in expected]


@pytest.mark.parametrize("text", [
    "kl. 19 på torsdag, 2. sal",
    "Må jeg give en borger en kop kaffe?",  # "en" is an article here
    "til 10.30",  # a clock time after "til"
    "for 200 år siden",  # a bare number followed by another noun
    "Må jeg tage imod en gave?",
])
def test_numbers_that_are_no_quantity(text):
    assert parse_quantities(text) == []


def test_a_rate_is_not_a_duration():
    assert [(q.value, q.unit) for q in parse_quantities("twice a day")] == [(2.0, "gange")]
    assert [(q.value, q.unit) for q in parse_quantities("3 gange om ugen")] == [(3.0, "gange")]


def test_the_text_of_a_quantity_is_its_span():
    assert [q.text for q in parse_quantities("Må jeg bruge kr. 3.000,- og en halv time?")] == ["kr. 3.000,-", "en halv time"]


def test_a_quantity_has_a_known_unit():
    with pytest.raises(ValueError):
        Quantity(2, "liter", "2 liter")


def test_parse_amounts_is_kroner_only_in_whole_kroner():
    assert parse_amounts("1.500,50 kr og 250 DKK i 2 timer") == [1500, 250]
    assert parse_amounts("3000,50 kr") == [3000]


@pytest.mark.parametrize("value, unit, text", [
    (2500, "kr", "2.500 kr."), (3000.5, "kr", "3.000,50 kr."), (1, "timer", "1 time"), (1.5, "timer", "1,5 timer"),
    (2, "dage", "2 dage"), (1, "dage", "1 dag"), (30, "minutter", "30 minutter"), (8, "personer", "8 personer"),
    (1, "gange", "1 gang"),
])
def test_format_quantity(value, unit, text):
    assert format_quantity(value, unit) == text


@pytest.mark.parametrize("name, text", [
    ("digits", "1" * 100_000),
    ("spaces", " " * 100_000),
    ("letters", "a" * 100_000),
    ("punctuation", ".,-" * 33_334),
    ("thousand groups", "1.234" * 20_000),
    ("space groups", "123 " * 25_000),
    ("decimal commas", "1," * 50_000),
    ("number words", "to " * 50_000),
    ("mixed", "12 kr. 3.000,50 to timer en halv for anden " * 2_500),
], ids=lambda value: value if len(value) < 40 else "")
def test_parsing_100_kb_is_linear(name, text):
    for parse in (parse_quantities, parse_amounts):
        start = time.perf_counter()
        parse(text)
        assert time.perf_counter() - start < 5.0, name  # a safety bound (~0.2 s here; quadratic would take minutes)


@pytest.mark.parametrize("text, expected", [
    ("Må jeg have 3 hjemmearbejdsdage i næste uge?", [(3.0, "dage")]),
    ("to feriedage", [(2.0, "dage")]),
    ("4 mødetimer om ugen", [(4.0, "timer")]),
    ("3 fredage", []),          # "fre" is no word: not a compound of "dage"
    ("2 sommerfester", []),
])
def test_compounds_that_count_time_carry_their_unit(text, expected):
    assert [(q.value, q.unit) for q in parse_quantities(text)] == expected


# --------------------------------------------------------------------------- ranges, vague and open quantities

@pytest.mark.parametrize("text, value, unit, upper, above", [
    # vague counts as a range (smallest, largest reading)
    ("i et par dage", 2, "dage", 3, False),
    ("nogle timer", 2, "timer", 5, False),
    ("flere gange", 2, "gange", float("inf"), False),
    ("mange gange", 3, "gange", float("inf"), False),
    ("a couple of days", 2, "dage", 3, False),
    ("a few hours", 2, "timer", 4, False),
    ("several times", 2, "gange", float("inf"), False),
    # written ranges
    ("2-3 dage", 2, "dage", 3, False),
    ("2 til 3 timer", 2, "timer", 3, False),
    ("3 eller 4 personer", 3, "personer", 4, False),
    ("500-1000 kr", 500, "kr", 1000, False),
    # open upwards: strictly more, or from the value itself
    ("over 2 timer", 2, "timer", float("inf"), True),
    ("mere end 3 gange", 3, "gange", float("inf"), True),
    ("flere end 8 personer", 8, "personer", float("inf"), True),
    ("more than 500 kr", 500, "kr", float("inf"), True),
    ("mindst 2 dage", 2, "dage", float("inf"), False),
    ("at least 3 days", 3, "dage", float("inf"), False),
])
def test_ranges_and_open_quantities(text, value, unit, upper, above):
    (quantity,) = parse_quantities(text)
    assert (quantity.value, quantity.unit, quantity.upper, quantity.above) == (value, unit, upper, above)
    assert not quantity.exact


@pytest.mark.parametrize("text, value, unit", [
    ("1½ time", 1.5, "timer"),
    ("½ time", 0.5, "timer"),
    ("2¾ timer", 2.75, "timer"),
    ("2t", 2, "timer"),
    ("flyt besøget 2 t. senere", 2, "timer"),
    ("2 timer og 30 minutter", 150, "minutter"),
    ("en time og et kvarter", 75, "minutter"),
    ("1 dag og 6 timer", 30, "timer"),
    ("fra mandag til torsdag", 4, "dage"),
    ("mandag til og med fredag", 5, "dage"),
    ("man-fre", 5, "dage"),
    ("fredag-mandag", 4, "dage"),
    ("Monday to Wednesday", 3, "dage"),
    ("hele dagen", 1, "dage"),
    ("hele ugen", 7, "dage"),
    ("hele weekenden", 2, "dage"),
    ("en hel uge", 7, "dage"),
    ("et helt døgn", 1, "dage"),
    ("a whole week", 7, "dage"),
    ("en weekend", 2, "dage"),
    ("en måned", 31, "dage"),
    ("to uger", 14, "dage"),
    ("det er tredje gang", 3, "gange"),
    ("nu er det anden gang", 2, "gange"),
    ("it is the third time", 3, "gange"),
])
def test_more_ways_to_write_a_quantity(text, value, unit):
    assert [(q.value, q.unit) for q in parse_quantities(text)] == [(float(value), unit)]
    assert parse_quantities(text)[0].exact


@pytest.mark.parametrize("text", [
    "Kan vi tage det en anden gang?",     # another time, not the second
    "må man til lægen i dag",             # "man" is a pronoun, no weekday range
    "min søn til fredag",
    "et barn på 3 år",                    # an age is no duration
    "nogle kroner",                       # no amount
    "kl. 8-16",                           # clock times
    "hele tiden",                         # "all the time"
    "5 t.kr.",                            # thousand kroner, not hours (below)
])
def test_no_duration_or_count_where_none_is_meant(text):
    assert all(q.unit == "kr" for q in parse_quantities(text)), parse_quantities(text)


def test_the_answer_names_a_vague_quantity_in_the_askers_words():
    from bot.quantities import describe
    assert describe(parse_quantities("et par dage")[0]) == "et par dage"
    assert describe(parse_quantities("3 dage")[0]) == "3 dage"
    assert describe(parse_quantities("over 2 timer")[0]) == "over 2 timer"
