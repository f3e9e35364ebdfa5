"""The store writes and compares kinds through their enums, never as SQL string literals.

Since migration 0014 no column lists its allowed kinds: the enums in `models/` are the only
place a kind or status is named. A statement that spells one as `'pending'` would silently stop
matching if the member's value changed, and a grep for the member would not find it. So the
store binds a member's value as a parameter, or, where the text of the SQL itself must hold it
(a condition that has to match a partial index's own, a CASE), writes it from the member:
`f"status = '{OutboxStatus.PENDING.value}'"`.

`enum_literals` reads a module's syntax tree and flags every string constant, and every f-string
(its constant parts, joined), that holds `'<value>'` — single-quoted as SQL writes a string — for
the value of any enum below. A value inside a longer SQL string (`'$.text'`) or next to an
escaped quote (`'it''s'`) is not one. Docstrings are prose, not SQL, and are not read.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import pytest

from models.agencies import AgencyKind, Role
from models.broadcast import BroadcastStatus, DeliveryState, TargetKind, Urgency
from models.broadcast import Step as BroadcastStep
from models.incident_types import IncidentType
from models.incidents import (
    AssignmentStatus,
    CancelReason,
    EventKind,
    Hurt,
    Lifecycle,
    PhoneSource,
    ResponseStatus,
    Severity,
    Source,
)
from models.info import Gap, InfoKind, InfoState
from models.outbox import OutboxStatus, SendMethod
from models.refs import PostKind
from models.reminders import ReminderKind, ReminderState
from models.report import Mode
from models.report import Step as ReportStep

STORE = Path(__file__).resolve().parent.parent / "bot" / "store"

# Every enum whose values the database holds (the column each names them in), and DeliveryState,
# which the store computes in SQL from the outbox's statuses.
STORED_ENUMS: tuple[type[StrEnum], ...] = (
    OutboxStatus,  # outbox.status
    SendMethod,  # outbox.method
    AgencyKind,  # agencies.kind
    Role,  # user_roles.role
    IncidentType,  # incidents.type, routes.incident_type
    Severity,  # incidents.severity
    Lifecycle,  # incidents.lifecycle
    Source,  # incidents.source
    Hurt,  # incidents.hurt
    PhoneSource,  # incidents.reporter_phone_source
    CancelReason,  # incidents.cancel_reason
    ResponseStatus,  # responses.status
    AssignmentStatus,  # assignments.status
    EventKind,  # incident_events.kind
    PostKind,  # incident_posts.kind
    BroadcastStatus,  # broadcasts.status
    BroadcastStep,  # broadcasts.step, conversations.step
    Urgency,  # broadcasts.urgency
    TargetKind,  # broadcasts.target_kind
    DeliveryState,  # a broadcast copy's state, computed from outbox.status
    ReminderKind,  # reminders.kind
    ReminderState,  # reminders.state
    Mode,  # conversations.kind
    ReportStep,  # conversations.step
    InfoKind,  # incident_info.kind
    InfoState,  # incident_info.state
    Gap,  # incident_info.fills
)

# Modules another change is still moving to enum-built values (issue 15); checked once it lands.
PENDING = frozenset({"__init__.py", "users.py"})


def _pattern(values: set[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(value) for value in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<!')'({alternatives})'(?!')")


ENUM_VALUES = {member.value for enum in STORED_ENUMS for member in enum}
LITERAL = _pattern(ENUM_VALUES)


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of each string constant and f-string of the module, docstrings left out.

    An f-string's constant parts are joined with a character that is no quote, so that a literal
    split around a `{value}` neither matches nor hides the ones after it."""
    prose: set[int] = set()
    inside_fstrings: set[int] = set()
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant | ast.JoinedStr):
            prose.add(id(node.value))
        elif isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(part) for part in ast.walk(node) if part is not node)
    for node in ast.walk(tree):
        if id(node) in prose or id(node) in inside_fstrings:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            parts = (part.value if isinstance(part, ast.Constant) else "\0" for part in node.values)
            found.append((node.lineno, "".join(str(part) for part in parts)))
    return found


def enum_literals(source: str) -> list[str]:
    """`line: 'value'` for each SQL string literal in `source` that spells an enum's value."""
    return [
        f"{line}: {match.group(0)}"
        for line, text in _texts(ast.parse(source))
        for match in LITERAL.finditer(text)
    ]


def _store_modules() -> list[Path]:
    return [path for path in sorted(STORE.glob("*.py")) if path.name not in PENDING]


@pytest.mark.parametrize("path", _store_modules(), ids=lambda path: path.name)
def test_store_spells_no_kind_as_a_sql_literal(path: Path) -> None:
    """Every kind and status in the store's SQL comes from its enum: bound, or built from it."""
    assert enum_literals(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_a_literal_status() -> None:
    """The check fails on the shapes it exists for, and only on SQL's quoted strings."""
    source = '''
"""A docstring may say 'sent': it is prose."""

SENT = "UPDATE outbox SET status = 'sent' WHERE id = ?"
WHERE = (
    "chat_id = ? "
    "AND status IN ('pending', 'parked')"
)


async def mark(db, table):
    """Nor is this 'dropped'."""
    await db.execute(f"UPDATE {table} SET kind = '{KIND}', severity = 'kritis' WHERE id = ?")
    await db.execute("SELECT json_extract(payload, '$.text'), 'it''s sent', 'sent ' FROM outbox")
    await db.execute(f"UPDATE outbox SET status = '{OutboxStatus.SENT.value}' WHERE id = ?")
    return "sent", ("pending",)
'''
    assert enum_literals(source) == [
        "4: 'sent'",
        "6: 'pending'",
        "6: 'parked'",
        "13: 'kritis'",
    ]


def test_enum_values_need_no_sql_quoting() -> None:
    """The store writes values into SQL text as `'{member.value}'`; no value may hold a quote."""
    assert [value for value in ENUM_VALUES if "'" in value or "\\" in value] == []


def test_pending_modules_exist() -> None:
    """The modules left out for now are real ones, so none is left out by a stale name."""
    assert {path.name for path in STORE.glob("*.py")} >= PENDING
