"""The Bot API methods the simulator implements, with Telegram's validation and error answers.

Each method validates everything first, then checks the flood limits, then takes effect, so a
rejected request never leaves a trace in the chat.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Awaitable, Callable
from typing import Any

from bot.simulator.entities import EntityParseError, parse_html, utf16_len
from bot.simulator.limits import retry_after_seconds
from bot.simulator.models import (
    CAPTIONED_MEDIA,
    MEDIA_FIELDS,
    ApiError,
    SimChat,
    SimMessage,
    bad_request,
    forbidden,
)
from bot.simulator.params import Params, UploadedFile
from bot.simulator.state import FILE_KINDS, SimState, StoredFile, scope_key

Handler = Callable[[Params], Awaitable[Any]]


class ConnectionDropped(Exception):
    """The server must close the connection without answering (an outage)."""


_INLINE_BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_ALBUM_TYPES = ("photo", "document", "video", "audio")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_MAX_POLL_SECONDS = 60.0
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class BotApi:
    """Bot API method implementations over a `SimState`."""

    def __init__(self, state: SimState, stopping: Callable[[], bool]) -> None:
        self.state = state
        self.stopping = stopping
        self.poll_generation = 0
        self.profile: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.polls_waiting = 0
        methods: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.log_out,
            "close": self.log_out,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "sendVoice": self.send_voice,
            "sendVideo": self.send_video,
            "sendAudio": self.send_audio,
            "sendVideoNote": self.send_video_note,
            "copyMessage": self.copy_message,
            "sendMediaGroup": self.send_media_group,
            "sendLocation": self.send_location,
            "sendVenue": self.send_venue,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "answerCallbackQuery": self.answer_callback_query,
            "getFile": self.get_file,
            "pinChatMessage": self.pin_chat_message,
            "unpinChatMessage": self.unpin_chat_message,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "sendChatAction": self.send_chat_action,
            "leaveChat": self.leave_chat,
            "sendContact": self.send_contact,
            "setMyDescription": self._profile_setter("description"),
            "getMyDescription": self._profile_getter("description"),
            "setMyShortDescription": self._profile_setter("short_description"),
            "getMyShortDescription": self._profile_getter("short_description"),
            "setMyName": self._profile_setter("name"),
            "getMyName": self._profile_getter("name"),
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
        }
        # Telegram matches method names case-insensitively.
        self.handlers: dict[str, Handler] = {name.lower(): h for name, h in methods.items()}

    # ---- shared validation ------------------------------------------------------------------

    def format_text(
        self, text: str | None, parse_mode: str | None, entities: Any
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        """(plain text, entities, html as sent) for a text or caption."""
        raw = text or ""
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                plain, parsed = parse_html(raw, strict=self.state.strict_html)
            except EntityParseError as err:
                raise bad_request(f"can't parse entities: {err}") from None
            return plain, parsed, raw
        if mode in ("markdown", "markdownv2"):
            self.state.notes.append(f"{parse_mode} text stored literally: {raw[:60]!r}")
            return raw, [], None
        if mode:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        if isinstance(entities, list):
            return raw, [self._checked_entity(e, raw) for e in entities], None
        return raw, [], None

    @staticmethod
    def _checked_entity(entity: Any, text: str) -> dict[str, Any]:
        if not isinstance(entity, dict) or not {"type", "offset", "length"} <= entity.keys():
            raise bad_request("can't parse entities: wrong entity")
        if entity["offset"] < 0 or entity["offset"] + entity["length"] > utf16_len(text):
            raise bad_request("can't parse entities: entity is out of the text")
        return dict(entity)

    @staticmethod
    def trimmed(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        """Strip surrounding whitespace as Telegram does, clipping entities to what is left."""
        stripped = text.strip()
        if stripped == text:
            return text, entities
        shift = utf16_len(text[: len(text) - len(text.lstrip())])
        total = utf16_len(stripped)
        kept = []
        for entity in entities:
            start = max(entity["offset"] - shift, 0)
            end = min(entity["offset"] + entity["length"] - shift, total)
            if end > start:
                kept.append(entity | {"offset": start, "length": end - start})
        return stripped, kept

    def text_checked(
        self, text: str | None, parse_mode: str | None, entities: Any
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        plain, parsed, html = self.format_text(text, parse_mode, entities)
        plain, parsed = self.trimmed(plain, parsed)
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > 4096:
            raise bad_request("message is too long")
        return plain, parsed, html

    def caption_checked(
        self, caption: str | None, parse_mode: str | None, entities: Any
    ) -> tuple[str | None, list[dict[str, Any]], str | None]:
        if caption is None:
            return None, [], None
        plain, parsed, html = self.format_text(caption, parse_mode, entities)
        plain, parsed = self.trimmed(plain, parsed)
        if utf16_len(plain) > 1024:
            raise bad_request("message caption is too long")
        return (plain if plain else None), parsed, html

    @staticmethod
    def markup_checked(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate a reply_markup object as Telegram does; None when absent or empty."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request('can\'t parse inline keyboard button: field "inline_keyboard"')
            for row in rows:
                for button in row:
                    _check_inline_button(button)
            return markup if any(rows) else None
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse reply keyboard markup JSON object")
            for row in rows:
                for button in row:
                    label = button if isinstance(button, str) else None
                    if isinstance(button, dict):
                        label = button.get("text")
                    if not isinstance(label, str) or not label:
                        raise bad_request("keyboard button text must be non-empty")
            return markup
        if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")

    def reply_target(self, p: Params, chat: SimChat) -> SimMessage | None:
        reply = p.get_json("reply_parameters")
        allow_missing = p.get_bool("allow_sending_without_reply")
        message_id: int | None = None
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif reply is not None:
            raise bad_request("can't parse reply parameters JSON object")
        else:
            message_id = p.get_int("reply_to_message_id")
        if message_id is None:
            return None
        replied = self.state.find_message(chat.id, int(message_id))
        if replied is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return replied

    def send_target(
        self, p: Params
    ) -> tuple[SimChat, int | None, SimMessage | None, dict[str, Any] | None]:
        """Chat, topic, replied message and markup of a send, all validated."""
        chat = self.state.writable_chat(p.chat_id())
        thread_id = p.get_int("message_thread_id")
        if thread_id is not None and chat.is_forum and thread_id not in chat.topics:
            raise bad_request("message thread not found")
        replied = self.reply_target(p, chat)
        if thread_id is None and replied is not None:
            thread_id = replied.message_thread_id  # a reply lands in the replied message's topic
        markup = self.markup_checked(p.get_json("reply_markup"))
        if chat.type != "private" and _has_web_app(markup):
            raise bad_request("BUTTON_TYPE_INVALID")  # Mini App buttons live in private chats
        return chat, thread_id, replied, markup

    def check_rate(self, chat: SimChat) -> None:
        """Charge one message to the chat's flood budget or answer 429 when enforcing."""
        state = self.state
        wait = state.limiter.wait_needed(chat.id, chat.is_group)
        if wait > 0:
            state.stats.limit_violations += 1
            if state.enforce_rate_limits:
                retry_after = retry_after_seconds(wait)
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
        state.limiter.record(chat.id, chat.is_group)

    def commit_send(
        self,
        chat: SimChat,
        *,
        thread_id: int | None,
        replied: SimMessage | None,
        markup: dict[str, Any] | None,
        summary: str,
        charge: bool = True,
        **fields: Any,
    ) -> SimMessage:
        if charge:
            self.check_rate(chat)
        state = self.state
        msg = state.new_message(
            chat,
            from_bot=True,
            sender=None,
            reply_markup=markup,
            message_thread_id=thread_id,
            reply_to_message_id=replied.message_id if replied is not None else None,
            **fields,
        )
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        state.stats.sends_by_chat[chat.id] += 1
        state.log_event("bot_message", chat, "bot", summary, msg.buttons)
        return msg

    def upload(self, p: Params, name: str, kind: str) -> UploadedFile:
        """The file a send refers to: an upload, attach://, a known file_id or a URL."""
        source = self.media_source(p, name, kind)
        if isinstance(source, StoredFile):
            return UploadedFile(kind, source.file_path.rsplit("/", 1)[-1], "", source.data)
        return source

    def media_source(self, p: Params, name: str, kind: str) -> UploadedFile | StoredFile:
        """The file parameter `name` of a send of `kind`: a new file, or one Telegram has."""
        if name in p.files:
            return p.files[name]
        return self.media_reference_source(p, p.get_str(name), kind)

    def media_reference(self, p: Params, value: str | None, kind: str) -> UploadedFile:
        source = self.media_reference_source(p, value, kind)
        if isinstance(source, StoredFile):
            return UploadedFile(kind, source.file_path.rsplit("/", 1)[-1], "", source.data)
        return source

    def media_reference_source(
        self, p: Params, value: str | None, kind: str
    ) -> UploadedFile | StoredFile:
        if not value:
            raise bad_request(f"there is no {kind.replace('_', ' ')} in the request")
        if value.startswith("attach://"):
            attached = p.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return attached
        if value.startswith(("http://", "https://")):
            return UploadedFile(
                kind, value.rsplit("/", 1)[-1] or "file", "application/octet-stream", b""
            )
        stored = self.state.file(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        # TDLib keeps photos and documents apart; any document-like file (voice, video, audio,
        # video note, document) is accepted by the sends of the others.
        if (stored.kind == "photo") != (kind == "photo"):
            raise bad_request(
                f"can't use file of type {FILE_KINDS[stored.kind].type_name} "
                f"as {FILE_KINDS[kind].type_name}"
            )
        return stored

    def document_like(
        self, p: Params, kind: str, new_file: Callable[[UploadedFile], dict[str, Any]]
    ) -> tuple[str, dict[str, Any]]:
        """(message field, media object) of a document-like send: a file_id Telegram already
        has is sent again as the very file (same ids; a voice stays a voice even through
        sendDocument, as the file keeps its attributes); anything else is a new file."""
        source = self.media_source(p, kind, kind)
        if isinstance(source, StoredFile):
            return source.kind, source.media_json()
        return kind, new_file(source)

    def caption_fields(self, p: Params, kind: str) -> dict[str, Any]:
        """The caption fields of a send (none for a video note, which has no caption)."""
        if kind not in CAPTIONED_MEDIA:
            return {}
        caption, entities, html = self.caption_checked(
            p.get_str("caption"), p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        return {
            "caption": caption,
            "caption_entities": entities,
            "caption_html": html,
            "parse_mode": p.get_str("parse_mode"),
            "show_caption_above_media": caption is not None
            and kind in ("photo", "video")
            and p.get_bool("show_caption_above_media"),
        }

    def editable(self, p: Params) -> tuple[SimChat, SimMessage]:
        if p.has("inline_message_id") and not p.has("chat_id"):
            raise bad_request("message to edit not found")
        chat = self.state.writable_chat(p.chat_id())
        message_id = p.get_int("message_id", required=True)
        assert message_id is not None
        msg = self.state.find_message(chat.id, message_id)
        if msg is None or not msg.from_bot or msg.is_service:
            raise bad_request("message to edit not found")
        return chat, msg

    def finish_edit(self, chat: SimChat, msg: SimMessage) -> dict[str, Any]:
        msg.edit_date = self.state.now()
        self.state.log_event("bot_edit", chat, "bot", msg.visible_text, msg.buttons)
        return self.state.message_json(msg)

    # ---- methods -------------------------------------------------------------------------------

    async def get_me(self, p: Params) -> Any:
        state = self.state
        return state.bot_user_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": not state.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def log_out(self, p: Params) -> Any:
        return True

    async def set_webhook(self, p: Params) -> Any:
        self.state.webhook_url = p.get_str("url") or ""
        if p.get_bool("drop_pending_updates"):
            self.state.drop_pending_updates()
        return True

    async def delete_webhook(self, p: Params) -> Any:
        self.state.webhook_url = ""
        if p.get_bool("drop_pending_updates"):
            self.state.drop_pending_updates()
        return True

    async def get_webhook_info(self, p: Params) -> Any:
        return {
            "url": self.state.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": self.state.updates_pending,
        }

    async def get_updates(self, p: Params) -> Any:
        state = self.state
        if state.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.get_int("offset")
        limit = min(100, max(1, p.get_int("limit") or 100))
        timeout = min(_MAX_POLL_SECONDS, max(0.0, p.get_float("timeout") or 0.0))
        allowed = p.get_json("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = [str(a) for a in allowed]
        self.poll_generation += 1
        generation = self.poll_generation
        state.confirm_updates(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if state.faults.outage:
                raise ConnectionDropped
            if generation != self.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            updates = state.select_updates(offset, limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self.stopping():
                return updates
            self.polls_waiting += 1
            state.notify_changed()  # lets a test await "the bot is polling" without sleeping
            try:
                await state.wait_change(remaining)
            finally:
                self.polls_waiting -= 1

    async def send_message(self, p: Params) -> Any:
        chat, thread_id, replied, markup = self.send_target(p)
        text, entities, html = self.text_checked(
            p.get_str("text"), p.get_str("parse_mode"), p.get_json("entities")
        )
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=text,
            text=text,
            entities=entities,
            html=html,
            parse_mode=p.get_str("parse_mode"),
            has_protected_content=p.get_bool("protect_content"),
        )
        return self.state.message_json(msg)

    async def send_photo(self, p: Params) -> Any:
        chat, thread_id, replied, markup = self.send_target(p)
        upload = self.upload(p, "photo", "photo")
        caption = self.caption_fields(p, "photo")
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=_media_summary("photo", None, caption["caption"]),
            photo=self.state.photo_sizes(upload.data),
            has_protected_content=p.get_bool("protect_content"),
            **caption,
        )
        return self.state.message_json(msg)

    async def send_document(self, p: Params) -> Any:
        def new_document(upload: UploadedFile) -> dict[str, Any]:
            return self.state.document_json(
                upload.data, upload.filename, upload.content_type or "application/octet-stream"
            )

        return await self.send_document_like(p, "document", new_document)

    async def send_voice(self, p: Params) -> Any:
        def new_voice(upload: UploadedFile) -> dict[str, Any]:
            return self.state.voice_json(upload.data, p.get_int("duration") or 0)

        return await self.send_document_like(p, "voice", new_voice)

    async def send_video(self, p: Params) -> Any:
        def new_video(upload: UploadedFile) -> dict[str, Any]:
            return self.state.video_json(
                upload.data,
                p.get_int("duration") or 0,
                p.get_int("width") or 0,
                p.get_int("height") or 0,
                file_name=upload.filename or None,
            )

        return await self.send_document_like(p, "video", new_video)

    async def send_audio(self, p: Params) -> Any:
        def new_audio(upload: UploadedFile) -> dict[str, Any]:
            content_type = upload.content_type or ""
            return self.state.audio_json(
                upload.data,
                p.get_int("duration") or 0,
                content_type if content_type.startswith("audio/") else "audio/mpeg",
                file_name=upload.filename or None,
                title=p.get_str("title"),
                performer=p.get_str("performer"),
            )

        return await self.send_document_like(p, "audio", new_audio)

    async def send_video_note(self, p: Params) -> Any:
        def new_video_note(upload: UploadedFile) -> dict[str, Any]:
            return self.state.video_note_json(
                upload.data, p.get_int("duration") or 0, p.get_int("length") or 0
            )

        return await self.send_document_like(p, "video_note", new_video_note)

    async def send_document_like(
        self, p: Params, kind: str, new_file: Callable[[UploadedFile], dict[str, Any]]
    ) -> Any:
        """sendDocument, sendVoice, sendVideo, sendAudio and sendVideoNote."""
        chat, thread_id, replied, markup = self.send_target(p)
        caption = self.caption_fields(p, kind)
        field, media = self.document_like(p, kind, new_file)
        content: dict[str, Any] = {field: media}
        if field in CAPTIONED_MEDIA:
            content.update(caption)
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=_media_summary(field, media, content.get("caption")),
            has_protected_content=p.get_bool("protect_content"),
            **content,
        )
        return self.state.message_json(msg)

    async def send_media_group(self, p: Params) -> Any:
        chat, thread_id, replied, _ = self.send_target(p)
        media = p.get_json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media in the media group: must be 2-10")
        prepared: list[tuple[str, UploadedFile, str | None, list[dict[str, Any]], str | None]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in _ALBUM_TYPES:
                raise bad_request("can't parse InputMedia JSON object")
            upload = self.media_reference(p, item.get("media"), str(item["type"]))
            caption, entities, html = self.caption_checked(
                item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
            )
            prepared.append((str(item["type"]), upload, caption, entities, html))
        self.check_rate(chat)  # an album counts as one message against the flood limits
        group_id = str(13_000_000_000 + next(self.state.media_group_numbers))
        sent = []
        for kind, upload, caption, entities, html in prepared:
            media_fields: dict[str, Any] = {}
            if kind == "photo":
                media_fields["photo"] = self.state.photo_sizes(upload.data)
            elif kind == "video":
                media_fields["video"] = self.state.video_json(
                    upload.data, 0, 0, 0, file_name=upload.filename or None
                )
            elif kind == "audio":
                media_fields["audio"] = self.state.audio_json(
                    upload.data, 0, file_name=upload.filename or None
                )
            else:
                media_fields["document"] = self.state.document_json(
                    upload.data, upload.filename, upload.content_type or "application/octet-stream"
                )
            msg = self.commit_send(
                chat,
                thread_id=thread_id,
                replied=replied,
                markup=None,
                summary=f"[album {kind}] {caption or ''}".strip(),
                charge=False,
                media_group_id=group_id,
                caption=caption,
                caption_entities=entities,
                caption_html=html,
                **media_fields,
                has_protected_content=p.get_bool("protect_content"),
            )
            sent.append(self.state.message_json(msg))
        return sent

    async def send_location(self, p: Params) -> Any:
        chat, thread_id, replied, markup = self.send_target(p)
        latitude = p.get_float("latitude", required=True)
        longitude = p.get_float("longitude", required=True)
        assert latitude is not None
        assert longitude is not None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise bad_request("wrong coordinates")
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        live_period = p.get_int("live_period")
        if live_period is not None:
            location["live_period"] = live_period
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=f"[location {latitude:.5f}, {longitude:.5f}]",
            location=location,
            has_protected_content=p.get_bool("protect_content"),
        )
        return self.state.message_json(msg)

    async def send_venue(self, p: Params) -> Any:
        chat, thread_id, replied, markup = self.send_target(p)
        latitude = p.get_float("latitude", required=True)
        longitude = p.get_float("longitude", required=True)
        title = p.get_str("title", required=True)
        address = p.get_str("address", required=True)
        assert latitude is not None
        assert longitude is not None
        location = {"latitude": latitude, "longitude": longitude}
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=f"[venue {title}, {address}]",
            location=location,
            venue={"location": location, "title": title, "address": address},
            has_protected_content=p.get_bool("protect_content"),
        )
        return self.state.message_json(msg)

    async def send_contact(self, p: Params) -> Any:
        chat, thread_id, replied, markup = self.send_target(p)
        phone = p.get_str("phone_number", required=True)
        first_name = p.get_str("first_name", required=True)
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if p.has("last_name"):
            contact["last_name"] = p.get_str("last_name")
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=f"[contact {first_name} {phone}]",
            contact=contact,
            has_protected_content=p.get_bool("protect_content"),
        )
        return self.state.message_json(msg)

    async def copy_message(self, p: Params) -> Any:
        """A new message of the bot with the original's content, without a link to it.

        As Telegram's server does: the new caption is parsed first, then the source chat and
        message are checked, then the target as for any send; a service message is refused
        last. Returns a MessageId, not a Message.
        """
        replace_caption = "caption" in p.values  # an empty caption removes the original's
        caption, entities, html = self.caption_checked(
            p.get_str("caption"), p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        source = self.copy_source(p)
        message_id = p.get_int("message_id")
        original = (
            self.state.find_message(source.id, message_id)
            if message_id is not None and message_id > 0
            else None
        )
        if original is None:
            raise bad_request("message to copy not found")
        chat, thread_id, replied, markup = self.send_target(p)
        if original.is_service:
            raise bad_request("the message can't be copied")
        content = _copied_content(original)
        if replace_caption and original.can_have_caption:
            content.update(
                caption=caption,
                caption_entities=entities,
                caption_html=html,
                parse_mode=p.get_str("parse_mode"),
                show_caption_above_media=caption is not None
                and original.media_kind in ("photo", "video")
                and p.get_bool("show_caption_above_media"),
            )
        msg = self.commit_send(
            chat,
            thread_id=thread_id,
            replied=replied,
            markup=markup,
            summary=f"[copy] {_content_summary(original, content.get('caption'))}",
            has_protected_content=p.get_bool("protect_content"),
            **content,
        )
        return {"message_id": msg.message_id}

    def copy_source(self, p: Params) -> SimChat:
        """The chat a copy is taken from, if the bot may read its messages (Telegram's read
        access: a private chat even after a block; a group the bot is or was in; a supergroup
        only while the bot is a member)."""
        if not p.has("from_chat_id"):
            raise bad_request('parameter "from_chat_id" is required')
        chat = self.state.resolve_chat(p.chat_id("from_chat_id"))
        if chat.type == "private":
            return chat
        if not chat.bot_ever_member:
            raise bad_request("chat not found")
        if chat.type == "supergroup" and chat.bot_status == "kicked":
            raise forbidden("bot was kicked from the supergroup chat")
        if chat.type == "supergroup" and not chat.bot_is_member:
            if chat.username is None:
                raise forbidden("bot is not a member of the supergroup chat")
            raise bad_request("message to copy not found")  # public: known, but not readable
        if not chat.bot_is_member:
            raise bad_request("message to copy not found")
        return chat

    def _profile_setter(self, field: str) -> Handler:
        async def set_field(p: Params) -> Any:
            value = p.get_str(field) or ""
            limit = {"name": 64, "description": 512, "short_description": 120}[field]
            if len(value) > limit:
                raise bad_request(f"{field.upper()}_INVALID")
            self.profile[(field, p.get_str("language_code") or "")] = value
            return True

        return set_field

    def _profile_getter(self, field: str) -> Handler:
        async def get_field(p: Params) -> Any:
            value = self.profile.get((field, p.get_str("language_code") or ""), "")
            if field == "name" and not value:
                value = self.state.bot_first_name
            return {field: value}

        return get_field

    async def set_chat_menu_button(self, p: Params) -> Any:
        button = p.get_json("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app":
            _check_web_app(button.get("web_app"), button.get("text"))
        self.menu_buttons[p.get_int("chat_id")] = button
        return True

    async def get_chat_menu_button(self, p: Params) -> Any:
        chat_id = p.get_int("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def edit_message_text(self, p: Params) -> Any:
        chat, msg = self.editable(p)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities, html = self.text_checked(
            p.get_str("text"), p.get_str("parse_mode"), p.get_json("entities")
        )
        # Without reply_markup the inline keyboard goes away, as in Telegram.
        markup = self.markup_checked(p.get_json("reply_markup"), inline_only=True)
        if text == msg.text and entities == msg.entities and markup == _inline(msg):
            raise bad_request(_NOT_MODIFIED)
        self.check_rate(chat)
        msg.text, msg.entities, msg.html, msg.reply_markup = text, entities, html, markup
        msg.parse_mode = p.get_str("parse_mode")
        return self.finish_edit(chat, msg)

    async def edit_message_caption(self, p: Params) -> Any:
        chat, msg = self.editable(p)
        if not msg.can_have_caption:
            raise bad_request("there is no caption in the message to edit")
        caption, entities, html = self.caption_checked(
            p.get_str("caption"), p.get_str("parse_mode"), p.get_json("caption_entities")
        )
        markup = self.markup_checked(p.get_json("reply_markup"), inline_only=True)
        if caption == msg.caption and entities == msg.caption_entities and markup == _inline(msg):
            raise bad_request(_NOT_MODIFIED)
        self.check_rate(chat)
        msg.caption, msg.caption_entities, msg.caption_html = caption, entities, html
        msg.reply_markup = markup
        return self.finish_edit(chat, msg)

    async def edit_message_reply_markup(self, p: Params) -> Any:
        chat, msg = self.editable(p)
        markup = self.markup_checked(p.get_json("reply_markup"), inline_only=True)
        if markup == _inline(msg):
            raise bad_request(_NOT_MODIFIED)
        self.check_rate(chat)
        msg.reply_markup = markup
        return self.finish_edit(chat, msg)

    async def delete_message(self, p: Params) -> Any:
        chat = self.state.writable_chat(p.chat_id())
        message_id = p.get_int("message_id", required=True)
        assert message_id is not None
        msg = self.state.find_message(chat.id, message_id)
        if msg is None:
            raise bad_request("message to delete not found")
        if chat.is_group and not msg.from_bot and chat.bot_status != "administrator":
            raise bad_request("message can't be deleted")
        msg.deleted = True
        self.state.log_event("bot_delete", chat, "bot", msg.visible_text)
        return True

    async def answer_callback_query(self, p: Params) -> Any:
        query_id = p.get_str("callback_query_id", required=True)
        assert query_id is not None
        query = self.state.callback_query(query_id)
        if query is not None:
            query.answers += 1
        if query is None or query.answered:
            raise bad_request(_QUERY_TOO_OLD)
        text = p.get_str("text")
        if text is not None and utf16_len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer_text = text
        query.show_alert = p.get_bool("show_alert")
        query.answer_url = p.get_str("url")
        chat = self.state.chat(query.message.chat_id)
        self.state.log_event("answer", chat, "bot", text or "")
        return True

    async def get_file(self, p: Params) -> Any:
        file_id = p.get_str("file_id", required=True)
        stored = self.state.file(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _pin_rights(self, chat: SimChat) -> None:
        if chat.is_group and chat.bot_status != "administrator":
            raise bad_request("not enough rights to manage pinned messages in the chat")

    async def pin_chat_message(self, p: Params) -> Any:
        chat = self.state.writable_chat(p.chat_id())
        message_id = p.get_int("message_id", required=True)
        assert message_id is not None
        msg = self.state.find_message(chat.id, message_id)
        if msg is None:
            raise bad_request("message to pin not found")
        self._pin_rights(chat)
        if msg.message_id in chat.pinned_ids:
            chat.pinned_ids.remove(msg.message_id)
        chat.pinned_ids.append(msg.message_id)
        self.state.add_service_message(
            chat,
            None,
            {"pinned_message": self.state.message_json(msg, with_reply=False)},
            f"pinned: {msg.visible_text}",
        )
        return True

    async def unpin_chat_message(self, p: Params) -> Any:
        chat = self.state.writable_chat(p.chat_id())
        self._pin_rights(chat)
        message_id = p.get_int("message_id")
        if message_id is None:
            message_id = chat.pinned_message_id  # the most recent one
        if message_id in chat.pinned_ids:
            chat.pinned_ids.remove(message_id)
        return True

    def _readable_chat(self, p: Params) -> SimChat:
        chat = self.state.resolve_chat(p.chat_id())
        return chat if chat.type == "private" else self.state.writable_chat(chat.id)

    async def get_chat(self, p: Params) -> Any:
        return self.state.chat_full_json(self._readable_chat(p))

    async def get_chat_member(self, p: Params) -> Any:
        chat = self._readable_chat(p)
        user_id = p.get_int("user_id", required=True)
        assert user_id is not None
        if user_id != self.state.bot_user_id and user_id not in {u.id for u in self.state.users()}:
            raise bad_request("user not found")
        return self.state.chat_member_json(chat, user_id)

    async def get_chat_administrators(self, p: Params) -> Any:
        chat = self._readable_chat(p)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self.state.chat_member_json(chat, uid)
            for uid in chat.member_ids
            if self.state.member_status(chat, uid) in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self.state.chat_member_json(chat, self.state.bot_user_id))
        return admins

    async def get_chat_member_count(self, p: Params) -> Any:
        chat = self._readable_chat(p)
        if chat.type == "private":
            return 2
        return len(chat.member_ids) + (1 if chat.bot_is_member else 0)

    def _command_key(self, p: Params) -> tuple[str, str]:
        scope = p.get_json("scope")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        return scope_key(scope), p.get_str("language_code") or ""

    async def set_my_commands(self, p: Params) -> Any:
        commands = p.get_json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        stored: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name, "description": description})
        self.state.commands_by_scope[self._command_key(p)] = stored
        return True

    async def get_my_commands(self, p: Params) -> Any:
        return list(self.state.commands_by_scope.get(self._command_key(p), []))

    async def delete_my_commands(self, p: Params) -> Any:
        self.state.commands_by_scope.pop(self._command_key(p), None)
        return True

    async def send_chat_action(self, p: Params) -> Any:
        self.state.writable_chat(p.chat_id())
        if p.get_str("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def leave_chat(self, p: Params) -> Any:
        chat = self.state.writable_chat(p.chat_id())
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        self.state.set_bot_status(chat, "left", None)
        return True


def _copied_content(original: SimMessage) -> dict[str, Any]:
    """The fields a copy takes from the original: text or caption, file, place or contact.

    A live location arrives as a plain location (TDLib copies it as a static one); the copy
    keeps no reply, keyboard, album or forward origin of the original.
    """
    content: dict[str, Any] = {
        "text": original.text,
        "html": original.html,
        "entities": [dict(e) for e in original.entities],
        "caption": original.caption,
        "caption_html": original.caption_html,
        "caption_entities": [dict(e) for e in original.caption_entities],
        "show_caption_above_media": original.show_caption_above_media,
        "venue": copy.deepcopy(original.venue),
        "contact": copy.deepcopy(original.contact),
    }
    for kind in MEDIA_FIELDS:
        content[kind] = copy.deepcopy(getattr(original, kind))
    if original.location is not None:
        content["location"] = {
            "latitude": original.location["latitude"],
            "longitude": original.location["longitude"],
        }
    return content


def _content_summary(msg: SimMessage, caption: str | None) -> str:
    kind = msg.media_kind
    if kind is not None:
        return _media_summary(kind, getattr(msg, kind), caption)
    if msg.text is not None:
        return msg.text
    if msg.venue is not None:
        return f"[venue {msg.venue.get('title')}, {msg.venue.get('address')}]"
    if msg.location is not None:
        return f"[location {msg.location['latitude']:.5f}, {msg.location['longitude']:.5f}]"
    if msg.contact is not None:
        return f"[contact {msg.contact.get('first_name')} {msg.contact.get('phone_number')}]"
    return "[message]"


def _media_summary(kind: str, media: Any, caption: str | None) -> str:
    """A transcript line for a message with a file: "[voice 3s] caption"."""
    if kind == "photo" or not isinstance(media, dict):
        label = kind
    elif kind in ("document", "audio"):
        label = f"{kind} {media.get('file_name') or media.get('title') or ''}".strip()
    else:
        label = f"{kind.replace('_', ' ')} {media.get('duration', 0)}s"
    return f"[{label}] {caption or ''}".strip()


def _inline(msg: SimMessage) -> dict[str, Any] | None:
    if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
        return msg.reply_markup
    return None


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_INVALID")
    kinds = [kind for kind in _INLINE_BUTTON_KINDS if kind in button]
    if not kinds:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(kinds) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "web_app" in button:
        _check_web_app(button["web_app"], button["text"])
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")


def _check_web_app(web_app: Any, text: Any) -> None:
    """A Mini App button: Telegram opens only https addresses."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not isinstance(text, str) or not text:
        raise bad_request("can't parse web app button JSON object")
    if not url.startswith("https://"):
        raise bad_request(
            f"inline keyboard button Web App URL '{url}' is invalid: Only HTTPS links are allowed"
        )


def _has_web_app(markup: dict[str, Any] | None) -> bool:
    rows = (markup or {}).get("inline_keyboard") or (markup or {}).get("keyboard") or []
    return any(isinstance(b, dict) and "web_app" in b for row in rows for b in row)
