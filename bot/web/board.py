"""The board's data as JSON: open incidents, and one incident in full (the page that shows them
is `/papan`'s next step). Times are ISO 8601 in UTC; the page formats them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from models.incidents import IncidentView, TimelineEvent


def _at(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def incident_json(view: IncidentView) -> dict[str, Any]:
    incident = view.incident
    location = incident.location
    return {
        "number": incident.id,
        "type": incident.type.value,
        "severity": incident.severity.value,
        "status": view.status.value,
        "lifecycle": incident.lifecycle.value,
        "drill": incident.drill_id is not None,
        "reported_at": _at(incident.created_at),
        "location": {
            "lat": location.latitude,
            "lon": location.longitude,
            "address": location.address,
        },
        "agencies": [
            {
                "code": r.agency_code,
                "name": r.agency_name,
                "state": r.status.value,
                "since": _at(r.updated_at),
                "acknowledged_by": r.acknowledged_by_name,
            }
            for r in view.responses
        ],
        "owner": incident.owner_name,
        "similar_to": view.similar_to.of_id if view.similar_to else None,
    }


def open_json(views: list[IncidentView], total: int, at: datetime) -> dict[str, Any]:
    return {"at": _at(at), "total": total, "incidents": [incident_json(v) for v in views]}


def detail_json(view: IncidentView, events: list[TimelineEvent]) -> dict[str, Any]:
    incident = view.incident
    return {
        **incident_json(view),
        "description": incident.description,
        "hurt": incident.hurt.value,
        "hurt_count": incident.hurt_count,
        "reporter": incident.reporter_name,
        "phone": incident.reporter_phone,
        "info": [
            {"kind": f.kind.value, "text": f.text, "at": _at(f.created_at)} for f in view.infos
        ],
        "timeline": [
            {"kind": e.kind, "at": _at(e.at), "agency": e.agency_code, "by": e.actor_name}
            for e in events
        ],
    }
