"""End to end: trained model, action server and Rasa server, the shared acceptance set over REST."""
from __future__ import annotations

import json

import pytest
import requests

from scripts import acceptance
from scripts.live import running_bot
from tests.conftest import ACCEPTANCE, DEMO_CATALOGUE, import_catalogue

pytestmark = [pytest.mark.model, pytest.mark.live]


@pytest.fixture(scope="module")
def bot_url(tmp_path_factory):
    from bot.db.migrate import upgrade

    path = tmp_path_factory.mktemp("live") / "mandat.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    import_catalogue(url, DEMO_CATALOGUE)
    import_catalogue(url, ACCEPTANCE / "catalogue.yaml")
    with running_bot({"MANDAT_DATABASE_URL": url}) as base:
        yield base, url


def post(base, sender, message, team=None):
    body = {"sender": sender, "message": message}
    if team:
        body["metadata"] = {"team": team}
    response = requests.post(f"{base}/webhooks/rest/webhook", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def test_acceptance_set_over_rest(bot_url, capsys):
    base, _ = bot_url
    items, entries = acceptance.load()
    report = acceptance.run(base, items, entries)
    summary = report.summary()
    with capsys.disabled():
        print("\nAcceptance set:", json.dumps(summary, ensure_ascii=False, indent=1))
    # The shared contract counts only direct answers; since the calibrated decision (issue "Understand
    # what employees mean") the bot asks "Handler det om A, B eller C?" rather than guess. Floors at
    # the measured level (2026-12-01, this database holds the demo catalogue too): 24/34 answered
    # directly (0.706), 33/34 resolved (0.971: answered, or the entry offered). The retrained model of
    # session 7 (good stories) reads two holiday questions as nlu_fallback, which makes the decision
    # strict: they get a clarifying question with the right entry first (26/34 direct before).
    assert report.resolved >= 0.94, summary
    assert report.accuracy >= 0.70, summary
    assert report.wrong_rate("none") <= 0.05, summary
    assert report.wrong_rate("smalltalk") <= 0.05, summary
    assert report.payload_mismatches() == [], summary


def test_demo_team_gets_the_substitute_entry(bot_url):
    base, _ = bot_url
    messages = post(base, "demo-vikar", "Må jeg selv vælge en vikar, når en kollega er syg?", "hjemmeplejen-syd")
    customs = [m["custom"] for m in messages if "custom" in m]
    assert customs[0]["type"] == "mandate_answer" and customs[0]["mandate_id"] == "soo-vikar"
    # the entry's 2-day limit is in the headline (issue 13: "Ja" only when nothing touches a limit)
    assert any("Ja, når det er inden for grænsen på 2 dage." in m.get("text", "") for m in messages)


def test_without_metadata_the_bot_asks_for_the_unit_then_answers_the_first_question(bot_url):
    base, _ = bot_url
    first = post(base, "form-user", "Må jeg selv bytte vagt med en kollega?")
    assert any(m.get("text") == "Hvilken enhed eller hvilket team er du i?" for m in first)
    assert not any("custom" in m for m in first)
    second = post(base, "form-user", "jeg er i hjemmeplejen sydd")
    customs = [m["custom"] for m in second if "custom" in m]
    assert customs and customs[0]["mandate_id"] == "soo-vagtbytte"
    third = post(base, "form-user", "hvad med at bytte min vagt i weekenden")
    assert [m["custom"]["mandate_id"] for m in third if "custom" in m] == ["soo-vagtbytte"]


def test_no_answer_is_stored_for_hr(bot_url):
    base, url = bot_url
    from bot.db.models import Question
    from bot.db.session import new_session

    messages = post(base, "hr-user", "Må jeg tage min papegøje med på arbejde, ring 22 33 44 55?", "tandplejen")
    custom = [m["custom"] for m in messages if "custom" in m][0]
    assert custom["type"] == "no_mandate"
    session = new_session(url)
    try:
        row = session.get(Question, custom["question_id"])
        assert row.unit_id == "tandplejen" and "22 33 44 55" not in row.text
    finally:
        session.close()


def test_entry_imported_while_running_is_answered_without_retraining(bot_url, tmp_path):
    base, url = bot_url
    path = tmp_path / "live.yaml"
    path.write_text(
        "version: 1\nmandates:\n  - id: tand-akvarium\n    unit: tandplejen\n    topic: Akvariet i venteværelset\n"
        "    decision: team\n    summary: I passer selv akvariet og køber foder.\n    keywords: [akvarium, fisk, fiskefoder]\n",
        encoding="utf-8",
    )
    import_catalogue(url, path)
    messages = post(base, "live-import", "Må vi selv købe fiskefoder til akvariet?", "tandplejen")
    assert [m["custom"]["mandate_id"] for m in messages if "custom" in m] == ["tand-akvarium"]
