"""Danish local time for timestamps the database stores as naive UTC."""
from __future__ import annotations

import datetime as dt
import zoneinfo

LOCAL_TZ = zoneinfo.ZoneInfo("Europe/Copenhagen")
"""The municipality's time zone: every time a user reads is in it (CET/CEST)."""


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC timestamp as an aware datetime in :data:`LOCAL_TZ`; ``None`` stays ``None``."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL_TZ)


DANISH_MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
                 "oktober", "november", "december")
"""Danish month names, January first (lower case, as Danish writes them in a date)."""


def danish_date(value: dt.date | dt.datetime, today: dt.date | None = None) -> str:
    """A date as Danish prose: ``"3. december"``, with the year (``"3. december 2025"``) when it is not
    ``today``'s year (or when ``today`` is None). A datetime is a stored naive-UTC timestamp and is
    read in :data:`LOCAL_TZ` first."""
    if isinstance(value, dt.datetime):
        value = local_time(value).date()
    text = f"{value.day}. {DANISH_MONTHS[value.month - 1]}"
    return text if today is not None and value.year == today.year else f"{text} {value.year}"
