"""`mandat import`: all or nothing, every error with file, line, entry id and field."""
from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import func, select

from bot.catalogue.io import dump_yaml, export_catalogue, import_file
from bot.catalogue.schema import CatalogueValidationError
from bot.cli import main as mandat
from bot.db.models import Mandate, MandateHistory, Unit
from tests.conftest import import_catalogue

GOOD = textwrap.dedent(
    """\
    version: 1
    units:
      - id: test-kommune
        name: Testkommune
      - id: test-team
        name: Testteamet
        parent: test-kommune
        aliases: [TT]
    mandates:
      - id: tt-vikar
        unit: test-team
        topic: Vikar
        decision: employee
        summary: Du må selv ringe efter en vikar.
        valid_from: 2026-01-01
      - id: tk-kursus
        unit: test-kommune
        topic: Kursus
        decision: leader
        summary: Din leder godkender kurser.
    """
)


def write(tmp_path, text, name="katalog.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def snapshot(session):
    session.expire_all()
    return dump_yaml(export_catalogue(session)), session.execute(select(func.count(MandateHistory.id))).scalar()


def test_import_creates_units_entries_and_history(session, tmp_path):
    report = import_file(session, write(tmp_path, GOOD))
    assert report.units["created"] == 2 and report.mandates["created"] == 2
    entry = session.get(Mandate, "tt-vikar")
    assert entry.unit_id == "test-team" and entry.decision == "employee"
    assert session.get(Unit, "test-team").aliases == ["TT"]
    history = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "tt-vikar")).scalars().all()
    assert [h.action for h in history] == ["create"]
    assert history[0].changed_by == "import:katalog.yaml"


def test_reimport_is_unchanged_and_an_edit_is_recorded_field_by_field(session, tmp_path):
    import_file(session, write(tmp_path, GOOD))
    again = import_file(session, write(tmp_path, GOOD))
    assert again.mandates["unchanged"] == 2 and again.mandates["created"] == 0
    edited = import_file(session, write(tmp_path, GOOD.replace("decision: employee", "decision: team")))
    assert edited.mandates["updated"] == 1
    last = session.execute(select(MandateHistory).order_by(MandateHistory.id.desc())).scalars().first()
    assert last.action == "update" and last.changes == {"decision": ["employee", "team"]}
    assert session.get(Mandate, "tt-vikar").version == 2


BAD_CASES = {
    "unknown unit": (GOOD.replace("unit: test-team", "unit: findes-ikke"), "mandates[tt-vikar]", "unit", "findes-ikke"),
    "duplicate id": (GOOD.replace("id: tk-kursus", "id: tt-vikar"), "mandates[tt-vikar]", "id", "findes allerede"),
    "bad decision": (GOOD.replace("decision: leader", "decision: boss"), "mandates[tk-kursus]", "decision", "boss"),
    "missing summary": (GOOD.replace("    summary: Din leder godkender kurser.\n", ""), "mandates[tk-kursus]", "summary", "påkrævet"),
    "other without decided_by": (GOOD.replace("decision: leader", "decision: other"), "mandates[tk-kursus]", "decided_by", "other"),
    "invalid date": (GOOD.replace("valid_from: 2026-01-01", "valid_from: 2026-13-01"), "mandates[tt-vikar]", "valid_from", "2026-13-01"),
    "parent cycle": (GOOD.replace("name: Testkommune", "name: Testkommune\n    parent: test-team"), "units[", "parent", "ring"),
    "unknown parent": (GOOD.replace("parent: test-kommune", "parent: nowhere"), "units[test-team]", "parent", "nowhere"),
    "bad slug": (GOOD.replace("id: tk-kursus", "id: TK Kursus"), "mandates[TK Kursus]", "id", "små bogstaver"),
    "negative limit": (GOOD.replace("valid_from: 2026-01-01", "limit_dkk: -5"), "mandates[tt-vikar]", "limit_dkk", "-5"),
    "unknown field": (GOOD.replace("valid_from: 2026-01-01", "valid_form: 2026-01-01"), "mandates[tt-vikar]", "valid_form", "ukendt"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_gives_a_clear_error_and_changes_nothing(case, acceptance_db, session, tmp_path):
    text, item, field, words = BAD_CASES[case]
    before = snapshot(session)
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, text))
    errors = info.value.errors
    assert any(e.item.startswith(item) and e.field == field and words in e.message + e.item for e in errors), errors
    assert all(e.file == "katalog.yaml" for e in errors)
    assert all(e.line > 0 for e in errors)
    assert snapshot(session) == before


