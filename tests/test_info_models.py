"""What an incident still lacks, per type, and the questions that follow it (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.incident_types import IncidentType
from models.incidents import Hurt, IllegalTransition, Location
from models.info import (
    GAPS_BY_TYPE,
    QUESTIONS,
    QUESTIONS_BY_TYPE,
    UNKNOWN_ANSWER,
    Gap,
    Info,
    InfoEvent,
    InfoKind,
    InfoState,
    next_info,
)
from models.missing import filled_by, gaps, questions_for
from tests.test_cards import make_incident

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
BARE = {
    "location": Location(None, None, "Jl. Tjilik Riwut km 5"),
    "reporter_phone": None,
    "hurt": Hurt.UNKNOWN,
    "photos": (),
}


def info(kind: InfoKind = InfoKind.ANSWER, **changes: object) -> Info:
    fields: dict[str, object] = {
        "id": 1,
        "incident_id": 7,
        "kind": kind,
        "state": InfoState.POSTED,
        "agency_id": 1,
        "agency_name": "Damkar",
        "author_id": 500,
        "created_at": NOW,
    }
    fields.update(changes)
    return Info(**fields)  # type: ignore[arg-type]


EXPECTED_GAPS = {
    IncidentType.FIRE: [Gap.POINT, Gap.PEOPLE_INSIDE, Gap.HURT, Gap.ACCESS, Gap.PHOTO, Gap.CONTACT],
    IncidentType.FOREST_FIRE: [Gap.POINT, Gap.ACCESS, Gap.PHOTO, Gap.CONTACT],
    IncidentType.MEDICAL: [Gap.POINT, Gap.CONSCIOUS, Gap.CONTACT],
    IncidentType.TRAFFIC: [Gap.POINT, Gap.HURT, Gap.PHOTO, Gap.CONTACT],
    IncidentType.FLOOD: [Gap.POINT, Gap.WATER_DEPTH, Gap.HURT, Gap.PHOTO, Gap.CONTACT],
    IncidentType.RESCUE: [Gap.POINT, Gap.HURT, Gap.CONTACT],
    IncidentType.ANIMAL: [Gap.POINT, Gap.PHOTO, Gap.CONTACT],
    IncidentType.COLLAPSE: [Gap.POINT, Gap.PEOPLE_INSIDE, Gap.HURT, Gap.PHOTO, Gap.CONTACT],
    IncidentType.OTHER: [Gap.POINT, Gap.CONTACT],
}


@pytest.mark.parametrize("kind", list(IncidentType))
def test_a_bare_first_report_lacks_what_matters_for_its_type(kind: IncidentType) -> None:
    assert set(GAPS_BY_TYPE) == set(IncidentType)
    assert list(gaps(make_incident(type=kind, **BARE), [])) == EXPECTED_GAPS[kind]


@pytest.mark.parametrize("kind", list(IncidentType))
def test_a_complete_first_report_lacks_only_what_it_cannot_say(kind: IncidentType) -> None:
    incident = make_incident(
        type=kind,
        location=Location(-2.2, 113.9, "Jl. A. Yani"),
        reporter_phone="0812",
        hurt=Hurt.NONE,
        photos=("photo-1",),
    )
    left = set(gaps(incident, []))
    assert left <= {Gap.PEOPLE_INSIDE, Gap.ACCESS, Gap.CONSCIOUS, Gap.WATER_DEPTH}
    assert left == set(EXPECTED_GAPS[kind]) - {Gap.POINT, Gap.CONTACT, Gap.HURT, Gap.PHOTO}


@pytest.mark.parametrize("kind", list(IncidentType))
def test_every_gap_of_a_type_can_be_filled_by_its_own_questions(kind: IncidentType) -> None:
    """Nothing the card says is missing is beyond what the asker can ask for (except a phone,
    which the reporter's Telegram account stands in for)."""
    asked = {QUESTIONS[key].gap for key in QUESTIONS_BY_TYPE[kind]}
    assert set(GAPS_BY_TYPE[kind]) - {Gap.CONTACT} <= asked


def test_answers_additions_and_notes_fill_the_line() -> None:
    incident = make_incident(type=IncidentType.FIRE, **BARE)
    infos = [
        info(latitude=-2.2, longitude=113.9),  # a location sent as an answer
        info(InfoKind.ADDITION, photo="photo-2"),  # a photo added unasked
        info(question_key="people_inside", answer_key="yes", fills=Gap.PEOPLE_INSIDE),
        info(question_key="hurt", answer_key=UNKNOWN_ANSWER, fills=Gap.HURT),  # still unknown
        info(InfoKind.NOTE, text="jalan bisa dilalui", fills=Gap.ACCESS),
    ]
    assert list(gaps(incident, infos)) == [Gap.HURT, Gap.CONTACT]


def test_information_not_shown_fills_nothing() -> None:
    for state in (InfoState.OPEN, InfoState.PROPOSED, InfoState.DROPPED):
        assert filled_by(info(state=state, latitude=1.0, longitude=2.0, fills=Gap.ACCESS)) == set()


def test_questions_follow_what_is_missing() -> None:
    incident = make_incident(type=IncidentType.FIRE, **{**BARE, "hurt": Hurt.YES})
    missing = gaps(incident, [])
    keys = [q.key for q in questions_for(incident.type, missing)]
    assert keys[:4] == ["point", "people_inside", "access", "photo"]  # in the order of the gaps
    assert "hurt" not in keys  # known already
    assert keys[4:] == ["floor", "spreading"]  # those that fill no gap, last


@pytest.mark.parametrize("kind", list(IncidentType))
def test_every_question_of_a_type_exists_and_has_sane_answers(kind: IncidentType) -> None:
    for key in QUESTIONS_BY_TYPE[kind]:
        question = QUESTIONS[key]
        assert len(question.answers) <= 8  # a one-tap answer travels as an index below 8
        assert len(set(question.answers)) == len(question.answers)


def test_question_states_move_by_the_table() -> None:
    assert next_info(InfoState.OPEN, InfoEvent.ANSWER) is InfoState.ANSWERED
    assert next_info(InfoState.UNANSWERED, InfoEvent.ANSWER) is InfoState.ANSWERED
    assert next_info(InfoState.OPEN, InfoEvent.TIME_OUT) is InfoState.UNANSWERED
    assert next_info(InfoState.PROPOSED, InfoEvent.CONFIRM) is InfoState.POSTED
    with pytest.raises(IllegalTransition):
        next_info(InfoState.CLOSED, InfoEvent.ANSWER)
    with pytest.raises(IllegalTransition):
        next_info(InfoState.POSTED, InfoEvent.CONFIRM)
