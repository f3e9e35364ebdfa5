"""Broadcast texts and keyboards: the alert as recipients see it, the composer's questions, the
sender's status message, the delivery report and the lists. Pure functions of the data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import (
    AlertButton,
    Button,
    ButtonAction,
    ComposeChoice,
    ComposeStep,
    StopBroadcast,
)
from bot.i18n import N_, Html, escape, format_time, t
from bot.render.cards import short
from models.agencies import Agency
from models.broadcast import (
    Broadcast,
    BroadcastStatus,
    Counts,
    Delivery,
    DeliveryState,
    TargetKind,
    Urgency,
)

AGENCIES_PER_PAGE = 10
NAMES_SHOWN = 25  # chats named in one list of a report; the rest are counted
CONFIRMERS_SHOWN = 8
NAME_MAX = 30
ERROR_MAX = 80


def _button(label: str, payload: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=payload.encode())


def urgency_label(language: str, urgency: Urgency) -> str:
    return t(language, urgency.label_key)


def alert_text(language: str, broadcast: Broadcast, confirmed_by: Sequence[str] = ()) -> str:
    """The alert exactly as a recipient sees it (the preview shows the same)."""
    lines = [
        t(
            language,
            "broadcast.heading",
            emoji=broadcast.urgency.emoji,
            urgency=urgency_label(language, broadcast.urgency).upper(),
            number=broadcast.id,
        ),
        "",
        escape(broadcast.text.strip()),
        "",
        t(language, "broadcast.signed", sender=short(broadcast.sender_name, 64)),
    ]
    if confirmed_by:
        lines.append(t(language, "broadcast.confirmed_by", names=_names(confirmed_by)))
    return "\n".join(lines)


def resend_text(language: str, broadcast: Broadcast) -> str:
    """The emergency alert again, to a chat where nobody pressed Received."""
    return t(language, "broadcast.resend_heading") + "\n\n" + alert_text(language, broadcast)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(short(name, NAME_MAX) for name in names[:CONFIRMERS_SHOWN])
    more = len(names) - CONFIRMERS_SHOWN
    return shown if more <= 0 else f"{shown} +{more}"


def received_keyboard(language: str, broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    t(language, "broadcast.button.received"),
                    AlertButton(ButtonAction.BC_RECEIVED, broadcast_id),
                )
            ]
        ]
    )


# --- composing ---


def _discard_row(language: str, draft_id: int) -> list[InlineKeyboardButton]:
    return [
        _button(
            t(language, "broadcast.button.discard"), ComposeStep(ButtonAction.BC_DISCARD, draft_id)
        )
    ]


def text_question(language: str) -> str:
    return t(language, "broadcast.ask.text")


def urgency_question(language: str, draft: Broadcast) -> tuple[str, InlineKeyboardMarkup]:
    attached = []
    if draft.photo_file_id:
        attached.append(t(language, "broadcast.attached.photo"))
    if draft.has_location:
        attached.append(t(language, "broadcast.attached.location"))
    text = t(language, "broadcast.ask.urgency")
    if attached:
        text = t(language, "broadcast.attached", items=", ".join(attached)) + "\n\n" + text
    rows = [
        [
            _button(
                f"{urgency.emoji} {urgency_label(language, urgency)}",
                ComposeChoice(ButtonAction.BC_URGENCY, draft.id, index),
            )
        ]
        for index, urgency in enumerate(Urgency)
    ]
    return text, InlineKeyboardMarkup([*rows, _discard_row(language, draft.id)])


def targets_question(language: str, draft: Broadcast) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [
            _button(
                t(language, kind.label_key), ComposeChoice(ButtonAction.BC_TARGET, draft.id, index)
            )
        ]
        for index, kind in enumerate(TargetKind)
    ]
    return t(language, "broadcast.ask.targets"), InlineKeyboardMarkup(
        [*rows, _discard_row(language, draft.id)]
    )


def page_of(agencies: Sequence[Agency], agency_id: int) -> int:
    """The picker page showing this agency (the first page if it is not listed)."""
    ids = [agency.id for agency in agencies]
    return ids.index(agency_id) // AGENCIES_PER_PAGE if agency_id in ids else 0


def agencies_question(
    language: str, draft: Broadcast, agencies: Sequence[Agency], page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    """The multi-select, a page at a time: a city may have more agencies than fit one keyboard."""
    chosen = set(draft.agency_ids)
    pages = max(1, math.ceil(len(agencies) / AGENCIES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = agencies[page * AGENCIES_PER_PAGE : (page + 1) * AGENCIES_PER_PAGE]
    rows = [
        [
            _button(
                ("☑️ " if agency.id in chosen else "⬜ ") + short(agency.name, 40),
                ComposeChoice(ButtonAction.BC_AGENCY, draft.id, agency.id),
            )
        ]
        for agency in shown
    ]
    if pages > 1:
        rows.append(
            [
                _button(
                    "◀️", ComposeChoice(ButtonAction.BC_AGENCY_PAGE, draft.id, (page - 1) % pages)
                ),
                _button(
                    f"{page + 1}/{pages}",
                    ComposeChoice(ButtonAction.BC_AGENCY_PAGE, draft.id, page),
                ),
                _button(
                    "▶️", ComposeChoice(ButtonAction.BC_AGENCY_PAGE, draft.id, (page + 1) % pages)
                ),
            ]
        )
    done = t(language, "broadcast.button.agencies_done", count=len(chosen))
    rows.append([_button(done, ComposeStep(ButtonAction.BC_AGENCIES_DONE, draft.id))])
    rows.append(_discard_row(language, draft.id))
    return t(language, "broadcast.ask.agencies"), InlineKeyboardMarkup(rows)


def preview_intro(language: str) -> str:
    return t(language, "broadcast.preview_intro")


def confirm_text(language: str, labels: Sequence[str]) -> str:
    """Under the preview: how many chats it goes to, and which."""
    return t(
        language,
        "broadcast.confirm",
        count=len(labels),
        chats=Html(_listed(language, [escape(short(label, 40)) for label in labels])),
    )


def confirm_keyboard(language: str, draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    t(language, "broadcast.button.send"),
                    ComposeStep(ButtonAction.BC_SEND, draft_id),
                )
            ],
            [
                _button(
                    t(language, "broadcast.button.retarget"),
                    ComposeStep(ButtonAction.BC_RETARGET, draft_id),
                ),
                _button(
                    t(language, "broadcast.button.discard"),
                    ComposeStep(ButtonAction.BC_DISCARD, draft_id),
                ),
            ],
        ]
    )


def no_recipients_keyboard(language: str, draft_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    t(language, "broadcast.button.retarget"),
                    ComposeStep(ButtonAction.BC_RETARGET, draft_id),
                )
            ],
            _discard_row(language, draft_id),
        ]
    )


def _listed(language: str, items: Sequence[str]) -> str:
    shown = ", ".join(items[:NAMES_SHOWN])
    more = len(items) - NAMES_SHOWN
    return shown if more <= 0 else shown + " " + t(language, "broadcast.and_more", count=more)


# --- following it ---


def _title(language: str, broadcast: Broadcast) -> str:
    return t(
        language,
        "broadcast.title",
        emoji=broadcast.urgency.emoji,
        number=broadcast.id,
        status=t(language, broadcast.status.label_key),
    )


def status_text(language: str, broadcast: Broadcast, counts: Counts) -> str:
    """The sender's one status message, edited as the broadcast goes out."""
    lines = [
        _title(language, broadcast),
        t(
            language,
            "broadcast.status_counts",
            sent=counts.sent,
            total=counts.total,
            pending=counts.pending,
            failed=counts.failed,
        ),
        t(language, "broadcast.status_confirmed", confirmed=counts.confirmed, sent=counts.sent),
    ]
    if counts.dropped:
        lines.append(t(language, "broadcast.status_dropped", dropped=counts.dropped))
    return "\n".join(lines)


