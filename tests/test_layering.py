"""Handlers talk only to services: no store, no clock and no SQL in `handlers/` (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"

# Being converted; they join the check when they are done.
NOT_YET = frozenset({"incidents.py", "reporting.py", "broadcasts.py"})

FORBIDDEN = re.compile(
    r"services\.store|services\.clock|\bfrom bot\.store\b"
    r"|\b(?:SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b"
)


def test_handlers_reach_no_store_clock_or_sql() -> None:
    """Every handler module goes through `context.services`' operations, never around them."""
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(HANDLERS.glob("*.py"))
        if path.name not in NOT_YET
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert found == []


def test_the_check_sees_what_it_forbids() -> None:
    """The pattern itself catches the shapes the handlers used to have."""
    for line in (
        "async with services.store.read() as tx:",
        "now = services.clock.now()",
        "from bot.store import Store",
        'await db.execute("SELECT id FROM incidents")',
    ):
        assert FORBIDDEN.search(line), line
