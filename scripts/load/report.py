"""Figures and the report of ``make load``: latency percentiles, messages per second, errors, memory.

Reads the raw files the locustfile writes (one CSV row per message: unix time, channel, kind,
ms, ok, polite_retry, error, history) and writes ``reports/load.md`` and ``reports/load.png``.
``python -m scripts.load.report RAW.csv [RAW.csv ...]`` prints the figures of existing files.
"""
from __future__ import annotations

import csv
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figures:
    """The figures of one run (or one slice of it).

    Attributes:
        messages: messages sent (``connect`` rows, the socket handshakes, are not messages).
        errors: failed messages (timeout, refused or dropped connection, non-200, silence).
        connect_errors: failed socket.io connections.
        polite_retries: answered with a "Prøv igen" text.
        seconds: from the first message sent to the last one answered.
        p50, p95, p99: latency of the answered messages (ms).
        per_channel: ``{channel: (messages, p50, p95)}``.
        error_kinds: ``{error text (shortened): count}``.
    """

    messages: int = 0
    errors: int = 0
    connect_errors: int = 0
    polite_retries: int = 0
    seconds: float = 0.0
    p50: float = math.nan
    p95: float = math.nan
    p99: float = math.nan
    per_channel: dict = field(default_factory=dict)
    error_kinds: dict = field(default_factory=dict)
    histories: list = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages per second."""
        return self.messages / self.seconds if self.seconds > 0 else 0.0


def read_raw(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["t"], row["ms"] = float(row["t"]), float(row["ms"])
        row["ok"], row["polite_retry"] = row["ok"] == "1", row["polite_retry"] == "1"
    return rows


def figures(rows: list[dict], start: float | None = None, end: float | None = None) -> Figures:
    """The figures of the rows sent in ``[start, end)`` (all rows by default)."""
    rows = [r for r in rows if (start is None or r["t"] >= start) and (end is None or r["t"] < end)]
    messages = [r for r in rows if r["kind"] != "connect"]
    connects = [r for r in rows if r["kind"] == "connect"]
    out = Figures(messages=len(messages), errors=sum(not r["ok"] for r in messages),
                  connect_errors=sum(not r["ok"] for r in connects),
                  polite_retries=sum(r["polite_retry"] for r in messages))
    if messages:
        first = min(r["t"] for r in messages)
        last = max(r["t"] + r["ms"] / 1000 for r in messages)
        out.seconds = (end - start) if (start is not None and end is not None) else last - first
        answered = [r["ms"] for r in messages if r["ok"]]
        out.p50, out.p95, out.p99 = (percentile(answered, q) for q in (50, 95, 99))
        for channel in sorted({r["channel"] for r in messages}):
            ms = [r["ms"] for r in messages if r["channel"] == channel and r["ok"]]
            out.per_channel[channel] = (sum(r["channel"] == channel for r in messages),
                                        percentile(ms, 50), percentile(ms, 95))
    for r in rows:
        if not r["ok"]:
            key = (r["error"] or "?")[:60]
            out.error_kinds[key] = out.error_kinds.get(key, 0) + 1
    out.histories = [int(r["history"]) for r in connects if r.get("history") not in (None, "")]
    return out


def memory_by_group(pids_file: Path = ROOT / "var" / "prod" / "pids") -> dict[str, tuple[float, float]]:
    """``{server: (RSS MB, PSS MB)}`` summed over each process group listed in ``pids_file``.

    PSS splits shared pages (TensorFlow's libraries, the mmap'ed e5 weights) between the
    processes that map them, so the PSS column adds up to what the machine really holds.
    """
    groups = {}
    if not pids_file.exists():
        return groups
    for line in pids_file.read_text().splitlines():
        name, pgid = line.split()
        groups[int(pgid)] = name
    totals = {name: [0.0, 0.0] for name in groups.values()}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            pgid = os.getpgid(int(proc.name))
            if pgid not in groups:
                continue
            rss = pss = 0.0
            for line in (proc / "smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
        totals[groups[pgid]][0] += rss
        totals[groups[pgid]][1] += pss
    return {name: (rss, pss) for name, (rss, pss) in totals.items()}


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}"


def write_report(runs: list[tuple[int, Figures]], memory: dict[str, tuple[float, float]], out_md: Path,
                 out_png: Path, context: dict[str, str]) -> str:
    """Write the Markdown report and the plot; returns the Markdown."""
    lines = ["# Load test (make load)", ""]
    lines += [f"- {key}: {value}" for key, value in context.items()]
    lines += ["", "| users | messages | msgs/s | p50 ms | p95 ms | p99 ms | errors | connect errors | "
              "\"prøv igen\" | widget p50/p95 | REST p50/p95 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for users, f in runs:
        widget = f.per_channel.get("widget", (0, math.nan, math.nan))
        rest = f.per_channel.get("rest", (0, math.nan, math.nan))
        lines.append(f"| {users} | {f.messages} | {f.rate:.2f} | {_ms(f.p50)} | {_ms(f.p95)} | {_ms(f.p99)} | "
                     f"{f.errors} | {f.connect_errors} | {f.polite_retries} | {_ms(widget[1])}/{_ms(widget[2])} "
                     f"| {_ms(rest[1])}/{_ms(rest[2])} |")
    for users, f in runs:
        if f.error_kinds:
            lines += ["", f"Errors at {users} users: " + ", ".join(f"{k} × {v}" for k, v in f.error_kinds.items())]
    if memory:
        lines += ["", "Memory at the end of the run (MB, summed over each process group):", "",
                  "| process | RSS | PSS |", "|---|---|---|"]
        lines += [f"| {name} | {rss:.0f} | {pss:.0f} |" for name, (rss, pss) in memory.items()]
        lines.append(f"| total | {sum(r for r, _ in memory.values()):.0f} | {sum(p for _, p in memory.values()):.0f} |")
    lines += ["", f"![latency]({out_png.name})", ""]
    text = "\n".join(lines)
    out_md.parent.mkdir(parents=True, exist_ok=True)
    out_md.write_text(text, encoding="utf-8")
    _plot(runs, out_png)
    return text


def _plot(runs: list[tuple[int, Figures]], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    users = [str(u) for u, _ in runs]
    x = range(len(runs))
    for offset, (label, attr) in enumerate((("p50", "p50"), ("p95", "p95"), ("p99", "p99"))):
        left.bar([i + (offset - 1) * 0.27 for i in x], [getattr(f, attr) for _, f in runs], width=0.27, label=label)
    left.set_xticks(list(x), users)
    left.set_xlabel("simulated users")
    left.set_ylabel("latency per message (ms)")
    left.legend()
    left.set_title("Latency through nginx")
    right.bar(list(x), [f.rate for _, f in runs], color="tab:green", label="messages/s")
    right.bar(list(x), [f.errors for _, f in runs], color="tab:red", label="errors", alpha=0.8)
    right.set_xticks(list(x), users)
    right.set_xlabel("simulated users")
    right.set_title("Throughput and errors")
    right.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    for path in argv if argv is not None else sys.argv[1:]:
        f = figures(read_raw(Path(path)))
        print(f"{path}: {f.messages} messages, {f.rate:.2f}/s, p50 {_ms(f.p50)} p95 {_ms(f.p95)} p99 {_ms(f.p99)} ms, "
              f"{f.errors} errors, {f.connect_errors} connect errors, {f.polite_retries} 'prøv igen'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
