"""The bot's commands: Indonesian names, English aliases, and who sees them where.

One table feeds the handlers' command names, `/bantuan`, and the command lists Telegram shows
(`setMyCommands`), so the three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, t
from bot.settings import LANGUAGES, Language
from models.access import Action, Actor, ChatKind, Place, decide


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # Indonesian name, the default
    alias: str | None  # English alias; both work everywhere
    description_key: str
    in_private: bool = True
    in_groups: bool = False
    action: Action | None = None  # the policy decides who sees it in /bantuan; None: everyone

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) if self.alias is None else (self.name, self.alias)

    def name_in(self, language: Language) -> str:
        return self.alias if language == "en" and self.alias else self.name

    def other_name(self, language: Language) -> str | None:
        shown = self.name_in(language)
        others = [name for name in self.names if name != shown]
        return others[0] if others else None

    def description(self, language: Language) -> str:
        return t(language, self.description_key)


START = Command("start", None, N_("cmd.start"), in_groups=True)
HELP = Command("bantuan", "help", N_("cmd.help"), in_groups=True)
ME = Command("saya", "me", N_("cmd.me"), in_groups=True, action=Action.VIEW_SELF)
FORGET = Command("lupakan", "forget", N_("cmd.forget"), action=Action.FORGET_SELF)
REGISTER = Command(
    "daftar",
    "register",
    N_("cmd.register"),
    in_private=False,
    in_groups=True,
    action=Action.REGISTER_AGENCY,
)
UNREGISTER = Command(
    "nonaktifkan",
    "unregister",
    N_("cmd.unregister"),
    in_private=False,
    in_groups=True,
    action=Action.UNREGISTER_AGENCY,
)
ROUTE = Command("rute", "route", N_("cmd.route"), in_groups=True, action=Action.VIEW_ROUTES)
ROLE = Command("peran", "role", N_("cmd.role"), in_groups=True, action=Action.VIEW_ROLES)
JOIN = Command(
    "gabung", "join", N_("cmd.join"), in_private=False, in_groups=True, action=Action.JOIN_AGENCY
)
LEAVE = Command(
    "keluar", "leave", N_("cmd.leave"), in_private=False, in_groups=True, action=Action.LEAVE_AGENCY
)
REMOVE = Command(
    "keluarkan", "remove", N_("cmd.remove"), in_groups=True, action=Action.REMOVE_MEMBER
)
ON_DUTY = Command("siaga", "onduty", N_("cmd.onduty"), in_groups=True, action=Action.SET_DUTY)
OFF_DUTY = Command(
    "lepassiaga", "offduty", N_("cmd.offduty"), in_groups=True, action=Action.SET_DUTY
)
ROSTER = Command("piket", "roster", N_("cmd.roster"), in_groups=True, action=Action.VIEW_ROSTER)

REPORT = Command("lapor", "report", N_("cmd.report"), in_groups=True, action=Action.REPORT_INCIDENT)
CANCEL = Command("batal", "cancel", N_("cmd.cancel"), action=Action.REPORT_INCIDENT)
NEW_CALL = Command("baru", "new", N_("cmd.new"), action=Action.ENTER_CALL)
INCIDENT = Command(
    "kejadian", "incident", N_("cmd.incident"), in_groups=True, action=Action.VIEW_OPEN
)
OPEN = Command("terbuka", "open", N_("cmd.open"), in_groups=True, action=Action.VIEW_OPEN)
NOTE = Command("catatan", "note", N_("cmd.note"), in_groups=True, action=Action.ADD_NOTE)
ESCALATION = Command(
    "eskalasi", "escalation", N_("cmd.escalation"), in_groups=True, action=Action.SET_ESCALATION
)
MERGE = Command("gabungkan", "merge", N_("cmd.merge"), in_groups=True, action=Action.MERGE)
REOPEN = Command("bukalagi", "reopen", N_("cmd.reopen"), in_groups=True, action=Action.REOPEN)
STATS = Command("statistik", "stats", N_("cmd.stats"), in_groups=True, action=Action.VIEW_STATS)
BROADCAST = Command("siaran", "broadcast", N_("cmd.broadcast"), action=Action.BROADCAST)
BROADCASTS = Command(
    "riwayatsiaran",
    "broadcasts",
    N_("cmd.broadcasts"),
    in_groups=True,
    action=Action.VIEW_BROADCASTS,
)
CAP = Command("cap", None, N_("cmd.cap"), in_groups=True, action=Action.VIEW_BROADCASTS)
DRILL = Command("latihan", "drill", N_("cmd.drill"), action=Action.RUN_DRILL)
BOARD = Command("papan", "board", N_("cmd.board"), action=Action.USE_BOARD)
EXPORT = Command("ekspor", "export", N_("cmd.export"), action=Action.EXPORT)
SEVERITY = Command(
    "keparahan", "severity", N_("cmd.severity"), in_groups=True, action=Action.CHANGE_SEVERITY
)

ALL_COMMANDS: tuple[Command, ...] = (
    START,
    REPORT,
    CANCEL,
    HELP,
    NEW_CALL,
    INCIDENT,
    OPEN,
    NOTE,
    ESCALATION,
    MERGE,
    REOPEN,
    SEVERITY,
    BROADCAST,
    BROADCASTS,
    CAP,
    STATS,
    DRILL,
    BOARD,
    EXPORT,
    ME,
    FORGET,
    REGISTER,
    UNREGISTER,
    ROUTE,
    ROLE,
    JOIN,
    LEAVE,
    REMOVE,
    ON_DUTY,
    OFF_DUTY,
    ROSTER,
)


def visible_commands(
    *, private: bool, actor: Actor | None = None, place: Place | None = None
) -> list[Command]:
    """Commands usable in this kind of chat; with an actor, only those the policy allows them."""
    commands = [c for c in ALL_COMMANDS if (c.in_private if private else c.in_groups)]
    if actor is None:
        return commands
    where = place or Place(ChatKind.PRIVATE if private else ChatKind.AGENCY_GROUP)
    return [c for c in commands if c.action is None or decide(actor, c.action, where).allowed]


# Telegram's lists are per chat kind and language, not per person: they show what a person with
# no role may use in private, and what an agency member may use in the agency's group.
_ANYONE = Actor(0)
_MEMBER = Actor(0, agency_ids=frozenset({0}))


def telegram_command_list(language: Language, *, private: bool) -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands in one language."""
    if private:
        shown = visible_commands(private=True, actor=_ANYONE, place=Place(ChatKind.PRIVATE))
    else:
        place = Place(ChatKind.AGENCY_GROUP, agency_id=0)
        shown = visible_commands(private=False, actor=_MEMBER, place=place)
    return [(c.name_in(language), c.description(language)) for c in shown]


__all__ = ["ALL_COMMANDS", "LANGUAGES", "Command", "telegram_command_list", "visible_commands"]
