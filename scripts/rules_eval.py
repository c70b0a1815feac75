"""Does the answer say more than its rule? Issue 13's measurement on labelled question sets.

The rules sets (``tests/data/eval/rules_dev.yaml`` for tuning, ``rules_test.yaml``
held out) ask about the demo catalogue's exceptions, limits in every unit,
follow-ups, mistakes at work and serious situations, plus plain "yes" cases
(so a bot that always says "no" scores badly). Each item says which entry
should answer (``expect``) and who may decide the case as asked
(``expect_decides``: employee, team, leader, other or nobody).

Every item is answered by :class:`bot.service.MandateService` on a fresh demo
database (:func:`scripts.retrieval_eval.demo_service`), nothing stored; a
follow-up first answers its ``previous`` question and passes that answer's
entry (and case, where the service takes one) on. The figures per split:

* wrong-yes rate: the headline lets the employee or the team decide
  (``decides`` in :data:`bot.domain.SELF_DECISIONS`) where the item's
  decider is someone else, or where no entry should answer (the worst failure);
* limits judged right, per unit: answered from the expected entry, on the
  right side of the limit (a "yes" exactly when the expected decider is the
  employee or the team);
* mistakes and serious situations routed right: answered from a ``route``
  entry of the item's kind, or without a "yes" and naming the route entry;
* the right-decider rate overall and per kind.

:func:`wrong_yes_rate` works on any labelled set (also ``dev.yaml``,
``test.yaml`` and the acceptance questions): an item without
``expect_decides`` takes its entry's decision, and ``none``/``smalltalk``
items must never get a "yes".

Run: ``.venv/bin/python -m scripts.rules_eval --split dev|test|all``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import functools
import inspect
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import yaml

from scripts.retrieval_eval import DEMO, EVAL_DIR, TODAY, demo_service

SPLITS = ("dev", "test")
DECIDERS = ("employee", "team", "leader", "other", "nobody")
"""Who may decide the case as asked (:data:`bot.domain.EXCEPTION_DECISIONS`)."""
SELF = ("employee", "team")
"""A headline that lets the asker or the team decide: the "Ja" side (:data:`bot.domain.SELF_DECISIONS`)."""
LIMIT_UNITS = ("kr", "minutter", "timer", "dage", "personer", "gange")
LIMIT_KINDS = tuple(f"limit_{u}" for u in LIMIT_UNITS)
ROUTE_KINDS = ("mistake", "concern")
KINDS = ("exception", *LIMIT_KINDS, "follow_up", *ROUTE_KINDS, "yes")
LANGS = ("da", "en")
NO_ENTRY = ("none", "smalltalk")
REQUIRED = ("id", "team", "text", "expect", "expect_decides", "kind", "lang")
OPTIONAL = ("previous", "note")


# -- the labelled sets and the catalogue -----------------------------------------------

def rules_path(split: str) -> Path:
    return EVAL_DIR / f"rules_{split}.yaml"


def load_items(split: str) -> list[dict]:
    """The items of the ``dev`` or ``test`` rules split, or of both (``all``)."""
    if split == "all":
        return [item for s in SPLITS for item in load_items(s)]
    return yaml.safe_load(rules_path(split).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _load_catalogue(path: str) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def load_catalogue(path: Path | str = DEMO) -> dict:
    """A catalogue file as plain data (``units``, ``mandates``), read once per path."""
    return _load_catalogue(str(path))


@dataclass(frozen=True)
class _Entry:
    """Just enough of an entry for :func:`bot.catalogue.tree.select_in_force`."""

    id: str
    unit_id: str
    topic_key: str | None
    valid_from: dt.date | None
    valid_to: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        from bot.domain import in_force

        return in_force(self.valid_from, self.valid_to, day)


def in_force_ids(catalogue: Mapping, team: str, day: dt.date = TODAY) -> set[str]:
    """The ids of the entries of ``catalogue`` in force for ``team`` on ``day`` (validity and
    nearest unit wins, by :mod:`bot.catalogue.tree` itself).

    Raises:
        KeyError: ``team`` is not a unit of the catalogue.
    """
    from bot.catalogue.tree import ancestors, select_in_force

    parents = {u["id"]: u.get("parent") for u in catalogue["units"]}
    if team not in parents:
        raise KeyError(team)
    entries = [_Entry(m["id"], m["unit"], m.get("topic_key"), m.get("valid_from"), m.get("valid_to"))
               for m in catalogue["mandates"]]
    return {e.id for e in select_in_force(entries, ancestors(team, parents), day)}


def entries_by_id(catalogue: Mapping) -> dict[str, dict]:
    return {m["id"]: m for m in catalogue["mandates"]}


# -- reading an answer ------------------------------------------------------------------

def payload(answer: Any) -> tuple[dict, str]:
    """``(custom, text)`` of an answer: an :class:`bot.service.Outcome`, a reply, or a custom dict."""
    reply = getattr(answer, "reply", answer)
    if isinstance(reply, Mapping):
        return dict(reply), str(reply.get("text", ""))
    return dict(getattr(reply, "custom", None) or {}), str(getattr(reply, "text", "") or "")


def headline_decides(custom: Mapping) -> str | None:
    """Whom the answer's headline lets decide, or None when no entry answered (no_mandate, a
    clarifying question).

    ``custom["decides"]`` where the answer sets it; before that, the entry's ``decision``,
    and the leader when ``over_limit`` (above a limit the leader approves).
    """
    if custom.get("type") != "mandate_answer":
        return None
    if custom.get("decides"):
        return custom["decides"]
    if custom.get("over_limit"):
        return "leader"
    return custom.get("decision")


def expected_decides(item: Mapping, entries: Mapping[str, Mapping]) -> str | None:
    """Who may decide ``item`` as asked: its ``expect_decides``, else its entry's decision;
    None for ``none``/``smalltalk`` items without one (no entry should answer)."""
    if item.get("expect_decides"):
        return item["expect_decides"]
    entry = entries.get(item.get("expect"))
    return entry["decision"] if entry else None


def is_wrong_yes(item: Mapping, decides: str | None, entries: Mapping[str, Mapping]) -> bool:
    """The headline lets the employee or team decide, but the item's decider is someone else or
    no entry should answer it."""
    if decides not in SELF:
        return False
    return item.get("expect") in NO_ENTRY or expected_decides(item, entries) not in SELF


# -- asking the service -----------------------------------------------------------------

def _accepts(func: Callable, name: str) -> bool:
    params = inspect.signature(func).parameters
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


EVAL_USER = "rules-eval"
"""The pseudonymous asker of the evaluation's questions (in its own throwaway database)."""


