"""The incident's state machines, checked exhaustively, and the severity of a new incident.

Every (state, event) pair of every machine either moves to the target written here (the spec,
kept apart from the module's table so a change to the table shows up) or is refused with an
`IllegalTransition` that carries the state and the event. The derived status and the initial
severity are checked against small independent oracles over all their inputs.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Mapping
from enum import Enum, StrEnum
from typing import TypeVar

import pytest

from models.incident_types import IncidentType
from models.incidents import (
    ASSIGNMENT_TRANSITIONS,
    BASE_SEVERITY,
    LIFECYCLE_TRANSITIONS,
    MASS_CASUALTY,
    RESPONSE_TRANSITIONS,
    AssignmentEvent,
    AssignmentStatus,
    Hurt,
    IllegalTransition,
    IncidentStatus,
    Lifecycle,
    LifecycleEvent,
    ResponseEvent,
    ResponseStatus,
    Severity,
    all_done,
    derive_status,
    initial_severity,
    next_assignment,
    next_lifecycle,
    next_response,
)

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)

_R, _RE = ResponseStatus, ResponseEvent
EXPECTED_RESPONSE: dict[tuple[ResponseStatus, ResponseEvent], ResponseStatus] = {
    (_R.WAITING, _RE.ACKNOWLEDGE): _R.ACKNOWLEDGED,
    (_R.WAITING, _RE.DISPATCH): _R.DISPATCHED,
    (_R.WAITING, _RE.ARRIVE): _R.ON_SCENE,
    (_R.ACKNOWLEDGED, _RE.DISPATCH): _R.DISPATCHED,
    (_R.ACKNOWLEDGED, _RE.ARRIVE): _R.ON_SCENE,
    (_R.ACKNOWLEDGED, _RE.FINISH): _R.DONE,
    (_R.DISPATCHED, _RE.ARRIVE): _R.ON_SCENE,
    (_R.DISPATCHED, _RE.FINISH): _R.DONE,
    (_R.ON_SCENE, _RE.FINISH): _R.DONE,
    (_R.DONE, _RE.REOPEN): _R.ACKNOWLEDGED,
}

_A, _AE = AssignmentStatus, AssignmentEvent
EXPECTED_ASSIGNMENT: dict[tuple[AssignmentStatus, AssignmentEvent], AssignmentStatus] = {
    (_A.OFFERED, _AE.ACCEPT): _A.ACCEPTED,
    (_A.OFFERED, _AE.DECLINE): _A.DECLINED,
    (_A.OFFERED, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.ACCEPTED, _AE.DEPART): _A.EN_ROUTE,
    (_A.ACCEPTED, _AE.ARRIVE): _A.ON_SCENE,
    (_A.ACCEPTED, _AE.FINISH): _A.DONE,
    (_A.ACCEPTED, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.EN_ROUTE, _AE.ARRIVE): _A.ON_SCENE,
    (_A.EN_ROUTE, _AE.FINISH): _A.DONE,
    (_A.EN_ROUTE, _AE.WITHDRAW): _A.WITHDRAWN,
    (_A.ON_SCENE, _AE.FINISH): _A.DONE,
    (_A.ON_SCENE, _AE.WITHDRAW): _A.WITHDRAWN,
}

_L, _LE = Lifecycle, LifecycleEvent
EXPECTED_LIFECYCLE: dict[tuple[Lifecycle, LifecycleEvent], Lifecycle] = {
    (_L.OPEN, _LE.RESOLVE): _L.RESOLVED,
    (_L.OPEN, _LE.CANCEL): _L.CANCELLED,
    (_L.OPEN, _LE.MERGE): _L.MERGED,
    (_L.RESOLVED, _LE.REOPEN): _L.OPEN,
    (_L.CANCELLED, _LE.REOPEN): _L.OPEN,
}


def by_name(value: object) -> str | None:
    """Test ids by member name ("WAITING-ACKNOWLEDGE"), clearer than the Indonesian values."""
    return value.name if isinstance(value, Enum) else None


def check_move(
    step: Callable[[S, E], S],
    machine: str,
    expected: Mapping[tuple[S, E], S],
    state: S,
    event: E,
) -> None:
    """The step moves to the expected target, or refuses naming the machine, state and event."""
    target = expected.get((state, event))
    if target is not None:
        assert step(state, event) is target
        return
    with pytest.raises(IllegalTransition) as refused:
        step(state, event)
    assert (refused.value.machine, refused.value.state, refused.value.event) == (
        machine,
        state.value,
        event.value,
    )
    assert state.value in str(refused.value)
    assert event.value in str(refused.value)


def reachable(step: Callable[[S, E], S], initial: S, events: type[E]) -> set[S]:
    """Every state the step function reaches from `initial` (breadth first)."""
    seen = {initial}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for event in events:
            try:
                target = step(state, event)
            except IllegalTransition:
                continue
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


# --- the tables as written ---


def test_the_tables_are_the_spec() -> None:
    assert RESPONSE_TRANSITIONS == EXPECTED_RESPONSE
    assert ASSIGNMENT_TRANSITIONS == EXPECTED_ASSIGNMENT
    assert LIFECYCLE_TRANSITIONS == EXPECTED_LIFECYCLE


# --- every (state, event) pair ---


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(ResponseStatus, ResponseEvent)), ids=by_name
)
def test_response_moves(state: ResponseStatus, event: ResponseEvent) -> None:
    check_move(next_response, "response", EXPECTED_RESPONSE, state, event)


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(AssignmentStatus, AssignmentEvent)), ids=by_name
)
def test_assignment_moves(state: AssignmentStatus, event: AssignmentEvent) -> None:
    check_move(next_assignment, "assignment", EXPECTED_ASSIGNMENT, state, event)


@pytest.mark.parametrize(
    ("state", "event"), list(itertools.product(Lifecycle, LifecycleEvent)), ids=by_name
)
def test_lifecycle_moves(state: Lifecycle, event: LifecycleEvent) -> None:
    check_move(next_lifecycle, "incident", EXPECTED_LIFECYCLE, state, event)


# --- terminal states ---


@pytest.mark.parametrize("event", [e for e in ResponseEvent if e is not ResponseEvent.REOPEN])
def test_a_done_response_only_reopens(event: ResponseEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_response(ResponseStatus.DONE, event)


def test_a_reopened_response_is_acknowledged_again() -> None:
    assert next_response(ResponseStatus.DONE, ResponseEvent.REOPEN) is ResponseStatus.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("state", "event"),
    list(
        itertools.product(
            [AssignmentStatus.DECLINED, AssignmentStatus.DONE, AssignmentStatus.WITHDRAWN],
            AssignmentEvent,
        )
    ),
    ids=by_name,
)
def test_a_finished_assignment_accepts_nothing(
    state: AssignmentStatus, event: AssignmentEvent
) -> None:
    assert not state.active
    with pytest.raises(IllegalTransition):
        next_assignment(state, event)


@pytest.mark.parametrize("event", list(LifecycleEvent))
def test_a_merged_incident_accepts_nothing(event: LifecycleEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_lifecycle(Lifecycle.MERGED, event)


@pytest.mark.parametrize("state", [Lifecycle.RESOLVED, Lifecycle.CANCELLED])
def test_a_closed_incident_can_only_be_reopened(state: Lifecycle) -> None:
    allowed = [e for e in LifecycleEvent if (state, e) in LIFECYCLE_TRANSITIONS]
    assert allowed == [LifecycleEvent.REOPEN]
    assert next_lifecycle(state, LifecycleEvent.REOPEN) is Lifecycle.OPEN


def test_only_the_active_assignments_are_active() -> None:
    active = {s for s in AssignmentStatus if s.active}
    assert active == {_A.OFFERED, _A.ACCEPTED, _A.EN_ROUTE, _A.ON_SCENE}


def test_only_an_open_incident_is_not_closed() -> None:
    assert [lc for lc in Lifecycle if not lc.closed] == [Lifecycle.OPEN]


# --- reachability ---


def test_every_response_state_is_reachable_from_waiting() -> None:
    assert reachable(next_response, ResponseStatus.WAITING, ResponseEvent) == set(ResponseStatus)


def test_every_assignment_state_is_reachable_from_offered() -> None:
    assert reachable(next_assignment, AssignmentStatus.OFFERED, AssignmentEvent) == set(
        AssignmentStatus
    )


def test_every_lifecycle_state_is_reachable_from_open() -> None:
    assert reachable(next_lifecycle, Lifecycle.OPEN, LifecycleEvent) == set(Lifecycle)


def test_a_response_never_goes_back_except_by_reopening() -> None:
    for (state, event), target in RESPONSE_TRANSITIONS.items():
        if event is not ResponseEvent.REOPEN:
            assert target.progress > state.progress, (state, event)


# --- the status people see ---

# The oracle: progress order of a response and what it shows while the incident is open.
RESPONSE_ORDER = [_R.WAITING, _R.ACKNOWLEDGED, _R.DISPATCHED, _R.ON_SCENE, _R.DONE]
SHOWN_WHILE_OPEN = {
    _R.WAITING: IncidentStatus.REPORTED,
    _R.ACKNOWLEDGED: IncidentStatus.ACKNOWLEDGED,
    _R.DISPATCHED: IncidentStatus.DISPATCHED,
    _R.ON_SCENE: IncidentStatus.ON_SCENE,
    _R.DONE: IncidentStatus.ON_SCENE,  # one agency done, the incident still open
}
SHOWN_WHEN_CLOSED = {
    Lifecycle.RESOLVED: IncidentStatus.RESOLVED,
    Lifecycle.CANCELLED: IncidentStatus.CANCELLED,
    Lifecycle.MERGED: IncidentStatus.MERGED,
}
UP_TO_THREE_RESPONSES = [
    combination
    for count in range(4)
    for combination in itertools.product(ResponseStatus, repeat=count)
]


def expected_status(lifecycle: Lifecycle, responses: tuple[ResponseStatus, ...]) -> IncidentStatus:
    if lifecycle in SHOWN_WHEN_CLOSED:
        return SHOWN_WHEN_CLOSED[lifecycle]
    furthest = max(responses, key=RESPONSE_ORDER.index, default=_R.WAITING)
    return SHOWN_WHILE_OPEN[furthest]


@pytest.mark.parametrize("lifecycle", list(Lifecycle))
def test_derive_status_for_every_combination_of_up_to_three_responses(
    lifecycle: Lifecycle,
) -> None:
    for responses in UP_TO_THREE_RESPONSES:
        expected = expected_status(lifecycle, responses)
        assert derive_status(lifecycle, responses) is expected, responses
        # Any iterable will do, a one-shot generator included.
        assert derive_status(lifecycle, iter(responses)) is expected, responses


def test_progress_follows_the_declared_order() -> None:
    assert [s.progress for s in RESPONSE_ORDER] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("lifecycle", "responses", "status"),
    [
        (Lifecycle.OPEN, [], IncidentStatus.REPORTED),
        (Lifecycle.OPEN, [_R.WAITING, _R.WAITING], IncidentStatus.REPORTED),
        (Lifecycle.OPEN, [_R.WAITING, _R.ACKNOWLEDGED], IncidentStatus.ACKNOWLEDGED),
        (Lifecycle.OPEN, [_R.ON_SCENE, _R.DISPATCHED, _R.WAITING], IncidentStatus.ON_SCENE),
        (Lifecycle.OPEN, [_R.DONE, _R.WAITING], IncidentStatus.ON_SCENE),
        (Lifecycle.OPEN, [_R.DONE, _R.DONE], IncidentStatus.ON_SCENE),
        (Lifecycle.RESOLVED, [_R.WAITING], IncidentStatus.RESOLVED),
        (Lifecycle.CANCELLED, [_R.ON_SCENE], IncidentStatus.CANCELLED),
        (Lifecycle.MERGED, [], IncidentStatus.MERGED),
    ],
)
def test_derive_status_scenarios(
    lifecycle: Lifecycle, responses: list[ResponseStatus], status: IncidentStatus
) -> None:
    assert derive_status(lifecycle, responses) is status


def test_all_done_over_every_combination() -> None:
    for responses in UP_TO_THREE_RESPONSES:
        expected = len(responses) > 0 and set(responses) == {_R.DONE}
        assert all_done(responses) is expected, responses
        assert all_done(iter(responses)) is expected, responses


def test_nobody_responding_is_not_all_done() -> None:
    assert all_done([]) is False


# --- severity ---

SEVERITY_ORDER = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def expected_severity(kind: IncidentType, hurt: Hurt, count: int | None) -> Severity:
    base = BASE_SEVERITY[kind]
    if hurt is not Hurt.YES:
        return base
    if count is not None and count >= 3:
        return Severity.CRITICAL
    return SEVERITY_ORDER[max(0, SEVERITY_ORDER.index(base) - 1)]


def test_every_type_has_a_base_severity() -> None:
    assert set(BASE_SEVERITY) == set(IncidentType)
    assert MASS_CASUALTY == 3


@pytest.mark.parametrize("kind", list(IncidentType))
@pytest.mark.parametrize("hurt", list(Hurt))
@pytest.mark.parametrize("count", [None, 0, 1, 2, 3, 4, 50])
def test_initial_severity(kind: IncidentType, hurt: Hurt, count: int | None) -> None:
    assert initial_severity(kind, hurt, count) is expected_severity(kind, hurt, count)


@pytest.mark.parametrize(
    ("kind", "hurt", "count", "severity"),
    [
        (IncidentType.FLOOD, Hurt.NONE, None, Severity.MEDIUM),
        (IncidentType.FLOOD, Hurt.UNKNOWN, None, Severity.MEDIUM),
        (IncidentType.FLOOD, Hurt.YES, None, Severity.HIGH),
        (IncidentType.FLOOD, Hurt.YES, 2, Severity.HIGH),
        (IncidentType.FLOOD, Hurt.YES, 3, Severity.CRITICAL),
        (IncidentType.FLOOD, Hurt.NONE, 5, Severity.MEDIUM),  # a count without "yes" is ignored
        (IncidentType.FIRE, Hurt.YES, 1, Severity.CRITICAL),
        (IncidentType.COLLAPSE, Hurt.NONE, None, Severity.CRITICAL),
        (IncidentType.COLLAPSE, Hurt.YES, 1, Severity.CRITICAL),
        (IncidentType.ANIMAL, Hurt.UNKNOWN, 10, Severity.MEDIUM),
    ],
)
def test_initial_severity_scenarios(
    kind: IncidentType, hurt: Hurt, count: int | None, severity: Severity
) -> None:
    assert initial_severity(kind, hurt, count) is severity


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("kritis", Severity.CRITICAL),
        ("tinggi", Severity.HIGH),
        ("sedang", Severity.MEDIUM),
        ("rendah", Severity.LOW),
        ("critical", Severity.CRITICAL),
        ("high", Severity.HIGH),
        ("medium", Severity.MEDIUM),
        ("low", Severity.LOW),
        ("  KRITIS ", Severity.CRITICAL),
        ("High", Severity.HIGH),
        ("", None),
        ("urgent", None),
        ("sangat tinggi", None),
    ],
)
def test_severity_parse(text: str, severity: Severity | None) -> None:
    assert Severity.parse(text) is severity


@pytest.mark.parametrize("severity", list(Severity))
@pytest.mark.parametrize("steps", range(6))
def test_raising_severity_never_goes_past_critical(severity: Severity, steps: int) -> None:
    raised = severity.raised(steps)
    assert raised.rank == max(0, severity.rank - steps)
    assert raised.rank <= severity.rank


def test_severity_ranks_and_labels() -> None:
    assert [s.rank for s in SEVERITY_ORDER] == [0, 1, 2, 3]
    assert Severity.LOW.raised() is Severity.MEDIUM
    assert Severity.CRITICAL.raised() is Severity.CRITICAL
    assert Severity.HIGH.label_key == "severity.tinggi"
    assert {s.emoji for s in Severity} == {"🔴", "🟠", "🟡", "🟢"}
