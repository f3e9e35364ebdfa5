"""What every state machine of the domain raises for a move its table does not allow."""

from __future__ import annotations


class IllegalTransition(Exception):
    """A move a state machine does not allow; carries the state and the event for the answer."""

    def __init__(self, machine: str, state: str, event: str) -> None:
        super().__init__(f"{machine}: {event} is not allowed when {state}")
        self.machine = machine
        self.state = state
        self.event = event