def ask(service, text: str, team: str, *, last_mandate_id: str | None = None, carried_case: Any = None):
    """``service.answer(text, team, store=False, ...)``, passing ``carried_case`` only where the
    service's signature takes it (the keyword arrives with issue 13's answer work)."""
    # Stored (in the evaluation's throwaway database) so that a clarifying question's choice can be
    # checked against the asked question, as in the chat.
    kwargs: dict[str, Any] = {"store": True, "user_id": EVAL_USER, "last_mandate_id": last_mandate_id}
    if carried_case is not None and _accepts(service.answer, "carried_case"):
        kwargs["carried_case"] = carried_case
    return service.answer(text, team, **kwargs)


def carried_case_of(outcome: Any) -> Any:
    """The case an answer carries into the next turn: the outcome's ``carried_case`` where the
    service sets one, else the case of the exception its payload reports."""
    case = getattr(outcome, "carried_case", None)
    if case is not None:
        return case
    custom, _ = payload(outcome)
    exception = custom.get("exception")
    if isinstance(exception, Mapping):
        return exception.get("case")
    return exception or None


def service_answer_fn(service=None) -> Callable[[Mapping], Any]:
    """``item -> outcome`` on ``service`` (default: the demo service); a follow-up item first
    answers its ``previous`` question and passes that answer on."""
    service = service or demo_service()

    def answer(item: Mapping):
        last_id = carried = None
        if item.get("previous"):
            first = choose(service, item, ask(service, item["previous"], item["team"]))
            last_id = payload(first)[0].get("mandate_id")
            carried = carried_case_of(first)
        return choose(service, item, ask(service, item["text"], item["team"], last_mandate_id=last_id,
                                         carried_case=carried))

    return answer


