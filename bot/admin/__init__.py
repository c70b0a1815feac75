"""The admin web app: leaders keep their mandate entries, HR reviews questions.

A Flask app with server-rendered Danish pages (``templates/``), sharing
``bot.db`` with the action server. Start it with ``python -m bot.admin``
(port 8000). Settings (environment variables, all optional):

    MANDAT_ADMIN_SECRET_KEY       signs the session cookie (default: a random
                                  key kept in ``<MANDAT_VAR_DIR>/admin-secret.key``)
    MANDAT_ADMIN_SESSION_MINUTES  idle minutes before a login expires (60)
    MANDAT_ADMIN_SECURE_COOKIES   1 = cookies only over HTTPS (default 0)

Imports point one way: ``bot.admin`` uses ``bot``; nothing in ``bot`` imports
``bot.admin``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Request, g
from flask_wtf.csrf import CSRFError, CSRFProtect

from bot.config import PROJECT_ROOT, get_settings

csrf = CSRFProtect()


class AdminRequest(Request):
    """Requests may carry a confirmed import (the file, base64) in a form field."""

    max_form_memory_size = 12 * 1024 * 1024


def _secret_key() -> str:
    key = os.environ.get("MANDAT_ADMIN_SECRET_KEY")
    if key:
        return key
    var = Path(os.environ.get("MANDAT_VAR_DIR") or PROJECT_ROOT / "var")
    path = var / "admin-secret.key"
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        pass
    key = secrets.token_hex(32)
    try:
        var.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        pass  # read-only checkout: sessions end when the process ends
    return key


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the admin app.

    Args:
        config: Flask config overrides, e.g. ``{"DATABASE_URL": url,
            "WTF_CSRF_ENABLED": False}`` in tests. ``DATABASE_URL`` defaults
            to ``MANDAT_DATABASE_URL``; ``SESSION_MINUTES`` to
            ``MANDAT_ADMIN_SESSION_MINUTES`` (60).
    """
    from bot.admin import auth, common, dashboard, demo, entries, questions, transfer, users

    settings = get_settings()
    app = Flask(__name__)
    app.request_class = AdminRequest
    minutes = int(os.environ.get("MANDAT_ADMIN_SESSION_MINUTES") or 60)
    app.config.update(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=None,
        SESSION_MINUTES=minutes,
        SESSION_COOKIE_NAME="mandat_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("MANDAT_ADMIN_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_DURATION=dt.timedelta(seconds=0),
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_AS_ASCII=False,
    )
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key()
    app.permanent_session_lifetime = dt.timedelta(minutes=int(app.config["SESSION_MINUTES"]))
    app.config["MANDAT_SETTINGS"] = dataclasses.replace(settings, database_url=app.config["DATABASE_URL"])

    csrf.init_app(app)
    auth.init_app(app)
    common.init_app(app)
    for module in (auth, entries, transfer, questions, dashboard, users, demo):
        app.register_blueprint(module.bp)

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db", None)
        if session is not None:
            session.close()

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        return common.error_page(400, "Formularen er udløbet eller ugyldig",
                                "Sikkerhedsnøglen (CSRF) manglede eller passede ikke. Gå tilbage, "
                                "genindlæs siden og prøv igen.")

    return app
