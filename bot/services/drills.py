"""Drills (`/latihan`): a scenario's reports filed at their offsets as incidents of the drill,
on the real groups, marked everywhere (the store marks every message a transaction about a
drill incident writes); the simulated reporter answering from the scenario; and, when the drill
ends, the after-action review for its starter and the coordinators.

One drill runs at a time. Its scripted reports wait in `drill_reports`, so a restart files each
exactly once; `inject_due` runs them (the scheduler's sweep, or at once for offset 0). A drill
ends when someone stops it (its open incidents are resolved, their reminders stop) or by itself
when every report was filed and every incident closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from bot.i18n import t
from bot.render.digest import drill_chart_request
from bot.render.drills import drill_started_text, review_text
from bot.services.digest import ChartError, chart_message, run_chart_worker
from bot.services.incidents import IncidentService, NewIncident
from bot.services.messages import text_message
from bot.settings import Language, Settings
from bot.store import Store, Tx
from models.agencies import Agency
from models.clock import Clock
from models.drills import Drill, Review, Scenario, load_scenarios, review
from models.incidents import Location, Source
from models.outbox import Priority

log = logging.getLogger(__name__)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
HISTORY = 10  # past drills `/latihan riwayat` lists


class DrillOutcome(StrEnum):
    DONE = "done"
    UNKNOWN_SCENARIO = "unknown_scenario"
    RUNNING = "running"  # another drill runs (one at a time)
    NO_AGENCIES = "no_agencies"  # none of the scenario's agencies is registered
    NOT_RUNNING = "not_running"


@dataclass(frozen=True, slots=True)
class Started:
    outcome: DrillOutcome
    drill: Drill | None = None
    agencies: tuple[Agency, ...] = ()


class DrillService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: Settings,
        incidents: IncidentService,
        scenarios: dict[str, Scenario] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.incidents = incidents
        self.scenarios = scenarios if scenarios is not None else load_scenarios(SCENARIOS)

    # --- starting and running ---

    async def participants(self, scenario: Scenario) -> list[Agency]:
        """The registered agencies its reports are routed to: who takes part by default."""
        async with self.store.read() as tx:
            found: dict[int, Agency] = {}
            for kind in scenario.types:
                for agency in await tx.routed_agencies(kind):
                    found.setdefault(agency.id, agency)
        return list(found.values())

    async def start(
        self, code: str, by_user: int, agency_codes: list[str] | None = None
    ) -> Started:
        """Start the scenario `code` now, with these agencies (default: its routed ones)."""
        scenario = self.scenarios.get(code)
        if scenario is None:
            return Started(DrillOutcome.UNKNOWN_SCENARIO)
        agencies = await self.participants(scenario)
        if agency_codes is not None:
            agencies = [a for a in agencies if a.code in agency_codes]
        if not agencies:
            return Started(DrillOutcome.NO_AGENCIES)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            running = await tx.running_drills()
            if running:
                return Started(DrillOutcome.RUNNING, running[0])
            drill_id = await tx.create_drill(code, [a.code for a in agencies], by_user, now)
            for position, report in enumerate(scenario.reports):
                due = now + timedelta(minutes=report.after_minutes)
                await tx.add_drill_report(drill_id, position, due)
            drill = await tx.drill(drill_id)
            assert drill is not None
            await self._announce(tx, drill, scenario, agencies, by_user, now)
        log.info("drill %s (%s) started by %s", drill_id, code, by_user)
        await self.inject_due()
        return Started(DrillOutcome.DONE, drill, tuple(agencies))

    async def _announce(
        self,
        tx: Tx,
        drill: Drill,
        scenario: Scenario,
        agencies: list[Agency],
        by_user: int,
        now: datetime,
    ) -> None:
        """The coordinators' group, the operators' feed and every agency taking part hear that
        a drill starts (the starter gets its status with the stop button from the handler)."""
        language = self.settings.default_language
        names = [a.name for a in agencies]
        text = drill_started_text(language, drill, scenario, names)
        chats: list[tuple[int, int | None]] = [(a.chat_id, a.thread_id) for a in agencies]
        for group in (await tx.coordinators_agency(), await tx.operators_agency()):
            if group is not None:
                chats.append((group.chat_id, group.thread_id))
        for chat_id, thread_id in dict.fromkeys(chats):
            await tx.enqueue(
                text_message(chat_id, text, priority=Priority.URGENT, thread_id=thread_id), now
            )

    async def inject_due(self) -> int:
        """File every scripted report whose time has come, each once; end drills that are
        over. How many were filed."""
        now = self.clock.now()
        async with self.store.read() as tx:
            due = await tx.due_drill_reports(now)
        filed = 0
        for drill_id, position in due:
            filed += await self._file(drill_id, position)
        await self.finish_done()
        return filed

    async def _file(self, drill_id: int, position: int) -> int:
        try:
            return await self._file_once(drill_id, position)
        except _AlreadyFiled:
            return 0

    async def _file_once(self, drill_id: int, position: int) -> int:
        async with self.store.transaction() as tx:
            drill = await tx.drill(drill_id)
            scenario = self.scenarios.get(drill.scenario) if drill is not None else None
            if drill is None or scenario is None or not drill.running:
                return 0
            scripted = scenario.reports[position]
            place = scripted.location
            submitted = await self.incidents.submit_in(
                tx,
                NewIncident(
                    kind=scripted.type,
                    location=Location(place.lat, place.lon, place.address),
                    description=scripted.description,
                    hurt=scripted.hurt,
                    hurt_count=scripted.hurt_count,
                    source=Source.DRILL,
                    caller_name=scripted.reporter,
                    drill_id=drill_id,
                    drill_agencies=frozenset(drill.agencies),
                ),
            )
            if not await tx.filed_drill_report(drill_id, position, submitted.incident_id):
                raise _AlreadyFiled  # another sweep filed it: roll this one back
        log.info("drill %s: report %d filed as #%s", drill_id, position, submitted.incident_id)
        return 1

    # --- ending ---

    async def stop(self, by_user: int, drill_id: int | None = None) -> Started:
        """Stop the running drill (or `drill_id`): its open incidents are resolved, their
        reminders stop, and the after-action review goes to its starter and the coordinators."""
        async with self.store.read() as tx:
            running = await tx.running_drills()
        drill = next((d for d in running if drill_id in (None, d.id)), None)
        if drill is None:
            return Started(DrillOutcome.NOT_RUNNING)
        await self._end(drill, by_user)
        return Started(DrillOutcome.DONE, drill)

    async def finish_done(self) -> int:
        """End the drills whose every report was filed and every incident closed."""
        ended = 0
        async with self.store.read() as tx:
            running = await tx.running_drills()
            over = [
                d
                for d in running
                if not await tx.drill_waiting(d.id)
                and not any(is_open for _, _, is_open in await tx.drill_incidents(d.id))
            ]
        for drill in over:
            await self._end(drill, None)
            ended += 1
        return ended

    async def _end(self, drill: Drill, by_user: int | None) -> None:
        """Ended first (no scripted report is filed after), then its open incidents resolved,
        then the review."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if not await tx.end_drill(drill.id, by_user, now):
                return  # ended meanwhile: its review went then
            incidents = await tx.drill_incidents(drill.id)
        for incident_id, _, is_open in incidents:
            if is_open:
                await self.incidents.resolve(incident_id, by_user or drill.started_by)
        found = await self.review(drill.id)
        if found is not None:
            await self.send_review(found, drill.started_by, now)
        log.info("drill %s ended", drill.id)

    # --- the after-action review ---

    async def review(self, drill_id: int) -> Review | None:
        async with self.store.read() as tx:
            drill = await tx.drill(drill_id)
            if drill is None:
                return None
            incidents = await tx.drill_incidents(drill_id)
            responses = await tx.drill_responses(drill_id)
            events = await tx.drill_events(drill_id)
        scenario = self.scenarios.get(drill.scenario)
        reported = {incident_id: at for incident_id, at, _ in incidents}
        reviews = review(scenario, reported, responses, events) if scenario is not None else []
        questions = sum(1 for e in events if e.kind == "question_asked")
        return Review(drill, scenario, reviews, len(incidents), questions)

    async def send_review(self, found: Review, to_user: int, now: datetime) -> None:
        """The review to `to_user` (the starter, in private) and the coordinators' group, with
        its chart (drawn first, in the chart worker; the text goes alone if that fails)."""
        async with self.store.read() as tx:
            chats: list[tuple[int, int | None, Language]] = []
            if await tx.may_message(to_user):
                language = await tx.language_of(to_user, self.settings.default_language)
                chats.append((to_user, None, language))
            group = await tx.coordinators_agency()
            if group is not None:
                chats.append((group.chat_id, group.thread_id, self.settings.default_language))
        charts: dict[Language, bytes | None] = {}
        for language in dict.fromkeys(language for _, _, language in chats):
            try:
                charts[language] = await run_chart_worker(drill_chart_request(found, language))
            except ChartError:
                log.exception("drill %s: the review's chart could not be drawn", found.drill.id)
                charts[language] = None
        async with self.store.transaction() as tx:
            for chat_id, thread_id, language in chats:
                text = review_text(language, found, self.settings.zone)
                await tx.enqueue(text_message(chat_id, text, thread_id=thread_id), now)
                chart = charts.get(language)
                if chart is not None:
                    caption = t(language, "drill.chart.caption", id=found.drill.id)
                    message = chart_message(chat_id, chart, caption, thread_id)
                    await tx.enqueue(replace(message, priority=Priority.NOTICE), now)

    async def history(self) -> list[Review]:
        """The past drills, newest first, each with its review."""
        async with self.store.read() as tx:
            past = await tx.past_drills(HISTORY)
        found = [await self.review(d.id) for d in past]
        return [r for r in found if r is not None]

    async def running(self) -> Drill | None:
        async with self.store.read() as tx:
            running = await tx.running_drills()
        return running[0] if running else None


class _AlreadyFiled(Exception):
    """The scripted report was filed by another sweep first."""
