"""Good stories: told in the chat, reviewed by HR, shown on the dashboard and exported for the intranet.

The chat flow (``story_form`` in ``domain.yml``, ``actions/stories.py``) asks three things: what
happened, what the employee decided themself, and whether the story may be shared. This module is
the part of that flow that knows no Rasa:

* :func:`is_stop` and :func:`yes_or_no` read the employee's replies ("glem det", "ja gerne");
* :func:`record_story` stores a :class:`bot.db.models.Story`: every text through
  :func:`bot.privacy.redact`, the user only as :func:`bot.privacy.pseudonym`, status ``new``;
* :func:`review` is HR's approve/decline (``bot.domain.STORY_STATUSES``);
* :func:`shared_stories` lists the approved stories that may be shared (the only ones shown on the
  dashboard, in the LMU report and in the export) and :func:`export_markdown` writes them as a
  short Danish text for the intranet, with no pseudonym and no reviewer in it.

Callers open sessions and commit.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Story, utcnow
from bot.domain import STORY_STATUSES
from bot.language import words
from bot.localtime import danish_date
from bot.privacy import pseudonym, redact

MAX_TEXT_CHARS = 2000
"""A story's texts are cut to this many characters before they are stored."""

STOP_WORDS = frozenset(
    "stop stopp glem annuller annullér annuler afbryd fortryd fortryder drop cancel".split())
"""Words that stop the story flow when a short message holds one ("stop", "glem det", "nej, afbryd")."""
STOP_PHRASES = frozenset({("ikke", "alligevel"), ("never", "mind"), ("forget", "it")})
"""Two-word phrases that stop the flow in a short message ("jeg vil ikke alligevel")."""
MAX_STOP_WORDS = 6
"""A message of more words is a story, even when it holds a stop word ("vi stoppede ...")."""

YES_WORDS = frozenset("ja jo jep gerne yes ok okay selvfølgelig sagtens klart fint del".split())
NO_WORDS = frozenset("nej ikke næh nope no helst aldrig".split())


def is_stop(text: str | None) -> bool:
    """True when ``text`` asks to stop telling the story ("stop", "Glem det!", "jeg vil ikke alligevel").

    Only a short message (at most :data:`MAX_STOP_WORDS` words) counts, so a story that mentions
    stopping something is never taken for a stop.
    """
    tokens = words(text or "")
    if not tokens or len(tokens) > MAX_STOP_WORDS:
        return False
    pairs = set(zip(tokens, tokens[1:]))
    return bool(STOP_WORDS.intersection(tokens) or STOP_PHRASES & pairs)


def yes_or_no(text: str | None) -> bool | None:
    """The answer to "may it be shared?" in free text: True ("ja", "det må I gerne"), False ("nej",
    "helst ikke"), or None when it says neither. A "no" word wins over a "yes" word ("ja, men helst ikke")."""
    tokens = set(words(text or ""))
    if tokens & NO_WORDS:
        return False
    if tokens & YES_WORDS:
        return True
    return None


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()[:MAX_TEXT_CHARS]
    return redact(text) if text else None


def record_story(
    session: Session,
    *,
    what_happened: str,
    own_decision: str | None,
    may_share: bool,
    user_id: str | None,
    unit_id: str | None,
    key: str,
) -> Story:
    """Add a new good story to ``session`` (the caller commits) and return it.

    Args:
        what_happened: the employee's account; redacted and cut to :data:`MAX_TEXT_CHARS`.
        own_decision: what they decided themself (redacted), or None.
        may_share: whether it may be shown on the dashboard and the intranet once HR approves.
        user_id: the Rasa sender id; stored only as its pseudonym (``key``, HMAC-SHA256).
        unit_id: the employee's unit, or None when the conversation does not know it.
        key: :attr:`bot.config.Settings.pseudonym_key`.

    Raises:
        ValueError: ``what_happened`` is empty.
    """
    what = _clean(what_happened)
    if not what:
        raise ValueError("a story needs a text")
    story = Story(created_at=utcnow(), unit_id=unit_id, user_pseudonym=pseudonym(user_id, key),
                  what_happened=what, own_decision=_clean(own_decision), may_share=bool(may_share),
                  status="new")
    session.add(story)
    session.flush()
    return story


def review(story: Story, status: str, by: str, now: dt.datetime | None = None) -> None:
    """Set HR's review of ``story`` (the caller commits).

    Args:
        status: ``approved`` or ``declined`` (``new`` puts it back in the queue).
        by: the reviewer's user name (``status_by``).
        now: the time of the review (naive UTC; default now).

    Raises:
        ValueError: ``status`` is not one of :data:`bot.domain.STORY_STATUSES`.
    """
    if status not in STORY_STATUSES:
        raise ValueError(f"unknown story status: {status!r}")
    story.status = status
    story.status_by = by if status != "new" else None
    story.status_at = (now or utcnow()) if status != "new" else None


def shared_stories(
    session: Session,
    units: Iterable[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int | None = None,
) -> list[Story]:
    """The approved stories that may be shared, newest first.

    Args:
        units: only stories of these unit ids (None: all, also stories without a unit).
        start, end: only stories told in ``[start, end)`` (naive UTC; None: open).
        limit: at most this many.
    """
    query = select(Story).where(Story.status == "approved", Story.may_share.is_(True))
    if units is not None:
        query = query.where(Story.unit_id.in_(sorted(set(units))))
    if start is not None:
        query = query.where(Story.created_at >= start)
    if end is not None:
        query = query.where(Story.created_at < end)
    query = query.order_by(Story.created_at.desc(), Story.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def _markdown_text(text: str) -> str:
    """User text as Markdown paragraphs that cannot become headings, lists, quotes or HTML."""
    out = []
    for line in text.strip().splitlines():
        line = line.strip().replace("<", "&lt;")
        if line[:1] in "#>-*+|=`~" and line:
            line = "\\" + line
        out.append(line)
    return "\n".join(out)


def export_markdown(stories: Sequence[Story], unit_names: Mapping[str, str], title: str = "Gode historier") -> str:
    """``stories`` as a short Markdown text for the intranet, with Danish headings.

    One section per story: the unit's name and the date as its heading, then "Det skete" and
    "Det besluttede medarbejderen selv". No pseudonym, reviewer or id is written: only the
    (redacted) texts, the unit and the date.
    """
    lines = [f"# {title}", "",
             "Medarbejdere fortæller om beslutninger, de selv tog inden for deres mandat.", ""]
    if not stories:
        lines += ["Der er endnu ingen godkendte historier, der må deles.", ""]
    for story in stories:
        unit = unit_names.get(story.unit_id or "", "")
        heading = f"{unit}, {danish_date(story.created_at)}" if unit else danish_date(story.created_at)
        lines += [f"## {heading}", "", "**Det skete:**", "", _markdown_text(story.what_happened), ""]
        if story.own_decision:
            lines += ["**Det besluttede medarbejderen selv:**", "", _markdown_text(story.own_decision), ""]
    return "\n".join(lines).rstrip() + "\n"