def status_keyboard(language: str, broadcast: Broadcast) -> InlineKeyboardMarkup:
    row = [
        _button(
            t(language, "broadcast.button.details"),
            AlertButton(ButtonAction.BC_DETAILS, broadcast.id),
        )
    ]
    if broadcast.status is BroadcastStatus.SENDING:
        row.append(
            _button(
                t(language, "broadcast.button.stop"),
                StopBroadcast(ButtonAction.BC_STOP, broadcast.id, 0),
            )
        )
    return InlineKeyboardMarkup([row])


def stop_confirm_keyboard(language: str, broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(
                    t(language, "broadcast.button.stop_yes"),
                    StopBroadcast(ButtonAction.BC_STOP, broadcast_id, 1),
                ),
                _button(
                    t(language, "broadcast.button.details"),
                    AlertButton(ButtonAction.BC_DETAILS, broadcast_id),
                ),
            ]
        ]
    )


def failure_reason(language: str, error: str | None) -> str:
    """Why Telegram would not take a copy, in words a dispatcher can act on."""
    if not error:
        return t(language, "broadcast.reason.unknown")
    lowered = error.lower()
    if lowered.startswith("forbidden"):
        if "kicked" in lowered or "not a member" in lowered or "removed" in lowered:
            return t(language, "broadcast.reason.removed")
        if "blocked" in lowered:
            return t(language, "broadcast.reason.blocked")
        return t(language, "broadcast.reason.forbidden")
    if "chat not found" in lowered:
        return t(language, "broadcast.reason.not_found")
    return t(language, "broadcast.reason.other", error=short(error, ERROR_MAX))


