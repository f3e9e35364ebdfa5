"""The outbox: what is written is delivered, in order, across faults and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.runtime.outbox import MARK_LINGER, OutboxSender
from bot.simulator import SimUser, TelegramSimulator
from bot.store import Store
from bot.store.codec import from_db_time, to_db_time
from bot.store.outbox import OutboxQueries
from models.clock import ManualClock
from models.outbox import LINK, OutboxItem, OutboxStatus, OutgoingMessage, Priority, SendMethod
from models.shown import showing
from tests.harness import BotHarness


def text(chat_id: int, body: str, **extra: object) -> OutgoingMessage:
    return OutgoingMessage(chat_id, SendMethod.SEND_MESSAGE, {"text": body, **extra})


async def enqueue(store: Store, *messages: OutgoingMessage) -> list[int]:
    async with store.transaction() as tx:
        return [await tx.enqueue(message, store.clock.now()) for message in messages]


async def started_user(sim: TelegramSimulator, harness: BotHarness, name: str = "Sari") -> SimUser:
    user = sim.add_user(name, language_code="id")
    await harness.says(user, "/start")
    return user


def texts_in(sim: TelegramSimulator, user: SimUser) -> list[str]:
    return [m.text or "" for m in sim.bot_messages(sim.private_chat(user))]


async def test_message_written_while_the_bot_is_down_is_sent_at_start(
    sim: TelegramSimulator, harness: BotHarness, tmp_path: Path
) -> None:
    await harness.start()
    sari = await started_user(sim, harness)
    await harness.stop()

    store = Store(harness.database_path)
    await store.open()
    await enqueue(store, text(sari.id, "Kartu kejadian #1"))
    await store.close()

    await harness.start()
    await sim.wait_for(
        lambda: "Kartu kejadian #1" in texts_in(sim, sari), what="the queued message"
    )
    await harness.settle()
    assert texts_in(sim, sari).count("Kartu kejadian #1") == 1


async def test_message_pending_through_an_outage_and_a_restart_is_sent_once(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = await started_user(sim, harness)
    sim.faults.outage = True
    [item_id] = await enqueue(harness.services.store, text(sari.id, "Peringatan banjir"))
    await sim.wait_for(
        lambda: any(call.method == "sendMessage" and not call.ok for call in sim.calls),
        what="a send attempt during the outage",
    )
    await harness.stop()  # the bot stops with the message still pending
    assert "Peringatan banjir" not in texts_in(sim, sari)

    sim.faults.outage = False
    await harness.start()
    await sim.wait_for(
        lambda: "Peringatan banjir" in texts_in(sim, sari), what="delivery after restart"
    )
    await harness.settle()
    assert texts_in(sim, sari).count("Peringatan banjir") == 1
    async with harness.services.store.read() as tx:
        item = await tx.outbox_item(item_id)
    assert item is not None
    assert item.status is OutboxStatus.SENT
    assert item.attempts >= 2
    assert item.message_id == sim.bot_messages(sim.private_chat(sari))[-1].message_id


async def test_server_errors_are_retried(sim: TelegramSimulator, harness: BotHarness) -> None:
    await harness.start()
    sari = await started_user(sim, harness)
    sim.faults.fail_next(3, status=502)
    await enqueue(harness.services.store, text(sari.id, "Setelah tiga kegagalan"))
    await sim.wait_for(lambda: "Setelah tiga kegagalan" in texts_in(sim, sari), what="retried send")
    failures = [c for c in sim.calls if c.method == "sendMessage" and c.error_code == 502]
    assert len(failures) == 3


async def test_retry_after_holds_back_only_that_chat(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = await started_user(sim, harness, "Sari")
    budi = await started_user(sim, harness, "Budi")
    sim.faults.retry_after = 1
    sim.faults.fail_next(1, status=429)
    store = harness.services.store
    await enqueue(store, text(sari.id, "satu"), text(sari.id, "dua"), text(budi.id, "untuk Budi"))
    await sim.wait_for(lambda: "dua" in texts_in(sim, sari), what="sari's messages after the 429")
    # Order within the chat survived the 429; the other chat was not held up behind it.
    assert texts_in(sim, sari)[-2:] == ["satu", "dua"]
    budi_call = next(c for c in sim.calls if c.ok and c.params.get("text") == "untuk Budi")
    sari_call = next(c for c in sim.calls if c.ok and c.params.get("text") == "satu")
    assert budi_call.at < sari_call.at
    assert any(c.error_code == 429 for c in sim.calls)


async def test_edit_finds_the_message_by_its_ref(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = await started_user(sim, harness)
    store = harness.services.store
    await enqueue(
        store,
        OutgoingMessage(
            sari.id, SendMethod.SEND_MESSAGE, {"text": "Status: menunggu"}, ref="card:1:x"
        ),
        OutgoingMessage(
            sari.id,
            SendMethod.EDIT_MESSAGE_TEXT,
            {"text": "Status: diterima"},
            target_ref="card:1:x",
        ),
        # The same edit again: Telegram answers "message is not modified", which is success.
        OutgoingMessage(
            sari.id,
            SendMethod.EDIT_MESSAGE_TEXT,
            {"text": "Status: diterima"},
            target_ref="card:1:x",
        ),
    )
    await harness.settle()
    shown = texts_in(sim, sari)
    assert "Status: diterima" in shown and "Status: menunggu" not in shown
    async with store.read() as tx:
        assert await tx.count_outbox(OutboxStatus.PENDING) == 0
        assert await tx.count_outbox(OutboxStatus.PARKED) == 0
        assert await tx.message_ref("card:1:x") is not None


async def test_refused_message_is_parked_and_the_chat_moves_on(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.expect_refusal("can't parse entities")  # the broken row is the test's own
    await harness.start()
    sari = await started_user(sim, harness)
    store = harness.services.store
    [bad, _good] = await enqueue(
        store,
        text(sari.id, "<b>tidak ditutup", parse_mode="HTML"),
        text(sari.id, "berikutnya"),
    )
    await sim.wait_for(lambda: "berikutnya" in texts_in(sim, sari), what="the next message")
    async with store.read() as tx:
        parked = await tx.outbox_item(bad)
    assert parked is not None and parked.status is OutboxStatus.PARKED
    assert parked.last_error is not None
    assert "can't parse entities" in parked.last_error.lower()


async def test_person_who_never_started_the_bot_is_parked_not_retried_forever(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    sim.expect_refusal("can't initiate conversation")  # how the bot learns it
    await harness.start()
    stranger = sim.add_user("Stranger", language_code="id")
    [item_id] = await enqueue(harness.services.store, text(stranger.id, "halo"))
    await harness.settle()
    async with harness.services.store.read() as tx:
        item = await tx.outbox_item(item_id)
    assert item is not None and item.status is OutboxStatus.PARKED
    assert item.last_error is not None and item.last_error.startswith("Forbidden")


async def test_urgent_messages_go_before_digests(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    await harness.start()
    sari = await started_user(sim, harness, "Sari")
    budi = await started_user(sim, harness, "Budi")
    await harness.stop()
    store = Store(harness.database_path)
    await store.open()
    await enqueue(
        store,
        OutgoingMessage(sari.id, SendMethod.SEND_MESSAGE, {"text": "ringkasan"}, Priority.DIGEST),
        OutgoingMessage(budi.id, SendMethod.SEND_MESSAGE, {"text": "kartu"}, Priority.URGENT),
    )
    await store.close()
    await harness.start()
    await harness.settle()
    order = [c.params.get("text") for c in sim.calls if c.ok and c.method == "sendMessage"]
    assert order.index("kartu") < order.index("ringkasan")


def test_backoff_grows_and_is_capped() -> None:
    import random

    from bot.runtime.outbox import backoff

    rng = random.Random(1)
    waits = [backoff(attempt, 60.0, rng) for attempt in range(12)]
    assert waits[0] < 1.0
    assert waits[3] > waits[0]
    assert max(waits) <= 60.0 * 1.2
    assert timedelta(seconds=waits[-1]) >= timedelta(seconds=48)


async def test_a_card_whose_send_was_cut_short_is_sent_again_and_marked(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """The bot died after starting to send a card, before learning if Telegram took it."""
    await harness.start()
    sari = await started_user(sim, harness)
    await harness.stop()
    store = Store(harness.database_path)
    await store.open()
    [item_id] = await enqueue(
        store,
        OutgoingMessage(sari.id, SendMethod.SEND_MESSAGE, {"text": "Kartu #7"}, ref="card:7:1"),
    )
    async with store.transaction() as tx:
        await tx.db.execute("UPDATE outbox SET attempted_at = created_at WHERE id = ?", (item_id,))
    await store.close()
    await harness.start()
    await harness.settle()
    shown = texts_in(sim, sari)
    assert shown.count("Kartu #7") == 1
    notice = sim.bot_messages(sim.private_chat(sari))[-1]
    assert notice.text is not None and "mungkin muncul dua kali" in notice.text
    card = next(m for m in sim.bot_messages(sim.private_chat(sari)) if m.text == "Kartu #7")
    assert notice.reply_to_message_id == card.message_id, (
        "the notice sits under the copy that counts"
    )
    # A card sent without any doubt gets no such notice.
    before = len(sim.bot_messages(sim.private_chat(sari)))
    await enqueue(
        harness.services.store,
        OutgoingMessage(sari.id, SendMethod.SEND_MESSAGE, {"text": "Kartu #8"}, ref="card:8:1"),
    )
    await harness.settle()
    assert len(sim.bot_messages(sim.private_chat(sari))) == before + 1


async def test_a_due_edit_comes_with_the_message_it_edits(tmp_path: Path) -> None:
    async with Store(tmp_path / "o.db") as store:
        now = store.clock.now()
        async with store.transaction() as tx:
            await tx.enqueue(
                OutgoingMessage(5, SendMethod.SEND_MESSAGE, {"text": "a"}, ref="c"), now
            )
            [card] = await tx.due_outbox(now, 10)
            await tx.mark_sent(card, 77, now)
            for target in ("c", "not-sent-yet"):
                edit = OutgoingMessage(
                    5, SendMethod.EDIT_MESSAGE_TEXT, {"text": "b"}, target_ref=target
                )
                await tx.enqueue(edit, now)
            [due] = await tx.due_outbox(now, 10)
            assert due.target_ref == "c" and due.target == (5, 77)
            await tx.mark_sent(due, None, now)
            [due] = await tx.due_outbox(now, 10)
            assert due.target_ref == "not-sent-yet" and due.target is None
            # An alert's link to its card comes with the row too, once the card was sent.
            await tx.mark_sent(due, None, now)
            for card in ("c", "not-sent-yet"):
                link = {LINK: {"ref": card, "text": "📋 Kartu"}}
                await tx.enqueue(text(6, f"alert {card}", **link), now)
            [due] = await tx.due_outbox(now, 10)
            assert due.link_target == (5, 77)
            await tx.mark_sent(due, 78, now)
            [due] = await tx.due_outbox(now, 10)
            assert due.payload["text"] == "alert not-sent-yet" and due.link_target is None


async def test_a_sent_edit_is_marked_by_a_statement_that_commits_on_its_own(
    tmp_path: Path,
) -> None:
    async with Store(tmp_path / "o.db") as store:
        edit = OutgoingMessage(5, SendMethod.EDIT_MESSAGE_TEXT, {"text": "b"}, target_ref="c")
        await enqueue(store, edit)
        now = store.clock.now()
        async with store.lookup() as tx:
            [due] = await tx.due_outbox(now, 10)
        async with store.single_write() as tx:
            await tx.mark_sent(due, None, now)
        assert not store.db.in_transaction
        # Another connection (the next start, after a crash) sees it sent.
        with contextlib.closing(sqlite3.connect(tmp_path / "o.db")) as other:
            row = other.execute("SELECT status FROM outbox WHERE id = ?", (due.id,)).fetchone()
        assert row == (OutboxStatus.SENT.value,)


async def test_a_link_waits_for_its_message_queued_behind_others_without_the_clock(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    """An alert that links to its card in a group, the card queued behind an earlier message of
    that group: the alert waits for the card to be sent, not for a time to pass (a clock that
    stands still would otherwise hold it forever), and then carries the card's link."""
    clock = ManualClock()
    await harness.start(clock=clock)
    sari = await started_user(sim, harness)
    group = sim.add_group("Damkar", members=[sari], supergroup=True)  # its messages have links
    sim.add_bot_to_group(group, by=sari)
    await harness.settle()
    card = OutgoingMessage(
        group.id, SendMethod.SEND_MESSAGE, {"text": "kartu #9"}, Priority.URGENT, ref="card:9:1"
    )
    alert = OutgoingMessage(
        sari.id,
        SendMethod.SEND_MESSAGE,
        {"text": "panggilan #9", LINK: {"ref": "card:9:1", "text": "Buka kartu"}},
        Priority.URGENT,
        ref="duty:9:1:1",
        target_ref="card:9:1",
    )
    [*_, alert_id] = await enqueue(
        harness.services.store, text(group.id, "lebih dulu"), card, alert
    )
    await harness.settle()
    [sent_alert] = [m for m in sim.bot_messages(sim.private_chat(sari)) if m.text == "panggilan #9"]
    sent_card = next(m for m in sim.bot_messages(group) if m.text == "kartu #9")
    assert sent_alert.date >= sent_card.date
    assert sent_alert.buttons == [["Buka kartu"]]  # the link to the card, known once it was sent
    async with harness.services.store.read() as tx:
        item = await tx.outbox_item(alert_id)
    assert item is not None and item.status is OutboxStatus.SENT
    assert clock.now() == item.created_at  # nothing needed the clock to move


