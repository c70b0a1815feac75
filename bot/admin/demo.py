"""The demo intranet page with the chat widget (``/demo``), for ``make run``.

* ``GET /demo``: a pretend intranet page of Storkeby Kommune with the widget
  (one ``<script>`` tag). ``?medarbejder=`` picks one of :data:`DEMO_EMPLOYEES`.
  Without dev mode the page only explains how to turn it on.
* ``GET /demo/token?employee=ID&unit=UNIT[&name=NAME]``: a dev token for the
  widget (JSON ``{"token": ...}``), signed with the HS256 secret. Only in dev
  mode (``MANDAT_WIDGET_DEV_MODE=1``, which ``make run`` sets); 404 otherwise.

The widget talks to the Rasa server's widget channel: ``MANDAT_WIDGET_SERVER``
(default ``http://<this host>:<MANDAT_RASA_PORT or 5005>``); the admin app's
config key ``WIDGET_SERVER`` overrides it (tests).
"""
from __future__ import annotations

import os
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from bot.admin.common import settings, unit_tree
from bot.channels.identity import issue_token

bp = Blueprint("demo", __name__)

DEMO_EMPLOYEES = {
    "anna": ("anna.andersen", "Anna Andersen", "hjemmeplejen-syd", "social- og sundhedshjælper"),
    "dorthe": ("dorthe.nielsen", "Dorthe Nielsen", "hjemmeplejen-nord", "social- og sundhedsassistent"),
    "erik": ("erik.jensen", "Erik Jensen", "plejecenter-egely", "sygeplejerske"),
    "carla": ("carla.christensen", "Carla Christensen", "dagtilbud-solsikken", "pædagog"),
    "fatima": ("fatima.hassan", "Fatima Hassan", "dagplejen", "dagplejer"),
    "bo": ("bo.berg", "Bo Berg", "tandplejen", "tandplejer"),
    "gustav": ("gustav.madsen", "Gustav Madsen", "vej-og-park", "anlægsgartner"),
    "helle": ("helle.soerensen", "Helle Sørensen", "byg-og-miljoe", "byggesagsbehandler"),
}
"""Demo employees, one in every team of the demo catalogue (``bot/demo/catalogue.yaml``: every unit
without units below it): key -> (employee id, display name, unit id, job)."""

TOKEN_MINUTES = 30


def widget_server() -> str:
    """Base URL of the Rasa server's socket.io widget channel."""
    configured = current_app.config.get("WIDGET_SERVER") or os.environ.get("MANDAT_WIDGET_SERVER")
    if configured:
        return configured.rstrip("/")
    host = urlsplit(request.host_url).hostname or "localhost"
    return f"{request.scheme}://{host}:{os.environ.get('MANDAT_RASA_PORT') or 5005}"


@bp.get("/demo")
def page():
    dev_mode = settings().widget_dev_mode
    key = request.args.get("medarbejder", "anna")
    if key not in DEMO_EMPLOYEES:
        key = "anna"
    employee_id, name, unit, job = DEMO_EMPLOYEES[key]
    server = widget_server()
    token_url = "/demo/token?" + urlencode({"employee": employee_id, "unit": unit, "name": name})
    response = current_app.make_response(render_template(
        "demo.html", dev_mode=dev_mode, employees=DEMO_EMPLOYEES, current=key, name=name, job=job,
        unit=unit, unit_names=unit_tree().names, server=server, token_url=token_url))
    socket = urlsplit(server)
    ws = f"{'wss' if socket.scheme == 'https' else 'ws'}://{socket.netloc}"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"connect-src 'self' {server} {ws}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return response


@bp.get("/demo/token")
def token():
    current = settings()
    if not current.widget_dev_mode or not current.jwt_secret:
        abort(404)
    employee = (request.args.get("employee") or "").strip()
    unit = (request.args.get("unit") or "").strip()
    if not employee or not unit:
        abort(400)
    signed = issue_token(employee, [unit], key=current.jwt_secret, display_name=request.args.get("name"),
                         lifetime_s=TOKEN_MINUTES * 60, audience=current.jwt_audience, issuer=current.jwt_issuer)
    response = jsonify({"token": signed})
    response.headers["Cache-Control"] = "no-store"
    return response