def choose(service, item: Mapping, outcome: Any) -> Any:
    """What the employee ends with after a clarifying question ("Handler det om A, B eller C?"): the
    answer from the item's entry when it is offered (as pressing its button gives it, the rules
    checked against the question), else the question unanswered ("Ingen af dem")."""
    custom, _ = payload(outcome)
    if custom.get("type") != "clarify":
        return outcome
    offered = [o["mandate_id"] for o in custom.get("options", ())]
    if item["expect"] not in offered:
        return {"type": "no_mandate", "question_id": custom.get("question_id")}
    return service.answer_from_entry(item["expect"], item["team"], custom.get("question_id"), user_id=EVAL_USER)


# -- the figures ------------------------------------------------------------------------

def wrong_yes_rate(items: Iterable[Mapping], answer_fn: Callable[[Mapping], Any],
                   catalogue: Mapping | Path | str = DEMO) -> dict:
    """The share of ``items`` whose answer wrongly lets the employee or team decide.

    Works on any labelled set: an item with ``expect_decides`` uses it; an item with a mandate
    ``expect`` uses that entry's decision; ``none``/``smalltalk`` items get no "yes" at all.

    Args:
        items: labelled items (``team``, ``text``, ``expect``, optional ``expect_decides``).
        answer_fn: ``item -> answer`` (an outcome, a reply, or the reply's ``custom`` dict).
        catalogue: the catalogue the set targets (plain data, or a path to its YAML).

    Returns:
        ``{"rate", "wrong", "n", "ids"}``: ``ids`` of the wrong yeses.
    """
    if not isinstance(catalogue, Mapping):
        catalogue = load_catalogue(catalogue)
    entries = entries_by_id(catalogue)
    wrong, n = [], 0
    for item in items:
        n += 1
        custom, _ = payload(answer_fn(item))
        if is_wrong_yes(item, headline_decides(custom), entries):
            wrong.append(item["id"])
    return {"rate": len(wrong) / n if n else 0.0, "wrong": len(wrong), "n": n, "ids": wrong}


@dataclass
class Judged:
    """One item answered and judged."""

    item: dict
    mandate_id: str | None
    decides: str | None
    wrong_yes: bool
    right_entry: bool
    right_decider: bool
    right_side: bool
    routed: bool | None


def judge(item: Mapping, answer: Any, entries: Mapping[str, Mapping]) -> Judged:
    """Judge one answer against its item (see the module's figures)."""
    custom, text = payload(answer)
    decides = headline_decides(custom)
    mandate_id = custom.get("mandate_id") if custom.get("type") in ("mandate_answer", "route") else None
    expect, want = item["expect"], expected_decides(item, entries)
    if expect in NO_ENTRY:
        right_entry = mandate_id is None
        right_decider = right_side = decides not in SELF
    else:
        right_entry = mandate_id == expect
        right_decider = decides == want
        right_side = right_entry and decides is not None and (decides in SELF) == (want in SELF)
    routed = None
    route = entries.get(expect, {}).get("route")
    if item["kind"] in ROUTE_KINDS and route:
        answered_route = entries.get(mandate_id, {}).get("route") if mandate_id else None
        mentions = _mentions(custom, text, entries[expect])
        routed = answered_route == route or (decides is not None and decides not in SELF and mentions)
    return Judged(dict(item), mandate_id, decides, is_wrong_yes(item, decides, entries),
                  right_entry, right_decider, right_side, routed)


def _mentions(custom: Mapping, text: str, entry: Mapping) -> bool:
    """The answer points to ``entry``: its id in the payload's ``route``, or its topic in the text."""
    route = custom.get("route")
    ids = {route} if isinstance(route, str) else set()
    if isinstance(route, Mapping):
        ids.add(route.get("mandate_id"))
    if isinstance(route, (list, tuple)):
        ids |= {r.get("mandate_id") if isinstance(r, Mapping) else r for r in route}
    return entry["id"] in ids or entry["topic"].lower() in text.lower()


