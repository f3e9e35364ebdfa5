"""What an incident still lacks: the line on its card, and the questions that follow it.

The rules are tables in `models.info` (`GAPS_BY_TYPE`, `QUESTIONS_BY_TYPE`); here they meet the
incident. A gap closes when the first report had it (a map point, a phone, whether anyone is
hurt, a photo) or when later information fills it: a location or a photo sent as an answer or an
addition, an answer to a question about it (other than "don't know"), or a note its author said
answers it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models.incident_types import IncidentType
from models.incidents import Hurt, Incident
from models.info import (
    GAPS_BY_TYPE,
    QUESTIONS,
    QUESTIONS_BY_TYPE,
    UNKNOWN_ANSWER,
    Gap,
    Info,
    QuickQuestion,
)


def filled_by(info: Info) -> set[Gap]:
    """The gaps a posted answer, addition or note fills."""
    if not info.shown:
        return set()
    found: set[Gap] = set()
    if info.has_point:
        found.add(Gap.POINT)
    if info.photo is not None:
        found.add(Gap.PHOTO)
    if info.fills is not None and info.answer_key != UNKNOWN_ANSWER:
        found.add(info.fills)
    return found


def gaps(incident: Incident, infos: Iterable[Info]) -> tuple[Gap, ...]:
    """What the incident still lacks that matters for its type, most urgent first."""
    filled: set[Gap] = set()
    if incident.location.has_point:
        filled.add(Gap.POINT)
    if incident.reporter_phone:
        filled.add(Gap.CONTACT)
    if incident.hurt is not Hurt.UNKNOWN:
        filled.add(Gap.HURT)
    if incident.photos:
        filled.add(Gap.PHOTO)
    for info in infos:
        filled |= filled_by(info)
    return tuple(gap for gap in GAPS_BY_TYPE[incident.type] if gap not in filled)


def questions_for(kind: IncidentType, missing: Sequence[Gap]) -> tuple[QuickQuestion, ...]:
    """The one-tap questions for an incident type: those that fill a missing gap first (in the
    order of the gaps), then those that fill no gap, in the table's order; none whose gap is
    known already."""
    asked = [QUESTIONS[key] for key in QUESTIONS_BY_TYPE[kind]]
    first = sorted(
        (q for q in asked if q.gap is not None and q.gap in missing),
        key=lambda q: missing.index(q.gap) if q.gap is not None else 0,
    )
    rest = [q for q in asked if q.gap is None]
    return (*first, *rest)
