"""The authorisation matrix: every role against every route, including tampered ids and units.

Each role runs every request in order on a fresh database. For each refused
request that would change something, the whole database state must be the
same afterwards: a leader who edits an id in the URL or a unit in the form
changes nothing outside their units.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import select

from tests.admin.conftest import USERS, entry_version, login, make_app

ROLES = ("anon", "leder", "omraadeleder", "hr", "hr-redaktoer", "admin")
LOGIN = "login"  # redirected to the login page


@dataclass
class Case:
    """One route with the expected status per role (``default`` for roles not named)."""

    name: str
    method: str
    path: str | Callable[[str], str]
    expect: dict[str, Any]
    default: Any = 200
    data: dict | Callable[[str], dict] | None = None
    files: Callable[[], dict] | None = None

    def status_for(self, role: str) -> Any:
        if role == "anon":
            return self.expect.get("anon", LOGIN)
        return self.expect.get(role, self.default)


def _question_id(url: str, text_start: str) -> int:
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question.id).where(Question.text.like(text_start + "%"))).scalars().first()
    finally:
        session.close()


def _user_id(url: str, username: str) -> int:
    from bot.db.models import User
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(User.id).where(User.username == username)).scalar_one()
    finally:
        session.close()


def _story_id(url: str) -> int:
    """The id of a new good story of Dagplejen (added on first use)."""
    from bot.db.models import Story
    from bot.db.session import session_scope

    with session_scope(url) as session:
        story_id = session.execute(select(Story.id).where(Story.status == "new")).scalars().first()
        if story_id is None:
            story = Story(unit_id="dagplejen", what_happened="Vi flyttede selv legestuen.", may_share=True)
            session.add(story)
            session.flush()
            story_id = story.id
        return story_id


def _edit_form(mandate_id: str, **changes) -> Callable[[str], dict]:
    def build(url: str) -> dict:
        from bot.admin.forms import values_to_form
        from bot.catalogue.edit import mandate_values
        from bot.db.models import Mandate
        from bot.db.session import new_session

        session = new_session(url)
        try:
            entry = session.get(Mandate, mandate_id)
            values = values_to_form(mandate_values(entry))
            values["summary"] += " (ændret i test)"
            values.update(changes)
            values["version"] = str(entry.version)
            return values
        finally:
            session.close()

    return build


def _new_form(unit: str, **changes) -> Callable[[str], dict]:
    def build(_url: str) -> dict:
        values = {"unit": unit, "topic": "Blomster til beboere", "decision": "employee",
                  "summary": "Du må selv købe blomster for op til 200 kr.", "limit_dkk": "200",
                  "examples": "Må jeg købe blomster til en beboer?"}
        values.update(changes)
        return values

    return build


def _retire_form(mandate_id: str) -> Callable[[str], dict]:
    return lambda url: {"version": str(entry_version(url, mandate_id)), "valid_to": "2026-11-28"}


def _yaml_upload(unit: str, mandate_id: str) -> Callable[[], dict]:
    def build() -> dict:
        import io

        text = (f"version: 1\nmandates:\n  - id: {mandate_id}\n    unit: {unit}\n    topic: Importeret emne\n"
                f"    decision: team\n    summary: Det beslutter I i teamet.\n")
        return {"file": (io.BytesIO(text.encode()), "katalog.yaml"), "dry_run": "1"}

    return build


def _status_entry(url: str, mandate_id: str, status: str) -> str:
    """The id of an entry of Hjemmeplejen Nord/Syd with ``status`` (added on first use)."""
    from bot.db.models import Mandate
    from bot.db.session import session_scope

    with session_scope(url) as session:
        if session.get(Mandate, mandate_id) is None:
            unit = "hjemmeplejen-nord" if mandate_id.startswith("hpn") else "hjemmeplejen-syd"
            session.add(Mandate(id=mandate_id, unit_id=unit, topic=f"Kladde {mandate_id}", decision="team",
                                summary="Det beslutter I.", status=status))
    return mandate_id


def _sheet_bytes(unit: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Team", "Beslutning", "Hvem beslutter", "Forklaring"])
    wb.active.append([unit, "Frugt til mødet", "Team", "I køber selv frugt."])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_upload(unit: str) -> Callable[[], dict]:
    return lambda: {"file": (io.BytesIO(_sheet_bytes(unit)), "liste.xlsx")}


def _sheet_import(unit: str) -> Callable[[str], dict]:
    return lambda _url: {"payload": base64.b64encode(_sheet_bytes(unit)).decode(), "filename": "liste.xlsx",
                         "trin": "importer", "kolonne_0": "unit", "kolonne_1": "topic", "kolonne_2": "decision",
                         "kolonne_3": "summary"}


def cases() -> list[Case]:
    """The routes of the admin app with the expected answer per role."""
    leader_only_own = {"omraadeleder": 403}
    return [
        Case("entry list", "GET", "/poster", {}),
        Case("entry list, other area's unit", "GET", "/poster?enhed=dagplejen", {"leder": 403}),
        Case("entry list, unit above (inherited)", "GET", "/poster?enhed=sundhed-og-omsorg&arvede=1",
             {"omraadeleder": 403}),
        Case("own entry", "GET", "/poster/hpn-smaaindkoeb", leader_only_own),
        Case("inherited entry", "GET", "/poster/soo-vikar", leader_only_own),
        Case("municipality entry", "GET", "/poster/sk-gaver", {}),
        Case("other unit's entry (id in URL)", "GET", "/poster/dpl-legestue", {"leder": 403}),
        Case("unknown entry", "GET", "/poster/findes-ikke", {}, default=404),
        Case("edit form, own entry", "GET", "/poster/hpn-smaaindkoeb/rediger",
             {"omraadeleder": 403, "hr": 403}),
        Case("edit form, inherited entry", "GET", "/poster/soo-vikar/rediger",
             {"leder": 403, "omraadeleder": 403, "hr": 403}),
        Case("edit form, other unit's entry", "GET", "/poster/dpl-legestue/rediger", {"leder": 403, "hr": 403}),
        Case("history, own entry", "GET", "/poster/hpn-smaaindkoeb/historik", leader_only_own),
        Case("history, other unit's entry", "GET", "/poster/dpl-legestue/historik", {"leder": 403}),
        Case("new entry form", "GET", "/poster/ny", {"hr": 403}),
        Case("new entry copied from other unit's entry", "GET", "/poster/ny?fra=dpl-legestue",
             {"leder": 403, "hr": 403}),
        Case("new entry from other unit's question (HR: hr_can_create)", "GET",
             lambda url: f"/poster/ny?spoergsmaal={_question_id(url, 'Må dagplejerne')}", {"leder": 403}),
        Case("question queue", "GET", "/spoergsmaal", {}),
        Case("question queue, other area's unit", "GET", "/spoergsmaal?enhed=dagplejen", {"leder": 403}),
        Case("question queue as CSV", "GET", "/spoergsmaal.csv?status=alle", {}),
        Case("question CSV, other area's unit", "GET", "/spoergsmaal.csv?enhed=dagplejen", {"leder": 403}),
        Case("dashboard", "GET", "/aktoerskab", {}),
        Case("dashboard, other area's unit", "GET", "/aktoerskab?enhed=dagplejen", {"leder": 403}),
        Case("chart", "GET", "/aktoerskab/graf/egne-uger.png", {}),
        Case("chart, other area's unit", "GET", "/aktoerskab/graf/egne-enheder.png?enhed=dagplejen",
             {"leder": 403}),
        Case("LMU report form", "GET", "/lmu-rapport", {}),
        Case("LMU report, own unit", "GET", "/lmu-rapport.pdf?enhed=hjemmeplejen-nord&fra=2026-11-01&til=2026-11-29",
             leader_only_own),
        Case("LMU report, other area's unit", "GET", "/lmu-rapport.pdf?enhed=dagplejen&fra=2026-11-01&til=2026-11-29",
             {"leder": 403}),
        Case("LMU report on screen, other area's unit", "GET",
             "/lmu-rapport?enhed=dagplejen&fra=2026-11-01&til=2026-11-29", {"leder": 403}),
        Case("import/export page", "GET", "/import-eksport", {}),
        Case("export own unit (YAML)", "GET", "/eksport?enhed=hjemmeplejen-nord&format=yaml", leader_only_own),
        Case("export other unit (XLSX)", "GET", "/eksport?enhed=dagplejen&format=xlsx", {"leder": 403}),
        Case("preview page", "GET", "/forhaandsvisning", {}),
        Case("users page", "GET", "/brugere", {"admin": 200}, default=403),
        Case("own account", "GET", "/konto", {}),
        # -- changes ----------------------------------------------------------
        Case("save own entry", "POST", "/poster/hpn-smaaindkoeb/rediger", {"omraadeleder": 403, "hr": 403},
             default=302, data=_edit_form("hpn-smaaindkoeb")),
        Case("save inherited entry", "POST", "/poster/soo-vikar/rediger",
             {"leder": 403, "omraadeleder": 403, "hr": 403}, default=302, data=_edit_form("soo-vikar")),
        Case("save other unit's entry (id in URL)", "POST", "/poster/dpl-legestue/rediger",
             {"leder": 403, "hr": 403}, default=302, data=_edit_form("dpl-legestue")),
        Case("move own entry to another area's unit (unit in form)", "POST", "/poster/hpn-rutebytte/rediger",
             {"leder": 403, "omraadeleder": 403, "hr": 403}, default=302,
             data=_edit_form("hpn-rutebytte", unit="dagplejen")),
        Case("create entry for own unit", "POST", "/poster/ny", {"omraadeleder": 403, "hr": 403}, default=302,
             data=_new_form("hjemmeplejen-nord")),
        Case("create entry for other unit (unit in form)", "POST", "/poster/ny", {"leder": 403, "hr": 403},
             default=302, data=_new_form("dagplejen")),
        Case("create entry reusing other unit's id", "POST", "/poster/ny", {"omraadeleder": 403, "hr": 403},
             default=400, data=_new_form("hjemmeplejen-nord", id="dpl-legestue")),
        Case("create entry linking other unit's question (HR: hr_can_create)", "POST", "/poster/ny",
             {"leder": 403, "omraadeleder": 403}, default=302,
             data=lambda url: {**_new_form("hjemmeplejen-nord", id="fra-spoergsmaal")(url),
                               "question_ids": str(_question_id(url, "Må dagplejerne"))}),
        Case("retire own entry", "POST", "/poster/hpn-smaaindkoeb/udfas", {"omraadeleder": 403, "hr": 403},
             default=302, data=_retire_form("hpn-smaaindkoeb")),
        Case("retire other unit's entry", "POST", "/poster/dpl-ture/udfas", {"leder": 403, "hr": 403},
             default=302, data=_retire_form("dpl-ture")),
        Case("set status, own unit's question", "POST", "/spoergsmaal/status", {"omraadeleder": 403},
             default=302, data=lambda url: {"ids": str(_question_id(url, "Må jeg tage min papegøje")),
                                            "status": "not_relevant"}),
        Case("set status, other unit's question (id in form)", "POST", "/spoergsmaal/status",
             {"leder": 403, "omraadeleder": 403},
             default=302, data=lambda url: {"ids": f"{_question_id(url, 'Må jeg tage min papegøje')},"
                                                   f"{_question_id(url, 'Må dagplejerne')}",
                                            "status": "not_relevant"}),
        Case("import dry run, own unit", "POST", "/import", {"omraadeleder": 400, "hr": 403},
             files=_yaml_upload("hjemmeplejen-nord", "hpn-importeret")),
        Case("import, other unit (not a dry run)", "POST", "/import", {"leder": 400, "hr": 403},
             files=lambda: {**_yaml_upload("dagplejen", "dpl-importeret")(), "dry_run": "0"}),
        Case("preview, own unit", "POST", "/forhaandsvisning", {"omraadeleder": 403},
             data={"question": "Må jeg selv købe ind for 300 kr.?", "unit": "hjemmeplejen-nord"}),
        Case("preview, other unit", "POST", "/forhaandsvisning", {"leder": 403},
             data={"question": "Må jeg tage på legestue?", "unit": "dagplejen"}),
        Case("draft preview, own entry", "POST", "/poster/hpn-smaaindkoeb/forhaandsvis",
             {"omraadeleder": 403, "hr": 403},
             data=_edit_form("hpn-smaaindkoeb", preview_question="Må jeg selv købe ind for 300 kr.?")),
        Case("draft preview, inherited entry", "POST", "/poster/soo-vikar/forhaandsvis",
             {"leder": 403, "omraadeleder": 403, "hr": 403},
             data=_edit_form("soo-vikar", preview_question="Må jeg selv ringe efter en vikar?")),
        Case("draft preview, other unit's entry (id in URL)", "POST", "/poster/dpl-legestue/forhaandsvis",
             {"leder": 403, "hr": 403}, data=_edit_form("dpl-legestue", preview_question="Må vi tage på legestue?")),
        Case("draft preview, new entry for own unit", "POST", "/poster/ny/forhaandsvis",
             {"omraadeleder": 403, "hr": 403},
             data=_new_form("hjemmeplejen-nord", preview_question="Må jeg købe blomster til en beboer?")),
        Case("draft preview, asked in other unit (unit in form)", "POST", "/poster/ny/forhaandsvis",
             {"leder": 403, "omraadeleder": 403, "hr": 403},
             data=_new_form("hjemmeplejen-nord", preview_question="Må jeg købe blomster?", preview_unit="dagplejen")),
        Case("link step, own unit's question", "POST", "/spoergsmaal/tilknyt", {"omraadeleder": 403},
             data=lambda url: {"ids": str(_question_id(url, "Må jeg tage min papegøje")),
                               "mandate_id": "sk-hjemmearbejde"}),
        Case("link step, other unit's question (id in form)", "POST", "/spoergsmaal/tilknyt",
             {"leder": 403, "omraadeleder": 403},
             data=lambda url: {"ids": f"{_question_id(url, 'Må jeg tage min papegøje')},"
                                      f"{_question_id(url, 'Må dagplejerne')}", "mandate_id": "sk-hjemmearbejde"}),
        Case("create user", "POST", "/brugere/ny", {"admin": 200}, default=403,
             data={"username": "ny-leder", "role": "leader", "units": "tandplejen"}),
        Case("change user (make self admin)", "POST",
             lambda url: f"/brugere/{_user_id(url, 'leder')}", {"admin": 302}, default=403,
             data={"role": "admin", "active": "1"}),
        Case("reset password", "POST", lambda url: f"/brugere/{_user_id(url, 'hr')}/adgangskode", {"admin": 200},
             default=403, data={}),
        Case("change own password (wrong current)", "POST", "/konto", {}, default=400,
             data={"current": "forkert", "new": "nyt-kodeord-123", "repeat": "nyt-kodeord-123"}),
        Case("log out", "POST", "/logout", {"anon": 302}, default=302, data={}),
        Case("widget demo page (public; no widget without dev mode)", "GET", "/demo", {"anon": 200}),
        Case("widget dev token (only in dev mode)", "GET", "/demo/token?employee=x&unit=tandplejen",
             {"anon": 404}, default=404),
        Case("delete questions (confirmation page)", "POST", "/spoergsmaal/slet", {"leder": 403, "omraadeleder": 403},
             default=200, data=lambda url: {"ids": str(_question_id(url, "Må jeg tage min papegøje"))}),
        Case("inbox (Spørgsmål til dig)", "GET", "/til-dig", {}),
        Case("inbox, every open question", "GET", "/til-dig?vis=alle", {}),
        Case("reply, own unit's question", "POST",
             lambda url: f"/til-dig/{_question_id(url, 'Må jeg selv købe blomster')}/svar", {"omraadeleder": 403},
             default=302, data={"reply": "Ja, det må du gerne."}),
        Case("reply, other area's question (id in URL)", "POST",
             lambda url: f"/til-dig/{_question_id(url, 'Må jeg selv bestille nye tandbørster')}/svar",
             {"leder": 403, "omraadeleder": 403},  # Tandplejen is its own branch, not under Børn og Unge
             default=302, data={"reply": "Ja, det må du gerne."}),
        Case("still right, own unit's entry", "POST", "/til-dig/poster/hpn-smaaindkoeb/stadig-rigtig",
             {"omraadeleder": 403, "hr": 403}, default=302, data={}),
        Case("still right, other area's entry (id in URL)", "POST", "/til-dig/poster/dpl-legestue/stadig-rigtig",
             {"leder": 403, "hr": 403}, default=302, data={}),
        Case("own e-mail address", "POST", "/konto/email", {}, default=302, data={"email": "mig@example.dk"}),
        Case("audit log", "GET", "/revisionslog", {"admin": 200}, default=403),
        Case("good stories", "GET", "/gode-historier", {}),
        Case("good stories, other area's unit", "GET", "/gode-historier?enhed=dagplejen", {"leder": 403}),
        Case("good stories for the intranet", "GET", "/gode-historier/intranet.md", {}),
        Case("publish a draft, own unit", "POST", lambda url: f"/poster/{_status_entry(url, 'hpn-kladde', 'draft')}"
             "/offentliggoer", {"omraadeleder": 403, "hr": 403}, default=302,
             data=lambda url: {"version": str(entry_version(url, "hpn-kladde"))}),
        Case("approve a pending entry (HR, admins, leaders above)", "POST",
             lambda url: f"/poster/{_status_entry(url, 'hpn-afventer', 'pending')}/godkend",
             {"leder": 403, "omraadeleder": 403}, default=302,
             data=lambda url: {"version": str(entry_version(url, "hpn-afventer"))}),
        Case("send a pending entry back as a draft", "POST",
             lambda url: f"/poster/{_status_entry(url, 'hps-afventer', 'pending')}/til-kladde",
             {"omraadeleder": 403}, default=302,
             data=lambda url: {"version": str(entry_version(url, "hps-afventer"))}),
        Case("spreadsheet import: mapping step", "POST", "/import/regneark", {"hr": 403},
             files=_sheet_upload("Hjemmeplejen Nord")),
        Case("spreadsheet import: import step, other area's unit", "POST", "/import/regneark",
             {"leder": 400, "hr": 403}, data=_sheet_import("Dagplejen")),
        Case("approve a good story", "POST", lambda url: f"/gode-historier/{_story_id(url)}/status",
             {"leder": 403, "omraadeleder": 403}, default=302, data={"status": "approved"}),
    ]


def db_state(url: str) -> str:
    """A digest of everything the admin app can change."""
    from sqlalchemy import text

    from bot.db.session import new_session

    session = new_session(url)
    try:
        parts = []
        for table in ("units", "mandates", "mandate_history", "questions", "users", "stories"):
            rows = session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            parts.append(json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False))
        return hashlib.sha256("".join(parts).encode()).hexdigest()
    finally:
        session.close()


CASES = cases()


def test_matrix_covers_every_route(admin_db):
    """Every route (endpoint and method) of the app has a case in the matrix."""
    app = make_app(admin_db)
    adapter = app.url_map.bind("localhost")
    routes = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = set()
    for case in CASES:
        path = case.path(admin_db) if callable(case.path) else case.path
        endpoint, _ = adapter.match(path.split("?")[0], method=case.method)
        covered.add((endpoint, case.method))
    untested = {("entries.index", "GET"), ("auth.login", "GET"), ("auth.login", "POST")}  # tested elsewhere
    assert not routes - covered - untested, f"routes without a case: {sorted(routes - covered - untested)}"


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(role, admin_db):
    """Every route for ``role``: expected status, and refused changes change nothing."""
    app = make_app(admin_db)
    client = app.test_client()
    if role != "anon":
        login(client, role)
    failures = []
    for case in CASES:
        path = case.path(admin_db) if callable(case.path) else case.path
        data = case.data(admin_db) if callable(case.data) else case.data
        if case.files:
            data = case.files()
        before = db_state(admin_db) if case.method == "POST" else None
        if case.method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data=data or {}, content_type="multipart/form-data" if case.files else None)
        expected = case.status_for(role)
        got = response.status_code
        if expected == LOGIN:
            ok = got == 302 and "/login" in response.headers.get("Location", "")
        else:
            ok = got == expected
        if not ok:
            failures.append(f"{case.name}: {case.method} {path} -> {got}, expected {expected}")
        if case.method == "POST" and (expected == LOGIN or expected in (400, 403)) and case.name != "log out":
            if db_state(admin_db) != before and not case.name.startswith("change own password"):
                failures.append(f"{case.name}: refused ({got}) but the database changed")
        if case.name == "log out" and role != "anon":
            login(client, role)
    assert not failures, f"{role}:\n  " + "\n  ".join(failures)


def test_matrix_size():
    """The matrix is roles x routes (printed for the report)."""
    assert len(ROLES) * len(CASES) >= 6 * 50
    assert set(USERS) | {"anon"} == set(ROLES)


def test_leader_csv_and_queue_hold_only_own_units(client_for):
    """A leader's queue and CSV contain no question from another area."""
    client = client_for("leder")
    page = client.get("/spoergsmaal?status=alle&visning=liste").get_data(as_text=True)
    csv_text = client.get("/spoergsmaal.csv?status=alle").get_data(as_text=True)
    for text in (page, csv_text):
        assert "blomster" in text
        assert "dagplejerne" not in text and "tandbørster" not in text
    hr = client_for("hr").get("/spoergsmaal.csv?status=alle").get_data(as_text=True)
    assert "dagplejerne" in hr and "tandbørster" in hr


def test_leader_list_hides_other_units_entries(client_for):
    """The entry list shows own and inherited entries, never another area's."""
    html = client_for("leder").get("/poster").get_data(as_text=True)
    assert "hpn-smaaindkoeb" in html and "soo-vikar" in html and "sk-gaver" in html
    assert "dpl-legestue" not in html and "bu-vikar" not in html
    assert "Kun læse" in html
