"""The review queue: grouping of similar questions, statuses, thumbs-down, CSV."""
from __future__ import annotations

import csv
import io
import random
import re

from sqlalchemy import select

from bot.admin.grouping import group_texts, topic_text

FLOWERS = [
    "Må jeg selv købe blomster til en beboer, der har fødselsdag?",
    "Kan jeg købe blomster til en borgers fødselsdag?",
    "må jeg købe en buket blomster til beboeren",
    "Må vi selv købe fødselsdagsblomster til beboerne?",
    "kan jeg bruge penge på blomster til en beboers fødselsdag",
    "maa jeg kobe blomster til en beboer",
    "Må jeg give en borger blomster på fødselsdagen?",
    "Blomster til beboer med fødselsdag, må jeg selv købe dem?",
    "Hvem bestemmer, om vi må købe blomster til beboernes fødselsdage?",
    "må jeg købe blomster til borgeren",
]
OTHERS = [
    "Må jeg tage min papegøje med på arbejde?",
    "Hvem bestemmer farven på væggene i personalestuen?",
    "Må jeg låne kommunens bil til privat brug?",
    "Må jeg selv bestille kaffe til afdelingen?",
    "Må jeg arbejde hjemme om fredagen?",
    "Må vi spille musik for beboerne om aftenen?",
    "Kan jeg selv vælge vikar, når en kollega er syg?",
    "må jeg holde ferie i uge 7",
    "Må jeg parkere på borgerens plads?",
    "Må jeg købe kage til teamet?",
]


def _variants(rnd: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        text = FLOWERS[i % len(FLOWERS)]
        if rnd.random() < 0.5:
            text = text.replace("ø", "oe").replace("å", "aa")
        if rnd.random() < 0.3:
            text = text.lower().rstrip("?")
        out.append(text)
    return out


def test_thirty_variants_of_one_missing_topic_are_one_group():
    rnd = random.Random(1)
    texts = _variants(rnd, 30) + OTHERS
    rnd.shuffle(texts)
    groups = group_texts(texts)
    biggest = groups[0]
    members = {texts[i] for i in biggest.members}
    assert len(biggest.members) == 30, [texts[i] for i in biggest.members]
    assert all("lomster" in t for t in members)
    # The different topics are not swallowed: each stays on its own.
    assert sorted(len(g.members) for g in groups[1:]) == [1] * len(OTHERS)
    assert sum(len(g.members) for g in groups) == len(texts)


def test_grouping_basics():
    assert group_texts([]) == []
    assert [g.members for g in group_texts(["Må jeg?"])] == [[0]]
    same = group_texts(["Må jeg selv købe kage?", "må jeg selv købe kage", "MÅ JEG SELV KØBE KAGE?"])
    assert len(same) == 1 and len(same[0].members) == 3
    assert topic_text("Må jeg selv købe blomster til en beboer?") == "koebe blomster beboer"


def test_grouping_is_fast_enough_for_the_queue():
    import time

    rnd = random.Random(2)
    words = ("vikar vagt kursus bil indkøb ferie nøgle medicin borger beboer telefon møde pause tøj budget "
             "kørsel værktøj rengøring måltid udflugt maling reparation affald sne græs bygning").split()
    texts = [f"Må jeg selv {rnd.choice(words)} til {rnd.choice(words)} {rnd.randint(1, 500)}?" for _ in range(2000)]
    start = time.perf_counter()
    groups = group_texts(texts)
    assert time.perf_counter() - start < 5
    assert sum(len(g.members) for g in groups) == 2000


def _ids(url, like):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question.id).where(Question.text.like(like))).scalars().all()
    finally:
        session.close()


def _question(url, qid):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Question, qid)
    finally:
        session.close()


def test_queue_groups_and_shows_details(client_for):
    html = client_for("hr").get("/spoergsmaal").get_data(as_text=True)
    assert re.search(r'count-badge[^>]*>3×<', html), "the three flower questions form one group"
    assert "Må jeg tage min papegøje med på arbejde?" in html
    assert "Må dagplejerne selv købe legetøj til haven?" in html
    # Thumbs-down on an answered question appears too (not reviewed yet = new), with its comment.
    assert "Hvem bestemmer om jeg må arbejde hjemme?" in html and "Fejl i svaret" in html
    assert "=HYPERLINK" in html and "<q>" in html
    # Answered questions without negative feedback are not in the queue.
    assert "Må jeg selv bytte vagt?" not in html
    assert "Bottens bedste bud" in html and "score 0,12" in html


def test_queue_filters(client_for):
    client = client_for("hr")
    only_dagplejen = client.get("/spoergsmaal?enhed=boern-og-unge").get_data(as_text=True)
    assert "dagplejerne" in only_dagplejen and "blomster" not in only_dagplejen
    assert "tandbørster" not in only_dagplejen  # Tandplejen is its own branch, not under Børn og Unge
    assert "tandbørster" in client.get("/spoergsmaal?enhed=tandplejen").get_data(as_text=True)
    feedback = client.get("/spoergsmaal?type=feedback").get_data(as_text=True)
    assert "arbejde hjemme" in feedback and "papegøje" not in feedback
    period = client.get("/spoergsmaal?fra=2026-11-27&til=2026-11-28&visning=liste").get_data(as_text=True)
    assert "borgers fødselsdag" in period and "papegøje" not in period and "3 spørgsmål" in period
    text = client.get("/spoergsmaal?q=papegøje").get_data(as_text=True)
    assert "papegøje" in text and "blomster" not in text


