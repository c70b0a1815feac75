"""Actions off the event loop, with a time budget (issue 14: "one message stops the bot for everyone").

rasa_sdk 3.6 awaits ``Action.run`` on the action server's one event loop: a
synchronous ``run`` that takes 30 s (parsing, ranking, the database) keeps
every other conversation waiting for those 30 s. :func:`budgeted` turns a
synchronous ``run`` into an ``async`` one that runs the original in a thread
pool and waits at most ``MANDAT_ACTION_BUDGET_S`` seconds
(:attr:`bot.config.Settings.action_budget_s`):

* in time: the messages the action dispatched and its events, as before;
* past the budget: :data:`TOO_SLOW` and no events. The thread cannot be
  stopped; it finishes in the background and its messages and events are
  dropped (what it stores, e.g. the redacted question, is kept);
* on an exception: :data:`FAILED` and no events; the exception is logged.

Loading is not answering: until the first action of the process has succeeded
(:data:`WARM`), the wait is at least :data:`COLD_START_S`, because that first
action loads spaCy, the e5 model and the catalogue's index (about 10 s on a
loaded machine); an answer from a warm process takes well under 1 s.

The work dispatches into a private :class:`CollectingDispatcher`, so a late
thread never adds messages to an answer that was already sent.

Limits: the pool has :data:`WORKERS` threads; when all are busy past their
budget, new work waits in the queue and gets :data:`TOO_SLOW` after its own
budget, while the event loop keeps answering. Python threads share the GIL,
so this relies on the message path being linear and capped (no step holds the
GIL for long: :mod:`bot.channels.limits`, ``tests/test_message_path.py``).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Optional

from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)

TOO_SLOW = "Beklager, det tog for lang tid. Prøv igen om lidt."
"""What the user reads when an action runs past its budget."""
FAILED = "Beklager, der gik noget galt, da jeg skulle svare. Prøv igen om lidt."
"""What the user reads when an action fails with an exception."""
WORKERS = 4
"""Threads that run actions (the action server's CPU work: parsing, ranking, the database)."""

COLD_START_S = 120.0
"""Seconds the first action of a process may take (loading the models and the index), in seconds."""
WARM = threading.Event()
"""Set once an action of this process has succeeded in time: from then on the budget applies alone."""

_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mandat-action")


def budget_s() -> float:
    """The budget of one action in seconds (``MANDAT_ACTION_BUDGET_S``; raises ValueError when malformed)."""
    from bot.config import get_settings

    return get_settings().action_budget_s


async def run_within_budget(dispatcher: CollectingDispatcher, work: Callable[[CollectingDispatcher], List[Any]],
                            budget: Optional[float] = None, name: str = "action") -> List[Any]:
    """Run ``work(private_dispatcher)`` in the thread pool for at most ``budget`` seconds.

    Args:
        dispatcher: the action's dispatcher; gets the work's messages only when it succeeds in time.
        work: the synchronous action body; returns the events.
        budget: seconds to wait (> 0); None reads :func:`budget_s`. Before :data:`WARM` is set,
            at least :data:`COLD_START_S`.
        name: the action's name, for the log.

    Returns:
        The work's events; ``[]`` after the budget or an exception (the user then reads
        :data:`TOO_SLOW` or :data:`FAILED`).

    Raises:
        ValueError: ``budget`` is None and ``MANDAT_ACTION_BUDGET_S`` is malformed.
    """
    budget = budget_s() if budget is None else budget
    if not WARM.is_set():
        budget = max(budget, COLD_START_S)
    private = CollectingDispatcher()
    started = time.perf_counter()
    future = asyncio.get_running_loop().run_in_executor(_POOL, work, private)
    try:
        events = await asyncio.wait_for(future, timeout=budget)
    except asyncio.TimeoutError:
        logger.warning("%s ran past its budget of %.1f s; the user is asked to try again", name, budget)
        dispatcher.utter_message(text=TOO_SLOW)
        return []
    except Exception:
        logger.exception("%s failed after %.2f s; the user is asked to try again", name,
                         time.perf_counter() - started)
        dispatcher.utter_message(text=FAILED)
        return []
    WARM.set()
    dispatcher.messages.extend(private.messages)
    return events


def budgeted(run: Callable[..., List[Any]]) -> Callable[..., Any]:
    """Decorate a synchronous ``Action.run(self, dispatcher, tracker, domain)``: see the module docstring.

    The decorated ``run`` is a coroutine function, which rasa_sdk awaits.
    """
    @functools.wraps(run)
    async def run_off_the_loop(self, dispatcher: CollectingDispatcher, tracker, domain) -> List[Any]:
        return await run_within_budget(dispatcher, lambda private: run(self, private, tracker, domain),
                                       name=self.name())

    return run_off_the_loop
