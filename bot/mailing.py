"""E-mails to leaders and HR: new questions routed to them, and a weekly digest (issue 16).

* :func:`send_new_questions` (``mandat mail send``, and every few minutes in the admin app's server
  process, :class:`MailSender`): one mail per recipient with an address (``users.email``) listing the
  open questions routed to them (:mod:`bot.inbox`) that no mail round has covered yet; every question the
  round considered gets ``questions.emailed_at`` (also when none of its recipients has an address, so a
  new address does not receive old questions: the digest lists them).
* :func:`send_digest` (``mandat mail digest``, and once a week in :class:`MailSender`): per leader and HR
  account with an address, their open questions and their entries past the review date.

Mails hold no more personal data than the redacted question text (as stored) and the unit's name, and
link to the inbox (``MANDAT_ADMIN_BASE_URL`` + ``/til-dig``). Without ``MANDAT_SMTP_URL`` nothing is
sent, nothing is marked and nothing fails. Never called on the answering path.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import inbox
from bot.config import Settings, get_settings
from bot.db.models import AuditLog, Mandate, Question, Unit, User, utcnow
from bot.localtime import danish_date
from bot.mail import Mailer, mailer

logger = logging.getLogger(__name__)

NEW_QUESTIONS_EVERY_S = 300.0
"""How often the admin app's server process looks for new questions to mail (seconds)."""

DIGEST_EVERY = dt.timedelta(days=7)
"""How often the weekly digest goes out (the last one is read from the audit log, ``mail.digest``)."""

MAX_PER_MAIL = 50
"""At most this many questions (and as many entries) are listed in one mail; the rest are counted."""

INBOX_PATH = "/til-dig"


@dataclass(frozen=True)
class MailReport:
    """What a mail round did: ``mails`` sent, ``questions`` marked ``emailed_at``; ``configured`` False
    when ``MANDAT_SMTP_URL`` is not set (nothing was done)."""

    mails: int
    questions: int = 0
    configured: bool = True

    def summary(self) -> str:
        """One Danish line for the console and the log."""
        if not self.configured:
            return "Ingen e-mail sendt: MANDAT_SMTP_URL er ikke sat."
        return f"{self.mails} e-mail(s) sendt; {self.questions} spørgsmål markeret som meldt."


def _inbox_url(settings: Settings) -> str:
    return settings.admin_base_url.rstrip("/") + INBOX_PATH


def _greeting(user: User) -> str:
    return f"Hej {user.display_name or user.username}"


def _question_lines(questions: list[Question], units: dict[str, str], today: dt.date) -> list[str]:
    lines = [f"• «{q.text}» ({units.get(q.unit_id or '', 'ukendt enhed')}, {danish_date(q.asked_at, today)})"
             for q in questions[:MAX_PER_MAIL]]
    if len(questions) > MAX_PER_MAIL:
        lines.append(f"… og {len(questions) - MAX_PER_MAIL} mere.")
    return lines


def new_questions_text(user: User, questions: list[Question], units: dict[str, str], settings: Settings) -> tuple[str, str]:
    """``(subject, body)`` of the mail telling ``user`` about new questions routed to them."""
    n = len(questions)
    subject = f"Mandatbot: {n} nyt spørgsmål til dig" if n == 1 else f"Mandatbot: {n} nye spørgsmål til dig"
    body = [
        _greeting(user), "",
        ("En medarbejder har stillet et spørgsmål, som Mandatbot ikke kunne svare på:" if n == 1 else
         f"Medarbejdere har stillet {n} spørgsmål, som Mandatbot ikke kunne svare på:"), "",
        *_question_lines(questions, units, settings.today()), "",
        f"Svar under »Spørgsmål til dig«: {_inbox_url(settings)}",
        "Svarer du med en post eller et kort svar, får medarbejderen svaret i chatten, næste gang de åbner den.",
        "", "Venlig hilsen", "Mandatbot",
    ]
    return subject, "\n".join(body) + "\n"


def digest_text(user: User, questions: list[Question], stale: list[Mandate], units: dict[str, str],
                settings: Settings) -> tuple[str, str]:
    """``(subject, body)`` of ``user``'s weekly digest: their open questions and entries past review."""
    today = settings.today()
    entries = "1 post" if len(stale) == 1 else f"{len(stale)} poster"
    subject = f"Mandatbot: ugens overblik ({len(questions)} spørgsmål, {entries} til gennemgang)"
    body = [_greeting(user), "", "Her er ugens overblik fra Mandatbot.", ""]
    if questions:
        body += [f"Spørgsmål, der venter på dit svar ({len(questions)}):", *_question_lines(questions, units, today), ""]
    else:
        body += ["Ingen spørgsmål venter på dit svar.", ""]
    if stale:
        body.append(f"Poster, hvis dato for gennemgang er passeret ({len(stale)}):")
        body += [f"• {e.topic} ({units.get(e.unit_id, e.unit_id)}; skulle gennemgås senest "
                 f"{danish_date(e.review_by, today)})" for e in stale[:MAX_PER_MAIL]]
        if len(stale) > MAX_PER_MAIL:
            body.append(f"… og {len(stale) - MAX_PER_MAIL} mere.")
        body += ["Er en post stadig rigtig, så klik »Stadig rigtig« ud for den; ellers ret den.", ""]
    body += [f"Se det hele under »Spørgsmål til dig«: {_inbox_url(settings)}", "", "Venlig hilsen", "Mandatbot"]
    return subject, "\n".join(body) + "\n"


