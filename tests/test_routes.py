"""Routes after a mistake and for a concern (bot.routes), and action_made_mistake."""
from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from bot.answers import Reply
from bot.db.models import Mandate, Unit
from bot.routes import best_entry, concern_reply, detect_concern, mistake_reply, route_answer, route_entries

from tests.conftest import TODAY


def _entry(id, unit, topic, summary, route=None, **kw):
    return Mandate(id=id, unit_id=unit, topic=topic, summary=summary, decision=kw.pop("decision", "employee"),
                   route=route, conditions=[], exceptions=[], examples=kw.pop("examples", []),
                   keywords=kw.pop("keywords", []), **kw)


@pytest.fixture()
def routes_db(session):
    """kommune -> pleje -> team-a / team-b; mistake and concern routes at several levels."""
    session.add_all([
        Unit(id="kommune", name="Kommunen", aliases=[]),
        Unit(id="pleje", name="Pleje", parent_id="kommune", aliases=[]),
        Unit(id="team-a", name="Team A", parent_id="pleje", aliases=[]),
        Unit(id="team-b", name="Team B", parent_id="kommune", aliases=[]),
    ])
    session.flush()
    session.add_all([
        _entry("uth", "pleje", "Utilsigtede hændelser",
               "Et fald, en forflytning der gik galt eller et glemt besøg indberettes som utilsigtet hændelse.",
               route="mistake", how="Indberet i UTH-systemet samme dag.", inform="Din leder", topic_key="uth"),
        _entry("medicinfejl", "pleje", "Medicinfejl",
               "Har du givet forkert medicin eller en forkert dosis, ringer du straks til sygeplejersken.",
               route="mistake", keywords=["medicin", "dosis"], contact="Sygeplejerske, tlf. 1234"),
        _entry("databrud", "kommune", "Brud på datasikkerheden",
               "En mail eller et brev med personoplysninger til den forkerte modtager er et sikkerhedsbrud.",
               route="mistake", how="Meld det til DPO inden for 24 timer.", keywords=["mail", "cpr"]),
        _entry("gammel", "pleje", "Gammel fejlprocedure", "Udløbet.", route="mistake",
               valid_to=TODAY - dt.timedelta(days=1)),
        _entry("underretning", "kommune", "Bekymring for et barn",
               "Er du bekymret for et barn, laver du en underretning.", route="concern", decision="other"),
        _entry("vikar", "pleje", "Vikar", "Du må selv ringe efter en vikar.", topic_key="vikar"),
    ])
    session.commit()
    return session


# -- route_entries -------------------------------------------------------------
def test_route_entries_in_force_with_inheritance(routes_db):
    ids = {e.id for e in route_entries(routes_db, "team-a", TODAY, "mistake")}
    assert ids == {"uth", "medicinfejl", "databrud"}  # not the expired one, not the concern or plain entries
    assert {e.id for e in route_entries(routes_db, "team-b", TODAY, "mistake")} == {"databrud"}
    assert {e.id for e in route_entries(routes_db, "team-a", TODAY, "concern")} == {"underretning"}


def test_route_entries_edge_cases(routes_db):
    assert route_entries(routes_db, None, TODAY, "mistake") == []
    with pytest.raises(ValueError):
        route_entries(routes_db, "team-a", TODAY, "complaint")
    with pytest.raises(KeyError):
        route_entries(routes_db, "no-such-unit", TODAY, "mistake")


def test_nearest_unit_wins_for_routes(routes_db):
    routes_db.add(_entry("uth-a", "team-a", "UTH i team A", "Ring til teamets UTH-ansvarlige.",
                         route="mistake", topic_key="uth"))
    routes_db.commit()
    ids = {e.id for e in route_entries(routes_db, "team-a", TODAY, "mistake")}
    assert "uth-a" in ids and "uth" not in ids


# -- best_entry ----------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("jeg kom til at give forkert medicin", "medicinfejl"),
    ("Jeg har givet en forkert dosis insulin", "medicinfejl"),
    ("jeg har sendt en mail til den forkerte borger", "databrud"),
    ("Jeg har sendt et brev med CPR-nummer til en forkert adresse", "databrud"),
    ("En borger faldt under en forflytning", "uth"),
    ("I gave a resident the wrong medication", "medicinfejl"),
])
def test_best_entry_fits_the_message(routes_db, text, expected):
    entries = route_entries(routes_db, "team-a", TODAY, "mistake")
    assert best_entry(entries, text).id == expected


def test_best_entry_none_when_nothing_fits_and_single_entry_always(routes_db):
    entries = route_entries(routes_db, "team-a", TODAY, "mistake")
    assert best_entry(entries, "jeg har lavet en fejl") is None
    assert best_entry([], "medicin") is None
    only = route_entries(routes_db, "team-b", TODAY, "mistake")
    assert best_entry(only, "jeg har lavet en fejl").id == "databrud"


# -- replies -------------------------------------------------------------------
def test_mistake_reply_supportive_best_first_others_listed(routes_db):
    reply = route_answer(routes_db, "team-a", TODAY, "mistake", "jeg kom til at give forkert medicin")
    assert isinstance(reply, Reply)
    assert "rum til fejl" in reply.text and "lærer" in reply.text
    assert reply.text.index("Medicinfejl") < reply.text.index("Utilsigtede hændelser")
    assert "Brud på datasikkerheden" in reply.text and "Sygeplejerske, tlf. 1234" in reply.text
    assert reply.custom["type"] == "route" and reply.custom["route"] == "mistake"
    assert reply.custom["mandate_id"] == "medicinfejl"
    assert {o["mandate_id"] for o in reply.custom["options"]} == {"uth", "medicinfejl", "databrud"}
    assert "må du selv" not in reply.text.lower()


