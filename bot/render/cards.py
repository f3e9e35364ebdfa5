"""Texts and keyboards of the incident loop: the agency card, the assign picker, the task card,
the dispatcher's management card, the timeline, the open list, and what the reporter is told.

Every function is pure (same state and language, same output) so tests check cards without
Telegram. Texts are Telegram HTML: user text (descriptions, addresses, names, phones) only ever
enters escaped. Lengths are counted as Telegram does, in UTF-16 units of the text after entity
parsing, because that is what its 4096-character limit is measured in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    AskReporter,
    Button,
    ButtonAction,
    CancelIncident,
    CardButton,
    IncidentAgency,
    IncidentButton,
    PickerButton,
    PickMember,
    SetSeverity,
    SimilarChoice,
    TaskButton,
)
from bot.i18n import N_, Html, escape, format_clock, t
from bot.render.organisation import agency_label, type_label
from bot.settings import Language
from models.agencies import Agency, Member
from models.incidents import (
    CANCEL_REASONS,
    Assignment,
    AssignmentStatus,
    CancelReason,
    EventKind,
    Hurt,
    Incident,
    IncidentStatus,
    IncidentView,
    Lifecycle,
    PhoneSource,
    Response,
    ResponseStatus,
    Severity,
    TimelineEvent,
)
from models.info import ANSWERS, QUESTIONS, InfoKind, InfoState
from models.missing import gaps

MESSAGE_LIMIT = 4096  # Telegram's limit, after entity parsing
CARD_LIMIT = 3500  # agency cards leave headroom: they are re-rendered as the state grows
INCIDENT_CARD_LIMIT = 4000  # /kejadian: the card part, before the timeline
TASK_DESCRIPTION_LIMIT = 1000
CARD_DESCRIPTION_LIMIT = 1200
TOAST_LIMIT = 200
TIMELINE_MAX_LINES = 60
OPEN_LIST_MAX_LINES = 30
PICKER_MAX_MEMBERS = 20
MANAGE_MAX_AGENCIES = 8
NAME_MAX = 48  # names are people's own text; long ones must not crowd out the card
ADDRESS_MAX = 400
SHORT_ADDRESS_MAX = 40
ASSIGNEES_SHOWN = 4  # per agency line on the card
MIN_DESCRIPTION_ROOM = 200  # below this, agency lines give way to the description

RESPONSE_LABELS: dict[ResponseStatus, str] = {
    ResponseStatus.WAITING: N_("card.response.menunggu"),
    ResponseStatus.ACKNOWLEDGED: N_("card.response.diterima"),
    ResponseStatus.DISPATCHED: N_("card.response.berangkat"),
    ResponseStatus.ON_SCENE: N_("card.response.di_lokasi"),
    ResponseStatus.DONE: N_("card.response.selesai"),
}
RESPONSE_EMOJI: dict[ResponseStatus, str] = {
    ResponseStatus.WAITING: "⏳",
    ResponseStatus.ACKNOWLEDGED: "✅",
    ResponseStatus.DISPATCHED: "🚒",
    ResponseStatus.ON_SCENE: "📍",
    ResponseStatus.DONE: "🏁",
}
ASSIGNMENT_LABELS: dict[AssignmentStatus, str] = {
    AssignmentStatus.OFFERED: N_("card.assignment.ditawarkan"),
    AssignmentStatus.ACCEPTED: N_("card.assignment.diterima"),
    AssignmentStatus.DECLINED: N_("card.assignment.ditolak"),
    AssignmentStatus.EN_ROUTE: N_("card.assignment.berangkat"),
    AssignmentStatus.ON_SCENE: N_("card.assignment.di_lokasi"),
    AssignmentStatus.DONE: N_("card.assignment.selesai"),
    AssignmentStatus.WITHDRAWN: N_("card.assignment.ditarik"),
}
TASK_STATE_TEXTS: dict[AssignmentStatus, str] = {
    AssignmentStatus.OFFERED: N_("task.state.ditawarkan"),
    AssignmentStatus.ACCEPTED: N_("task.state.diterima"),
    AssignmentStatus.DECLINED: N_("task.state.ditolak"),
    AssignmentStatus.EN_ROUTE: N_("task.state.berangkat"),
    AssignmentStatus.ON_SCENE: N_("task.state.di_lokasi"),
    AssignmentStatus.DONE: N_("task.state.selesai"),
    AssignmentStatus.WITHDRAWN: N_("task.state.ditarik"),
}
REPORTER_UPDATES: dict[str, tuple[str, str]] = {
    # kind → (message with `by`/`reason`/`other`, message without it)
    "acknowledged": (N_("reporter.acknowledged_by"), N_("reporter.acknowledged")),
    "en_route": (N_("reporter.en_route_by"), N_("reporter.en_route")),
    "resolved": (N_("reporter.resolved"), N_("reporter.resolved")),
    "cancelled": (N_("reporter.cancelled_reason"), N_("reporter.cancelled")),
    "merged": (N_("reporter.merged_into"), N_("reporter.merged")),
}

_TAG = re.compile(r"<[^>]*>")


# --- measuring and cutting ---


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    # Encoding runs in C; counting character by character in Python costs a card ~0.1 ms.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def plain_length(text: str) -> int:
    """UTF-16 length of our HTML after Telegram parses it (user text inside is always escaped)."""
    return utf16_length(html.unescape(_TAG.sub("", text)))


def cut(text: str, budget: int) -> str:
    """The longest prefix of `text` of at most `budget` UTF-16 units (never half a character)."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            return text[:index]
    return text


