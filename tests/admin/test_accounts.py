"""Accounts on the command line (``mandat users ...``) and the 0002 migration."""
from __future__ import annotations

import re

from sqlalchemy import inspect, select

from bot.cli import main


def _users(url):
    from bot.db.models import User
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return {u.username: u for u in session.execute(select(User)).scalars()}
    finally:
        session.close()


def test_users_demo_is_idempotent_and_prints_passwords(demo_db, capsys):
    assert main(["users", "demo"]) == 0
    first = capsys.readouterr().out
    passwords = dict(re.findall(r"^\s+(\w+)\s+\(\w+\): adgangskode: (\S+)$", first, re.M))
    assert set(passwords) == {"leder", "hr", "admin"}
    users = _users(demo_db)
    assert users["leder"].role == "leader"
    assert users["leder"].units == ["hjemmeplejen-nord", "hjemmeplejen-syd"]
    assert users["hr"].role == "hr" and users["admin"].role == "admin"
    assert all(users[name].check_password(pw) for name, pw in passwords.items())
    assert users["leder"].password_hash.startswith("$argon2")
    assert main(["users", "demo"]) == 0
    second = capsys.readouterr().out
    assert "adgangskode:" not in second and second.count("findes allerede") == 3
    assert _users(demo_db)["leder"].password_hash == users["leder"].password_hash


def test_users_demo_needs_the_demo_units(db_url, capsys):
    assert main(["users", "demo"]) == 1
    assert "mandat demo" in capsys.readouterr().err
    assert _users(db_url) == {}


def test_users_add_set_password_list(demo_db, capsys):
    assert main(["users", "add", "lis", "--role", "leader", "--unit", "dagplejen", "--name", "Lis Larsen"]) == 0
    out = capsys.readouterr().out
    password = out.strip().rsplit(" ", 1)[-1]
    assert _users(demo_db)["lis"].check_password(password)
    assert main(["users", "add", "lis", "--role", "hr"]) == 1
    assert "findes allerede" in capsys.readouterr().err
    assert main(["users", "add", "x", "--role", "leader", "--unit", "findes-ikke"]) == 1
    assert main(["users", "add", "y", "--role", "leader"]) == 1
    assert main(["users", "add", "hanne", "--role", "hr", "--can-edit", "--password", "hemmelig-kode-1"]) == 0
    capsys.readouterr()
    assert _users(demo_db)["hanne"].can_edit and _users(demo_db)["hanne"].check_password("hemmelig-kode-1")
    assert main(["users", "set-password", "lis", "--password", "kort"]) == 1
    assert main(["users", "set-password", "lis", "--password", "et-nyt-kodeord"]) == 0
    assert _users(demo_db)["lis"].check_password("et-nyt-kodeord")
    assert main(["users", "set-password", "ukendt"]) == 1
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "lis" in listing and "dagplejen" in listing and "må redigere" in listing


def test_existing_commands_still_work(demo_db, capsys):
    assert main(["list", "--unit", "hjemmeplejen-nord"]) == 0
    assert "Poster i kraft for hjemmeplejen-nord" in capsys.readouterr().out


def test_migration_0002_up_and_down(tmp_path):
    from alembic import command

    from bot.db.migrate import alembic_config, upgrade
    from bot.db.session import get_engine

    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    engine = get_engine(url)
    inspector = inspect(engine)
    assert "users" in inspector.get_table_names()
    assert "resolved_mandate_id" in {c["name"] for c in inspector.get_columns("questions")}
    command.downgrade(alembic_config(url), "0001")
    inspector = inspect(engine)
    assert "users" not in inspector.get_table_names()
    assert "resolved_mandate_id" not in {c["name"] for c in inspector.get_columns("questions")}
    upgrade(url)
    assert "users" in inspect(engine).get_table_names()


def test_models_match_the_migrations(db_url):
    """Tables, columns and indexes of the models are exactly what the migrations create."""
    from bot.db.models import Base
    from bot.db.session import get_engine

    inspector = inspect(get_engine(db_url))
    for name, table in Base.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.c.keys()), name
        assert {i["name"] for i in inspector.get_indexes(name)} == {i.name for i in table.indexes}, name
