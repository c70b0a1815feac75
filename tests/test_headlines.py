"""The headline never says more than the rule: "Ja" only when nothing is in doubt (bot.answers)."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest

from bot.answers import CHECK_BADGE, NOBODY_BADGE, OVER_LIMIT_BADGE, TONES, mandate_reply
from bot.domain import Limit
from bot.quantities import Quantity
from bot.rules import RuleCheck

YES = "Ja, det må du gerne selv beslutte."


def entry(**fields):
    base = dict(id="e", unit_id="k", topic="Vikar ved sygdom", decision="employee", decided_by=None,
                summary="Du må selv kalde en vikar ind.", conditions=["Vikaren skal kende borgerne."],
                exceptions=[], limit_dkk=None, inform=None, how=None, source=None, contact=None)
    base.update(fields)
    return NS(**base)


EMPLOYEE = entry()
DAYS = Limit(2, "dage")
MONEY = Limit(2500, "kr")


def reply(check, **fields):
    return mandate_reply(entry(**fields), check=check)


def test_yes_only_when_clear_or_within_the_limit():
    for check in (RuleCheck("clear"), RuleCheck("within_limit", limit=DAYS, quantity=Quantity(1, "dage", "1 dag"))):
        answer = reply(check)
        assert answer.text.startswith(YES)
        assert (answer.custom["tone"], answer.custom["verdict"], answer.custom["badge"]) == \
            ("yes", check.status, "Det må du selv")
    for status, extra in [("condition", {"condition": "Vikaren skal kende borgerne."}),
                          ("exception", {"exception": {"case": "Nattevagter", "decision": "leader"}}),
                          ("over_limit", {"limit": DAYS, "quantity": Quantity(3, "dage", "3 dage")}),
                          ("check", {"condition": "om 5 timer er inden for grænsen på 2 dage"})]:
        answer = reply(RuleCheck(status, **extra))
        assert YES not in answer.text and "Det må du selv" != answer.custom["badge"], status
        assert answer.custom["tone"] != "yes", status


def test_a_touched_condition_says_yes_when():
    answer = reply(RuleCheck("condition", condition="Vikaren skal kende borgerne."))
    assert answer.text.startswith("Ja, når vikaren skal kende borgerne. Emne:")
    team = reply(RuleCheck("condition", decision="team", condition="Vikaren skal kende borgerne."), decision="team")
    assert team.text.startswith("Ja, I beslutter selv i teamet, når vikaren skal kende borgerne.")
    # an instruction is no "når" clause
    order = reply(RuleCheck("condition", condition="Sørg først for borgerens sikkerhed"))
    assert order.text.startswith("Ja, det må du gerne selv beslutte, men husk: Sørg først for borgerens sikkerhed. Emne:")
    assert order.custom["tone"] == "caution"


@pytest.mark.parametrize("exception, headline, badge, tone, decides", [
    ({"case": "Penge og gavekort", "decision": "nobody"}, "Nej: penge og gavekort er ikke tilladt.",
     NOBODY_BADGE, "stop", "nobody"),
    ({"case": "Penge og gavekort", "decision": "nobody", "decided_by": "HR"},
     "Nej: penge og gavekort er ikke tilladt. Spørg HR, hvis du er i tvivl.", NOBODY_BADGE, "stop", "nobody"),
    ({"case": "Ny computer", "decision": "leader"}, "Ikke selv: ny computer beslutter din leder.",
     "Det beslutter din leder", "leader", "leader"),
    ({"case": "Nattevagter", "decision": "other", "decided_by": "Vagtcentralen"},
     "Ikke selv: nattevagter beslutter Vagtcentralen.", "Det beslutter Vagtcentralen", "leader", "other"),
    ({"case": "IT-udstyr", "decision": "leader"}, "Ikke selv: IT-udstyr beslutter din leder.",
     "Det beslutter din leder", "leader", "leader"),
    ({"case": "En ny computer bestiller din leder.", "decision": "leader", "sentence": True},
     "Se undtagelsen først: En ny computer bestiller din leder. Gælder den for dit tilfælde, så spørg din leder.",
     "Undtagelse: tjek reglen", "caution", "leader"),
    ({"case": "Du må aldrig tage imod penge.", "decision": "nobody", "sentence": True},
     "Nej: Du må aldrig tage imod penge.", NOBODY_BADGE, "stop", "nobody"),
])
def test_an_exception_says_who_decides_it(exception, headline, badge, tone, decides):
    answer = reply(RuleCheck("exception", exception=exception, case=exception["case"]))
    assert answer.text.startswith(headline + " Emne:")
    custom = answer.custom
    assert (custom["badge"], custom["tone"], custom["decides"], custom["verdict"]) == (badge, tone, decides, "exception")
    assert custom["exception"]["case"] == exception["case"] and custom["decision"] == "employee"


def test_over_the_limit_in_the_limits_unit():
    answer = reply(RuleCheck("over_limit", limit=Limit(1, "timer"), quantity=Quantity(2, "timer", "to timer")))
    assert answer.text.startswith("Ikke så længe: du må selv beslutte op til 1 time, og du nævner 2 timer. "
                                  "Over grænsen skal du have det godkendt af din leder.")
    assert "Grænse: 1 time." in answer.text and "inden for grænsen" not in answer.text
    assert answer.custom["over_limit"] is True and answer.custom["badge"] == "Over grænsen: kræver godkendelse"
    assert (answer.custom["tone"], answer.custom["decides"]) == ("leader", "leader")
    assert answer.custom["limit"] == {"value": 1, "unit": "timer"}
    assert answer.custom["quantity"] == {"value": 2, "unit": "timer", "text": "to timer"}
    money = reply(RuleCheck("over_limit", limit=MONEY, quantity=Quantity(3000, "kr", "3.000 kr.")), limit_dkk=2500)
    assert money.text.startswith("Ikke ved det beløb: du må selv beslutte op til 2.500 kr., og du nævner 3.000 kr. ")
    assert money.custom["badge"] == OVER_LIMIT_BADGE and money.custom["amount_dkk"] == 3000
    assert ".." not in money.text


def test_check_leads_with_what_to_check():
    answer = reply(RuleCheck("check", condition="om 5 timer er inden for grænsen på 2 dage", limit=DAYS,
                             quantity=Quantity(5, "timer", "5 timer")))
    assert answer.text.startswith("Det kommer an på: om 5 timer er inden for grænsen på 2 dage. "
                                  "Tjek det, før du går videre.")
    assert (answer.custom["badge"], answer.custom["tone"], answer.custom["decides"]) == (CHECK_BADGE, "caution", "unsure")
    weak = reply(RuleCheck("check", condition="om dit tilfælde er ny computer",
                           exception={"case": "Ny computer", "decision": "leader"}))
    assert weak.text.startswith("Det kommer an på: om dit tilfælde er ny computer; i så fald beslutter din leder.")


def test_the_limit_line_is_rendered_from_the_field():
    answer = reply(RuleCheck("within_limit", limit=DAYS, quantity=Quantity(1, "dage", "en dag")),
                   summary="Du må selv kalde en vikar ind i op til to dage (se grænsen).")
    assert "Grænse: 2 dage (1 dag er inden for grænsen)." in answer.text
    money = reply(RuleCheck("within_limit", limit=MONEY, quantity=Quantity(400, "kr", "400 kr.")), limit_dkk=2500)
    assert "Beløbsgrænse: 2.500 kr. (dit beløb, 400 kr., er inden for grænsen)." in money.text


def test_leader_and_other_decisions_as_today():
    leader = reply(RuleCheck("clear", decision="leader"), decision="leader")
    assert leader.text.startswith("Det er din leders beslutning.")
    assert (leader.custom["verdict"], leader.custom["decides"], leader.custom["tone"]) == ("decided", "leader", "leader")
    other = reply(RuleCheck("condition", decision="other", condition="x"), decision="other", decided_by="Økonomi")
    assert other.text.startswith("Det beslutter Økonomi.") and other.custom["badge"] == "Det beslutter Økonomi"


def test_the_payload_keeps_every_key_and_adds_the_verdict():
    custom = reply(RuleCheck("clear")).custom
    for key in ("type", "mandate_id", "unit", "decision", "badge", "over_limit", "restriction", "limit_dkk",
                "amount_dkk", "topic", "decided_by", "summary", "conditions", "inform", "how", "source",
                "unit_name", "question_id", "verdict", "decides", "tone", "exception", "limit", "quantity"):
        assert key in custom, key
    assert custom["tone"] in TONES


def test_without_a_check_the_old_callers_work():
    old = entry(limit_dkk=1000)
    over = mandate_reply(old, amount_dkk=3000)
    assert over.text.startswith("Ikke ved det beløb") and over.custom["badge"] == OVER_LIMIT_BADGE
    assert (over.custom["verdict"], over.custom["tone"]) == ("over_limit", "leader")
    within = mandate_reply(old, amount_dkk=400)
    assert within.text.startswith(YES) and within.custom["verdict"] == "within_limit"
    assert "Beløbsgrænse: 1.000 kr. (dit beløb, 400 kr., er inden for grænsen)." in within.text
