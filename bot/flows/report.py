"""The guided report (`/lapor`) and the dispatcher's 112 call form (`/baru`) as conversations.

A report walks a reporter through the fields — type, where, what happened (with photos), anyone
hurt, a phone number — validates each answer, shows a review card and only then files the
incident, in the same transaction that ends the conversation, so a crash can neither lose the
report nor file it twice. The call form is the same flow in the dispatcher's words, without
photos and the hurt question; `/baru type | place | what | phone` files a call in one line.
At most `REPORT_LIMIT_COUNT` reports per `REPORT_LIMIT_WINDOW_MINUTES` per person.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, ClassVar

from telegram import ReplyKeyboardRemove

from bot.callbacks import Button, ButtonAction, ReportChoice, ReportStep
from bot.commands import NEW_CALL, REPORT
from bot.i18n import N_, t
from bot.render.cards import card_text, manage_card
from bot.render.report import (
    already_running_text,
    call_created_text,
    cancelled_text,
    expired_text,
    limited_text,
    open_private_for_report,
    problem_text,
    question,
    skip_label,
)
from bot.services.conversations import (
    Attachment,
    Edit,
    Ending,
    Flow,
    Input,
    Photo,
    Point,
    Pressed,
    Reply,
    Say,
    SharedContact,
    Start,
    Text,
    Turn,
    Unsupported,
    flow,
)
from bot.services.incidents import NewIncident
from bot.settings import Language, Settings
from bot.store import Tx
from models.access import Action
from models.conversations import Talk
from models.incident_types import IncidentType
from models.incidents import (
    Hurt,
    Incident,
    IncidentView,
    Lifecycle,
    Location,
    PhoneSource,
    Response,
    ResponseStatus,
    Source,
    initial_severity,
)
from models.report import (
    FIELDS,
    FIRST_STEP,
    MAX_PHOTOS,
    LocationCheck,
    Mode,
    Notice,
    Problem,
    Prompt,
    ReportField,
    ReportLimit,
    ServiceArea,
    Step,
    check_location,
    next_allowed,
    normalize_phone,
    parse_call_line,
    parse_hurt_count,
    validate_address,
    validate_caller_name,
    validate_description,
)

REMOVE_KEYBOARD = ReplyKeyboardRemove()


# What the report's own buttons and reply keyboard answer.
@dataclass(frozen=True, slots=True)
class TypeChosen:
    kind: IncidentType


@dataclass(frozen=True, slots=True)
class Choice:
    """One of the report's buttons (everything but the type)."""

    action: str  # far_ok, far_again, photos_done, submit, cancel, edit, hurt, hurt_unknown,
    # skip_contact
    value: int = 0


Answer = TypeChosen | Choice | Text | Point | SharedContact | Photo | Unsupported
STEPS = {
    ButtonAction.REPORT_PHOTOS_DONE: "photos_done",
    ButtonAction.REPORT_SUBMIT: "submit",
    ButtonAction.REPORT_CANCEL: "cancel",
}


def pressed_answer(button: Button) -> Answer | None:
    """What a report button answers; None for a value no button of ours carries."""
    if isinstance(button, ReportStep):
        return Choice(STEPS[button.action])
    if not isinstance(button, ReportChoice):
        return None
    value = button.value
    if button.action is ButtonAction.REPORT_TYPE:
        return TypeChosen(list(IncidentType)[value]) if 0 <= value < len(IncidentType) else None
    if button.action is ButtonAction.REPORT_FAR_OK:
        return Choice("far_ok" if value == 1 else "far_again") if value in (0, 1) else None
    if button.action is ButtonAction.REPORT_HURT:
        if value == -1:
            return Choice("hurt_unknown")
        return Choice("hurt", value) if 0 <= value < len(Hurt) else None
    return Choice("edit", value) if value >= 0 else None


PRACTICE_WORDS = frozenset({"latihan", "practice"})  # `/lapor latihan`: a report for practice


