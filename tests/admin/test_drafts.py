"""Drafts and approval (issue 16, part 7), and HR creating entries from questions (part 6)."""
from __future__ import annotations

import dataclasses

from sqlalchemy import select

from tests.admin.test_entries import _entry

AQUARIUM = {
    "id": "hpn-akvarium", "unit": "hjemmeplejen-nord", "topic": "Fiskefoder til akvariet i personalestuen",
    "decision": "team", "summary": "I må selv købe fiskefoder og planter til akvariet i personalestuen.",
    "keywords": "akvarium\nfiskefoder\nakvariefisk",
    "examples": "Må vi selv købe fiskefoder til akvariet?",
}
QUESTION = "Må vi selv købe fiskefoder til akvariet?"


def _form(**values) -> dict:
    from bot.admin.forms import FORM_FIELDS

    form = {name: "" for name in FORM_FIELDS}
    form.update(values)
    return form


def _answer_id(service, question: str, unit: str):
    outcome = service.answer(question, unit, store=False)
    return outcome.reply.custom.get("mandate_id"), outcome


def _with_settings(app, **changes):
    app.config["MANDAT_SETTINGS"] = dataclasses.replace(app.config["MANDAT_SETTINGS"], **changes)


def _history_actions(url: str, mandate_id: str) -> list[str]:
    from bot.db.models import MandateHistory
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return list(session.execute(select(MandateHistory.action).where(MandateHistory.mandate_id == mandate_id)
                                    .order_by(MandateHistory.id)).scalars())
    finally:
        session.close()


def test_a_draft_is_never_answered_listed_or_inherited_until_published(admin_db, client_for, service):
    from bot.catalogue.tree import entries_in_force
    from bot.db.session import new_session
    from tests.conftest import TODAY

    client = client_for("leder")
    created = client.post("/poster/ny", data=_form(**AQUARIUM, gem="kladde"))
    assert created.status_code == 302
    assert "gemt som kladde" in client.get(created.location).get_data(as_text=True)
    assert _entry(admin_db, "hpn-akvarium").status == "draft"
    # A draft that shares the area's topic_key hides nothing above it.
    client.post("/poster/ny", data=_form(id="hpn-vikar-kladde", unit="hjemmeplejen-nord", topic="Vikar (kladde)",
                                         topic_key="vikar", decision="leader", summary="Kun lederen.", gem="kladde"))
    answered, outcome = _answer_id(service, QUESTION, "hjemmeplejen-nord")
    assert answered != "hpn-akvarium" and "hpn-akvarium" not in str(outcome.reply.custom)
    assert outcome.result.outside is None or outcome.result.outside.mandate_id != "hpn-akvarium"
    listed = service.list_entries("hjemmeplejen-nord")
    assert "akvariet" not in listed.text and "Vikar (kladde)" not in listed.text
    session = new_session(admin_db)
    in_force = {e.id for e in entries_in_force(session, "hjemmeplejen-nord", TODAY)}
    session.close()
    assert "soo-vikar" in in_force and not {"hpn-akvarium", "hpn-vikar-kladde"} & in_force
    # The entry page shows the draft as the card it will be.
    page = client.get("/poster/hpn-akvarium").get_data(as_text=True)
    assert "Kladde" in page and "data-mandat-message" in page and "Offentliggør</button>" in page
    assert "I må selv købe fiskefoder" in page.split("data-mandat-message", 1)[1][:2000]
    # The entries list shows the status, and can show only drafts.
    drafts = client.get("/poster?vis=kladder").get_data(as_text=True)
    assert "hpn-akvarium" in drafts and "hpn-vikar-kladde" in drafts and "hpn-rutebytte" not in drafts
    assert ">Kladde</span>" in drafts
    # The answer preview works for a draft (the form's values, as if published).
    preview = client.post("/poster/hpn-akvarium/forhaandsvis", headers={"X-Requested-With": "fetch"},
                          data=_form(**AQUARIUM, version=str(_entry(admin_db, "hpn-akvarium").version),
                                     preview_question=QUESTION))
    assert preview.status_code == 200 and "hpn-akvarium" in preview.get_data(as_text=True)

    published = client.post("/poster/hpn-akvarium/offentliggoer",
                            data={"version": _entry(admin_db, "hpn-akvarium").version})
    assert published.status_code == 302 and _entry(admin_db, "hpn-akvarium").status == "published"
    assert _answer_id(service, QUESTION, "hjemmeplejen-nord")[0] == "hpn-akvarium"
    assert "akvariet" in service.list_entries("hjemmeplejen-nord").text
    assert _history_actions(admin_db, "hpn-akvarium") == ["create", "publish"]
    history = client.get("/poster/hpn-akvarium/historik").get_data(as_text=True)
    assert "Offentliggjort" in history and "Kladde" in history


