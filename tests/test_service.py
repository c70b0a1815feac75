"""Answer texts and stored questions, as the employee and HR see them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.answers import format_dkk
from bot.db.models import Feedback, Question
from bot.service import MandateService


def test_answer_names_who_decides_conditions_limit_inform_and_source(demo_db, service):
    outcome = service.answer("Må jeg købe en ny termokande til 400 kr.?", "hjemmeplejen-syd")
    text, custom = outcome.reply.text, outcome.reply.custom
    assert text.startswith("Ja, det må du gerne selv beslutte.")
    assert "Beløbsgrænse: 1.000 kr." in text and "inden for grænsen" in text
    assert "Kilde:" in text and "Betingelser:" in text
    assert custom["type"] == "mandate_answer"
    assert custom["mandate_id"] == "soo-smaaindkoeb"
    assert custom["unit"] == "sundhed-og-omsorg"  # the entry's unit, not the asker's
    assert custom["decision"] == "employee"
    assert custom["question_id"] == outcome.question_id


def test_amount_over_the_limit_says_so(demo_db, service):
    outcome = service.answer("Må jeg selv købe en ny termokande til 3.000 kr.?", "hjemmeplejen-syd")
    assert outcome.reply.custom["mandate_id"] == "soo-smaaindkoeb"
    assert outcome.reply.text.startswith("Ikke ved det beløb")
    assert "3.000 kr." in outcome.reply.text and "1.000 kr." in outcome.reply.text
    # The card must not say "Det må du selv" above the limit; the payload keeps the entry's decision.
    assert outcome.reply.custom["badge"] == "Over beløbsgrænsen: kræver godkendelse"
    assert outcome.reply.custom["over_limit"] is True
    assert outcome.reply.custom["decision"] == "employee"
    # ... nor close with "Brug din faglige vurdering inden for rammen": the amount is outside it.
    assert "inden for rammen" not in outcome.reply.text and "Spørg om godkendelse" in outcome.reply.text


def test_amount_within_the_limit_keeps_the_badge(demo_db, service):
    outcome = service.answer("Må jeg selv købe en ny termokande til 400 kr.?", "hjemmeplejen-syd")
    assert (outcome.reply.custom["badge"], outcome.reply.custom["over_limit"]) == ("Det må du selv", False)


def test_amounts_end_a_sentence_with_one_full_stop(demo_db, service):
    for question in ("Må jeg selv købe en ny termokande til 3.000 kr.?", "Må jeg købe en ny termokande til 400 kr.?"):
        text = service.answer(question, "hjemmeplejen-syd").reply.text
        assert "kr.." not in text and ".." not in text, text


def test_leader_decision_points_to_the_leader(demo_db, service):
    outcome = service.answer("Må jeg selv fælde et træ, der er ved at vælte?", "vej-og-park")
    assert outcome.reply.custom["decision"] == "leader"
    assert "din leders beslutning" in outcome.reply.text and "Tal med din leder" in outcome.reply.text


def test_no_answer_is_stored_redacted_for_hr_and_says_whom_to_ask(demo_db, service, session):
    question = "Min borger 010190-1234 vil have mig til at ringe på 22 33 44 55 om en hund, må jeg tage hunden med?"
    outcome = service.answer(question, "hjemmeplejen-syd", user_id="emp-7")
    # No rule fits: the bot abstains or asks which entry is meant; it never answers directly.
    assert outcome.result.answer is None and outcome.reply.custom["type"] in ("no_mandate", "clarify")
    row = session.get(Question, outcome.question_id)
    assert row.outcome == "unanswered" and row.status == "new" and row.unit_id == "hjemmeplejen-syd"
    assert "010190" not in row.text and "22 33 44 55" not in row.text and "[CPR-NR]" in row.text
    assert row.user_pseudonym and "emp-7" not in row.user_pseudonym
    assert row.offered == ([o["mandate_id"] for o in outcome.reply.custom["options"]]
                           if outcome.reply.custom["type"] == "clarify" else None)
    honest = service.answer("Må jeg male kontoret lilla?", "byg-og-miljoe", user_id="emp-7")
    assert honest.reply.custom == {"type": "no_mandate", "question_id": honest.question_id}
    assert "HR" in honest.reply.text and "din nærmeste leder" in honest.reply.text


def test_answered_questions_are_kept_for_the_aktoerskab_picture(demo_db, service, session):
    outcome = service.answer("Må jeg bytte vagt med en kollega?", "hjemmeplejen-syd")
    row = session.get(Question, outcome.question_id)
    assert (row.outcome, row.mandate_id, row.decision) == ("answered", "soo-vagtbytte", "employee")


def test_previews_store_nothing(demo_db, service, session):
    service.answer("Må jeg tage hunden med?", "tandplejen", store=False)
    assert session.execute(select(Question)).first() is None


def test_list_groups_entries_in_force_by_who_decides(demo_db, service):
    reply = service.list_entries("hjemmeplejen-nord")
    assert reply.text.index("Det må du selv beslutte") < reply.text.index("Det beslutter din leder")
    assert "Småindkøb i Hjemmeplejen Nord" in reply.text
    assert "Småindkøb til driften" not in reply.text  # overridden for this team
    assert "Bureauvikarer" not in reply.text  # expired
    groups = reply.custom["groups"]
    assert {"mandate_id": "soo-vagtbytte", "topic": "Bytte vagt med en kollega"} in groups["employee"]


def test_feedback_is_stored(demo_db, service, session):
    outcome = service.answer("Må jeg bytte vagt med en kollega?", "hjemmeplejen-syd")
    fid = service.record_feedback("down", mandate_id="soo-vagtbytte", question_id=outcome.question_id, user_id="u1")
    row = session.get(Feedback, fid)
    assert (row.value, row.mandate_id, row.question_id) == ("down", "soo-vagtbytte", outcome.question_id)


def test_format_dkk():
    assert format_dkk(25000) == "25.000 kr."
    assert format_dkk(500) == "500 kr."


def test_follow_up_with_a_new_amount_uses_the_previous_entry(demo_db, service):
    first = service.answer("Må jeg købe en ny termokande til 400 kr.?", "hjemmeplejen-syd")
    assert first.reply.custom["mandate_id"] == "soo-smaaindkoeb"
    follow = service.answer("hvad hvis det koster 3.000 kr.?", "hjemmeplejen-syd", last_mandate_id="soo-smaaindkoeb")
    assert follow.reply.custom["mandate_id"] == "soo-smaaindkoeb"
    assert "Ikke ved det beløb" in follow.reply.text and "fra før" in follow.reply.text
    # the leader approves above the limit; the entry's contact is whom to ask, not an approver
    assert "godkendt af din leder" in follow.reply.text
    alone = service.answer("hvad hvis det koster 3.000 kr.?", "hjemmeplejen-syd")
    assert alone.reply.custom["type"] == "no_mandate"


def test_follow_up_about_the_same_rule(demo_db, service):
    follow = service.answer("gælder det også i weekenden?", "hjemmeplejen-syd", last_mandate_id="soo-vagtbytte")
    assert follow.reply.custom["mandate_id"] == "soo-vagtbytte"


def test_a_new_topic_is_not_taken_as_a_follow_up(demo_db, service):
    outcome = service.answer("Hvad med en hund på kontoret?", "hjemmeplejen-syd", last_mandate_id="soo-vagtbytte")
    assert outcome.reply.custom["type"] == "no_mandate"


def test_an_amount_follow_up_on_a_rule_without_a_limit_is_not_answered_yes(demo_db, service):
    # Swapping shifts has no amount limit: "Ja, det må du gerne" about 8.000 kr. would be a guess.
    outcome = service.answer("hvad hvis det koster 8.000 kr.?", "hjemmeplejen-syd", last_mandate_id="soo-vagtbytte")
    assert outcome.reply.custom["type"] == "no_mandate"
    assert "Ja, det må du" not in outcome.reply.text
    assert 'Reglen fra før om "Bytte vagt med en kollega" siger ikke noget om beløb.' in outcome.reply.text


@pytest.mark.parametrize("follow_up, decides, verdict", [
    # a bare number is read in the previous limit's unit (4 persons)
    ("what about 6 of them?", "leader", "over_limit"),
    ("hvad hvis vi er 3?", "team", "within_limit"),
    # a vague count with the limit inside it: the bot asks to check, never "Ja"
    ("og hvis det er et par stykker mere, så vi er nogle beboere?", "unsure", "check"),
])
def test_a_follow_up_keeps_the_frame_of_the_previous_limit(demo_db, service, follow_up, decides, verdict):
    first = service.answer("Må vi tage 3 beboere med på tur til havnen?", "plejecenter-egely")
    assert first.reply.custom["mandate_id"] == "egely-beboerture"
    follow = service.answer(follow_up, "plejecenter-egely", last_mandate_id="egely-beboerture")
    assert follow.reply.custom["mandate_id"] == "egely-beboerture", follow.reply.text
    assert (follow.reply.custom["decides"], follow.reply.custom["verdict"]) == (decides, verdict), follow.reply.text


@pytest.mark.parametrize("follow_up", ["hvad nu hvis hun er væk hele ugen?", "og hvis det er fra mandag til torsdag?",
                                       "what if it is a couple of days?"])
def test_a_follow_up_about_a_longer_absence_is_not_answered_yes(demo_db, service, follow_up):
    first = service.answer("En kollega har meldt sig syg i dag, må jeg selv bestille en afløser?", "hjemmeplejen-syd")
    assert first.reply.custom["mandate_id"] == "soo-vikar"
    follow = service.answer(follow_up, "hjemmeplejen-syd", last_mandate_id="soo-vikar")
    assert follow.reply.custom.get("mandate_id") == "soo-vikar", follow.reply.text
    assert follow.reply.custom["decides"] in ("leader", "unsure"), follow.reply.text
    assert not follow.reply.text.startswith("Ja")


def test_a_duration_follow_up_on_a_rule_without_a_limit_is_not_answered_yes(demo_db, service):
    outcome = service.answer("og hvis det er 3 dage?", "hjemmeplejen-syd", last_mandate_id="soo-vagtbytte")
    assert outcome.reply.custom["type"] == "no_mandate"
    assert 'Reglen fra før om "Bytte vagt med en kollega" siger ikke noget om hvor længe.' in outcome.reply.text


def test_follow_up_needs_the_previous_entry_in_force_for_the_unit(demo_db, service):
    outcome = service.answer("hvad hvis det koster 3.000 kr.?", "vej-og-park", last_mandate_id="soo-smaaindkoeb")
    assert outcome.reply.custom["type"] == "no_mandate"


def test_nearly_tied_entries_ask_which_one(demo_db, service, session):
    """Without a decision model (legacy thresholds, words only) a near tie asks which entry is meant."""
    import dataclasses

    from bot.retrieval import Retriever

    service = MandateService(dataclasses.replace(service.settings, embedder="none"),
                             retriever=Retriever(min_score=0.22, min_margin=0.1))
    outcome = service.answer("Må vi bytte?", "hjemmeplejen-nord", user_id="emp-3")
    custom = outcome.reply.custom
    assert custom["type"] == "clarify" and len(custom["options"]) == 2
    assert outcome.reply.text.startswith("Handler det om ") and custom["none_label"] == "Ingen af dem"
    chosen = custom["options"][0]["mandate_id"]
    assert {o["mandate_id"] for o in custom["options"]} == {"soo-vagtbytte", "hpn-rutebytte"}
    reply = service.answer_from_entry(chosen, "hjemmeplejen-nord", outcome.question_id, user_id="emp-3")
    assert reply.custom["type"] == "mandate_answer" and reply.custom["mandate_id"] == chosen
    session.expire_all()
    row = session.get(Question, outcome.question_id)
    assert (row.outcome, row.mandate_id) == ("answered", chosen)


def test_a_near_tie_on_a_word_that_misses_the_point_abstains(demo_db, service):
    # Two "arbejde" entries nearly tie, but neither covers "kat".
    outcome = service.answer("Må jeg tage min kat med på arbejde?", "tandplejen")
    assert outcome.reply.custom["type"] == "no_mandate"


def test_cli_lists_unanswered_questions_in_danish_local_time(demo_db, session, capsys):
    import datetime as dt

    from bot.cli import main as mandat

    # Stored as naive UTC; 13:55 UTC in winter is 14:55 in Copenhagen, as the admin app shows it.
    session.add(Question(text="Må jeg tage hunden med?", unit_id="tandplejen", outcome="unanswered",
                         asked_at=dt.datetime(2026, 11, 29, 13, 55)))
    session.commit()
    assert mandat(["questions"]) == 0
    assert "2026-11-29 14:55" in capsys.readouterr().out


def test_questions_hr_links_to_an_entry_are_answered_next_time(demo_db, service, session):
    """The review loop: HR links an unanswered question to the entry that answers it (admin app),
    and the next employee who asks that way gets the entry, without retraining."""
    import datetime as dt

    asked = "Mine gummistøvler er utætte, kan jeg få et par nye?"
    first = service.answer(asked, "vej-og-park")
    assert first.reply.custom["type"] == "no_mandate"
    row = session.get(Question, first.question_id)
    row.status, row.resolved_mandate_id, row.status_at = "answered", "tm-arbejdstoej", dt.datetime(2026, 11, 29, 12)
    session.commit()
    again = service.answer("Mine gummistøvler er utætte. Må jeg få nogle nye?", "vej-og-park", store=False)
    assert again.reply.custom["mandate_id"] == "tm-arbejdstoej"


def test_questions_marked_not_relevant_teach_nothing(demo_db, service, session):
    asked = "Mine gummistøvler er utætte, kan jeg få et par nye?"
    first = service.answer(asked, "vej-og-park")
    row = session.get(Question, first.question_id)
    row.status, row.resolved_mandate_id = "not_relevant", "tm-arbejdstoej"  # a stale link is ignored
    session.commit()
    assert service.answer(asked, "vej-og-park", store=False).reply.custom["type"] == "no_mandate"


def test_a_restricted_case_is_not_answered_yes(demo_db, service, session):
    # Reported by a fresh user: "Ja, det må du gerne selv beslutte" to a gift card, which the rule forbids.
    question = "Må jeg tage imod et gavekort på 100 kr. fra en borger?"
    outcome = service.answer(question, "hjemmeplejen-syd", user_id="emp-1")
    assert "Ja, det må du" not in outcome.reply.text
    # Answered directly, or asked about: the gifts entry's answer says no to the gift card either way.
    reply = (outcome.reply if outcome.reply.custom["type"] == "mandate_answer"
             else service.answer_from_entry("sk-gaver", "hjemmeplejen-syd", outcome.question_id, user_id="emp-1"))
    assert reply.custom["mandate_id"] == "sk-gaver" and reply.text.startswith("Nej: ")
    assert reply.custom["decides"] == "nobody" and reply.custom["tone"] == "stop"
    allowed = service.answer("Må jeg tage imod en æske chokolade fra en borger?", "hjemmeplejen-syd", store=False)
    # what the rule allows, within its 200 kr. limit: the headline names the limit (issue 13)
    assert allowed.reply.text.startswith("Ja, når beløbet er på højst 200 kr.")
    # the badge says the same in words and colour, and the payload carries the limit
    custom = allowed.reply.custom
    assert (custom["verdict"], custom["badge"], custom["tone"], custom["decides"]) == (
        "condition", "Ja, på betingelse", "caution", "employee")
    assert custom["limit"] == {"value": 200.0, "unit": "kr"}
    # The "Ja" card still shows what the rule excepts (a fresh user missed it: gift cards, cash).
    assert "Undtagelser:\n• gavekort: aldrig tilladt" in allowed.reply.text
    assert "gavekort: aldrig tilladt" in allowed.reply.custom["exceptions"]


@pytest.mark.parametrize("question, headline", [
    ("Må jeg tage borgerens nøgle med hjem i aften?", "Nej: tage en borgernøgle med hjem er ikke tilladt."),
    ("Må jeg tage nøglen med hjem?", "Nej: tage en borgernøgle med hjem er ikke tilladt."),
    ("Må jeg tage en borgernøgle ud af nøgleskabet?", "Ja, det må du gerne selv beslutte."),
])
def test_the_key_taken_home_is_never_a_yes(demo_db, service, question, headline):
    # From the widget trial: "Det må du selv" with "En borgernøgle må aldrig tages med hjem" just below it.
    outcome = service.answer(question, "hjemmeplejen-syd", store=False)
    assert outcome.reply.custom["mandate_id"] == "soo-noegler"
    assert outcome.reply.text.startswith(headline)


def test_someone_elses_question_id_cannot_be_closed(demo_db, service, session):
    outcome = service.answer("Må jeg tage min hund med på arbejde?", "hjemmeplejen-syd", user_id="emp-1")
    reply = service.answer_from_entry("soo-vagtbytte", "hjemmeplejen-syd", outcome.question_id, user_id="emp-2")
    assert reply.custom["question_id"] is None
    session.expire_all()
    row = session.get(Question, outcome.question_id)
    assert (row.outcome, row.status, row.mandate_id) == ("unanswered", "new", None)


def _answer_from(service, question, unit, mandate_id):
    """The reply the employee ends with: the direct answer, or the answer after picking ``mandate_id``
    from the clarifying question (the rules are checked against the question either way)."""
    outcome = service.answer(question, unit, user_id="emp-9")
    if outcome.reply.custom["type"] == "clarify":
        assert mandate_id in [o["mandate_id"] for o in outcome.reply.custom["options"]], outcome.reply.text
        return service.answer_from_entry(mandate_id, unit, outcome.question_id, user_id="emp-9")
    assert outcome.reply.custom.get("mandate_id") == mandate_id, outcome.reply.text
    return outcome.reply


@pytest.mark.parametrize("question, unit, mandate_id, decides, headline", [
    # Limits in other units than kroner, on both sides (cases from the widget trial).
    ("Kan jeg flytte et besøg to timer senere?", "hjemmeplejen-syd", "hps-besoegstidspunkt", "leader", "Ikke"),
    ("Kan jeg flytte et besøg en halv time senere?", "hjemmeplejen-syd", "hps-besoegstidspunkt", "employee", "Ja"),
    ("Må jeg selv hente en vikar i 3 dage, når en kollega er syg?", "dagtilbud-solsikken", "sol-vikar", "leader",
     "Ikke"),
    ("Må jeg selv hente en vikar i 1 dag, når en kollega er syg?", "dagtilbud-solsikken", "sol-vikar", "employee",
     "Ja"),
    ("Må vi tage 6 beboere med på tur?", "plejecenter-egely", "egely-beboerture", "leader", "Ikke"),
    # The rule says taxi: driving the child in your own car is never allowed.
    ("Et barn er faldet og slået hovedet. Må jeg køre ham på skadestuen i min egen bil?", "dagtilbud-solsikken",
     "bu-barn-til-laege", "nobody", "Nej"),
])
def test_limits_and_exceptions_decide_the_headline(demo_db, service, question, unit, mandate_id, decides, headline):
    reply = _answer_from(service, question, unit, mandate_id)
    assert reply.custom["decides"] == decides, reply.text
    assert reply.text.startswith(headline), reply.text
    if decides not in ("employee", "team"):
        assert reply.custom["tone"] != "yes" and not reply.text.startswith("Ja")


def test_concern_for_a_child_gets_the_duty_to_report_never_a_yes(demo_db, service):
    outcome = service.answer("Jeg har set blå mærker på armene af en pige i vuggestuen. Må jeg selv snakke med "
                             "forældrene?", "dagtilbud-solsikken", store=False)
    assert outcome.reply.custom["type"] == "route" and outcome.reply.custom["route"] == "concern"
    assert outcome.reply.custom["mandate_id"] == "bu-underretning"
    assert "må du selv" not in outcome.reply.text.lower() and not outcome.reply.text.startswith("Ja")


@pytest.mark.parametrize("question, verdict, decides", [
    # A catalogue of version 1 has kroner limits only: "op til fire uger" lives in the entry's text.
    ("Må jeg selv godkende en virksomhedspraktik på 6 uger for en borger?", "over_limit", "leader"),
    ("Må jeg selv godkende en virksomhedspraktik på to uger for en borger?", "clear", "employee"),
])
def test_a_limit_in_the_entrys_words_is_kept(acceptance_db, service, question, verdict, decides):
    outcome = service.answer(question, "jobcenter-lindhoej", store=False)
    reply = (outcome.reply if outcome.reply.custom["type"] == "mandate_answer"
             else service.answer_from_entry("jc-praktik", "jobcenter-lindhoej"))
    assert reply.custom["mandate_id"] == "jc-praktik"
    assert (reply.custom["verdict"], reply.custom["decides"]) == (verdict, decides), reply.text
    if verdict == "over_limit":
        assert not reply.text.startswith("Ja") and "28 dage" in reply.text


def test_over_the_limit_the_answer_says_what_the_rule_says_then(demo_db, service):
    outcome = service.answer("Må jeg komme 45 minutter senere til en borger, når borgeren har sagt ja?",
                             "sundhed-og-omsorg", user_id="emp-1")
    moved = (outcome.reply if outcome.reply.custom["type"] == "mandate_answer" else service.answer_from_entry(
        "soo-besoegstidspunkt", "sundhed-og-omsorg", outcome.question_id, user_id="emp-1"))
    assert moved.custom["mandate_id"] == "soo-besoegstidspunkt" and moved.custom["decides"] == "other"
    assert "Større ændringer aftaler du med planlæggeren." in moved.text.split("\n")[0]
    assert "godkendt af din leder" not in moved.text.split("\n")[0]
    gift = service.answer("Må jeg tage imod en gave til 3.000 kr. fra en borger?", "hjemmeplejen-syd", store=False).reply
    assert gift.custom["mandate_id"] == "sk-gaver"
    assert (gift.custom["verdict"], gift.custom["decides"], gift.custom["tone"]) == ("over_limit", "nobody", "stop")
    assert "Større gaver siger du pænt nej tak til." in gift.text
    # the badge says what the headline says (a fresh user saw "kræver godkendelse" above a "nej tak")
    assert gift.custom["badge"] == "Ikke tilladt" and "undtagelsen" not in gift.text


def test_a_follow_up_of_only_an_amount_is_judged_against_the_limit(demo_db, service):
    # README's example, after a plain gift question: 100 kr. is within the 200 kr. limit (a fresh
    # user got "Det kommer an på: om dit tilfælde er kontanter og drikkepenge").
    first = service.answer("Må jeg tage imod en gave fra en borger?", "hjemmeplejen-syd", store=False)
    assert first.reply.custom["mandate_id"] == "sk-gaver"
    follow = service.answer("hvad hvis det kun er 100 kr.?", "hjemmeplejen-syd", last_mandate_id="sk-gaver",
                            store=False, carried_case=first.check.case)
    assert (follow.reply.custom["mandate_id"], follow.reply.custom["verdict"]) == ("sk-gaver", "within_limit")
    # after a gift card, the same follow-up keeps the gift card's "Nej"
    card = service.answer("Må jeg tage imod et gavekort fra en borger?", "hjemmeplejen-syd", store=False)
    follow = service.answer("hvad hvis det kun er 100 kr.?", "hjemmeplejen-syd", last_mandate_id="sk-gaver",
                            store=False, carried_case=card.check.case)
    assert follow.reply.custom["decides"] == "nobody"


def test_warm_up_answers_once_and_stores_nothing(demo_db, service, monkeypatch):
    from sqlalchemy import func, select

    from bot.db.session import session_scope

    service.warm_up("hjemmeplejen-syd")
    assert service._index is not None  # the catalogue index is built
    monkeypatch.setattr(service, "answer", lambda *a, **k: pytest.fail("warm_up ran twice"))
    service.warm_up("hjemmeplejen-syd")
    with session_scope(demo_db) as session:
        assert session.scalar(select(func.count(Question.id))) == 0