@flow
class ReportFlow(Flow):
    """A resident's or volunteer's report, in their private chat."""

    kind: ClassVar[str] = Mode.REPORT.value
    commands: ClassVar[tuple[str, ...]] = REPORT.names
    action = Action.REPORT_INCIDENT
    buttons = (ReportChoice, ReportStep)
    gone_key = N_("report.no_draft_button")
    label_key = N_("conversation.kind.report")
    mode: ClassVar[Mode] = Mode.REPORT

    def __init__(self, deps: Any) -> None:
        super().__init__(deps)
        settings: Settings = deps.settings
        self.settings = settings
        self.incidents = deps.incidents
        self.area = ServiceArea(
            settings.service_area_latitude,
            settings.service_area_longitude,
            settings.service_area_radius_km,
        )
        self.limit = ReportLimit(settings.report_limit_count, settings.report_limit_window_minutes)

    # --- the flow ---

    def replaces(self, talk: Talk, start: Start) -> bool:
        """A real `/lapor` over a practice draft starts afresh: practice never stands between
        a person and a real report. (A practice over a real draft shows the real one, which
        says it is no practice.)"""
        practice = bool(start.args) and start.args[0].lower() in PRACTICE_WORDS
        return bool(talk.data.get("practice")) and not practice

    def in_group(self, language: Language, bot_username: str) -> Say:
        """`/lapor` in a group: a button that opens the private chat and starts there."""
        text, keyboard = open_private_for_report(language, bot_username)
        return Say(text, keyboard)

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        if self.mode is Mode.REPORT and start.args and start.args[0].lower() in PRACTICE_WORDS:
            # `/lapor latihan`: the real steps, a card at the end, nothing sent to anyone.
            prompt = Prompt(Step.TYPE, self.mode, {"practice": True})
            reply = self._reply(prompt, start.language)
            intro = Say(t(start.language, "report.practice_intro"))
            return Turn(Step.TYPE.value, {"practice": True}, reply.but(says=(intro, *reply.says)))
        if self.mode is Mode.REPORT:
            until = next_allowed(
                await tx.reports_since(start.user_id, now - self.limit.window), now, self.limit
            )
            if until is not None:
                return Turn(
                    None,
                    reply=self._reply(Prompt(None, self.mode, limited_until=until), start.language),
                )
        prompt = Prompt(Step.TYPE, self.mode)
        return Turn(Step.TYPE.value, {}, self._reply(prompt, start.language))

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        prompt = Prompt(Step(talk.step), self.mode, dict(talk.data), already_running=True)
        return self._reply(prompt, self.language(talk)).but(pressed=None)

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        language, user_id = self.language(talk), talk.user_id
        answer: Answer | None
        if isinstance(given, Pressed):
            answer = pressed_answer(given.button)
            if answer is None:
                return Turn(
                    talk.step, talk.data, Reply(pressed=None, refused=t(language, "callback.stale"))
                )
        elif isinstance(given, Text) and given.text.strip() == skip_label(language):
            answer = Choice("skip")
        elif isinstance(given, Attachment):
            answer = Unsupported()  # a report takes words, a place and photos
        else:
            answer = given
        mode, step, data = self.mode, Step(talk.step), dict(talk.data)
        if isinstance(answer, Choice) and answer.action == "cancel":
            return Turn(None, reply=self._reply(Prompt(None, mode, cancelled=True), language))
        phone_message = data.get("phone_message_id")
        outcome = self._apply(mode, step, data, answer)
        if mode is Mode.REPORT and isinstance(answer, Text | SharedContact):
            kept = outcome.data if isinstance(outcome, Prompt) else data
            message_id = kept.get("phone_message_id")
            if message_id is not None and message_id != phone_message:
                # The person's own message carries their number: it goes if they ask the bot
                # to forget them.
                await tx.remember_personal_message(user_id, user_id, message_id)
        if isinstance(outcome, Prompt):
            assert outcome.step is not None
            return Turn(outcome.step.value, outcome.data, self._reply(outcome, language))
        # The review was submitted: the conversation ends and the incident comes in one
        # transaction, so a crash cannot lose the report nor file it twice.
        if data.get("practice"):
            card = await self._practice_card(tx, mode, data, user_id, language, now)
            done = t(language, "report.practice_done")
            return Turn(None, reply=Reply((Say(card, REMOVE_KEYBOARD),), pressed=Edit(done)))
        if mode is Mode.REPORT:
            until = next_allowed(
                await tx.reports_since(user_id, now - self.limit.window), now, self.limit
            )
            if until is not None:
                prompt = Prompt(step, mode, data, limited_until=until)
                return Turn(step.value, data, self._reply(prompt, language).but(pressed=None))
        submitted = await self.incidents.submit_in(tx, self._incident_from(mode, data, user_id))
        if mode is Mode.REPORT and data.get("phone") and data.get("own_phone"):
            await tx.set_phone(user_id, str(data["phone"]))
        reply = self._reply(Prompt(None, mode, data, submitted=submitted), language)
        if mode is Mode.CALL:
            manage = await self.manage_card(tx, submitted.incident_id, language)
            reply = reply.but(says=reply.says + manage)
        return Turn(None, reply=reply)

    async def _practice_card(
        self,
        tx: Tx,
        mode: Mode,
        data: dict[str, Any],
        user_id: int,
        language: Language,
        now: datetime,
    ) -> str:
        """The card the agencies would have seen for a practice report: nothing is filed."""
        new = self._incident_from(mode, data, user_id)
        person = await tx.person(user_id)
        incident = Incident(
            id=0,
            type=new.kind,
            severity=initial_severity(new.kind, new.hurt, new.hurt_count),
            lifecycle=Lifecycle.OPEN,
            source=Source.REPORT,
            reporter_id=user_id,
            reporter_name=person.display_name if person is not None else None,
            reporter_phone=new.phone,
            location=new.location,
            description=new.description,
            hurt=new.hurt,
            hurt_count=new.hurt_count,
            photos=tuple(new.photos),
            merged_into=None,
            cancel_reason=None,
            created_at=now,
            updated_at=now,
            closed_at=None,
            reporter_phone_source=new.phone_source,
        )
        responses = [
            Response(0, a.id, a.code, a.name, ResponseStatus.WAITING, None, None, None, False, now)
            for a in await tx.routed_agencies(new.kind)
        ]
        card = card_text(
            language, IncidentView(incident, responses), self.settings.zone, show_phone=True
        )
        return t(language, "report.practice_card") + "\n\n" + card

    async def manage_card(self, tx: Tx, incident_id: int, language: Language) -> tuple[Say, ...]:
        """The incident's management card, for the dispatcher who just filed the call."""
        view = await tx.incident_view(incident_id)
        if view is None:
            return ()
        routed = {r.agency_id for r in view.responses}
        addable = [a for a in await tx.active_agencies() if a.is_agency and a.id not in routed]
        text, keyboard = manage_card(language, view, addable, zone=self.settings.zone)
        return (Say(text, keyboard),)

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        if why is Ending.EXPIRED:
            return Reply((Say(expired_text(self.language(talk)), REMOVE_KEYBOARD),))
        if why is Ending.CANCELLED:
            return Reply((Say(cancelled_text(self.language(talk)), REMOVE_KEYBOARD),))
        return Reply()

    # --- what the person is told ---

    def _reply(self, prompt: Prompt, language: Language) -> Reply:
        """The messages for a prompt (see `_said`); a practice draft's, each headed so."""
        reply = self._said(prompt, language)
        if not prompt.data.get("practice"):
            return reply
        line = t(language, "report.practice_line")
        return reply.but(says=tuple(replace(say, text=f"{line}\n{say.text}") for say in reply.says))

    def _said(self, prompt: Prompt, language: Language) -> Reply:
        """The messages for a prompt: a correction or notice, then the step's question (the
        one the conversation waits on), or what became of the report."""
        zone = self.settings.zone
        if prompt.limited_until is not None:
            return Reply(
                (Say(limited_text(language, prompt.limited_until, zone), REMOVE_KEYBOARD),)
            )
        if prompt.cancelled:
            return Reply((Say(cancelled_text(language), REMOVE_KEYBOARD),))
        if prompt.submitted is not None:
            submitted = prompt.submitted
            if prompt.mode is Mode.CALL:
                text = call_created_text(
                    language, submitted.incident_id, submitted.agency_names, submitted.fallback
                )
                return Reply((Say(text, REMOVE_KEYBOARD),))
            # A reporter's confirmation comes through the outbox with the submission itself;
            # the review card says it was sent.
            return Reply(
                pressed=Edit(t(language, "report.submitted", number=submitted.incident_id))
            )
        if prompt.step is None:
            return Reply()
        text, markup = question(language, prompt)
        before = problem_text(language, prompt)
        if prompt.already_running:
            before = already_running_text(language)
        if before:
            text = before + "\n\n" + text
        return Reply((Say(text, markup, question=True),))

    def _apply(self, mode: Mode, step: Step, data: dict[str, Any], given: Answer) -> Prompt | None:
        """The next prompt, or None when the review was submitted."""
        if isinstance(given, Choice) and given.action == "edit":
            fields = FIELDS[mode]
            if not 0 <= given.value < len(fields) or step is not Step.REVIEW:
                return Prompt(step, mode, data, notice=Notice.NOT_EXPECTED)
            data["editing"] = True
            data.pop("described_in_captions", None)  # a new description replaces the old one
            return Prompt(FIRST_STEP[(mode, fields[given.value])], mode, data)
        if isinstance(given, Unsupported):
            return Prompt(step, mode, data, notice=Notice.UNSUPPORTED_MEDIA)
        handler = {
            Step.TYPE: self._type,
            Step.LOCATION: self._location,
            Step.LOCATION_FAR: self._location_far,
            Step.DESCRIPTION: self._description,
            Step.HURT: self._hurt,
            Step.HURT_COUNT: self._hurt_count,
            Step.CONTACT: self._contact,
            Step.PHONE: self._phone,
            Step.CALLER_NAME: self._caller_name,
            Step.REVIEW: self._review,
        }[step]
        return handler(mode, data, given)

    def _after(self, mode: Mode, data: dict[str, Any], done: ReportField) -> Prompt:
        """The step after a completed field: the next field, or the review when editing."""
        fields = FIELDS[mode]
        if data.pop("editing", False):
            return Prompt(Step.REVIEW, mode, data)
        index = fields.index(done) + 1
        if index >= len(fields):
            return Prompt(Step.REVIEW, mode, data)
        return Prompt(FIRST_STEP[(mode, fields[index])], mode, data)

    def _type(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, TypeChosen):
            data["type"] = given.kind.value
            return self._after(mode, data, ReportField.TYPE)
        if isinstance(given, Text) and (kind := IncidentType.parse(given.text)) is not None:
            data["type"] = kind.value
            return self._after(mode, data, ReportField.TYPE)
        return Prompt(Step.TYPE, mode, data, notice=Notice.NOT_EXPECTED)

    def _location(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Point):
            verdict = check_location(given.latitude, given.longitude, self.area)
            if verdict is LocationCheck.INVALID:
                return Prompt(Step.LOCATION, mode, data, notice=Notice.LOCATION_INVALID)
            data.update(latitude=given.latitude, longitude=given.longitude, address=given.address)
            if verdict is LocationCheck.FAR:
                return Prompt(Step.LOCATION_FAR, mode, data)
            return self._after(mode, data, ReportField.LOCATION)
        if isinstance(given, Text):
            address = validate_address(given.text)
            if isinstance(address, Problem):
                return Prompt(Step.LOCATION, mode, data, problem=address)
            data.update(latitude=None, longitude=None, address=address)
            return self._after(mode, data, ReportField.LOCATION)
        return Prompt(Step.LOCATION, mode, data, notice=Notice.NOT_EXPECTED)

    def _location_far(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Choice) and given.action == "far_ok":
            return self._after(mode, data, ReportField.LOCATION)
        if isinstance(given, Choice) and given.action == "far_again":
            return Prompt(Step.LOCATION, mode, data)
        # A new location or address instead of an answer is fine too.
        return self._location(mode, data, given)

    def _description(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        photos: list[str] = list(data.get("photos", []))
        if isinstance(given, Photo):
            if mode is Mode.CALL:
                return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.NOT_EXPECTED)
            if len(photos) >= MAX_PHOTOS:
                return Prompt(
                    Step.DESCRIPTION,
                    mode,
                    data,
                    notice=Notice.TOO_MANY_PHOTOS,
                    notice_params={"max": MAX_PHOTOS},
                )
            photos.append(given.file_id)
            data["photos"] = photos
            if given.caption:
                # Captions describe too: each one adds to what the reporter wrote, in order.
                described = validate_description(self._added(data, given.caption))
                if not isinstance(described, Problem):
                    data.update(description=described, described_in_captions=True)
            if "description" in data:
                return Prompt(Step.DESCRIPTION, mode, data)  # the question counts the photos
            return Prompt(
                Step.DESCRIPTION,
                mode,
                data,
                notice=Notice.PHOTO_ADDED,
                notice_params={"count": len(photos), "max": MAX_PHOTOS},
            )
        if isinstance(given, Choice) and given.action == "photos_done":
            if "description" not in data:
                return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.DESCRIBE_FIRST)
            return self._after(mode, data, ReportField.DESCRIPTION)
        if isinstance(given, Text):
            # A text after captioned photos is more of the same story, not a replacement.
            described = validate_description(self._added(data, given.text))
            if isinstance(described, Problem):
                return Prompt(Step.DESCRIPTION, mode, data, problem=described)
            data["description"] = described
            data.pop("described_in_captions", None)
            return self._after(mode, data, ReportField.DESCRIPTION)
        return Prompt(Step.DESCRIPTION, mode, data, notice=Notice.NOT_EXPECTED)

    @staticmethod
    def _added(data: dict[str, Any], text: str) -> str:
        """`text` after what the captions of this description already said."""
        if data.get("described_in_captions") and data.get("description"):
            return f"{data['description']}\n{text}"
        return text

    def _hurt(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Choice) and given.action == "hurt" and 0 <= given.value < len(Hurt):
            hurt = list(Hurt)[given.value]
            data["hurt"] = hurt.value
            data["hurt_count"] = None
            if hurt is Hurt.YES:
                return Prompt(Step.HURT_COUNT, mode, data)
            return self._after(mode, data, ReportField.HURT)
        return Prompt(Step.HURT, mode, data, notice=Notice.NOT_EXPECTED)

    def _hurt_count(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Choice) and given.action == "hurt_unknown":
            data["hurt_count"] = None
            return self._after(mode, data, ReportField.HURT)
        if isinstance(given, Text):
            count = parse_hurt_count(given.text)
            if isinstance(count, Problem):
                return Prompt(Step.HURT_COUNT, mode, data, problem=count)
            data["hurt_count"] = count
            return self._after(mode, data, ReportField.HURT)
        return Prompt(Step.HURT_COUNT, mode, data, notice=Notice.NOT_EXPECTED)

    def _contact(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, SharedContact):
            if not given.own:
                return Prompt(Step.CONTACT, mode, data, notice=Notice.NOT_OWN_CONTACT)
            phone = normalize_phone(given.phone)
            if isinstance(phone, Problem):
                return Prompt(Step.CONTACT, mode, data, problem=phone)
            data.update(
                phone=phone,
                phone_source=PhoneSource.CONTACT.value,
                own_phone=True,
                phone_message_id=given.message_id,
            )
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Choice) and given.action == "skip":
            data.update(phone=None, phone_source=None, own_phone=False, phone_message_id=None)
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Text):
            # A typed number may be anybody's: it is kept as given by the reporter, not as theirs.
            phone = normalize_phone(given.text)
            if isinstance(phone, Problem):
                return Prompt(Step.CONTACT, mode, data, problem=phone)
            data.update(
                phone=phone,
                phone_source=PhoneSource.TYPED.value,
                own_phone=False,
                phone_message_id=given.message_id,
            )
            return self._after(mode, data, ReportField.CONTACT)
        return Prompt(Step.CONTACT, mode, data, notice=Notice.NOT_EXPECTED)

    def _phone(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Choice) and given.action == "skip":
            data["phone"] = None
            return self._after(mode, data, ReportField.CONTACT)
        if isinstance(given, Text | SharedContact):
            phone = normalize_phone(given.text if isinstance(given, Text) else given.phone)
            if isinstance(phone, Problem):
                return Prompt(Step.PHONE, mode, data, problem=phone)
            data.update(phone=phone, phone_source=PhoneSource.CALL.value)
            return self._after(mode, data, ReportField.CONTACT)
        return Prompt(Step.PHONE, mode, data, notice=Notice.NOT_EXPECTED)

    def _caller_name(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt:
        if isinstance(given, Choice) and given.action == "skip":
            data["caller_name"] = None
            return self._after(mode, data, ReportField.CALLER)
        if isinstance(given, Text):
            name = validate_caller_name(given.text)
            if isinstance(name, Problem):
                return Prompt(Step.CALLER_NAME, mode, data, problem=name)
            data["caller_name"] = name
            return self._after(mode, data, ReportField.CALLER)
        return Prompt(Step.CALLER_NAME, mode, data, notice=Notice.NOT_EXPECTED)

    def _review(self, mode: Mode, data: dict[str, Any], given: Answer) -> Prompt | None:
        if isinstance(given, Choice) and given.action == "submit":
            return None
        return Prompt(Step.REVIEW, mode, data, notice=Notice.NOT_EXPECTED)

    def _incident_from(self, mode: Mode, data: dict[str, Any], user_id: int) -> NewIncident:
        return NewIncident(
            kind=IncidentType(data["type"]),
            location=Location(data.get("latitude"), data.get("longitude"), data.get("address")),
            description=str(data["description"]),
            hurt=Hurt(data.get("hurt", Hurt.UNKNOWN.value)),
            hurt_count=data.get("hurt_count"),
            photos=list(data.get("photos", [])),
            phone=data.get("phone"),
            phone_source=PhoneSource(data["phone_source"]) if data.get("phone_source") else None,
            source=Source.REPORT if mode is Mode.REPORT else Source.CALL,
            reporter_id=user_id if mode is Mode.REPORT else None,
            caller_name=data.get("caller_name") if mode is Mode.CALL else None,
        )


@flow
class CallFlow(ReportFlow):
    """A dispatcher enters a 112 call: `/baru type | place | what | phone` in one line, or a
    short form without photos and the hurt question."""

    kind: ClassVar[str] = Mode.CALL.value
    commands: ClassVar[tuple[str, ...]] = NEW_CALL.names
    action = Action.ENTER_CALL
    label_key = N_("conversation.kind.call")
    mode: ClassVar[Mode] = Mode.CALL

    def in_group(self, language: Language, bot_username: str) -> None:  # type: ignore[override]
        return None  # the policy answers: dispatchers enter calls in private

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        line = " ".join(start.args).strip()
        if not line:
            return await super().begin(tx, start, now)
        parsed = parse_call_line(line)
        language = start.language
        if isinstance(parsed, Problem):
            text = t(language, parsed.value) + "\n\n" + t(language, "report.call_usage")
            return Turn(None, reply=Reply((Say(text),)))
        call = NewIncident(
            origin_update_id=start.origin_update_id,
            kind=parsed.type,
            location=Location(None, None, parsed.address),
            description=parsed.description,
            phone=parsed.phone,
            phone_source=PhoneSource.CALL if parsed.phone else None,
            source=Source.CALL,
            caller_name=parsed.caller_name,
            hurt=parsed.hurt,
            hurt_count=parsed.hurt_count,
        )
        submitted = await self.incidents.submit_in(tx, call)
        text = call_created_text(
            language, submitted.incident_id, submitted.agency_names, submitted.fallback
        )
        manage = await self.manage_card(tx, submitted.incident_id, language)
        return Turn(None, reply=Reply((Say(text), *manage)))
