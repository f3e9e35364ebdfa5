"""Rendering of the incident loop: cards fit Telegram's limits, user text stays data, buttons
follow each agency's and each person's state, and both languages render."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.callbacks import (
    MAX_BYTES,
    AskReporter,
    ButtonAction,
    CancelIncident,
    CardButton,
    IncidentButton,
    PickMember,
    SetSeverity,
    TaskButton,
    decode,
)
from bot.render.cards import (
    PICKER_MAX_MEMBERS,
    TIMELINE_MAX_LINES,
    already_acknowledged_text,
    assign_picker,
    assignee_unreachable_text,
    card_markup,
    card_text,
    illegal_transition_text,
    incident_closed_text,
    incident_text,
    manage_card,
    manage_confirmation,
    not_found_text,
    open_list_text,
    reporter_confirmation,
    reporter_update,
    routed_to_nobody_text,
    task_card,
    timeline_text,
    utf16_length,
)
from bot.services.messages import Markup, keyboard_payload
from bot.settings import LANGUAGES, Language
from bot.simulator.entities import parse_html, utf16_len
from models.agencies import Agency, AgencyKind, Member
from models.duplicates import Basis, Hint
from models.incident_types import IncidentType
from models.incidents import (
    CANCEL_REASONS,
    Assignment,
    AssignmentStatus,
    CancelReason,
    EventKind,
    Hurt,
    Incident,
    IncidentView,
    Lifecycle,
    Location,
    Response,
    ResponseStatus,
    Severity,
    Source,
    TimelineEvent,
)
from models.users import Person

ZONE = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 27, 3, 2, tzinfo=UTC)  # 10.02 WIB
HOSTILE_PIECE = "<b>bold</b> & &amp; <script>alert(1)</script> _*[`x`] 🔥🚒 مرحبا שלום "
HOSTILE = (HOSTILE_PIECE * (10_000 // len(HOSTILE_PIECE) + 1))[:10_000]
HOSTILE_NAME = "<i>Bu&di</i> 🚒 שלום"

BIG_INCIDENT, BIG_AGENCY, BIG_USER, BIG_TASK = 9_999_999, 99_999, 9_999_999_999, 9_999_999


def make_incident(**changes: object) -> Incident:
    incident = Incident(
        id=12,
        type=IncidentType.FIRE,
        severity=Severity.HIGH,
        lifecycle=Lifecycle.OPEN,
        source=Source.REPORT,
        reporter_id=501,
        reporter_name="Siti Rahma",
        reporter_phone="+6281234567890",
        location=Location(-2.2096, 113.9139, "Jl. Tjilik Riwut km 5, dekat masjid"),
        description="Rumah kayu terbakar, api membesar.",
        hurt=Hurt.YES,
        hurt_count=2,
        photos=("photo-1", "photo-2"),
        merged_into=None,
        cancel_reason=None,
        created_at=T0,
        updated_at=T0,
        closed_at=None,
    )
    return dataclasses.replace(incident, **changes)  # type: ignore[arg-type]


def make_response(
    agency_id: int = 1,
    status: ResponseStatus = ResponseStatus.WAITING,
    *,
    incident_id: int = 12,
    name: str = "Damkar Palangka Raya",
    on_behalf: bool = False,
) -> Response:
    acknowledged = status is not ResponseStatus.WAITING
    return Response(
        incident_id=incident_id,
        agency_id=agency_id,
        agency_code=f"ag{agency_id}",
        agency_name=name,
        status=status,
        acknowledged_by=701 if acknowledged else None,
        acknowledged_by_name="Andi Saputra" if acknowledged else None,
        acknowledged_at=T0 + timedelta(minutes=2) if acknowledged else None,
        on_behalf=on_behalf,
        updated_at=T0,
    )


def make_assignment(
    status: AssignmentStatus = AssignmentStatus.OFFERED,
    *,
    assignment_id: int = 3,
    incident_id: int = 12,
    agency_id: int = 1,
    user_id: int = 801,
    name: str = "Sari",
    assigned_by: int | None = 701,
) -> Assignment:
    return Assignment(
        id=assignment_id,
        incident_id=incident_id,
        agency_id=agency_id,
        user_id=user_id,
        user_name=name,
        status=status,
        assigned_by=assigned_by,
        created_at=T0,
        updated_at=T0,
    )


def make_view(
    incident: Incident | None = None,
    responses: list[Response] | None = None,
    assignments: list[Assignment] | None = None,
    merged_from: list[int] | None = None,
) -> IncidentView:
    return IncidentView(
        incident=incident or make_incident(),
        responses=[make_response()] if responses is None else responses,
        assignments=assignments or [],
        merged_from=merged_from or [],
    )


def make_agency(agency_id: int = 1, name: str = "Damkar Palangka Raya") -> Agency:
    return Agency(
        id=agency_id,
        code=f"ag{agency_id}",
        name=name,
        kind=AgencyKind.AGENCY,
        chat_id=-100_000 - agency_id,
        thread_id=None,
        active=True,
        reachable=True,
        registered_at=T0,
    )


def make_member(user_id: int, name: str, *, on_duty: bool, agency_id: int = 1) -> Member:
    person = Person(user_id, name, None, None, "id", T0, T0, T0)
    return Member(agency_id=agency_id, person=person, on_duty=on_duty, duty_until=None)


def make_event(
    kind: str, detail: dict[str, object] | None = None, *, event_id: int = 1, minute: int = 0
) -> TimelineEvent:
    return TimelineEvent(
        id=event_id,
        incident_id=12,
        at=T0 + timedelta(minutes=minute),
        actor_id=701,
        actor_name="Andi",
        kind=kind,
        agency_code="damkar",
        detail=detail or {},
    )


def plain(text: str, limit: int = 4096) -> str:
    """The text as Telegram shows it; parsing proves the HTML valid, then the length is checked."""
    shown, _entities = parse_html(text)
    assert utf16_len(shown) <= limit, utf16_len(shown)
    return shown


def button_rows(keyboard: InlineKeyboardMarkup | Markup) -> list[list[dict[str, Any]]]:
    """A keyboard's rows as the Bot API has them, whichever way it was made."""
    rows = keyboard_payload(keyboard)["inline_keyboard"]
    assert isinstance(rows, list)
    return rows


