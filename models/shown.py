"""What a message of the bot shows, as far as presses and edits need to know.

Telegram does not check that the data of a pressed button belongs to the message it was pressed
on, and it refuses an edit that would change nothing ("message is not modified"). So the bot
keeps, per message it sent, the callback data of its buttons and digests of its text and
keyboard (`Shown`, stored in `bot_messages`), and computes from any send or edit what that call
puts on the message (`Showing`). Pure functions of Telegram's request parameters; no I/O.

Digests, not texts: a card's text carries a reporter's phone, and what is kept here must not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Calls that create a message which may carry an inline keyboard.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendLocation", "sendVenue", "sendContact"}
)
# Calls that change what an existing message shows; the value: the parameter holding its text.
EDIT_METHODS: Mapping[str, str | None] = {
    "editMessageText": "text",
    "editMessageCaption": "caption",
    "editMessageReplyMarkup": None,
}
DELETE_METHOD = "deleteMessage"


@dataclass(frozen=True, slots=True)
class Shown:
    """A message as it shows now. A digest is None when it is not known (a message sent before
    the bot kept them): such a message is never taken to be unchanged."""

    buttons: tuple[str, ...]
    text_digest: str | None = None
    markup_digest: str | None = None
    thread_id: int | None = None
    ref: str | None = None

    def carries(self, data: str) -> bool:
        return data in self.buttons


@dataclass(frozen=True, slots=True)
class Showing:
    """What one send or edit puts on a message. `text_digest` None: the call leaves the text
    as it is (an edit of the keyboard alone)."""

    text_digest: str | None
    markup_digest: str
    buttons: tuple[str, ...]

    def changes(self, shown: Shown | None) -> bool:
        """Whether sending this to a message that shows `shown` changes anything."""
        if shown is None or shown.markup_digest is None:
            return True
        if self.markup_digest != shown.markup_digest:
            return True
        return self.text_digest is not None and self.text_digest != shown.text_digest

    def to_json(self) -> str:
        """As the outbox keeps it with a sent row (`outbox.shows`, read by its triggers)."""
        return json.dumps(
            {"text": self.text_digest, "markup": self.markup_digest, "buttons": self.buttons},
            separators=(",", ":"),
        )

    def applied_to(self, shown: Shown | None) -> Shown:
        """The message after this call."""
        text = self.text_digest
        if text is None and shown is not None:
            text = shown.text_digest
        return Shown(
            self.buttons,
            text,
            self.markup_digest,
            None if shown is None else shown.thread_id,
            None if shown is None else shown.ref,
        )


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def text_digest(text: str | None, parse_mode: str | None) -> str:
    return _digest(f"{(parse_mode or '').lower()}\0{text or ''}")


def inline_keyboard(markup: object) -> list[list[dict[str, Any]]]:
    """The rows of an inline keyboard given as PTB object, dict or JSON text; [] for none
    (an empty keyboard, a reply keyboard or no markup all leave a message without buttons)."""
    if markup is None:
        return []
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    to_dict = getattr(markup, "to_dict", None)
    if callable(to_dict):
        markup = to_dict()
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return []
    kept = [[b for b in row if isinstance(b, dict)] for row in rows if isinstance(row, list)]
    return [row for row in kept if row]


def showing(method: str, params: Mapping[str, Any]) -> Showing | None:
    """What `method` with `params` puts on a message; None for calls that show no message of
    ours (deletions, pins, albums, anything else)."""
    if method in SEND_METHODS:
        text_key: str | None = "text" if method == "sendMessage" else "caption"
    elif method in EDIT_METHODS:
        text_key = EDIT_METHODS[method]
    else:
        return None
    rows = inline_keyboard(params.get("reply_markup"))
    buttons = tuple(
        str(button["callback_data"])
        for row in rows
        for button in row
        if isinstance(button.get("callback_data"), str)
    )
    markup = _digest(json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    text = None
    if text_key is not None:
        value = params.get(text_key)
        text = text_digest(value if isinstance(value, str) else None, _mode(params))
    return Showing(text, markup, buttons)


def _mode(params: Mapping[str, Any]) -> str | None:
    mode = params.get("parse_mode")
    return mode if isinstance(mode, str) else None
