"""/daftar (/register), /nonaktifkan (/unregister), and the life of the bot's group chats."""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.callbacks import AgencyMove, ButtonAction
from bot.commands import REGISTER, UNREGISTER
from bot.context import App, AppContext
from bot.i18n import N_, t
from bot.render.organisation import agency_label, move_question, registered_text
from bot.services.agencies import Registration, normalize_code
from handlers.guard import authorize, reply, usage
from handlers.presses import Press, route
from models.access import Action
from models.agencies import AGENCY_NAME_MAX, AgencyKind, valid_agency_code

log = logging.getLogger(__name__)

# The groups that are not agencies have a name of their own unless one is given.
DEFAULT_NAMES = {
    AgencyKind.COORDINATORS: N_("agency.coordinators_name"),
    AgencyKind.OPERATORS: N_("agency.operators_name"),
}

PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.RESTRICTED}


def clean_name(words: list[str]) -> str:
    """An agency name from command words: single spaces, no control characters."""
    text = " ".join(words)
    return " ".join("".join(ch for ch in text if ch.isprintable()).split())


async def register_command(update: Update, context: AppContext) -> None:
    """An admin registers this group (or forum topic) as an agency, as the coordinators, or
    as the 112 operators' feed."""
    request = await authorize(update, context, Action.REGISTER_AGENCY)
    if request is None or request.message is None:
        return
    language, args = request.language, context.args or []
    if not args:
        await reply(update, usage(language, N_("usage.register")))
        return
    code, kind = normalize_code(args[0])
    if kind is AgencyKind.AGENCY and not valid_agency_code(code):
        await reply(
            update,
            t(language, "agency.bad_code", code=args[0][:40])
            + "\n"
            + usage(language, N_("usage.register")),
        )
        return
    default = DEFAULT_NAMES.get(kind)
    name = clean_name(args[1:]) or (t(language, default) if default is not None else "")
    if not name:
        await reply(
            update,
            t(language, "agency.name_missing") + "\n" + usage(language, N_("usage.register")),
        )
        return
    if len(name) > AGENCY_NAME_MAX:
        await reply(update, t(language, "agency.name_too_long", limit=AGENCY_NAME_MAX))
        return
    result = await context.services.agencies.register(
        code=code,
        name=name,
        chat_id=request.message.chat_id,
        thread_id=request.thread_id,
        by_user=request.user.id,
    )
    if result.outcome is Registration.PLACE_TAKEN:
        await reply(update, t(language, "agency.place_taken", agency=agency_label(result.agency)))
    elif result.outcome is Registration.MOVE_NEEDS_CONFIRMATION:
        text, keyboard = move_question(language, result.agency)
        await reply(update, text, reply_markup=keyboard)
    else:
        log.info("agency %s registered at chat %s", result.agency.code, result.agency.chat_id)
        renamed = result.outcome is Registration.RENAMED
        text, start_button = registered_text(
            language,
            result.agency,
            renamed=renamed,
            topic=request.thread_id is not None,
            bot_username=context.bot.username,
        )
        await reply(update, text, reply_markup=start_button)


async def move_button(press: Press, button: AgencyMove) -> None:
    """The admin confirmed (or declined) moving an agency's registration to this chat."""
    request = await press.authorize(Action.REGISTER_AGENCY)
    if request is None:
        return
    language = request.language
    if button.action is ButtonAction.AGENCY_KEEP:
        await press.answer()
        await press.edit(t(language, "agency.move_declined"))
        return
    result = await press.services.agencies.move(
        agency_id=button.agency_id,
        chat_id=press.chat_id,
        thread_id=press.thread_id,
        by_user=request.user.id,
    )
    if result is None:
        await press.refuse("no such agency to move")
        return
    await press.answer()
    if result.outcome is Registration.PLACE_TAKEN:
        await press.edit(t(language, "agency.place_taken", agency=agency_label(result.agency)))
        return
    await press.edit(
        *registered_text(
            language,
            result.agency,
            renamed=False,
            topic=press.thread_id is not None,
            bot_username=press.context.bot.username,
        )
    )


async def unregister_command(update: Update, context: AppContext) -> None:
    """An admin deactivates the agency registered in this chat or topic."""
    request = await authorize(update, context, Action.UNREGISTER_AGENCY)
    if request is None or request.message is None:
        return
    agency = await context.services.agencies.unregister(
        chat_id=request.message.chat_id, thread_id=request.thread_id
    )
    if agency is None:
        await reply(update, t(request.language, "agency.not_here"))
        return
    await reply(update, t(request.language, "agency.unregistered", agency=agency_label(agency)))


async def my_membership(update: Update, context: AppContext) -> None:
    """The bot was added to, promoted in, or removed from a group."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    agencies = context.services.agencies
    chat = change.chat
    status = change.new_chat_member.status
    was_present = change.old_chat_member.status in PRESENT
    now_present = status in PRESENT
    if now_present:
        await agencies.bot_joined_group(
            chat_id=chat.id,
            chat_type=chat.type,
            title=chat.title,
            status=status,
        )
    elif was_present or status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        lost = await agencies.bot_left_group(
            chat_id=chat.id,
            chat_type=chat.type,
            title=chat.title,
            status=status,
        )
        if lost:
            log.warning("removed from chat %s: %s unreachable", chat.id, [a.code for a in lost])


async def migrated(update: Update, context: AppContext) -> None:
    """A group became a supergroup and got a new id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    await context.services.agencies.group_migrated(old_chat_id=old, new_chat_id=new)
    log.info("chat %s migrated to %s", old, new)


def register(app: App) -> None:
    app.add_handler(
        CommandHandler(REGISTER.names, register_command, filters=filters.UpdateType.MESSAGE)
    )
    app.add_handler(
        CommandHandler(UNREGISTER.names, unregister_command, filters=filters.UpdateType.MESSAGE)
    )
    route(app, AgencyMove, move_button)
    app.add_handler(ChatMemberHandler(my_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, migrated))
