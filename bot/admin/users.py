"""User management for administrators: create users, roles, units, HR edit rights, passwords."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.admin import audit
from bot.admin.auth import current, end_sessions, login_required
from bot.admin.common import db, unit_tree
from bot.cli import add_user
from bot.db.models import ROLES, User
from bot.mail import valid_address

bp = Blueprint("users", __name__)


def _render(errors: list[str] | None = None, password: tuple[str, str] | None = None, status: int = 200,
            form: dict | None = None):
    users = db().execute(select(User).order_by(User.role, User.username)).scalars().all()
    tree = unit_tree()
    return render_template("users.html", users=users, roles=ROLES, unit_choices=tree.choices(None), tree=tree,
                           errors=errors or [], password=password, form=form or {}), status


@bp.route("/brugere")
@login_required("admin")
def list_users():
    """All users, with forms to create and change them."""
    return _render()


@bp.route("/brugere/ny", methods=["POST"])
@login_required("admin")
def create():
    """Create a user; the initial password is shown once."""
    form = request.form
    role = form.get("role", "")
    units = [u for u in form.getlist("units") if u] if role == "leader" else []
    try:
        user, password = add_user(db(), form.get("username", ""), role, units, form.get("display_name") or None,
                                  form.get("can_edit") == "1")
        audit.record(db(), current(), "user.create", user.username, {"role": role, "units": units})
        db().commit()
    except ValueError as exc:
        db().rollback()
        return _render([f"Brugeren er ikke oprettet: {exc}."], status=400, form=form)
    return _render(password=(user.username, password))


@bp.route("/brugere/<int:user_id>", methods=["POST"])
@login_required("admin")
def update(user_id: int):
    """Change a user's role, units, HR edit right, name, e-mail address (notices and the weekly digest,
    :mod:`bot.mailing`) or active state."""
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    form = request.form
    role = form.get("role", user.role)
    units = [u for u in form.getlist("units") if u] if role == "leader" else []
    errors = []
    if role not in ROLES:
        errors.append(f"Ukendt rolle: {role}.")
    if role == "leader" and not units:
        errors.append("En leder skal have mindst én enhed.")
    unknown = [u for u in units if u not in unit_tree().parents]
    if unknown:
        errors.append(f"Ukendte enheder: {', '.join(unknown)}.")
    email = (form.get("email") or "").strip() if "email" in form else user.email
    if email and not valid_address(email):
        errors.append(f"Ugyldig e-mailadresse: {email}.")
    active = form.get("active") == "1"
    if user.id == current().row.id and (not active or role != "admin"):
        errors.append("Du kan ikke deaktivere dig selv eller fjerne din egen administratorrolle.")
    if errors:
        return _render(errors, status=400)
    user.role, user.units, user.active = role, units, active
    user.can_edit = role == "hr" and form.get("can_edit") == "1"
    user.display_name = (form.get("display_name") or "").strip() or user.username
    user.email = email or None
    ended = 0 if active else end_sessions(db(), user.id, "deactivated")
    audit.record(db(), current(), "user.update", user.username, {"role": role, "units": units, "active": active,
                                                                  "can_edit": user.can_edit, "sessions_ended": ended})
    db().commit()
    flash(f"{user.username} er opdateret.", "success")
    return redirect(url_for("users.list_users"))


@bp.route("/brugere/<int:user_id>/adgangskode", methods=["POST"])
@login_required("admin")
def reset_password(user_id: int):
    """Give a user a new random password (shown once); their sessions end."""
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    password = User.generate_password()
    user.set_password(password)
    ended = end_sessions(db(), user.id, "reset")
    audit.record(db(), current(), "user.password_reset", user.username, {"sessions_ended": ended})
    db().commit()
    return _render(password=(user.username, password))
