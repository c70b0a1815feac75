"""Entries in the admin app: validation like ``mandat import``, conflicts, history, retire, preview."""
from __future__ import annotations

from sqlalchemy import select

from tests.admin.conftest import entry_form, entry_version




def _entry(url: str, mandate_id: str):
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Mandate, mandate_id)
    finally:
        session.close()


def test_edit_saves_through_save_mandate_with_history(admin_db, client_for):
    client = client_for("leder")
    form = entry_form(admin_db, "hpn-smaaindkoeb", summary="Du må selv købe ind for op til 800 kr.", limit_value="800",
                 limit_unit="kr",
                 keywords="indkøb, kvittering\nudlæg")
    response = client.post("/poster/hpn-smaaindkoeb/rediger", data=form)
    assert response.status_code == 302
    entry = _entry(admin_db, "hpn-smaaindkoeb")
    assert entry.limit_dkk == 800 and entry.summary.startswith("Du må selv købe ind for op til 800")
    assert entry.keywords == ["indkøb", "kvittering", "udlæg"]
    assert entry.version == int(form["version"]) + 1

    from bot.db.models import MandateHistory
    from bot.db.session import new_session

    session = new_session(admin_db)
    last = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "hpn-smaaindkoeb")
                           .order_by(MandateHistory.id.desc())).scalars().first()
    session.close()
    assert last.changed_by == "leder" and last.action == "update"
    assert set(last.changes) == {"summary", "limit", "keywords"}
    assert last.changes["limit"][1] == {"value": 800, "unit": "kr"}

    html = client.get("/poster/hpn-smaaindkoeb/historik").get_data(as_text=True)
    assert "Ændret" in html and "leder" in html and "<th scope=\"row\">Grænse</th>" in html
    assert "<ins>800 kr.</ins>" in html and "<ins>udlæg</ins>" in html