def _unit_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Unit.id, Unit.name)).all())


def new_question_mails(session: Session, settings: Settings, sender: Mailer,
                       limit: int = 1000) -> tuple[list[EmailMessage], list[Question]]:
    """The mails about open questions no mail round has covered (``emailed_at`` None), and those questions.

    Nothing is changed; :func:`send_new_questions` sends and marks.
    """
    rows = session.execute(select(Question).where(*inbox.OPEN, Question.emailed_at.is_(None))
                           .order_by(Question.asked_at, Question.id).limit(limit)).scalars().all()
    if not rows:
        return [], []
    router = inbox.Router.load(session)
    units = _unit_names(session)
    by_unit: dict[str | None, list[User]] = {}
    per_user: dict[int, tuple[User, list[Question]]] = {}
    for question in rows:
        if question.unit_id not in by_unit:
            by_unit[question.unit_id] = inbox.recipients(session, router, question.unit_id)
        for user in by_unit[question.unit_id]:
            if user.email:
                per_user.setdefault(user.id, (user, []))[1].append(question)
    messages = []
    for user, questions in per_user.values():
        subject, body = new_questions_text(user, questions, units, settings)
        messages.append(sender.message(user.email, subject, body))
    return messages, rows


def send_new_questions(settings: Settings | None = None) -> MailReport:
    """Mail each recipient the new open questions routed to them, and mark them (see module docstring).

    Raises:
        bot.mail.MailError: the SMTP server failed (nothing is marked; the next round tries again).
        ValueError: ``MANDAT_SMTP_URL`` is malformed.
    """
    from bot.db.session import session_scope

    settings = settings or get_settings()
    sender = mailer(settings)
    if sender is None:
        return MailReport(0, configured=False)
    with session_scope(settings.database_url) as session:
        messages, rows = new_question_mails(session, settings, sender)
        sent = sender.send_all(messages)
        now = utcnow()
        for question in rows:
            question.emailed_at = now
        return MailReport(sent, len(rows))


def digest_mails(session: Session, settings: Settings, sender: Mailer) -> list[EmailMessage]:
    """The weekly digest of every active leader and HR account with an address and something to say."""
    router = inbox.Router.load(session)
    units = _unit_names(session)
    day = settings.today()
    users = session.execute(select(User).where(User.active.is_(True), User.role.in_(("leader", "hr")),
                                               User.email.is_not(None)).order_by(User.username)).scalars().all()
    messages = []
    for user in users:
        if not user.email:
            continue
        questions = inbox.open_questions(session, user, router, limit=MAX_PER_MAIL + 1000)
        stale = inbox.stale_entries(session, user, day, router)
        if not questions and not stale:
            continue
        subject, body = digest_text(user, questions, stale, units, settings)
        messages.append(sender.message(user.email, subject, body))
    return messages


def send_digest(settings: Settings | None = None) -> MailReport:
    """Send the weekly digest now, and record it in the audit log (``mail.digest``).

    Raises:
        bot.mail.MailError: the SMTP server failed (nothing is recorded).
        ValueError: ``MANDAT_SMTP_URL`` is malformed.
    """
    from bot.db.session import session_scope

    settings = settings or get_settings()
    sender = mailer(settings)
    if sender is None:
        return MailReport(0, configured=False)
    with session_scope(settings.database_url) as session:
        sent = sender.send_all(digest_mails(session, settings, sender))
        session.add(AuditLog(actor=None, action="mail.digest", target=None, detail={"mails": sent}))
        return MailReport(sent)


def digest_due(session: Session, now: dt.datetime | None = None) -> bool:
    """True when no digest went out in the last :data:`DIGEST_EVERY` (audit log ``mail.digest``)."""
    last = session.execute(select(func.max(AuditLog.at)).where(AuditLog.action == "mail.digest")).scalar()
    return last is None or (now or utcnow()) - last >= DIGEST_EVERY


class MailSender(threading.Thread):
    """Sends new-question mails every ``interval_s`` and the digest when due, in a daemon thread (the admin
    app's server process starts it when ``MANDAT_SMTP_URL`` is set). A failed round is logged and tried
    again at the next one; like :class:`bot.retention.DailyPurge`, a thread waiting on an event is all
    this takes."""

    def __init__(self, settings: Settings | None = None, interval_s: float = NEW_QUESTIONS_EVERY_S,
                 first_delay_s: float = 30.0):
        super().__init__(name="mandat-mail-sender", daemon=True)
        self.settings = settings
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self.rounds = 0
        self._stop_event = threading.Event()

    def run_once(self) -> None:
        """One round: new questions, then the digest when it is due."""
        from bot.db.session import session_scope

        settings = self.settings or get_settings()
        report = send_new_questions(settings)
        if report.mails:
            logger.info("Mail: %s", report.summary())
        with session_scope(settings.database_url) as session:
            due = digest_due(session)
        if due and report.configured:
            logger.info("Weekly digest: %s", send_digest(settings).summary())

    def run(self) -> None:
        delay = self.first_delay_s
        while not self._stop_event.wait(delay):
            try:
                self.run_once()
            except Exception:
                logger.exception("Mail round failed; it runs again in %.0f s", self.interval_s)
            self.rounds += 1
            delay = self.interval_s

    def stop(self) -> None:
        """Stop after the current round (tests and shutdown)."""
        self._stop_event.set()
