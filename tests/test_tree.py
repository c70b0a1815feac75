"""Inheritance, topic_key overrides and validity dates (DESIGN.md, "The catalogue")."""
import datetime as dt

from bot.catalogue.tree import descendants, entries_in_force
from bot.catalogue.units import match_unit
from tests.conftest import TODAY


def ids(session, unit, day=TODAY):
    return {e.id for e in entries_in_force(session, unit, day)}


def test_entries_are_inherited_from_every_unit_above(acceptance_db, session):
    assert ids(session, "jobcenter-lindhoej") == {
        "jc-praktik", "jc-mentor", "sob-koersel-borger", "sob-sikker-mail",
        "lk-forplejning", "lk-systemadgang", "lk-ferieoverfoersel",
    }


def test_override_wins_for_the_unit_and_does_not_leak_to_siblings_or_parent(acceptance_db, session):
    lyngbo = ids(session, "bostedet-lyngbo")
    assert "lyngbo-koersel" in lyngbo and "sob-koersel-borger" not in lyngbo
    assert "sob-koersel-borger" in ids(session, "jobcenter-lindhoej")
    assert "sob-koersel-borger" in ids(session, "social-og-beskaeftigelse")
    assert "lyngbo-koersel" not in ids(session, "social-og-beskaeftigelse")


def test_expired_entries_are_never_used(acceptance_db, session):
    assert "bs-aabningstid-2025" not in ids(session, "borgerservice")
    assert "bs-aabningstid-2025" in ids(session, "borgerservice", dt.date(2025, 3, 1))
    assert "bs-aabningstid-2025" not in ids(session, "borgerservice", dt.date(2025, 7, 1))


def test_an_expired_override_hides_nothing(demo_db, session):
    # hpn-vikar-pilot-2025 overrode soo-vikar for Hjemmeplejen Nord until 2025-12-31.
    assert "hpn-vikar-pilot-2025" in ids(session, "hjemmeplejen-nord", dt.date(2025, 6, 1))
    assert "soo-vikar" not in ids(session, "hjemmeplejen-nord", dt.date(2025, 6, 1))
    assert "soo-vikar" in ids(session, "hjemmeplejen-nord")
    assert "hpn-vikar-pilot-2025" not in ids(session, "hjemmeplejen-nord")


def test_descendants():
    parents = {"k": None, "a": "k", "b": "k", "a1": "a"}
    assert descendants("a", parents) == {"a", "a1"}
    assert descendants("k", parents) == set(parents)


def test_units_are_found_by_name_alias_id_and_with_typos(acceptance_db, session):
    from sqlalchemy import select

    from bot.db.models import Unit

    units = session.execute(select(Unit)).scalars().all()
    assert match_unit("Jeg er i Jobcentret", units) == "jobcenter-lindhoej"
    assert match_unit("bostedet lyngbo", units) == "bostedet-lyngbo"
    assert match_unit("SOB", units) == "social-og-beskaeftigelse"
    assert match_unit("borgerservise", units) == "borgerservice"
    assert match_unit("jobcenter-lindhoej", units) == "jobcenter-lindhoej"
    assert match_unit("jeg arbejder på Lindhoej Kommune", units) == "lindhoej-kommune"
    assert match_unit("det ved jeg ikke", units) is None
    assert match_unit("", units) is None


def test_drafts_and_pending_entries_are_not_inherited_and_hide_nothing(acceptance_db, session):
    from bot.db.models import Mandate

    # A draft on the area: not inherited by the units below. A pending override on a team: the area's
    # entry still applies there.
    session.get(Mandate, "sob-sikker-mail").status = "draft"
    session.get(Mandate, "lyngbo-koersel").status = "pending"
    session.commit()
    assert "sob-sikker-mail" not in ids(session, "jobcenter-lindhoej")
    assert "sob-sikker-mail" not in ids(session, "social-og-beskaeftigelse")
    lyngbo = ids(session, "bostedet-lyngbo")
    assert "lyngbo-koersel" not in lyngbo and "sob-koersel-borger" in lyngbo
    session.get(Mandate, "sob-sikker-mail").status = "published"
    session.commit()
    assert "sob-sikker-mail" in ids(session, "jobcenter-lindhoej")