def test_error_names_the_line_of_the_field_or_of_the_entry(session, tmp_path):
    text = GOOD.replace("decision: leader", "decision: chef").replace("    summary: Din leder godkender kurser.\n", "")
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, text))
    lines = text.splitlines()
    by_field = {e.field: e for e in info.value.errors}
    line_of_field = lines.index("    decision: chef") + 1
    assert str(by_field["decision"]).startswith(f"katalog.yaml:{line_of_field}: mandates[tk-kursus].decision:")
    # a missing field has no line of its own: the entry's line
    assert by_field["summary"].line == lines.index("  - id: tk-kursus") + 1


def test_every_error_is_reported_at_once(session, tmp_path):
    text = GOOD.replace("decision: leader", "decision: boss").replace("unit: test-team", "unit: nope")
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, text))
    assert {e.field for e in info.value.errors} == {"decision", "unit"}


def test_invalid_yaml_is_reported_with_its_line(session, tmp_path):
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, "version: 1\nunits: [\n  - id: x\n"))
    assert info.value.errors[0].line >= 2


def test_a_failure_while_writing_rolls_everything_back(session, tmp_path, monkeypatch):
    import bot.catalogue.io as io

    original = io.save_mandate
    calls = []

    def failing(session_, spec, changed_by, expected_version=None):
        calls.append(spec.id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(session_, spec, changed_by, expected_version)

    monkeypatch.setattr(io, "save_mandate", failing)
    with pytest.raises(RuntimeError):
        import_file(session, write(tmp_path, GOOD))
    assert session.execute(select(func.count(Unit.id))).scalar() == 0
    assert session.execute(select(func.count(Mandate.id))).scalar() == 0


def test_entries_may_refer_to_units_already_stored(session, tmp_path):
    import_file(session, write(tmp_path, GOOD))
    extra = """\
    version: 1
    mandates:
      - id: tt-vagtbytte
        unit: test-team
        topic: Vagtbytte
        decision: team
        summary: I bytter selv vagter i teamet.
    """
    assert import_file(session, write(tmp_path, extra, "extra.yaml")).mandates["created"] == 1


def test_replace_makes_the_units_entries_equal_to_the_file(session, tmp_path):
    import_file(session, write(tmp_path, GOOD))
    only_vikar = GOOD.split("  - id: tk-kursus")[0]
    report = import_file(session, write(tmp_path, only_vikar), replace=True)
    assert report.deleted_ids == ["tk-kursus"]
    assert session.get(Mandate, "tk-kursus") is None
    deleted = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "tk-kursus")
                              .order_by(MandateHistory.id.desc())).scalars().first()
    assert deleted.action == "delete" and deleted.changes["topic"] == ["Kursus", None]


def test_replace_leaves_other_units_alone(acceptance_db, session, tmp_path):
    import_file(session, write(tmp_path, GOOD), replace=True)
    assert session.get(Mandate, "lk-forplejning") is not None


def test_dry_run_reports_but_stores_nothing(session, tmp_path):
    report = import_file(session, write(tmp_path, GOOD), dry_run=True)
    assert report.mandates["created"] == 2
    assert session.execute(select(func.count(Mandate.id))).scalar() == 0


def test_export_import_round_trip(acceptance_db, session, tmp_path, migrated_template):
    import shutil

    from bot.db.session import new_session

    exported = dump_yaml(export_catalogue(session))
    path = write(tmp_path, exported, "export.yaml")
    other = tmp_path / "other.db"
    shutil.copy(migrated_template, other)
    s2 = new_session(f"sqlite:///{other}")
    try:
        import_file(s2, path)
        assert dump_yaml(export_catalogue(s2)) == exported
    finally:
        s2.close()
    assert "bs-aabningstid-2025" in exported
    assert ("valid_to: '2025-06-30'" in exported) or ("valid_to: 2025-06-30" in exported)


