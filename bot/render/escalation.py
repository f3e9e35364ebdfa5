"""An escalation to coordinators as it is first sent, and as it is edited once the call is owned.

Escalation copies are posts of the incident (`models.refs.PostKind.ESCALATION`): when the
agency acknowledges (or a coordinator does on its behalf, or the incident closes), every copy is
edited to say so and loses its Acknowledge-for button, so nobody acts on a call already owned.
The settled text is short and stable: later changes to the incident do not edit it again.
"""

from __future__ import annotations

import html
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ButtonAction, IncidentAgency, IncidentButton
from bot.i18n import N_, Html, format_clock, t
from bot.render.cards import RESPONSE_LABELS, card_text, status_label
from bot.settings import Language
from models.incidents import AssignmentStatus, IncidentView, ResponseStatus
from models.reminders import ReminderKind

LABEL_MAX = 64  # Telegram's limit for a button's text


def _label(text: str) -> str:
    """A button label from a catalog text: plain text, at most 64 characters."""
    plain = html.unescape(text)
    return plain if len(plain) <= LABEL_MAX else plain[: LABEL_MAX - 1] + "…"


def escalation_keyboard(
    language: Language, incident_id: int, agency_id: int, agency_name: str, *, owned: bool
) -> InlineKeyboardMarkup:
    """Acknowledge for the agency (while nobody owns the call) and Open #N."""
    rows = []
    if not owned:
        ack = IncidentAgency(ButtonAction.ACK_ON_BEHALF, incident_id, agency_id)
        label = _label(t(language, "remind.ack_on_behalf", agency=agency_name))
        rows.append([InlineKeyboardButton(label, callback_data=ack.encode())])
    open_incident = IncidentButton(ButtonAction.OPEN_INCIDENT, incident_id)
    label = t(language, "remind.open_incident", number=incident_id)
    rows.append([InlineKeyboardButton(label, callback_data=open_incident.encode())])
    return InlineKeyboardMarkup(rows)


def escalation_now(
    language: Language, view: IncidentView, agency_id: int, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup] | None:
    """What an escalation copy about `agency_id` shows once the call is owned; None while the
    agency still has not acknowledged an open incident (the copy stays as it was sent)."""
    incident = view.incident
    response = view.response_of(agency_id)
    agency = response.agency_name if response is not None else "?"
    if incident.lifecycle.closed:
        how = t(language, "remind.owned_closed", status=Html(status_label(language, view.status)))
    elif response is None or response.status is ResponseStatus.WAITING:
        return None
    else:
        key = N_("remind.owned_on_behalf") if response.on_behalf else N_("remind.owned_by")
        at = response.acknowledged_at
        how = t(
            language,
            key,
            name=response.acknowledged_by_name or "?",
            time=format_clock(at, language, zone) if at is not None else "?",
        )
    text = t(language, "remind.escalation_owned", number=incident.id, agency=agency, how=Html(how))
    return text, escalation_keyboard(language, incident.id, agency_id, agency, owned=True)


def escalation_erased(
    language: Language, view: IncidentView, agency_id: int, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    """An escalation copy shown again after a person's data was erased: what it says now, the
    card without what was erased."""
    settled = escalation_now(language, view, agency_id, zone)
    if settled is not None:
        return settled
    incident = view.incident
    response = view.response_of(agency_id)
    agency = response.agency_name if response is not None else "?"
    text = t(language, "remind.escalation_waiting", number=incident.id, agency=agency)
    text += "\n\n" + card_text(language, view, zone, show_phone=False)
    return text, escalation_keyboard(language, incident.id, agency_id, agency, owned=False)


def reminder_resolved(
    language: Language, view: IncidentView, agency_id: int, kind: ReminderKind, zone: ZoneInfo
) -> str:
    """A reminder about an agency (`kind`: an ACK or UNMOVED reminder's), once moot: what
    happened instead, in words that do not change as the incident goes on ("✅ Damkar — diterima
    oleh Rudi pukul 10.02", "✅ Damkar — Rina ditugaskan pukul 10.14"), or that it closed."""
    incident = view.incident
    response = view.response_of(agency_id)
    agency = response.agency_name if response is not None else "?"
    taken = sorted(
        (a for a in view.assignments_of(agency_id) if a.status is not AssignmentStatus.DECLINED),
        key=lambda a: a.id,
    )
    if kind is ReminderKind.UNMOVED and taken:
        first = taken[0]
        how = t(
            language,
            "remind.assigned_at",
            name=first.user_name,
            time=format_clock(first.created_at, language, zone),
        )
    elif kind is ReminderKind.UNMOVED and response is not None and not incident.lifecycle.closed:
        how = t(language, RESPONSE_LABELS[response.status])
    elif incident.lifecycle.closed or response is None or response.acknowledged_at is None:
        how = t(language, "remind.owned_closed", status=Html(status_label(language, view.status)))
    else:
        key = N_("remind.owned_on_behalf") if response.on_behalf else N_("remind.owned_by")
        how = t(
            language,
            key,
            name=response.acknowledged_by_name or "?",
            time=format_clock(response.acknowledged_at, language, zone),
        )
    return t(language, "remind.resolved", number=incident.id, agency=agency, how=Html(how))


def unowned_resolved(language: Language, view: IncidentView, zone: ZoneInfo) -> str:
    """A reminder that a call had no owner, once it has one: who took it over (and when), the
    agencies it went to, or that it closed."""
    incident = view.incident
    if incident.owner_name is not None and incident.owned_at is not None:
        how = t(
            language,
            "remind.taken_over",
            name=incident.owner_name,
            time=format_clock(incident.owned_at, language, zone),
        )
    elif view.responses and not incident.lifecycle.closed:
        names = ", ".join(r.agency_name for r in view.responses)
        how = t(language, "remind.routed_to", agencies=names)
    else:
        how = t(language, "remind.owned_closed", status=Html(status_label(language, view.status)))
    return t(language, "remind.unowned_resolved", number=incident.id, how=Html(how))
