"""Drills: scenarios to practise on (plain JSON files in bot/scenarios, validated on load), and the
after-action review that compares what the agencies did with the scenario's targets.

A scenario file (`bot/scenarios/<code>.json`):

    {
      "code": "kebakaran_pahandut",                  # the file's name, lower case
      "title": {"id": "…", "en": "…"},
      "summary": {"id": "…", "en": "…"},
      "reports": [                                   # one or more, at offsets from the start
        {"after_minutes": 0, "type": "kebakaran",
         "location": {"lat": -2.2, "lon": 113.9, "address": "Jl. …"},   # a pin and/or words
         "description": "…", "hurt": "ya" | "tidak" | "tidak_tahu", "hurt_count": 3,
         "reporter": "Bu Sari"}
      ],
      "answers": {"people_inside": "yes", "floor": "Lantai dua"},  # the simulated reporter's
      "targets": {"acknowledge": 3, "assign": 5, "en_route": 8, "on_scene": 20, "done": 90}
    }

Answers are keyed by the one-tap questions of models.info: a choice question takes one of its
answers' codes, the others any text. Targets are minutes from the report, per step.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from models.incident_types import IncidentType
from models.incidents import Hurt
from models.info import QUESTIONS, Expect

CODE = r"^[a-z][a-z0-9_]{2,39}$"
LANGUAGES = ("id", "en")


class DrillError(ValueError):
    """A scenario file that does not hold a valid scenario; says which and why."""


class Step(StrEnum):
    """The steps an agency's response is timed by, in order."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    DONE = "done"


