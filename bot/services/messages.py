"""Building outbox messages: the one place that knows the payload of a text message."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, TelegramObject

from models.outbox import OutgoingMessage, Priority, SendMethod

NO_KEYBOARD: dict[str, object] = {"inline_keyboard": []}
_BUTTON_FIELDS = InlineKeyboardButton.__slots__


# A keyboard as the Bot API takes it (`reply_markup`), made directly by the renderers of what is
# re-rendered on every change (`bot.render.cards.card_markup`).
Markup = dict[str, object]


def keyboard_payload(markup: InlineKeyboardMarkup | Markup) -> Markup:
    """What `markup.to_dict()` gives, built directly: PTB's generic walk over every object's
    attributes cost more than a card's text to render (`tests/test_cards.py` checks both agree).
    A keyboard made as the Bot API's already is that."""
    if isinstance(markup, dict):
        return markup
    return {"inline_keyboard": [[_button(b) for b in row] for row in markup.inline_keyboard]}


def _button(button: InlineKeyboardButton) -> dict[str, Any]:
    if button.api_kwargs:
        return button.to_dict()
    fields: dict[str, Any] = {}
    for name in _BUTTON_FIELDS:
        value = getattr(button, name)
        if value is not None:
            fields[name] = value.to_dict() if isinstance(value, TelegramObject) else value
    return fields


def text_message(
    chat_id: int,
    text: str,
    *,
    priority: Priority = Priority.NOTICE,
    keyboard: InlineKeyboardMarkup | Markup | None = None,
    thread_id: int | None = None,
    ref: str | None = None,
    reply_to: str | None = None,
    fallback: OutgoingMessage | None = None,
    remove_reply_keyboard: bool = False,
    quiet: bool = False,
    protect: bool = False,
) -> OutgoingMessage:
    """A sendMessage in HTML, optionally remembered under `ref` for later edits, optionally a
    reply to the message remembered under `reply_to`; `remove_reply_keyboard` takes away the
    keyboard a conversation put under the person's text field; `quiet` arrives without a sound
    (`disable_notification`: routine news, confirmations); `protect` may not be forwarded or
    saved (`protect_content`: a reporter's phone number is on it)."""
    payload: dict[str, object] = {"text": text, "parse_mode": "HTML"}
    if keyboard is not None:
        payload["reply_markup"] = keyboard_payload(keyboard)
    elif remove_reply_keyboard:
        payload["reply_markup"] = {"remove_keyboard": True}
    if thread_id is not None:
        payload["message_thread_id"] = thread_id
    if quiet:
        payload["disable_notification"] = True
    if protect:
        payload["protect_content"] = True
    return OutgoingMessage(
        chat_id,
        SendMethod.SEND_MESSAGE,
        payload,
        priority,
        ref=ref,
        target_ref=reply_to,
        fallback=fallback,
    )


def edit_message(
    chat_id: int,
    ref: str,
    text: str,
    keyboard: InlineKeyboardMarkup | Markup | None,
    *,
    priority: Priority = Priority.URGENT,
) -> OutgoingMessage:
    """Replace the text and buttons of the message sent under `ref` (no buttons: removes them)."""
    payload: dict[str, object] = {
        "text": text,
        "parse_mode": "HTML",
        "reply_markup": keyboard_payload(keyboard) if keyboard is not None else NO_KEYBOARD,
    }
    return OutgoingMessage(chat_id, SendMethod.EDIT_MESSAGE_TEXT, payload, priority, target_ref=ref)
