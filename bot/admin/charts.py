"""Server-side charts as PNG (matplotlib, Agg canvas; no pyplot, so thread-safe).

Every chart carries its numbers on the bars or points, so it is readable
without hovering, printed, or as a screenshot.

From the first day: the weekly charts start at the week of the first question
(:func:`first_week_index`; at least :data:`MIN_WEEKS` weeks are shown), and a
share per week is drawn as a line only from :data:`MIN_POINTS` weeks with
questions; below that the chart says "For få data".
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

BLUE, LIGHT, GREEN, ORANGE, GREY, RED = "#1f5f9e", "#a9c6e8", "#2e7d32", "#e07b00", "#6b7280", "#b42318"
WIDTH, HEIGHT, DPI = 11.0, 3.6, 100
MIN_WEEKS = 4
"""The weekly charts show at least this many weeks (also on the first day)."""
MIN_POINTS = 3
"""A share per week is drawn from this many weeks with questions; with fewer: "For få data"."""


def first_week_index(weeks: Sequence[dt.date], first_day: dt.date | None, minimum: int = MIN_WEEKS) -> int:
    """Where the time axis starts in ``weeks`` (Mondays, oldest first): at the week of ``first_day``
    (the first question ever), so a new installation does not show months of empty weeks, but
    never later than ``minimum`` weeks before the last one. 0 when ``first_day`` is None or older."""
    if not weeks or first_day is None:
        return 0
    monday = first_day - dt.timedelta(days=first_day.weekday())
    index = next((i for i, week in enumerate(weeks) if week >= monday), len(weeks))
    return max(0, min(index, len(weeks) - minimum))


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
    """The ISO week number of ``monday``, e.g. ``"47"``."""
    week = monday.isocalendar()[1]
    return f"{week}"


def _week_ticks(ax, weeks: Sequence[dt.date], started: dt.date | None = None) -> None:
    ax.set_xticks(range(len(weeks)))
    ax.set_xlim(-0.6, len(weeks) - 0.4)
    labels = []
    for i, monday in enumerate(weeks):
        label = week_label(monday)
        if i == 0 or monday.isocalendar()[0] != weeks[i - 1].isocalendar()[0]:
            label += f"\n{monday.isocalendar()[0]}"
        labels.append(label)
    ax.set_xticklabels(labels, fontsize=8)
    label = "Uge"
    if started is not None:
        label += f" (første spørgsmål {started.day}.{started.month}.{started.year})"
    ax.set_xlabel(label, fontsize=9)


def questions_per_week(weeks: Sequence[dt.date], answered: Sequence[int], unanswered: Sequence[int],
                       started: dt.date | None = None) -> bytes:
    """Stacked bars: answered and unanswered questions per week, totals on top.

    ``started``: the day of the first question, named under the axis when given."""
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
    _week_ticks(ax, weeks, started)
    ax.legend(frameon=False, fontsize=9, loc="upper left", ncol=2, bbox_to_anchor=(0, 1.02))
    return _png(fig)


def share_per_week(weeks: Sequence[dt.date], shares: Sequence[float | None], counts: Sequence[int],
                   title: str, colour: str = GREEN, started: dt.date | None = None) -> bytes:
    """A share (0..1) per week as a line with the value at every point; weeks without data are gaps.

    With fewer than :data:`MIN_POINTS` weeks with questions (``counts``) the chart says "For få data"
    (and how many weeks there are) instead of drawing a line through one or two points."""
    fig, ax = _figure()
    if not weeks or not any(counts):
        _empty(ax)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
        return _png(fig)
    points = sum(1 for c in counts if c)
    if points < MIN_POINTS:
        _empty(ax, f"For få data: en udvikling vises fra {MIN_POINTS} uger med spørgsmål "
                   f"(nu {points} {'uge' if points == 1 else 'uger'}).")
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
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
    _week_ticks(ax, weeks, started)
    return _png(fig)


def horizontal_bars(labels: Sequence[str], values: Sequence[float], title: str, *,
                    notes: Sequence[str] | None = None, percent: bool = False, colour: str = BLUE,
                    empty: str = "Ingen data i perioden") -> bytes:
    """Horizontal bars, largest on top, each with its value (and a note such as "n=40").

    ``labels`` may be user text (question themes): drawn literally, never as matplotlib mathtext.
    ``empty``: the text shown when there are no bars."""
    rows = max(len(labels), 1)
    fig, ax = _figure(height=max(2.2, 0.42 * rows + 1.0))
    if not labels:
        _empty(ax, empty)
        ax.set_title(title, loc="left", fontsize=11, fontweight="bold")
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
    """``text`` cut to ``limit`` characters, with ``$`` escaped (it would start matplotlib's mathtext)."""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")
