"""The LMU report: one A4 page as PDF about aktørskab in one unit and period (ReportLab platypus).

The local cooperation committee (LMU) discusses "what is aktørskab for us?". The
page gives it the unit's figures (computed by the admin app with the dashboard's
definitions, :mod:`bot.admin.report`): questions asked, the share the bot
answered, the share about decisions staff already own; the topics staff asked
permission for that they already own; the themes the bot could not answer;
entries past their review date; approved good stories; and three questions for
the discussion. All text is Danish; user text (question themes, stories) is
escaped, never read as ReportLab markup.

The text is set in DejaVu Sans, embedded in the file (matplotlib ships the font;
it covers æøå and the rest of Latin, Greek and Cyrillic); without it, in the
standard Helvetica (Latin-1: æøå, not every other character). Whatever the
amount of content, the page is one page: long lists are cut, and the content
is shrunk to fit (``KeepInFrame``).

No database and no Flask here: :func:`render_pdf` turns a :class:`LmuReport` into bytes.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
          "november", "december")
MAX_ITEMS = 5
"""At most this many topics, themes and stale entries are listed (the rest as "og N flere")."""
MAX_STORIES = 3
MAX_TEXT = 160
"""User text (a theme's question, a story) is cut to this many characters."""
DISCUSSION = (
    "Hvad er aktørskab for os: hvilke beslutninger træffer vi selv, og hvilke spørger vi stadig om lov til?",
    "Hvilke af emnerne ovenfor kan vi holde op med at spørge om, og hvad skal der til?",
    "Hvad lærer vi af svarene, der var forkerte eller manglede, og hvem retter dem?",
)
"""Questions for the committee's discussion, printed at the end of the page."""


@dataclass(frozen=True)
class LmuReport:
    """The content of one report (all counts are ints, shares 0..1 or None without questions).

    Attributes:
        unit_name: the unit the report is about (its units below included).
        first_day, last_day: the period (both included).
        made_on: the day the report was made.
        total, answered, yours, disputed: questions asked; answered by the bot; of those, about
            decisions staff already own ("already yours"); answers about such decisions left out
            because they got a thumbs-down or "Fejl i svaret".
        answered_share: answered / total. yours_share: yours / answered.
        yours_topics: ``(topic, questions)``: what staff asked permission for that they already own.
        themes: ``(a representative question, questions)``: themes of unanswered questions.
        stale: ``(topic, unit name, review_by)``: entries in force past their review date.
        stories: ``(what happened, what the employee decided or None, unit name, date)``.
        demo: the figures include generated demo history.
    """

    unit_name: str
    first_day: dt.date
    last_day: dt.date
    made_on: dt.date
    total: int
    answered: int
    answered_share: float | None
    yours: int
    yours_share: float | None
    disputed: int = 0
    yours_topics: list[tuple[str, int]] = field(default_factory=list)
    themes: list[tuple[str, int]] = field(default_factory=list)
    stale: list[tuple[str, str, dt.date]] = field(default_factory=list)
    stories: list[tuple[str, str | None, str, dt.date]] = field(default_factory=list)
    demo: bool = False


def danish_date(day: dt.date) -> str:
    """``3. december 2026``."""
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def percent(share: float | None) -> str:
    """``"45 %"``; ``"–"`` for None."""
    return "–" if share is None else f"{share * 100:.0f} %"


def number(value: int) -> str:
    """Thousands with a dot: ``1.234``."""
    return f"{int(value):,}".replace(",", ".")


def more_text(more: int) -> str:
    """``"… og én til."`` / ``"… og 12 flere."``: the items a list leaves out."""
    return "… og én til." if more == 1 else f"… og {number(more)} flere."


def _fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans embedded when found, else Helvetica."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "MandatSans" in pdfmetrics.getRegisteredFontNames():
        return "MandatSans", "MandatSans-Bold"
    try:
        import matplotlib

        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("MandatSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("MandatSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("MandatSans", normal="MandatSans", bold="MandatSans-Bold")
    except Exception:  # no matplotlib or no font file: the standard font still has æøå
        return "Helvetica", "Helvetica-Bold"
    return "MandatSans", "MandatSans-Bold"


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _user(text: str, limit: int = MAX_TEXT) -> str:
    """User text, cut and escaped for a ReportLab paragraph."""
    return escape(_cut(text, limit))


def render_pdf(report: LmuReport) -> bytes:
    """The report as a one-page A4 PDF.

    Returns:
        The PDF file's bytes (title, author and subject set in its metadata).
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepInFrame, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12.5, textColor=colors.HexColor("#1f2937"))
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10, textColor=colors.HexColor("#6b7280"))
    title = ParagraphStyle("title", parent=base, fontName=bold, fontSize=17, leading=21, spaceAfter=2)
    heading = ParagraphStyle("heading", parent=base, fontName=bold, fontSize=11, leading=14, spaceBefore=7,
                             spaceAfter=2, textColor=colors.HexColor("#1f5f9e"))
    item = ParagraphStyle("item", parent=base, leftIndent=11, bulletIndent=0, spaceAfter=1)
    big = ParagraphStyle("big", parent=base, fontName=bold, fontSize=18, leading=22, alignment=1,
                         textColor=colors.HexColor("#1f5f9e"))
    caption = ParagraphStyle("caption", parent=base, fontSize=8.5, leading=10.5, alignment=1)
    demo = ParagraphStyle("demo", parent=base, fontName=bold, textColor=colors.HexColor("#5c3000"),
                          backColor=colors.HexColor("#fff1dc"), borderPadding=4, spaceAfter=6)

    unit = escape(report.unit_name)
    story: list = [
        Paragraph(f"Aktørskab i {unit}", title),
        Paragraph(f"Rapport til LMU · {danish_date(report.first_day)} – {danish_date(report.last_day)} · "
                  f"{unit} og enhederne under den", small),
        Spacer(1, 5),
    ]
    if report.demo:
        story.append(Paragraph("DEMODATA: tallene bygger på genereret demohistorik, ikke på rigtige spørgsmål.", demo))

    cells = [
        (number(report.total), "spørgsmål stillet til Mandatbot"),
        (percent(report.answered_share), f"besvaret af botten ({number(report.answered)})"),
        (percent(report.yours_share),
         f"af de besvarede handlede om noget, medarbejderne allerede selv må ({number(report.yours)})"),
    ]
    figures = Table([[Paragraph(v, big) for v, _ in cells], [Paragraph(t, caption) for _, t in cells]],
                    colWidths=[58 * mm] * 3)
    figures.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#eef4fb")),
        ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#e9f5ea")),
        ("LINEAFTER", (0, 0), (1, -1), 2, colors.white),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, 0), 6), ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
    ]))
    story.append(figures)
    note = ("»Allerede selv«: svar om beslutninger, som medarbejderen eller teamet har kompetencen til. "
            "Svar med tommel ned eller »Fejl i svaret« tæller ikke med")
    note += f" ({number(report.disputed)} i perioden)." if report.disputed else "."
    story.append(Paragraph(note, small))

    def section(head: str, lines: list[str], empty: str, more: int = 0) -> None:
        story.append(Paragraph(head, heading))
        if not lines:
            story.append(Paragraph(empty, base))
        for line in lines:
            story.append(Paragraph(line, item, bulletText="•"))
        if more > 0:
            story.append(Paragraph(more_text(more), small))

    section("Det spørger medarbejderne om lov til, selv om de allerede må",
            [f"{escape(_cut(topic, 90))}: <b>{number(n)}</b> spørgsmål" for topic, n in report.yours_topics[:MAX_ITEMS]],
            "Ingen spørgsmål om beslutninger, medarbejderne selv må træffe, i perioden.",
            len(report.yours_topics) - MAX_ITEMS)
    section("Det kunne botten ikke svare på (temaer)",
            [f"»{_user(text, 110)}«: <b>{number(n)}</b> spørgsmål" for text, n in report.themes[:MAX_ITEMS]],
            "Botten svarede på alle spørgsmål i perioden.", len(report.themes) - MAX_ITEMS)
    section("Poster, der skulle have været gennemgået",
            [f"{escape(_cut(topic, 80))} ({escape(unit_name)}): skulle gennemgås senest {danish_date(day)}"
             for topic, unit_name, day in report.stale[:MAX_ITEMS]],
            "Ingen: alle poster er gennemgået til tiden.", len(report.stale) - MAX_ITEMS)
    story_lines = []
    for what, own, unit_name, day in report.stories[:MAX_STORIES]:
        line = f"»{_user(what)}«"
        if own:
            line += f" Selv besluttet: {_user(own, 110)}"
        story_lines.append(f"{line} <font color='#6b7280'>({escape(unit_name)}, {danish_date(day)})</font>")
    section("Gode historier", story_lines, "Ingen godkendte historier fra perioden endnu. Del dem i chatten: "
            "»Jeg vil dele en god historie«.", len(report.stories) - MAX_STORIES)
    section("Til drøftelse i LMU", [escape(q) for q in DISCUSSION], "")
    story.append(Spacer(1, 6))
    story.append(Paragraph(
        f"Lavet af Mandatbot {danish_date(report.made_on)}. Tallene følger admin-appens side Aktørskab. "
        "Spørgsmålene er gemt uden navne og personnumre.", small))

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=14 * mm, title=f"Aktørskab i {report.unit_name}: rapport til LMU",
                            author="Mandatbot", subject=f"{report.first_day.isoformat()}–{report.last_day.isoformat()}")
    doc.build([KeepInFrame(doc.width, doc.height, story, mode="shrink")])
    return out.getvalue()