async def test_an_edit_superseded_on_its_way_is_recorded_as_sent_with_what_it_shows(
    tmp_path: Path,
) -> None:
    """A newer edit of a card dropped the one already on its way; that one reached Telegram all
    the same, so it is marked sent and the card's record shows it (the newer edit is compared
    with it)."""
    async with Store(tmp_path / "o.db") as store:
        now = store.clock.now()

        def edit(body: str) -> OutgoingMessage:
            keyboard = {"inline_keyboard": [[{"text": body, "callback_data": f"v1|{body}"}]]}
            payload = {"text": body, "reply_markup": keyboard}
            return OutgoingMessage(5, SendMethod.EDIT_MESSAGE_TEXT, payload, target_ref="c")

        async with store.transaction() as tx:
            await tx.enqueue(
                OutgoingMessage(5, SendMethod.SEND_MESSAGE, {"text": "a"}, ref="c"), now
            )
            [card] = await tx.due_outbox(now, 10)
            await tx.mark_sent(card, 77, now)
            await tx.enqueue(edit("b"), now)
            [on_its_way] = await tx.due_outbox(now, 10)
            await tx.enqueue(edit("c"), now)  # supersedes "b" while it is being sent
            async with tx.db.execute(
                "SELECT status FROM outbox WHERE id = ?", (on_its_way.id,)
            ) as cursor:
                assert tuple(await cursor.fetchone() or ()) == (OutboxStatus.DROPPED.value,)
            shows = showing(on_its_way.method.value, on_its_way.payload)
            assert shows is not None
            await tx.mark_sent(on_its_way, None, now, shows)
            async with tx.db.execute(
                "SELECT status FROM outbox WHERE id = ?", (on_its_way.id,)
            ) as cursor:
                assert tuple(await cursor.fetchone() or ()) == (OutboxStatus.SENT.value,)
            assert not shows.changes(await tx.shown(5, 77)), "the card's record shows 'b'"
            [newer] = await tx.due_outbox(now, 10)
            assert newer.payload["text"] == "c" and not shows.changes(newer.shown)


