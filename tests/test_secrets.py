"""Outside dev mode, the admin app, the widget channel and the service refuse development secrets."""
from __future__ import annotations

import pytest

from bot.config import DEV_JWT_SECRET, DEV_PSEUDONYM_KEY, SECRET_NAMES, get_settings, require_production_secrets

GOOD = {
    "MANDAT_PSEUDONYM_KEY": "pseudonym-key-0123456789abcdef0123456789",
    "MANDAT_JWT_SECRET": "jwt-secret-0123456789abcdef0123456789abcd",
    "MANDAT_ADMIN_SECRET_KEY": "admin-secret-0123456789abcdef0123456789",
}


@pytest.fixture()
def production(monkeypatch, db_url):
    """Production settings: not dev mode, every secret set (tests remove one)."""
    monkeypatch.setenv("MANDAT_DEV_MODE", "0")
    monkeypatch.delenv("MANDAT_WIDGET_DEV_MODE", raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def _refused(call) -> str:
    with pytest.raises(ValueError) as info:
        call()
    return str(info.value)


def test_the_test_suite_runs_in_dev_mode():
    assert get_settings().dev_mode


def test_dev_mode_allows_the_development_defaults(monkeypatch):
    monkeypatch.setenv("MANDAT_DEV_MODE", "1")
    for name in GOOD:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANDAT_WIDGET_DEV_MODE", "1")
    settings = get_settings()
    assert settings.pseudonym_key == DEV_PSEUDONYM_KEY and settings.jwt_secret == DEV_JWT_SECRET
    require_production_secrets(settings)  # no error


def test_every_secret_set_passes(production):
    require_production_secrets(get_settings())


def test_all_development_secrets_are_named_at_once(production):
    for name in GOOD:
        production.delenv(name)
    production.setenv("MANDAT_WIDGET_DEV_MODE", "1")  # the widget's dev secret
    message = _refused(lambda: require_production_secrets(get_settings()))
    for name in SECRET_NAMES:
        assert name in message
    assert "MANDAT_DEV_MODE=1" in message and "3 har deres udviklerværdi" in message


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_each_secret_is_named_alone(production, name):
    if name == "MANDAT_JWT_SECRET":
        production.delenv(name)
        production.setenv("MANDAT_WIDGET_DEV_MODE", "1")  # falls back to the public dev secret
    else:
        production.delenv(name)
    message = _refused(lambda: require_production_secrets(get_settings()))
    assert [n for n in SECRET_NAMES if n in message] == [name]


def test_the_development_values_set_explicitly_are_refused_too(production):
    production.setenv("MANDAT_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY)
    production.setenv("MANDAT_JWT_SECRET", DEV_JWT_SECRET)
    message = _refused(lambda: require_production_secrets(get_settings()))
    assert "MANDAT_PSEUDONYM_KEY" in message and "MANDAT_JWT_SECRET" in message
    assert "MANDAT_ADMIN_SECRET_KEY" not in message


def test_rs256_only_needs_no_jwt_secret(production):
    production.delenv("MANDAT_JWT_SECRET")
    require_production_secrets(get_settings())


def test_the_admin_app_refuses_to_start(production, db_url):
    from bot.admin import create_app

    production.delenv("MANDAT_ADMIN_SECRET_KEY")
    production.setenv("MANDAT_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY)
    message = _refused(lambda: create_app({"DATABASE_URL": db_url}))
    assert "MANDAT_ADMIN_SECRET_KEY" in message and "MANDAT_PSEUDONYM_KEY" in message
    production.setenv("MANDAT_PSEUDONYM_KEY", GOOD["MANDAT_PSEUDONYM_KEY"])
    production.setenv("MANDAT_ADMIN_SECRET_KEY", GOOD["MANDAT_ADMIN_SECRET_KEY"])
    app = create_app({"DATABASE_URL": db_url})
    assert app.config["SECRET_KEY"] == GOOD["MANDAT_ADMIN_SECRET_KEY"]


def test_the_service_refuses_the_development_pseudonym_key(production):
    from bot.service import MandateService

    production.delenv("MANDAT_PSEUDONYM_KEY")
    production.delenv("MANDAT_ADMIN_SECRET_KEY")  # the service does not use it
    message = _refused(MandateService)
    assert "MANDAT_PSEUDONYM_KEY" in message and "MANDAT_ADMIN_SECRET_KEY" not in message


def test_the_widget_channel_refuses_to_start(production):
    from bot.channels.widget import WidgetInput

    async def on_message(_message):
        return None

    production.delenv("MANDAT_JWT_SECRET")
    production.setenv("MANDAT_WIDGET_DEV_MODE", "1")
    message = _refused(lambda: WidgetInput().blueprint(on_message))
    assert "MANDAT_JWT_SECRET" in message and "MANDAT_PSEUDONYM_KEY" not in message
    production.setenv("MANDAT_JWT_SECRET", GOOD["MANDAT_JWT_SECRET"])
    assert WidgetInput().blueprint(on_message) is not None