def test_cli_import_reports_errors_and_exits_1(db_url, tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("decision: leader", "decision: boss"))
    assert mandat(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "intet er ændret" in err and "mandates[tk-kursus].decision" in err and "katalog.yaml:" in err


def test_cli_import_list_show_export(db_url, tmp_path, capsys):
    assert mandat(["import", str(write(tmp_path, GOOD))]) == 0
    assert "2 nye" in capsys.readouterr().out
    assert mandat(["list", "--unit", "test-team"]) == 0
    out = capsys.readouterr().out
    assert "tt-vikar" in out and "tk-kursus" in out
    assert mandat(["show", "tt-vikar"]) == 0
    out = capsys.readouterr().out
    assert "Du må selv ringe efter en vikar." in out and "import:katalog.yaml: create" in out
    target = tmp_path / "ud.yaml"
    assert mandat(["export", str(target), "--unit", "test-team"]) == 0
    assert "tt-vikar" in target.read_text() and "tk-kursus" not in target.read_text()
    assert mandat(["list", "--unit", "nope"]) == 1


# -- format version 2 -------------------------------------------------------------------------
V2 = textwrap.dedent(
    """\
    version: 2
    units:
      - id: test-kommune
        name: Testkommune
    mandates:
      - id: tk-gaver
        unit: test-kommune
        topic: Gaver fra borgere
        decision: employee
        summary: Du må selv tage imod en lille gave.
        exceptions:
          - case: gavekort
            decision: nobody
          - case: kørsel
            decision: other
            decided_by: Visitationen
        limit: {value: 200, unit: kr}
      - id: tk-moede
        unit: test-kommune
        topic: Ekstra møde
        decision: team
        summary: I må selv holde et ekstra møde.
        limit:
          value: 1.5
          unit: timer
        route: concern
    """
)


def test_v2_imports_exceptions_limit_and_route(session, tmp_path):
    from bot.domain import Limit

    import_file(session, write(tmp_path, V2))
    gifts, meeting = session.get(Mandate, "tk-gaver"), session.get(Mandate, "tk-moede")
    assert gifts.exceptions == [{"case": "gavekort", "decision": "nobody", "decided_by": None},
                                {"case": "kørsel", "decision": "other", "decided_by": "Visitationen"}]
    assert gifts.limit == Limit(200, "kr") and gifts.limit_dkk == 200 and gifts.route is None
    assert meeting.limit == Limit(1.5, "timer") and meeting.limit_dkk is None and meeting.route == "concern"
    assert meeting.exceptions == []
    created = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "tk-gaver")).scalar_one()
    assert created.changes["limit"] == [None, {"value": 200, "unit": "kr"}]
    assert created.changes["exceptions"][1][0] == {"case": "gavekort", "decision": "nobody", "decided_by": None}
    edited = V2.replace("decision: nobody", "decision: leader").replace("route: concern", "route: mistake")
    import_file(session, write(tmp_path, edited))
    changes = {h.mandate_id: h.changes for h in session.execute(
        select(MandateHistory).where(MandateHistory.action == "update")).scalars()}
    assert set(changes["tk-gaver"]) == {"exceptions"} and changes["tk-moede"] == {"route": ["concern", "mistake"]}


def test_v1_and_a_file_without_version_import_as_before(session, tmp_path):
    from bot.domain import Limit

    v1 = GOOD.replace("valid_from: 2026-01-01", "limit_dkk: 800")
    import_file(session, write(tmp_path, v1))
    assert session.get(Mandate, "tt-vikar").limit == Limit(800, "kr")
    assert session.get(Mandate, "tt-vikar").limit_dkk == 800
    assert session.get(Mandate, "tk-kursus").limit is None
    no_version = GOOD.replace("version: 1\n", "").replace("topic: Kursus", "topic: Kurser")
    assert import_file(session, write(tmp_path, no_version)).mandates["updated"] == 2  # valid_from dropped too


def test_limit_dkk_is_accepted_in_v2(session, tmp_path):
    text = V2.replace("limit: {value: 200, unit: kr}", "limit_dkk: 300")
    import_file(session, write(tmp_path, text))
    assert session.get(Mandate, "tk-gaver").limit_dkk == 300


