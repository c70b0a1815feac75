"""E-mail (issue 16): new questions to their leaders and the weekly digest through a local SMTP server
(aiosmtpd, started by the test); without MANDAT_SMTP_URL nothing is sent and nothing fails
(bot/mail.py, bot/mailing.py, ``mandat mail``)."""
from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest
from sqlalchemy import func, select

from bot.config import get_settings
from bot.db.models import AuditLog, Mandate, Question, User
from bot.mail import MailError, SmtpServer, valid_address
from bot.mailing import MailSender, send_digest, send_new_questions
from scripts.live import free_port
from tests.conftest import TODAY


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), session.authenticated))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"


@pytest.fixture()
def smtp(monkeypatch):
    """A local SMTP server (aiosmtpd) with a login; MANDAT_SMTP_URL points at it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"mandat" and auth_data.password == b"hemmelig@1")

    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    monkeypatch.setenv("MANDAT_SMTP_URL", f"smtp://mandat:hemmelig%401@127.0.0.1:{port}")
    monkeypatch.setenv("MANDAT_MAIL_FROM", "mandatbot@storkeby.dk")
    monkeypatch.setenv("MANDAT_ADMIN_BASE_URL", "https://mandat.storkeby.dk/")
    yield handler
    controller.stop()


@pytest.fixture()
def people(demo_db, session):
    """A leader of Hjemmeplejen Nord with an address, one of Syd without, HR with an address; questions."""
    session.add_all([
        User(username="nord", display_name="Nina Nord", role="leader", units=["hjemmeplejen-nord"],
             email="nina@storkeby.dk", password_hash="x"),
        User(username="syd", display_name="Sune Syd", role="leader", units=["hjemmeplejen-syd"], password_hash="x"),
        User(username="hr", display_name="Hanne HR", role="hr", email="hr@storkeby.dk", password_hash="x"),
        Question(unit_id="hjemmeplejen-nord", text="Må jeg tage min papegøje med?", outcome="unanswered",
                 status="new", asked_at=dt.datetime(2026, 11, 3, 9)),
        Question(unit_id="hjemmeplejen-syd", text="Må jeg låne en cykel?", outcome="unanswered", status="new"),
        Question(unit_id="vej-og-park", text="Må vi selv købe skovle?", outcome="unanswered", status="new"),
        Question(unit_id="hjemmeplejen-nord", text="Allerede besvaret", outcome="answered", status="answered",
                 mandate_id="soo-vikar"),
    ])
    session.commit()


def _emailed(session) -> int:
    return session.execute(select(func.count(Question.id)).where(Question.emailed_at.is_not(None))).scalar()


def test_smtp_urls_and_addresses():
    assert SmtpServer.from_url("smtp://mail.example.dk") == SmtpServer("mail.example.dk", 25, "plain")
    assert SmtpServer.from_url("smtps://u:p%2Fq@mail.example.dk") == SmtpServer("mail.example.dk", 465, "tls", "u", "p/q")
    assert SmtpServer.from_url("smtp+starttls://mail.example.dk:2525").port == 2525
    for bad in ("http://mail.example.dk", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ValueError):
            SmtpServer.from_url(bad)
    assert valid_address("lene.leder@storkeby.dk") and not valid_address("lene")
    assert not valid_address("a@b.dk, c@d.dk") and not valid_address("Lene <a@b.dk>")


def test_without_smtp_nothing_is_sent_and_nothing_fails(people, session, monkeypatch):
    monkeypatch.delenv("MANDAT_SMTP_URL", raising=False)
    report = send_new_questions()
    assert (report.configured, report.mails) == (False, 0) and "MANDAT_SMTP_URL" in report.summary()
    assert send_digest().configured is False
    assert _emailed(session) == 0
    assert session.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "mail.digest")).scalar() == 0
    MailSender().run_once()  # the admin app's round: nothing, no error
    from bot.cli import main

    assert main(["mail", "send"]) == 0 and main(["mail", "digest"]) == 0


def test_new_questions_go_to_their_leaders_once(people, session, smtp):
    report = send_new_questions()
    assert (report.mails, report.questions) == (2, 3)
    by_to = {m["To"]: m for m in smtp.messages}
    assert set(by_to) == {"nina@storkeby.dk", "hr@storkeby.dk"}
    assert all(authenticated for _, _, authenticated in smtp.envelopes)  # logged in with the URL's user
    nina = by_to["nina@storkeby.dk"]
    body = nina.get_content()
    assert nina["Subject"] == "Mandatbot: 1 nyt spørgsmål til dig"
    assert "mandatbot@storkeby.dk" in nina["From"]
    assert "«Må jeg tage min papegøje med?» (Hjemmeplejen Nord, 3. november)" in body
    assert "https://mandat.storkeby.dk/til-dig" in body and body.startswith("Hej Nina Nord")
    assert "cykel" not in body and "skovle" not in body and "Allerede besvaret" not in body
    # Syd's leader has no address, and HR gets only what no leader covers (Vej og Park).
    hr = by_to["hr@storkeby.dk"].get_content()
    assert "skovle" in hr and "cykel" not in hr and "papegøje" not in hr
    session.expire_all()
    assert _emailed(session) == 3
    assert send_new_questions().mails == 0 and len(smtp.messages) == 2  # told once
    session.add(Question(unit_id="hjemmeplejen-nord", text="Må jeg holde fri?", outcome="unanswered", status="new"))
    session.commit()
    assert send_new_questions().mails == 1 and "holde fri" in smtp.messages[-1].get_content()


def test_a_failing_server_marks_nothing(people, session, monkeypatch):
    monkeypatch.setenv("MANDAT_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    with pytest.raises(MailError):
        send_new_questions()
    assert _emailed(session) == 0
    from bot.cli import main

    assert main(["mail", "send"]) == 1


def test_weekly_digest_lists_open_questions_and_stale_entries(people, session, smtp):
    session.get(Mandate, "hpn-smaaindkoeb").review_by = TODAY - dt.timedelta(days=3)
    session.commit()
    report = send_digest()
    assert report.mails == 2
    by_to = {m["To"]: m for m in smtp.messages}
    nina = by_to["nina@storkeby.dk"]
    body = nina.get_content()
    assert nina["Subject"] == "Mandatbot: ugens overblik (1 spørgsmål, 1 post til gennemgang)"
    assert "«Må jeg tage min papegøje med?»" in body
    topic = session.get(Mandate, "hpn-smaaindkoeb").topic
    assert f"• {topic} (Hjemmeplejen Nord; skulle gennemgås senest 26. november)" in body
    assert "Stadig rigtig" in body and "https://mandat.storkeby.dk/til-dig" in body
    # HR: Vej og Park's question and the municipality's entries past review (sk-hjemmearbejde).
    hr = by_to["hr@storkeby.dk"].get_content()
    assert "skovle" in hr and session.get(Mandate, "sk-hjemmearbejde").topic in hr and topic not in hr
    assert session.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "mail.digest")).scalar() == 1


def test_the_background_sender_sends_the_digest_once_a_week(people, session, smtp):
    sender = MailSender(get_settings())
    sender.run_once()
    subjects = sorted(m["Subject"] for m in smtp.messages)
    assert len([s for s in subjects if "ugens overblik" in s]) == 2
    assert len([s for s in subjects if "til dig" in s]) == 2
    sender.run_once()
    assert len(smtp.messages) == 4  # nothing new, and the digest is not due for a week
    row = session.execute(select(AuditLog).where(AuditLog.action == "mail.digest")).scalar_one()
    row.at = row.at - dt.timedelta(days=8)
    session.commit()
    sender.run_once()
    assert len([m for m in smtp.messages if "ugens overblik" in m["Subject"]]) == 4