async def test_the_marks_of_sends_that_finish_together_share_one_commit(tmp_path: Path) -> None:
    """Three sends Telegram took while the store was busy: their marks wait, then go in one
    transaction; each send returns only once its mark is committed."""
    async with Store(tmp_path / "o.db") as store:
        await enqueue(store, text(5, "a"), text(6, "b"), text(7, "c"))
        async with store.lookup() as tx:
            items = await tx.due_outbox(store.clock.now(), 10)
        sender = OutboxSender(store, cast(Any, None))
        async with store.transaction():  # the store is busy (a press being handled)
            marking = [
                asyncio.create_task(sender._mark_sent(item, 100 + n))
                for n, item in enumerate(items)
            ]
            await asyncio.sleep(0)  # one step of each task: each hands in its mark
            assert len(sender._marks) == 3 and not any(task.done() for task in marking)
        await asyncio.gather(*marking)
        assert sender.mark_commits == 1 and sender.sent_count == 3
        async with store.lookup() as tx:
            assert await tx.due_outbox(store.clock.now(), 10) == []
            sent = await tx.db.execute_fetchall("SELECT status, message_id FROM outbox")
        assert sorted(tuple(row) for row in sent) == [("sent", 100), ("sent", 101), ("sent", 102)]


async def test_a_mark_that_fails_fails_only_its_own_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Store(tmp_path / "o.db") as store:
        await enqueue(store, text(5, "a"), text(6, "b"))
        async with store.lookup() as tx:
            good, bad = await tx.due_outbox(store.clock.now(), 10)
        mark_sent = OutboxQueries.mark_sent

        async def failing(self: OutboxQueries, item: OutboxItem, *args: Any) -> None:
            if item.id == bad.id:
                raise sqlite3.OperationalError("disk I/O error")
            await mark_sent(self, item, *args)

        monkeypatch.setattr(OutboxQueries, "mark_sent", failing)
        sender = OutboxSender(store, cast(Any, None))
        async with store.transaction():
            marking = [asyncio.create_task(sender._mark_sent(i, 1)) for i in (good, bad)]
            await asyncio.sleep(0)
        done = await asyncio.gather(*marking, return_exceptions=True)
        assert done[0] is None and isinstance(done[1], sqlite3.OperationalError)
        async with store.lookup() as tx:
            [still] = await tx.due_outbox(store.clock.now(), 10)
        assert still.id == bad.id, "the good send is recorded, the other waits to be sent again"


