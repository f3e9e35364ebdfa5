"""/gabung (/join), /keluar (/leave), /keluarkan (/remove), duty and the roster; and leaving
the agency's Telegram group, which ends membership there (`bot.services.membership`)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ChatMemberHandler, CommandHandler, MessageHandler, filters

from bot.commands import JOIN, LEAVE, OFF_DUTY, ON_DUTY, REMOVE, ROSTER
from bot.context import App, AppContext
from bot.i18n import N_, escape, t
from bot.render.organisation import agency_label, duty_changed_text, roster_text
from bot.services.membership import gone
from handlers.guard import authorize, reply, usage
from handlers.targets import target_person
from models.access import Action, ChatKind, by_role
from models.duty import parse_duration

ENDS = filters.UpdateType.MESSAGE


async def join(update: Update, context: AppContext) -> None:
    """Join the agency whose group this is: being in the group is the agency's own trust."""
    request = await authorize(update, context, Action.JOIN_AGENCY)
    if request is None or request.checked.agency is None:
        return
    agency = request.checked.agency
    added = await context.services.people.join(agency, request.user.id)
    key = N_("member.joined") if added else N_("member.already")
    await reply(
        update,
        t(request.language, key, name=escape(request.user.full_name), agency=agency_label(agency)),
    )


async def leave(update: Update, context: AppContext) -> None:
    """Leave the agency whose group this is."""
    request = await authorize(update, context, Action.LEAVE_AGENCY)
    if request is None or request.checked.agency is None:
        return
    agency = request.checked.agency
    await context.services.people.leave(agency, request.user.id)
    await reply(
        update,
        t(
            request.language,
            "member.left",
            name=escape(request.user.full_name),
            agency=agency_label(agency),
        ),
    )


async def remove(update: Update, context: AppContext) -> None:
    """An admin removes a member: in the agency's group by reply or @username,
    in private as `/keluarkan <kode> @username`."""
    request = await authorize(update, context, Action.REMOVE_MEMBER)
    if request is None:
        return
    language, args, services = request.language, context.args or [], context.services
    agency = request.checked.agency
    if request.checked.place.kind is ChatKind.PRIVATE or agency is None:
        code = next((a.lower() for a in args if not a.startswith("@")), None)
        if code is None:
            await reply(update, usage(language, N_("usage.remove")))
            return
        agency = await services.agencies.by_code(code)
        if agency is None or not agency.active:
            await reply(update, t(language, "agency.unknown_code", code=code[:40]))
            return
    person = await target_person(update, context, args, language)
    if person is None:
        return
    removed = await services.people.leave(agency, person.id)
    key = N_("member.removed") if removed else N_("member.not_member")
    await reply(
        update, t(language, key, name=escape(person.display_name), agency=agency_label(agency))
    )


async def duty(update: Update, context: AppContext, *, on_duty: bool) -> None:
    request = await authorize(update, context, Action.SET_DUTY)
    if request is None:
        return
    language, args, services = request.language, context.args or [], context.services
    duration = None
    if on_duty and args:
        duration = parse_duration("".join(args))
        if duration is None:
            await reply(update, t(language, "duty.bad_duration", wrong=" ".join(args)[:40]))
            return
    agency = request.checked.agency if request.checked.place.kind is not ChatKind.PRIVATE else None
    if agency is not None and agency.id not in request.checked.actor.agency_ids:
        await reply(update, t(language, "deny.not_member"))
        return
    agencies, until = await services.people.set_duty(
        user_id=request.user.id,
        agency=agency,
        on_duty=on_duty,
        duration=duration,
    )
    await reply(
        update, duty_changed_text(language, agencies, on_duty, until, services.settings.zone)
    )


async def on_duty(update: Update, context: AppContext) -> None:
    """Go on duty (optionally for a while: `/siaga 8j`)."""
    await duty(update, context, on_duty=True)


async def off_duty(update: Update, context: AppContext) -> None:
    """Go off duty."""
    await duty(update, context, on_duty=False)


async def roster(update: Update, context: AppContext) -> None:
    """Who is on duty: this agency in its group; elsewhere every agency the person may see."""
    request = await authorize(update, context, Action.VIEW_ROSTER)
    if request is None:
        return
    services = context.services
    actor, agency = request.checked.actor, request.checked.agency
    if agency is not None and request.checked.place.kind is ChatKind.AGENCY_GROUP:
        shown = [agency]
    else:
        every = await services.agencies.active()
        sees_all = by_role(actor, Action.VIEW_ROSTER)
        shown = every if sees_all else [a for a in every if a.id in actor.agency_ids]
    found = await services.people.rosters(shown)
    pairs = [(r.agency, r.members) for r in found]
    await reply(update, roster_text(request.language, pairs, services.settings.zone))


async def left_group(update: Update, context: AppContext) -> None:
    """Someone left the group (or was removed): whatever agency lives here, they are out of it."""
    message = update.effective_message
    if message is None or message.left_chat_member is None:
        return
    person = message.left_chat_member
    if person.is_bot:
        return  # the bot itself leaving is a my_chat_member update (handlers.agencies)
    await context.services.membership.left_chat(message.chat_id, person.id)


async def member_changed(update: Update, context: AppContext) -> None:
    """A member's status changed (an admin bot is told of every change, even where the group
    hides join and leave messages)."""
    change = update.chat_member
    if change is None:
        return
    new = change.new_chat_member
    if gone(new.status, getattr(new, "is_member", None)):
        await context.services.membership.left_chat(change.chat.id, new.user.id)


def register(app: App) -> None:
    app.add_handler(CommandHandler(JOIN.names, join, filters=ENDS))
    app.add_handler(CommandHandler(LEAVE.names, leave, filters=ENDS))
    app.add_handler(CommandHandler(REMOVE.names, remove, filters=ENDS))
    app.add_handler(CommandHandler(ON_DUTY.names, on_duty, filters=ENDS))
    app.add_handler(CommandHandler(OFF_DUTY.names, off_duty, filters=ENDS))
    app.add_handler(CommandHandler(ROSTER.names, roster, filters=ENDS))
    app.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, left_group))
    app.add_handler(ChatMemberHandler(member_changed, ChatMemberHandler.CHAT_MEMBER))
