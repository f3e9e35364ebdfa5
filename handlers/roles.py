"""/peran (/role): who holds which role, and granting or revoking one."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.commands import ESCALATION, ROLE
from bot.context import App, AppContext
from bot.i18n import N_, escape, t
from bot.render.organisation import role_label, roles_text
from bot.services.people import RoleChange
from handlers.guard import authorize, reply, usage
from handlers.targets import target_person
from models.access import Action
from models.agencies import Role
from models.reminders import EscalationReach

GRANT_WORDS = frozenset({"beri", "grant", "tambah", "add"})
REVOKE_WORDS = frozenset({"cabut", "revoke", "hapus", "remove"})


async def role(update: Update, context: AppContext) -> None:
    """`/peran` lists roles; `/peran beri|cabut <peran> [@username]` changes one (admins)."""
    args = context.args or []
    services = context.services
    if not args:
        request = await authorize(update, context, Action.VIEW_ROLES)
        if request is None:
            return
        holders = await services.people.role_holders()
        rows = [(h.name, h.role, h.configured) for h in holders]
        await reply(update, roles_text(request.language, rows))
        return
    request = await authorize(update, context, Action.MANAGE_ROLES)
    if request is None:
        return
    language = request.language
    verb = args[0].lower()
    if verb not in GRANT_WORDS | REVOKE_WORDS or len(args) < 2:
        await reply(update, usage(language, N_("usage.role")))
        return
    wanted = Role.parse(args[1])
    if wanted is None:
        valid = ", ".join(f"{r.value} ({r.english_code})" for r in Role)
        await reply(update, t(language, "role.unknown", wrong=args[1][:40], valid=valid))
        return
    person = await target_person(update, context, args[2:], language)
    if person is None:
        return
    outcome = await services.people.change_role(
        user_id=person.id,
        role=wanted,
        grant=verb in GRANT_WORDS,
        by_user=request.user.id,
    )
    key = {
        RoleChange.GRANTED: N_("role.granted"),
        RoleChange.REVOKED: N_("role.revoked"),
        RoleChange.ALREADY: N_("role.already") if verb in GRANT_WORDS else N_("role.not_held"),
        RoleChange.CONFIGURED_ADMIN: N_("role.configured_admin"),
    }[outcome]
    await reply(
        update,
        t(language, key, name=escape(person.display_name), role=role_label(language, wanted)),
    )


REACH_KEYS = {
    EscalationReach.GROUP: N_("escalation.reach.grup"),
    EscalationReach.PRIVATE: N_("escalation.reach.pribadi"),
    EscalationReach.BOTH: N_("escalation.reach.keduanya"),
}


async def escalation(update: Update, context: AppContext) -> None:
    """`/eskalasi grup|pribadi|keduanya`: where escalations reach this coordinator; alone, the
    current choice."""
    request = await authorize(update, context, Action.SET_ESCALATION)
    if request is None:
        return
    people, language, user_id = context.services.people, request.language, request.user.id
    args = context.args or []
    if not args:
        current = await people.escalation_reach(user_id)
        text = t(language, "escalation.current", reach=t(language, REACH_KEYS[current]))
        await reply(update, text + "\n" + usage(language, N_("usage.escalation")))
        return
    reach = EscalationReach.parse(args[0])
    if reach is None:
        await reply(update, usage(language, N_("usage.escalation")))
        return
    await people.set_escalation_reach(user_id, reach)
    await reply(update, t(language, "escalation.set", reach=t(language, REACH_KEYS[reach])))


def register(app: App) -> None:
    app.add_handler(CommandHandler(ROLE.names, role, filters=filters.UpdateType.MESSAGE))
    app.add_handler(
        CommandHandler(ESCALATION.names, escalation, filters=filters.UpdateType.MESSAGE)
    )
