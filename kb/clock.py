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


def now() -> _dt.datetime:
    """The local date and time to the minute: :func:`today` with the time of day (so
    ``KB_TODAY`` moves it to that day); printed on PDFs as when they were generated."""
    moment = _dt.datetime.now().replace(second=0, microsecond=0)
    return _dt.datetime.combine(today(), moment.time())
