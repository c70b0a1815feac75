"""Telling an employee that their question has been answered ("Dit spørgsmål fra 3. december er besvaret").

When a leader or HR answers a stored question (:func:`bot.inbox.mark_answered`: a linked entry, a new
entry or a one-off reply), ``questions.answered_at`` is set. The next time the employee opens the chat
widget, the channel asks :func:`take_notices` for the conversation's answered questions not yet told,
and sends the messages it returns; ``notified_at`` is set in the same call, so each is said once.

The asker is found only through the pseudonym the question was stored under
(``bot.privacy.pseudonym(sender_id, MANDAT_PSEUDONYM_KEY)``, as :class:`bot.service.MandateService`
stores it): the raw employee id is never stored or needed. No Rasa imports: the channel only emits.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.answers import Reply
from bot.db.models import Mandate, Question, User, utcnow
from bot.domain import answerable
from bot.localtime import danish_date
from bot.privacy import pseudonym

MAX_NOTICES = 5
"""At most this many answered questions are told at one opening of the chat (the oldest first; the
rest the next time)."""

REPLY_TYPE = "expert_reply"
"""``custom.type`` of a leader's one-off reply as the widget shows it (a card with who answered)."""


def pending(session: Session, user_pseudonym: str | None, limit: int = MAX_NOTICES) -> list[Question]:
    """The questions asked under ``user_pseudonym`` that have been answered and not yet told, oldest first."""
    if not user_pseudonym:
        return []
    return session.execute(
        select(Question).where(Question.user_pseudonym == user_pseudonym, Question.answered_at.is_not(None),
                               Question.notified_at.is_(None))
        .order_by(Question.asked_at, Question.id).limit(limit)).scalars().all()


def _published(session: Session, question: Question) -> bool:
    """False while the entry that answers ``question`` is a draft or awaits approval (the bot does not
    answer from it yet); True for a reply, a published entry, or an entry that is gone."""
    if question.reply_text or not question.resolved_mandate_id:
        return True
    entry = session.get(Mandate, question.resolved_mandate_id)
    return entry is None or answerable(entry.status)


def headline(question: Question, today: dt.date) -> str:
    """``Dit spørgsmål fra 3. december er besvaret: «Må jeg ...?»`` (the stored, redacted text; the year
    is added when the question was asked in another year)."""
    return f"Dit spørgsmål fra {danish_date(question.asked_at, today)} er besvaret: «{question.text}»"


def _answerer(session: Session, username: str | None) -> str:
    if not username:
        return "din leder"
    name = session.execute(select(User.display_name).where(User.username == username)).scalar()
    return name or username


def reply_message(session: Session, question: Question) -> dict[str, Any]:
    """A one-off reply as a widget message: ``{"text", "custom": {"type": "expert_reply", "question_id",
    "reply", "answered_by"}}`` (``answered_by`` is the answerer's display name)."""
    who = _answerer(session, question.answered_by)
    return {"text": f"Svar fra {who}: {question.reply_text}",
            "custom": {"type": REPLY_TYPE, "question_id": question.id, "reply": question.reply_text,
                       "answered_by": who}}


def notice_messages(session: Session, question: Question, today: dt.date,
                    card: Callable[[Question], Reply | None]) -> list[dict[str, Any]]:
    """The widget messages telling the asker about ``question``: the headline, then the answer.

    Args:
        card: renders the answer card of the entry that answers the question
            (:meth:`bot.service.MandateService.answer_card`); None when the entry is gone.
    """
    messages: list[dict[str, Any]] = [{"text": headline(question, today)}]
    if question.reply_text:
        messages.append(reply_message(session, question))
        return messages
    reply = card(question) if question.resolved_mandate_id else None
    if reply is None:
        messages.append({"text": "Reglen, der besvarede det, findes ikke længere. Spørg gerne igen, "
                                 "eller spørg din leder."})
    else:
        messages.append({"text": reply.text, "custom": reply.custom})
    return messages


def take_notices(sender_id: str | None, service=None, settings=None) -> list[dict[str, Any]]:
    """The messages to send to the conversation ``sender_id`` about its answered questions, and mark
    those questions told (``notified_at``). Empty when there is nothing to tell.

    Args:
        sender_id: the conversation id the service stored the questions under (the widget's
            ``w-...`` id).
        service: the :class:`bot.service.MandateService` that renders entry cards (default: the
            process-wide one, built only when a card is needed).
        settings: a :class:`bot.config.Settings` (default: the service's, else :func:`bot.config.get_settings`).

    Returns:
        Widget messages (``{"text", "custom"?}``), in order.
    """
    from bot.config import get_settings
    from bot.db.session import session_scope

    explicit = settings is not None
    settings = settings or (service.settings if service is not None else get_settings())
    key = pseudonym(sender_id, settings.pseudonym_key)
    if not key:
        return []
    out: list[dict[str, Any]] = []
    with session_scope(settings.database_url) as session:
        rows = pending(session, key)
        if not rows:
            return []
        if service is None and any(not q.reply_text for q in rows):
            from bot.service import MandateService, default_service

            service = MandateService(settings) if explicit else default_service()

        def card(question: Question) -> Reply | None:
            return service.answer_card(session, question.resolved_mandate_id, question.text, question.unit_id,
                                       question.id)

        now = utcnow()
        for question in rows:
            if not _published(session, question):
                continue  # a draft made from the question: told once the entry is published
            out.extend(notice_messages(session, question, settings.today(), card))
            question.notified_at = now
    return out
