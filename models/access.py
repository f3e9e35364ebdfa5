"""The one authorization policy: may this person do this action on this object from this chat?

The policy is a table: for every action, the kinds of chat it may come from and who may do it —
holders of certain roles, members of the agency the object belongs to, the object's owner (the
reporter of an incident, the assignee of a task), or everyone. `decide` is the only function
that answers; handlers ask it for every command and every button press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from models.agencies import Role


class ChatKind(StrEnum):
    PRIVATE = "private"
    AGENCY_GROUP = "agency_group"  # a registered agency's chat (or its forum topic)
    COORDINATORS_GROUP = "coordinators_group"
    OPERATORS_GROUP = "operators_group"  # the 112 room's feed (`/daftar operator`)
    UNKNOWN_GROUP = "unknown_group"  # a group the bot is in but nobody registered


class Action(StrEnum):
    REGISTER_AGENCY = "register_agency"
    UNREGISTER_AGENCY = "unregister_agency"
    VIEW_ROUTES = "view_routes"
    SET_ROUTE = "set_route"
    VIEW_ROLES = "view_roles"
    MANAGE_ROLES = "manage_roles"
    VIEW_SELF = "view_self"
    FORGET_SELF = "forget_self"
    JOIN_AGENCY = "join_agency"
    LEAVE_AGENCY = "leave_agency"
    REMOVE_MEMBER = "remove_member"
    SET_DUTY = "set_duty"
    VIEW_ROSTER = "view_roster"
    REPORT_INCIDENT = "report_incident"
    ENTER_CALL = "enter_call"  # a dispatcher logs a phone call
    ACKNOWLEDGE = "acknowledge"
    ACKNOWLEDGE_ON_BEHALF = "acknowledge_on_behalf"
    ACKNOWLEDGE_FROM_ALERT = "acknowledge_from_alert"  # a member, from their private alert
    ASSIGN_OTHERS = "assign_others"
    TAKE_TASK = "take_task"
    UPDATE_PROGRESS = "update_progress"
    RESOLVE = "resolve"
    CANCEL = "cancel"
    MERGE = "merge"
    REOPEN = "reopen"
    ADD_AGENCY = "add_agency"
    CHANGE_SEVERITY = "change_severity"
    BROADCAST = "broadcast"  # compose, send and stop a broadcast
    CONFIRM_BROADCAST = "confirm_broadcast"  # press Received under one
    VIEW_BROADCASTS = "view_broadcasts"  # who confirmed; CAP exports
    VIEW_INCIDENT = "view_incident"
    VIEW_OPEN = "view_open"
    VIEW_STATS = "view_stats"
    ASK_REPORTER = "ask_reporter"  # ask an incident's reporters a question
    ANSWER_QUESTION = "answer_question"  # a reporter answers, or adds to their report
    ADD_NOTE = "add_note"  # a note on an incident, for every agency on it
    CALLER_LINK = "caller_link"  # a one-time link for a 112 caller to join the incident
    TAKE_OWNERSHIP = "take_ownership"  # own a call no agency is routed to
    SET_ESCALATION = "set_escalation"  # where escalations reach me (coordinators)
    RUN_DRILL = "run_drill"  # start and stop a drill (`/latihan`)
    VIEW_DRILLS = "view_drills"  # a drill's after-action review, past drills
    USE_BOARD = "use_board"  # sign in to the web board (`/papan`) and read its data
    EXPORT = "export"  # the evaluation meeting's workbook (`/ekspor`), never personal data


class Denial(StrEnum):
    """Why an action was refused; each has a message in the catalogs (`deny.<value>`)."""

    WRONG_CHAT = "wrong_chat"
    NOT_PERMITTED = "not_permitted"
    NOT_MEMBER = "not_member"
    OTHER_AGENCY_CHAT = "other_agency_chat"

    @property
    def message_key(self) -> str:
        return f"deny.{self.value}"


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    roles: frozenset[Role] = frozenset()
    agency_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Place:
    """Where the command or press came from."""

    kind: ChatKind
    agency_id: int | None = None  # the agency whose chat this is, for agency groups


@dataclass(frozen=True, slots=True)
class Target:
    """The object acted on: the agencies it belongs to and the people who own it."""

    agency_ids: frozenset[int] = frozenset()
    owner_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Rule:
    chats: frozenset[ChatKind]
    roles: frozenset[Role] = frozenset()  # holders of these roles may, on any target
    members: bool = False  # members of one of the target's agencies may…
    member_roles: frozenset[Role] = frozenset()  # …if they also hold one of these (when given)
    owner: bool = False  # the target's owner may
    everyone: bool = False
    in_own_agency_chat: bool = False  # members act only from their agency's own chat


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    denial: Denial | None = None
    allowed_chats: frozenset[ChatKind] = field(default_factory=frozenset)

    def __bool__(self) -> bool:
        return self.allowed


A, C, D, R = Role.ADMIN, Role.COORDINATOR, Role.DISPATCHER, Role.RESPONDER
PRIVATE = frozenset({ChatKind.PRIVATE})
GROUPS = frozenset({ChatKind.AGENCY_GROUP, ChatKind.COORDINATORS_GROUP, ChatKind.OPERATORS_GROUP})
ANY_GROUP = GROUPS | {ChatKind.UNKNOWN_GROUP}
KNOWN = PRIVATE | GROUPS
ANYWHERE = KNOWN | {ChatKind.UNKNOWN_GROUP}
COMMAND_POSTS = PRIVATE | {ChatKind.COORDINATORS_GROUP, ChatKind.OPERATORS_GROUP}
SUPERVISORS = frozenset({A, C})
OPERATORS = frozenset({C, D})

POLICY: dict[Action, Rule] = {
    # organisation
    Action.REGISTER_AGENCY: Rule(ANY_GROUP, roles=frozenset({A})),
    Action.UNREGISTER_AGENCY: Rule(GROUPS, roles=frozenset({A})),
    Action.VIEW_ROUTES: Rule(KNOWN, roles=frozenset({A, C, D, R}), members=True),
    Action.SET_ROUTE: Rule(KNOWN, roles=frozenset({A})),
    Action.VIEW_ROLES: Rule(KNOWN, roles=SUPERVISORS),
    Action.MANAGE_ROLES: Rule(KNOWN, roles=frozenset({A})),
    Action.VIEW_SELF: Rule(ANYWHERE, everyone=True),
    Action.FORGET_SELF: Rule(PRIVATE, everyone=True),
    Action.JOIN_AGENCY: Rule(GROUPS, everyone=True),
    Action.LEAVE_AGENCY: Rule(GROUPS, members=True, in_own_agency_chat=True),
    Action.REMOVE_MEMBER: Rule(KNOWN, roles=frozenset({A})),
    Action.SET_DUTY: Rule(KNOWN, members=True),
    Action.VIEW_ROSTER: Rule(KNOWN, roles=frozenset({A, C, D}), members=True),
    # incidents
    Action.REPORT_INCIDENT: Rule(PRIVATE, everyone=True),
    Action.ENTER_CALL: Rule(PRIVATE, roles=OPERATORS),
    Action.ACKNOWLEDGE: Rule(GROUPS, members=True, in_own_agency_chat=True),
    Action.ACKNOWLEDGE_ON_BEHALF: Rule(COMMAND_POSTS, roles=frozenset({C})),
    Action.ACKNOWLEDGE_FROM_ALERT: Rule(PRIVATE, members=True),
    Action.ASSIGN_OTHERS: Rule(KNOWN, roles=OPERATORS, members=True, member_roles=frozenset({R})),
    Action.TAKE_TASK: Rule(KNOWN, members=True),
    Action.UPDATE_PROGRESS: Rule(KNOWN, roles=OPERATORS, owner=True),
    Action.RESOLVE: Rule(KNOWN, roles=OPERATORS, members=True),
    Action.CANCEL: Rule(KNOWN, roles=OPERATORS),
    Action.MERGE: Rule(KNOWN, roles=OPERATORS),
    Action.REOPEN: Rule(KNOWN, roles=OPERATORS),
    Action.ADD_AGENCY: Rule(KNOWN, roles=OPERATORS),
    Action.CHANGE_SEVERITY: Rule(KNOWN, roles=OPERATORS),
    Action.BROADCAST: Rule(PRIVATE, roles=OPERATORS),
    # anyone in a chat the broadcast went to (the service checks that it went there)
    Action.CONFIRM_BROADCAST: Rule(KNOWN, everyone=True),
    Action.VIEW_BROADCASTS: Rule(COMMAND_POSTS, roles=OPERATORS),
    Action.VIEW_INCIDENT: Rule(KNOWN, roles=OPERATORS, members=True, owner=True),
    Action.VIEW_OPEN: Rule(KNOWN, roles=OPERATORS, members=True),
    Action.VIEW_STATS: Rule(KNOWN, roles=SUPERVISORS),
    # information after the first report: owners of an incident are its assignees when asking
    # (from a task card) and its reporters when answering
    Action.ASK_REPORTER: Rule(KNOWN, roles=OPERATORS, members=True, owner=True),
    Action.ANSWER_QUESTION: Rule(PRIVATE, owner=True),
    Action.ADD_NOTE: Rule(KNOWN, roles=OPERATORS, members=True),
    Action.CALLER_LINK: Rule(COMMAND_POSTS, roles=OPERATORS),
    Action.TAKE_OWNERSHIP: Rule(COMMAND_POSTS, roles=OPERATORS),
    Action.SET_ESCALATION: Rule(KNOWN, roles=frozenset({C})),
    # drills: practice on the real groups
    Action.RUN_DRILL: Rule(PRIVATE, roles=frozenset({A, C, D})),
    Action.VIEW_DRILLS: Rule(COMMAND_POSTS, roles=frozenset({A, C, D})),
    # the web board: its sign-in link goes only to a private chat (a group's members could use it)
    Action.USE_BOARD: Rule(PRIVATE, roles=frozenset({A, C, D}), members=True),
    Action.EXPORT: Rule(PRIVATE, roles=frozenset({C})),
}


def decide(actor: Actor, action: Action, place: Place, target: Target | None = None) -> Decision:
    """Whether `actor` may do `action` from `place` on `target` (None: no particular object)."""
    rule = POLICY[action]
    if place.kind not in rule.chats:
        return Decision(False, Denial.WRONG_CHAT, rule.chats)
    if rule.everyone or actor.roles & rule.roles:
        return Decision(True, allowed_chats=rule.chats)
    if rule.owner and target is not None and actor.user_id in target.owner_ids:
        return Decision(True, allowed_chats=rule.chats)
    if rule.members and rule.member_roles and not actor.roles & rule.member_roles:
        return Decision(False, Denial.NOT_PERMITTED, rule.chats)
    if rule.members:
        # Without a particular target, membership of any agency (or of this chat's) counts.
        scope = target.agency_ids if target is not None else None
        mine = actor.agency_ids if scope is None else actor.agency_ids & scope
        if rule.in_own_agency_chat and place.agency_id is not None:
            if place.agency_id not in actor.agency_ids:
                return Decision(False, Denial.NOT_MEMBER, rule.chats)
            if scope is not None and place.agency_id not in scope:
                return Decision(False, Denial.OTHER_AGENCY_CHAT, rule.chats)
            return Decision(True, allowed_chats=rule.chats)
        if mine:
            return Decision(True, allowed_chats=rule.chats)
        if scope is None and not actor.agency_ids and rule.roles:
            # Nobody in particular asked about nothing in particular: a matter of permission.
            return Decision(False, Denial.NOT_PERMITTED, rule.chats)
        return Decision(False, Denial.NOT_MEMBER, rule.chats)
    return Decision(False, Denial.NOT_PERMITTED, rule.chats)


def by_role(actor: Actor, action: Action) -> bool:
    """Whether the actor may do `action` on any object by a role (not only as member or owner)."""
    return bool(actor.roles & POLICY[action].roles)
