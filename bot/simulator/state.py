"""The simulated Telegram world and the people in it.

`SimState` holds users, chats, messages, files, the bot's update queue and its commands, renders
them as Bot API JSON, applies group privacy mode when people act, and records what happened
(events, calls, stats). The HTTP side lives in `server.py`, the Bot API methods in `methods.py`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.simulator.entities import (
    detect_user_entities,
    leading_command,
    mentions,
)
from bot.simulator.limits import Faults, RateLimiter
from bot.simulator.models import (
    MEDIA_FIELDS,
    ApiCall,
    ApiError,
    BotStatus,
    EventKind,
    SimCallbackQuery,
    SimChat,
    SimEvent,
    SimMessage,
    SimStats,
    SimUser,
    bad_request,
    forbidden,
)

DEFAULT_TOKEN = "123456789:AAEsimulatorTokenxxxxxxxxxxxxxxxxxx"  # noqa: S105 - fake token
_PHOTO_SIZES = ((90, 67), (320, 240), (800, 600))
# Telegram leaves these out when allowed_updates is empty or was never set.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_manage_topics",
)


@dataclass(frozen=True)
class FileKind:
    """How Telegram stores one kind of file: TDLib's type name (in its errors), the file_id
    prefix (Telegram's ids start with the type's number, base64-encoded) and the folder of its
    file_path."""

    type_name: str
    id_prefix: str
    folder: str


FILE_KINDS: dict[str, FileKind] = {
    "photo": FileKind("Photo", "AgAC", "photos"),
    "document": FileKind("Document", "BQAC", "documents"),
    "voice": FileKind("VoiceNote", "AwAC", "voice"),
    "video": FileKind("Video", "BAAC", "videos"),
    "audio": FileKind("Audio", "CQAC", "music"),
    "video_note": FileKind("VideoNote", "DQAC", "video_notes"),
}


@dataclass(frozen=True)
class StoredFile:
    """A file the bot can fetch with getFile and download from /file/bot<token>/<file_path>.

    `kind` is the message field it was sent as ("photo", "voice", ...); `attributes` are the
    fields of its Bot API object besides ids and size (duration, mime_type, width, ...).
    """

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    kind: str = "document"
    attributes: dict[str, Any] = field(default_factory=dict)

    def media_json(self) -> dict[str, Any]:
        """The file as its Bot API object (PhotoSize, Voice, Video, Audio, VideoNote, Document)."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            **self.attributes,
            "file_size": len(self.data),
        }