def test_unchanged_save_records_nothing(admin_db, client_for):
    client = client_for("leder")
    version = entry_version(admin_db, "hpn-smaaindkoeb")
    response = client.post("/poster/hpn-smaaindkoeb/rediger", data=entry_form(admin_db, "hpn-smaaindkoeb"))
    assert response.status_code == 302
    assert entry_version(admin_db, "hpn-smaaindkoeb") == version
    assert "Der var ingen ændringer" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_validation_errors_are_shown_next_to_fields_and_nothing_is_saved(admin_db, client_for):
    client = client_for("leder")
    version = entry_version(admin_db, "hpn-smaaindkoeb")
    form = entry_form(admin_db, "hpn-smaaindkoeb", decision="other", decided_by="", topic="",
                 valid_from="2026-05-01", valid_to="2026-01-01", limit_value="mange penge", topic_key="Ikke Gyldig")
    response = client.post("/poster/hpn-smaaindkoeb/rediger", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("mangler (påkrævet)", "er påkrævet, når «Hvem beslutter» er «Andre»", "ligger før «Gælder fra»",
                    "skal være et tal &gt;= 0", "skal bestå af små bogstaver"):
        assert message in html, message
    assert html.count('class="field has-error') >= 5
    assert 'value="mange penge"' in html  # the user's input is kept
    assert entry_version(admin_db, "hpn-smaaindkoeb") == version


def test_concurrent_edit_shows_conflict_with_both_versions(admin_db, client_for):
    anna, bo = client_for("leder"), client_for("admin")
    form_anna = entry_form(admin_db, "hpn-smaaindkoeb", summary="Annas version af teksten.")
    form_bo = entry_form(admin_db, "hpn-smaaindkoeb", summary="Bos version af teksten.")
    assert bo.post("/poster/hpn-smaaindkoeb/rediger", data=form_bo).status_code == 302
    response = anna.post("/poster/hpn-smaaindkoeb/rediger", data=form_anna)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "ændret af en anden" in html and "Annas version af teksten." in html and "Bos version af teksten." in html
    assert "admin gemte en ny version" in html
    assert _entry(admin_db, "hpn-smaaindkoeb").summary == "Bos version af teksten."
    # The conflict page offers a deliberate overwrite based on the stored version.
    stored = entry_version(admin_db, "hpn-smaaindkoeb")
    assert f'name="version" value="{stored}"' in html
    again = anna.post("/poster/hpn-smaaindkoeb/rediger", data={**form_anna, "version": str(stored)})
    assert again.status_code == 302
    assert _entry(admin_db, "hpn-smaaindkoeb").summary == "Annas version af teksten."


def test_conflict_from_the_database_layer_is_caught(admin_db, client_for, monkeypatch):
    """A save that loses the race at flush (StaleDataError) also shows the conflict page."""
    from sqlalchemy.orm.exc import StaleDataError

    import bot.admin.entries as entries

    def stale(*_args, **_kwargs):
        raise StaleDataError("version changed")

    monkeypatch.setattr(entries, "save_mandate", stale)
    response = client_for("leder").post("/poster/hpn-smaaindkoeb/rediger",
                                        data=entry_form(admin_db, "hpn-smaaindkoeb", summary="x"))
    assert response.status_code == 409


def test_create_and_id_rules(admin_db, client_for):
    client = client_for("leder")
    data = {"unit": "hjemmeplejen-syd", "topic": "Kage til teamet", "decision": "team",
            "summary": "I må selv købe kage for op til 300 kr. om måneden.", "limit_dkk": "300 kr."}
    response = client.post("/poster/ny", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/poster/kage-til-teamet")
    entry = _entry(admin_db, "kage-til-teamet")
    assert entry.unit_id == "hjemmeplejen-syd" and entry.limit_dkk == 300
    # The same topic again gets a fresh id, never overwrites.
    response = client.post("/poster/ny", data=data)
    assert response.headers["Location"].endswith("/poster/kage-til-teamet-2")
    # An explicit id that exists elsewhere is refused and that entry is untouched.
    version = entry_version(admin_db, "sk-gaver")
    response = client.post("/poster/ny", data={**data, "id": "sk-gaver"})
    assert response.status_code == 400 and "findes allerede en post med dette id" in response.get_data(as_text=True)
    assert entry_version(admin_db, "sk-gaver") == version


def test_local_override_of_an_inherited_entry(admin_db, client_for):
    client = client_for("leder")
    html = client.get("/poster/soo-vikar").get_data(as_text=True)
    assert "Lav en lokal regel for din enhed" in html and "Redigér</a>" not in html
    form = client.get("/poster/ny?fra=soo-vikar").get_data(as_text=True)
    assert 'value="vikar"' in form  # topic_key copied: the new entry overrides the parent's
    data = {"unit": "hjemmeplejen-nord", "topic": "Vikar i Hjemmeplejen Nord", "topic_key": "vikar",
            "decision": "team", "summary": "I teamet finder I selv en afløser."}
    assert client.post("/poster/ny", data={**data, "id": "hpn-vikar"}).status_code == 302
    listing = client.get("/poster?enhed=hjemmeplejen-nord").get_data(as_text=True)
    assert "Tilsidesætter soo-vikar" in listing
    only = client.get("/poster?vis=tilsidesaetter").get_data(as_text=True)
    assert "hpn-vikar" in only and "sk-gaver" not in only


def test_list_flags_and_filters(client_for):
    client = client_for("hr")
    html = client.get("/poster?q=pilotprojekt").get_data(as_text=True)
    assert "hpn-vikar-pilot-2025" in html and "Udløbet" in html
    assert "hpn-vikar-pilot-2025" in client.get("/poster?vis=udloebet").get_data(as_text=True)
    assert "hpn-vikar-pilot-2025" not in client.get("/poster?vis=i-kraft").get_data(as_text=True)
    team = client.get("/poster?beslutning=team").get_data(as_text=True)
    assert "hpn-rutebytte" in team and "hpn-smaaindkoeb" not in team
    due = client.get("/poster?vis=gennemgang").get_data(as_text=True)
    assert "Gennemgang overskredet" in due


def test_pagination(client_for):
    client = client_for("admin")
    first = client.get("/poster").get_data(as_text=True)
    assert "Side 1 af " in first and first.count('class="sub">') >= 50
    second = client.get("/poster?side=2").get_data(as_text=True)
    assert "Side 2 af " in second and 'rel="prev"' in second
    assert client.get("/poster?side=999").status_code == 200


def test_retire_sets_valid_to_and_bot_stops_using_it(admin_db, client_for):
    client = client_for("leder")
    response = client.post("/poster/hpn-smaaindkoeb/udfas",
                           data={"version": entry_version(admin_db, "hpn-smaaindkoeb"), "valid_to": "2026-11-28"})
    assert response.status_code == 302
    entry = _entry(admin_db, "hpn-smaaindkoeb")
    assert entry.valid_to.isoformat() == "2026-11-28"
    assert "Udløbet" in client.get("/poster/hpn-smaaindkoeb").get_data(as_text=True)
    # A stale version is a conflict, not a silent overwrite.
    stale = client.post("/poster/hpn-smaaindkoeb/udfas", data={"version": "1", "valid_to": "2026-11-01"})
    assert stale.status_code == 409
    assert _entry(admin_db, "hpn-smaaindkoeb").valid_to.isoformat() == "2026-11-28"


def test_create_entry_from_questions_links_them(admin_db, client_for):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(admin_db)
    ids = session.execute(select(Question.id).where(Question.text.like("%blomster%"))).scalars().all()
    session.close()
    client = client_for("leder")
    form = client.get(f"/poster/ny?spoergsmaal={','.join(map(str, ids))}").get_data(as_text=True)
    assert "Spørgsmål, posten skal besvare" in form
    assert "Må jeg selv købe blomster til en beboer med fødselsdag?" in form  # prefilled as examples
    assert '<option value="hjemmeplejen-nord" selected' in form  # the unit most of them came from
    data = {"unit": "hjemmeplejen-nord", "topic": "Blomster til beboere", "decision": "employee",
            "summary": "Du må selv købe blomster for op til 200 kr.", "question_ids": ",".join(map(str, ids)),
            "examples": "Må jeg købe blomster til en beboer?"}
    response = client.post("/poster/ny", data=data)
    assert response.status_code == 302
    session = new_session(admin_db)
    rows = session.execute(select(Question).where(Question.id.in_(ids))).scalars().all()
    session.close()
    assert {(q.resolved_mandate_id, q.status, q.status_by) for q in rows} == {
        ("blomster-til-beboere", "answered", "leder")}
    html = client.get("/poster/blomster-til-beboere").get_data(as_text=True)
    assert f"{len(ids)} spørgsmål</a> er besvaret med denne post" in html


def test_preview_answers_without_storing(admin_db, client_for):
    from sqlalchemy import func

    from bot.db.models import Question
    from bot.db.session import new_session

    def count():
        session = new_session(admin_db)
        try:
            return session.execute(select(func.count(Question.id))).scalar()
        finally:
            session.close()

    before = count()
    client = client_for("leder")
    response = client.post("/forhaandsvisning", data={"question": "Må jeg selv vælge en vikar, når en kollega er syg?",
                                                      "unit": "hjemmeplejen-syd"},
                           headers={"X-Requested-With": "fetch"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html  # a fragment for the edit page
    # the vikar rule's 2-day limit is in the headline (issue 13)
    assert "Ja, når det er inden for grænsen på 2 dage." in html and "soo-vikar" in html
    unknown = client.post("/forhaandsvisning", data={"question": "Må jeg tage min papegøje med?",
                                                     "unit": "hjemmeplejen-syd"}).get_data(as_text=True)
    assert "ikke finde et klart svar" in unknown
    assert count() == before


def test_user_text_is_escaped(admin_db, client_for):
    client = client_for("leder")
    data = {"unit": "hjemmeplejen-nord", "topic": "<script>alert(1)</script>", "decision": "employee",
            "summary": "<b>fed</b>", "id": "xss-test"}
    assert client.post("/poster/ny", data=data).status_code == 302
    html = client.get("/poster/xss-test").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>fed</b>" not in html


def test_form_saves_exceptions_limit_and_route_and_shows_them(admin_db, client_for):
    from bot.domain import Limit

    client = client_for("leder")
    form = client.get("/poster/ny").get_data(as_text=True)
    for name in ('name="limit_value"', 'name="limit_unit"', 'name="route"', 'name="exceptions"', 'name="csrf_token"'):
        assert name in form, name
    assert "nobody</code> (ingen: aldrig tilladt)" in form and '<label for="f-exceptions">Undtagelser</label>' in form
    data = {"unit": "hjemmeplejen-syd", "topic": "Gaver fra borgere", "decision": "employee",
            "summary": "Du må selv tage imod en lille gave til en værdi af højst 200 kr.",
            "limit_value": "200", "limit_unit": "kr", "route": "concern",
            "exceptions": "gavekort = nobody\r\nny computer = lederen\r\nkørsel = other (Visitationen)"}
    response = client.post("/poster/ny", data=data)
    assert response.status_code == 302
    entry = _entry(admin_db, "gaver-fra-borgere")
    assert entry.limit == Limit(200, "kr") and entry.route == "concern"
    assert entry.exceptions == [{"case": "gavekort", "decision": "nobody", "decided_by": None},
                                {"case": "ny computer", "decision": "leader", "decided_by": None},
                                {"case": "kørsel", "decision": "other", "decided_by": "Visitationen"}]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bemærk" not in page  # the text and the limit agree
    assert "gavekort: aldrig tilladt" in page and "kørsel: andre (Visitationen)" in page
    assert "200 kr." in page and "Ved bekymring" in page
    # The edit form shows the stored values in the same syntax, and an unchanged save changes nothing.
    values = entry_form(admin_db, "gaver-fra-borgere")
    assert values["exceptions"] == "gavekort = nobody\nny computer = leader\nkørsel = other (Visitationen)"
    assert (values["limit_value"], values["limit_unit"], values["route"]) == ("200", "kr", "concern")
    again = client.post("/poster/gaver-fra-borgere/rediger", data=values)
    assert "Der var ingen ændringer" in client.get(again.headers["Location"]).get_data(as_text=True)
    # Emptying the route and the limit removes them.
    client.post("/poster/gaver-fra-borgere/rediger", data={**values, "route": "", "limit_value": "",
                                                           "summary": "Du må selv tage imod en lille gave."})
    entry = _entry(admin_db, "gaver-fra-borgere")
    assert entry.route is None and entry.limit is None and len(entry.exceptions) == 3


def test_save_warns_when_the_text_names_another_amount_than_the_limit(admin_db, client_for):
    client = client_for("leder")
    form = entry_form(admin_db, "hpn-smaaindkoeb", summary="Du må selv købe ind for op til 2.000 kr.",
                 limit_value="2.500", limit_unit="kr")
    response = client.post("/poster/hpn-smaaindkoeb/rediger", data=form)
    assert response.status_code == 302  # saved all the same
    entry = _entry(admin_db, "hpn-smaaindkoeb")
    assert entry.limit_value == 2500 and entry.summary == "Du må selv købe ind for op til 2.000 kr."
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash warning"' in page
    assert "«Kort svar» nævner 2.000 kr., men grænsen er 2.500 kr." in page
    # Text and limit that agree: no warning.
    form = entry_form(admin_db, "hpn-smaaindkoeb", summary="Du må selv købe ind for op til 2.500 kr.")
    page = client.get(client.post("/poster/hpn-smaaindkoeb/rediger", data=form).headers["Location"]).get_data(
        as_text=True)
    assert "Ændringerne er gemt" in page and "flash warning" not in page


def test_limit_warnings_compare_durations_in_the_limits_unit():
    from bot.admin.forms import limit_warnings
    from bot.catalogue.schema import MandateSpec
    from bot.domain import Limit

    spec = MandateSpec(id="m", unit="u", topic="Møde", decision="team", summary="Højst 2 timer ad gangen.",
                       conditions=["Mødet må vare op til 90 minutter.", "Det koster 500 kr."],
                       limit=Limit(90, "minutter"))
    (warning,) = limit_warnings(spec)
    assert warning.startswith("«Kort svar» nævner 2 timer, men grænsen er 90 minutter.")
    spec.limit = Limit(2, "timer")
    assert limit_warnings(spec)[0].startswith("«Betingelser» nævner 90 minutter, men grænsen er 2 timer.")
    spec.limit = None
    (no_limit,) = limit_warnings(spec)
    assert "«Betingelser» nævner 500 kr., men posten har ingen grænse" in no_limit


def test_bad_exceptions_and_limit_unit_are_shown_next_to_their_fields(admin_db, client_for):
    client = client_for("leder")
    version = entry_version(admin_db, "hpn-smaaindkoeb")
    form = entry_form(admin_db, "hpn-smaaindkoeb", exceptions="gavekort = nobody\ncomputer lederen")
    response = client.post("/poster/hpn-smaaindkoeb/rediger", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "linje 2: &#39;computer lederen&#39; skal skrives &#39;tilfælde = hvem (besluttet af)&#39;" in html
    assert "computer lederen</textarea>" in html  # the input is kept
    form = entry_form(admin_db, "hpn-smaaindkoeb", exceptions="kørsel = other", limit_value="3", limit_unit="uger")
    html = client.post("/poster/hpn-smaaindkoeb/rediger", data=form).get_data(as_text=True)
    assert "Undtagelse 1: skriv i parentes, hvem der beslutter" in html
    assert "&#39;uger&#39; er ikke en gyldig enhed; brug en af kr, minutter, timer, dage, personer, gange" in html
    assert entry_version(admin_db, "hpn-smaaindkoeb") == version
