"""The buttons of an on-duty member's private alert (`bot.render.alerts`): ✅ acknowledge for the
agency, 🙋 take the call myself. They act for the agency exactly as the card's buttons in its
group do (first press wins), after checking with Telegram that the presser is still in the
agency's group — the alert is in private, where the group's own membership cannot vouch."""

from __future__ import annotations

from bot.callbacks import ButtonAction, DutyButton
from bot.context import App
from bot.i18n import t
from handlers.incidents import answer_outcome
from handlers.presses import Press, route
from models.access import Action, Target


async def duty_button(press: Press, button: DutyButton) -> None:
    if not press.private:
        await press.refuse("an alert's button outside a private chat")
        return
    agencies = frozenset({button.agency_id})
    request = await press.authorize(Action.ACKNOWLEDGE_FROM_ALERT, Target(agencies))
    if request is None:
        return
    services = press.services
    if not await services.membership.still_in(press.user.id, agencies):
        await press.answer(t(press.language, "duty.not_in_group"), alert=True)
        return
    incidents = services.incidents
    with incidents.completes_update():
        if button.action is ButtonAction.DUTY_ACK:
            result = await incidents.acknowledge(
                button.incident_id, button.agency_id, press.user.id
            )
        else:  # take it myself: acknowledges for the agency too, and the task card follows
            result = await incidents.assign(
                button.incident_id, button.agency_id, press.user.id, press.user.id
            )
    await answer_outcome(press, result)


def register(app: App) -> None:
    route(app, DutyButton, duty_button)