def short(text: str, limit: int) -> str:
    """People's text shortened for a line or a button, marked with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain(message: str) -> str:
    """A catalog message as plain text, for toasts (answerCallbackQuery has no parse mode)."""
    return html.unescape(_TAG.sub("", message))


# --- labels ---


def severity_label(language: Language, severity: Severity) -> str:
    return t(language, severity.label_key)


def status_label(language: Language, status: IncidentStatus) -> str:
    return t(language, status.label_key)


def cancel_label(language: Language, reason: str | None) -> str:
    """The reason's label; an unknown stored value is shown as it is, escaped."""
    try:
        return t(language, CancelReason(reason or "").label_key)
    except ValueError:
        return escape(reason or "?")


def _is_closed(incident: Incident) -> bool:
    return incident.lifecycle.closed


def drill_lines(language: Language, incident: Incident) -> list[str]:
    """A drill incident's marker, as the first line of whatever shows it (the outbox marks
    what it sends, and leaves a message that starts with the marker as it is)."""
    return [t(language, "drill.marker")] if incident.drill_id is not None else []


def _header(language: Language, incident: Incident) -> str:
    severity = incident.severity
    return (
        f"{severity.emoji} <b>#{incident.id} · {type_label(language, incident.type)}</b>"
        f" · {severity_label(language, severity)}"
    )


def _location_lines(language: Language, incident: Incident) -> list[str]:
    location = incident.location
    lines: list[str] = []
    if location.address:
        lines.append(t(language, "card.location", address=short(location.address, ADDRESS_MAX)))
    if location.map_url is not None and location.has_point:
        url = html.escape(location.map_url, quote=True)
        point = f"{location.latitude:.5f}, {location.longitude:.5f}"
        lines.append(t(language, "card.map", point=Html(f'<a href="{url}">{escape(point)}</a>')))
    if not lines:
        lines.append(t(language, "card.no_location"))
    return lines


def hurt_text(language: Language, incident: Incident) -> str:
    if incident.hurt is Hurt.YES and incident.hurt_count is not None:
        return t(language, "card.hurt_count", count=incident.hurt_count)
    return t(language, incident.hurt.label_key)


def _reporter_line(language: Language, incident: Incident, *, show_phone: bool) -> str:
    name = short(incident.reporter_name, NAME_MAX) if incident.reporter_name else None
    line = t(language, "card.reporter", name=name or t(language, "card.unknown_reporter"))
    if show_phone and incident.reporter_phone:
        line += " · " + t(language, "card.phone", phone=short(incident.reporter_phone, NAME_MAX))
        if incident.reporter_phone_source is PhoneSource.TYPED:
            # Typed, not shared from Telegram: it may be anybody's number.
            line += " " + t(language, "card.phone_typed")
    return line


def _reported_line(language: Language, incident: Incident, zone: ZoneInfo) -> str:
    """When it came in, and how (a resident's report or a 112 call)."""
    return t(
        language,
        "card.reported",
        time=format_clock(incident.created_at, language, zone),
        source=Html(t(language, incident.source.label_key)),
    )


def _closed_line(language: Language, incident: Incident) -> str | None:
    match incident.lifecycle:
        case Lifecycle.RESOLVED:
            return t(language, "card.closed_resolved")
        case Lifecycle.CANCELLED:
            if incident.cancel_reason:
                reason = cancel_label(language, incident.cancel_reason)
                return t(language, "card.closed_cancelled", reason=Html(reason))
            return t(language, "card.closed_cancelled_plain")
        case Lifecycle.MERGED:
            if incident.merged_into is not None:
                return t(language, "card.closed_merged", other=incident.merged_into)
            return t(language, "card.closed_merged_plain")
        case _:
            return None


def _merged_from_line(language: Language, view: IncidentView) -> str | None:
    if not view.merged_from:
        return None
    ids = ", ".join(f"#{other}" for other in sorted(view.merged_from))
    return t(language, "card.merged_from", ids=ids)


def similar_lines(language: Language, view: IncidentView) -> list[str]:
    """Duplicate detection's hints while the incident is open: the incident it may repeat,
    and the later reports that may repeat it."""
    if view.incident.lifecycle.closed:
        return []
    lines = []
    hint = view.similar_to
    if hint is not None and hint.distance_m is not None:
        lines.append(
            t(
                language,
                "card.similar_to_pins",
                id=hint.of_id,
                meters=hint.distance_m,
                minutes=hint.minutes,
            )
        )
    elif hint is not None:
        lines.append(t(language, "card.similar_to_text", id=hint.of_id, minutes=hint.minutes))
    if view.similar:
        shown = view.similar[:SIMILAR_SHOWN]  # the first reports; a flood of them is counted
        ids = ", ".join(f"#{other}" for other in shown)
        more = len(view.similar) - len(shown)
        if more:
            lines.append(t(language, "card.similar_more", ids=ids, more=more))
        else:
            lines.append(t(language, "card.similar", ids=ids))
    return lines


