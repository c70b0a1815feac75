"""An answer must not say "Ja" when the question names a case that the rule itself restricts."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.answers import RESTRICTION_BADGE, mandate_reply
from bot.language import DanishAnalyzer
from bot.restrictions import restriction_for, restricts

GIFTS = SimpleNamespace(
    id="gaver", unit_id="k", topic="Gaver fra borgere", decision="employee", decided_by=None,
    summary="Du må selv tage imod en lille gave som tak, fx chokolade eller blomster. Penge og gavekort siger du nej tak til.",
    conditions=["Gaven må højst være 200 kr. værd.", "Du må aldrig tage imod penge, gavekort eller arv."],
    limit_dkk=200, inform=None, how=None, source=None, contact=None,
)
IT = SimpleNamespace(
    id="it", unit_id="k", topic="IT-tilbehør", decision="employee", decided_by=None,
    summary="Du må selv bestille headset, mus og tastatur i IT-portalen. En ny computer bestiller din leder.",
    conditions=[], limit_dkk=None, inform=None, how=None, source=None, contact=None,
)


@pytest.fixture(scope="module")
def analyzer():
    return DanishAnalyzer()


@pytest.mark.parametrize("question, entry, sentence", [
    ("Må jeg tage imod et gavekort fra en borger?", GIFTS, "Du må aldrig tage imod penge, gavekort eller arv."),
    ("Må jeg selv bestille en ny computer?", IT, "En ny computer bestiller din leder."),
])
def test_a_question_about_a_restricted_case_finds_the_restriction(analyzer, question, entry, sentence):
    assert restriction_for(question, entry, analyzer) == sentence


@pytest.mark.parametrize("question, entry", [
    ("Må jeg tage imod en æske chokolade fra en borger?", GIFTS),  # what the rule allows
    ("Må jeg bestille et nyt headset?", IT),
    ("Må jeg tage imod en gave?", GIFTS),  # the topic itself is not an exception
])
def test_a_question_about_what_the_rule_allows_has_no_restriction(analyzer, question, entry):
    assert restriction_for(question, entry, analyzer) is None


def test_a_sentence_that_grants_is_not_a_restriction():
    assert restricts("Besøg med insulin må ikke flyttes.")
    assert restricts("Billeder til Facebook kræver et særskilt samtykke.")
    assert not restricts("Kan forældrene ikke nås, må du selv tage barnet med på skadestuen.")
    assert not restricts("Du må selv bestille headset.")


def test_the_answer_leads_with_the_restriction_instead_of_yes(analyzer):
    sentence = restriction_for("Må jeg tage imod et gavekort?", GIFTS, analyzer)
    reply = mandate_reply(GIFTS, restriction=sentence)
    assert reply.text.startswith("Se undtagelsen først: Du må aldrig tage imod penge, gavekort eller arv.")
    assert "Ja, det må du" not in reply.text
    assert reply.custom["badge"] == RESTRICTION_BADGE and reply.custom["restriction"] == sentence
    assert reply.custom["decision"] == "employee"  # the entry's decision, as DESIGN.md's payload says
    # a leader's decision is no "Ja" to begin with: unchanged
    leader = SimpleNamespace(**{**vars(IT), "decision": "leader"})
    assert mandate_reply(leader, restriction="En ny computer bestiller din leder.").text.startswith("Det er din leders")