def test_editing_a_draft_keeps_it_a_draft_until_published_from_the_form(admin_db, client_for, service):
    client = client_for("leder")
    client.post("/poster/ny", data=_form(**AQUARIUM, gem="kladde"))
    version = _entry(admin_db, "hpn-akvarium").version
    client.post("/poster/hpn-akvarium/rediger", data=_form(**{**AQUARIUM, "summary": "Nyt svar om fiskefoder."},
                                                           version=str(version), gem="kladde"))
    entry = _entry(admin_db, "hpn-akvarium")
    assert (entry.status, entry.summary) == ("draft", "Nyt svar om fiskefoder.")
    assert _answer_id(service, QUESTION, "hjemmeplejen-nord")[0] != "hpn-akvarium"
    client.post("/poster/hpn-akvarium/rediger", data=_form(**AQUARIUM, version=str(entry.version),
                                                           gem="offentliggoer"))
    assert _entry(admin_db, "hpn-akvarium").status == "published"
    assert _answer_id(service, QUESTION, "hjemmeplejen-nord")[0] == "hpn-akvarium"
    assert _history_actions(admin_db, "hpn-akvarium") == ["create", "update", "update", "publish"]


def test_approval_flow_when_the_municipality_asks_for_it(admin_db, app, client_for, service):
    _with_settings(app, draft_approval=True)
    leader = client_for("leder")  # leads two teams: needs an area leader's or HR's approval
    response = leader.post("/poster/ny", data=_form(**AQUARIUM))
    assert response.status_code == 302 and _entry(admin_db, "hpn-akvarium").status == "pending"
    assert "afventer godkendelse" in leader.get(response.location).get_data(as_text=True)
    assert _answer_id(service, QUESTION, "hjemmeplejen-nord")[0] != "hpn-akvarium"
    version = _entry(admin_db, "hpn-akvarium").version
    assert leader.post("/poster/hpn-akvarium/godkend", data={"version": version}).status_code == 403
    assert "Godkend og offentliggør" not in leader.get("/poster/hpn-akvarium").get_data(as_text=True)
    assert client_for("omraadeleder").post("/poster/hpn-akvarium/godkend", data={"version": version}).status_code == 403
    hr = client_for("hr")
    assert "Godkend og offentliggør" in hr.get("/poster/hpn-akvarium").get_data(as_text=True)
    assert hr.post("/poster/hpn-akvarium/godkend", data={"version": version}).status_code == 302
    assert _entry(admin_db, "hpn-akvarium").status == "published"
    assert _answer_id(service, QUESTION, "hjemmeplejen-nord")[0] == "hpn-akvarium"
    assert _history_actions(admin_db, "hpn-akvarium") == ["create", "approve"]
    # An area leader publishes the entries of the teams below at once; a draft sent back stays out.
    area = client_for("omraadeleder")
    area.post("/poster/ny", data=_form(id="dp-akvarium", unit="dagplejen", topic="Akvarium i dagplejen",
                                       decision="team", summary="I må selv passe akvariet."))
    assert _entry(admin_db, "dp-akvarium").status == "published"
    leader.post("/poster/ny", data=_form(id="hps-kladde", unit="hjemmeplejen-syd", topic="Kladde",
                                         decision="team", summary="Tekst."))
    assert _entry(admin_db, "hps-kladde").status == "pending"
    hr.post("/poster/hps-kladde/til-kladde", data={"version": _entry(admin_db, "hps-kladde").version})
    assert _entry(admin_db, "hps-kladde").status == "draft"
    assert _history_actions(admin_db, "hps-kladde") == ["create", "unpublish"]
    # Without approval a leader's save publishes at once.
    _with_settings(app, draft_approval=False)
    leader.post("/poster/hps-kladde/offentliggoer", data={"version": _entry(admin_db, "hps-kladde").version})
    assert _entry(admin_db, "hps-kladde").status == "published"


