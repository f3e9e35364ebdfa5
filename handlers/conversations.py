"""Conversations in the private chat: starting them, the one router for what people send, the
buttons of every flow, and `/batal` (`/cancel`) for all of them (see `bot.services.conversations`).

Precedence in a private chat, one rule for everything a person sends that is not a command: an
active conversation takes it first; then a pending question to the person (when there is one);
then the offer to add it to their open report; then the fallback answer. Commands work in
between, and the conversation waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.callbacks import Button
from bot.commands import CANCEL
from bot.context import App, AppContext
from bot.i18n import t
from bot.render.info import outcome_text
from bot.render.report import no_draft_text
from bot.services.conversations import (
    Attachment,
    Input,
    Photo,
    Point,
    Pressed,
    Reply,
    SharedContact,
    Start,
    Text,
    Unsupported,
)
from bot.services.info import content_of
from handlers.guard import authorize
from handlers.presses import Press, route
from models.report import venue_text

log = logging.getLogger(__name__)

ENDS = filters.UpdateType.MESSAGE


def input_of(message: Message) -> Input:
    """What a private message contributes to a conversation."""
    if message.venue is not None:
        # Telegram sets `location` on a venue too: the venue first, so its name is kept.
        venue = message.venue
        return Point(
            venue.location.latitude,
            venue.location.longitude,
            venue_text(venue.title, venue.address),
            message.message_id,
        )
    if message.location is not None:
        location = message.location
        return Point(location.latitude, location.longitude, None, message.message_id)
    if message.contact is not None:
        contact = message.contact
        own = (
            contact.user_id is not None
            and message.from_user is not None
            and contact.user_id == message.from_user.id
        )
        return SharedContact(contact.phone_number, own, message.message_id)
    if message.photo:
        return Photo(message.photo[-1].file_id, message.caption, message.message_id)
    for kind in ATTACHMENTS:
        media = getattr(message, kind)
        if media is not None:
            return Attachment(kind, media.file_id, message.caption, message.message_id)
    if message.text is not None:
        return Text(message.text, message.message_id)
    return Unsupported()


ATTACHMENTS = ("voice", "video", "video_note", "audio", "document")


async def say(context: AppContext, user_id: int, reply: Reply) -> None:
    """Send a reply's messages to the person, in order; the question among them becomes the
    one the conversation waits on."""
    bot = context.bot
    for said in reply.says:
        if said.photo is not None:
            sent = await bot.send_photo(
                user_id, said.photo, caption=said.text or None, reply_markup=said.markup
            )
        elif said.location is not None:
            latitude, longitude = said.location
            sent = await bot.send_location(
                user_id, latitude=latitude, longitude=longitude, reply_markup=said.markup
            )
        else:
            sent = await bot.send_message(user_id, said.text, reply_markup=said.markup)
        if said.question:
            await context.services.conversations.bind(user_id, sent.message_id)


async def start_conversation(update: Update, context: AppContext, kind: str) -> None:
    """Start a flow (or show the open conversation) for the person who asked."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    flow = services.conversations.flows[kind]
    if message.chat.type != "private":
        hint = flow.in_group(services.language_of(user), context.bot.username)
        if hint is not None:
            await message.reply_text(hint.text, reply_markup=hint.markup)
            return
    request = await authorize(update, context, flow.action)
    if request is None:
        return
    start = Start(
        user.id,
        user.full_name or user.username or str(user.id),
        request.language,
        tuple(context.args or ()),
        update.update_id,
    )
    begun = await services.conversations.begin(kind, start)
    await say(context, user.id, begun.reply)


def starter(kind: str) -> Callable[[Update, AppContext], Coroutine[Any, Any, None]]:
    async def start(update: Update, context: AppContext) -> None:
        await start_conversation(update, context, kind)

    start.__doc__ = f"Start a conversation of kind {kind!r}."
    return start


async def private_message(update: Update, context: AppContext) -> None:
    """A private message that is not a command: for the conversation, or the fallback answer."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    services = context.services
    given = input_of(message)
    # 1. An active conversation takes it.
    reply = await services.conversations.answer(user.id, given)
    if reply is not None:
        await say(context, user.id, reply)
        return
    content = content_of(user.id, given)
    if content is not None:
        # 2. A question to this person waits: this is their answer.
        replied = message.reply_to_message.message_id if message.reply_to_message else None
        question = await services.info.question_for(user.id, replied)
        if question is not None:
            done = await services.info.answer(question.id, user.id, content)
            if not done.ok:
                language = services.language_of(user)
                await message.reply_text(outcome_text(language, done.outcome, question.incident_id))
            return
        # 3. They have an open report: offer to add it there.
        if await services.info.open_reports(user.id):
            start = Start(
                user.id,
                user.full_name,
                services.language_of(user),
                origin_update_id=update.update_id,
                seed={"items": [content.to_data()]},
            )
            begun = await services.conversations.begin("add", start)
            await say(context, user.id, begun.reply)
            return
    # 4. The fallback answer.
    language = services.language_of(user)
    await message.reply_text(t(language, "unknown.text"), reply_markup=ReplyKeyboardRemove())


async def pressed(press: Press, button: Button) -> None:
    """A press on a flow's question, in the presser's own private chat."""
    if not press.private:
        await press.refuse("a conversation's button outside the presser's private chat")
        return
    conversations = press.services.conversations
    kind = await conversations.kind_of(press.user.id)
    flow = conversations.flows.get(kind) if kind is not None else None
    # Whoever may start the flow may go on with it: asked again on every press (a role taken
    # away in the middle of a broadcast stops it before it is sent).
    if flow is not None and await press.authorize(flow.action) is None:
        return
    reply = await conversations.answer(press.user.id, Pressed(button), pressed_on=press.message_id)
    if reply is None:
        flow = conversations.flow_answering(type(button))
        await press.refuse("no conversation", flow.gone_key if flow else "callback.stale")
        return
    if reply.refused is not None:
        await press.refuse("not the question the conversation waits on", text=reply.refused)
        return
    await press.answer()
    if reply.pressed is not None:
        if reply.pressed.text is not None:
            await press.edit(reply.pressed.text, reply.pressed.markup)
        else:
            await press.set_buttons(reply.pressed.markup)
    await say(press.context, press.user.id, reply)


async def old_question(press: Press, button: Button) -> str | None:
    """A flow's button taken away from a question already answered (a double tap, say); with
    no conversation open, the plain answer."""
    if await press.services.conversations.kind_of(press.user.id) is None:
        return None
    return t(press.language, "conversation.old_question")


async def cancel(update: Update, context: AppContext) -> None:
    """`/batal`: drop whatever conversation the person has open."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    reply = await context.services.conversations.cancel(user.id)
    if reply is None:
        language = context.services.language_of(user)
        await message.reply_text(no_draft_text(language), reply_markup=ReplyKeyboardRemove())
        return
    await say(context, user.id, reply)


def register(app: App) -> None:
    flows = app.bot_data.services.conversations.flows.values()
    for flow in flows:
        if flow.commands:
            app.add_handler(CommandHandler(flow.commands, starter(flow.kind), filters=ENDS))
    # A press goes to the person's open conversation, whichever flow it is (the report and
    # the call form share their buttons).
    for family in dict.fromkeys(family for flow in flows for family in flow.buttons):
        route(app, family, pressed, explain=old_question)
    app.add_handler(CommandHandler(CANCEL.names, cancel, filters=ENDS))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & filters.UpdateType.MESSAGE,
            private_message,
        )
    )