async def test_a_mark_waits_briefly_for_the_other_sends_in_flight(tmp_path: Path) -> None:
    """The store is free, but another send is still on its way: the first mark waits for it
    (the two commit together); a send that never answers holds a mark up only briefly."""
    async with Store(tmp_path / "o.db") as store:
        await enqueue(store, text(5, "a"), text(6, "b"), text(7, "c"))
        async with store.lookup() as tx:
            first, second, third = await tx.due_outbox(store.clock.now(), 10)
        sender = OutboxSender(store, cast(Any, None))
        never = asyncio.get_running_loop().create_future()
        in_flight = {5: never, 6: never}
        sender._inflight = cast(Any, in_flight)  # two sends on their way
        marking = asyncio.create_task(sender._mark_sent(first, 1))
        for _ in range(5):
            await asyncio.sleep(0)  # the loop turns; the first mark is not committed alone
        assert not marking.done() and sender.mark_commits == 0
        await asyncio.gather(marking, sender._mark_sent(second, 2))
        assert sender.mark_commits == 1
        # A send that hangs: the mark beside it goes after at most MARK_LINGER.
        in_flight.update({7: never})
        await asyncio.wait_for(sender._mark_sent(third, 3), timeout=MARK_LINGER * 50)
        assert sender.mark_commits == 2
        never.cancel()


