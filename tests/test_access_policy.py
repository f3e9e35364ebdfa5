"""The authorization policy as a table: every action × kind of person × kind of chat.

Each row names, per kind of person, the chats from which the action is allowed on an object of
agency 1 owned by the "owner". Anything not listed must be refused. Places:
  private   private chat with the bot
  own       the chat of agency 1 (the target's agency)
  other     the chat of agency 2
  coord     the coordinators' group
  feed      the 112 operators' feed
  unknown   a group nobody registered
"""

from __future__ import annotations

import pytest

from models.access import POLICY, Action, Actor, ChatKind, Denial, Place, Target, by_role, decide
from models.agencies import Role

PLACES = {
    "private": Place(ChatKind.PRIVATE),
    "own": Place(ChatKind.AGENCY_GROUP, 1),
    "other": Place(ChatKind.AGENCY_GROUP, 2),
    "coord": Place(ChatKind.COORDINATORS_GROUP, 9),
    "feed": Place(ChatKind.OPERATORS_GROUP, 10),
    "unknown": Place(ChatKind.UNKNOWN_GROUP),
}
OWNER_ID = 500
ACTORS = {
    "anyone": Actor(100),
    "owner": Actor(OWNER_ID),
    "member": Actor(101, agency_ids=frozenset({1})),
    "member+responder": Actor(102, frozenset({Role.RESPONDER}), frozenset({1})),
    "other-member": Actor(103, agency_ids=frozenset({2})),
    "responder": Actor(104, frozenset({Role.RESPONDER})),
    "dispatcher": Actor(105, frozenset({Role.DISPATCHER})),
    "coordinator": Actor(106, frozenset({Role.COORDINATOR})),
    "admin": Actor(107, frozenset({Role.ADMIN})),
}
TARGET = Target(agency_ids=frozenset({1}), owner_ids=frozenset({OWNER_ID}))

ALL = "private own other coord feed unknown"
KNOWN = "private own other coord feed"
GROUPS = "own other coord feed"
OPS = {"dispatcher": KNOWN, "coordinator": KNOWN}
MEMBERS = {"member": KNOWN, "member+responder": KNOWN}

EXPECTED: dict[Action, dict[str, str]] = {
    Action.REGISTER_AGENCY: {"admin": "own other coord feed unknown"},
    Action.UNREGISTER_AGENCY: {"admin": GROUPS},
    Action.VIEW_ROUTES: {
        "responder": KNOWN,
        "dispatcher": KNOWN,
        "coordinator": KNOWN,
        "admin": KNOWN,
        **MEMBERS,
    },
    Action.SET_ROUTE: {"admin": KNOWN},
    Action.VIEW_ROLES: {"coordinator": KNOWN, "admin": KNOWN},
    Action.MANAGE_ROLES: {"admin": KNOWN},
    Action.VIEW_SELF: {actor: ALL for actor in ACTORS},
    Action.FORGET_SELF: {actor: "private" for actor in ACTORS},
    Action.JOIN_AGENCY: {actor: GROUPS for actor in ACTORS},
    Action.LEAVE_AGENCY: {"member": "own", "member+responder": "own"},
    Action.REMOVE_MEMBER: {"admin": KNOWN},
    Action.SET_DUTY: MEMBERS,
    Action.VIEW_ROSTER: {**OPS, "admin": KNOWN, **MEMBERS},
    Action.REPORT_INCIDENT: {actor: "private" for actor in ACTORS},
    Action.ENTER_CALL: {"dispatcher": "private", "coordinator": "private"},
    Action.ACKNOWLEDGE: {"member": "own", "member+responder": "own"},
    Action.ACKNOWLEDGE_ON_BEHALF: {"coordinator": "private coord feed"},
    Action.ACKNOWLEDGE_FROM_ALERT: {"member": "private", "member+responder": "private"},
    Action.ASSIGN_OTHERS: {**OPS, "member+responder": KNOWN},
    Action.TAKE_TASK: MEMBERS,
    Action.UPDATE_PROGRESS: {**OPS, "owner": KNOWN},
    Action.RESOLVE: {**OPS, **MEMBERS},
    Action.CANCEL: OPS,
    Action.MERGE: OPS,
    Action.REOPEN: OPS,
    Action.ADD_AGENCY: OPS,
    Action.CHANGE_SEVERITY: OPS,
    Action.BROADCAST: {"dispatcher": "private", "coordinator": "private"},
    Action.CONFIRM_BROADCAST: {actor: KNOWN for actor in ACTORS},
    Action.VIEW_BROADCASTS: {
        "dispatcher": "private coord feed",
        "coordinator": "private coord feed",
    },
    Action.VIEW_INCIDENT: {**OPS, **MEMBERS, "owner": KNOWN},
    Action.VIEW_OPEN: {**OPS, **MEMBERS},
    Action.VIEW_STATS: {"coordinator": KNOWN, "admin": KNOWN},
    Action.ASK_REPORTER: {**OPS, **MEMBERS, "owner": KNOWN},
    Action.ANSWER_QUESTION: {"owner": "private"},
    Action.ADD_NOTE: {**OPS, **MEMBERS},
    Action.CALLER_LINK: {"dispatcher": "private coord feed", "coordinator": "private coord feed"},
    Action.TAKE_OWNERSHIP: {
        "dispatcher": "private coord feed",
        "coordinator": "private coord feed",
    },
    Action.SET_ESCALATION: {"coordinator": KNOWN},
    Action.USE_BOARD: {
        "dispatcher": "private",
        "coordinator": "private",
        "admin": "private",
        "member": "private",
        "member+responder": "private",
    },
    Action.RUN_DRILL: {"dispatcher": "private", "coordinator": "private", "admin": "private"},
    Action.EXPORT: {"coordinator": "private"},
    Action.VIEW_DRILLS: {
        "dispatcher": "private coord feed",
        "coordinator": "private coord feed",
        "admin": "private coord feed",
    },
}


