"""The one place that knows today's date.

Everything that depends on "today" (review due, announcement expiry, ``kb new``) calls
:func:`today`, so tests and CI set ``KB_TODAY=YYYY-MM-DD`` and get deterministic output.
"""

from __future__ import annotations

import datetime as _dt
import os

ENV_VAR = "KB_TODAY"


def today() -> _dt.date:
    """Return ``KB_TODAY`` when set (``YYYY-MM-DD``), else the real local date."""
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{ENV_VAR}: expected a date YYYY-MM-DD, found {value!r}") from None


def now(zone: str | None = None) -> _dt.datetime:
    """The date and time to the minute: :func:`today` with the time of day (so ``KB_TODAY``
    moves it to that day); printed on PDFs as when they were generated. With ``zone`` (an IANA
    name such as ``extra.kb.timezone``) the time is that zone's, zone attached; else local."""
    if zone:
        from zoneinfo import ZoneInfo

        moment = _dt.datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0)
        if os.environ.get(ENV_VAR, "").strip():
            moment = moment.replace(year=today().year, month=today().month, day=today().day)
        return moment
    moment = _dt.datetime.now().replace(second=0, microsecond=0)
    return _dt.datetime.combine(today(), moment.time())


def zone_label(moment: _dt.datetime) -> str:
    """``UTC+8``, ``UTC+5:30``, ``UTC``: the offset of an aware time, for readers."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
