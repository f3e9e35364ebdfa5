"""How the store writes and reads times: any aware time comes back as the same instant in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.store.codec import from_db_time, to_db_time

ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-9, minutes=-30))]
)
TIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES
)


@given(TIMES)
def test_a_stored_time_reads_back_as_the_same_instant_in_utc(moment: datetime) -> None:
    stored = to_db_time(moment)
    read = from_db_time(stored)
    assert read == moment
    assert read.tzinfo is UTC
    assert read == datetime.strptime(stored, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_text_order_is_time_order() -> None:
    early = datetime(2026, 1, 1, 23, 59, 59, 999999, tzinfo=UTC)
    late = datetime(2026, 1, 2, 7, 0, tzinfo=timezone(timedelta(hours=7)))  # 00:00 UTC
    assert to_db_time(early) < to_db_time(late)


@pytest.mark.parametrize(
    "text", ["2026-01-01", "2026-01-01 00:00:00.000000Z", "2026-01-01T00:00:00,000000Z"]
)
def test_a_time_in_another_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="does not match format"):
        from_db_time(text)