def test_every_action_is_in_the_policy_and_in_this_table() -> None:
    assert set(POLICY) == set(Action)
    assert set(EXPECTED) == set(Action), set(Action) ^ set(EXPECTED)


CASES = [(action, actor, place) for action in Action for actor in ACTORS for place in PLACES]


@pytest.mark.parametrize(("action", "actor", "place"), CASES)
def test_policy_table(action: Action, actor: str, place: str) -> None:
    allowed_places = EXPECTED[action].get(actor, "").split()
    decision = decide(ACTORS[actor], action, PLACES[place], TARGET)
    assert decision.allowed == (place in allowed_places), (
        f"{actor} {'should' if place in allowed_places else 'should not'} be allowed to "
        f"{action.value} from {place} (denial: {decision.denial})"
    )
    if not decision.allowed:
        assert decision.denial is not None


def test_wrong_chat_is_named_before_permissions() -> None:
    decision = decide(ACTORS["anyone"], Action.REGISTER_AGENCY, PLACES["private"])
    assert decision.denial is Denial.WRONG_CHAT
    assert ChatKind.UNKNOWN_GROUP in decision.allowed_chats


def test_member_in_another_agencys_chat_is_told_so() -> None:
    both = Actor(1, agency_ids=frozenset({1, 2}))
    decision = decide(both, Action.ACKNOWLEDGE, PLACES["other"], TARGET)
    assert decision.denial is Denial.OTHER_AGENCY_CHAT


def test_non_member_pressing_in_the_agency_chat_is_not_a_member() -> None:
    decision = decide(ACTORS["other-member"], Action.ACKNOWLEDGE, PLACES["own"], TARGET)
    assert decision.denial is Denial.NOT_MEMBER


def test_member_without_a_target_counts_for_their_own_agencies() -> None:
    assert decide(ACTORS["member"], Action.SET_DUTY, PLACES["private"]).allowed
    assert not decide(ACTORS["anyone"], Action.SET_DUTY, PLACES["private"]).allowed


def test_by_role_ignores_membership() -> None:
    assert by_role(ACTORS["dispatcher"], Action.VIEW_ROSTER)
    assert not by_role(ACTORS["member"], Action.VIEW_ROSTER)