# A button as a keyboard is planned: its label and what pressing it means.
ButtonSpec = tuple[str, Button]


def similar_buttons(language: Language, view: IncidentView) -> list[InlineKeyboardButton]:
    """🔗 Merge into #12 and ✖️ Not a duplicate, for dispatchers, while the hint is open."""
    return [_button(*spec) for spec in _similar_specs(language, view)]


def _similar_specs(language: Language, view: IncidentView) -> list[ButtonSpec]:
    hint = view.similar_to
    if hint is None or view.incident.lifecycle.closed:
        return []
    ids = (view.incident.id, hint.of_id)
    return [
        (
            t(language, "card.button.merge_similar", id=hint.of_id),
            SimilarChoice(ButtonAction.MERGE_SIMILAR, *ids),
        ),
        (t(language, "card.button.not_similar"), SimilarChoice(ButtonAction.NOT_SIMILAR, *ids)),
    ]


def _assignee(language: Language, assignment: Assignment) -> str:
    state = t(language, ASSIGNMENT_LABELS[assignment.status])
    return f"{escape(short(assignment.user_name, NAME_MAX))} ({state})"


def agency_status_line(
    language: Language, view: IncidentView, response: Response, zone: ZoneInfo
) -> str:
    """One agency's part of the response: its state, who acknowledged, whom it assigned."""
    acknowledged = ""
    if response.status is not ResponseStatus.WAITING and response.acknowledged_at is not None:
        key = (
            N_("card.acknowledged_on_behalf") if response.on_behalf else N_("card.acknowledged_by")
        )
        name = short(response.acknowledged_by_name or "?", NAME_MAX)
        clock = format_clock(response.acknowledged_at, language, zone)
        acknowledged = t(language, key, name=name, time=clock)
    parts = [
        f"{RESPONSE_EMOJI[response.status]} <b>{escape(short(response.agency_name, NAME_MAX))}</b>:"
    ]
    # "acknowledged by X" already says the state; later states say both.
    if response.status is not ResponseStatus.ACKNOWLEDGED or not acknowledged:
        parts[0] += " " + t(language, RESPONSE_LABELS[response.status])
    else:
        parts[0] += " " + acknowledged
        acknowledged = ""
    if acknowledged:
        parts.append(acknowledged)
    active = [a for a in view.assignments_of(response.agency_id) if a.status.active]
    if active:
        people = ", ".join(_assignee(language, a) for a in active[:ASSIGNEES_SHOWN])
        hidden = len(active) - ASSIGNEES_SHOWN
        if hidden > 0:
            people += " " + t(language, "card.assignees_more", count=hidden)
        parts.append(t(language, "card.assigned_to", people=Html(people)))
    return " · ".join(parts)


# --- the agency card ---


def _description_line(
    language: Language, incident: Incident, budget: int, notice: str
) -> str | None:
    """The description, cut with `notice` when it does not fit `budget` UTF-16 units."""
    description = incident.description.strip()
    if not description:
        return None
    prefix = "📝 "
    if utf16_length(prefix) + utf16_length(description) <= budget:
        return prefix + escape(description)
    room = budget - utf16_length(prefix) - plain_length(notice) - 1
    kept = cut(description, max(room, 0)).rstrip()
    return f"{prefix}{escape(kept)} {notice}"


def _card(
    language: Language,
    view: IncidentView,
    zone: ZoneInfo,
    *,
    show_phone: bool,
    limit: int,
    notice: str,
    description_max: int | None = None,
    show_reporter: bool = True,
) -> str:
    """The card with its description cut so the whole text stays within `limit` (and the
    description within `description_max`, when given). Without `show_reporter`, who reported
    it is left out altogether (for another resident following the incident)."""
    incident = view.incident
    before = [
        *drill_lines(language, incident),
        _header(language, incident),
        t(language, "card.status", status=Html(status_label(language, view.status))),
    ]
    closed = _closed_line(language, incident)
    if closed is not None:
        before.append(closed)
    before += _location_lines(language, incident)

    after: list[str] = []
    if incident.photos:
        after.append(t(language, "card.photos", count=len(incident.photos)))
    after.append(t(language, "card.hurt", hurt=Html(hurt_text(language, incident))))
    if show_reporter:
        after.append(_reporter_line(language, incident, show_phone=show_phone))
    after.append(_reported_line(language, incident, zone))
    merged_from = _merged_from_line(language, view)
    if merged_from is not None:
        after.append(merged_from)
    after += similar_lines(language, view)
    if incident.owner_name is not None and incident.owned_at is not None:
        after.append(
            t(
                language,
                "card.owner",
                name=short(incident.owner_name, NAME_MAX),
                time=format_clock(incident.owned_at, language, zone),
            )
        )
    after += info_lines(language, view)
    agency_lines = [agency_status_line(language, view, r, zone) for r in view.responses]

    def room_for_description(lines: list[str]) -> int:
        fixed = "\n".join([*before, "", *after, "", *lines])
        return limit - plain_length(fixed) - 1  # the description's own line break

    # Many agencies with many assignees must not squeeze the description out of the card.
    hidden = 0
    while agency_lines and room_for_description(agency_lines) < MIN_DESCRIPTION_ROOM:
        agency_lines.pop()
        hidden += 1
    if hidden:
        agency_lines.append(t(language, "card.agencies_more", count=hidden))
    room = room_for_description(agency_lines)
    if description_max is not None:
        room = min(room, description_max)
    description = _description_line(language, incident, room, notice)
    body = [*before, *([description] if description else []), *after]
    if agency_lines:
        body += ["", *agency_lines]
    return "\n".join(body)


