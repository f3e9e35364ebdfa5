"""Broadcast texts and keyboards without Telegram: long lists stay within one message, every
button's data fits and decodes with the largest ids, and refusals read as reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.callbacks import MAX_BYTES, decode
from bot.render.broadcast import (
    agencies_question,
    alert_text,
    confirm_keyboard,
    details_text,
    failure_reason,
    received_keyboard,
    report_text,
    resend_text,
    status_keyboard,
    stop_confirm_keyboard,
    targets_question,
    urgency_question,
)
from bot.render.cards import plain_length
from models.agencies import Agency, AgencyKind
from models.broadcast import (
    TEXT_MAX,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryState,
    TextProblem,
    Urgency,
    check_text,
)

ZONE = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
BIG = 2**63 - 1
TELEGRAM_TEXT_MAX = 4096


def broadcast(**changes: object) -> Broadcast:
    values: dict[str, object] = {
        "id": 7,
        "sender_id": 1,
        "sender_name": "Dita",
        "text": "Banjir di Jl. Mahir Mahar.",
        "urgency": Urgency.WARNING,
        "target_kind": None,
        "agency_ids": (),
        "latitude": None,
        "longitude": None,
        "status": BroadcastStatus.SENT,
        "created_at": NOW,
        "sent_at": NOW,
        "cancelled_at": None,
    }
    values.update(changes)
    return Broadcast(**values)  # type: ignore[arg-type]


def delivery(n: int, state: DeliveryState, **changes: object) -> Delivery:
    values: dict[str, object] = {
        "chat_id": -n,
        "label": f"Grup relawan kecamatan nomor {n} dengan nama yang sangat panjang sekali",
        "agency_id": n,
        "user_id": None,
        "state": state,
        "error": "Forbidden: bot was kicked from the group chat",
    }
    values.update(changes)
    return Delivery(**values)  # type: ignore[arg-type]


def test_text_must_be_there_and_fit() -> None:
    assert check_text("  \n ") is TextProblem.EMPTY
    assert check_text("x" * (TEXT_MAX + 1)) is TextProblem.TOO_LONG
    assert check_text("  " + "x" * TEXT_MAX + "  ") is None  # spaces around do not count
    assert check_text("Awas asap") is None
    assert check_text("🔥" * (TEXT_MAX // 2 + 1)) is TextProblem.TOO_LONG, "emoji count two"


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_longest_alert_with_many_confirmers_fits_one_message(language: str) -> None:
    names = [f"Petugas dengan nama yang sangat panjang sekali nomor {n}" for n in range(300)]
    for body in ("<&>" * (TEXT_MAX // 3), "🔥" * (TEXT_MAX // 2)):
        assert check_text(body) is None
        longest = broadcast(text=body, sender_name="N" * 129)
        text = alert_text(language, longest, names)
        assert plain_length(text) <= TELEGRAM_TEXT_MAX
        assert plain_length(resend_text(language, longest)) <= TELEGRAM_TEXT_MAX
    assert "&lt;&amp;&gt;" in alert_text(language, broadcast(text="<&>")), "user text is escaped"


@pytest.mark.parametrize("language", ["id", "en"])
def test_reports_of_300_chats_fit_one_message(language: str) -> None:
    deliveries = [delivery(n, DeliveryState.FAILED) for n in range(150)]
    deliveries += [delivery(n, DeliveryState.DROPPED) for n in range(150, 300)]
    cancelled = broadcast(status=BroadcastStatus.CANCELLED)
    report = report_text(language, cancelled, deliveries)
    assert plain_length(report) <= TELEGRAM_TEXT_MAX
    assert "125" in report, "the chats not named are counted"
    confirmed = [
        delivery(n, DeliveryState.SENT, confirmed_by=tuple(f"Orang {k}" for k in range(20)))
        for n in range(300)
    ]
    details = details_text(language, broadcast(), confirmed, ZONE)
    assert plain_length(details) <= TELEGRAM_TEXT_MAX


@pytest.mark.parametrize(
    ("error", "words"),
    [
        ("Forbidden: bot was kicked from the group chat", "dikeluarkan"),
        ("Forbidden: bot was blocked by the user", "memblokir"),
        ("Forbidden: bot can't initiate conversation with a user", "menolak"),
        ("BadRequest: Chat not found", "tidak ditemukan"),
        ("BadRequest: message is too long", "message is too long"),
        (None, "tidak diketahui"),
    ],
)
def test_refusals_read_as_reasons(error: str | None, words: str) -> None:
    assert words in failure_reason("id", error)


def test_every_button_fits_and_decodes_with_the_largest_ids() -> None:
    draft = broadcast(id=BIG, status=BroadcastStatus.DRAFT, agency_ids=(BIG,))
    sending = broadcast(id=BIG, status=BroadcastStatus.SENDING)
    agency = Agency(BIG, "damkar", "Damkar", AgencyKind.AGENCY, -1, None, True, True, NOW)
    keyboards = [
        urgency_question("id", draft)[1],
        targets_question("id", draft)[1],
        agencies_question("id", draft, [agency])[1],
        agencies_question("id", draft, [agency] * 25, page=2)[1],  # with the pager
        confirm_keyboard("id", BIG),
        received_keyboard("id", BIG),
        status_keyboard("id", sending),
        stop_confirm_keyboard("id", BIG),
    ]
    count = 0
    for keyboard in keyboards:
        for row in keyboard.inline_keyboard:
            for button in row:
                assert button.callback_data is not None
                data = str(button.callback_data)
                assert len(data.encode()) <= MAX_BYTES
                decoded = decode(data)
                assert decoded is not None and getattr(decoded, decoded.WIRE[0]) == BIG
                count += 1
    assert count >= 25
