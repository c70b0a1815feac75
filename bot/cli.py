"""The ``mandat`` command: catalogue import/export, listings, questions, set-up.

Run ``mandat --help`` for the sub-commands. Exit codes: 0 success, 1 the input
was rejected (errors are printed, nothing was changed), 2 usage errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import get_settings

DEMO_CATALOGUE = Path(__file__).resolve().parent / "demo" / "catalogue.yaml"


def _session():
    from bot.db.session import session_scope

    return session_scope(get_settings().database_url)


def cmd_db_upgrade(_args) -> int:
    from bot.db.migrate import upgrade

    upgrade(get_settings().database_url)
    print("Databasen er opdateret.")
    return 0


def cmd_import(args) -> int:
    from bot.catalogue.io import import_file
    from bot.catalogue.schema import CatalogueValidationError
    from bot.db.session import new_session

    session = new_session(get_settings().database_url)
    try:
        report = import_file(session, args.file, replace=args.replace, dry_run=args.dry_run)
    except CatalogueValidationError as exc:
        print(f"{args.file}: {len(exc.errors)} fejl, intet er ændret:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Kan ikke læse {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    finally:
        session.close()
    prefix = "Prøvekørsel (intet gemt): " if args.dry_run else "Importeret: "
    print(prefix + report.summary())
    for mandate_id in report.deleted_ids:
        print(f"  slettet: {mandate_id}")
    return 0


def cmd_export(args) -> int:
    from bot.catalogue.io import dump_yaml, export_catalogue

    with _session() as session:
        doc = export_catalogue(session, args.unit or None)
    text = dump_yaml(doc)
    if args.file == "-":
        sys.stdout.write(text)
    else:
        Path(args.file).write_text(text, encoding="utf-8")
        print(f"Eksporteret {len(doc['units'])} enheder og {len(doc['mandates'])} poster til {args.file}.")
    return 0


def cmd_list(args) -> int:
    from sqlalchemy import select

    from bot.catalogue.tree import entries_in_force
    from bot.db.models import Mandate, Unit

    settings = get_settings()
    with _session() as session:
        if args.unit:
            if session.get(Unit, args.unit) is None:
                print(f"Ukendt enhed: {args.unit}", file=sys.stderr)
                return 1
            entries = entries_in_force(session, args.unit, settings.today())
            print(f"Poster i kraft for {args.unit} ({len(entries)}):")
        else:
            entries = session.execute(select(Mandate).order_by(Mandate.unit_id, Mandate.id)).scalars().all()
            print(f"Alle poster ({len(entries)}):")
        today = settings.today()
        for entry in entries:
            state = "" if entry.in_force(today) else "  [ikke i kraft]"
            print(f"  {entry.id:<32} {entry.unit_id:<28} {entry.decision:<8} {entry.topic}{state}")
    return 0


def cmd_show(args) -> int:
    from sqlalchemy import select

    from bot.catalogue.edit import mandate_values
    from bot.db.models import Mandate, MandateHistory

    with _session() as session:
        entry = session.get(Mandate, args.id)
        if entry is None:
            print(f"Ukendt post: {args.id}", file=sys.stderr)
            return 1
        for name, value in mandate_values(entry).items():
            if isinstance(value, list):
                value = "; ".join(value)
            print(f"{name:>11}: {'' if value is None else value}")
        print(f"{'version':>11}: {entry.version}")
        history = session.execute(
            select(MandateHistory).where(MandateHistory.mandate_id == args.id).order_by(MandateHistory.id)
        ).scalars().all()
        print("Historik:")
        for item in history:
            print(f"  {item.changed_at:%Y-%m-%d %H:%M} {item.changed_by}: {item.action} {', '.join(item.changes)}")
    return 0


def cmd_questions(args) -> int:
    from sqlalchemy import select

    from bot.db.models import Question
    from bot.localtime import local_time

    with _session() as session:
        query = select(Question).where(Question.outcome == "unanswered")
        if args.unit:
            query = query.where(Question.unit_id == args.unit)
        rows = session.execute(query.order_by(Question.asked_at.desc(), Question.id.desc()).limit(args.limit)).scalars().all()
        print(f"Ubesvarede spørgsmål ({len(rows)}, nyeste først):")
        for row in rows:
            best = f"  [bedste bud: {row.best_mandate_id} {row.best_score:.2f}]" if row.best_mandate_id else ""
            print(f"  #{row.id} {local_time(row.asked_at):%Y-%m-%d %H:%M} {row.unit_id or '-':<24} {row.status:<8} {row.text}{best}")
    return 0


def cmd_demo(args) -> int:
    """Load the demo catalogue when the database has no units yet (or with --force).

    ``--history``: also add eight weeks of generated demo history (questions, feedback, good
    stories, all marked as demo data; :mod:`bot.demo.history`) unless there is some already.
    ``--remove-history``: delete the generated demo history (nothing else).
    """
    from sqlalchemy import func, select

    from bot.db.models import Unit
    from bot.demo.history import add_history, count_history, has_history, remove_history

    if args.remove_history:
        with _session() as session:
            print(remove_history(session).summary("slettet"))
        return 0
    with _session() as session:
        count = session.execute(select(func.count(Unit.id))).scalar()
    if count and not args.force:
        print(f"Kataloget har allerede {count} enheder; demo-kataloget indlæses ikke.")
        code = 0
    else:
        args.file, args.replace, args.dry_run = str(DEMO_CATALOGUE), False, False
        code = cmd_import(args)
    if code or not args.history:
        return code
    with _session() as session:
        if has_history(session):
            print(count_history(session).summary("findes allerede"))
            return 0
        print(add_history(session, get_settings().today()).summary())
    return 0


def cmd_build_lexicon(args) -> int:
    from pathlib import Path

    from bot.lexicon import build

    print(build(Path(args.path or get_settings().lexicon_dir or "var/lexicon")))
    return 0


def cmd_build_spacy(args) -> int:
    from bot.nlu.spacy_model import build

    print(build(args.path or get_settings().spacy_model))
    return 0


def cmd_ask(args) -> int:
    from bot.service import MandateService

    outcome = MandateService().answer(args.question, args.unit, store=not args.no_store)
    print(outcome.reply.text)
    print(outcome.reply.custom)
    return 0


def cmd_check(_args) -> int:
    """``mandat check``: load what answering needs (settings, embedder, decision model) or say what to fix.

    ``make run`` calls it before starting the servers: a bot whose configured embedder cannot
    load refuses to start instead of answering worse (``MANDAT_EMBEDDER=none`` runs on words alone).
    """
    from bot.embeddings import EmbedderError
    from bot.service import MandateService

    try:
        service = MandateService()
        embedder = service.check_embedder()
    except EmbedderError as exc:
        print(f"Mandatbot kan ikke starte: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"Mandatbot kan ikke starte: {exc}", file=sys.stderr)
        return 2
    print(f"Embedder: {embedder}; beslutningsmodel: {service.settings.decision_model}")
    return 0


def cmd_token(args) -> int:
    """``mandat token --employee X --unit Y``: a widget token signed with the HS256 secret."""
    from bot.channels.identity import issue_token

    settings = get_settings()
    if not settings.jwt_secret:
        print("Ingen nøgle: sæt MANDAT_JWT_SECRET (eller MANDAT_WIDGET_DEV_MODE=1 for udviklernøglen).",
              file=sys.stderr)
        return 1
    print(issue_token(args.employee, args.unit, key=settings.jwt_secret, display_name=args.name,
                      lifetime_s=args.minutes * 60, audience=settings.jwt_audience, issuer=settings.jwt_issuer))
    return 0


# -- admin-app accounts ---------------------------------------------------

DEMO_USERS = (
    ("leder", "Lene Leder (Hjemmeplejen)", "leader", ["hjemmeplejen-nord", "hjemmeplejen-syd"], False),
    ("hr", "Hanne fra HR", "hr", [], False),
    ("admin", "Administrator", "admin", [], False),
)
"""The demo accounts: (username, display name, role, units, HR may edit)."""


def _check_user_fields(session, role: str, units: list[str]) -> str | None:
    from bot.db.models import ROLES, Unit

    if role not in ROLES:
        return f"ukendt rolle '{role}'; brug en af {', '.join(ROLES)}"
    if role == "leader" and not units:
        return "en leder skal have mindst én enhed (--unit)"
    if role != "leader" and units:
        return "kun ledere har enheder"
    missing = [u for u in units if session.get(Unit, u) is None]
    if missing:
        return f"ukendt enhed: {', '.join(missing)}"
    return None


def add_user(session, username: str, role: str, units: list[str] | None = None,
             display_name: str | None = None, can_edit: bool = False,
             password: str | None = None):
    """Create an admin-app account; returns ``(user, password)``.

    Args:
        session: open session; the caller commits.
        username: login name (unique).
        role: ``leader``, ``hr`` or ``admin``.
        units: the leader's unit ids (the units below them are included).
        display_name: name shown in the app and in the history.
        can_edit: an HR user may edit entries.
        password: the initial password; generated when None.

    Raises:
        ValueError: the user exists, or role/units are invalid (Danish message).
    """
    from sqlalchemy import select

    from bot.db.models import User

    units = list(dict.fromkeys(units or []))
    username = (username or "").strip()
    if not username:
        raise ValueError("brugernavnet mangler")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise ValueError(f"brugeren '{username}' findes allerede")
    problem = _check_user_fields(session, role, units)
    if problem:
        raise ValueError(problem)
    password = password or User.generate_password()
    user = User(username=username, display_name=display_name or username, role=role, units=units,
                can_edit=bool(can_edit and role == "hr"), active=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user, password


def ensure_demo_users(session) -> list[tuple[str, str, str | None]]:
    """Create the demo leader, HR user and admin where missing (idempotent).

    Returns:
        ``(username, role, password)`` per demo account; ``password`` is None
        for accounts that already existed (their password is not changed).

    Raises:
        ValueError: the demo units are missing (load the demo catalogue first).
    """
    from sqlalchemy import select

    from bot.db.models import User

    result = []
    for username, name, role, units, can_edit in DEMO_USERS:
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            result.append((username, role, None))
            continue
        _, password = add_user(session, username, role, units, name, can_edit)
        result.append((username, role, password))
    return result


def cmd_users(args) -> int:
    """``mandat users add|set-password|list|demo``."""
    import getpass

    from sqlalchemy import select

    from bot.db.models import User

    with _session() as session:
        if args.action == "list":
            users = session.execute(select(User).order_by(User.username)).scalars().all()
            print(f"Brugere ({len(users)}):")
            for user in users:
                extra = ", ".join(user.units or [])
                if user.role == "hr" and user.can_edit:
                    extra = "må redigere"
                state = "" if user.active else "  [deaktiveret]"
                print(f"  {user.username:<20} {user.role:<7} {user.display_name or '':<30} {extra}{state}")
            return 0
        if args.action == "demo":
            try:
                rows = ensure_demo_users(session)
            except ValueError as exc:
                session.rollback()
                print(f"Demo-brugere: {exc}. Indlæs demo-kataloget først (mandat demo).", file=sys.stderr)
                return 1
            print("Demo-brugere til admin-appen:")
            for username, role, password in rows:
                shown = f"adgangskode: {password}" if password else "findes allerede (adgangskode uændret)"
                print(f"  {username:<8} ({role}): {shown}")
            return 0
        if not args.username:
            print("Angiv et brugernavn.", file=sys.stderr)
            return 2
        password = args.password
        if password is None and args.prompt:
            password = getpass.getpass("Ny adgangskode: ")
        if password is not None and len(password) < 10:
            print("Adgangskoden skal være mindst 10 tegn.", file=sys.stderr)
            return 1
        if args.action == "add":
            try:
                user, password = add_user(session, args.username, args.role, args.unit or [],
                                          args.name, args.can_edit, password)
            except ValueError as exc:
                print(f"Kan ikke oprette brugeren: {exc}.", file=sys.stderr)
                return 1
            print(f"Oprettet {user.username} ({user.role}). Adgangskode: {password}")
            return 0
        user = session.execute(select(User).where(User.username == args.username)).scalar_one_or_none()
        if user is None:
            print(f"Ukendt bruger: {args.username}", file=sys.stderr)
            return 1
        password = password or User.generate_password()
        user.set_password(password)
        print(f"Ny adgangskode for {user.username}: {password}")
        return 0


def cmd_purge(args) -> int:
    """Delete conversations, questions and feedback older than ``MANDAT_RETENTION_DAYS`` (bot/retention.py)."""
    from bot.retention import purge

    try:
        report = purge(dry_run=args.dry_run)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def cmd_mail(args) -> int:
    """``mandat mail send|digest``: new questions to their leaders, or the weekly digest, now (bot/mailing.py).

    Without ``MANDAT_SMTP_URL`` nothing is sent and the exit code is 0.
    """
    from bot.mail import MailError
    from bot.mailing import send_digest, send_new_questions

    try:
        report = send_new_questions() if args.action == "send" else send_digest()
    except (MailError, ValueError) as exc:
        print(f"E-mail kunne ikke sendes: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``mandat``."""
    parser = argparse.ArgumentParser(prog="mandat", description="Mandatbot: mandatkatalog og spørgsmål.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("import", help="importér et katalog (YAML, version 1): alt eller intet")
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="gør filens enheders poster lig med filen (sletter andre)")
    p.add_argument("--dry-run", action="store_true", help="vis hvad der ville ske, uden at gemme")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", help="eksportér kataloget som YAML ('-' = standard output)")
    p.add_argument("file")
    p.add_argument("--unit", action="append", help="kun denne enhed (kan gentages)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("list", help="vis poster (med --unit: dem i kraft for enheden)")
    p.add_argument("--unit")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("show", help="vis én post med historik")
    p.add_argument("id")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("questions", help="ubesvarede spørgsmål, nyeste først")
    p.add_argument("--unit")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_questions)
    p = sub.add_parser("ask", help="stil et spørgsmål uden chatten (til test)")
    p.add_argument("question")
    p.add_argument("--unit", required=True)
    p.add_argument("--no-store", action="store_true")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("db", help="database: 'mandat db upgrade'")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db_upgrade)
    p = sub.add_parser("demo", help="indlæs demo-kataloget, hvis databasen er tom")
    p.add_argument("--force", action="store_true")
    p.add_argument("--history", action="store_true",
                   help="tilføj otte ugers genereret demohistorik (markeret som demodata), hvis der ingen er")
    p.add_argument("--remove-history", action="store_true", help="slet den genererede demohistorik")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("build-lexicon", help="byg dansk synonymordbog og engelsk-dansk ordliste (var/lexicon)")
    p.add_argument("--path", help="mappe (standard: MANDAT_LEXICON_DIR eller var/lexicon)")
    p.set_defaults(func=cmd_build_lexicon)
    p = sub.add_parser("build-spacy", help="byg spaCy-pipelinen til lemmaer (var/spacy-da)")
    p.add_argument("--path")
    p.set_defaults(func=cmd_build_spacy)
    p = sub.add_parser("token", help="udsted en udvikler-token til chat-widgetten (HS256, MANDAT_JWT_SECRET)")
    p.add_argument("--employee", required=True, help="medarbejder-id (sub)")
    p.add_argument("--unit", action="append", required=True, help="enheds-id (kan gentages)")
    p.add_argument("--name", help="visningsnavn")
    p.add_argument("--minutes", type=int, default=60, help="gyldighed i minutter (standard 60)")
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("check", help="tjek at embedder og beslutningsmodel kan indlæses (før start)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("users", help="admin-appens brugere: add, set-password, list, demo")
    p.add_argument("action", choices=["add", "set-password", "list", "demo"])
    p.add_argument("username", nargs="?")
    p.add_argument("--role", choices=["leader", "hr", "admin"], default="leader")
    p.add_argument("--unit", action="append", help="lederens enhed (kan gentages)")
    p.add_argument("--name", help="visningsnavn")
    p.add_argument("--can-edit", action="store_true", help="HR må redigere poster")
    p.add_argument("--password", help="adgangskode (ellers dannes en tilfældig)")
    p.add_argument("--prompt", action="store_true", help="spørg efter adgangskoden")
    p.set_defaults(func=cmd_users)
    p = sub.add_parser("purge", help="slet samtaler, spørgsmål og feedback ældre end MANDAT_RETENTION_DAYS")
    p.add_argument("--dry-run", action="store_true", help="vis kun, hvor meget der ville blive slettet")
    p.set_defaults(func=cmd_purge)
    p = sub.add_parser("mail", help="e-mail: 'send' nye spørgsmål til deres ledere, 'digest' ugens oversigt")
    p.add_argument("action", choices=["send", "digest"])
    p.set_defaults(func=cmd_mail)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mandat``; returns the exit code."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