def card_text(language: Language, view: IncidentView, zone: ZoneInfo, *, show_phone: bool) -> str:
    """The incident card posted in every routed agency's group (at most 3500 characters).

    The description is kept short enough to read on a phone in a busy group; the whole of it
    is in /kejadian."""
    notice = t(language, "card.description_cut", id=view.incident.id)
    return _card(
        language,
        view,
        zone,
        show_phone=show_phone,
        limit=CARD_LIMIT,
        notice=notice,
        description_max=CARD_DESCRIPTION_LIMIT,
    )


def _button(label: str, payload: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=payload.encode())


def card_markup(
    language: Language, view: IncidentView, agency_id: int | None
) -> dict[str, object] | None:
    """Buttons for one agency's copy of the card (`None` agency: the dispatchers' copy), as the
    Bot API's `reply_markup` the outbox sends: made directly, since a card is re-rendered on
    every press and python-telegram-bot's button objects cost more to build than the card's
    text (`tests/test_cards.py` checks PTB reads it back unchanged)."""
    rows = _card_specs(language, view, agency_id)
    if rows is None:
        return None
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": payload.encode()} for label, payload in row]
            for row in rows
        ]
    }


def _card_specs(
    language: Language, view: IncidentView, agency_id: int | None
) -> list[list[ButtonSpec]] | None:
    incident = view.incident
    if _is_closed(incident):
        return None
    rows: list[list[ButtonSpec]] = []
    response = view.response_of(agency_id) if agency_id is not None else None
    if response is not None and agency_id is not None:
        ids = (incident.id, agency_id)
        assign = (t(language, "card.button.assign"), CardButton(ButtonAction.ASSIGN, *ids))
        status = response.status
        if status is ResponseStatus.WAITING:
            acknowledge = t(language, "card.button.acknowledge")
            rows.append([(acknowledge, CardButton(ButtonAction.ACKNOWLEDGE, *ids)), assign])
        elif status is not ResponseStatus.DONE:
            rows.append([assign])
            progress: list[ButtonSpec] = []
            if status is ResponseStatus.ACKNOWLEDGED:
                en_route = t(language, "card.button.en_route")
                progress.append((en_route, CardButton(ButtonAction.EN_ROUTE, *ids)))
            if status in (ResponseStatus.ACKNOWLEDGED, ResponseStatus.DISPATCHED):
                on_scene = t(language, "card.button.on_scene")
                progress.append((on_scene, CardButton(ButtonAction.ON_SCENE, *ids)))
            done = t(language, "card.button.done")
            progress.append((done, CardButton(ButtonAction.AGENCY_DONE, *ids)))
            rows.append(progress)
    if agency_id is None and not view.responses and incident.owner_id is None:
        # Routed to no agency, and nobody owns it yet: a dispatcher takes it over.
        take = IncidentButton(ButtonAction.TAKE_OWNERSHIP, incident.id)
        rows.append([(t(language, "card.button.take_ownership"), take)])
    similar = _similar_specs(language, view) if agency_id is None else []
    if similar:
        rows.append(similar)  # the dispatchers' copies: merging is theirs
    manage = IncidentButton(ButtonAction.MANAGE, incident.id)
    rows.append(
        [
            _ask_spec(language, incident.id, agency_id or 0),
            (t(language, "card.button.manage"), manage),
        ]
    )
    return rows


def ask_button(language: Language, incident_id: int, agency_id: int) -> InlineKeyboardButton:
    """❓ Ask the reporter: on every copy of a card (0: the operators' copies) and task card."""
    return _button(*_ask_spec(language, incident_id, agency_id))


def _ask_spec(language: Language, incident_id: int, agency_id: int) -> ButtonSpec:
    ask = AskReporter(ButtonAction.ASK_REPORTER, incident_id, agency_id)
    return t(language, "card.button.ask"), ask


INFO_LINE_MAX = 160  # a note quoted on the card
SIMILAR_SHOWN = 5  # later reports that may repeat an incident, named on its card