V2_BAD_CASES = {
    "unknown limit unit": (V2.replace("unit: timer", "unit: kroner"), "mandates[tk-moede]", "limit.unit",
                           "'kroner' er ikke en gyldig enhed; brug en af kr, minutter, timer, dage, personer, gange"),
    "limit without unit": (V2.replace("limit: {value: 200, unit: kr}", "limit: {value: 200}"), "mandates[tk-gaver]",
                           "limit.unit", "mangler"),
    "negative limit value": (V2.replace("value: 1.5", "value: -1"), "mandates[tk-moede]", "limit.value", ">= 0"),
    "limit not a mapping": (V2.replace("limit: {value: 200, unit: kr}", "limit: 200 kr"), "mandates[tk-gaver]",
                            "limit", "value og unit"),
    "limit and limit_dkk": (V2.replace("limit: {value: 200, unit: kr}", "limit: {value: 200, unit: kr}\n    limit_dkk: 200"),
                            "mandates[tk-gaver]", "limit_dkk", "ikke begge"),
    "exception without case": (V2.replace("  - case: gavekort\n", "  - decided_by: x\n"), "mandates[tk-gaver]",
                               "exceptions[1].case", "mangler"),
    "exception decision": (V2.replace("decision: nobody", "decision: aldrig"), "mandates[tk-gaver]",
                           "exceptions[1].decision", "'aldrig' er ikke gyldig; brug en af employee, team, leader, other, nobody"),
    "exception other without decided_by": (V2.replace("        decided_by: Visitationen\n", ""), "mandates[tk-gaver]",
                                           "exceptions[2].decided_by", "other"),
    "exception unknown field": (V2.replace("decision: nobody", "decision: nobody\n        hvem: x"), "mandates[tk-gaver]",
                                "exceptions[1].hvem", "ukendt"),
    "exceptions not a list": (V2.replace("route: concern", "exceptions: gavekort"), "mandates[tk-moede]",
                              "exceptions", "liste"),
    "duplicate exception": (V2.replace("case: kørsel", "case: Gavekort"), "mandates[tk-gaver]", "exceptions[2].case",
                            "allerede"),
    "bad route": (V2.replace("route: concern", "route: worry"), "mandates[tk-moede]", "route", "mistake, concern"),
    "v2 field in a v1 file": (V2.replace("version: 2", "version: 1"), "mandates[tk-moede]", "route", "version: 2"),
    "unknown version": (V2.replace("version: 2", "version: 3"), "fil", "version", "1 eller 2"),
}


@pytest.mark.parametrize("case", sorted(V2_BAD_CASES))
def test_v2_bad_input_names_file_line_entry_and_field(case, session, tmp_path):
    text, item, field, words = V2_BAD_CASES[case]
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, text))
    errors = info.value.errors
    assert any(e.item == item and e.field == field and words in e.message for e in errors), errors
    assert all(e.file == "katalog.yaml" and e.line > 0 for e in errors)
    assert session.execute(select(func.count(Mandate.id))).scalar() == 0


def test_v2_error_points_at_the_line_of_the_nested_field(session, tmp_path):
    text = V2.replace("unit: timer", "unit: kroner")
    with pytest.raises(CatalogueValidationError) as info:
        import_file(session, write(tmp_path, text))
    (error,) = info.value.errors
    assert error.line == text.splitlines().index("      unit: kroner") + 1
    assert str(error).startswith(f"katalog.yaml:{error.line}: mandates[tk-moede].limit.unit: 'kroner'")


def test_a_v1_file_round_trips_to_an_equivalent_v2_file(session, tmp_path, migrated_template):
    import shutil

    import yaml

    from bot.db.session import new_session

    v1 = GOOD.replace("valid_from: 2026-01-01", "limit_dkk: 800")
    import_file(session, write(tmp_path, v1))
    exported = dump_yaml(export_catalogue(session))
    doc = yaml.safe_load(exported)
    assert doc["version"] == 2
    vikar = next(m for m in doc["mandates"] if m["id"] == "tt-vikar")
    assert vikar["limit"] == {"value": 800, "unit": "kr"} and "limit_dkk" not in vikar
    assert not any(key in m for m in doc["mandates"] for key in ("exceptions", "route"))  # empty: left out
    assert "limit" not in next(m for m in doc["mandates"] if m["id"] == "tk-kursus")
    other = tmp_path / "other.db"
    shutil.copy(migrated_template, other)
    s2 = new_session(f"sqlite:///{other}")
    try:
        import_file(s2, write(tmp_path, exported, "v2.yaml"))
        assert dump_yaml(export_catalogue(s2)) == exported
        assert s2.get(Mandate, "tt-vikar").limit_dkk == 800
    finally:
        s2.close()


