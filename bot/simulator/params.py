"""Decoding Bot API request parameters the way Telegram accepts them.

Parameters come from the query string, a form-urlencoded or multipart body (values are strings;
PTB JSON-encodes every non-string value) or a JSON body (values already typed). Getters coerce
per parameter, so a text "123" stays a string while chat_id "123" becomes an int.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.simulator.models import bad_request

_JSON_KEYS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "menu_button",
    }
)
_INT_KEYS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "reply_to_message_id",
        "live_period",
        "cache_time",
        "duration",
        "width",
        "height",
        "length",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    name: str
    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed access to one request's parameters; errors are Telegram's 400 answers."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str, *, required: bool = False) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        """A JSON-valued parameter (object or array); None when absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat parameter (chat_id, from_chat_id) as an int, or an @username string."""
        value = self.values.get(name)
        if isinstance(value, str) and value.strip().startswith("@"):
            return value.strip()
        chat_id = self.get_int(name, required=True)
        assert chat_id is not None
        return chat_id

    def decoded(self) -> dict[str, Any]:
        """A readable copy for the call log: JSON and int parameters decoded, files summarised."""
        out: dict[str, Any] = {}
        for key, value in self.values.items():
            if isinstance(value, str) and key in _JSON_KEYS:
                try:
                    out[key] = json.loads(value)
                except json.JSONDecodeError:
                    out[key] = value
            elif isinstance(value, str) and key in _INT_KEYS:
                try:
                    out[key] = int(value)
                except ValueError:
                    out[key] = value
            else:
                out[key] = value
        for key, upload in self.files.items():
            out[key] = f"<upload {upload.filename} {len(upload.data)} bytes>"
        return out
