"""The demo catalogue (issue 16, part 6): dental care is its own branch, and the demo page has an
employee in every team."""
from __future__ import annotations

import yaml

from tests.conftest import DEMO_CATALOGUE, TODAY

SUBSTITUTE = "Vores klinikassistent er syg i dag. Må jeg selv ringe efter en vikar?"


def _units() -> dict[str, str | None]:
    doc = yaml.safe_load(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    return {u["id"]: u.get("parent") for u in doc["units"]}


def test_dental_care_is_its_own_branch_with_its_own_entries():
    units = _units()
    assert units["tandplejen"] == "storkeby-kommune"
    doc = yaml.safe_load(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    own = {m["id"]: m for m in doc["mandates"] if m["unit"] == "tandplejen"}
    assert len(own) >= 5 and own["tand-vikar"]["topic_key"] == "vikar" and own["tand-vikar"]["decision"] == "leader"


def test_a_dentists_substitute_question_gets_the_dental_rule(demo_db, service, session):
    from bot.catalogue.tree import entries_in_force

    in_force = {e.id for e in entries_in_force(session, "tandplejen", TODAY)}
    assert "tand-vikar" in in_force and not any(i.startswith("bu-") for i in in_force)
    assert "sk-underretning" in in_force  # the duty to report comes from the municipality's own entry
    outcome = service.answer(SUBSTITUTE, "tandplejen", store=False)
    assert outcome.reply.custom.get("mandate_id") == "tand-vikar", outcome.reply.text
    assert "daycare" not in outcome.reply.text and "Vikarkorpset" not in outcome.reply.text
    # The daycare's rule is still the daycare's (Solsikken's own, over Børn og Unge's).
    assert service.answer("Pædagogen er syg. Må vi selv ringe efter en vikar fra Vikarkorpset?",
                          "dagtilbud-solsikken", store=False).reply.custom.get("mandate_id") == "sol-vikar"


def test_the_demo_page_offers_an_employee_in_every_team():
    from bot.admin.demo import DEMO_EMPLOYEES

    units = _units()
    teams = {u for u in units if u not in set(units.values())}
    assert {unit for _, _, unit, _ in DEMO_EMPLOYEES.values()} == teams
    for employee_id, name, unit, job in DEMO_EMPLOYEES.values():
        assert " " in name and job and employee_id.islower() and "." in employee_id
