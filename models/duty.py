"""Parsing how long someone goes on duty: `8h`, `8j`, `90m`, `2jam`, `30menit`."""

from __future__ import annotations

import re
from datetime import timedelta

MAX_DUTY = timedelta(hours=72)
_DURATION = re.compile(r"^(\d{1,4})\s*(h|j|jam|hour|hours|m|mnt|menit|min|minutes?)$")


def parse_duration(text: str) -> timedelta | None:
    """A duty length between 1 minute and 72 hours, or None when the text is not one."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    hours = unit in ("h", "j", "jam", "hour", "hours")
    length = timedelta(hours=amount) if hours else timedelta(minutes=amount)
    if not timedelta(minutes=1) <= length <= MAX_DUTY:
        return None
    return length
