"""The shared acceptance set over the REST channel: send, classify, score.

Scoring follows ``../shared/acceptance/README.md`` ("Running it as a test"):
answer accuracy on answerable items, mandate answers on ``none`` and on
``smalltalk`` items, abstain rate, accuracy per kind, REST latency p50/p95,
and whether the payload's ``unit``/``decision`` match the entry.
"""
from __future__ import annotations

import statistics
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = ROOT.parent / "shared" / "acceptance"


@dataclass
class ItemResult:
    """One question's outcome."""

    id: str
    kind: str
    expect: str
    got: str  # a mandate id, "no_mandate", "clarify" or "other"
    payload: dict | None
    latency_ms: float


@dataclass
class Report:
    """Scores of one run (shares are 0..1; latency in ms)."""

    items: list[ItemResult] = field(default_factory=list)
    entries: dict = field(default_factory=dict)

    def _of(self, expect):
        if expect == "answerable":
            return [i for i in self.items if i.expect not in ("none", "smalltalk")]
        return [i for i in self.items if i.expect == expect]

    @property
    def accuracy(self) -> float:
        items = self._of("answerable")
        return sum(i.got == i.expect for i in items) / max(len(items), 1)

    @property
    def resolved(self) -> float:
        """Answerable items answered with their entry, or whose clarifying question ("Handler det om
        A, B eller C?") offers it: the employee reaches the rule with at most one click."""
        items = self._of("answerable")
        return sum(i.got == i.expect or (i.got == "clarify" and i.expect in _offered(i.payload))
                   for i in items) / max(len(items), 1)

    @property
    def clarify_rate(self) -> float:
        """Share of answerable items answered with a clarifying question."""
        items = self._of("answerable")
        return sum(i.got == "clarify" for i in items) / max(len(items), 1)

    @property
    def abstain_rate(self) -> float:
        items = self._of("answerable")
        return sum(i.got == "no_mandate" for i in items) / max(len(items), 1)

    def wrong_rate(self, expect: str) -> float:
        """Share of ``none``/``smalltalk`` items that got any mandate answer."""
        items = self._of(expect)
        return sum(i.got not in ("no_mandate", "clarify", "other") for i in items) / max(len(items), 1)

    def per_kind(self) -> dict[str, tuple[int, int]]:
        """``{kind: (correct, total)}``; correct means the expected outcome."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in self.items:
            ok = (item.got == item.expect if item.expect not in ("none", "smalltalk")
                  else item.got in ("no_mandate", "clarify", "other"))
            out[item.kind][0] += ok
            out[item.kind][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def payload_mismatches(self) -> list[str]:
        """Items whose payload ``unit``/``decision`` differ from the catalogue entry."""
        bad = []
        for item in self.items:
            if item.payload and item.payload.get("type") == "mandate_answer":
                entry = self.entries.get(item.payload.get("mandate_id"))
                if entry and (entry["unit"], entry["decision"]) != (item.payload.get("unit"), item.payload.get("decision")):
                    bad.append(item.id)
        return bad

    def latency(self, q: float) -> float:
        values = sorted(i.latency_ms for i in self.items)
        if not values:
            return 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]

    def summary(self) -> dict:
        """The headline figures as a JSON-ready dict."""
        return {
            "answer_accuracy": round(self.accuracy, 4),
            "resolved": round(self.resolved, 4),
            "clarify_rate_answerable": round(self.clarify_rate, 4),
            "answerable": len(self._of("answerable")),
            "abstain_rate_answerable": round(self.abstain_rate, 4),
            "wrong_on_none": round(self.wrong_rate("none"), 4),
            "wrong_on_smalltalk": round(self.wrong_rate("smalltalk"), 4),
            "per_kind": {k: f"{c}/{t}" for k, (c, t) in self.per_kind().items()},
            "payload_mismatches": self.payload_mismatches(),
            "latency_ms_p50": round(self.latency(50), 1),
            "latency_ms_p95": round(self.latency(95), 1),
            "misses": [f"{i.id}: expected {i.expect}, got {i.got}" for i in self.items
                       if (i.got != i.expect if i.expect not in ("none", "smalltalk")
                           else i.got not in ("no_mandate", "clarify", "other"))],
        }


def _offered(payload: dict | None) -> list[str]:
    return [o.get("mandate_id") for o in (payload or {}).get("options", ())]


def classify(messages: list[dict]) -> tuple[str, dict | None]:
    """A mandate answer in any message wins; else ``no_mandate``; else a clarifying question
    (``clarify``, its options in the payload); else ``other``. A clarifying question is no
    mandate answer: on a ``none`` item it is not wrong, on an answerable one it is not correct
    (the shared contract), but it counts as resolved when it offers the entry."""
    customs = [m.get("custom") for m in messages if isinstance(m.get("custom"), dict)]
    for kind in ("mandate_answer", "no_mandate", "clarify"):
        for custom in customs:
            if custom.get("type") == kind:
                return (custom.get("mandate_id") if kind == "mandate_answer" else kind), custom
    return "other", None


def load(questions: Path | None = None, catalogue: Path | None = None) -> tuple[list[dict], dict]:
    """The questions and ``{mandate_id: {"unit", "decision"}}`` of the catalogue."""
    questions = questions or ACCEPTANCE / "questions.yaml"
    catalogue = catalogue or ACCEPTANCE / "catalogue.yaml"
    items = yaml.safe_load(questions.read_text(encoding="utf-8"))
    doc = yaml.safe_load(catalogue.read_text(encoding="utf-8"))
    entries = {m["id"]: {"unit": m["unit"], "decision": m["decision"]} for m in doc["mandates"]}
    return items, entries


def run(base_url: str, items: list[dict], entries: dict) -> Report:
    """Send every question with a fresh sender id and ``metadata.team``; score the replies."""
    report = Report(entries=entries)
    run_id = uuid.uuid4().hex[:6]
    with requests.Session() as http:
        for item in items:
            body = {"sender": f"acc-{run_id}-{item['id']}", "message": item["text"],
                    "metadata": {"team": item["team"]}}
            start = time.perf_counter()
            response = http.post(f"{base_url}/webhooks/rest/webhook", json=body, timeout=60)
            elapsed = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            got, payload = classify(response.json())
            report.items.append(ItemResult(item["id"], item.get("kind", ""), item["expect"], got, payload, elapsed))
    return report
