"""Answering a question for a unit: catalogue + retrieval + answers + storage.

This is the one entry point the Rasa actions (and the admin preview) call.
Each call opens its own session; the retrieval index is cached per database
and rebuilt when the catalogue changed (a cheap fingerprint query per call),
so entries imported or edited at run time are answered at once.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.answers import Reply, clarify_reply, list_reply, mandate_reply, no_answer_reply
from bot.catalogue.tree import entries_in_force, unit_parents
from bot.catalogue.units import match_unit
from bot.config import Settings, get_settings, require_production_secrets
from bot.db.models import Feedback, Mandate, MandateHistory, Question, Unit
from bot.db.session import session_scope
from bot.decide import Candidate, Decision, load_models
from bot.domain import convert, review_status
from bot.domain import PUBLISHED
from bot.embeddings import Embedder, PassageCache, get_embedder
from bot.language import ENGLISH_FUNCTION_WORDS, DanishAnalyzer, looks_like_follow_up
from bot.privacy import pseudonym, redact
from bot import lexicon
from bot.lexicon import Lexicon
from bot.question import Question as ParsedQuestion, parse
from bot.quantities import Quantity, format_quantity
from bot.rules import TIME_UNITS, RuleCheck, check as check_rules, entry_limit
from bot.routes import detect_concern, route_answer
from bot.retrieval import CatalogueIndex, EntryDoc, Retriever, build_index


@dataclass
class Outcome:
    """What :meth:`MandateService.answer` did: the reply, the decision, the stored question id, the parsed
    question and the rule check of the answering entry (None without one)."""

    reply: Reply
    result: Decision
    question_id: int | None
    question: ParsedQuestion | None = None
    check: RuleCheck | None = None


@functools.lru_cache(maxsize=1)
def _analyzer(model: str) -> DanishAnalyzer:
    return DanishAnalyzer(model)


_LINKED = (Question.status == "answered", Question.resolved_mandate_id.isnot(None))
"""Questions HR marked as answered by an entry in the review queue (admin app)."""


def linked_questions(session: Session) -> dict[str, list[str]]:
    """``{mandate_id: [question text, ...]}`` of the questions HR linked to an entry, newest first.

    The texts are the stored, redacted ones (:mod:`bot.privacy`). Retrieval answers a
    question asked the same way with the entry (:func:`bot.retrieval.build_index`).
    """
    rows = session.execute(select(Question.resolved_mandate_id, Question.text).where(*_LINKED)
                           .order_by(Question.status_at.desc(), Question.id.desc()))
    out: dict[str, list[str]] = {}
    for mandate_id, text in rows:
        out.setdefault(mandate_id, []).append(text)
    return out


def own_terms(parsed: ParsedQuestion) -> tuple[str, ...]:
    """The question's topic terms: its terms without English function words in an English question
    (:data:`bot.language.ENGLISH_FUNCTION_WORDS`; the Danish analyser drops the Danish ones)."""
    if not parsed.english:
        return parsed.terms
    return tuple(t for t in parsed.terms if t not in ENGLISH_FUNCTION_WORDS)


def unrelated_quantity(parsed: ParsedQuestion, entry) -> str | None:
    """The unit of a quantity the question names that ``entry``'s limit does not speak of (no limit,
    or a limit in an unrelated unit: kroner against persons; minutes, hours and days are related,
    :func:`bot.rules.check` asks about a duration that does not convert), or None."""
    limit = entry_limit(entry)
    for quantity in parsed.quantities:
        if limit is None:
            return quantity.unit
        if quantity.unit == limit.unit or (quantity.unit in TIME_UNITS and limit.unit in TIME_UNITS):
            return None
    if limit is not None and parsed.quantities:
        return parsed.quantities[0].unit
    return None


def follow_up_question(parsed: ParsedQuestion, entry) -> ParsedQuestion:
    """``parsed`` with its one bare number read in the unit of ``entry``'s limit, when it names no
    quantity of that unit: after a rule of "højst 4 personer", "what about 6 of them?" asks about 6
    persons, and "hvad hvis vi er 12?" about 12 (the follow-up keeps the previous question's frame).
    Unchanged otherwise (no limit, no bare number, or more than one)."""
    limit = entry_limit(entry)
    if limit is None or len(parsed.numbers) != 1:
        return parsed
    if any(q.unit == limit.unit or convert(q.value, q.unit, limit.unit) is not None for q in parsed.quantities):
        return parsed
    value = parsed.numbers[0]
    meant = Quantity(value, limit.unit, format_quantity(value, limit.unit))
    return dataclasses.replace(parsed, quantities=parsed.quantities + (meant,))


class MandateService:
    """Answers mandate questions from the catalogue in the database.

    Args:
        settings: defaults to :func:`bot.config.get_settings`.
    """

    def __init__(self, settings: Settings | None = None, retriever: Retriever | None = None):
        self.settings = settings or get_settings()
        require_production_secrets(self.settings, ("MANDAT_PSEUDONYM_KEY",))  # outside dev mode: no dev key
        models = None if self.settings.decision_model.lower() == "none" else load_models(self.settings.decision_model)
        self.retriever = retriever or Retriever(models, self.settings.min_score, self.settings.min_margin)
        self._lock = threading.Lock()
        self._index: CatalogueIndex | None = None
        self._fingerprint: tuple | None = None
        self._passages: PassageCache | None = None
        self._warm_lock = threading.Lock()
        self._warm = False

    @property
    def embedder(self) -> Embedder | None:
        """The sentence embedder (``MANDAT_EMBEDDER``; loaded once per process, None for ``none``).

        Raises:
            bot.embeddings.EmbedderError: the configured embedder cannot be loaded.
        """
        return get_embedder(self.settings.embedder)

    @property
    def lexicon(self) -> Lexicon:
        """The Danish thesaurus and English dictionary (:func:`bot.lexicon.load`, loaded once)."""
        return lexicon.load(self.settings.lexicon_dir)

    def check_embedder(self) -> str:
        """Load the embedder now (at start-up) and say which one; raises EmbedderError as :attr:`embedder`."""
        embedder = self.embedder
        return embedder.name if embedder is not None else "none (words only)"

    def parse(self, text: str) -> ParsedQuestion:
        """The message parsed once (:func:`bot.question.parse`) with this service's analyser and embedder."""
        return parse(text, self.analyzer, self.embedder)

    @property
    def analyzer(self) -> DanishAnalyzer:
        """The Danish analyser (loaded once per process)."""
        return _analyzer(self.settings.spacy_model)

    def _session(self):
        return session_scope(self.settings.database_url)

    def index(self, session: Session) -> CatalogueIndex:
        """The retrieval index of the current catalogue's published entries (rebuilt after any change,
        a status change included; drafts and pending entries are left out by :func:`build_index`)."""
        fingerprint = (
            *session.execute(select(func.count(Mandate.id), func.max(Mandate.updated_at))).one(),
            session.execute(select(func.max(MandateHistory.id))).scalar(),
            session.execute(select(func.count(Unit.id))).scalar(),
            *session.execute(select(func.count(Question.id), func.max(Question.status_at))
                             .where(*_LINKED)).one(),
        )
        with self._lock:
            if self._index is None or fingerprint != self._fingerprint:
                entries = session.execute(select(Mandate)).scalars().all()
                units = session.execute(select(Unit)).scalars().all()
                names = [n for u in units for n in (u.name, *(u.aliases or []))]
                embedder = self.embedder
                if embedder is not None and self._passages is None:
                    self._passages = PassageCache(embedder, Path(self.settings.var_dir) / "embeddings")
                self._index = build_index(entries, self.analyzer, self.lexicon, names,
                                          linked_questions(session), passage_cache=self._passages)
                if self._passages is not None:
                    self._passages.save()
                self._fingerprint = fingerprint
            return self._index

    # -- units ------------------------------------------------------------
    def unit_exists(self, unit_id: str | None) -> bool:
        """True when ``unit_id`` is a unit in the catalogue."""
        if not unit_id:
            return False
        with self._session() as session:
            return session.get(Unit, unit_id) is not None

    def find_unit(self, text: str) -> str | None:
        """The unit named in ``text`` (id, name or alias; typo-tolerant), or None."""
        with self._session() as session:
            return match_unit(text, session.execute(select(Unit)).scalars().all())

    def unit_name(self, unit_id: str) -> str:
        """Display name of a unit (its id when unknown)."""
        with self._session() as session:
            unit = session.get(Unit, unit_id)
            return unit.name if unit else unit_id

    # -- answering --------------------------------------------------------
    WARM_UP_QUESTION = "Må jeg selv bestille en vikar, når en kollega er syg?"
    """Asked once per process by :meth:`warm_up` (nothing stored)."""

    def warm_up(self, unit_id: str) -> None:
        """Load everything an answer needs, once per process: the analyser, the embedder, the
        catalogue index with its passage vectors, the thesaurus and the rule check's vectors, by
        answering :data:`WARM_UP_QUESTION` for ``unit_id`` with ``store=False``. A second caller waits
        for the first. ``make run`` says "Klar" only after it (the readiness probe lists a team's
        mandates, :class:`actions.actions.ActionListMandates`): otherwise the first questions after
        "Klar" paid for the loading and ran past the action budget (a fresh user's trial).

        Raises:
            KeyError: ``unit_id`` is not a known unit.
        """
        with self._warm_lock:
            if self._warm:
                return
            self.answer(self.WARM_UP_QUESTION, unit_id, store=False)
            self._warm = True

    def answer(
        self,
        question: str,
        unit_id: str,
        *,
        user_id: str | None = None,
        intent: str | None = None,
        strict: bool = False,
        store: bool = True,
        store_unanswered: bool = True,
        last_mandate_id: str | None = None,
        carried_case: str | None = None,
    ) -> Outcome:
        """Answer ``question`` for ``unit_id``; store it (redacted) when ``store``.

        The one flow (DESIGN.md): the message is parsed once (:meth:`parse`), retrieval
        returns a frozen :class:`bot.decide.Decision`, the entry's rules are checked
        (:func:`bot.rules.check`), the question is recorded, and :mod:`bot.answers`
        renders the reply.

        Args:
            question: the user's whole message.
            unit_id: the asker's unit (must exist).
            user_id: the channel's user/sender id (stored only as a keyed hash).
            intent: the NLU intent, kept with the stored question.
            strict: demand a clearer match (NLU fallback / out of scope).
            store: False for previews: nothing is written.
            store_unanswered: False to store only answered questions (small
                talk the NLU called out of scope is not HR's business).
            last_mandate_id: the entry of the previous answer in this
                conversation; a short follow-up ("hvad hvis det koster
                8.000?") that retrieval cannot place is answered from it.
            carried_case: the exception case matched in the previous answer
                (:attr:`bot.rules.RuleCheck.case`): a follow-up keeps it.

        Raises:
            KeyError: ``unit_id`` is not a known unit.
            bot.embeddings.EmbedderError: the configured embedder cannot be loaded.
        """
        if not (question or "").strip() or (question or "").lstrip().startswith("/"):
            store = False  # an empty message or a typed command ("/ask_mandate{...}") is no question for HR
        parsed = self.parse(question)
        settings = self.settings
        with self._session() as session:
            if detect_concern(parsed.text):
                return self._concern(session, parsed, unit_id, user_id, intent, store)
            index = self.index(session)
            parents = unit_parents(session)
            # A short message that points back at the last answer ("hvad hvis det koster 8.000?")
            # is taken as a new question only on a clear match (strict).
            follow_up_like = bool(last_mandate_id) and looks_like_follow_up(question)
            decision = self.retriever.retrieve(index, parsed, unit_id, parents, settings.today(),
                                               strict=strict or follow_up_like)
            no_limit_topic = None
            if decision.action != "answer" and follow_up_like:
                decision, no_limit_topic = self._follow_up(decision, parsed, last_mandate_id,
                                                           lambda i: session.get(Mandate, i))
            entry = session.get(Mandate, decision.answer.mandate_id) if decision.answer else None
            check = None
            if entry is not None and decision.reason == "follow_up":
                parsed = follow_up_question(parsed, entry)
            if entry is not None:
                check = check_rules(parsed, entry, embedder=self.embedder, analyzer=self.analyzer,
                                    lexicon=self.lexicon, carried_case=carried_case if decision.reason == "follow_up" else None)
            qid = self._record(session, parsed, unit_id, user_id, intent, decision,
                               store and (decision.answer is not None or store_unanswered))
            reply = self._reply(decision, parsed, unit_id, qid, check, lambda i: session.get(Mandate, i),
                                lambda u: session.get(Unit, u).name, no_limit_topic)
            return Outcome(reply, decision, qid, parsed, check)

    def _reply(self, decision: Decision, parsed: ParsedQuestion, unit_id: str, qid: int | None,
               check: RuleCheck | None, entry_of, unit_name_of,
               previous_topic: tuple[str, str] | None = None) -> Reply:
        """Render ``decision`` (:mod:`bot.answers`): the clarifying question, the answer from its entry,
        or the honest "no answer" (naming a fitting rule of another unit or an expired one).

        Args:
            entry_of: ``mandate_id -> Mandate`` (the session's, or a preview's draft catalogue).
            unit_name_of: ``unit_id -> display name``.
            previous_topic: see :meth:`_follow_up`.
        """
        if decision.action == "clarify":
            return clarify_reply([entry_of(c.mandate_id) for c in decision.options], qid)
        entry = entry_of(decision.answer.mandate_id) if decision.answer else None
        if entry is not None:
            return mandate_reply(entry, unit_name=unit_name_of(entry.unit_id), asker_unit_id=unit_id,
                                 amount_dkk=parsed.amount_dkk, english=parsed.english, question_id=qid,
                                 follow_up=decision.reason == "follow_up", check=check,
                                 review_due=self._review_due(entry))
        outside = entry_of(decision.outside.mandate_id) if (
            decision.outside and decision.reason == "other_unit") else None
        expired = outside is not None and not outside.in_force(self.settings.today())
        return no_answer_reply(
            qid,
            outside_topic=outside.topic if outside else None,
            outside_unit_name=unit_name_of(outside.unit_id) if outside else None,
            outside_valid_to=outside.valid_to if expired else None,
            previous_topic=previous_topic[0] if previous_topic else None,
            previous_unit=previous_topic[1] if previous_topic else None,
        )

    def _concern(self, session: Session, parsed: ParsedQuestion, unit_id: str, user_id: str | None,
                 intent: str | None, store: bool) -> Outcome:
        """Concern for a child or a citizen, violence or abuse: always the duty and the unit's route to
        report it (:mod:`bot.routes`), never "må du selv", whatever entry the words resemble."""
        if session.get(Unit, unit_id) is None:
            raise KeyError(unit_id)
        reply = route_answer(session, unit_id, self.settings.today(), "concern", parsed.text)
        route = reply.custom
        answer = (Candidate(route["mandate_id"], route["unit"], route["decision"], 0.0, True)
                  if route.get("mandate_id") else None)
        decision = Decision("answer" if answer else "abstain", "concern", answer)
        qid = self._record(session, parsed, unit_id, user_id, intent, decision, store)
        reply = Reply(reply.text, {**route, "question_id": qid})
        return Outcome(reply, decision, qid, parsed, None)

    def _record(self, session: Session, parsed: ParsedQuestion, unit_id: str, user_id: str | None,
                intent: str | None, decision: Decision, store: bool) -> int | None:
        """Store the question (redacted) with what the bot did; its id, or None when not ``store``."""
        if not store:
            return None
        best = decision.best
        answered = decision.answer is not None
        row = Question(
            unit_id=unit_id, user_pseudonym=pseudonym(user_id, self.settings.pseudonym_key),
            text=redact(parsed.text), intent=intent,
            outcome="answered" if answered else "unanswered",
            mandate_id=decision.answer.mandate_id if answered else None,
            decision=decision.answer.decision if answered else None,
            best_mandate_id=best.mandate_id if best else None,
            best_score=round(best.score, 4) if best else None,
            status="answered" if answered else "new",
            offered=[c.mandate_id for c in decision.options] or None,
        )
        session.add(row)
        session.flush()
        return row.id

    @staticmethod
    def _follow_up(decision: Decision, parsed: ParsedQuestion, last_mandate_id: str,
                   entry_of) -> tuple[Decision, tuple[str, str] | None]:
        """Answer from the previous entry when ``parsed`` is a short follow-up to it (the caller has
        checked :func:`bot.language.looks_like_follow_up`).

        Only when the previous entry is still in force for the unit and the
        question has at most two topic words of its own (so "Må vi også selv
        vælge vikar?" stays a new question), and not when the question names
        a quantity the entry has no limit for (:func:`unrelated_quantity`):
        "hvad hvis det koster 8.000?" after a rule about swapping shifts is not
        answered "ja", nor "og hvis det er 3 dage?" after a rule without a limit.

        Returns:
            ``(decision, previous)``: the decision answered from the previous entry, or
            unchanged; ``previous`` only in that last case, ``(topic, unit)`` of the previous
            entry and the question's quantity (the reply says the rule does not speak of it).
        """
        if last_mandate_id not in decision.in_scope or len(own_terms(parsed)) > 2:
            return decision, None
        entry = entry_of(last_mandate_id)
        unrelated = unrelated_quantity(parsed, entry)
        if unrelated is not None:
            return decision, (entry.topic, unrelated)
        return dataclasses.replace(decision, action="answer", reason="follow_up",
                                   answer=Candidate(entry.id, entry.unit_id, entry.decision, 0.0, True)), None

    def answer_from_entry(self, mandate_id: str, unit_id: str, question_id: int | None = None,
                          user_id: str | None = None) -> Reply:
        """The answer from a chosen entry (the user picked it after "Handler det om ...?").

        The stored question is checked against the entry's exceptions, limit and conditions
        (:func:`bot.rules.check`) as a direct answer would be, and marked answered by the entry,
        but only when it is the asker's own question: same unit, and asked under the same
        pseudonymous user id (``user_id``). Anyone else's question id changes nothing.

        Raises:
            KeyError: the entry is not in force for ``unit_id``.
        """
        with self._session() as session:
            in_force = {e.id: e for e in entries_in_force(session, unit_id, self.settings.today())}
            if mandate_id not in in_force:
                raise KeyError(mandate_id)
            entry = in_force[mandate_id]
            row = session.get(Question, question_id) if question_id is not None else None
            own = row is not None and row.unit_id == unit_id and row.user_pseudonym == pseudonym(
                user_id, self.settings.pseudonym_key)
            check = None
            if own:
                row.outcome, row.status = "answered", "answered"
                row.mandate_id, row.decision = entry.id, entry.decision
                check = check_rules(self.parse(row.text), entry, embedder=self.embedder, analyzer=self.analyzer,
                                    lexicon=self.lexicon)
            return mandate_reply(entry, unit_name=entry.unit.name, asker_unit_id=unit_id,
                                 question_id=question_id if own else None, check=check,
                                 review_due=self._review_due(entry))

    def _review_due(self, entry: Mandate) -> bool:
        """True when ``entry`` is past its review date today (:func:`bot.domain.review_status`)."""
        return review_status(getattr(entry, "review_by", None), self.settings.today()) == "due"

    def answer_card(self, session: Session, mandate_id: str, text: str, unit_id: str | None,
                    question_id: int | None = None) -> Reply | None:
        """The answer card the bot gives from entry ``mandate_id`` to the stored question ``text``
        asked in ``unit_id``: checked against the entry's exceptions, conditions and limit
        (:func:`bot.rules.check`) as a direct answer is; nothing is stored. Used to tell an asker
        about an entry a leader linked or created for their question (:mod:`bot.notices`).

        Args:
            session: open session (the caller's).
            question_id: put in the payload (for the card's feedback buttons).

        Returns:
            The :class:`bot.answers.Reply`, or None when the entry no longer exists.
        """
        entry = session.get(Mandate, mandate_id)
        if entry is None:
            return None
        check = check_rules(self.parse(text), entry, embedder=self.embedder, analyzer=self.analyzer,
                            lexicon=self.lexicon)
        return mandate_reply(entry, unit_name=entry.unit.name if entry.unit else None, asker_unit_id=unit_id,
                             question_id=question_id, check=check, review_due=self._review_due(entry))

    def list_entries(self, unit_id: str) -> Reply:
        """The unit's entries in force, grouped by who decides.

        Raises:
            KeyError: ``unit_id`` is not a known unit.
        """
        with self._session() as session:
            entries = entries_in_force(session, unit_id, self.settings.today())
            return list_reply(entries, session.get(Unit, unit_id).name)

    def record_feedback(
        self, value: str, *, mandate_id: str | None = None, question_id: int | None = None,
        unit_id: str | None = None, user_id: str | None = None, comment: str | None = None,
    ) -> int:
        """Store feedback (``up``, ``down`` or ``mistake``); returns its id.

        Raises:
            ValueError: ``value`` is not one of the three.
        """
        if value not in ("up", "down", "mistake"):
            raise ValueError(f"feedback value must be up, down or mistake, not {value!r}")
        with self._session() as session:
            if question_id is not None and session.get(Question, question_id) is None:
                question_id = None
            row = Feedback(
                value=value, mandate_id=mandate_id, question_id=question_id, unit_id=unit_id,
                user_pseudonym=pseudonym(user_id, self.settings.pseudonym_key),
                comment=redact(comment) if comment else None,
            )
            session.add(row)
            session.flush()
            return row.id

    def preview_draft(self, question: str, unit_id: str, draft: Mandate, *,
                      linked: tuple[str, ...] = ()) -> Outcome:
        """The answer to ``question`` in ``unit_id`` with ``draft`` in the catalogue; nothing is stored.

        The admin app's preview: ``draft`` (a transient :class:`Mandate` built from an unsaved
        entry form, in no session) replaces the stored entry with its id, or is added when there
        is none. The same flow as :meth:`answer` (parse, retrieval and its calibrated decision,
        :func:`bot.rules.check`, :mod:`bot.answers`) runs on a throwaway index of that catalogue;
        the cached index is left as it is. The draft is treated as published whatever its status
        (a leader previews a draft as it will be answered); other drafts stay out. ``linked`` are question texts to treat as linked to
        the draft in the review queue (the review queue shows what a link would change). A
        message of concern is answered as :meth:`answer` answers it, with the saved catalogue's
        route (the draft takes no part).

        Returns:
            An :class:`Outcome` with ``question_id`` None; its ``check`` is the rule check of the
            answering entry (the draft or another one), None without an answer.

        Raises:
            KeyError: ``unit_id`` is not a known unit.
            bot.embeddings.EmbedderError: the configured embedder cannot be loaded.
        """
        parsed = self.parse(question)
        settings = self.settings
        with self._session() as session:
            units = {u.id: u for u in session.execute(select(Unit)).scalars()}
            if unit_id not in units:
                raise KeyError(unit_id)
            if detect_concern(parsed.text):  # as in answer(): the saved catalogue's route, whatever the draft
                return self._concern(session, parsed, unit_id, None, None, False)
            entries = [e for e in session.execute(select(Mandate)).scalars() if e.id != draft.id] + [draft]
            learned = linked_questions(session)
            if linked:
                learned[draft.id] = list(dict.fromkeys([*linked, *learned.get(draft.id, [])]))
            embedder = self.embedder
            with self._lock:
                if embedder is not None and self._passages is None:
                    self._passages = PassageCache(embedder, Path(settings.var_dir) / "embeddings")
            names = [n for u in units.values() for n in (u.name, *(u.aliases or []))]
            # The draft is previewed as it would be answered once published, whatever its status.
            docs = [EntryDoc.from_entry(e) for e in entries[:-1]] + [
                dataclasses.replace(EntryDoc.from_entry(draft), status=PUBLISHED)]
            index = build_index(docs, self.analyzer, self.lexicon, names, learned,
                                passage_cache=self._passages)
            decision = self.retriever.retrieve(index, parsed, unit_id, unit_parents(session), settings.today())
            by_id = {e.id: e for e in entries}
            entry = by_id.get(decision.answer.mandate_id) if decision.answer else None
            check = check_rules(parsed, entry, embedder=embedder, analyzer=self.analyzer,
                                lexicon=self.lexicon) if entry else None
            reply = self._reply(decision, parsed, unit_id, None, check, by_id.get,
                                lambda u: units[u].name if u in units else u)
            return Outcome(reply, decision, None, parsed, check)

@functools.lru_cache(maxsize=1)
def default_service() -> MandateService:
    """The process-wide service (built on first use, not at import)."""
    return MandateService()
