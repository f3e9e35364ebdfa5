"""Texts about agencies, routing, roles, membership and duty."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AgencyMove, ButtonAction, ForgetChoice
from bot.i18n import N_, Html, escape, format_clock, t
from bot.settings import Language
from models.access import ChatKind, Decision, Denial
from models.agencies import Agency, Member, Role
from models.incident_types import IncidentType
from models.users import Person

ROSTER_MEMBERS_SHOWN = 25  # on duty first; the rest are counted
ROSTER_MAX_CHARS = 3800


def chat_kind_label(language: Language, kind: ChatKind) -> str:
    return t(language, f"chat.{kind.value}")


def denial_text(language: Language, decision: Decision) -> str:
    denial = decision.denial or Denial.NOT_PERMITTED
    if denial is Denial.WRONG_CHAT:
        places = ", ".join(
            chat_kind_label(language, kind) for kind in ChatKind if kind in decision.allowed_chats
        )
        return t(language, denial.message_key, places=places)
    return t(language, denial.message_key)


def role_label(language: Language, role: Role) -> str:
    return t(language, role.label_key)


def type_label(language: Language, kind: IncidentType) -> str:
    return f"{kind.emoji} {t(language, kind.label_key)}"


def agency_label(agency: Agency) -> Html:
    return Html(f"<b>{escape(agency.name)}</b> ({escape(agency.code)})")


def unknown_group_text(language: Language, admins: list[str]) -> str:
    names = ", ".join(admins) if admins else t(language, "agency.no_admins")
    return t(language, "agency.unknown_group", admins=names)


def registered_text(
    language: Language, agency: Agency, *, renamed: bool, topic: bool, bot_username: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What /daftar answers: the agency registered and, for an agency, what each member does
    (Start the bot once, /siaga when on duty), with a button that opens the bot's chat."""
    if agency.is_coordinators:
        key = N_("agency.coordinators_registered")
    elif agency.is_operators:
        key = N_("agency.operators_registered")
    else:
        key = N_("agency.renamed") if renamed else N_("agency.registered")
    text = t(language, key, agency=agency_label(agency))
    if topic:
        text += "\n" + t(language, "agency.topic_bound")
    if not agency.is_agency or not bot_username:
        return text, None
    text += "\n\n" + t(language, "agency.registered_steps")
    start = InlineKeyboardButton(
        t(language, "agency.button.start_bot"), url=f"https://t.me/{bot_username}?start=duty"
    )
    return text, InlineKeyboardMarkup([[start]])


def move_question(language: Language, agency: Agency) -> tuple[str, InlineKeyboardMarkup]:
    text = t(language, "agency.code_taken", agency=agency_label(agency))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "agency.move_here"),
                    callback_data=AgencyMove(ButtonAction.AGENCY_MOVE, agency.id).encode(),
                ),
                InlineKeyboardButton(
                    t(language, "agency.keep_there"),
                    callback_data=AgencyMove(ButtonAction.AGENCY_KEEP, agency.id).encode(),
                ),
            ]
        ]
    )
    return text, keyboard


def routes_text(
    language: Language, routes: dict[IncidentType, list[str]], registered: dict[str, Agency]
) -> str:
    lines = [t(language, "route.title")]
    for kind in IncidentType:
        codes = routes.get(kind, [])
        if not codes:
            target = t(language, "route.fallback")
        else:
            parts: list[str] = []
            for code in codes:
                if code in registered:
                    parts.append(escape(code))
                else:
                    parts.append(t(language, "route.not_registered", code=code))
            target = ", ".join(parts)
        lines.append(f"{type_label(language, kind)} (<code>{kind.value}</code>) → {target}")
    lines.append("")
    lines.append(t(language, "route.how_to"))
    return "\n".join(lines)


