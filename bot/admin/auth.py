"""Login, logout, server-side sessions, login throttling, own password, and the role checks of every route.

Sessions live on the server (table ``admin_sessions``). The session cookie (Flask's
signed cookie) carries only a random token; the table keeps its SHA-256. Flask-Login's
user loader accepts the token only while its record is live: not ended, the user
active, the user's password unchanged since the login, last request less than
``SESSION_MINUTES`` ago (``MANDAT_ADMIN_SESSION_IDLE_MIN``) and login less than
``SESSION_MAX_HOURS`` ago (``MANDAT_ADMIN_SESSION_MAX_H``). Logging out ends the
record, so a copy of the old cookie is worthless; changing one's password ends every
session of the user and starts a new one for the browser that changed it; an admin's
password reset or deactivation ends all the user's sessions.

Login throttling (:class:`LoginThrottle`): exponential back-off on failed logins,
kept per (address, user name), per address, per user name and per trusted device,
never a hard lock. What an attacker's failures can slow:

* failures from one address slow that address (all names: spraying one password
  across many names is slowed), and that address for that name sooner;
* failures for one name from many addresses slow that name only from addresses that
  have not logged in as that user before (within ``KNOWN_FOR_S``);
* a browser that has logged in as the user before carries a signed device cookie
  (OWASP's "device cookies"); its attempts are throttled only by its own failures.

So the leader keeps logging in from their usual address or browser whatever anyone
else tries. Refused attempts are not checked against the password and do not count.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

from flask import (
    Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for,
)
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.admin.access import Access
from bot.admin.common import db, forbidden, safe_next, unit_tree
from bot.db.models import AdminSession, User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()

# A valid argon2 hash of a random password: unknown users cost as much as known ones.
_DUMMY = User(password_hash="")

LAST_SEEN_EVERY_S = 15
"""A live session's ``last_seen_at`` is written at most this often (fewer writes)."""
DEVICE_COOKIE = "mandat_device"
DEVICE_DAYS = 180
"""How long a device cookie (set at a successful login) lets its browser skip the user's back-off."""

_END_MESSAGES = {
    "idle": "Du er blevet logget ud, fordi du ikke har været aktiv i et stykke tid. Log ind igen.",
    "expired": "Du har været logget ind længe, så du er blevet logget ud af sikkerhedshensyn. Log ind igen.",
    "password": "Adgangskoden er blevet skiftet, så du er blevet logget ud. Log ind med den nye adgangskode.",
}
_ENDED = "Du er blevet logget ud. Log ind igen."


# ---------------------------------------------------------------------------
# Login throttling
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: after ``free`` failures, wait ``base_s * 2**(n - free)`` (at most ``cap_s``)
    after the n-th failure before the next attempt."""

    free: int
    base_s: float = 1.0
    cap_s: float = 900.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last of ``failures`` failures."""
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(failures - self.free, 40))


