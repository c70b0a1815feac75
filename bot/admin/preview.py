"""What the bot would answer, as the admin app shows it: the widget's own card, and the risk of a link.

Three pages show an answer before it reaches an employee: "Prøv botten" (the saved
catalogue), the entry form's "Forhåndsvis svar" (the unsaved form in place of the saved
entry, :meth:`bot.service.MandateService.preview_draft`) and the review queue's link step
(the question as if HR had linked it). Each renders the reply's ``custom`` payload with the
chat widget's own code (``mandat-widget.js`` in cards mode, ``window.MandatbotCards``); the
message is handed to it as JSON in a ``data-mandat-message`` attribute, with the plain text
as the fallback without JavaScript.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bot.admin.auth import current
from bot.admin.common import db, service
from bot.db.models import Mandate

REASONS = {
    "answered": "Botten svarer ud fra posten nedenfor.",
    "follow_up": "Botten svarer ud fra posten fra det forrige spørgsmål.",
    "clarify": "To eller flere poster passer næsten lige godt: botten spørger, hvilken der menes.",
    "concern": "Bekymring for et barn eller en borger, vold eller overgreb: botten svarer altid med pligten og "
               "vejen til at melde det.",
    "low_score": "Ingen post passer godt nok: botten siger ærligt, at den ikke ved det, og gemmer spørgsmålet til HR.",
    "tie": "To poster passer næsten lige godt: botten svarer ikke for ikke at gætte.",
    "other_unit": "En post for en anden enhed (eller en udløbet post) passer bedre: botten svarer ikke.",
    "no_entries": "Der er ingen poster for enheden.",
}
"""Why the bot answered as it did (:attr:`bot.decide.Decision.reason`), in Danish."""

SAYS_YES = ("employee", "team")
"""``custom["decides"]`` of a headline that lets the employee or the team decide."""
EXCLUDED = ("exception", "over_limit", "check")
"""Rule-check statuses (:data:`bot.rules.STATUSES`) and verdicts where the entry's exceptions or limit
exclude the case, or the bot cannot tell whether they do."""


def widget_message(reply) -> dict[str, Any]:
    """A :class:`bot.answers.Reply` as the chat widget receives it: ``{text, custom, quick_replies}``.

    A clarifying reply gets one quick reply per option, plus "Ingen af dem" (``none_label``), as the
    Rasa action sends them (``actions.actions.answer_question``); the preview's buttons send nothing.
    """
    message: dict[str, Any] = {"text": reply.text, "custom": reply.custom}
    if reply.custom.get("type") == "clarify":
        titles = [option["topic"] for option in reply.custom["options"]]
        if reply.custom.get("none_label"):
            titles.append(reply.custom["none_label"])
        message["quick_replies"] = [{"title": title, "payload": ""} for title in titles]
    return message


def answer_result(outcome, draft: Mandate | None = None) -> dict[str, Any]:
    """The template values of an answer (``preview_result.html``): the widget message, the reason, and
    the best entries for the unit with their topics (``draft``: the unsaved entry, not in the database)."""
    result = outcome.result
    ids = [c.mandate_id for c in result.candidates] + ([result.outside.mandate_id] if result.outside else [])
    topics = dict(db().execute(select(Mandate.id, Mandate.topic).where(Mandate.id.in_(ids))).all()) if ids else {}
    if draft is not None:
        topics[draft.id] = draft.topic
    access = current().access
    draft_saved = draft is None or db().get(Mandate, draft.id) is not None
    return {
        "text": outcome.reply.text,
        "custom": outcome.reply.custom,
        "message": widget_message(outcome.reply),
        "reason": result.reason,
        "reason_text": REASONS.get(result.reason, result.reason),
        "answer": result.answer,
        "draft_id": draft.id if draft is not None else None,
        "candidates": [(c, topics.get(c.mandate_id, ""),
                        access.can_read_unit(c.unit_id) and (draft_saved or c.mandate_id != draft.id))
                       for c in result.candidates],
        "outside": result.outside,
        "outside_topic": topics.get(result.outside.mandate_id) if result.outside else None,
    }


def saved_answer(question: str, unit: str) -> dict[str, Any]:
    """The bot's answer for ``question`` in ``unit`` from the saved catalogue (nothing is stored)."""
    return answer_result(service().answer(question, unit, store=False))