def actions(keyboard: InlineKeyboardMarkup | Markup | None) -> list[list[ButtonAction]]:
    assert keyboard is not None
    rows = []
    for row in button_rows(keyboard):
        decoded = [decode(str(button["callback_data"])) for button in row]
        assert all(d is not None for d in decoded)
        rows.append([d.action for d in decoded if d is not None])
    return rows


def all_buttons(keyboard: InlineKeyboardMarkup | Markup | None) -> list[tuple[str, str]]:
    if keyboard is None:
        return []
    return [
        (button["text"], str(button["callback_data"]))
        for row in button_rows(keyboard)
        for button in row
    ]


def kept_description(shown: str) -> str:
    """The part of the description a card shows, before the cut notice."""
    start = shown.index("📝 ") + len("📝 ")
    end = shown.index(" … (", start)
    return shown[start:end]


# --- limits and escaping ---


@pytest.mark.parametrize("language", LANGUAGES)
def test_card_cuts_a_hostile_description_and_keeps_it_verbatim(language: Language) -> None:
    incident = make_incident(
        description=HOSTILE,
        reporter_name=HOSTILE_NAME,
        reporter_phone="<b>0812</b>&",
        location=Location(-2.2, 113.9, "<gang> & 'Jl. A' \"B\""),
    )
    responses = [make_response(1, ResponseStatus.ACKNOWLEDGED, name=HOSTILE_NAME)]
    view = make_view(incident, responses, [make_assignment(name=HOSTILE_NAME)])
    shown = plain(card_text(language, view, ZONE, show_phone=True), limit=3500)
    kept = kept_description(shown)
    assert 1000 < len(kept) <= 1200  # kept short for a phone; the rest is in /kejadian
    assert HOSTILE.startswith(kept)
    assert "/kejadian 12" in shown
    assert HOSTILE_NAME in shown
    assert "<b>0812</b>&" in shown
    assert "<gang> & 'Jl. A' \"B\"" in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_short_description_is_shown_whole(language: Language) -> None:
    view = make_view(make_incident(description="Asap <tebal> & api"))
    shown = plain(card_text(language, view, ZONE, show_phone=True))
    assert "📝 Asap <tebal> & api\n" in shown
    assert "/kejadian" not in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_many_agencies_and_assignees_do_not_squeeze_out_the_description(
    language: Language,
) -> None:
    long_name = "N" * 64
    responses = [
        make_response(i, ResponseStatus.ACKNOWLEDGED, name=f"{long_name}{i}") for i in range(1, 31)
    ]
    assignments = [
        make_assignment(
            AssignmentStatus.ACCEPTED,
            assignment_id=100 * i + j,
            agency_id=i,
            user_id=1000 * i + j,
            name=long_name,
        )
        for i in range(1, 31)
        for j in range(8)
    ]
    view = make_view(make_incident(description=HOSTILE), responses, assignments)
    shown = plain(card_text(language, view, ZONE, show_phone=True), limit=3500)
    assert len(kept_description(shown)) >= 150


