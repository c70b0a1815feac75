"""Shared pieces of the admin app: the request's database session, labels,
template filters, pagination, error pages and security headers."""
from __future__ import annotations

import datetime as dt
import math
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, current_app, g, render_template, request, url_for
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.session import new_session
from bot.localtime import local_time

DECISION_LABELS = {
    "employee": "Medarbejderen selv",
    "team": "Teamet",
    "leader": "Lederen",
    "other": "Andre",
}
"""Who decides, as shown in the app."""

ROLE_LABELS = {"leader": "Leder", "hr": "HR", "admin": "Administrator"}

STATUS_LABELS = {"new": "Ny", "answered": "Besvaret", "not_relevant": "Ikke relevant"}
"""Review statuses of a question in the queue."""

ENTRY_STATUS_LABELS = {"published": "Offentliggjort", "draft": "Kladde", "pending": "Afventer godkendelse"}
"""Publication statuses of an entry (:data:`bot.domain.ENTRY_STATUSES`), as shown in the app."""

FIELD_LABELS = {
    "id": "Id",
    "unit": "Enhed",
    "topic": "Emne",
    "topic_key": "Emnenøgle",
    "decision": "Hvem beslutter",
    "decided_by": "Besluttes af",
    "summary": "Kort svar",
    "conditions": "Betingelser",
    "exceptions": "Undtagelser",
    "limit": "Grænse",
    "limit_value": "Grænse",
    "limit_unit": "Grænsens enhed",
    "limit_dkk": "Beløbsgrænse (kr.)",
    "inform": "Giv besked til",
    "how": "Sådan gør du",
    "examples": "Eksempler på spørgsmål",
    "keywords": "Søgeord",
    "source": "Kilde",
    "contact": "Kontakt",
    "valid_from": "Gælder fra",
    "valid_to": "Gælder til",
    "review_by": "Gennemgås senest",
    "route": "Vej ved fejl eller bekymring",
    "version": "Formatversion",
    "units": "Enheder",
    "mandates": "Poster",
    "name": "Navn",
    "parent": "Overordnet enhed",
    "aliases": "Andre navne",
    "status": "Status",
}
"""Danish labels of the catalogue fields (format v2 and the v1 ``limit_dkk``), the entry form's limit
inputs (``limit_value``, ``limit_unit``) and the unit fields: the one source of field labels in the app."""

_ITEM_FIELD = re.compile(r"^(?P<name>\w+)\[(?P<number>\d+)\](?:\.\w+)?$")


def field_label(name: str) -> str:
    """The Danish label of a field, as validation errors name it (the name itself when unknown).

    ``limit.value``/``limit.unit`` are the limit's inputs; ``exceptions[2].decision`` is
    "Undtagelser (nr. 2)".
    """
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if name.startswith("limit."):
        return FIELD_LABELS.get(name.replace(".", "_", 1), FIELD_LABELS["limit"])
    match = _ITEM_FIELD.match(name)
    if match and match["name"] in FIELD_LABELS:
        return f"{FIELD_LABELS[match['name']]} (nr. {match['number']})"
    return name


def db() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = new_session(current_app.config["DATABASE_URL"])
    return g.db


def settings() -> Settings:
    """The settings of this app (database URL of the app config)."""
    return current_app.config["MANDAT_SETTINGS"]


def today() -> dt.date:
    """The date that decides validity (``MANDAT_TODAY`` or the real date)."""
    return settings().today()


_service_lock = threading.Lock()


def service():
    """The app's :class:`bot.service.MandateService` (built on first use)."""
    with _service_lock:
        svc = current_app.extensions.get("mandat_service")
        if svc is None:
            from bot.service import MandateService

            svc = MandateService(settings())
            current_app.extensions["mandat_service"] = svc
        return svc


def error_page(status: int, title: str, message: str):
    """A Danish error page with ``status``."""
    return render_template("error.html", title=title, message=message), status


def forbidden(message: str = "Du har ikke adgang til denne side eller handling.") -> None:
    """Abort with 403 and a Danish explanation."""
    abort(403, description=message)


def parse_date(value: str | None) -> dt.date | None:
    """An ISO date from a query/form field, or None when empty or malformed."""
    try:
        return dt.date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