def evaluate(items: Sequence[Mapping], answer_fn: Callable[[Mapping], Any],
             catalogue: Mapping | Path | str = DEMO) -> dict:
    """All figures of one set: ``{"n", "wrong_yes", "right_decider", "right_entry", "limits",
    "routed", "kinds", "langs", "judged"}`` (rates with their counts)."""
    if not isinstance(catalogue, Mapping):
        catalogue = load_catalogue(catalogue)
    entries = entries_by_id(catalogue)
    judged = [judge(item, answer_fn(item), entries) for item in items]

    def rate(js: Sequence[Judged], attr: str) -> dict:
        values = [getattr(j, attr) for j in js if getattr(j, attr) is not None]
        return {"rate": sum(values) / len(values) if values else None, "right": sum(values), "n": len(values)}

    by_kind, by_lang = defaultdict(list), defaultdict(list)
    for j in judged:
        by_kind[j.item["kind"]].append(j)
        by_lang[j.item.get("lang", "da")].append(j)
    summary = lambda js: {"n": len(js), "wrong_yes": rate(js, "wrong_yes"),  # noqa: E731
                          "right_decider": rate(js, "right_decider"), "right_entry": rate(js, "right_entry")}
    return {
        "n": len(judged),
        "wrong_yes": rate(judged, "wrong_yes"),
        "wrong_yes_ids": [j.item["id"] for j in judged if j.wrong_yes],
        "right_decider": rate(judged, "right_decider"),
        "right_entry": rate(judged, "right_entry"),
        "limits": {k.removeprefix("limit_"): rate(by_kind[k], "right_side") for k in LIMIT_KINDS if by_kind[k]},
        "routed": rate([j for j in judged if j.item["kind"] in ROUTE_KINDS], "routed"),
        "kinds": {k: summary(by_kind[k]) for k in KINDS if by_kind[k]},
        "langs": {lang: summary(js) for lang, js in sorted(by_lang.items())},
        "judged": judged,
    }


# -- output -----------------------------------------------------------------------------

def _pct(r: Mapping) -> str:
    return "   -  " if r["rate"] is None else f"{100 * r['rate']:5.1f}%"


def _cell(r: Mapping) -> str:
    return f"{_pct(r)} ({r['right']}/{r['n']})"


def print_report(name: str, figures: Mapping, out=sys.stdout, verbose: bool = False) -> None:
    """Print one split's figures as a table (``verbose``: every wrong item too)."""
    p = functools.partial(print, file=out)
    p(f"\n== rules {name}: {figures['n']} items ==")
    p(f"wrong-yes rate            {_cell(figures['wrong_yes'])}   <- lower is better")
    p(f"right decider (overall)   {_cell(figures['right_decider'])}")
    p(f"right entry               {_cell(figures['right_entry'])}")
    p(f"mistakes/serious routed   {_cell(figures['routed'])}")
    p("limits judged right:")
    for unit, r in figures["limits"].items():
        p(f"  {unit:<10}              {_cell(r)}")
    p(f"{'kind':<16}{'n':>4}  {'wrong-yes':>18}  {'right decider':>18}  {'right entry':>18}")
    for label, rows in (("", figures["kinds"]), ("lang ", figures["langs"])):
        for k, s in rows.items():
            p(f"{label + k:<16}{s['n']:>4}  {_cell(s['wrong_yes']):>18}  {_cell(s['right_decider']):>18}"
              f"  {_cell(s['right_entry']):>18}")
    if figures["wrong_yes_ids"]:
        p("wrong yes: " + ", ".join(figures["wrong_yes_ids"]))
    if verbose:
        for j in figures["judged"]:
            if not (j.right_decider and j.right_entry):
                p(f"  {j.item['id']} [{j.item['kind']}] want {j.item['expect']}/{j.item['expect_decides']}"
                  f" got {j.mandate_id}/{j.decides}: {j.item['text'][:90]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="dev")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every item judged wrong")
    args = parser.parse_args(argv)
    answer = service_answer_fn()
    for split in (SPLITS if args.split == "all" else (args.split,)):
        print_report(split, evaluate(load_items(split), answer), verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