@pytest.mark.parametrize("language", LANGUAGES)
def test_incident_text_shows_more_and_fits_one_message(language: Language) -> None:
    view = make_view(make_incident(description=HOSTILE))
    events = [make_event(EventKind.REPORTED.value, event_id=i, minute=i) for i in range(200)]
    text = incident_text(language, view, events, ZONE, show_phone=False)
    shown = plain(text)
    kept = kept_description(shown)
    assert HOSTILE.startswith(kept)
    short_card = plain(card_text(language, view, ZONE, show_phone=False))
    assert len(kept) > len(kept_description(short_card))
    assert "/kejadian" not in shown.split("📝 ", 1)[1].split("\n", 1)[0]  # says "cut", no link
    assert "+6281234567890" not in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_incident_text_with_short_description_has_the_timeline(language: Language) -> None:
    view = make_view()
    events = [make_event(EventKind.REPORTED.value, event_id=i, minute=i) for i in range(200)]
    shown = plain(incident_text(language, view, events, ZONE, show_phone=True))
    assert shown.count("Andi ·") >= 20
    assert "140" in shown or "earlier" in shown or "sebelumnya" in shown
    assert shown.rstrip().endswith(timeline_text(language, events[-1:], ZONE).split(" · ", 1)[1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_task_card_cuts_the_description_near_a_thousand(language: Language) -> None:
    view = make_view(
        make_incident(description=HOSTILE),
        [make_response(1, ResponseStatus.ACKNOWLEDGED)],
        [make_assignment()],
    )
    text, _keyboard = task_card(language, view, view.assignments[0], ZONE)
    shown = plain(text)
    kept = kept_description(shown)
    assert 800 < utf16_len(kept) <= 1000
    assert HOSTILE.startswith(kept)
    assert "+6281234567890" in shown  # the assignee may call the reporter


@pytest.mark.parametrize("language", LANGUAGES)
def test_phone_only_when_allowed(language: Language) -> None:
    view = make_view()
    assert "+6281234567890" in plain(card_text(language, view, ZONE, show_phone=True))
    assert "+6281234567890" not in plain(card_text(language, view, ZONE, show_phone=False))
    assert "Siti Rahma" in plain(card_text(language, view, ZONE, show_phone=False))


def test_rendering_is_pure() -> None:
    view = make_view(make_incident(description=HOSTILE))
    assert card_text("id", view, ZONE, show_phone=True) == card_text(
        "id", view, ZONE, show_phone=True
    )
    assert card_markup("id", view, 1) == card_markup("id", view, 1)


# --- what the card says ---


def test_card_in_both_languages() -> None:
    view = make_view(
        responses=[
            make_response(1, ResponseStatus.ACKNOWLEDGED, name="Damkar"),
            make_response(2, ResponseStatus.WAITING, name="Relawan"),
            make_response(3, ResponseStatus.ON_SCENE, name="PSC 119", on_behalf=True),
        ],
        assignments=[
            make_assignment(AssignmentStatus.EN_ROUTE, name="Sari"),
            make_assignment(AssignmentStatus.DECLINED, assignment_id=4, name="Joko"),
        ],
    )
    indonesian = plain(card_text("id", view, ZONE, show_phone=True))
    english = plain(card_text("en", view, ZONE, show_phone=True))
    assert indonesian.startswith("🟠 #12 · 🔥 Kebakaran · Tinggi")
    assert english.startswith("🟠 #12 · 🔥 Fire · High")
    assert "Damkar: diterima oleh Andi Saputra, 10.04 WIB · ditugaskan: Sari (menuju lokasi)" in (
        indonesian
    )
    assert "Damkar: acknowledged by Andi Saputra at 10:04 WIB · assigned to Sari (en route)" in (
        english
    )
    assert "Joko" not in english  # declined assignments are history, not the current state
    assert "Relawan: waiting for acknowledgement" in english
    assert "on behalf" in english
    assert "atas nama" in indonesian
    assert "Yes, 2 people" in english
    assert "Photos: 2" in english
    assert "10:02 WIB" in english
    assert "report by a resident or volunteer" in english
    assert "maps.google.com" in card_text("en", view, ZONE, show_phone=True)


def test_card_from_a_phone_call_without_a_point() -> None:
    incident = make_incident(
        source=Source.CALL,
        location=Location(None, None, None),
        photos=(),
        hurt=Hurt.UNKNOWN,
        hurt_count=None,
        reporter_name=None,
    )
    shown = plain(card_text("en", make_view(incident), ZONE, show_phone=True))
    assert "112 phone call" in shown
    assert "Location not known yet" in shown
    assert "Photos" not in shown
    assert "hurt or trapped: Unknown" in shown
    assert "Reporter: unknown" in shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_merged_incident_says_duplicate_of(language: Language) -> None:
    incident = make_incident(lifecycle=Lifecycle.MERGED, merged_into=7)
    shown = plain(card_text(language, make_view(incident), ZONE, show_phone=True))
    assert "#7" in shown
    assert ("duplicate of #7" if language == "en" else "duplikat dari #7") in shown
    assert ("is closed" if language == "en" else "sudah ditutup") in shown
    assert card_markup(language, make_view(incident), 1) is None


def test_merged_from_and_cancelled_lines() -> None:
    view = make_view(merged_from=[15, 13])
    assert "Reports merged into this one: #13, #15" in plain(
        card_text("en", view, ZONE, show_phone=True)
    )
    cancelled = make_incident(lifecycle=Lifecycle.CANCELLED, cancel_reason="laporan_palsu")
    shown = plain(card_text("en", make_view(cancelled), ZONE, show_phone=True))
    assert "closed: cancelled (False alarm)" in shown
    assert "Status: Cancelled" in shown
    shown_id = plain(card_text("id", make_view(cancelled), ZONE, show_phone=True))
    assert "sudah ditutup" in shown_id
    assert "Laporan palsu" in shown_id
    unknown = make_incident(lifecycle=Lifecycle.CANCELLED, cancel_reason="<weird>")
    assert "(<weird>)" in plain(card_text("en", make_view(unknown), ZONE, show_phone=True))
    resolved = make_incident(lifecycle=Lifecycle.RESOLVED)
    assert "closed: resolved" in plain(card_text("en", make_view(resolved), ZONE, show_phone=True))


# --- keyboards ---

EXPECTED_AGENCY_ROWS: dict[ResponseStatus, list[list[ButtonAction]]] = {
    ResponseStatus.WAITING: [[ButtonAction.ACKNOWLEDGE, ButtonAction.ASSIGN]],
    ResponseStatus.ACKNOWLEDGED: [
        [ButtonAction.ASSIGN],
        [ButtonAction.EN_ROUTE, ButtonAction.ON_SCENE, ButtonAction.AGENCY_DONE],
    ],
    ResponseStatus.DISPATCHED: [
        [ButtonAction.ASSIGN],
        [ButtonAction.ON_SCENE, ButtonAction.AGENCY_DONE],
    ],
    ResponseStatus.ON_SCENE: [[ButtonAction.ASSIGN], [ButtonAction.AGENCY_DONE]],
    ResponseStatus.DONE: [],
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", list(ResponseStatus))
def test_card_keyboard_follows_the_agency_response(
    language: Language, status: ResponseStatus
) -> None:
    view = make_view(responses=[make_response(1, status), make_response(2)])
    keyboard = card_markup(language, view, 1)
    assert actions(keyboard) == [
        *EXPECTED_AGENCY_ROWS[status],
        [ButtonAction.ASK_REPORTER, ButtonAction.MANAGE],
    ]
    for _text, data in all_buttons(keyboard):
        decoded = decode(data)
        assert decoded is not None
        if decoded.action is ButtonAction.MANAGE:
            assert decoded == IncidentButton(ButtonAction.MANAGE, 12)
        elif decoded.action is ButtonAction.ASK_REPORTER:
            assert decoded == AskReporter(ButtonAction.ASK_REPORTER, 12, 1)
        else:
            assert decoded == CardButton(decoded.action, 12, 1)


def test_every_response_status_has_an_expectation() -> None:
    assert set(EXPECTED_AGENCY_ROWS) == set(ResponseStatus)


def test_dispatchers_copy_and_unrouted_agency_only_manage() -> None:
    view = make_view()
    only = [[ButtonAction.ASK_REPORTER, ButtonAction.MANAGE]]
    assert actions(card_markup("id", view, None)) == only
    assert actions(card_markup("id", view, 42)) == only
    # The operators' copy asks as "0": the asker's own standing decides, on the press.
    operators = [decode(data) for _text, data in all_buttons(card_markup("id", view, None))]
    assert AskReporter(ButtonAction.ASK_REPORTER, 12, 0) in operators


def test_button_labels_in_both_languages() -> None:
    view = make_view()
    indonesian = [text for text, _ in all_buttons(card_markup("id", view, 1))]
    english = [text for text, _ in all_buttons(card_markup("en", view, 1))]
    assert indonesian == ["✅ Terima", "👤 Tugaskan", "❓ Tanya pelapor", "⚙️ Kelola"]
    assert english == ["✅ Acknowledge", "👤 Assign", "❓ Ask reporter", "⚙️ Manage"]


@pytest.mark.parametrize("lifecycle", [Lifecycle.RESOLVED, Lifecycle.CANCELLED, Lifecycle.MERGED])
def test_closed_incidents_have_no_keyboard(lifecycle: Lifecycle) -> None:
    view = make_view(
        make_incident(
            lifecycle=lifecycle, merged_into=3 if lifecycle is Lifecycle.MERGED else None
        ),
        [make_response(1, ResponseStatus.ACKNOWLEDGED)],
        [make_assignment(AssignmentStatus.ACCEPTED)],
    )
    assert card_markup("id", view, 1) is None
    assert card_markup("id", view, None) is None
    text, keyboard = task_card("en", view, view.assignments[0], ZONE)
    assert keyboard is None
    assert "closed" in plain(text)


EXPECTED_TASK_ROWS: dict[AssignmentStatus, list[list[ButtonAction]] | None] = {
    AssignmentStatus.OFFERED: [[ButtonAction.TASK_ACCEPT, ButtonAction.TASK_DECLINE]],
    AssignmentStatus.ACCEPTED: [
        [ButtonAction.TASK_EN_ROUTE, ButtonAction.TASK_ON_SCENE, ButtonAction.TASK_DONE]
    ],
    AssignmentStatus.EN_ROUTE: [[ButtonAction.TASK_ON_SCENE, ButtonAction.TASK_DONE]],
    AssignmentStatus.ON_SCENE: [[ButtonAction.TASK_DONE]],
    AssignmentStatus.DONE: None,
    AssignmentStatus.DECLINED: None,
    AssignmentStatus.WITHDRAWN: None,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("status", list(AssignmentStatus))
def test_task_card_buttons_follow_the_assignment(
    language: Language, status: AssignmentStatus
) -> None:
    assignment = make_assignment(status)
    view = make_view(assignments=[assignment])
    text, keyboard = task_card(language, view, assignment, ZONE)
    shown = plain(text)
    expected = EXPECTED_TASK_ROWS[status]
    if expected is None:
        assert keyboard is None
    else:
        # An active task card can ask the reporter, as the assignee's agency.
        assert actions(keyboard) == [*expected, [ButtonAction.ASK_REPORTER]]
        for _label, data in all_buttons(keyboard):
            decoded = decode(data)
            assert decoded is not None
            if decoded.action is ButtonAction.ASK_REPORTER:
                assert decoded == AskReporter(ButtonAction.ASK_REPORTER, 12, assignment.agency_id)
            else:
                assert decoded == TaskButton(decoded.action, 3)
    assert shown.startswith("📋 ")
    assert "#12" in shown


def test_every_assignment_status_has_an_expectation() -> None:
    assert set(EXPECTED_TASK_ROWS) == set(AssignmentStatus)


def test_task_card_says_who_assigned() -> None:
    view = make_view(responses=[make_response(1, ResponseStatus.ACKNOWLEDGED)])
    assigned = make_assignment(assigned_by=701)
    assert "Assigned by Andi Saputra." in task_card("en", view, assigned, ZONE)[0]
    named = task_card("en", view, make_assignment(assigned_by=999), ZONE, assigned_by_name="<Rina>")
    assert "Assigned by &lt;Rina&gt;." in named[0]
    itself = make_assignment(assigned_by=801)
    assert "You took this task yourself." in task_card("en", view, itself, ZONE)[0]
    unknown = make_assignment(assigned_by=None)
    assert "Your agency assigned you." in task_card("en", view, unknown, ZONE)[0]
    done_text = task_card("en", view, make_assignment(AssignmentStatus.DONE), ZONE)[0]
    assert "This task is done" in done_text


def test_callback_data_fits_with_large_ids() -> None:
    incident = make_incident(id=BIG_INCIDENT)
    assignment = make_assignment(
        AssignmentStatus.ACCEPTED,
        assignment_id=BIG_TASK,
        incident_id=BIG_INCIDENT,
        agency_id=BIG_AGENCY,
        user_id=BIG_USER,
    )
    view = make_view(incident, [make_response(BIG_AGENCY, incident_id=BIG_INCIDENT)], [assignment])
    agency = make_agency(BIG_AGENCY)
    members = [make_member(BIG_USER, "Sari", on_duty=True, agency_id=BIG_AGENCY)]
    keyboards: list[InlineKeyboardMarkup | Markup | None] = [
        card_markup(
            "id",
            make_view(incident, [make_response(BIG_AGENCY, status, incident_id=BIG_INCIDENT)]),
            BIG_AGENCY,
        )
        for status in ResponseStatus
    ]
    keyboards += [
        task_card("id", view, dataclasses.replace(assignment, status=status), ZONE)[1]
        for status in AssignmentStatus
    ]
    # the operators' copy of a call no agency is routed to: 🙋 Ambil alih
    keyboards.append(card_markup("id", make_view(incident, []), None))
    # a report hinted as repeating another: 🔗 merge into it, ✖️ not a duplicate
    hinted = dataclasses.replace(
        make_view(incident, []), similar_to=Hint(BIG_INCIDENT - 1, Basis.PINS, 350, 4)
    )
    keyboards.append(card_markup("id", hinted, None))
    keyboards += [
        assign_picker("id", view, agency, members, BIG_USER)[1],
        manage_card("id", view, [make_agency(BIG_AGENCY + i) for i in range(3)])[1],
        manage_card(
            "id", make_view(dataclasses.replace(incident, lifecycle=Lifecycle.RESOLVED)), []
        )[1],
        # a 112 call's management card offers the caller link
        manage_card("id", make_view(dataclasses.replace(incident, source=Source.CALL)), [])[1],
        manage_confirmation("id", view)[1],
        manage_confirmation("id", view, CANCEL_REASONS[-1])[1],
    ]
    seen: set[ButtonAction] = set()
    for keyboard in keyboards:
        for _text, data in all_buttons(keyboard):
            assert len(data.encode()) <= MAX_BYTES
            decoded = decode(data)
            assert decoded is not None
            seen.add(decoded.action)
            if decoded.action is ButtonAction.ASSIGN_TO:
                assert decoded == PickMember(
                    ButtonAction.ASSIGN_TO, BIG_INCIDENT, BIG_AGENCY, BIG_USER, BIG_USER
                )
    # agencies, the report, escalations, broadcasts, erasure
    # and the private question, answer, addition and note buttons (tests/test_info_flows.py)
    # and the buttons of on-duty members' private alerts (tests/test_duty_alerts.py)
    # and the drill picker (tests/test_drills.py)
    # and the drills' picker and stop button (tests/test_drills.py)
    elsewhere = ("ag.", "rp.", "ack.for", "open", "bc.", "fg.", "ask.", "qa", "add.", "nt.", "du.")
    elsewhere += ("dr.",)
    private = {ButtonAction.ADD_TO}
    card_loop = set(ButtonAction) - private
    card_loop -= {a for a in ButtonAction if a.value.startswith(elsewhere)}
    assert seen == card_loop  # every button of the incident loop was checked


# --- the assign picker ---


def test_assign_picker_orders_marks_and_caps() -> None:
    members = [make_member(900 + i, f"Off {i}", on_duty=False) for i in range(15)]
    members += [make_member(800 + i, f"On <{i}>", on_duty=True) for i in range(10)]
    view = make_view(
        assignments=[
            make_assignment(AssignmentStatus.ACCEPTED, user_id=801),
            make_assignment(AssignmentStatus.DECLINED, assignment_id=4, user_id=802),
        ]
    )
    text, keyboard = assign_picker("en", view, make_agency(), members, 777)
    shown = plain(text)
    assert "5 more members are not shown" in shown
    rows = keyboard.inline_keyboard
    people = [row[0] for row in rows[:-1]]
    assert len(people) == PICKER_MAX_MEMBERS
    assert all(button.text.startswith(("🟢", "✔ 🟢")) for button in people[:10])
    assert all(
        button.text.startswith("⚪") and "(off duty)" in button.text for button in people[10:]
    )
    assert people[0].text == "🟢 On <0>"  # button labels are plain text, not HTML
    assert people[1].text == "✔ 🟢 On <1>"
    assert people[2].text == "🟢 On <2>"  # a declined task is not an assignment
    decoded = decode(str(people[1].callback_data))
    assert decoded is not None
    assert decoded.action is ButtonAction.ASSIGN_TO
    assert decoded == PickMember(ButtonAction.ASSIGN_TO, 12, 1, 801, 777)  # 777 opened it
    assert [decode(str(b.callback_data)).action for b in rows[-1]] == [  # type: ignore[union-attr]
        ButtonAction.ASSIGN_SELF,
        ButtonAction.ASSIGN_CLOSE,
    ]
    indonesian = assign_picker("id", view, make_agency(), members, 777)[1].inline_keyboard[-1]
    assert [b.text for b in indonesian] == ["🙋 Saya sendiri", "✖ Tutup"]
    assert (
        "(tidak siaga)"
        in assign_picker("id", view, make_agency(), members, 777)[1].inline_keyboard[15][0].text
    )


def test_assign_picker_without_members_still_offers_myself() -> None:
    text, keyboard = assign_picker("id", make_view(), make_agency(name="<Damkar>"), [], 777)
    shown = plain(text)
    assert "<Damkar>" in shown
    assert "/gabung" in shown
    assert len(keyboard.inline_keyboard) == 1


# --- the management card ---


def test_manage_card_of_an_open_incident() -> None:
    addable = [make_agency(10 + i, f"Instansi {i}") for i in range(11)]
    text, keyboard = manage_card("en", make_view(), addable, zone=ZONE)
    shown = plain(text)
    assert "/merge 12 <other number>" in shown
    assert "3 more agencies are not shown" in shown
    assert "Damkar Palangka Raya" in shown
    rows = actions(keyboard)
    assert rows[0] == [ButtonAction.SET_SEVERITY] * 4
    severity_buttons = keyboard.inline_keyboard[0]
    assert [b.text.startswith("✔") for b in severity_buttons] == [False, True, False, False]
    ranks = [decode(str(b.callback_data)) for b in severity_buttons]
    assert ranks == [SetSeverity(ButtonAction.SET_SEVERITY, 12, rank) for rank in range(4)]
    flat = [action for row in rows for action in row]
    assert flat.count(ButtonAction.ADD_AGENCY) == 8
    assert flat.count(ButtonAction.CANCEL_INCIDENT) == len(CANCEL_REASONS)
    cancels = [
        decoded
        for _t, data in all_buttons(keyboard)
        if isinstance(decoded := decode(data), CancelIncident)
    ]
    assert cancels == [
        CancelIncident(ButtonAction.CANCEL_INCIDENT, 12, i) for i in range(len(CANCEL_REASONS))
    ]
    assert ButtonAction.REOPEN not in flat
    assert "/gabungkan 12" in plain(manage_card("id", make_view(), [])[0])


def test_manage_card_of_closed_incidents() -> None:
    resolved = make_view(make_incident(lifecycle=Lifecycle.RESOLVED))
    text, keyboard = manage_card("id", resolved, [make_agency(5)])
    assert actions(keyboard) == [[ButtonAction.REOPEN]]
    assert keyboard.inline_keyboard[0][0].text == "↩️ Buka lagi"
    plain(text)
    merged = make_view(make_incident(lifecycle=Lifecycle.MERGED, merged_into=4))
    text, keyboard = manage_card("en", merged, [make_agency(5)])
    assert keyboard.inline_keyboard == ()
    assert "#4" in plain(text)


# --- the timeline ---


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_event_kind_renders_even_without_details(language: Language) -> None:
    events = [make_event(kind.value, event_id=i) for i, kind in enumerate(EventKind)]
    events.append(make_event("some_future_kind", event_id=99))
    shown = plain(timeline_text(language, events, ZONE))
    lines = shown.split("\n")
    assert len(lines) == len(EventKind) + 1
    assert all(
        line.startswith("10.02 WIB · " if language == "id" else "10:02 WIB · ") for line in lines
    )
    assert lines[-1].endswith("some_future_kind")


def test_event_details_are_used_and_escaped() -> None:
    events = [
        make_event(EventKind.ASSIGNED.value, {"to": "<Sari>", "agency": "Damkar & co"}),
        make_event(EventKind.SEVERITY_CHANGED.value, {"severity": "kritis"}, event_id=2),
        make_event(EventKind.CANCELLED.value, {"reason": "bukan_darurat"}, event_id=3),
        make_event(EventKind.MERGED.value, {"other": 7}, event_id=4),
        make_event(EventKind.ROUTED.value, {"agency": ["Damkar", "BPBD"]}, event_id=5),
        dataclasses.replace(
            make_event(EventKind.ROUTED_TO_NOBODY.value, event_id=6), actor_name=None
        ),
    ]
    shown = plain(timeline_text("en", events, ZONE)).split("\n")
    assert shown[0] == "10:02 WIB · Andi · assigned <Sari> (Damkar & co)"
    assert shown[1].endswith("changed the severity to Critical")
    assert shown[2].endswith("cancelled the incident: Not an emergency")
    assert shown[3].endswith("merged as a duplicate of #7")
    assert shown[4].endswith("card sent to Damkar, BPBD")
    assert shown[5].startswith("10:02 WIB · system · ")


def test_timeline_is_capped_newest_last() -> None:
    events = [make_event(EventKind.REPORTED.value, event_id=i, minute=i) for i in range(100)]
    lines = plain(timeline_text("en", list(reversed(events)), ZONE)).split("\n")
    assert lines[0] == "(40 earlier entries not shown)"
    assert len(lines) == TIMELINE_MAX_LINES + 1
    assert lines[-1].startswith("11:41 WIB")  # 10:02 + 99 minutes
    assert timeline_text("id", [], ZONE) == "Belum ada riwayat."


def test_timeline_of_long_names_fits_one_message() -> None:
    events = [
        make_event(EventKind.ASSIGNED.value, {"to": "x" * 500, "agency": "y" * 500}, event_id=i)
        for i in range(60)
    ]
    events = [dataclasses.replace(e, actor_name="z" * 500) for e in events]
    shown = plain(timeline_text("id", events, ZONE))
    assert "sebelumnya tidak ditampilkan" in shown


# --- the open list ---


def test_open_list_empty_and_lines() -> None:
    assert plain(open_list_text("id", [], ZONE, T0)) == "✅ Tidak ada kejadian terbuka."
    assert plain(open_list_text("en", [], ZONE, T0)) == "✅ No open incidents."
    views = [
        make_view(),
        make_view(
            make_incident(
                id=13,
                severity=Severity.CRITICAL,
                type=IncidentType.FLOOD,
                location=Location(-2.21, 113.92, None),
                created_at=T0 - timedelta(hours=3, minutes=4),
            ),
            responses=[make_response(1, ResponseStatus.ON_SCENE, incident_id=13)],
        ),
    ]
    now = T0 + timedelta(minutes=12)
    indonesian = plain(open_list_text("id", views, ZONE, now)).split("\n")
    assert indonesian[1].startswith("🟠 #12 🔥 Kebakaran · 12 mnt · ")
    assert indonesian[1].endswith(
        " · Dilaporkan, menunggu konfirmasi · Jl. Tjilik Riwut km 5, dekat masjid"
    )
    assert indonesian[2].startswith("🔴 #13 🌊 Banjir · 3 j 16 mnt · Petugas di lokasi · -2.2100")
    english = plain(open_list_text("en", views, ZONE, now)).split("\n")
    assert english[1].startswith("🟠 #12 🔥 Fire · 12 min · Reported")
    old = make_view(make_incident(created_at=T0 - timedelta(days=2, hours=5)))
    assert "2 d 5 h" in plain(open_list_text("en", [old], ZONE, T0))


def test_open_list_is_capped() -> None:
    views = [
        make_view(make_incident(id=i, location=Location(None, None, "<&" * 300)))
        for i in range(1, 46)
    ]
    lines = plain(open_list_text("en", views, ZONE, T0)).split("\n")
    assert lines[0] == "📋 Open incidents: 45"
    assert sum(1 for line in lines if line.startswith("🟠 #")) == 30
    assert "… and 15 more" in lines
    assert lines[1].endswith(" · " + "<&" * 19 + "<…")  # long addresses are shortened


# --- the reporter and the small texts ---


@pytest.mark.parametrize("language", LANGUAGES)
def test_reporter_confirmation(language: Language) -> None:
    routed = plain(reporter_confirmation(language, 12, ["Damkar", "<Relawan & co>"], False))
    assert "#12" in routed
    assert "<Relawan & co>" in routed
    assert "112" in routed.rsplit("\n", 1)[-1]
    fallback = plain(reporter_confirmation(language, 12, [], True))
    assert "dispatcher" in fallback
    assert "112" in fallback.rsplit("\n", 1)[-1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_reporter_updates(language: Language) -> None:
    for kind in ("acknowledged", "en_route", "resolved", "cancelled", "merged"):
        assert "#12" in plain(reporter_update(language, 12, kind))
    assert "<Damkar>" in plain(reporter_update(language, 12, "acknowledged", by="<Damkar>"))
    assert "<Damkar>" in plain(reporter_update(language, 12, "en_route", by="<Damkar>"))
    merged = plain(reporter_update(language, 12, "merged", other=7))
    assert "#7" in merged
    cancelled = reporter_update(language, 12, "cancelled", reason=CancelReason.FALSE_ALARM)
    assert ("False alarm" if language == "en" else "Laporan palsu") in plain(cancelled)
    with pytest.raises(ValueError, match="no reporter update"):
        reporter_update(language, 12, "exploded")


@pytest.mark.parametrize("language", LANGUAGES)
def test_notes_and_toasts(language: Language) -> None:
    nobody = plain(routed_to_nobody_text(language, make_view()))
    assert "#12" in nobody
    assert ("Fire" if language == "en" else "Kebakaran") in nobody
    unreachable = plain(assignee_unreachable_text(language, HOSTILE_NAME))
    assert HOSTILE_NAME in unreachable
    assert "Start" in unreachable
    toast = already_acknowledged_text(language, "A&B <" + "x" * 500, T0, ZONE)
    assert len(toast) <= 200
    assert "A&B <" in toast  # toasts are plain text: nothing escaped
    short_toast = already_acknowledged_text(language, "Andi", T0, ZONE)
    assert "Andi" in short_toast
    assert "10.02 WIB" in short_toast or "10:02 WIB" in short_toast
    for toast in (illegal_transition_text(language), incident_closed_text(language)):
        assert 0 < len(toast) <= 200
        assert "<" not in toast
    assert "#12" in plain(not_found_text(language, 12))


@given(st.text(max_size=200))
def test_lengths_are_counted_as_telegram_counts_them(text: str) -> None:
    assert utf16_length(text) == sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def test_an_unrouted_call_offers_to_be_taken_over_until_someone_owns_it() -> None:
    unrouted = make_view(make_incident(), [])
    assert actions(card_markup("id", unrouted, None)) == [
        [ButtonAction.TAKE_OWNERSHIP],
        [ButtonAction.ASK_REPORTER, ButtonAction.MANAGE],
    ]
    owned = make_view(
        dataclasses.replace(
            make_incident(), owner_id=701, owner_name="Dita", owned_at=make_incident().created_at
        ),
        [],
    )
    assert [ButtonAction.TAKE_OWNERSHIP] not in actions(card_markup("id", owned, None))
    assert "🙋 Diambil alih oleh Dita" in plain(card_text("id", owned, ZONE, show_phone=True))
    # An agency's copy never offers it.
    assert [ButtonAction.TAKE_OWNERSHIP] not in actions(card_markup("id", make_view(), 1))


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=64))
def test_a_keyboard_in_a_payload_is_what_ptb_would_send(label: str, data: str) -> None:
    """The outbox's payloads carry keyboards built without PTB's generic `to_dict` walk; they
    must be exactly what it gives, for every kind of button the bot makes or could make."""
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=data),
                InlineKeyboardButton(label, url="https://t.me/c/1/2"),
            ],
            [InlineKeyboardButton(label, web_app=WebAppInfo("https://siaga112.example.org/"))],
            [InlineKeyboardButton(label, copy_text=CopyTextButton(data))],
            [InlineKeyboardButton(label, switch_inline_query=data, api_kwargs={"x": 1})],
        ]
    )
    assert keyboard_payload(markup) == markup.to_dict()
    for status in ResponseStatus:
        view = make_view(responses=[make_response(1, status), make_response(2)])
        for language in LANGUAGES:
            for agency_id in (1, None):
                markup = card_markup(language, view, agency_id)
                assert markup is not None
                keyboard = InlineKeyboardMarkup.de_json(markup, None)
                assert keyboard_payload(keyboard) == keyboard.to_dict() == markup


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_s_markup_is_its_keyboard_as_the_bot_api_takes_it(language: Language) -> None:
    """The publisher sends `card_markup`, made without python-telegram-bot's objects: PTB reads
    it back unchanged, on every copy of a card in every state (none on a closed one)."""
    hinted = dataclasses.replace(make_view(responses=[]), similar_to=Hint(11, Basis.PINS, 350, 4))
    closed = make_view(dataclasses.replace(make_incident(), lifecycle=Lifecycle.RESOLVED))
    views = [
        *(
            make_view(responses=[make_response(1, status), make_response(2)])
            for status in ResponseStatus
        ),
        make_view(responses=[]),  # routed to no agency: 🙋 take it over
        hinted,  # 🔗 merge into #11, ✖️ not a duplicate
        closed,
    ]
    for view in views:
        for agency_id in (1, 2, None):
            markup = card_markup(language, view, agency_id)
            if view is closed:
                assert markup is None
            else:
                assert markup is not None
                keyboard = InlineKeyboardMarkup.de_json(markup, None)
                assert markup == keyboard.to_dict() == keyboard_payload(markup)
                assert all_buttons(markup) == all_buttons(keyboard)
