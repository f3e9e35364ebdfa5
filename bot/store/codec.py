"""How values are written to and read from SQLite columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def to_db_time(value: datetime) -> str:
    """UTC ISO 8601 with fixed width, so text order is time order."""
    if value.tzinfo is None:
        raise ValueError("naive datetime; the store only takes timezone-aware times")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def maybe_time(value: str | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def from_json(value: str) -> Any:
    return json.loads(value)