def test_mistake_reply_without_entries_points_to_leader_only():
    reply = mistake_reply([], None)
    assert "nærmeste leder" in reply.text and "rum til fejl" in reply.text
    assert reply.custom["mandate_id"] is None and reply.custom["options"] == []
    # no unit or an unknown unit: the same reply, no error
    assert "nærmeste leder" in route_answer(None, None, TODAY, "mistake", "jeg har lavet en fejl").text


def test_mistake_reply_several_without_best_lists_all(routes_db):
    reply = route_answer(routes_db, "team-a", TODAY, "mistake", "jeg har lavet en fejl")
    assert reply.custom["mandate_id"] is None
    for topic in ("Medicinfejl", "Utilsigtede hændelser", "Brud på datasikkerheden"):
        assert topic in reply.text


def test_concern_reply_duty_route_and_112(routes_db):
    reply = route_answer(routes_db, "team-a", TODAY, "concern", "jeg er bekymret for en dreng")
    assert "pligt" in reply.text and "112" in reply.text and "Bekymring for et barn" in reply.text
    assert reply.custom["route"] == "concern" and reply.custom["mandate_id"] == "underretning"
    empty = concern_reply([], None)
    assert "nærmeste leder" in empty.text and "112" in empty.text
    assert "må du selv" not in reply.text.lower()


# -- detect_concern ------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Jeg er bekymret for en dreng på stuen",
    "jeg er bekymret for, om pigen får mad derhjemme",
    "Et barn har blå mærker på armene",
    "Drengen fortæller, at hans far slår ham",
    "En borger har truet mig",
    "Jeg har modtaget trusler fra en pårørende",
    "Der har været vold i hjemmet",
    "Jeg tror, der er tale om omsorgssvigt",
    "Hun har fortalt om et seksuelt overgreb",
    "En ung pige skærer i sig selv",
    "Han siger, at han vil tage sit eget liv",
    "Skal jeg lave en underretning?",
    "Barnet er blevet slået",
    "Jeg har en bekymring for et barn i dagplejen",
    "I am worried about a child in my group",
    "A resident has bruises on her arms",
    "I suspect abuse",
    "signs of neglect",
    "a citizen threatened me",
    "she talks about self-harm",
    "her stepdad touches her in a way she doesn't like",
    "Pigen siger, at onklen rører ved hende på en måde, hun ikke kan lide",
    "I think a relative is hitting the old man I visit",
    "he says his father was beating him",
])
def test_detect_concern_positive(text):
    assert detect_concern(text, [])


@pytest.mark.parametrize("text", [
    "Må jeg selv bytte vagt med en kollega?",
    "Må jeg slå to vagter sammen?",
    "Må jeg slå op i borgerens journal?",
    "Vi har voldsomt travlt i dag",
    "Må jeg købe legetøj til børnene for 300 kr.?",
    "Jeg har lavet en fejl",
    "Hvem bestemmer over budgettet på Østervold?",
    "Må jeg give en pige hendes allergimedicin?",
    "Jeg er bekymret for, om jeg når det hele",
    "Må jeg bestille en ny lift til beboeren?",
    "I made a mistake at work",
    "Can I touch the screen of the tablet?",
    "Må jeg røre ved hans medicin?",
    "We are hitting our budget target",
    "",
])
def test_detect_concern_negative(text):
    assert not detect_concern(text, [])


def test_detect_concern_extra_terms_whole_words():
    assert detect_concern("Hun nævnte hjemmebesøget igen", ["hjemmebesøget"])
    assert detect_concern("Det handler om social kontrol", ["social kontrol"])
    assert not detect_concern("Det handler om socialt arbejde", ["social kontrol"])
    assert not detect_concern("en helt almindelig dag", ["", "  "])


def test_detect_concern_linear_time():
    hostile = "bekymret for " + "a " * 20000 + "!" + ("å" * 30000) + " vold" * 0
    start = time.perf_counter()
    detect_concern(hostile, ["x"])
    detect_concern("b" * 100000, [])
    detect_concern("bekymret " * 10000, [])
    assert time.perf_counter() - start < 0.5


# -- the action ----------------------------------------------------------------
def test_action_made_mistake(db_url, routes_db, monkeypatch):
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions import actions
    from bot.service import default_service

    default_service.cache_clear()
    try:
        trk = Tracker(sender_id="m-1", slots={"unit": "team-a"},
                      latest_message={"text": "jeg har sendt en mail til den forkerte borger",
                                      "intent": {"name": "made_mistake", "confidence": 0.9}, "entities": [],
                                      "metadata": {"team": "team-a"}},
                      events=[], paused=False, followup_action=None, active_loop={},
                      latest_action_name="action_listen")
        dispatcher = CollectingDispatcher()
        result = actions.ActionMadeMistake().run(dispatcher, trk, {})
        if asyncio.iscoroutine(result):  # the action may be wrapped in a time budget (async)
            result = asyncio.run(result)
        assert result == []
        [message] = dispatcher.messages
        assert "rum til fejl" in message["text"]
        assert message["custom"]["mandate_id"] == "databrud"
    finally:
        default_service.cache_clear()


@pytest.mark.parametrize("text, expected", [
    ("Må jeg komme 45 minutter senere til en borger?", True),
    ("hej, kan vi flytte besøget en time?", True),
    ("Can I show up 50 minutes later?", True),
    ("Jeg har lavet en fejl", False),
    ("Må jeg skrive det, når jeg er kommet til at sende et brev forkert?", False),
    ("I made a mistake, can I fix it myself?", False),
    ("jeg kommer nok en time for sent til fru jensen, hvad gør jeg?", False),
])
def test_a_permission_question_is_told_from_a_mistake(text, expected):
    from bot.routes import asks_permission

    assert asks_permission(text) is expected
