"""Faults under a small steady load (issue 15): Redis and PostgreSQL go down, everything restarts.

The Rasa server and the action server run with the production stores: the catalogue, questions and
feedback (``MANDAT_DATABASE_URL``) and Rasa's conversations (``MANDAT_TRACKER_DB_URL``, the
redacting SQL tracker store) on PostgreSQL, the conversation locks on Redis (``MANDAT_REDIS_URL``).
Both database servers are private to this module (:mod:`tests.e2e.private_servers`: ``initdb`` into
a temporary folder, ``redis-server`` on a free port), so stopping them hurts nobody else.

Three REST conversations send a message every second or so (a greeting, a question with a rule, a
thumbs up, a question without a rule) while:

1. Redis is stopped for 10 s, then PostgreSQL for 10 s. Every message gets an answer in Danish:
   during the outage :data:`bot.channels.fallback.UNAVAILABLE` ("... Prøv igen om lidt."), never an
   empty reply, an HTTP error or a traceback; after each server returns, answers come back by
   themselves; no conversation turn, question or feedback is half-written.
2. Everything restarts (Rasa, actions, PostgreSQL, Redis): no conversation event, question or
   feedback is lost, and a conversation goes on with its history (a typed thumbs-down counts for
   the entry of the answer given before the restart, which only the stored conversation knows).

Killing one Rasa server and one action server behind nginx is in ``test_prod_topology.py``; two
leaders saving one entry through two admin processes on PostgreSQL in ``test_admin_conflict_pg.py``.
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from scripts.live import running_bot
from tests.conftest import DEMO_CATALOGUE, import_catalogue
from tests.e2e.private_servers import PrivatePostgres, PrivateRedis
from tests.e2e.steady_load import RULE_QUESTION, TEAM, SteadyLoad, describe, query

pytestmark = [pytest.mark.model, pytest.mark.live]

@pytest.fixture(scope="module")
def stack():
    """Private PostgreSQL (catalogue + tracker databases) and Redis, the demo catalogue, the bot's env."""
    from bot.db.migrate import upgrade
    from bot.db.session import get_engine

    pg = PrivatePostgres("mandat", "mandat_tracker")
    redis = PrivateRedis()
    try:
        url = pg.url("mandat")
        upgrade(url)
        import_catalogue(url, DEMO_CATALOGUE)
        get_engine(url).dispose()
        env = {"MANDAT_DATABASE_URL": url, "MANDAT_TRACKER_DB_URL": pg.url("mandat_tracker"),
               "MANDAT_REDIS_URL": redis.url(1)}
        yield {"pg": pg, "redis": redis, "env": env, "url": url, "tracker": pg.url("mandat_tracker"),
               "senders": []}
    finally:
        redis.close()
        pg.close()


def turns_complete(tracker_url: str, sender: str) -> list[str]:
    """Problems in ``sender``'s stored conversation: a user message whose turn was not stored whole
    (no ``action_listen`` after it before the next user message or the end)."""
    rows = query(tracker_url, "SELECT type_name, action_name FROM events WHERE sender_id = :s ORDER BY id", s=sender)
    problems, open_turn = [], False
    for n, (kind, action) in enumerate(rows):
        if kind == "user":
            if open_turn:
                problems.append(f"{sender}: user event #{n} follows an unfinished turn")
            open_turn = True
        elif kind == "action" and action == "action_listen":
            open_turn = False
    if open_turn:
        problems.append(f"{sender}: the last turn is unfinished")
    return problems


def referenced_question_ids(tracker_url: str, senders: list[str]) -> set[int]:
    """The question ids the stored conversations' bot messages carry (answer cards, "no rule" cards)."""
    ids = set()
    for sender in senders:
        for (data,) in query(tracker_url, "SELECT data FROM events WHERE sender_id = :s AND type_name = 'bot'",
                             s=sender):
            custom = ((json.loads(data).get("data") or {}).get("custom") or {})
            if isinstance(custom.get("question_id"), int):
                ids.add(custom["question_id"])
    return ids