def test_import_publishes_unless_the_file_says_otherwise(admin_db, app, client_for):
    import io

    text = """version: 2
mandates:
  - {id: hpn-a, unit: hjemmeplejen-nord, topic: A, decision: team, summary: A.}
  - {id: hpn-b, unit: hjemmeplejen-nord, topic: B, decision: team, summary: B., status: draft}
"""
    client = client_for("leder")
    response = client.post("/import", data={"file": (io.BytesIO(text.encode()), "k.yaml")},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert (_entry(admin_db, "hpn-a").status, _entry(admin_db, "hpn-b").status) == ("published", "draft")
    _with_settings(app, draft_approval=True)
    more = text.replace("hpn-a", "hpn-c").replace("hpn-b", "hpn-d").replace("status: draft", "status: published")
    client.post("/import", data={"file": (io.BytesIO(more.encode()), "k.yaml")}, content_type="multipart/form-data")
    assert (_entry(admin_db, "hpn-c").status, _entry(admin_db, "hpn-d").status) == ("pending", "pending")
    bad = text.replace("status: draft", "status: kladde")
    error = client.post("/import", data={"file": (io.BytesIO(bad.encode()), "k.yaml")},
                        content_type="multipart/form-data")
    assert error.status_code == 400 and "&#39;kladde&#39; er ikke gyldig" in error.get_data(as_text=True)


def _question_id(url: str, text: str) -> int:
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question.id).where(Question.text == text)).scalar_one()
    finally:
        session.close()


def test_hr_creates_entries_from_questions_when_the_municipality_allows_it(admin_db, app, client_for):
    qid = _question_id(admin_db, "Må jeg selv bestille nye tandbørster?")
    hr = client_for("hr")  # HR without edit rights
    form = _form(id="tand-tandboerster", unit="tandplejen", topic="Tandbørster til børnene", decision="employee",
                 summary="Du må selv bestille tandbørster i depotet.", question_ids=str(qid))
    page = hr.get(f"/poster/ny?spoergsmaal={qid}")
    assert page.status_code == 200 and 'value="tandplejen" selected' in page.get_data(as_text=True)
    assert hr.get("/poster/ny").status_code == 403  # only from questions
    assert hr.post("/poster/ny", data={**form, "question_ids": ""}).status_code == 403
    created = hr.post("/poster/ny", data=form)
    assert created.status_code == 302 and _entry(admin_db, "tand-tandboerster").status == "published"
    assert hr.get("/poster/tand-tandboerster/rediger").status_code == 403  # creating is not editing

    _with_settings(app, hr_can_create=False)
    assert hr.get(f"/poster/ny?spoergsmaal={qid}").status_code == 403
    again = hr.post("/poster/ny", data={**form, "id": "tand-tandboerster-2"})
    assert again.status_code == 403 and _entry(admin_db, "tand-tandboerster-2") is None
    # An HR user an admin gave edit rights creates entries either way.
    assert client_for("hr-redaktoer").get(f"/poster/ny?spoergsmaal={qid}").status_code == 200


def test_the_hr_setting_is_read_from_the_environment(monkeypatch):
    from bot.config import get_settings

    monkeypatch.delenv("MANDAT_HR_CAN_CREATE", raising=False)
    assert get_settings().hr_can_create is True  # on unless the municipality turns it off
    monkeypatch.setenv("MANDAT_HR_CAN_CREATE", "0")
    assert get_settings().hr_can_create is False

