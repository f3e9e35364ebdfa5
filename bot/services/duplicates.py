"""Finding the open incident a new report may repeat (models.duplicates scores; this reads)."""

from __future__ import annotations

from datetime import datetime

from bot.store import Tx
from models.duplicates import DuplicatePolicy, Match, Report, best_match
from models.incident_types import related_types


async def detect(tx: Tx, report: Report, policy: DuplicatePolicy) -> Match | None:
    """The open incident `report` most likely repeats, among those of its own or a related
    type reported within the window before it; None when none is alike enough (or the window
    is 0: detection is off)."""
    if not policy.window:
        return None
    since: datetime = report.at - policy.window
    candidates = await tx.duplicate_candidates(related_types(report.type), since, report.id)
    return best_match(report, candidates, policy)