@pytest.mark.timeout(900)
def test_redis_then_postgresql_down_for_10_s_each_danish_message_nothing_half_written_recovers(stack):
    pg, redis = stack["pg"], stack["redis"]
    with running_bot(stack["env"], timeout_s=600, stores=True) as base:
        load = SteadyLoad(base, tag="outage")
        stack["senders"] += load.senders
        t0 = time.time()
        load.start()
        time.sleep(8)
        redis_down = time.time()
        redis.stop()
        time.sleep(10)
        redis.start()
        redis_up = time.time()
        time.sleep(25)
        pg_down = time.time()
        pg.stop()
        time.sleep(10)
        pg.start()
        pg_up = time.time()
        time.sleep(25)
        log = load.finish()
    story = describe(log, t0)

    # Never silence, never an HTTP error or a traceback: every message got a Danish text back.
    assert log and all(i.error is None and i.status == 200 for i in log), story
    assert all(any(i.texts) and all(r.get("text") or r.get("custom") for r in i.replies) for i in log), story
    assert not any(w in t for i in log for t in i.texts for w in ("Traceback", "Exception", "Error", "error")), story
    # Each outage was felt and told: "... Prøv igen om lidt." while the server was down.
    for down, up, name in ((redis_down, redis_up, "Redis"), (pg_down, pg_up, "PostgreSQL")):
        during = [i for i in log if down + 1 <= i.sent and i.done <= up]
        assert during and all(i.retry for i in during), f"{name} down:\n{story}"
    # Recovery by itself: within 10 s of each return, questions with a rule get their answer again, and
    # from then on nothing asks the user to try again.
    for up, until, name in ((redis_up, pg_down, "Redis"), (pg_up, log[-1].sent + 1, "PostgreSQL")):
        settled = [i for i in log if up + 10 <= i.sent and i.done < until]
        assert settled and not any(i.retry for i in settled), f"after {name} returned:\n{story}"
        assert any(i.answer for i in settled if i.message == RULE_QUESTION), f"after {name} returned:\n{story}"

    # Nothing half-written: every stored turn is whole, every question a reply named is stored.
    problems = [p for s in load.senders for p in turns_complete(stack["tracker"], s)]
    assert not problems, problems
    stored = {qid for (qid,) in query(stack["url"], "SELECT id FROM questions")}
    assert referenced_question_ids(stack["tracker"], load.senders) <= stored
    orphans = query(stack["url"], "SELECT count(*) FROM feedback f WHERE f.question_id IS NOT NULL AND NOT EXISTS "
                                  "(SELECT 1 FROM questions q WHERE q.id = f.question_id)")
    assert orphans[0][0] == 0


@pytest.mark.timeout(900)
def test_restart_everything_loses_no_conversation_question_or_feedback(stack):
    pg, redis = stack["pg"], stack["redis"]

    def counts(senders):
        events = {s: query(stack["tracker"], "SELECT count(*) FROM events WHERE sender_id = :s", s=s)[0][0]
                  for s in senders}
        questions = query(stack["url"], "SELECT count(*) FROM questions")[0][0]
        feedback = query(stack["url"], "SELECT count(*) FROM feedback")[0][0]
        return events, questions, feedback

    with running_bot(stack["env"], timeout_s=600, stores=True) as base:
        load = SteadyLoad(base, tag="restart", pause_s=0.5)
        load.start()
        time.sleep(10)
        log = load.finish()
        assert all(i.status == 200 and not i.retry for i in log), describe(log, log[0].sent)
        # The last answer of each conversation comes from an entry: ask the rule question once more.
        last_entry = {}
        for sender in load.senders:
            reply = requests.post(f"{base}/webhooks/rest/webhook", timeout=60, json={
                "sender": sender, "message": RULE_QUESTION, "metadata": {"team": TEAM}}).json()
            custom = next(r["custom"] for r in reply if (r.get("custom") or {}).get("type") == "mandate_answer")
            last_entry[sender] = custom["mandate_id"]
    senders = load.senders + stack["senders"]
    before = counts(senders)
    assert all(before[0].values()) and before[1] and before[2]

    redis.stop()
    pg.stop()
    pg.start()
    redis.start()
    assert counts(senders) == before, "the database servers' restart lost rows"

    with running_bot(stack["env"], timeout_s=600, stores=True) as base:
        assert counts(senders) == before, "the bot's start changed stored rows"
        for sender in load.senders:
            reply = requests.post(f"{base}/webhooks/rest/webhook", timeout=60, json={
                "sender": sender, "message": '/feedback{"value": "down"}', "metadata": {"team": TEAM}}).json()
            assert [r.get("text") for r in reply] == [
                "Tak for din feedback. HR og lederne ser den, så svaret kan blive bedre."], reply
    events, questions, feedback = counts(senders)
    assert questions == before[1] and feedback == before[2] + len(load.senders)
    assert all(events[s] > before[0][s] for s in load.senders)
    assert all(events[s] == before[0][s] for s in stack["senders"])
    # The thumbs-down counts for the entry answered before the restart: the conversation's slots came
    # back from the stored conversation (an in-memory tracker would have forgotten them).
    rows = query(stack["url"], "SELECT mandate_id FROM feedback WHERE value = 'down' ORDER BY id")
    assert [r[0] for r in rows[-len(load.senders):]] == [last_entry[s] for s in load.senders]