def draft_answer(question: str, unit: str, draft: Mandate) -> dict[str, Any]:
    """The bot's answer for ``question`` in ``unit`` with the unsaved ``draft`` in the catalogue."""
    return answer_result(service().preview_draft(question, unit, draft), draft)


def excludes(status: str | None, exception: dict | None) -> bool:
    """Whether a rule-check status (or an answer's verdict) with its exception keeps the employee or
    team from deciding: over the limit, cannot tell (``check``), or an exception that someone else
    decides or that is never allowed (an exception the team decides does not exclude the team)."""
    if status in ("over_limit", "check"):
        return True
    return status == "exception" and (exception or {}).get("decision") not in SAYS_YES


@dataclass
class LinkPreview:
    """What linking a question to an entry would do (the review queue shows it before the link).

    Attributes:
        question: the question's (redacted) text.
        unit: the unit it was asked in.
        result: :func:`answer_result` of the answer the question would get after the link.
        from_entry: that answer comes from the linked entry.
        status: the linked entry's rule check of the question (:attr:`bot.rules.RuleCheck.status`).
        exception: the exception of that check (None when none).
        case: what in the entry excludes the question, in Danish (None when nothing does).
    """

    question: str
    unit: str
    result: dict[str, Any]
    from_entry: bool
    status: str
    exception: dict | None
    case: str | None

    @property
    def says_yes(self) -> bool:
        """The answer's headline lets the employee or the team decide."""
        custom = self.result["custom"]
        return custom.get("type") == "mandate_answer" and custom.get("decides") in SAYS_YES

    @property
    def excluded(self) -> bool:
        """The entry's exceptions or limit exclude the question (or the bot cannot tell), by the entry's
        rule check or by the verdict of the answer when it comes from the entry."""
        custom = self.result["custom"]
        return excludes(self.status, self.exception) or (
            self.from_entry and excludes(custom.get("verdict"), custom.get("exception")))

    @property
    def wrong_yes(self) -> bool:
        """The answer would let the employee or team decide a case that the entry excludes."""
        return self.says_yes and self.excluded


def _what_excludes(check, entry: Mandate) -> str | None:
    """What in ``entry`` excludes the question by ``check``, in Danish (None when nothing does)."""
    from bot.quantities import format_quantity

    if check is None or not excludes(check.status, check.exception):
        return None
    if check.status == "exception" or (check.status == "check" and check.exception):
        return f"undtagelsen «{check.exception.get('case')}»"
    if check.limit is not None:
        return f"grænsen på {format_quantity(check.limit.value, check.limit.unit)}"
    return f"betingelsen «{check.condition}»" if check.condition else f"reglen i «{entry.topic}»"


def link_preview(question: str, unit: str, entry: Mandate) -> LinkPreview:
    """The answer ``question`` (asked in ``unit``) would get once linked to ``entry``, and whether the
    entry's exceptions or limit exclude it.

    The answer runs the bot's whole flow with the question linked to the entry
    (:meth:`bot.service.MandateService.preview_draft` with ``linked``). When the answer comes from
    another entry, the linked entry's rule check (:func:`bot.rules.check`) is run on the question as
    well, so an exclusion is found all the same.
    """
    from bot.rules import check as check_rules

    svc = service()
    outcome = svc.preview_draft(question, unit, entry, linked=(question,))
    custom = outcome.reply.custom
    from_entry = custom.get("type") == "mandate_answer" and custom.get("mandate_id") == entry.id
    check = outcome.check if from_entry else check_rules(outcome.question, entry, embedder=svc.embedder,
                                                         analyzer=svc.analyzer)
    return LinkPreview(question, unit, answer_result(outcome), from_entry, check.status,
                       check.exception, _what_excludes(check, entry))
