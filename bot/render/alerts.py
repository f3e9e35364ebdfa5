"""The private alert an on-duty member gets when a call comes for their agency: the short card
(number, severity, type, where, what happened) and, while the agency has not taken it, ✅
*Terima untuk <agency>* and 🙋 *Saya ambil*. Edited as the call is taken, so every member's alert
says who took it. A button to the card in the group is added by the outbox when it is sent
(`models.outbox.LINK`), since the card's message id is known only then."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ButtonAction, DutyButton
from bot.i18n import Html, escape, t
from bot.render.cards import (
    _closed_line,
    _header,
    _location_lines,
    agency_status_line,
    short,
)
from bot.settings import Language
from models.agencies import Member
from models.incidents import IncidentView, ResponseStatus

ALERT_DESCRIPTION_MAX = 300


def duty_alert(
    language: Language, view: IncidentView, agency_id: int, agency_name: str, zone: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The alert's text and buttons for a member of the agency, as the incident stands."""
    incident = view.incident
    lines = [t(language, "duty.title", agency=short(agency_name, 60)), _header(language, incident)]
    closed = _closed_line(language, incident)
    if closed is not None:
        lines.append(closed)
    lines += _location_lines(language, incident)
    description = incident.description.strip()
    if description:
        lines.append("📝 " + escape(short(description, ALERT_DESCRIPTION_MAX)))
    response = view.response_of(agency_id)
    if response is not None:
        lines += ["", agency_status_line(language, view, response, zone)]
    keyboard = None
    if closed is None and response is not None and response.status is ResponseStatus.WAITING:
        ids = (incident.id, agency_id)
        take = t(language, "duty.button.acknowledge", agency=short(agency_name, 24))
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        take, callback_data=DutyButton(ButtonAction.DUTY_ACK, *ids).encode()
                    ),
                    InlineKeyboardButton(
                        t(language, "duty.button.take"),
                        callback_data=DutyButton(ButtonAction.DUTY_TAKE, *ids).encode(),
                    ),
                ]
            ]
        )
    return "\n".join(lines), keyboard


def card_link_label(language: Language) -> str:
    return t(language, "duty.button.card")


MENTIONS_MAX = 20  # on-duty members mentioned on a card, at most


def mention_line(language: Language, members: list[Member]) -> str | None:
    """The on-duty members of the agency mentioned by name (a mention notifies them even in a
    muted group); None when nobody is on duty."""
    on_duty = [m for m in members if m.on_duty][:MENTIONS_MAX]
    if not on_duty:
        return None
    names = ", ".join(
        f'<a href="tg://user?id={m.user_id}">{escape(short(m.display_name, 40))}</a>'
        for m in on_duty
    )
    return t(language, "duty.mentions", names=Html(names))
