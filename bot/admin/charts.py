"""Server-side charts as PNG (matplotlib, Agg canvas; no pyplot, so thread-safe).

Every chart carries its numbers on the bars or points, so it is readable
without hovering, printed, or as a screenshot.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

BLUE, LIGHT, GREEN, ORANGE, GREY = "#1f5f9e", "#a9c6e8", "#2e7d32", "#e07b00", "#6b7280"
WIDTH, HEIGHT, DPI = 11.0, 3.6, 100


def _figure(height: float = HEIGHT) -> tuple[Figure, object]:
    fig = Figure(figsize=(WIDTH, height), dpi=DPI)
    ax = fig.add_subplot(111)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=9)
    return fig, ax


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    out = io.BytesIO()
    FigureCanvasAgg(fig).print_png(out)
    return out.getvalue()


def _empty(ax, text: str = "Ingen data i perioden") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color=GREY, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def week_label(monday: dt.date) -> str:
    """``"uge 47"`` with the year under the first week of a year."""
    week = monday.isocalendar()[1]
    return f"{week}"


def _week_ticks(ax, weeks: Sequence[dt.date]) -> None:
    ax.set_xticks(range(len(weeks)))
    labels = []
    for i, monday in enumerate(weeks):
        label = week_label(monday)
        if i == 0 or monday.isocalendar()[0] != weeks[i - 1].isocalendar()[0]:
            label += f"\n{monday.isocalendar()[0]}"
        labels.append(label)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("Uge", fontsize=9)


def questions_per_week(weeks: Sequence[dt.date], answered: Sequence[int], unanswered: Sequence[int]) -> bytes:
    """Stacked bars: answered and unanswered questions per week, totals on top."""
    fig, ax = _figure()
    if not weeks or not any(answered) and not any(unanswered):
        _empty(ax)
        return _png(fig)
    x = range(len(weeks))
    ax.bar(x, answered, color=BLUE, label="Besvaret")
    ax.bar(x, unanswered, bottom=answered, color=ORANGE, label="Ikke besvaret")
    for i, (a, u) in enumerate(zip(answered, unanswered)):
        if a + u:
            ax.text(i, a + u, f"{a + u}", ha="center", va="bottom", fontsize=7)
    ax.set_title("Spørgsmål pr. uge", loc="left", fontsize=11, fontweight="bold")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Antal", fontsize=9)
    ax.margins(y=0.15)
    _week_ticks(ax, weeks)
    ax.legend(frameon=False, fontsize=9, loc="upper left", ncol=2, bbox_to_anchor=(0, 1.02))
    return _png(fig)


def share_per_week(weeks: Sequence[dt.date], shares: Sequence[float | None], counts: Sequence[int],
                   title: str, colour: str = GREEN) -> bytes:
    """A share (0..1) per week as a line with the value at every point; weeks without data are gaps."""
    fig, ax = _figure()
    if not weeks or not any(counts):
        _empty(ax)
        return _png(fig)
    x = list(range(len(weeks)))
    y = [s * 100 if s is not None else float("nan") for s in shares]
    ax.plot(x, y, color=colour, marker="o", linewidth=2, markersize=4)
    every = 1 if len(weeks) <= 26 else 2
    for i, value in enumerate(y):
        if value == value and (i % every == 0 or i == len(y) - 1):  # not NaN
            ax.annotate(f"{value:.0f}", (i, value), textcoords="offset points", xytext=(0, 6),
                        ha="center", fontsize=7)
    total = sum(counts)
    overall = sum(s * c for s, c in zip(shares, counts) if s is not None) / total * 100 if total else None
    if overall is not None:
        ax.axhline(overall, color=GREY, linestyle="--", linewidth=1, label=f"Hele perioden: {overall:.0f} %")
        ax.legend(frameon=False, fontsize=9, loc="lower left")
    ax.set_ylim(0, 109)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    _week_ticks(ax, weeks)
    return _png(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str, *,
                    notes: Sequence[str] | None = None, percent: bool = False, colour: str = BLUE) -> bytes:
    """Horizontal bars, largest on top, each with its value (and a note such as "n=40")."""
    rows = max(len(labels), 1)
    fig, ax = _figure(height=max(2.2, 0.42 * rows + 1.0))
    if not labels:
        _empty(ax)
        return _png(fig)
    y = list(range(len(labels)))[::-1]
    shown = [v * 100 for v in values] if percent else list(values)
    ax.barh(y, shown, color=colour, height=0.65)
    ax.set_yticks(y)
    ax.set_yticklabels([_shorten(label) for label in labels], fontsize=9)
    top = max(shown) if shown else 1
    for yi, value, i in zip(y, shown, range(len(shown))):
        text = f"{value:.0f} %" if percent else f"{value:.0f}"
        if notes:
            text += f"  ({notes[i]})"
        ax.text(value + top * 0.01, yi, text, va="center", fontsize=8)
    if percent:
        ax.set_xlim(0, 118)
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
    else:
        ax.set_xlim(0, top * 1.22 + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
    return _png(fig)


def _shorten(text: str, limit: int = 42) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