class SimState:
    """Everything the simulated Telegram knows, plus the test-facing API for acting as people."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "siaga112_bot",
        bot_first_name: str = "Siaga 112",
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_user_id = int(token.split(":", 1)[0])
        self.clock = clock
        self.wall_clock = wall_clock
        self.privacy_mode = True
        self.strict_html = True
        self.enforce_rate_limits = False
        self.limiter = RateLimiter(clock=lambda: self.clock())
        self.faults = Faults(seed=seed)
        self.stats = SimStats()
        self.calls: list[ApiCall] = []
        self.events: list[SimEvent] = []
        self.notes: list[str] = []
        self.internal_errors: list[str] = []
        # Refusals a test provoked on purpose: (method or None for any, part of the description).
        self.expected_refusals: list[tuple[str | None, str]] = []
        self.webhook_url = ""
        self.allowed_updates: list[str] = []
        self._users: dict[int, SimUser] = {}
        self._chats: dict[int, SimChat] = {}
        self._messages: dict[int, list[SimMessage]] = {}
        self._message_index: dict[tuple[int, int], SimMessage] = {}  # (chat id, message id)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self.first_update_id = 1
        self._next_update_id = self.first_update_id
        # Every update ever issued, in order (the queue forgets confirmed ones), for replays.
        self.issued_updates: list[dict[str, Any]] = []
        # Updates of kinds the bot did not ask for (allowed_updates): Telegram never delivers them.
        self.withheld_update_ids: set[int] = set()
        self._callback_queries: dict[str, SimCallbackQuery] = {}
        self.commands_by_scope: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._returned_bot_messages: dict[int, set[int]] = {}
        self._waiters: set[asyncio.Future[None]] = set()
        self._user_ids = itertools.count(10_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(1_002_000_000_001)
        self._file_numbers = itertools.count(1)
        self._query_numbers = itertools.count(1)
        self.media_group_numbers = itertools.count(1)

    # ---- change notification -------------------------------------------------------------

    def notify_changed(self) -> None:
        """Wake everything awaiting a state change (wait_for, long polls)."""
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_change(self, seconds: float) -> None:
        """Return on the next state change or after `seconds`."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait({waiter}, timeout=max(0.0, seconds))
        finally:
            self._waiters.discard(waiter)

    # ---- JSON rendering ------------------------------------------------------------------

    def now(self) -> int:
        return int(self.wall_clock())

    def bot_user_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_user_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def chat_json(self, chat: SimChat) -> dict[str, Any]:
        if chat.type == "private":
            user = self._users[chat.id]
            data: dict[str, Any] = {"id": chat.id, "type": "private", "first_name": user.first_name}
            if user.last_name:
                data["last_name"] = user.last_name
            if user.username:
                data["username"] = user.username
            return data
        data = {"id": chat.id, "type": chat.type, "title": chat.title}
        if chat.username:
            data["username"] = chat.username
        if chat.is_forum:
            data["is_forum"] = True
        return data

    def chat_full_json(self, chat: SimChat) -> dict[str, Any]:
        data = self.chat_json(chat)
        data.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if chat.is_group:
            data["permissions"] = {"can_send_messages": True, "can_pin_messages": False}
        if chat.pinned_message_id is not None:
            pinned = self.find_message(chat.id, chat.pinned_message_id)
            if pinned is not None:
                data["pinned_message"] = self.message_json(pinned)
        return data

    def message_json(self, msg: SimMessage, *, with_reply: bool = True) -> dict[str, Any]:
        chat = self._chats[msg.chat_id]
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": self.chat_json(chat),
        }
        if msg.from_bot:
            data["from"] = self.bot_user_json()
        elif msg.sender is not None:
            data["from"] = msg.sender.to_json()
        if msg.message_thread_id is not None:
            data["message_thread_id"] = msg.message_thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if msg.reply_to_message_id is not None and with_reply:
            replied = self.find_message(msg.chat_id, msg.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self.message_json(replied, with_reply=False)
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.media_group_id is not None:
            data["media_group_id"] = msg.media_group_id
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.caption is not None:
            data["caption"] = msg.caption
            if msg.caption_entities:
                data["caption_entities"] = msg.caption_entities
            if msg.show_caption_above_media:
                data["show_caption_above_media"] = True
        for key in (*MEDIA_FIELDS, "location", "venue", "contact", "forward_origin"):
            value = getattr(msg, key)
            if value is not None:
                data[key] = value
        if msg.has_protected_content:
            data["has_protected_content"] = True
        # Message.reply_markup only ever carries an inline keyboard.
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        data.update(msg.service)
        return data

    def member_status(self, chat: SimChat, user_id: int) -> str:
        if user_id == self.bot_user_id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id == chat.creator_id and user_id in chat.member_ids:
            return "creator"
        if user_id in chat.admin_ids and user_id in chat.member_ids:
            return "administrator"
        return "member" if user_id in chat.member_ids else "left"

    def chat_member_json(
        self, chat: SimChat, user_id: int, status: str | None = None
    ) -> dict[str, Any]:
        if user_id == self.bot_user_id:
            user_json = self.bot_user_json()
        else:
            user_json = self._users[user_id].to_json()
        status = status or self.member_status(chat, user_id)
        data: dict[str, Any] = {"status": status, "user": user_json}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            data.update(can_be_edited=False, is_anonymous=False, can_promote_members=False)
            data.update(dict.fromkeys(_ADMIN_RIGHTS, True))
        elif status == "kicked":
            data["until_date"] = 0
        return data

    # ---- lookup helpers --------------------------------------------------------------------

    def user(self, user_id: int) -> SimUser:
        return self._users[user_id]

    def chat(self, chat_id: int) -> SimChat:
        return self._chats[chat_id]

    def find_message(self, chat_id: int, message_id: int) -> SimMessage | None:
        msg = self._message_index.get((chat_id, message_id))
        return None if msg is None or msg.deleted else msg

    def resolve_chat(self, ref: int | str) -> SimChat:
        """The chat behind a chat_id (an int or @username), or Telegram's 'chat not found'."""
        if isinstance(ref, str):
            name = ref.lstrip("@").lower()
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == name:
                    return chat
            raise bad_request("chat not found")
        found = self._chats.get(ref)
        if found is None and ref in self._users:
            found = self.private_chat(self._users[ref])
        if found is None:
            raise bad_request("chat not found")
        return found

    def writable_chat(self, ref: int | str) -> SimChat:
        """The chat if the bot may post there now, else Telegram's 400/403 answer."""
        chat = self.resolve_chat(ref)
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.type == "private":
            user = self._users[chat.id]
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return chat
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if chat.bot_status == "left":
            if not chat.bot_ever_member:
                raise bad_request("chat not found")
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    # ---- storing messages and updates --------------------------------------------------------

    def new_message(
        self, chat: SimChat, *, from_bot: bool, sender: SimUser | None, **fields: Any
    ) -> SimMessage:
        counter = self._message_ids.setdefault(chat.id, itertools.count(1))
        msg = SimMessage(
            message_id=next(counter),
            chat_id=chat.id,
            date=self.now(),
            from_bot=from_bot,
            sender=sender,
            **fields,
        )
        self._messages.setdefault(chat.id, []).append(msg)
        self._message_index[chat.id, msg.message_id] = msg
        return msg

    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self.issued_updates.append(self._updates[-1])
        self.notify_changed()
        return update_id

    def _deliver_message(self, chat: SimChat, msg: SimMessage) -> bool:
        """Enqueue a `message` update if the bot may see `msg` (privacy mode); say whether."""
        if chat.is_group and not chat.bot_is_member:
            return False
        if chat.is_group and not self._bot_sees_in_group(chat, msg):
            return False
        self.enqueue_update("message", self.message_json(msg))
        return True

    def _bot_sees_in_group(self, chat: SimChat, msg: SimMessage) -> bool:
        if chat.bot_status == "administrator" or not self.privacy_mode or msg.is_service:
            return True
        text = msg.visible_text
        command = leading_command(text)
        if command is not None and (
            command[1] is None or command[1].lower() == self.bot_username.lower()
        ):
            return True
        if msg.reply_to_message_id is not None:
            replied = self.find_message(chat.id, msg.reply_to_message_id)
            if replied is not None and replied.from_bot:
                return True
        return any(name.lower() == self.bot_username.lower() for name in mentions(text))

    def log_event(
        self,
        kind: EventKind,
        chat: SimChat,
        actor: str,
        text: str,
        buttons: list[list[str]] | None = None,
    ) -> None:
        self.events.append(SimEvent(kind, chat, actor, text, buttons or [], self.clock()))

    def record_call(self, call: ApiCall) -> None:
        self.calls.append(call)
        self.notify_changed()

    # ---- files ---------------------------------------------------------------------------------

    def register_file(
        self,
        data: bytes,
        kind: str,
        extension: str,
        attributes: dict[str, Any] | None = None,
    ) -> StoredFile:
        """Store a file of `kind` (a message media field) so getFile and downloads find it."""
        number = next(self._file_numbers)
        spec = FILE_KINDS[kind]
        stored = StoredFile(
            file_id=f"{spec.id_prefix}AgSIM{number:08d}",
            file_unique_id=f"AgADsim{number:06d}",
            file_path=f"{spec.folder}/file_{number}.{extension}",
            data=data,
            kind=kind,
            attributes=dict(attributes or {}),
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def file_by_path(self, path: str) -> StoredFile | None:
        return self._files_by_path.get(path)

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """Telegram's PhotoSize array: a few sizes of one picture, smallest first."""
        return [
            self.register_file(data, "photo", "jpg", {"width": w, "height": h}).media_json()
            for w, h in _PHOTO_SIZES
        ]

    def document_json(self, data: bytes, file_name: str, mime_type: str) -> dict[str, Any]:
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        attributes = {"file_name": file_name, "mime_type": mime_type}
        return self.register_file(data, "document", extension, attributes).media_json()

    def voice_json(
        self, data: bytes, duration: int, mime_type: str = "audio/ogg"
    ) -> dict[str, Any]:
        """A Voice: a voice note recorded in the app (Opus in Ogg)."""
        attributes = {"duration": duration, "mime_type": mime_type}
        return self.register_file(data, "voice", "oga", attributes).media_json()

    def video_json(
        self,
        data: bytes,
        duration: int,
        width: int,
        height: int,
        mime_type: str = "video/mp4",
        file_name: str | None = None,
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {"duration": duration, "width": width, "height": height}
        if file_name:
            attributes["file_name"] = file_name
        attributes["mime_type"] = mime_type
        return self.register_file(data, "video", "mp4", attributes).media_json()

    def audio_json(
        self,
        data: bytes,
        duration: int,
        mime_type: str = "audio/mpeg",
        file_name: str | None = None,
        title: str | None = None,
        performer: str | None = None,
    ) -> dict[str, Any]:
        """An Audio: a music file the apps play in their player (not a voice note)."""
        attributes: dict[str, Any] = {"duration": duration}
        for key, value in (("file_name", file_name), ("title", title), ("performer", performer)):
            if value:
                attributes[key] = value
        attributes["mime_type"] = mime_type
        extension = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "mp3"
        return self.register_file(data, "audio", extension, attributes).media_json()

    def video_note_json(self, data: bytes, duration: int, length: int) -> dict[str, Any]:
        """A VideoNote: a round video message; it has a length (diameter), no mime_type."""
        attributes = {"length": length, "duration": duration}
        return self.register_file(data, "video_note", "mp4", attributes).media_json()

    # ---- updates queue (getUpdates) -----------------------------------------------------------

    @property
    def updates_pending(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    @property
    def last_update_id(self) -> int | None:
        """The highest update id issued so far (None before the first update)."""
        issued = self._next_update_id - 1
        return issued if issued >= self.first_update_id else None

    def confirm_updates(self, offset: int | None) -> None:
        if offset is None:
            return
        before = len(self._updates)
        if offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        else:
            self._updates = deque(u for u in self._updates if u["update_id"] >= offset)
        if len(self._updates) != before:
            self.notify_changed()

    def select_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        allowed = set(self.allowed_updates)
        kept: deque[dict[str, Any]] = deque()
        for update in self._updates:
            kind = next((k for k in update if k != "update_id"), "")
            if (kind in allowed) if allowed else (kind not in _OPT_IN_UPDATES):
                kept.append(update)
            else:
                self.withheld_update_ids.add(update["update_id"])
        if len(kept) != len(self._updates):
            self.notify_changed()
        self._updates = kept  # updates of types the bot does not want are never delivered
        return [u for u in kept if offset is None or offset < 0 or u["update_id"] >= offset][:limit]

    def drop_pending_updates(self) -> None:
        self._updates.clear()
        self.notify_changed()

    def inject_update(self, raw: dict[str, Any]) -> int:
        """Enqueue an arbitrary (possibly malformed) update; assigns update_id when missing."""
        update = dict(raw)
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            update_id = self._next_update_id
            update["update_id"] = update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._updates.append(update)
        self.issued_updates.append(update)
        self.notify_changed()
        return update_id

    # ---- commands -------------------------------------------------------------------------------

    def my_commands(
        self, scope: dict[str, Any] | str = "default", language_code: str = ""
    ) -> list[dict[str, str]]:
        """The bot's commands for a scope (a type name or a BotCommandScope dict) and language."""
        return list(self.commands_by_scope.get((scope_key(scope), language_code), []))

    # ---- people and chats (test API) ------------------------------------------------------------

    def add_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        user = SimUser(next(self._user_ids), first_name, last_name, username, language_code)
        self._users[user.id] = user
        self.notify_changed()
        return user

    def private_chat(self, user: SimUser) -> SimChat:
        chat = self._chats.get(user.id)
        if chat is None:
            chat = SimChat(
                id=user.id,
                type="private",
                user_id=user.id,
                bot_status="member",
                member_ids=[user.id],
            )
            self._chats[user.id] = chat
        return chat

    def add_group(
        self,
        title: str,
        members: Iterable[SimUser] = (),
        supergroup: bool = False,
        forum: bool = False,
        *,
        admins: Iterable[SimUser] = (),
        username: str | None = None,
    ) -> SimChat:
        """A group without the bot; the first member is its creator. Use add_bot_to_group next."""
        member_list = list(members)
        if forum and not supergroup:
            raise ValueError("only supergroups can be forums")
        chat_id = -next(self._supergroup_ids) if supergroup else -next(self._group_ids)
        chat = SimChat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            is_forum=forum,
            member_ids=[u.id for u in member_list],
            admin_ids={u.id for u in admins},
            creator_id=member_list[0].id if member_list else None,
            username=username,
        )
        self._chats[chat_id] = chat
        self.notify_changed()
        return chat

    def _require_group(self, chat: SimChat) -> None:
        if not chat.is_group:
            raise ValueError(f"chat {chat.id} is not a group")
        if chat.migrated_to is not None:
            raise ValueError(f"group {chat.id} was migrated to {chat.migrated_to}")

    def add_service_message(
        self, chat: SimChat, by: SimUser | None, fields: dict[str, Any], description: str
    ) -> SimMessage:
        msg = self.new_message(chat, from_bot=by is None, sender=by, service=fields)
        actor = by.display_name if by is not None else "bot"
        self.log_event("service", chat, actor, description)
        return msg

    def add_member(self, chat: SimChat, user: SimUser, by: SimUser | None = None) -> SimMessage:
        """`user` joins (or is added by `by`); the bot sees the new_chat_members message."""
        self._require_group(chat)
        old = self.member_status(chat, user.id)
        if user.id not in chat.member_ids:
            chat.member_ids.append(user.id)
        self._member_changed(chat, user, old, by)
        msg = self.add_service_message(
            chat,
            by or user,
            {"new_chat_members": [user.to_json()], "new_chat_member": user.to_json()},
            f"{user.display_name} joined",
        )
        self._deliver_message(chat, msg)
        self.notify_changed()
        return msg

    def remove_member(self, chat: SimChat, user: SimUser, by: SimUser | None = None) -> SimMessage:
        """`user` leaves (or is removed by `by`); the bot sees the left_chat_member message."""
        self._require_group(chat)
        old = self.member_status(chat, user.id)
        if user.id in chat.member_ids:
            chat.member_ids.remove(user.id)
        chat.admin_ids.discard(user.id)
        self._member_changed(chat, user, old, by, kicked=by is not None and by is not user)
        msg = self.add_service_message(
            chat, by or user, {"left_chat_member": user.to_json()}, f"{user.display_name} left"
        )
        self._deliver_message(chat, msg)
        self.notify_changed()
        return msg

    def leave_silently(self, chat: SimChat, user: SimUser) -> None:
        """`user` leaves while nobody sees a service message (large groups hide them, or the
        bot was not there): only a `chat_member` update tells, and only an admin bot gets it."""
        self._require_group(chat)
        old = self.member_status(chat, user.id)
        if user.id in chat.member_ids:
            chat.member_ids.remove(user.id)
        chat.admin_ids.discard(user.id)
        self._member_changed(chat, user, old, None)
        self.notify_changed()

    def _member_changed(
        self, chat: SimChat, user: SimUser, old: str, by: SimUser | None, *, kicked: bool = False
    ) -> None:
        """A `chat_member` update: Telegram sends it only to a bot that is an administrator of
        the chat (and only when the bot asked for it in allowed_updates)."""
        if chat.bot_status != "administrator":
            return
        new = "kicked" if kicked else self.member_status(chat, user.id)
        if new == old:
            return
        self.enqueue_update(
            "chat_member",
            {
                "chat": self.chat_json(chat),
                "from": (by or user).to_json(),
                "date": self.now(),
                "old_chat_member": self.chat_member_json(chat, user.id, old),
                "new_chat_member": self.chat_member_json(chat, user.id, new),
            },
        )

    def promote(self, chat: SimChat, user: SimUser, admin: bool = True) -> None:
        """Make a member an administrator of the group (or take it back)."""
        self._require_group(chat)
        if admin:
            chat.admin_ids.add(user.id)
        else:
            chat.admin_ids.discard(user.id)
        self.notify_changed()

    def set_bot_status(self, chat: SimChat, status: BotStatus, by: SimUser | None) -> None:
        """Change the bot's membership and tell it with my_chat_member (by None: the bot itself)."""
        old = chat.bot_status
        chat.bot_status = status
        if status in ("member", "administrator"):
            chat.bot_ever_member = True
        self.enqueue_update(
            "my_chat_member",
            {
                "chat": self.chat_json(chat),
                "from": by.to_json() if by is not None else self.bot_user_json(),
                "date": self.now(),
                "old_chat_member": self.chat_member_json(chat, self.bot_user_id, old),
                "new_chat_member": self.chat_member_json(chat, self.bot_user_id, status),
            },
        )

    def add_bot_to_group(self, chat: SimChat, by: SimUser, admin: bool = False) -> SimMessage:
        """`by` adds the bot: my_chat_member, then the new_chat_members service message."""
        self._require_group(chat)
        self.set_bot_status(chat, "administrator" if admin else "member", by)
        msg = self.add_service_message(
            chat,
            by,
            {"new_chat_members": [self.bot_user_json()], "new_chat_member": self.bot_user_json()},
            f"{by.display_name} added {self.bot_first_name}",
        )
        self._deliver_message(chat, msg)
        self.notify_changed()
        return msg

    def set_bot_admin(self, chat: SimChat, admin: bool, by: SimUser) -> None:
        """Promote the bot to administrator (or demote it): a my_chat_member update."""
        self._require_group(chat)
        if not chat.bot_is_member:
            raise ValueError("the bot is not in this group")
        self.set_bot_status(chat, "administrator" if admin else "member", by)
        self.notify_changed()

    def remove_bot_from_group(self, chat: SimChat, by: SimUser) -> None:
        """`by` removes the bot: my_chat_member (kicked); later sends answer 403."""
        self._require_group(chat)
        self.set_bot_status(chat, "kicked", by)
        self.add_service_message(
            chat,
            by,
            {"left_chat_member": self.bot_user_json()},
            f"{by.display_name} removed {self.bot_first_name}",
        )
        self.notify_changed()

    def migrate_to_supergroup(self, chat: SimChat) -> SimChat:
        """Upgrade a group: a new -100… chat; the old id answers 'upgraded' with its new id."""
        self._require_group(chat)
        if chat.type != "group":
            raise ValueError("only basic groups migrate")
        new = SimChat(
            id=-next(self._supergroup_ids),
            type="supergroup",
            title=chat.title,
            member_ids=list(chat.member_ids),
            bot_status=chat.bot_status,
            admin_ids=set(chat.admin_ids),
            creator_id=chat.creator_id,
            bot_ever_member=chat.bot_ever_member,
        )
        self._chats[new.id] = new
        creator = self._users.get(chat.creator_id) if chat.creator_id is not None else None
        old_msg = self.add_service_message(
            chat, creator, {"migrate_to_chat_id": new.id}, f"upgraded to supergroup {new.id}"
        )
        self._deliver_message(chat, old_msg)
        chat.migrated_to = new.id
        new_msg = self.add_service_message(
            new, creator, {"migrate_from_chat_id": chat.id}, f"upgraded from group {chat.id}"
        )
        self._deliver_message(new, new_msg)
        self.notify_changed()
        return new

    def create_topic(self, chat: SimChat, name: str, by: SimUser | None = None) -> int:
        """Open a forum topic; its id is the id of its forum_topic_created service message."""
        self._require_group(chat)
        if not chat.is_forum:
            raise ValueError("topics exist only in forum supergroups")
        creator = by or (self._users.get(chat.creator_id) if chat.creator_id else None)
        msg = self.add_service_message(
            chat,
            creator,
            {"forum_topic_created": {"name": name, "icon_color": 7322096}},
            f"topic {name!r} created",
        )
        msg.message_thread_id = msg.message_id
        chat.topics[msg.message_id] = name
        self._deliver_message(chat, msg)
        self.notify_changed()
        return msg.message_id

    def block_bot(self, user: SimUser) -> None:
        """The user blocks the bot: sends to them now answer 403."""
        if not user.blocked:
            user.blocked = True
            self.set_bot_status(self.private_chat(user), "kicked", user)
        self.notify_changed()

    def unblock_bot(self, user: SimUser) -> None:
        if user.blocked:
            user.blocked = False
            self.set_bot_status(self.private_chat(user), "member", user)
        self.notify_changed()

    # ---- acting as people ---------------------------------------------------------------------

    def _chat_for_person(self, user: SimUser, chat: SimChat | None) -> SimChat:
        if chat is None:
            return self.private_chat(user)
        if chat.is_group:
            self._require_group(chat)
            if user.id not in chat.member_ids:
                raise ValueError(f"{user.display_name} is not a member of {chat.title}")
        return chat

    def _post(
        self,
        user: SimUser,
        chat: SimChat | None,
        *,
        reply_to: SimMessage | int | None = None,
        thread_id: int | None = None,
        summary: str,
        **fields: Any,
    ) -> SimMessage:
        target = self._chat_for_person(user, chat)
        if target.type == "private":
            if user.blocked:
                raise ValueError(f"{user.display_name} blocked the bot; send /start to restart it")
            # Writing to the bot at all opens the private chat, so the bot may answer from now on.
            user.started = True
        reply_id = reply_to.message_id if isinstance(reply_to, SimMessage) else reply_to
        if reply_id is not None and self.find_message(target.id, reply_id) is None:
            raise ValueError(f"no message {reply_id} in chat {target.id}")
        if thread_id is not None and target.is_forum and thread_id not in target.topics:
            raise ValueError(f"no topic {thread_id} in chat {target.id}")
        if target.reply_keyboard and target.reply_keyboard.get("one_time_keyboard"):
            target.reply_keyboard = None
        msg = self.new_message(
            target,
            from_bot=False,
            sender=user,
            reply_to_message_id=reply_id,
            message_thread_id=thread_id,
            **fields,
        )
        self.log_event("user_message", target, user.display_name, summary)
        self._deliver_message(target, msg)
        self.notify_changed()
        return msg

    async def send_message(
        self,
        user: SimUser,
        text: str,
        chat: SimChat | None = None,
        reply_to: SimMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SimMessage:
        """`user` writes `text` (chat None: their private chat with the bot).

        Any private message lets the bot write to the person; /start also restarts a blocked bot.
        """
        command = leading_command(text)
        if (chat is None or chat.type == "private") and command and command[0] == "start":
            self.unblock_bot(user)
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            thread_id=thread_id,
            summary=text,
            text=text,
            entities=detect_user_entities(text),
        )

    async def send_location(
        self,
        user: SimUser,
        latitude: float,
        longitude: float,
        chat: SimChat | None = None,
        live_period: int | None = None,
        reply_to: SimMessage | int | None = None,
    ) -> SimMessage:
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period is not None:
            location["live_period"] = live_period
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[location {latitude:.5f}, {longitude:.5f}]",
            location=location,
        )

    async def send_venue(
        self,
        user: SimUser,
        latitude: float,
        longitude: float,
        title: str,
        address: str,
        chat: SimChat | None = None,
    ) -> SimMessage:
        location = {"latitude": latitude, "longitude": longitude}
        return self._post(
            user,
            chat,
            summary=f"[venue {title}, {address}]",
            location=location,
            venue={"location": location, "title": title, "address": address},
        )

    async def send_contact(
        self,
        user: SimUser,
        phone_number: str,
        chat: SimChat | None = None,
        first_name: str | None = None,
        user_id: int | None = None,
    ) -> SimMessage:
        """Share a contact; by default the person's own (as a request_contact button does)."""
        own = first_name is None and user_id is None
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
        }
        if own and user.last_name:
            contact["last_name"] = user.last_name
        contact_user_id = user.id if own else user_id
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._post(user, chat, summary=f"[contact {phone_number}]", contact=contact)

    async def send_photo(
        self,
        user: SimUser,
        caption: str | None = None,
        chat: SimChat | None = None,
        media_group_id: str | None = None,
        data: bytes = b"\xff\xd8\xff\xe0simulated-jpeg",
        reply_to: SimMessage | int | None = None,
    ) -> SimMessage:
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[photo] {caption or ''}".strip(),
            photo=self.photo_sizes(data),
            caption=caption,
            caption_entities=detect_user_entities(caption) if caption else [],
            media_group_id=media_group_id,
        )

    async def send_document(
        self,
        user: SimUser,
        file_name: str,
        mime_type: str,
        data: bytes = b"",
        chat: SimChat | None = None,
        caption: str | None = None,
        reply_to: SimMessage | int | None = None,
    ) -> SimMessage:
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[document {file_name}] {caption or ''}".strip(),
            document=self.document_json(data, file_name, mime_type),
            caption=caption,
            caption_entities=detect_user_entities(caption) if caption else [],
        )

    async def send_voice(
        self,
        user: SimUser,
        chat: SimChat | None = None,
        duration: int = 3,
        caption: str | None = None,
        reply_to: SimMessage | int | None = None,
        data: bytes = b"OggS\x00simulated-voice",
    ) -> SimMessage:
        """`user` records a voice note. Without a caption a group bot in privacy mode sees it
        only as a reply to one of its messages."""
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[voice {duration}s] {caption or ''}".strip(),
            voice=self.voice_json(data, duration),
            caption=caption,
            caption_entities=detect_user_entities(caption) if caption else [],
        )

    async def send_video(
        self,
        user: SimUser,
        chat: SimChat | None = None,
        duration: int = 5,
        caption: str | None = None,
        reply_to: SimMessage | int | None = None,
        data: bytes = b"\x00\x00\x00\x18ftypmp42simulated-video",
        width: int = 720,
        height: int = 1280,
    ) -> SimMessage:
        """`user` sends a video (portrait, as a phone records it by default)."""
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[video {duration}s] {caption or ''}".strip(),
            video=self.video_json(data, duration, width, height),
            caption=caption,
            caption_entities=detect_user_entities(caption) if caption else [],
        )

    async def send_audio(
        self,
        user: SimUser,
        chat: SimChat | None = None,
        duration: int = 30,
        caption: str | None = None,
        reply_to: SimMessage | int | None = None,
        data: bytes = b"ID3simulated-mp3",
        file_name: str = "rekaman.mp3",
        mime_type: str = "audio/mpeg",
        title: str | None = None,
        performer: str | None = None,
    ) -> SimMessage:
        """`user` sends an audio file (shown in the music player, unlike a voice note)."""
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[audio {file_name}] {caption or ''}".strip(),
            audio=self.audio_json(data, duration, mime_type, file_name, title, performer),
            caption=caption,
            caption_entities=detect_user_entities(caption) if caption else [],
        )

    async def send_video_note(
        self,
        user: SimUser,
        chat: SimChat | None = None,
        duration: int = 4,
        reply_to: SimMessage | int | None = None,
        data: bytes = b"\x00\x00\x00\x18ftypmp42simulated-round-video",
        length: int = 384,
    ) -> SimMessage:
        """`user` records a round video message; video notes never carry a caption."""
        return self._post(
            user,
            chat,
            reply_to=reply_to,
            summary=f"[video note {duration}s]",
            video_note=self.video_note_json(data, duration, length),
        )

    def _press(
        self,
        user: SimUser,
        message: SimMessage,
        data: str | None,
        label: str,
        *,
        inaccessible: bool = False,
    ) -> SimCallbackQuery:
        current = self.find_message(message.chat_id, message.message_id)
        if current is None and inaccessible:
            current = message  # a modified client pressing on a message that is gone
        if current is None:
            raise ValueError(f"message {message.message_id} no longer exists")
        if not current.from_bot and not _forwarded_from_bot(current, self.bot_user_id):
            raise ValueError(
                "only the bot's messages (and forwarded copies) carry callback buttons"
            )
        chat = self._chats[current.chat_id]
        if chat.is_group and user.id not in chat.member_ids:
            raise ValueError(f"{user.display_name} is not a member of {chat.title}")
        query = SimCallbackQuery(
            id=str(4_382_000_000_000_000 + next(self._query_numbers)),
            user=user,
            message=current,
            data=data,
            chat_instance=str(abs(chat.id) * 31 + 7),
        )
        self._callback_queries[query.id] = query
        # Telegram leaves the message's content out (an InaccessibleMessage, date 0) when the
        # message was deleted or is too old for the bot to be shown.
        shown = (
            {"chat": self.chat_json(chat), "message_id": current.message_id, "date": 0}
            if inaccessible
            else self.message_json(current)
        )
        payload: dict[str, Any] = {
            "id": query.id,
            "from": user.to_json(),
            "message": shown,
            "chat_instance": query.chat_instance,
        }
        if data is not None:
            payload["data"] = data
        self.log_event("press", chat, user.display_name, label)
        self.enqueue_update("callback_query", payload)
        return query

    async def press_button(
        self,
        user: SimUser,
        message: SimMessage,
        text: str | None = None,
        callback_data: str | None = None,
    ) -> SimCallbackQuery:
        """Press the inline button labelled `text` (or carrying `callback_data`) on `message`."""
        current = self.find_message(message.chat_id, message.message_id)
        if current is None:
            raise ValueError(f"message {message.message_id} no longer exists")
        keyboard = (current.reply_markup or {}).get("inline_keyboard") or []
        for row in keyboard:
            for button in row:
                if (text is not None and button.get("text") == text) or (
                    callback_data is not None and button.get("callback_data") == callback_data
                ):
                    if "callback_data" not in button:
                        raise ValueError(f"button {button.get('text')!r} has no callback_data")
                    return self._press(user, current, button["callback_data"], button["text"])
        raise ValueError(
            f"no button {text or callback_data!r} on message {message.message_id}: "
            f"{current.buttons}"
        )

    async def press_raw(
        self, user: SimUser, message: SimMessage, data: str, *, inaccessible: bool = False
    ) -> SimCallbackQuery:
        """A press with any callback data on `message`, as a modified client can send: data that
        is on none of its buttons, on a message that was deleted, or (`inaccessible`) with the
        message's content left out as Telegram does for old messages."""
        return self._press(user, message, data, f"[raw] {data}", inaccessible=inaccessible)

    async def forward_message(
        self, user: SimUser, message: SimMessage, chat: SimChat | None = None
    ) -> SimMessage:
        """`user` forwards `message` (the bot's) to `chat` (None: their private chat with the
        bot). The copy keeps the text, media and inline keyboard; pressing its buttons reaches
        the bot with the copy, not the original, as the query's message."""
        original = self.find_message(message.chat_id, message.message_id)
        if original is None:
            raise ValueError(f"message {message.message_id} no longer exists")
        origin = (
            {"type": "user", "sender_user": self.bot_user_json(), "date": original.date}
            if original.from_bot
            else original.forward_origin
        )
        if original.has_protected_content:
            raise ValueError(f"message {message.message_id} has protected content")
        target = self._chat_for_person(user, chat)
        if target.type == "private":
            user.started = True
        copy = self.new_message(
            target,
            from_bot=False,
            sender=user,
            text=original.text,
            html=original.html,
            entities=list(original.entities),
            caption=original.caption,
            caption_entities=list(original.caption_entities),
            location=original.location,
            venue=original.venue,
            contact=original.contact,
            reply_markup=original.reply_markup,
            forward_origin=origin,
            **{kind: getattr(original, kind) for kind in MEDIA_FIELDS},
        )
        self.log_event(
            "user_message", target, user.display_name, f"[forwarded] {copy.visible_text}"
        )
        self._deliver_message(target, copy)
        self.notify_changed()
        return copy

    # ---- refusals ------------------------------------------------------------------------------

    def expect_refusal(self, description: str, method: str | None = None) -> None:
        """A test provokes this refusal on purpose (a person blocked the bot, deleted a card…):
        `unexpected_refusals` leaves answers whose description contains `description` out."""
        self.expected_refusals.append((method, description.lower()))

    def unexpected_refusals(self) -> list[ApiCall]:
        """Requests Telegram refused (4xx other than 429) that no test said it expected. A
        getUpdates 409 is the answer to a long poll a restarted bot left behind, not a fault."""
        refused = []
        for call in self.calls:
            if call.ok or call.error_code is None or not 400 <= call.error_code < 500:
                continue
            if call.error_code == 429 or (call.method == "getUpdates" and call.error_code == 409):
                continue
            description = (call.description or "").lower()
            if any(
                (method is None or method.lower() == call.method.lower()) and part in description
                for method, part in self.expected_refusals
            ):
                continue
            refused.append(call)
        return refused

    def callback_query(self, query_id: str) -> SimCallbackQuery | None:
        return self._callback_queries.get(query_id)

    # ---- observing ----------------------------------------------------------------------------

    def messages(self, chat: SimChat) -> list[SimMessage]:
        """The chat as it shows now: edits applied, deleted messages gone, oldest first."""
        return [m for m in self._messages.get(chat.id, []) if not m.deleted]

    def bot_messages(self, chat: SimChat) -> list[SimMessage]:
        return [m for m in self.messages(chat) if m.from_bot and not m.is_service]

    def users(self) -> list[SimUser]:
        return list(self._users.values())

    def chats(self) -> list[SimChat]:
        return list(self._chats.values())


def _forwarded_from_bot(message: SimMessage, bot_user_id: int) -> bool:
    origin = message.forward_origin or {}
    sender = origin.get("sender_user") or {}
    return bool(sender.get("id") == bot_user_id)


def scope_key(scope: dict[str, Any] | str | None) -> str:
    """A BotCommandScope as a dictionary key: its type plus chat/user ids when it has them."""
    if scope is None:
        return "default"
    if isinstance(scope, str):
        return scope
    parts = [str(scope.get("type", "default"))]
    for key in ("chat_id", "user_id"):
        if key in scope:
            parts.append(f"{key}={scope[key]}")
    return ":".join(parts)


def require(condition: bool, error: ApiError) -> None:
    if not condition:
        raise error
