"""Texts and keyboards of the information that comes after a report: the question a reporter
gets, the answer or addition posted under every card, notes, what the asker is told, the lines
on the card (how much came in, what is still missing, the latest note), and the asker's picker.

The reporter only ever sees the agency that asks, never the asker's own account; groups see the
reporter as the card shows them. All user text enters escaped and bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import AddChoice, AskChoice, ButtonAction, NoteButton, QuickAnswer
from bot.i18n import N_, Html, escape, format_clock, t
from bot.render.cards import MEDIA_KINDS, NAME_MAX, short
from bot.render.organisation import type_label
from bot.settings import Language
from models.incidents import IncidentView
from models.info import QUESTIONS, Expect, Gap, Info, InfoKind, InfoOutcome, QuickQuestion
from models.missing import gaps

LINE_TEXT_MAX = 160  # an answer or a note quoted on a card or in a list
ASK_BUTTON_MAX = 40


def asker_name(language: Language, agency_name: str | None) -> str:
    """Who asks or notes, as the reporter and the groups see it: an agency, or the operators."""
    return short(agency_name, NAME_MAX) if agency_name else t(language, "info.operators")


def question_text(language: Language, question: Info) -> str:
    """The question itself: a one-tap question's words, or what the asker wrote (escaped)."""
    if question.question_key in QUESTIONS:
        return t(language, QUESTIONS[question.question_key].text_key)
    return escape(question.text)


def answer_label(language: Language, key: str) -> str:
    return t(language, f"answer.{key}")


def _what(language: Language, info: Info, limit: int) -> str:
    """An answer, an addition or a note in a few words: the one-tap answer, the text, and a mark
    for each attachment."""
    parts: list[str] = []
    if info.answer_key is not None:
        parts.append(f"<b>{answer_label(language, info.answer_key)}</b>")
    if info.text:
        parts.append(escape(short(info.text, limit)))
    if info.has_point:
        parts.append(t(language, "info.has_point"))
    if info.photo is not None:
        parts.append(t(language, "info.has_photo"))
    if info.file_kind in MEDIA_KINDS:
        parts.append(t(language, f"info.has_{info.file_kind}"))
    return " · ".join(parts) if parts else t(language, "info.empty")


# --- the reporter ---