def test_v2_export_round_trip_keeps_every_new_field(session, tmp_path, migrated_template):
    import shutil

    import yaml

    from bot.db.session import new_session

    import_file(session, write(tmp_path, V2))
    exported = dump_yaml(export_catalogue(session))
    gifts = next(m for m in yaml.safe_load(exported)["mandates"] if m["id"] == "tk-gaver")
    assert gifts["exceptions"] == [{"case": "gavekort", "decision": "nobody"},
                                   {"case": "kørsel", "decision": "other", "decided_by": "Visitationen"}]
    other = tmp_path / "other.db"
    shutil.copy(migrated_template, other)
    s2 = new_session(f"sqlite:///{other}")
    try:
        import_file(s2, write(tmp_path, exported, "v2.yaml"))
        assert dump_yaml(export_catalogue(s2)) == exported
    finally:
        s2.close()


def test_exception_text_syntax():
    from bot.catalogue.schema import format_exception, parse_exception, parse_exceptions

    assert parse_exception("gavekort = nobody") == {"case": "gavekort", "decision": "nobody", "decided_by": None}
    assert parse_exception("  kørsel  =  Andre (Visitationen) ") == {
        "case": "kørsel", "decision": "other", "decided_by": "Visitationen"}
    assert parse_exception("a = b = lederen")["case"] == "a = b"
    item = {"case": "ny computer", "decision": "other", "decided_by": "IT"}
    assert parse_exception(format_exception(item)) == item
    for bad in ("gavekort", "gavekort = chefen", "= leader", "x = leader (IT", "x = leader extra"):
        with pytest.raises(ValueError):
            parse_exception(bad)
    with pytest.raises(ValueError, match="^linje 3: "):
        parse_exceptions("a = leader\n\nb leader")


def test_migration_0003_moves_limit_dkk_into_limit_and_back(tmp_path):
    import sqlite3

    from alembic import command

    from bot.db.migrate import alembic_config, upgrade
    from bot.db.session import new_session
    from bot.domain import Limit

    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0002")
    con = sqlite3.connect(path)
    con.execute("INSERT INTO units (id, name, aliases) VALUES ('k', 'K', '[]')")
    con.executemany(
        "INSERT INTO mandates (id, unit_id, topic, decision, summary, conditions, limit_dkk, examples, keywords,"
        " version, updated_at) VALUES (?, 'k', 'T', 'employee', 'S', '[]', ?, '[]', '[]', 1, '2026-01-01 00:00:00')",
        [("med-graense", 2500), ("uden-graense", None)])
    con.commit()
    con.close()
    upgrade(url)
    session = new_session(url)
    try:
        with_limit, without = session.get(Mandate, "med-graense"), session.get(Mandate, "uden-graense")
        assert with_limit.limit == Limit(2500, "kr") and with_limit.limit_dkk == 2500
        assert with_limit.exceptions == [] and with_limit.route is None
        assert without.limit is None and without.limit_dkk is None
        with_limit.limit_value = 90.0
        with_limit.limit_unit = "minutter"
        session.commit()
    finally:
        session.close()
    con = sqlite3.connect(path)
    columns = {row[1] for row in con.execute("PRAGMA table_info(mandates)")}
    assert "limit_dkk" not in columns and {"exceptions", "limit_value", "limit_unit", "route"} <= columns
    with pytest.raises(sqlite3.IntegrityError):  # the CHECK constraints hold
        con.execute("UPDATE mandates SET limit_unit = 'kroner' WHERE id = 'med-graense'")
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE mandates SET limit_unit = NULL WHERE id = 'med-graense'")
    con.execute("UPDATE mandates SET limit_value = 300, limit_unit = 'kr' WHERE id = 'uden-graense'")
    con.commit()
    con.close()
    command.downgrade(alembic_config(url), "0002")
    con = sqlite3.connect(path)
    try:
        rows = dict(con.execute("SELECT id, limit_dkk FROM mandates"))
    finally:
        con.close()
    assert rows == {"med-graense": None, "uden-graense": 300}  # minutes have no place in limit_dkk
