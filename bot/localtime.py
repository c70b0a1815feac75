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
