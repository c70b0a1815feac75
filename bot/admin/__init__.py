"""The admin web app: leaders keep their mandate entries, HR reviews questions.

A Flask app with server-rendered Danish pages (``templates/``), sharing
``bot.db`` with the action server. Start it with ``python -m bot.admin``
(port 8000). Settings (environment variables, all optional):

    MANDAT_ADMIN_SECRET_KEY       signs the session cookie (default: a random
                                  key kept in ``<MANDAT_VAR_DIR>/admin-secret.key``)
    MANDAT_ADMIN_SESSION_IDLE_MIN idle minutes before a login ends on the server
                                  (60; the older MANDAT_ADMIN_SESSION_MINUTES is read too)
    MANDAT_ADMIN_SESSION_MAX_H    hours after which a login ends however active (12)
    MANDAT_TRUSTED_PROXIES        reverse proxies trusted for X-Forwarded-For (0)
    MANDAT_ADMIN_SECURE_COOKIES   1 = cookies only over HTTPS (default 0)
    MANDAT_PURGE_DAILY            1 = the server process runs the retention
                                  purge once a day (default 1; bot/retention.py)

``create_app`` puts :func:`bot.privacy.install_log_redaction` on the
process's logging, and, when called without a config (the server process,
``python -m bot.admin``), starts the daily purge (:class:`bot.retention.DailyPurge`).

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
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.config import PROJECT_ROOT, get_settings, require_production_secrets
from bot.privacy import install_log_redaction

csrf = CSRFProtect()
_purge_thread: list = []


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
            to ``MANDAT_DATABASE_URL``; ``SESSION_MINUTES`` (idle) and
            ``SESSION_MAX_HOURS`` (absolute) to ``MANDAT_ADMIN_SESSION_IDLE_MIN``
            and ``MANDAT_ADMIN_SESSION_MAX_H``; ``MANDAT_CLOCK`` (Unix seconds,
            for sessions and login throttling) to ``time.time``; ``PURGE_DAILY`` (start the
            daily retention purge) to ``MANDAT_PURGE_DAILY`` when ``config``
            is None (the server process), else to False (tests); ``MAIL_SENDER`` (start the mail
            sender, :class:`bot.mailing.MailSender`) to whether ``MANDAT_SMTP_URL`` is set when
            ``config`` is None, else to False.
    """
    install_log_redaction()
    from bot.admin import audit, auth, common, dashboard, demo, entries, questions, report, transfer, users
    from bot.admin import inbox
    from bot.admin import stories
    from bot.admin import drafts, mapping

    settings = get_settings()
    app = Flask(__name__)
    app.request_class = AdminRequest
    app.config.update(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=None,
        SESSION_MINUTES=settings.admin_session_idle_min,
        SESSION_MAX_HOURS=settings.admin_session_max_h,
        SESSION_COOKIE_NAME="mandat_admin",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("MANDAT_ADMIN_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_DURATION=dt.timedelta(seconds=0),
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        JSON_AS_ASCII=False,
        PURGE_DAILY=settings.purge_daily if config is None else False,
        MAIL_SENDER=bool(settings.smtp_url) if config is None else False,
    )
    app.config.update(config or {})
    # Outside dev mode: no development secrets (a SECRET_KEY passed in config counts as set).
    require_production_secrets(dataclasses.replace(
        settings, admin_secret_key=app.config["SECRET_KEY"] or settings.admin_secret_key))
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key()
    app.permanent_session_lifetime = dt.timedelta(minutes=int(app.config["SESSION_MINUTES"]))
    app.config["MANDAT_SETTINGS"] = dataclasses.replace(settings, database_url=app.config["DATABASE_URL"])

    csrf.init_app(app)
    auth.init_app(app)
    common.init_app(app)
    for module in (auth, entries, transfer, questions, dashboard, report, users, demo, audit):
        app.register_blueprint(module.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(stories.bp)
    app.register_blueprint(drafts.bp)
    app.register_blueprint(mapping.bp)

    if app.config["PURGE_DAILY"]:
        start_daily_purge(app.config["MANDAT_SETTINGS"])
    if app.config["MAIL_SENDER"]:
        start_mail_sender(app.config["MANDAT_SETTINGS"])

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


def start_daily_purge(settings) -> "object":
    """Start the daily retention purge of this process once (later calls return the running one)."""
    from bot.retention import DailyPurge

    if not _purge_thread or not _purge_thread[0].is_alive():
        thread = DailyPurge(settings)
        thread.start()
        _purge_thread[:] = [thread]
    return _purge_thread[0]


_mail_thread: list = []


def start_mail_sender(settings) -> "object":
    """Start this process's mail sender once (:class:`bot.mailing.MailSender`: new questions to their
    leaders every few minutes, the weekly digest); later calls return the running one."""
    from bot.mailing import MailSender

    if not _mail_thread or not _mail_thread[0].is_alive():
        thread = MailSender(settings)
        thread.start()
        _mail_thread[:] = [thread]
    return _mail_thread[0]