class LoginThrottle:
    """Back-off on failed logins per (address, name), address, name and device; see the module docstring.

    Thread-safe, in memory (one admin-app process). ``clock`` returns Unix seconds
    (tests inject a fake clock).

    Attributes:
        pair: back-off for one address trying one name (3 free attempts).
        address: back-off for one address, all names together (10 free: catches spraying).
        user: back-off for one name from addresses unknown for it (10 free: catches
            distributed guessing; never applied to known addresses or devices).
        device: back-off for a browser with the user's device cookie (only its own failures).
        forget_s: a key's failures are forgotten this long after its last failure.
        known_for_s: a successful login makes (address, name) known for this long.
        max_keys: memory bound; the oldest state is dropped beyond it.
    """

    def __init__(self, clock: Callable[[], float] = time.time, *, pair: Backoff = Backoff(3),
                 address: Backoff = Backoff(10), user: Backoff = Backoff(10), device: Backoff = Backoff(3),
                 forget_s: float = 24 * 3600, known_for_s: float = 90 * 24 * 3600, max_keys: int = 100_000):
        self.clock = clock
        self.backoffs = {"pair": pair, "address": address, "user": user, "device": device}
        self.forget_s = forget_s
        self.known_for_s = known_for_s
        self.max_keys = max_keys
        self._failures: dict[tuple[str, ...], tuple[int, float]] = {}
        self._known: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def _keys(self, address: str, username: str, device: str | None, now: float, *, all_keys: bool):
        if device:
            return [("device", device)]
        keys = [("pair", address, username), ("address", address)]
        if all_keys or not self._is_known(address, username, now):
            keys.append(("user", username))
        return keys

    def _is_known(self, address: str, username: str, now: float) -> bool:
        since = self._known.get((address, username))
        return since is not None and now - since <= self.known_for_s

    def _wait(self, key: tuple[str, ...], now: float) -> float:
        entry = self._failures.get(key)
        if entry is None:
            return 0.0
        count, last = entry
        if now - last > self.forget_s:
            del self._failures[key]
            return 0.0
        return max(0.0, last + self.backoffs[key[0]].delay(count) - now)

    def retry_after(self, address: str, username: str, device: str | None = None) -> float:
        """Seconds before this attempt may be checked (0: now).

        Args:
            address: the client's address.
            username: the typed name, lower-cased.
            device: the nonce of a valid device cookie for ``username``, or None.
        """
        now = self.clock()
        with self._lock:
            keys = self._keys(address, username, device, now, all_keys=False)
            return max(self._wait(key, now) for key in keys)

    def failure(self, address: str, username: str, device: str | None = None) -> None:
        """Count a failed attempt (wrong password or unknown name)."""
        now = self.clock()
        with self._lock:
            for key in self._keys(address, username, device, now, all_keys=True):
                count, last = self._failures.get(key, (0, now))
                if now - last > self.forget_s:
                    count = 0
                self._failures[key] = (count + 1, now)
            if len(self._failures) > self.max_keys:
                self._prune(now)

    def success(self, address: str, username: str, device: str | None = None) -> None:
        """A valid login: forget this address's and device's failures for the name, and know the address.

        The address's and the name's own counters stay: logging into one's own
        account must not reset an attacker's spraying or guessing back-off.
        """
        now = self.clock()
        with self._lock:
            self._failures.pop(("pair", address, username), None)
            if device:
                self._failures.pop(("device", device), None)
            self._known[(address, username)] = now
            if len(self._known) > self.max_keys:
                for key, _ in sorted(self._known.items(), key=lambda item: item[1])[: len(self._known) // 4]:
                    del self._known[key]

    def clear(self) -> None:
        """Forget everything (an admin's reset, and tests)."""
        with self._lock:
            self._failures.clear()
            self._known.clear()

    def _prune(self, now: float) -> None:
        for key in [k for k, (_, last) in self._failures.items() if now - last > self.forget_s]:
            del self._failures[key]
        if len(self._failures) > self.max_keys:
            oldest = sorted(self._failures.items(), key=lambda item: item[1][1])
            for key, _ in oldest[: len(oldest) // 4]:
                del self._failures[key]


def throttle() -> LoginThrottle:
    """The app's login throttle."""
    return current_app.extensions["mandat_login_throttle"]


def _wait_text(seconds: float) -> str:
    seconds = math.ceil(seconds)
    if seconds <= 1:
        return "et sekund"
    if seconds < 90:
        return f"{seconds} sekunder"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutter"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="mandat-login-device")


def _device_nonce(username: str) -> str | None:
    """The nonce of the request's device cookie when it is valid for ``username``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 500:
        return None
    try:
        name, nonce = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    return nonce if name == username and isinstance(nonce, str) else None


# ---------------------------------------------------------------------------
# Server-side sessions
# ---------------------------------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _now() -> dt.datetime:
    """The app clock's time as naive UTC (as stored)."""
    return dt.datetime.utcfromtimestamp(current_app.config["MANDAT_CLOCK"]())


class CurrentUser(UserMixin):
    """The logged-in user of a request: the database row, the session token and its :class:`Access`."""

    def __init__(self, row: User, token: str):
        self.row = row
        self.token = token
        self._access: Access | None = None

    def get_id(self) -> str:
        """Flask-Login's id: the random session token (its hash is the ``admin_sessions`` key)."""
        return self.token

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
            self._access = Access.for_user(self.row, unit_tree().parents,
                                           hr_can_create=current_app.config["MANDAT_SETTINGS"].hr_can_create)
        return self._access


def current() -> CurrentUser:
    """The logged-in user (routes are protected by :func:`login_required`)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def start_session(row: User) -> CurrentUser:
    """A new server-side session for ``row`` (added to the request's database session; the caller commits)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    db().add(AdminSession(id=_hash_token(token), user_id=row.id, created_at=now, last_seen_at=now,
                          password_changed_at=row.password_changed_at,
                          address=(request.remote_addr or "")[:64] or None))
    return CurrentUser(row, token)


def end_sessions(database: Session, user_id: int, reason: str, keep: str | None = None) -> int:
    """End every live session of ``user_id`` (except the token ``keep``); the caller commits.

    Returns:
        The number of sessions ended.
    """
    now = dt.datetime.utcfromtimestamp(current_app.config["MANDAT_CLOCK"]())
    query = update(AdminSession).where(AdminSession.user_id == user_id, AdminSession.ended_at.is_(None))
    if keep:
        query = query.where(AdminSession.id != _hash_token(keep))
    return database.execute(query.values(ended_at=now, end_reason=reason)).rowcount


def _end_token(token: str | None, reason: str) -> None:
    if not token:
        return
    db().execute(update(AdminSession).where(AdminSession.id == _hash_token(token), AdminSession.ended_at.is_(None))
                 .values(ended_at=_now(), end_reason=reason))
    db().commit()


def init_app(app: Flask) -> None:
    """Set up Flask-Login, the throttle and the session check of every request.

    The app's clock is ``app.config["MANDAT_CLOCK"]`` (Unix seconds; tests inject a fake one).
    """
    app.config.setdefault("MANDAT_CLOCK", time.time)
    app.extensions["mandat_login_throttle"] = LoginThrottle(app.config["MANDAT_CLOCK"])
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log ind for at se siden."
    login_manager.session_protection = "basic"

    @app.before_request
    def _check_session():
        if "_user_id" not in session:
            return None
        now = app.config["MANDAT_CLOCK"]()
        seen = session.get("seen")
        idle = seen is None or now - float(seen) > 60 * int(app.config["SESSION_MINUTES"])
        if not idle and current_user.is_authenticated:
            session["seen"] = now
            return None
        reason = "idle" if idle else g.pop("session_end", None)
        if idle:
            _end_token(session.get("_user_id"), "idle")
        logout_user()
        session.clear()
        flash(_END_MESSAGES.get(reason or "", _ENDED), "info")
        if request.endpoint not in ("auth.login", "static"):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return None

    @app.context_processor
    def _user_context():
        user = current_user if current_user.is_authenticated else None
        return {"me": user, "access": user.access if user else None}


@login_manager.user_loader
def _load_user(token: str):
    """The user of a live session record, else None (and the record is ended with its reason)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    record = db().get(AdminSession, _hash_token(token))
    if record is None or record.ended_at is not None:
        return None
    now = _now()
    row = db().get(User, record.user_id)
    reason = None
    if now - record.last_seen_at > dt.timedelta(minutes=int(current_app.config["SESSION_MINUTES"])):
        reason = "idle"
    elif now - record.created_at > dt.timedelta(hours=float(current_app.config["SESSION_MAX_HOURS"])):
        reason = "expired"
    elif row is None or not row.active:
        reason = "deactivated"
    elif row.password_changed_at != record.password_changed_at:
        reason = "password"  # e.g. `mandat users set-password`
    if reason:
        record.ended_at, record.end_reason = now, reason
        db().commit()
        g.session_end = reason
        return None
    if (now - record.last_seen_at).total_seconds() >= LAST_SEEN_EVERY_S:
        record.last_seen_at = now
        db().commit()
    return CurrentUser(row, token)


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


def _audit(actor, action: str, target=None, detail=None) -> None:
    from bot.admin import audit  # audit's page uses login_required from here

    audit.record(db(), actor, action, target, detail)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login page."""
    if current_user.is_authenticated:
        return redirect(url_for("entries.index"))
    if request.method == "GET":
        return render_template("login.html", error=None, username="")
    username = (request.form.get("username") or "").strip()[:100]
    password = request.form.get("password") or ""
    key = username.lower()
    address = request.remote_addr or "?"
    device = _device_nonce(key) if key else None
    limiter = throttle()
    row = db().execute(select(User).where(func.lower(User.username) == key)).scalar_one_or_none() if key else None
    wait = limiter.retry_after(address, key, device)
    if wait > 0:
        _audit(row, "login.blocked", None, {"retry_after_s": math.ceil(wait)})
        db().commit()
        error = f"For mange forkerte forsøg. Vent {_wait_text(wait)}, og prøv igen."
        response = current_app.make_response(
            (render_template("login.html", error=error, username=username), 429))
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    ok = row.check_password(password) if row is not None else _dummy_check(password)
    if ok and row is not None and row.active:
        limiter.success(address, key, device)
        row.last_login_at = dt.datetime.utcnow()
        user = start_session(row)
        _audit(row, "login.success")
        db().commit()
        session.clear()
        session.permanent = True
        login_user(user)
        session["seen"] = current_app.config["MANDAT_CLOCK"]()
        response = redirect(safe_next(request.args.get("next"), "entries.index"))
        if device is None:
            response.set_cookie(DEVICE_COOKIE, _device_serializer().dumps([key, secrets.token_urlsafe(16)]),
                                max_age=DEVICE_DAYS * 86400, path=url_for("auth.login"), httponly=True,
                                samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
        return response
    limiter.failure(address, key, device)
    reason = "unknown_user" if row is None else ("inactive" if ok else "wrong_password")
    _audit(row, "login.failure", None, {"reason": reason})
    db().commit()
    return render_template("login.html", error="Forkert brugernavn eller adgangskode.", username=username), 401


def _dummy_check(password: str) -> bool:
    if not _DUMMY.password_hash:
        _DUMMY.set_password(User.generate_password())
    _DUMMY.check_password(password)
    return False


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out (POST with CSRF token, so no other site can log a user out); the session ends on the server."""
    if current_user.is_authenticated:
        _audit(current(), "logout")
        _end_token(current().token, "logout")
    logout_user()
    session.clear()
    flash("Du er logget ud.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/konto", methods=["GET", "POST"])
@login_required()
def account():
    """The user's own account: change password (ends the user's other sessions)."""
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
            ended = end_sessions(db(), me.row.id, "password")
            user = start_session(me.row)  # this browser continues in a new session
            _audit(me, "password.change", me.username, {"sessions_ended": ended})
            db().commit()
            login_user(user)
            session["seen"] = current_app.config["MANDAT_CLOCK"]()
            flash("Din adgangskode er ændret. Du er logget ud alle andre steder.", "success")
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