def parse_int(value: Any, default: int) -> int:
    """An int from a query/form field (``default`` when missing or malformed)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@dataclass
class Page:
    """One page of a paginated listing."""

    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        """Row offset of this page."""
        return (self.number - 1) * self.size

    def url(self, number: int) -> str:
        """The current URL with ``side=number``."""
        args = request.args.to_dict(flat=False)
        args["side"] = [str(number)]
        return request.path + "?" + urlencode(args, doseq=True)


def make_page(total: int, size: int) -> Page:
    """The page requested by ``?side=`` (clamped to the available pages)."""
    page = Page(1, size, total)
    page.number = min(max(1, parse_int(request.args.get("side"), 1)), page.pages)
    return page


def _fmt_date(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y")


def _fmt_datetime(value) -> str:
    local = local_time(value)
    return local.strftime("%d.%m.%Y %H:%M") if local else ""


def _fmt_dkk(value) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".") + " kr."


def _fmt_int(value) -> str:
    return f"{int(value or 0):,}".replace(",", ".")


def _fmt_pct(value) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f} %"


def _fmt_score(value) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def url_with(**changes) -> str:
    """The current URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    if "side" not in changes:
        args.pop("side", None)  # a new filter starts on page 1
    query = urlencode(args, doseq=True)
    return request.path + ("?" + query if query else "")


def init_app(app: Flask) -> None:
    """Register filters, globals, error handlers and security headers."""
    app.jinja_env.filters.update(
        dkdate=_fmt_date, dkdatetime=_fmt_datetime, dkk=_fmt_dkk, dkint=_fmt_int,
        pct=_fmt_pct, score=_fmt_score,
    )
    app.jinja_env.globals.update(
        DECISION_LABELS=DECISION_LABELS, ROLE_LABELS=ROLE_LABELS, STATUS_LABELS=STATUS_LABELS,
        FIELD_LABELS=FIELD_LABELS, field_label=field_label, url_with=url_with,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.errorhandler(403)
    def _forbidden(exc):
        return error_page(403, "Ingen adgang", getattr(exc, "description", "") or
                          "Du har ikke adgang til denne side eller handling.")

    @app.errorhandler(404)
    def _not_found(_exc):
        return error_page(404, "Siden findes ikke", "Siden eller posten findes ikke (længere).")

    @app.errorhandler(405)
    def _not_allowed(_exc):
        return error_page(405, "Ikke tilladt", "Den handling kan ikke udføres på denne adresse.")

    @app.errorhandler(413)
    def _too_large(_exc):
        return error_page(413, "Filen er for stor", "Filen må højst fylde 5 MB.")

    @app.after_request
    def _headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a local path (no open redirects), else ``default``."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for(default) if not default.startswith("/") else default


@dataclass
class UnitTree:
    """The units of the catalogue: parents, names, and a depth-first order for selects."""

    parents: dict[str, str | None]
    names: dict[str, str]
    ordered: list[tuple[str, int]]  # (unit id, depth), parents before children

    def label(self, unit_id: str | None) -> str:
        """Display name of a unit (its id when unknown, "–" for None)."""
        if unit_id is None:
            return "–"
        return self.names.get(unit_id, unit_id)

    def choices(self, allowed: set[str] | frozenset[str] | None) -> list[tuple[str, str]]:
        """``(id, indented name)`` for a ``<select>``, limited to ``allowed`` (None: all)."""
        return [(u, "\u00a0\u00a0" * depth + self.names[u]) for u, depth in self.ordered
                if allowed is None or u in allowed]


def unit_tree() -> UnitTree:
    """The unit tree (read once per request)."""
    if "unit_tree" not in g:
        from sqlalchemy import select

        from bot.db.models import Unit

        rows = db().execute(select(Unit.id, Unit.parent_id, Unit.name)).all()
        parents = {r.id: r.parent_id for r in rows}
        names = {r.id: r.name for r in rows}
        children: dict[str | None, list[str]] = {}
        for unit_id, parent in parents.items():
            children.setdefault(parent if parent in parents else None, []).append(unit_id)
        for items in children.values():
            items.sort(key=lambda u: names[u].lower())
        ordered: list[tuple[str, int]] = []
        seen: set[str] = set()

        def walk(parent: str | None, depth: int) -> None:
            for unit_id in children.get(parent, []):
                if unit_id in seen:
                    continue
                seen.add(unit_id)
                ordered.append((unit_id, depth))
                walk(unit_id, depth + 1)

        walk(None, 0)
        ordered.extend((u, 0) for u in parents if u not in seen)  # cycles: still listed
        g.unit_tree = UnitTree(parents, names, ordered)
    return g.unit_tree
