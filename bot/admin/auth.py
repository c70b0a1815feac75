"""Login, logout, session expiry, own password, and the role checks of every route.

Sessions are Flask's signed cookies, made permanent with a lifetime of
``SESSION_MINUTES`` (idle time: each request renews it); the server also
checks the time of the last request, so an expired login is refused even if
the browser kept the cookie. The login id contains a fingerprint of the
password hash: changing a password ends the user's other sessions.
"""
from __future__ import annotations

import functools
import hashlib
import threading
import time
from typing import Callable

from flask import (
    Blueprint, Flask, flash, redirect, render_template, request, session, url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy import func, select

from bot.admin.access import Access
from bot.admin.common import db, forbidden, safe_next, unit_tree
from bot.db.models import User, utcnow

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

MAX_FAILURES = 5
LOCK_SECONDS = 300
_failures: dict[str, tuple[int, float]] = {}
_failures_lock = threading.Lock()
# A valid argon2 hash of a random password: unknown users cost as much as known ones.
_DUMMY = User(password_hash="")


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class CurrentUser(UserMixin):
    """The logged-in user of a request: the database row and its :class:`Access`."""

    def __init__(self, row: User):
        self.row = row
        self._access: Access | None = None

    def get_id(self) -> str:
        """Flask-Login's id: user id and password fingerprint."""
        return f"{self.row.id}:{_fingerprint(self.row.password_hash)}"

    @property
    def is_active(self) -> bool:
        """Deactivated users cannot log in."""
        return bool(self.row.active)

    @property
    def username(self) -> str:
        """Login name (used as "who" in the history)."""
        return self.row.username

    @property
    def name(self) -> str:
        """Display name."""
        return self.row.display_name or self.row.username

    @property
    def role(self) -> str:
        """``leader``, ``hr`` or ``admin``."""
        return self.row.role

    @property
    def access(self) -> Access:
        """The user's permissions (computed once per request)."""
        if self._access is None:
            self._access = Access.for_user(self.row, unit_tree().parents)
        return self._access


def current() -> CurrentUser:
    """The logged-in user (routes are protected by :func:`login_required`)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Set up Flask-Login and the session-expiry check."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log ind for at se siden."
    login_manager.session_protection = "basic"

    @app.before_request
    def _expire_idle_sessions():
        if "_user_id" not in session:
            return None
        now = time.time()
        limit = 60 * int(app.config["SESSION_MINUTES"])
        seen = session.get("seen")
        if seen is None or now - float(seen) > limit:
            logout_user()
            session.clear()
            flash("Du er blevet logget ud, fordi du ikke har været aktiv i et stykke tid. Log ind igen.",
                  "info")
            if request.endpoint not in ("auth.login", "static"):
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return None
        session["seen"] = now
        return None

    @app.context_processor
    def _user_context():
        user = current_user if current_user.is_authenticated else None
        return {"me": user, "access": user.access if user else None}


@login_manager.user_loader
def _load_user(user_id: str):
    try:
        raw_id, fingerprint = user_id.split(":", 1)
        row = db().get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if row is None or not row.active or _fingerprint(row.password_hash) != fingerprint:
        return None
    return CurrentUser(row)


def login_required(*roles: str) -> Callable:
    """Decorator: the user must be logged in (and have one of ``roles``, if given)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _locked(username: str) -> bool:
    with _failures_lock:
        count, until = _failures.get(username, (0, 0.0))
        return count >= MAX_FAILURES and time.time() < until


def _record_failure(username: str) -> None:
    with _failures_lock:
        count, _ = _failures.get(username, (0, 0.0))
        _failures[username] = (count + 1, time.time() + LOCK_SECONDS)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login page."""
    if current_user.is_authenticated:
        return redirect(url_for("entries.index"))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        key = username.lower()
        if _locked(key):
            error = "For mange forkerte forsøg. Vent fem minutter, og prøv igen."
        else:
            row = db().execute(
                select(User).where(func.lower(User.username) == key)
            ).scalar_one_or_none() if username else None
            ok = row.check_password(password) if row is not None else _dummy_check(password)
            if ok and row is not None and row.active:
                with _failures_lock:
                    _failures.pop(key, None)
                row.last_login_at = utcnow()
                db().commit()
                session.clear()
                session.permanent = True
                login_user(CurrentUser(row))
                session["seen"] = time.time()
                return redirect(safe_next(request.args.get("next"), "entries.index"))
            _record_failure(key)
            error = "Forkert brugernavn eller adgangskode."
    return render_template("login.html", error=error, username=username), (401 if error else 200)


def _dummy_check(password: str) -> bool:
    if not _DUMMY.password_hash:
        _DUMMY.set_password(User.generate_password())
    _DUMMY.check_password(password)
    return False


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST with CSRF token, so no other site can log a user out)."""
    logout_user()
    session.clear()
    flash("Du er logget ud.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/konto", methods=["GET", "POST"])
@login_required()
def account():
    """The user's own account: change password."""
    errors: list[str] = []
    if request.method == "POST":
        me = current()
        old = request.form.get("current") or ""
        new = request.form.get("new") or ""
        repeat = request.form.get("repeat") or ""
        if not me.row.check_password(old):
            errors.append("Den nuværende adgangskode er forkert.")
        if len(new) < 10:
            errors.append("Den nye adgangskode skal være mindst 10 tegn.")
        if new != repeat:
            errors.append("De to nye adgangskoder er ikke ens.")
        if not errors:
            me.row.set_password(new)
            db().commit()
            login_user(me)  # new fingerprint: other sessions of this user end
            session["seen"] = time.time()
            flash("Din adgangskode er ændret.", "success")
            return redirect(url_for("auth.account"))
    return render_template("account.html", errors=errors), (400 if errors else 200)


def require_edit(unit_id: str | None) -> None:
    """Abort with 403 unless the current user may edit entries of ``unit_id``."""
    if not current().access.can_edit_unit(unit_id):
        forbidden("Du kan kun ændre poster for dine egne enheder og enhederne under dem.")


def require_read(unit_id: str | None) -> None:
    """Abort with 403 unless the current user may read entries of ``unit_id``."""
    if not current().access.can_read_unit(unit_id):
        forbidden("Posten hører til en enhed, du ikke har adgang til.")