async def test_a_chat_with_a_send_in_flight_is_not_read_again(tmp_path: Path) -> None:
    """The sender names the chats it is sending to: their heads (the messages on their way) are
    left out of the due rows, and the other chats' come as before."""
    async with Store(tmp_path / "o.db") as store:
        await enqueue(store, text(5, "a"), text(5, "a2"), text(6, "b"))
        now = store.clock.now()
        async with store.lookup() as tx:
            assert [i.chat_id for i in await tx.due_outbox(now, 10)] == [5, 6]
            assert [i.payload["text"] for i in await tx.due_outbox(now, 10, {5})] == ["b"]
            assert await tx.due_outbox(now, 10, {5, 6}) == []


class _HoldingBot:
    """Takes every send at once, but holds the one whose text is `held` until released."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.holding, self.release = asyncio.Event(), asyncio.Event()
        self.texts: list[str] = []

    async def do_api_request(self, method: str, **kwargs: Any) -> dict[str, Any]:
        params = kwargs["api_kwargs"]
        self.texts.append(params["text"])
        if params["text"] == self.held:
            self.holding.set()
            await self.release.wait()
        return {"message_id": len(self.texts), "chat": {"id": params["chat_id"]}}


async def test_a_write_only_for_chats_sending_now_wakes_nobody(tmp_path: Path) -> None:
    """A commit names the chats it wrote for: when each has a send on its way, the sender does
    not look (the end of that send looks again); any other chat, or chats not named, wake it."""
    async with Store(tmp_path / "o.db") as store:
        sender = OutboxSender(store, cast(Any, None))
        never = asyncio.get_running_loop().create_future()
        sender._inflight = cast(Any, {5: never})
        sender.idle.set()
        await enqueue(store, text(5, "a"))
        assert not sender._wake.is_set() and not sender.idle.is_set()
        await enqueue(store, text(5, "b"), text(6, "c"))  # chat 6 has nothing on its way
        assert sender._wake.is_set()
        sender._wake.clear()
        async with store.transaction() as tx:
            await tx.requeue_parked(1, store.clock.now())  # not parked: nothing written
        assert not sender._wake.is_set()
        sender.wake(None)  # a write that did not say for which chats
        assert sender._wake.is_set()
        never.cancel()


async def test_a_message_for_a_chat_sending_now_goes_when_that_send_ends(tmp_path: Path) -> None:
    """Written while its chat's previous message is on its way: no pass is made for it, and it
    goes, in order, as soon as that send ends."""
    async with Store(tmp_path / "o.db") as store:
        bot = _HoldingBot("a")
        sender = OutboxSender(store, cast(Any, bot), poll_interval=60)
        sender.start()
        try:
            await enqueue(store, text(5, "a"))
            await bot.holding.wait()
            passes = sender.passes
            await enqueue(store, text(5, "b"))
            assert sender.passes == passes and not sender._wake.is_set()
            bot.release.set()
            await sender.idle.wait()
            assert bot.texts == ["a", "b"] and sender.sent_count == 2
            async with store.lookup() as tx:
                assert await tx.count_outbox(OutboxStatus.PENDING) == 0
        finally:
            await sender.stop()


async def test_marks_the_store_cannot_take_fail_their_sends_and_are_not_retried_in_a_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk refuses the transaction itself: each send waiting for its mark is told so
    (and logged by the sender, the row stays pending for a later pass), none waits forever."""
    async with Store(tmp_path / "o.db") as store:
        await enqueue(store, text(5, "a"), text(6, "b"))
        async with store.lookup() as tx:
            items = await tx.due_outbox(store.clock.now(), 10)
        sender = OutboxSender(store, cast(Any, None))
        attempts = 0

        @contextlib.asynccontextmanager
        async def refused(**_: object) -> AsyncIterator[Any]:
            nonlocal attempts
            attempts += 1
            raise sqlite3.OperationalError("database or disk is full")
            yield  # pragma: no cover

        monkeypatch.setattr(store, "transaction", refused)
        marking = [asyncio.create_task(sender._mark_sent(item, 1)) for item in items]
        done = await asyncio.wait_for(asyncio.gather(*marking, return_exceptions=True), 5)
        assert all(isinstance(d, sqlite3.OperationalError) for d in done)
        assert attempts == 3, "together once, then each alone once"
        assert sender._marks == [] and sender.mark_commits == 0


