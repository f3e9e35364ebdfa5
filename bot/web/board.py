"""The board's data as JSON, in the viewer's language: open incidents with each agency's state
and late steps, one incident in full, the broadcasts in progress. Times are ISO 8601 in UTC
(the page keeps ages and clocks running from them); labels come from the bot's own catalogs, and
text marked `html` is the bot's Telegram HTML (people's words escaped, a few tags), which the
page shows through its own tag filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import t
from bot.render.broadcast import urgency_label
from bot.render.cards import (
    RESPONSE_LABELS,
    hurt_text,
    info_lines,
    severity_label,
    short,
    status_label,
    timeline_line,
)
from bot.render.organisation import type_label
from bot.services.board import Board, BoardIncident, Lateness
from bot.settings import Language
from models.broadcast import Broadcast, Counts
from models.incidents import EventKind, IncidentView, TimelineEvent

# Timeline events that carry what people said after the report: the panel's own section.
SAID = frozenset(
    {
        EventKind.QUESTION_ASKED.value,
        EventKind.ANSWERED.value,
        EventKind.ADDED.value,
        EventKind.NOTED.value,
    }
)


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


PLACE_MAX = 80


def _place(language: Language, view: IncidentView) -> str:
    """Where, in a few words: the address as typed, or the pin's coordinates."""
    location = view.incident.location
    if location.address:
        return short(location.address, PLACE_MAX)
    if location.has_point:
        return f"{location.latitude:.4f}, {location.longitude:.4f}"
    return t(language, "open.no_location")


def _late(lateness: Lateness | None) -> dict[str, Any] | None:
    if lateness is None:
        return None
    return {
        "reminded": lateness.attempt,
        "escalated": lateness.escalated,
        "due": _at(lateness.due_at),
    }


def incident_json(
    language: Language, view: IncidentView, item: BoardIncident | None = None
) -> dict[str, Any]:
    incident = view.incident
    location = incident.location
    point = location.has_point
    late = item.agencies_late if item is not None else {}
    return {
        "number": incident.id,
        "type": incident.type.value,
        "type_label": type_label(language, incident.type),
        "severity": incident.severity.value,
        "severity_label": severity_label(language, incident.severity),
        "status": view.status.value,
        "status_label": status_label(language, view.status),
        "lifecycle": incident.lifecycle.value,
        "drill": incident.drill_id is not None,
        "reported_at": _at(incident.created_at),
        "location": {
            "lat": location.latitude if point else None,
            "lon": location.longitude if point else None,
            "address": location.address,
            "text": _place(language, view),
        },
        "agencies": [
            {
                "code": r.agency_code,
                "name": r.agency_name,
                "state": r.status.value,
                "state_label": t(language, RESPONSE_LABELS[r.status]),
                "since": _at(r.updated_at),
                "acknowledged_by": r.acknowledged_by_name,
                "late": _late(late.get(r.agency_id)),
            }
            for r in view.responses
        ],
        "late": _late(item.late if item is not None else None),
        "owner": incident.owner_name,
        "merged": list(view.merged_from),
        "similar_to": view.similar_to.of_id if view.similar_to else None,
        "similar": list(view.similar),
    }


def open_json(language: Language, board: Board) -> dict[str, Any]:
    return {
        "at": _at(board.at),
        "total": board.total,
        "incidents": [incident_json(language, item.view, item) for item in board.incidents],
    }


def detail_json(
    language: Language, view: IncidentView, events: list[TimelineEvent], zone: ZoneInfo
) -> dict[str, Any]:
    incident = view.incident
    ordered = sorted(events, key=lambda event: (event.at, event.id))
    return {
        **incident_json(language, view),
        "description": incident.description,
        "hurt": incident.hurt.value,
        "hurt_count": incident.hurt_count,
        "hurt_html": hurt_text(language, incident),
        "reporter": incident.reporter_name,
        "phone": incident.reporter_phone,
        "info": [
            {"kind": f.kind.value, "text": f.text, "at": _at(f.created_at)} for f in view.infos
        ],
        "info_html": info_lines(language, view),
        "said_html": [timeline_line(language, e, zone) for e in ordered if e.kind in SAID],
        "timeline_html": [timeline_line(language, e, zone) for e in ordered],
        "timeline": [
            {"kind": e.kind, "at": _at(e.at), "agency": e.agency_code, "by": e.actor_name}
            for e in ordered
        ],
    }


def broadcasts_json(
    language: Language, found: list[tuple[Broadcast, Counts]], at: datetime
) -> dict[str, Any]:
    return {
        "at": _at(at),
        "broadcasts": [
            {
                "number": b.id,
                "urgency": b.urgency.value,
                "urgency_label": urgency_label(language, b.urgency),
                "status": b.status.value,
                "status_label": t(language, b.status.label_key),
                "text": b.text,
                "sender": b.sender_name,
                "sent_at": _at(b.sent_at),
                "total": counts.total,
                "sent": counts.sent,
                "pending": counts.pending,
                "failed": counts.failed,
                "confirmed": counts.confirmed,
            }
            for b, counts in found
        ],
    }
