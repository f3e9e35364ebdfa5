"""The guided report's questions, corrections and review card."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.callbacks import ButtonAction, ReportChoice, ReportStep
from bot.i18n import N_, Html, format_clock, t
from bot.render.organisation import type_label
from bot.settings import Language
from models.incident_types import IncidentType
from models.incidents import Hurt
from models.report import FIELDS, MAX_PHOTOS, Mode, Prompt, Step

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove

HURT_KEYS = {
    Hurt.NONE: N_("report.hurt_none"),
    Hurt.YES: N_("report.hurt_yes"),
    Hurt.UNKNOWN: N_("report.hurt_unknown"),
}


def skip_label(language: Language) -> str:
    """The reply-keyboard button that skips sharing a phone number (its text comes back)."""
    return t(language, "report.skip_contact")


def _cancel_row(language: Language) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(
            t(language, "report.cancel_button"),
            callback_data=ReportStep(ButtonAction.REPORT_CANCEL).encode(),
        )
    ]


def type_keyboard(language: Language) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            type_label(language, kind),
            callback_data=ReportChoice(ButtonAction.REPORT_TYPE, index).encode(),
        )
        for index, kind in enumerate(IncidentType)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*rows, _cancel_row(language)])


def question(language: Language, prompt: Prompt) -> tuple[str, Markup | None]:
    """The question of the prompt's step, with its keyboard."""
    step, mode = prompt.step, prompt.mode
    if step is Step.TYPE:
        key = N_("report.ask_type_call") if mode is Mode.CALL else N_("report.ask_type")
        return t(language, key), type_keyboard(language)
    if step is Step.LOCATION:
        if mode is Mode.CALL:
            return t(language, "report.ask_location_call"), ReplyKeyboardRemove()
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(t(language, "report.send_location"), request_location=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        return t(language, "report.ask_location"), keyboard
    if step is Step.LOCATION_FAR:
        far_keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(language, "report.far_ok"),
                        callback_data=ReportChoice(ButtonAction.REPORT_FAR_OK, 1).encode(),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t(language, "report.far_again"),
                        callback_data=ReportChoice(ButtonAction.REPORT_FAR_OK, 0).encode(),
                    )
                ],
                _cancel_row(language),
            ]
        )
        return t(language, "report.ask_far"), far_keyboard
    if step is Step.DESCRIPTION:
        photos = len(prompt.data.get("photos", []))
        if photos and "description" in prompt.data:
            done = InlineKeyboardButton(
                t(language, "report.photos_done"),
                callback_data=ReportStep(ButtonAction.REPORT_PHOTOS_DONE).encode(),
            )
            return t(
                language, "report.ask_more_photos", count=photos, max=MAX_PHOTOS
            ), InlineKeyboardMarkup([[done], _cancel_row(language)])
        key = (
            N_("report.ask_description_call") if mode is Mode.CALL else N_("report.ask_description")
        )
        return t(language, key, max=MAX_PHOTOS), ReplyKeyboardRemove()
    if step is Step.HURT:
        buttons = [
            InlineKeyboardButton(
                t(language, HURT_KEYS[hurt]),
                callback_data=ReportChoice(ButtonAction.REPORT_HURT, index).encode(),
            )
            for index, hurt in enumerate(Hurt)
        ]
        return t(language, "report.ask_hurt"), InlineKeyboardMarkup(
            [buttons, _cancel_row(language)]
        )
    if step is Step.HURT_COUNT:
        unknown = InlineKeyboardButton(
            t(language, "report.hurt_count_unknown"),
            callback_data=ReportChoice(ButtonAction.REPORT_HURT, -1).encode(),
        )
        return t(language, "report.ask_hurt_count"), InlineKeyboardMarkup(
            [[unknown], _cancel_row(language)]
        )
    if step is Step.CONTACT:
        keyboard = ReplyKeyboardMarkup(
            [
                [KeyboardButton(t(language, "report.share_contact"), request_contact=True)],
                [KeyboardButton(skip_label(language))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        return t(language, "report.ask_contact"), keyboard
    if step is Step.PHONE:
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(skip_label(language))]], resize_keyboard=True, one_time_keyboard=True
        )
        return t(language, "report.ask_phone"), keyboard
    if step is Step.CALLER_NAME:
        keyboard = ReplyKeyboardMarkup(
            [[KeyboardButton(skip_label(language))]], resize_keyboard=True, one_time_keyboard=True
        )
        return t(language, "report.ask_caller_name"), keyboard
    if step is Step.REVIEW:
        return review_text(language, prompt.mode, prompt.data), review_keyboard(
            language, prompt.mode
        )
    raise ValueError(step)


