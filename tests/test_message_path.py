"""Linear time and limits on the message path (issue 14, "Limits and linear time").

* Every function with a regular expression on the per-message path reads
  100 KB of each character class (and inputs aimed at its patterns) in under
  1 s, without the cap in front of it: the functions themselves are linear.
* The whole path below the channels' cap (``service.parse``, ``service.answer``
  on the demo catalogue with ``store=False``, ``redact``) takes under 1 s per
  100 KB class; ``parse`` reads at most ``MANDAT_MAX_MESSAGE_CHARS`` characters
  and embeds at most :data:`bot.question.EMBED_MAX_CHARS`.
* Actions run off the event loop with a budget (:mod:`actions.budget`): a slow
  or failing service call gets the Danish apology within the budget, and two
  conversations are answered side by side, not one after the other.

1 s is a generous safety bound, not a latency target: the issue's quadratic
amount pattern took 2 s on 5,000 digits and 33 s on 20,000, and these functions
take a few hundredths of a second per 100 KB on an idle machine. The machine
running the suite is shared and loaded, so each timing is the best of up to
three runs (a run over the bound is repeated; a super-linear function is never
fast), and the worst is printed (``pytest -s``).
"""
from __future__ import annotations

import asyncio
import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import language, question, quantities, restrictions, retrieval, routes, rules
from bot.privacy import redact

BOUND_S = 2.0
"""A safety bound, not a speed target: linear steps read 100 KB in well under 0.5 s here, a quadratic one
would take minutes. 1.0 s failed once at 1.03 s for the whole path on emoji while other test runs shared
the 2 cores (2026-12-01)."""
SIZE = 100_000