def info_lines(language: Language, view: IncidentView) -> list[str]:
    """What came in after the report, questions still waiting, the latest note, and what the
    report still lacks."""
    lines: list[str] = []
    infos = view.infos
    came = sum(1 for i in infos if i.shown and i.kind in (InfoKind.ANSWER, InfoKind.ADDITION))
    if came:
        lines.append(t(language, "card.info_count", count=came, id=view.incident.id))
    questions = [i for i in infos if i.kind is InfoKind.QUESTION]
    waiting = sum(1 for i in questions if i.state is InfoState.OPEN)
    unanswered = sum(1 for i in questions if i.state is InfoState.UNANSWERED)
    if waiting:
        lines.append(t(language, "card.questions_waiting", count=waiting))
    if unanswered:
        lines.append(t(language, "card.questions_unanswered", count=unanswered))
    notes = [i for i in infos if i.kind is InfoKind.NOTE and i.shown]
    if notes:
        latest = notes[-1]
        who = short(latest.agency_name, NAME_MAX) if latest.agency_name else None
        lines.append(
            t(
                language,
                "card.latest_note",
                agency=who or t(language, "info.operators"),
                text=short(latest.text, INFO_LINE_MAX),
            )
        )
    if not _is_closed(view.incident):
        missing = gaps(view.incident, infos)
        if missing:
            labels = ", ".join(t(language, gap.label_key) for gap in missing)
            lines.append(t(language, "card.missing", what=labels))
    return lines


# --- assigning people ---