def _section(
    language: str,
    key: str,
    deliveries: Sequence[Delivery],
    *,
    reasons: bool = False,
    resent: bool = False,
    confirmers: bool = False,
) -> list[str]:
    """A heading with the count, then one line per chat (the first NAMES_SHOWN); nothing when
    there are no such chats."""
    if not deliveries:
        return []
    lines = ["", t(language, key, count=len(deliveries))]
    for delivery in deliveries[:NAMES_SHOWN]:
        line = "• " + escape(short(delivery.label, 40))
        if reasons:
            line += " — " + failure_reason(language, delivery.error)
        if confirmers:
            line += " — " + escape(_names(delivery.confirmed_by))
        if resent and delivery.resent:
            line += " " + t(language, "broadcast.details_resent")
        lines.append(line)
    more = len(deliveries) - NAMES_SHOWN
    if more > 0:
        lines.append(t(language, "broadcast.and_more", count=more))
    return lines


def report_text(language: str, broadcast: Broadcast, deliveries: Sequence[Delivery]) -> str:
    """When nothing is left pending (or it was cancelled): what went, and what did not."""

    def of(state: DeliveryState) -> list[Delivery]:
        return [d for d in deliveries if d.state is state]

    sent, failed, dropped = (
        of(DeliveryState.SENT),
        of(DeliveryState.FAILED),
        of(DeliveryState.DROPPED),
    )
    key = (
        N_("broadcast.report_cancelled")
        if broadcast.status is BroadcastStatus.CANCELLED
        else N_("broadcast.report_heading")
    )
    lines = [
        t(language, key, number=broadcast.id),
        t(language, "broadcast.report_sent", sent=len(sent), total=len(deliveries)),
        *_section(language, N_("broadcast.report_failed"), failed, reasons=True),
        *_section(language, N_("broadcast.report_dropped"), dropped),
    ]
    if broadcast.status is BroadcastStatus.CANCELLED:
        lines += _section(language, N_("broadcast.report_left"), sent)
    if not failed and not dropped:
        lines += ["", t(language, "broadcast.report_all_sent")]
    lines += ["", t(language, "broadcast.report_follow", number=broadcast.id)]
    return "\n".join(lines)


def details_text(
    language: str, broadcast: Broadcast, deliveries: Sequence[Delivery], zone: ZoneInfo
) -> str:
    """Who confirmed and who did not: for the sender and the coordinators."""
    confirmed = [d for d in deliveries if d.confirmed]
    waiting = [d for d in deliveries if d.state is DeliveryState.SENT and not d.confirmed]
    pending = [d for d in deliveries if d.state is DeliveryState.PENDING]
    failed = [d for d in deliveries if d.state is DeliveryState.FAILED]
    dropped = [d for d in deliveries if d.state is DeliveryState.DROPPED]
    lines = [
        _title(language, broadcast),
        t(
            language,
            "broadcast.details_meta",
            sender=broadcast.sender_name,
            when=format_time(broadcast.sent_at or broadcast.created_at, language, zone, "short"),
        ),
        "<i>" + escape(short(broadcast.text, 120)) + "</i>",
        *_section(language, N_("broadcast.details_confirmed"), confirmed, confirmers=True),
        *_section(language, N_("broadcast.details_waiting"), waiting, resent=True),
        *_section(language, N_("broadcast.details_pending"), pending),
        *_section(language, N_("broadcast.report_failed"), failed, reasons=True),
        *_section(language, N_("broadcast.report_dropped"), dropped),
    ]
    return "\n".join(lines)


def list_text(language: str, recent: Sequence[tuple[Broadcast, Counts]], zone: ZoneInfo) -> str:
    """/riwayatsiaran: the recent broadcasts with their confirmation counts."""
    if not recent:
        return t(language, "broadcast.list_empty")
    lines = [t(language, "broadcast.list_heading")]
    for broadcast, counts in recent:
        lines.append(
            t(
                language,
                "broadcast.list_line",
                emoji=broadcast.urgency.emoji,
                number=broadcast.id,
                when=format_time(
                    broadcast.sent_at or broadcast.created_at, language, zone, "short"
                ),
                text=short(broadcast.text, 50),
                status=t(language, broadcast.status.label_key),
                confirmed=counts.confirmed,
                sent=counts.sent,
                total=counts.total,
            )
        )
    lines += ["", t(language, "broadcast.list_hint", number=recent[0][0].id)]
    return "\n".join(lines)
