"""What the web board shows, read for one signed-in person: the open incidents with the steps
that are late, one incident in full, and the broadcasts in progress.

Who may see what is the access policy's (`bot.services.web.Viewer`); this reads, in one
snapshot each, what that person's scope allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.incidents import IncidentService
from bot.services.web import Viewer
from bot.settings import Settings
from bot.store import Store
from models.broadcast import Broadcast, Counts, TargetKind
from models.clock import Clock
from models.incidents import IncidentView, TimelineEvent
from models.reminders import Reminder, ReminderKind

BOARD_MAX = 200  # open incidents the board reads whole; the rest are counted
BROADCASTS_SHOWN = timedelta(hours=2)  # a sent broadcast stays on the board this long

# Reminders that chase one agency's next step (the others chase assignees or dispatchers).
AGENCY_STEPS = frozenset({ReminderKind.ACK, ReminderKind.UNMOVED})
INCIDENT_STEPS = frozenset({ReminderKind.UNOWNED})


@dataclass(frozen=True, slots=True)
class Lateness:
    """How late one step is: reminded `attempt` times already (in the agency's chat, then to
    the coordinators), the next time at `due_at`; `escalated` once coordinators were alerted."""

    attempt: int
    due_at: datetime
    escalated: bool


@dataclass(frozen=True, slots=True)
class BoardIncident:
    view: IncidentView
    agencies_late: dict[int, Lateness]  # agency id → its late step
    late: Lateness | None  # no agency owns the call yet (routed to none, not taken over)


@dataclass(frozen=True, slots=True)
class Board:
    incidents: list[BoardIncident]
    total: int  # open incidents in scope, also those past BOARD_MAX
    at: datetime


class BoardService:
    def __init__(
        self, store: Store, clock: Clock, settings: Settings, incidents: IncidentService
    ) -> None:
        self.store = store
        self.clock = clock
        self.incidents = incidents
        self.group_reminders = settings.reminder_policy().group_reminders

    async def open(self, scope: frozenset[int] | None, *, drills: bool) -> Board:
        """The open incidents in `scope` (None: all), drills' only or none of them. Read on the
        database thread: up to BOARD_MAX views, too long to hold the event loop for."""
        async with self.store.read(on_thread=True) as tx:
            ids = await tx.open_incident_ids(scope, drills=drills)
            shown = ids[:BOARD_MAX]
            views = [v for i in shown if (v := await tx.incident_view(i))]
            pending = await tx.pending_reminders_for(shown)
        return Board(
            [self._late(view, pending.get(view.incident.id, [])) for view in views],
            len(ids),
            self.clock.now(),
        )

    def _late(self, view: IncidentView, reminders: list[Reminder]) -> BoardIncident:
        agencies: dict[int, Lateness] = {}
        late: Lateness | None = None
        for reminder in reminders:
            lateness = Lateness(
                # Firings 0 .. group_reminders-1 go to the agency's chat, later ones escalate.
                reminder.attempt,
                reminder.due_at,
                reminder.attempt > self.group_reminders,
            )
            if reminder.kind in AGENCY_STEPS and reminder.agency_id is not None:
                agencies[reminder.agency_id] = lateness
            elif reminder.kind in INCIDENT_STEPS:
                late = lateness
        return BoardIncident(view, agencies, late)

    async def detail(
        self, viewer: Viewer, number: int
    ) -> tuple[IncidentView, list[TimelineEvent]] | None:
        """One incident in full; None when there is none or it is not the viewer's to see (the
        same answer, so nothing is given away)."""
        view = await self.incidents.view(number)
        if view is None or not await self._may_see(viewer, view):
            return None
        return view, await self.incidents.events(number)

    async def visible(self, viewer: Viewer, number: int) -> bool:
        """Whether a change to incident `number` is the viewer's to hear of."""
        if viewer.scope is None:
            return True
        view = await self.incidents.view(number)
        return view is not None and await self._may_see(viewer, view)

    async def _may_see(self, viewer: Viewer, view: IncidentView) -> bool:
        return viewer.may_view(await self.incidents.viewing_target(view))

    async def broadcasts(self, scope: frozenset[int] | None) -> list[tuple[Broadcast, Counts]]:
        """Broadcasts sending, or sent in the last two hours, that reached the person's
        agencies (all of them for dispatchers and coordinators), newest first."""
        async with self.store.read() as tx:
            found = await tx.broadcasts_in_progress(self.clock.now() - BROADCASTS_SHOWN)
        return [(b, counts) for b, counts in found if _reached(b, scope)]


def _reached(broadcast: Broadcast, scope: frozenset[int] | None) -> bool:
    if scope is None or broadcast.target_kind is not TargetKind.AGENCIES:
        return True
    return bool(scope & set(broadcast.agency_ids))