def review_text(language: Language, mode: Mode, data: dict[str, Any]) -> str:
    lines = [t(language, "report.review_title")]
    kind = IncidentType(data["type"])
    lines.append(t(language, "report.review_type", type=Html(type_label(language, kind))))
    where = data.get("address") or ""
    if data.get("latitude") is not None:
        point = f"{data['latitude']:.5f}, {data['longitude']:.5f}"
        where = f"{where} ({point})" if where else point
    lines.append(t(language, "report.review_location", location=where))
    lines.append(
        t(
            language,
            "report.review_description",
            description=_short(str(data.get("description", "")), 1500),
        )
    )
    photos = len(data.get("photos", []))
    if photos:
        lines.append(t(language, "report.review_photos", count=photos))
    if mode is Mode.REPORT or "hurt" in data:
        hurt = Hurt(data.get("hurt", Hurt.UNKNOWN.value))
        hurt_text = t(language, HURT_KEYS[hurt])
        if hurt is Hurt.YES and data.get("hurt_count"):
            hurt_text += f" ({data['hurt_count']})"
        lines.append(t(language, "report.review_hurt", hurt=hurt_text))
    phone = data.get("phone")
    lines.append(
        t(language, "report.review_phone", phone=phone)
        if phone
        else t(language, "report.review_no_phone")
    )
    if mode is Mode.CALL:
        caller = data.get("caller_name")
        lines.append(
            t(language, "report.review_caller", name=caller)
            if caller
            else t(language, "report.review_no_caller")
        )
    lines.append("")
    lines.append(t(language, "report.review_hint"))
    return "\n".join(lines)


def review_keyboard(language: Language, mode: Mode) -> InlineKeyboardMarkup:
    submit = InlineKeyboardButton(
        t(language, "report.submit"), callback_data=ReportStep(ButtonAction.REPORT_SUBMIT).encode()
    )
    edits = [
        InlineKeyboardButton(
            t(language, "report.edit", field=t(language, field.label_key)),
            callback_data=ReportChoice(ButtonAction.REPORT_EDIT, index).encode(),
        )
        for index, field in enumerate(FIELDS[mode])
    ]
    rows = [[submit], *[edits[i : i + 2] for i in range(0, len(edits), 2)], _cancel_row(language)]
    return InlineKeyboardMarkup(rows)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_text(language: Language, prompt: Prompt) -> str | None:
    """The correction or notice to show before the question, if any."""
    if prompt.problem is not None:
        return t(language, prompt.problem.value)
    if prompt.notice is not None:
        return t(language, prompt.notice.value, **prompt.notice_params)
    return None


def limited_text(language: Language, until: datetime, zone: ZoneInfo) -> str:
    return t(language, "report.limited", at=format_clock(until, language, zone))


def cancelled_text(language: Language) -> str:
    return t(language, "report.cancelled")


def expired_text(language: Language) -> str:
    return t(language, "report.expired")


def already_running_text(language: Language) -> str:
    return t(language, "report.already_running")


def no_draft_text(language: Language) -> str:
    return t(language, "report.nothing_to_cancel")


def open_private_for_report(
    language: Language, bot_username: str
) -> tuple[str, InlineKeyboardMarkup]:
    url = f"https://t.me/{bot_username}?start=report"
    button = InlineKeyboardButton(t(language, "report.open_private"), url=url)
    return t(language, "report.use_private"), InlineKeyboardMarkup([[button]])


def call_created_text(
    language: Language, incident_id: int, agencies: list[str], fallback: bool
) -> str:
    if fallback:
        return t(language, "report.call_created_fallback", number=incident_id)
    return t(language, "report.call_created", number=incident_id, agencies=", ".join(agencies))
