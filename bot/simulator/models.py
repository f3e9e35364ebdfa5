"""The simulated world's records: people, chats, messages, presses, API calls, events, stats."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup"]
BotStatus = Literal["member", "administrator", "left", "kicked"]
EventKind = Literal[
    "user_message", "bot_message", "bot_edit", "bot_delete", "press", "answer", "service"
]
# The message fields holding a file, in the order Telegram's clients name a message's kind.
MEDIA_FIELDS = ("photo", "video", "audio", "voice", "video_note", "document")
# The media Telegram lets carry a caption (a video note never has one).
CAPTIONED_MEDIA = frozenset({"photo", "video", "audio", "voice", "document"})


class ApiError(Exception):
    """A Telegram error answer: HTTP status = error_code, Telegram's exact description."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: dict[str, Any] | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


@dataclass(eq=False)
class SimUser:
    """A person. `started`: has sent /start to the bot; `blocked`: has blocked it."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False
    blocked: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class SimChat:
    """A private chat (id = the user's id), a group or a supergroup, as the bot knows it."""

    id: int
    type: ChatType
    title: str | None = None
    is_forum: bool = False
    member_ids: list[int] = field(default_factory=list)
    bot_status: BotStatus = "left"
    admin_ids: set[int] = field(default_factory=set)
    creator_id: int | None = None
    user_id: int | None = None
    username: str | None = None
    migrated_to: int | None = None
    topics: dict[int, str] = field(default_factory=dict)
    # Pinned messages, the most recent last (a group may pin many; getChat shows the last).
    pinned_ids: list[int] = field(default_factory=list)
    # The reply keyboard a person currently sees under the input field (None: normal keyboard).
    reply_keyboard: dict[str, Any] | None = None
    bot_ever_member: bool = False

    @property
    def pinned_message_id(self) -> int | None:
        return self.pinned_ids[-1] if self.pinned_ids else None

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    @property
    def bot_is_member(self) -> bool:
        return self.bot_status in ("member", "administrator")


@dataclass(eq=False)
class SimMessage:
    """A message as the chat shows it now (edits applied). `text` is what a person sees."""

    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    sender: SimUser | None
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: list[dict[str, Any]] | None = None
    document: dict[str, Any] | None = None
    voice: dict[str, Any] | None = None
    video: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    video_note: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    venue: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    edit_date: int | None = None
    media_group_id: str | None = None
    parse_mode: str | None = None
    show_caption_above_media: bool = False
    has_protected_content: bool = False
    # Service fields (new_chat_members, pinned_message, migrate_to_chat_id, ...) as Telegram JSON.
    service: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    # A person's forwarded copy of a bot message: Telegram keeps its inline keyboard, and a press
    # on it reaches the bot with this copy as the query's message.
    forward_origin: dict[str, Any] | None = None

    @property
    def is_service(self) -> bool:
        return bool(self.service)

    @property
    def media_kind(self) -> str | None:
        """The field holding the message's file ("photo", "voice", ...), None without one."""
        return next((kind for kind in MEDIA_FIELDS if getattr(self, kind) is not None), None)

    @property
    def can_have_caption(self) -> bool:
        return self.media_kind in CAPTIONED_MEDIA

    @property
    def buttons(self) -> list[list[str]]:
        """Rows of button labels of the inline or reply keyboard attached to the message."""
        rows = _keyboard_rows(self.reply_markup)
        return [[b if isinstance(b, str) else str(b.get("text", "")) for b in row] for row in rows]

    @property
    def button_data(self) -> list[list[str | None]]:
        """Rows of callback_data of the inline keyboard (None for buttons without one)."""
        rows = _keyboard_rows(self.reply_markup)
        return [
            [None if isinstance(b, str) else b.get("callback_data") for b in row] for row in rows
        ]

    @property
    def visible_text(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")


def _keyboard_rows(markup: dict[str, Any] | None) -> list[list[Any]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [list(row) for row in rows]


@dataclass(eq=False)
class SimCallbackQuery:
    """A press of an inline button; `answered`, `answer_text`, `show_alert` follow the answer."""

    id: str
    user: SimUser
    message: SimMessage
    data: str | None
    chat_instance: str
    answered: bool = False
    answers: int = 0  # answerCallbackQuery calls that Telegram accepted or refused
    answer_text: str | None = None
    show_alert: bool = False
    answer_url: str | None = None


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made and how the simulator answered it."""

    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    description: str | None
    at: float


@dataclass(frozen=True)
class SimEvent:
    """One line of a transcript: who did what where."""

    kind: EventKind
    chat: SimChat
    actor: str
    text: str
    buttons: list[list[str]]
    at: float


@dataclass
class SimStats:
    """Counters a test or benchmark can assert on."""

    requests: int = 0
    too_many_requests: int = 0
    limit_violations: int = 0
    sends_by_chat: Counter[int] = field(default_factory=Counter)
    errors_by_code: Counter[int] = field(default_factory=Counter)
    internal_errors: int = 0