# The timeline events that complete each step (the first one counts).
STEP_EVENTS: dict[Step, frozenset[str]] = {
    Step.ACKNOWLEDGE: frozenset({"acknowledged", "acknowledged_on_behalf"}),
    Step.ASSIGN: frozenset({"assigned", "took_task"}),
    Step.EN_ROUTE: frozenset({"en_route"}),
    Step.ON_SCENE: frozenset({"on_scene"}),
    Step.DONE: frozenset({"done", "agency_resolved"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    id: Annotated[str, Field(min_length=3, max_length=200)]
    en: Annotated[str, Field(min_length=3, max_length=200)]

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.id


class Place(_Strict):
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    address: Annotated[str, Field(min_length=3, max_length=300)] | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> Place:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("a pin needs both lat and lon")
        if self.lat is None and self.address is None:
            raise ValueError("a report needs a pin or an address")
        return self


class ScriptedReport(_Strict):
    after_minutes: Annotated[int, Field(ge=0, le=240)]
    type: IncidentType
    location: Place
    description: Annotated[str, Field(min_length=8, max_length=1000)]
    hurt: Hurt = Hurt.UNKNOWN
    hurt_count: Annotated[int, Field(ge=1, le=999)] | None = None
    reporter: Annotated[str, Field(min_length=2, max_length=40)]


class Scenario(_Strict):
    code: Annotated[str, Field(pattern=CODE)]
    title: Text
    summary: Text
    reports: Annotated[list[ScriptedReport], Field(min_length=1, max_length=10)]
    answers: dict[str, Annotated[str, Field(min_length=1, max_length=300)]] = {}
    targets: dict[Step, Annotated[int, Field(ge=1, le=600)]]

    @field_validator("answers")
    @classmethod
    def _answers(cls, answers: dict[str, str]) -> dict[str, str]:
        for key, value in answers.items():
            question = QUESTIONS.get(key)
            if question is None:
                raise ValueError(f"no question {key!r} (one of {sorted(QUESTIONS)})")
            if question.expects is Expect.CHOICE and value not in question.answers:
                raise ValueError(f"{key!r} is answered with one of {list(question.answers)}")
        return answers

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[Step, int]) -> dict[Step, int]:
        if Step.ACKNOWLEDGE not in targets:
            raise ValueError("a target for 'acknowledge' is needed")
        given = [targets[step] for step in Step if step in targets]
        if given != sorted(given):
            raise ValueError("targets must not get shorter from one step to the next")
        return targets

    @property
    def types(self) -> list[IncidentType]:
        return list(dict.fromkeys(report.type for report in self.reports))


def load_scenario(path: Path) -> Scenario:
    """The scenario in `path`; DrillError naming the file and what is wrong with it."""
    try:
        scenario = Scenario.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise DrillError(f"{path.name}: {exc}") from exc
    if scenario.code != path.stem:
        raise DrillError(f"{path.name}: its code is {scenario.code!r}, not the file's name")
    return scenario


def load_scenarios(folder: Path) -> dict[str, Scenario]:
    """Every scenario of `folder`, by code, in the files' order."""
    return {s.code: s for s in (load_scenario(p) for p in sorted(folder.glob("*.json")))}


# --- drills ---


@dataclass(frozen=True, slots=True)
class Drill:
    id: int
    scenario: str
    agencies: tuple[str, ...]  # the participating agencies' codes
    started_by: int
    started_at: datetime
    ended_at: datetime | None
    ended_by: int | None

    @property
    def running(self) -> bool:
        return self.ended_at is None


# --- the after-action review ---


@dataclass(frozen=True, slots=True)
class StepTime:
    step: Step
    minutes: float | None  # from the report to the step (None: never done)
    target: int | None
    by: str | None  # who did it

    @property
    def late(self) -> bool:
        return self.target is not None and (self.minutes is None or self.minutes > self.target)


@dataclass(frozen=True, slots=True)
class AgencyReview:
    incident_id: int
    agency_id: int
    agency_name: str
    steps: tuple[StepTime, ...]
    escalations: int  # coordinators were alerted about it this often
    reminders: int

    @property
    def acknowledged_minutes(self) -> float | None:
        return self.steps[0].minutes


@dataclass(frozen=True, slots=True)
class ReviewEvent:
    """A timeline event as the review reads it."""

    incident_id: int
    kind: str
    agency_id: int | None
    at: datetime
    actor: str | None


def review(
    scenario: Scenario,
    reported: dict[int, datetime],
    agencies: dict[tuple[int, int], str],
    events: Iterable[ReviewEvent],
) -> list[AgencyReview]:
    """Per drill incident (`reported`: when each was filed) and routed agency (`agencies`:
    (incident, agency) → name), the minutes each step took against the scenario's targets, who
    did it, and how often the agency was reminded and the coordinators alerted."""
    firsts: dict[tuple[int, int, Step], ReviewEvent] = {}
    counts: dict[tuple[int, int, str], int] = {}
    for event in sorted(events, key=lambda e: e.at):
        if event.agency_id is None:
            continue
        key = (event.incident_id, event.agency_id)
        counts[(*key, event.kind)] = counts.get((*key, event.kind), 0) + 1
        for step, kinds in STEP_EVENTS.items():
            if event.kind in kinds:
                firsts.setdefault((*key, step), event)
    found = []
    for (incident_id, agency_id), name in sorted(agencies.items()):
        start = reported[incident_id]
        steps = []
        for step in Step:
            done = firsts.get((incident_id, agency_id, step))
            minutes = None if done is None else (done.at - start).total_seconds() / 60
            steps.append(
                StepTime(step, minutes, scenario.targets.get(step), done.actor if done else None)
            )
        found.append(
            AgencyReview(
                incident_id,
                agency_id,
                name,
                tuple(steps),
                escalations=counts.get((incident_id, agency_id, "escalated"), 0),
                reminders=counts.get((incident_id, agency_id, "reminded"), 0),
            )
        )
    return found


def median_acknowledge(reviews: Iterable[AgencyReview]) -> dict[str, float | None]:
    """Each agency's median minutes to acknowledge over `reviews` (None: it never did)."""
    by_agency: dict[str, list[float]] = {}
    for one in reviews:
        minutes = by_agency.setdefault(one.agency_name, [])
        if one.acknowledged_minutes is not None:
            minutes.append(one.acknowledged_minutes)
    return {name: statistics.median(m) if m else None for name, m in by_agency.items()}


@dataclass(frozen=True, slots=True)
class Review:
    drill: Drill
    scenario: Scenario | None
    agencies: list[AgencyReview]
    reports: int  # incidents the drill filed
    questions: int  # questions the agencies asked the simulated reporter