def test_status_with_who_and_filter(admin_db, client_for):
    client = client_for("hr")
    ids = _ids(admin_db, "%papegøje%")
    response = client.post("/spoergsmaal/status", data={"ids": ",".join(map(str, ids)), "status": "not_relevant",
                                                         "next": "/spoergsmaal"})
    assert response.status_code == 302 and response.headers["Location"] == "/spoergsmaal"
    question = _question(admin_db, ids[0])
    assert (question.status, question.status_by) == ("not_relevant", "hr") and question.status_at is not None
    assert "papegøje" not in client.get("/spoergsmaal").get_data(as_text=True)
    done = client.get("/spoergsmaal?status=ikke-relevant&visning=liste").get_data(as_text=True)
    assert "papegøje" in done and "hr" in done
    # Answered by an existing entry: linked; an unknown entry changes nothing.
    flowers = ",".join(map(str, _ids(admin_db, "%blomster%")))
    client.post("/spoergsmaal/status", data={"ids": flowers, "status": "answered", "mandate_id": "findes-ikke"})
    assert _question(admin_db, int(flowers.split(",")[0])).status == "new"
    client.post("/spoergsmaal/status", data={"ids": flowers, "status": "answered", "mandate_id": "sk-gaver"})
    question = _question(admin_db, int(flowers.split(",")[0]))
    assert (question.status, question.resolved_mandate_id) == ("answered", "sk-gaver")
    answered = client.get("/spoergsmaal?status=besvaret").get_data(as_text=True)
    assert "blomster" in answered and "Gaver fra borgere" in answered
    # Back to new.
    client.post("/spoergsmaal/status", data={"ids": flowers, "status": "new"})
    assert _question(admin_db, int(flowers.split(",")[0])).resolved_mandate_id is None


def test_reviewed_thumbs_down_leaves_the_new_list(admin_db, client_for):
    client = client_for("hr")
    qid = _ids(admin_db, "Hvem bestemmer om jeg må arbejde hjemme?")[0]
    client.post("/spoergsmaal/status", data={"ids": str(qid), "status": "answered"})
    assert "arbejde hjemme" not in client.get("/spoergsmaal").get_data(as_text=True)
    assert "arbejde hjemme" in client.get("/spoergsmaal?status=besvaret").get_data(as_text=True)


def test_csv_export(client_for):
    response = client_for("hr").get("/spoergsmaal.csv?status=alle")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:5] == ["id", "tidspunkt", "enhed", "spørgsmål", "udfald"]
    by_text = {r[3]: r for r in rows[1:]}
    flowers = [r for t, r in by_text.items() if "blomster" in t]
    assert len(flowers) == 3 and len({r[5] for r in flowers}) == 1  # same group number
    assert by_text["Hvem bestemmer om jeg må arbejde hjemme?"][8] == "down:1"
    assert len(rows) == 1 + 8  # six unanswered, two with thumbs-down


def test_csv_neutralises_formulas(admin_db, client_for):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(admin_db)
    session.add(Question(unit_id="tandplejen", text="=cmd|' /C calc'!A0", outcome="unanswered", status="new"))
    session.commit()
    session.close()
    text = client_for("hr").get("/spoergsmaal.csv").get_data(as_text=True)
    assert "'=cmd" in text and ";=cmd" not in text


def test_linking_questions_to_an_entry_teaches_the_bot(admin_db, client_for):
    """HR marks the papegøje questions as answered by an entry; asked again, the bot answers with it."""
    from bot.service import MandateService

    service = MandateService()  # settings point at admin_db
    question = "Må jeg tage min papegøje med på arbejde?"
    assert service.answer(question, "hjemmeplejen-syd", store=False).reply.custom["type"] == "no_mandate"
    ids = ",".join(map(str, _ids(admin_db, "%papegøje%")))
    response = client_for("hr").post("/spoergsmaal/status", follow_redirects=True,
                                     data={"ids": ids, "status": "answered", "mandate_id": "sk-hjemmearbejde"})
    assert "svarer botten med posten »sk-hjemmearbejde«" in response.get_data(as_text=True)
    assert service.answer(question, "hjemmeplejen-syd", store=False).reply.custom["mandate_id"] == "sk-hjemmearbejde"


def test_the_queue_shows_what_a_clarifying_question_offered(admin_db, client_for):
    """'Ingen af dem' after "Handler det om A, B eller C?": HR sees the entries the employee turned down."""
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(admin_db)
    try:
        row = session.get(Question, _ids(admin_db, "%papegøje%")[0])
        row.offered = ["soo-vagtbytte", "sk-hjemmearbejde"]
        session.commit()
    finally:
        session.close()
    html = client_for("hr").get("/spoergsmaal?q=papegøje").get_data(as_text=True)
    assert "Tilbudt, ikke valgt" in html
    assert "Bytte vagt med en kollega" in html and "Hjemmearbejde" in html
    assert "Tilbudt, ikke valgt" not in client_for("hr").get("/spoergsmaal?q=tandbørster").get_data(as_text=True)