def duty_line(language: Language, member: Member, zone: ZoneInfo) -> str:
    name = escape(member.display_name)
    if not member.on_duty:
        return t(language, "duty.off_line", name=name)
    if member.duty_until is not None:
        until = format_clock(member.duty_until, language, zone)
        return t(language, "duty.on_until_line", name=name, until=until)
    return t(language, "duty.on_line", name=name)


def roster_text(
    language: Language, rosters: list[tuple[Agency, list[Member]]], zone: ZoneInfo
) -> str:
    if not rosters:
        return t(language, "roster.no_agencies")
    blocks = []
    for agency, members in rosters:
        on_duty = sum(1 for m in members if m.on_duty)
        head = t(
            language,
            "roster.agency",
            agency=agency_label(agency),
            on_duty=on_duty,
            total=len(members),
        )
        if not agency.reachable:
            head += " " + t(language, "agency.unreachable_mark")
        lines = [head]
        shown = members[:ROSTER_MEMBERS_SHOWN]
        lines += [duty_line(language, m, zone) for m in shown] or [t(language, "roster.empty")]
        if len(members) > len(shown):
            lines.append(f"… +{len(members) - len(shown)}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks)
    # Many agencies can still be too much for one message: keep whole blocks that fit.
    while len(text) > ROSTER_MAX_CHARS and len(blocks) > 1:
        blocks.pop()
        text = "\n\n".join([*blocks, "…"])
    return text


def roles_text(language: Language, holders: list[tuple[str, Role, bool]]) -> str:
    lines = [t(language, "role.title")]
    for role in Role:
        names = [
            escape(name) + (" " + t(language, "role.configured") if configured else "")
            for name, held, configured in holders
            if held is role
        ]
        shown = ", ".join(names) if names else t(language, "role.nobody")
        lines.append(f"• {role_label(language, role)}: {shown}")
    lines.append("")
    lines.append(t(language, "role.how_to"))
    return "\n".join(lines)


def self_text(
    language: Language,
    person: Person | None,
    roles: frozenset[Role],
    memberships: list[tuple[Agency, list[Member]]],
    zone: ZoneInfo,
    *,
    private: bool = True,
) -> str:
    name = person.display_name if person else "?"
    role_names = ", ".join(role_label(language, r) for r in Role if r in roles)
    lines = [
        t(language, "me.title", name=name),
        t(language, "me.roles", roles=role_names or t(language, "me.no_roles")),
    ]
    if memberships:
        lines.append(t(language, "me.agencies"))
        for agency, members in memberships:
            status = duty_line(language, members[0], zone) if members else ""
            lines.append(f"• {agency_label(agency)} — {status}")
    else:
        lines.append(t(language, "me.no_agencies"))
    phone = person.phone if person else None
    if private:  # a group sees the roles and agencies, never the phone number
        lines.append(t(language, "me.phone", phone=phone) if phone else t(language, "me.no_phone"))
    lines.append("")
    lines.append(t(language, "me.forget_hint"))
    return "\n".join(lines)


def duty_changed_text(
    language: Language,
    agencies: list[Agency],
    on_duty: bool,
    until: datetime | None,
    zone: ZoneInfo,
) -> str:
    if not agencies:
        return t(language, "duty.no_agencies")
    names = Html(", ".join(agency_label(a) for a in agencies))
    if not on_duty:
        return t(language, "duty.now_off", agencies=names)
    if until is not None:
        return t(
            language, "duty.now_on_until", agencies=names, until=format_clock(until, language, zone)
        )
    return t(language, "duty.now_on", agencies=names)


def forget_question(language: Language) -> tuple[str, InlineKeyboardMarkup]:
    """/lupakan's question: what is erased, what stays, and the two answers."""
    yes = ForgetChoice(ButtonAction.FORGET_CONFIRMED).encode()
    no = ForgetChoice(ButtonAction.FORGET_KEPT).encode()
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(t(language, "me.forget_yes"), callback_data=yes)],
            [InlineKeyboardButton(t(language, "me.forget_no"), callback_data=no)],
        ]
    )
    return t(language, "me.forget_question"), keyboard