def assign_picker(
    language: Language, view: IncidentView, agency: Agency, members: list[Member], opener_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Whom to assign: on-duty members first, those already on the task marked ✔. The picker
    belongs to the person who opened it (`opener_id`): their id travels in its buttons."""
    incident = view.incident
    assigned = {a.user_id for a in view.assignments_of(agency.id) if a.status.active}
    ordered = sorted(members, key=lambda member: not member.on_duty)  # stable: caller's order
    shown = ordered[:PICKER_MAX_MEMBERS]
    lines = [
        *drill_lines(language, incident),
        t(
            language,
            "assign.title",
            id=incident.id,
            type=Html(type_label(language, incident.type)),
            agency=agency_label(agency),
        ),
        t(language, "assign.hint") if members else t(language, "assign.no_members"),
    ]
    if len(ordered) > len(shown):
        lines.append(t(language, "assign.more", count=len(ordered) - len(shown)))
    off_duty = _plain(t(language, "assign.off_duty"))
    rows: list[list[InlineKeyboardButton]] = []
    for member in shown:
        # Button labels are plain text: names go in unescaped.
        label = ("🟢 " if member.on_duty else "⚪ ") + short(member.display_name, NAME_MAX)
        if not member.on_duty:
            label += f" {off_duty}"
        if member.user_id in assigned:
            label = "✔ " + label
        rows.append(
            [
                _button(
                    label,
                    PickMember(
                        ButtonAction.ASSIGN_TO, incident.id, agency.id, member.user_id, opener_id
                    ),
                )
            ]
        )
    rows.append(
        [
            _button(
                _plain(t(language, "assign.myself")),
                PickerButton(ButtonAction.ASSIGN_SELF, incident.id, agency.id, opener_id),
            ),
            _button(
                _plain(t(language, "assign.close")),
                PickerButton(ButtonAction.ASSIGN_CLOSE, incident.id, agency.id, opener_id),
            ),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _task_buttons(language: Language, assignment: Assignment) -> InlineKeyboardMarkup | None:
    status = assignment.status
    task = assignment.id
    if status is AssignmentStatus.OFFERED:
        return InlineKeyboardMarkup(
            [
                [
                    _button(
                        t(language, "task.button.accept"),
                        TaskButton(ButtonAction.TASK_ACCEPT, task),
                    ),
                    _button(
                        t(language, "task.button.decline"),
                        TaskButton(ButtonAction.TASK_DECLINE, task),
                    ),
                ]
            ]
        )
    row: list[InlineKeyboardButton] = []
    if status is AssignmentStatus.ACCEPTED:
        row.append(
            _button(
                t(language, "card.button.en_route"), TaskButton(ButtonAction.TASK_EN_ROUTE, task)
            )
        )
    if status in (AssignmentStatus.ACCEPTED, AssignmentStatus.EN_ROUTE):
        row.append(
            _button(
                t(language, "card.button.on_scene"), TaskButton(ButtonAction.TASK_ON_SCENE, task)
            )
        )
    if status in (AssignmentStatus.ACCEPTED, AssignmentStatus.EN_ROUTE, AssignmentStatus.ON_SCENE):
        row.append(
            _button(t(language, "card.button.done"), TaskButton(ButtonAction.TASK_DONE, task))
        )
    return InlineKeyboardMarkup([row]) if row else None


def _assigner_line(
    language: Language, view: IncidentView, assignment: Assignment, name: str | None
) -> str:
    if assignment.assigned_by is not None and assignment.assigned_by == assignment.user_id:
        return t(language, "task.took_it_yourself")
    if name is None and assignment.assigned_by is not None:
        # The person who acknowledged is the usual assigner; their name is on the response.
        name = next(
            (
                r.acknowledged_by_name
                for r in view.responses
                if r.acknowledged_by == assignment.assigned_by and r.acknowledged_by_name
            ),
            None,
        )
    if name is None:
        return t(language, "task.assigned_by_unknown")
    return t(language, "task.assigned_by", name=short(name, NAME_MAX))


def task_card(
    language: Language,
    view: IncidentView,
    assignment: Assignment,
    zone: ZoneInfo,
    *,
    assigned_by_name: str | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The private task card of one assignee, with the buttons their task's state allows."""
    incident = view.incident
    response = view.response_of(assignment.agency_id)
    agency = short(response.agency_name, NAME_MAX) if response else "?"
    lines = [
        t(language, "task.title", agency=agency),
        _header(language, incident),
        *_location_lines(language, incident),
    ]
    notice = t(language, "card.description_cut", id=incident.id)
    description = _description_line(language, incident, TASK_DESCRIPTION_LIMIT, notice)
    if description is not None:
        lines.append(description)
    lines.append(t(language, "card.hurt", hurt=Html(hurt_text(language, incident))))
    lines.append(_reporter_line(language, incident, show_phone=True))
    lines.append(_reported_line(language, incident, zone))
    lines.append(_assigner_line(language, view, assignment, assigned_by_name))
    lines.append("")
    closed = _closed_line(language, incident)
    # Once the incident closes an active task is moot, even before its withdrawal is recorded.
    if closed is None or not assignment.status.active:
        lines.append(t(language, TASK_STATE_TEXTS[assignment.status]))
    if closed is not None:
        lines.append(closed)
        return "\n".join(lines), None
    buttons = _task_buttons(language, assignment)
    if not assignment.status.active:
        return "\n".join(lines), buttons
    rows = [list(row) for row in buttons.inline_keyboard] if buttons is not None else []
    rows.append([ask_button(language, incident.id, assignment.agency_id)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


# --- the dispatcher's management card ---


def manage_card(
    language: Language,
    view: IncidentView,
    addable: list[Agency],
    *,
    zone: ZoneInfo | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """Severity, more agencies, cancel — or, once closed, reopen. Merging is a command.

    With `zone`, the card also shows each agency's status line (their times need the zone).
    """
    incident = view.incident
    lines = [
        *drill_lines(language, incident),
        t(language, "manage.title"),
        _header(language, incident),
        t(language, "card.status", status=Html(status_label(language, view.status))),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    closed = _closed_line(language, incident)
    if closed is not None:
        lines.append(closed)
        if incident.lifecycle is Lifecycle.MERGED:
            lines.append(t(language, "manage.merged_hint"))
        else:
            lines.append(t(language, "manage.closed_hint"))
            rows.append(
                [
                    _button(
                        t(language, "manage.button.reopen"),
                        IncidentButton(ButtonAction.REOPEN, incident.id),
                    )
                ]
            )
        return "\n".join(lines), InlineKeyboardMarkup(rows)

    if zone is not None:
        lines += [agency_status_line(language, view, r, zone) for r in view.responses]
    lines.append("")
    lines.append(t(language, "manage.hint"))
    lines.append(t(language, "manage.merge_hint", id=incident.id))
    severity_row = []
    for severity in Severity:
        label = f"{severity.emoji} {severity_label(language, severity)}"
        if severity is incident.severity:
            label = "✔ " + label
        severity_row.append(
            _button(label, SetSeverity(ButtonAction.SET_SEVERITY, incident.id, severity.rank))
        )
    rows.append(severity_row)
    similar = similar_buttons(language, view)
    if similar:
        rows.append(similar)

    shown = addable[:MANAGE_MAX_AGENCIES]
    if len(addable) > len(shown):
        lines.append(t(language, "manage.more_agencies", count=len(addable) - len(shown)))
    add_buttons = [
        _button(
            _plain(t(language, "manage.button.add_agency", agency=short(agency.name, NAME_MAX))),
            IncidentAgency(ButtonAction.ADD_AGENCY, incident.id, agency.id),
        )
        for agency in shown
    ]
    rows += _pairs(add_buttons)
    cancel_buttons = [
        _button(
            _plain(
                t(language, "manage.button.cancel", reason=Html(cancel_label(language, reason)))
            ),
            CancelIncident(ButtonAction.CANCEL_INCIDENT, incident.id, index),
        )
        for index, reason in enumerate(CANCEL_REASONS)
    ]
    rows += _pairs(cancel_buttons)
    rows.append(
        [
            _button(
                t(language, "manage.button.resolve"),
                IncidentButton(ButtonAction.RESOLVE, incident.id),
            )
        ]
    )
    if incident.source.by_phone:
        rows.append(
            [
                _button(
                    t(language, "manage.button.caller_link"),
                    AskReporter(ButtonAction.CALLER_LINK, incident.id, 0),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def manage_confirmation(
    language: Language, view: IncidentView, reason: CancelReason | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """Resolve (`reason` None) or cancel the incident? Both tell the reporter at once."""
    incident = view.incident
    back = _button(
        t(language, "manage.button.back"), IncidentButton(ButtonAction.MANAGE_BACK, incident.id)
    )
    if reason is None:
        question = t(language, "manage.confirm_resolve", id=incident.id)
        yes = _button(
            t(language, "manage.button.resolve_confirmed"),
            IncidentButton(ButtonAction.RESOLVE_CONFIRMED, incident.id),
        )
    else:
        question = t(
            language,
            "manage.confirm_cancel",
            id=incident.id,
            reason=Html(cancel_label(language, reason)),
        )
        yes = _button(
            t(language, "manage.button.cancel_confirmed"),
            CancelIncident(
                ButtonAction.CANCEL_CONFIRMED, incident.id, CANCEL_REASONS.index(reason)
            ),
        )
    text = "\n".join([*drill_lines(language, incident), _header(language, incident), "", question])
    return text, InlineKeyboardMarkup([[yes], [back]])


def _pairs(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


# --- the timeline ---


def _detail(event: TimelineEvent, name: str) -> str | None:
    value = event.detail.get(name)
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def _event_params(language: Language, event: TimelineEvent) -> dict[str, object]:
    """Every parameter any event message may use; what the event lacks reads "?"."""
    severity = _detail(event, "severity")
    severity_text: str = escape(severity or "?")
    parsed = Severity.parse(severity) if severity else None
    if parsed is not None:
        severity_text = severity_label(language, parsed)
    reason = _detail(event, "reason")
    agency = _detail(event, "agency")
    if agency == "" and "agency" in event.detail:
        agency = t(language, "info.operators")  # asked or noted by the 112 operators
    return {
        "agency": short(agency or event.agency_code or "?", NAME_MAX),
        "said": Html(_said(language, event)),
        "to": short(_detail(event, "to") or "?", NAME_MAX),
        "severity": Html(severity_text),
        "reason": Html(cancel_label(language, reason) if reason else "?"),
        "other": _detail(event, "other") or "?",
        "what": short(_detail(event, "what") or "?", NAME_MAX),
    }


def _said(language: Language, event: TimelineEvent) -> str:
    """A question, an answer, an addition or a note on the timeline, escaped and short."""
    parts: list[str] = []
    key = _detail(event, "question")
    if key in QUESTIONS:
        parts.append(f"<i>{t(language, QUESTIONS[key].text_key)}</i>")
    answer = _detail(event, "answer")
    if answer in ANSWERS:
        parts.append(f"<b>{t(language, f'answer.{answer}')}</b>")
    for name in ("text", "said"):
        words = _detail(event, name)
        if words:
            parts.append(escape(short(words, INFO_LINE_MAX)))
    media = event.detail.get("media")
    for kind in media if isinstance(media, list) else []:
        if kind in MEDIA_KINDS:
            parts.append(t(language, f"info.has_{kind}"))
    return " · ".join(parts) if parts else escape("…")


MEDIA_KINDS = frozenset({"point", "photo", "voice", "video", "audio", "video_note", "document"})


def timeline_line(language: Language, event: TimelineEvent, zone: ZoneInfo) -> str:
    """ "10.02 WIB · actor · what happened"."""
    actor = (
        escape(short(event.actor_name, NAME_MAX))
        if event.actor_name
        else t(language, "timeline.system")
    )
    try:
        what = t(language, EventKind(event.kind).message_key, **_event_params(language, event))
    except ValueError:  # a kind this version does not know: show it rather than fail
        what = escape(event.kind)
    return f"{format_clock(event.at, language, zone)} · {actor} · {what}"


def _timeline_lines(
    language: Language, events: list[TimelineEvent], zone: ZoneInfo, budget: int
) -> list[str] | None:
    """The newest lines that fit `budget` (and the line cap), oldest first, with a note of how
    many earlier ones were left out; None when not even the note fits."""
    ordered = sorted(events, key=lambda event: (event.at, event.id))
    if not ordered:
        lines = [t(language, "timeline.empty")]
        return lines if plain_length(lines[0]) <= budget else None
    lines = [timeline_line(language, event, zone) for event in ordered[-TIMELINE_MAX_LINES:]]
    omitted = len(ordered) - len(lines)

    def with_note() -> list[str]:
        return ([t(language, "timeline.omitted", count=omitted)] if omitted else []) + lines

    while lines and plain_length("\n".join(with_note())) > budget:
        lines.pop(0)
        omitted += 1
    result = with_note()
    return result if plain_length("\n".join(result)) <= budget else None


def timeline_text(language: Language, events: list[TimelineEvent], zone: ZoneInfo) -> str:
    """One line per event, newest last; at most 60 lines and one message."""
    lines = _timeline_lines(language, events, zone, MESSAGE_LIMIT)
    return "\n".join(lines or [])


def incident_text(
    language: Language,
    view: IncidentView,
    events: list[TimelineEvent],
    zone: ZoneInfo,
    *,
    show_phone: bool,
    show_reporter: bool = True,
) -> str:
    """`/kejadian N`: the card with the full description, then the timeline, in one message."""
    notice = t(language, "card.description_cut_here")
    card = _card(
        language,
        view,
        zone,
        show_phone=show_phone,
        limit=INCIDENT_CARD_LIMIT,
        notice=notice,
        show_reporter=show_reporter,
    )
    title = t(language, "timeline.title")
    budget = MESSAGE_LIMIT - plain_length(card) - plain_length(title) - 3  # the line breaks
    lines = _timeline_lines(language, events, zone, budget)
    if lines is None:
        return card
    return "\n".join([card, "", title, *lines])


# --- the open list ---


def age_text(language: Language, created_at: datetime, now: datetime) -> str:
    minutes = max(0, int((now - created_at).total_seconds() // 60))
    if minutes < 60:
        return t(language, "open.age_minutes", minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return t(language, "open.age_hours", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return t(language, "open.age_days", days=days, hours=hours)


def _short_location(language: Language, incident: Incident) -> str:
    location = incident.location
    if location.address:
        return escape(short(location.address, SHORT_ADDRESS_MAX))
    if location.has_point:
        return escape(f"{location.latitude:.4f}, {location.longitude:.4f}")
    return t(language, "open.no_location")


def open_list_text(
    language: Language,
    views: list[IncidentView],
    zone: ZoneInfo,
    now: datetime,
    *,
    total: int | None = None,
) -> str:
    """`/terbuka`: one line per open incident, in the caller's order, at most 30.

    The caller may pass only the first 30 views and the `total` count of open incidents."""
    del zone  # ages need no zone; kept so every list renderer takes the same arguments
    count = len(views) if total is None else max(total, len(views))
    if not views:
        return t(language, "open.empty")
    lines = [t(language, "open.title", count=count)]
    for view in views[:OPEN_LIST_MAX_LINES]:
        incident = view.incident
        drill = "🧪 " if incident.drill_id is not None else ""  # a drill's, in the list
        lines.append(
            f"{drill}{incident.severity.emoji} <b>#{incident.id}</b> "
            f"{type_label(language, incident.type)}"
            f" · {age_text(language, incident.created_at, now)}"
            f" · {status_label(language, view.status)}"
            f" · {_short_location(language, incident)}"
        )
    if count > OPEN_LIST_MAX_LINES:
        lines.append(t(language, "open.more", count=count - OPEN_LIST_MAX_LINES))
    lines.append(t(language, "open.hint"))
    return "\n".join(lines)


# --- the reporter ---


def reporter_confirmation(
    language: Language,
    incident_id: int,
    agency_names: list[str],
    fallback: bool,
    similar_to: int | None = None,
) -> str:
    """What the reporter is told on submitting: the number and who was notified, and gently,
    when it may repeat an incident already being handled, that their details still help."""
    lines = [t(language, "reporter.received", id=incident_id)]
    if fallback or not agency_names:
        lines.append(t(language, "reporter.sent_to_dispatchers"))
    else:
        names = Html(", ".join(f"<b>{escape(name)}</b>" for name in agency_names))
        lines.append(t(language, "reporter.sent_to", agencies=names))
    if similar_to is not None:
        lines.append(t(language, "reporter.similar", id=similar_to))
    lines.append("")
    lines.append(t(language, "reporter.call_112"))
    return "\n".join(lines)


def reporter_update(
    language: Language,
    incident_id: int,
    kind: str,
    *,
    by: str | None = None,
    reason: CancelReason | None = None,
    other: int | None = None,
) -> str:
    """Progress the reporter hears about: acknowledged, en_route, resolved, cancelled, merged."""
    try:
        detailed, plain = REPORTER_UPDATES[kind]
    except KeyError:
        raise ValueError(f"no reporter update for {kind!r}") from None
    params: dict[str, object] = {"id": incident_id}
    if kind in ("acknowledged", "en_route") and by:
        params["by"] = short(by, NAME_MAX)
    elif kind == "cancelled" and reason is not None:
        params["reason"] = Html(cancel_label(language, reason))
    elif kind == "merged" and other is not None:
        params["other"] = other
    return t(language, detailed if len(params) > 1 else plain, **params)


# --- notes and toasts ---


def routed_to_nobody_text(language: Language, view: IncidentView) -> str:
    """Heading above the card sent to dispatchers and coordinators when no agency has the type."""
    return t(
        language,
        "card.routed_to_nobody",
        id=view.incident.id,
        type=Html(type_label(language, view.incident.type)),
    )


def assignee_unreachable_text(language: Language, name: str) -> str:
    return t(language, "assign.unreachable", name=short(name, NAME_MAX))


def already_acknowledged_text(language: Language, by: str, at: datetime, zone: ZoneInfo) -> str:
    """Toast (plain text, at most 200 characters)."""
    text = _plain(
        t(
            language,
            "card.already_acknowledged",
            name=short(by, NAME_MAX),
            time=format_clock(at, language, zone),
        )
    )
    return cut(text, TOAST_LIMIT)


def illegal_transition_text(language: Language) -> str:
    """Toast: the button is from an earlier state of the card."""
    return _plain(t(language, "card.illegal_transition"))


def incident_closed_text(language: Language) -> str:
    """Toast: the incident is already closed."""
    return _plain(t(language, "card.incident_closed"))


def not_found_text(language: Language, incident_id: int) -> str:
    """No markup, so it serves both as a message and as a toast."""
    return t(language, "card.not_found", id=incident_id)