def _fill(unit: str, size: int = SIZE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


CLASSES = {
    "digits": _fill("0123456789"),
    "letters": _fill("abcdefghij"),
    "spaces": " " * SIZE,
    "punctuation": _fill(".,;:!?-/()\"'"),
    "mixed": _fill("Må jeg købe 12.500 kr. til 01-02-03 1234, a.b@c.dk ? "),
    "danish": _fill("æøåÆØÅ"),
    "emoji": _fill("😀🎉"),
}
"""100 KB (characters) of each character class the issue names, and Danish letters and emoji."""

AIMED = {
    "newlines": "\n" * SIZE,
    "whitespace": _fill(" \t\n\r\u00a0"),
    "digit-runs": _fill("1 "),
    "decimal-runs": _fill("1."),
    "dash-runs": _fill("1-"),
    "hyphenated-word": _fill("a-"),
    "amounts": _fill("12.500,50 kr. "),
    "cpr": _fill("010203-1234 "),
    "phones": _fill("+45 12 34 56 78 "),
    "at-mail": _fill("anna (at) "),
    "dotted-local": _fill("a."),
    "names-and-streets": _fill("Fru Jensen på Skovvej 12 "),
    "capitalised": _fill("Ab "),
    "contrast": "ikke " + "a" * SIZE,
    "contrast-repeated": _fill("ikke a "),
    "worry": "bekymret for " + _fill("a, "),
    "question-words": _fill("må "),
    "quantities-and-numbers": _fill("1 dag 2 "),
    "vague-and-ranges": _fill("et par 2-3 over mandag til "),
}
"""Inputs aimed at the patterns: long runs around separators, repeated prefixes of a match."""

REGEX_FUNCTIONS = {
    "language.normalise": language.normalise,
    "language.words": language.words,
    "language.parse_amounts": language.parse_amounts,
    "language.looks_like_follow_up": language.looks_like_follow_up,
    "language.option_choice": lambda text: language.option_choice(text, 3),
    "language.looks_english": language.looks_english,
    "question.split_sentences": question.split_sentences,
    "question.asking_sentence": lambda text: question.asking_sentence(question.split_sentences(text)),
    "quantities.parse_quantities": quantities.parse_quantities,
    "quantities.bare_numbers": quantities.bare_numbers,
    "privacy.redact": redact,
    "routes.detect_concern": routes.detect_concern,
    "routes.asks_permission": routes.asks_permission,
    "routes._kinds": routes._kinds,
    "routes._stems": routes._stems,
    "rules._sentences": rules._sentences,
    "rules._NOBODY": lambda text: rules._NOBODY.search(text),
    "rules._LIMIT_WORDS": lambda text: rules._LIMIT_WORDS.search(text),
    "rules._ALTERNATIVES": lambda text: rules._ALTERNATIVES.split(text),
    "restrictions.restricts": restrictions.restricts,
    "restrictions._sentences": restrictions._sentences,
    "retrieval._AT_WORK": lambda text: retrieval._AT_WORK.sub(" ", text),
    "retrieval._CONTRAST": lambda text: retrieval._CONTRAST.sub(" ", text),
}
"""The per-message functions and patterns of bot/language, question, quantities, privacy, routes,
rules, restrictions and retrieval. (bot/channels has no pattern on the message path.)"""


def best_time(function, *args, bound_s: float = BOUND_S, tries: int = 3) -> float:
    """The shortest wall time of up to ``tries`` runs of ``function(*args)``, in seconds; stops at the
    first run within ``bound_s``."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        function(*args)
        best = min(best, time.perf_counter() - started)
        if best <= bound_s:
            break
    return best


@pytest.mark.parametrize("name", [*CLASSES, *AIMED])
def test_every_pattern_on_the_message_path_reads_100_kb_within_the_bound(name):
    text = {**CLASSES, **AIMED}[name]
    times = {function: best_time(run, text) for function, run in REGEX_FUNCTIONS.items()}
    worst = max(times, key=times.get)
    print(f"\n{name}: worst {worst} {times[worst]:.3f} s")
    assert {f: round(t, 3) for f, t in times.items() if t > BOUND_S} == {}


@pytest.fixture()
def demo_service(demo_db, monkeypatch):
    """The demo catalogue's service, warmed up (models and index loaded) as in a running bot."""
    from bot.service import MandateService

    monkeypatch.setenv("MANDAT_DEV_MODE", "1")
    service = MandateService()
    service.answer("Må jeg bytte vagt med en kollega?", "hjemmeplejen-syd", store=False)
    return service


def test_the_whole_path_stays_within_the_bound_on_100_kb_of_each_class(demo_service):
    """``service.parse``, ``service.answer`` (demo catalogue, ``store=False``) and ``redact``."""
    worst = (0.0, "")
    for name, text in CLASSES.items():
        for step, run in (("parse", demo_service.parse),
                          ("answer", lambda t: demo_service.answer(t, "hjemmeplejen-syd", store=False)),
                          ("redact", redact)):
            took = best_time(run, text)
            worst = max(worst, (took, f"{step} on {name}"))
            assert took < BOUND_S, f"{step} on 100 KB of {name}: {took:.2f} s"
    print(f"\nworst: {worst[1]} {worst[0]:.3f} s")


def test_parse_reads_at_most_the_cap_and_embeds_a_bounded_part(demo_service, monkeypatch):
    parsed = demo_service.parse(CLASSES["mixed"])
    assert len(parsed.text) == 2000 and parsed.embedding is not None
    monkeypatch.setenv("MANDAT_MAX_MESSAGE_CHARS", "50")
    assert demo_service.parse(CLASSES["letters"]).text == CLASSES["letters"][:50]
    story = "Fortælling. " * 100 + "Må jeg tage hunden med?"
    part = question._embedded_part(story)
    assert len(part) <= question.EMBED_MAX_CHARS + 3 and part.endswith("Må jeg tage hunden med?")
    assert question._embedded_part("Må jeg bytte vagt?") == "Må jeg bytte vagt?"


# -- actions: off the event loop, within the budget ---------------------------------------------

def _tracker(text: str) -> Tracker:
    latest = {"text": text, "intent": {"name": "ask_mandate", "confidence": 0.9}, "entities": [],
              "metadata": {"team": "hjemmeplejen-syd"}}
    return Tracker(sender_id="medarbejder-1", slots={}, latest_message=latest, events=[], paused=False,
                   followup_action=None, active_loop={}, latest_action_name="action_listen")


@pytest.fixture()
def actions_module(demo_db, monkeypatch):
    from actions import actions, budget
    from bot.service import default_service

    monkeypatch.setenv("MANDAT_DEV_MODE", "1")
    default_service.cache_clear()
    monkeypatch.setattr(budget.WARM, "is_set", lambda: True)  # the budget alone, as in a warm process
    yield actions
    default_service.cache_clear()


def _slow_answer(seconds: float):
    from bot.service import MandateService

    original = MandateService.answer

    def answer(self, *args, **kwargs):
        time.sleep(seconds)
        return original(self, *args, **kwargs)

    return answer


def test_a_slow_answer_gets_the_apology_within_the_budget(actions_module, monkeypatch):
    from actions.budget import TOO_SLOW
    from bot.service import MandateService

    monkeypatch.setenv("MANDAT_ACTION_BUDGET_S", "0.5")
    monkeypatch.setattr(MandateService, "answer", _slow_answer(3.0))
    dispatcher = CollectingDispatcher()

    async def run():
        started = time.perf_counter()
        events = await actions_module.ActionAnswerMandate().run(dispatcher, _tracker("Må jeg bytte vagt?"), {})
        return events, time.perf_counter() - started

    events, took = asyncio.run(run())
    assert [m["text"] for m in dispatcher.messages] == [TOO_SLOW] and events == []
    assert took < 1.5, f"the apology came after {took:.2f} s (budget 0.5 s)"


def test_a_failing_answer_gets_a_polite_danish_reply(actions_module, monkeypatch):
    from actions.budget import FAILED
    from bot.service import MandateService

    def broken(self, *args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(MandateService, "answer", broken)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(actions_module.ActionAnswerMandate().run(dispatcher, _tracker("Må jeg bytte vagt?"), {}))
    assert [m["text"] for m in dispatcher.messages] == [FAILED] and events == []
    assert "Prøv igen om lidt" in FAILED


def test_two_conversations_are_answered_side_by_side_and_the_loop_stays_free(actions_module, monkeypatch):
    """Two actions whose service call sleeps 1.5 s each: together well under the 3 s they would take
    one after the other, and the event loop keeps ticking meanwhile (a sync ``run`` would block it)."""
    from bot.service import MandateService

    monkeypatch.setenv("MANDAT_ACTION_BUDGET_S", "30")
    asyncio.run(actions_module.ActionAnswerMandate().run(CollectingDispatcher(), _tracker("Må jeg bytte vagt?"), {}))
    monkeypatch.setattr(MandateService, "answer", _slow_answer(1.5))
    dispatchers = [CollectingDispatcher(), CollectingDispatcher()]

    async def run():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.05)
                ticks += 1

        tick_task = asyncio.ensure_future(ticker())
        started = time.perf_counter()
        await asyncio.gather(*(actions_module.ActionAnswerMandate().run(d, _tracker("Må jeg bytte vagt med en kollega?"), {})
                               for d in dispatchers))
        took = time.perf_counter() - started
        tick_task.cancel()
        return took, ticks

    took, ticks = asyncio.run(run())
    for dispatcher in dispatchers:
        assert dispatcher.messages and dispatcher.messages[0].get("custom", {}).get("mandate_id") == "soo-vagtbytte"
    assert took < 2.9, f"two 1.5 s answers took {took:.2f} s together: they ran one after the other"
    assert ticks >= 10, f"the event loop ticked only {ticks} times in {took:.2f} s"