async def test_the_due_heads_are_each_chat_s_oldest_pending_message(tmp_path: Path) -> None:
    """The due query finds each chat's head chat by chat (a skip scan through the pending
    index): over random queues it gives what the definition gives, oldest pending message of
    each chat not being sent, due ones only, most urgent first; and the next time a head falls
    due is the earliest of theirs."""
    rng = random.Random(27)
    async with Store(tmp_path / "o.db") as store:
        now = store.clock.now()
        for _ in range(30):
            async with store.transaction() as tx:
                await tx.db.execute("DELETE FROM outbox")
                for _ in range(rng.randrange(0, 40)):
                    chat = rng.choice([-1003, -1002, 5, 6, 7, 10007])
                    message = text(chat, "x")
                    row = await tx.enqueue(
                        dataclasses.replace(message, priority=rng.choice(list(Priority))), now
                    )
                    status = rng.choice(["pending", "pending", "sent", "dropped"])
                    later = rng.random() < 0.2
                    await tx.db.execute(
                        "UPDATE outbox SET status = ?, not_before = ? WHERE id = ?",
                        (status, to_db_time(now + timedelta(hours=1) if later else now), row),
                    )
                rows = await tx.db.execute_fetchall(
                    "SELECT id, chat_id, priority, status, not_before FROM outbox ORDER BY id"
                )
            busy = set(rng.sample([-1003, 5, 10007], rng.randrange(0, 3)))
            heads: dict[int, tuple[int, int, str]] = {}
            for row_id, chat, priority, status, not_before in rows:
                if status == "pending" and chat not in heads:
                    heads[chat] = (row_id, priority, not_before)
            expected = sorted(
                (priority, row_id)
                for chat, (row_id, priority, not_before) in heads.items()
                if chat not in busy and not_before <= to_db_time(now)
            )
            async with store.lookup() as tx:
                due = await tx.due_outbox(now, 200, busy)
                next_time = await tx.next_outbox_time()
            assert [(item.priority, item.id) for item in due] == expected
            soonest = min((not_before for _, _, not_before in heads.values()), default=None)
            assert next_time == (None if soonest is None else from_db_time(soonest))
