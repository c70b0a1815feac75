"""The NLU training data keeps "I made a mistake" and "your answer is wrong" apart (issue 13)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def examples() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" in block:
                lines = [re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", l.strip()[2:])
                         for l in str(block["examples"]).splitlines() if l.strip().startswith("- ")]
                out.setdefault(block["intent"], []).extend(lines)
    return out


def test_both_mistake_intents_have_enough_examples():
    data = examples()
    assert len(data["made_mistake"]) >= 40 and len(data["report_mistake"]) >= 30
    made = {t.lower() for t in data["made_mistake"]}
    assert {"jeg har lavet en fejl", "jeg kom til at give forkert medicin",
            "jeg har sendt en mail til den forkerte borger", "i made a mistake at work"} <= made
    report = {t.lower() for t in data["report_mistake"]}
    assert {"dit svar er forkert", "det passer ikke"} <= report


def test_no_example_in_two_intents():
    seen: dict[str, str] = {}
    for intent, texts in examples().items():
        for text in texts:
            key = text.lower().strip()
            assert seen.setdefault(key, intent) == intent, f"{text!r} in {seen[key]} and {intent}"


def test_made_mistake_in_domain_rules_and_actions():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert {"made_mistake", "report_mistake"} <= set(domain["intents"])
    assert "action_made_mistake" in domain["actions"]
    rules = yaml.safe_load((ROOT / "data" / "stories" / "rules.yml").read_text(encoding="utf-8"))["rules"]
    assert any(r["steps"] == [{"intent": "made_mistake"}, {"action": "action_made_mistake"}] for r in rules)