def question_for_reporter(
    language: Language, view: IncidentView, question: Info
) -> tuple[str, InlineKeyboardMarkup | None, dict[str, object] | None]:
    """The question as the reporter gets it: the text, one-tap answers (inline) or a reply
    keyboard asking for their location."""
    incident = view.incident
    quick = QUESTIONS.get(question.question_key or "")
    hint_key = N_("info.reporter_hint")
    if quick is not None and quick.expects is Expect.POINT:
        hint_key = N_("info.reporter_hint_point")
    elif quick is not None and quick.expects is Expect.PHOTO:
        hint_key = N_("info.reporter_hint_photo")
    text = "\n".join(
        [
            t(
                language,
                "info.question_to_reporter",
                agency=Html(f"<b>{escape(asker_name(language, question.agency_name))}</b>"),
                id=incident.id,
                type=Html(type_label(language, incident.type)),
            ),
            f"<i>{question_text(language, question)}</i>",
            "",
            t(language, hint_key),
        ]
    )
    if quick is not None and quick.expects is Expect.POINT:
        keyboard: dict[str, object] = {
            "keyboard": [[{"text": t(language, "info.send_location"), "request_location": True}]],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }
        return text, None, keyboard
    if quick is None or not quick.answers:
        return text, None, None
    buttons = [
        InlineKeyboardButton(
            answer_label(language, key),
            callback_data=QuickAnswer(ButtonAction.QUICK_ANSWER, question.id, index).encode(),
        )
        for index, key in enumerate(quick.answers)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return text, InlineKeyboardMarkup(rows), None


def reporter_thanks(language: Language, incident_id: int, agency_name: str | None) -> str:
    return t(
        language,
        "info.reporter_thanks",
        id=incident_id,
        agency=asker_name(language, agency_name),
    )


def addition_offer(
    language: Language, incidents: Sequence[tuple[int, str]], count: int
) -> tuple[str, InlineKeyboardMarkup]:
    """ "Add this to report #12?" with one tap, or a choice among several open reports."""
    if len(incidents) == 1:
        number = incidents[0][0]
        text = t(language, "info.add_offer_one", id=number, count=count)
        buttons = [
            [
                InlineKeyboardButton(
                    t(language, "info.add_yes", id=number),
                    callback_data=AddChoice(ButtonAction.ADD_TO, number).encode(),
                )
            ]
        ]
    else:
        text = t(language, "info.add_offer_many", count=count)
        buttons = [
            [
                InlineKeyboardButton(
                    short(f"#{number} · {label}", ASK_BUTTON_MAX),
                    callback_data=AddChoice(ButtonAction.ADD_TO, number).encode(),
                )
            ]
            for number, label in incidents
        ]
    buttons.append(
        [
            InlineKeyboardButton(
                t(language, "info.add_no"),
                callback_data=AddChoice(ButtonAction.ADD_NOT, 0).encode(),
            )
        ]
    )
    return text, InlineKeyboardMarkup(buttons)


# --- under the card, in every routed chat ---


def posted_text(language: Language, info: Info, question: Info | None) -> str:
    """An answer, an addition or a note, as posted under the card in every routed chat."""
    what = _what(language, info, 900)
    agency = Html(f"<b>{escape(asker_name(language, info.agency_name))}</b>")
    if info.kind is InfoKind.NOTE:
        return t(language, "info.note_posted", agency=agency, id=info.incident_id, text=Html(what))
    if info.kind is InfoKind.ADDITION:
        return t(language, "info.addition_posted", id=info.incident_id, text=Html(what))
    lines = [t(language, "info.answer_posted", agency=agency, id=info.incident_id)]
    if question is not None:
        lines.append(f"❓ <i>{question_text(language, question)}</i>")
    lines.append(f"➡️ {what}")
    return "\n".join(lines)


def erased_text(language: Language, info: Info) -> str:
    """What replaces a reporter's answer or addition once they erased their data."""
    return t(language, "info.erased", id=info.incident_id)


def media_caption(language: Language, info: Info) -> str:
    key = N_("info.media_note") if info.kind is InfoKind.NOTE else N_("info.media_reporter")
    return t(language, key, id=info.incident_id)


def asker_told(language: Language, answer: Info, question: Info) -> str:
    """The asker hears the answer privately."""
    return "\n".join(
        [
            t(language, "info.asker_answered", id=answer.incident_id),
            f"❓ <i>{question_text(language, question)}</i>",
            f"➡️ {_what(language, answer, 900)}",
        ]
    )


# --- the asker ---


def ask_picker(
    language: Language, view: IncidentView, questions: Sequence[QuickQuestion], agency: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The asker's choice: one-tap questions (those for what is missing first) or their own."""
    incident = view.incident
    missing = gaps(incident, view.infos)
    lines = [
        t(
            language,
            "info.ask_title",
            id=incident.id,
            type=Html(type_label(language, incident.type)),
            agency=agency,
        )
    ]
    if missing:
        lines.append(
            t(language, "card.missing", what=", ".join(t(language, g.label_key) for g in missing))
        )
    lines.append("")
    lines.append(t(language, "info.ask_hint"))
    rows = [
        [
            InlineKeyboardButton(
                short(_plain_question(language, q), ASK_BUTTON_MAX),
                callback_data=AskChoice(ButtonAction.ASK_PICK, index).encode(),
            )
        ]
        for index, q in enumerate(questions)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                t(language, "info.ask_cancel"),
                callback_data=AskChoice(ButtonAction.ASK_CANCEL, -1).encode(),
            )
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _plain_question(language: Language, question: QuickQuestion) -> str:
    return t(language, question.text_key)


def note_fills_keyboard(
    language: Language, note_id: int, missing: Sequence[Gap]
) -> InlineKeyboardMarkup | None:
    """Under "note sent": which missing item the note answers, one tap each."""
    if not missing:
        return None
    buttons = [
        InlineKeyboardButton(
            t(language, gap.label_key),
            callback_data=NoteButton(
                ButtonAction.NOTE_FILLS, note_id, list(Gap).index(gap)
            ).encode(),
        )
        for gap in missing
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def note_proposal(language: Language, note_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """Under a reply to a card: make it a note every agency sees, or leave it as chatter."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(language, "info.note_make"),
                    callback_data=NoteButton(ButtonAction.NOTE_CONFIRM, note_id, 0).encode(),
                ),
                InlineKeyboardButton(
                    t(language, "info.note_keep_chatter"),
                    callback_data=NoteButton(ButtonAction.NOTE_DROP, note_id, 0).encode(),
                ),
            ]
        ]
    )
    return t(language, "info.note_proposal"), keyboard


def note_sent_text(language: Language, incident_id: int, chats: int) -> str:
    return t(language, "info.note_sent", id=incident_id, count=chats)


def asked_text(language: Language, incident_id: int, reached: int) -> str:
    return t(language, "info.asked", id=incident_id, count=reached)


def question_undeliverable_text(language: Language, incident_id: int) -> str:
    """The asker hears that the reporter cannot get their question (blocked the bot)."""
    return t(language, "info.undeliverable", id=incident_id)


def caller_link_text(
    language: Language, incident_id: int, url: str, expires: datetime, zone: ZoneInfo
) -> str:
    return t(
        language,
        "info.caller_link",
        id=incident_id,
        url=url,
        until=format_clock(expires, language, zone),
    )


def caller_joined_text(language: Language, incident_id: int) -> str:
    return t(language, "info.caller_joined", id=incident_id)


OUTCOMES = {
    InfoOutcome.NOT_FOUND: N_("info.refused.not_found"),
    InfoOutcome.CLOSED: N_("info.refused.closed"),
    InfoOutcome.NO_REPORTER: N_("info.refused.no_reporter"),
    InfoOutcome.UNREACHABLE: N_("info.refused.unreachable"),
    InfoOutcome.ALREADY_ASKING: N_("info.refused.already_asking"),
    InfoOutcome.TOO_MANY: N_("info.refused.too_many"),
    InfoOutcome.NOT_YOURS: N_("info.refused.not_yours"),
    InfoOutcome.GONE: N_("info.refused.gone"),
    InfoOutcome.EXPIRED: N_("info.refused.expired"),
    InfoOutcome.USED: N_("info.refused.used"),
}


def outcome_text(language: Language, outcome: InfoOutcome, incident_id: int | None = None) -> str:
    """Why asking, answering, a note or a link did not go through."""
    return t(language, OUTCOMES.get(outcome, "info.refused.gone"), id=incident_id or "?")
