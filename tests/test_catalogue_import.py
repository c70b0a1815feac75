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
