"""A conversation added by this one module: a two-step feedback form (`/umpanbalik`).

Nothing else is edited to add it — not the router, not the composition root, not `/batal`:
importing this module registers the flow (`bot.services.conversations.flow`), and a bot built
afterwards has it. It asks for a score from 1 to 5 (with a reply keyboard), then for a remark, and
thanks the person with what they said.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.services.conversations import Ending, Flow, Input, Reply, Say, Start, Text, Turn, flow
from bot.store import Tx
from models.conversations import Talk

SCORES = ("1", "2", "3", "4", "5")


def _ask_score(before: str = "") -> Say:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(s) for s in SCORES]], one_time_keyboard=True)
    text = before + "Seberapa baik layanan 112 hari ini? Pilih 1 sampai 5."
    return Say(text, keyboard, question=True)


def _ask_remark(before: str = "") -> Say:
    return Say(before + "Ada yang ingin Anda sampaikan?", ReplyKeyboardRemove(), question=True)


@flow
class FeedbackFlow(Flow):
    kind: ClassVar[str] = "feedback"
    commands: ClassVar[tuple[str, ...]] = ("umpanbalik", "feedback")

    async def begin(self, tx: Tx, start: Start, now: datetime) -> Turn:
        return Turn("score", {}, Reply((_ask_score(),)))

    async def current(self, tx: Tx, talk: Talk) -> Reply:
        return Reply((_ask_score() if talk.step == "score" else _ask_remark(),), pressed=None)

    async def answer(self, tx: Tx, talk: Talk, given: Input, now: datetime) -> Turn:
        text = given.text.strip() if isinstance(given, Text) else ""
        if talk.step == "score":
            if text not in SCORES:
                return Turn("score", talk.data, Reply((_ask_score("Pilih angka 1 sampai 5. "),)))
            return Turn("remark", {"score": int(text)}, Reply((_ask_remark(),)))
        if not text:
            return Turn("remark", talk.data, Reply((_ask_remark("Tulis dengan kata-kata. "),)))
        thanks = f"Terima kasih! Nilai {talk.data['score']}, catatan: {text}"
        return Turn(None, reply=Reply((Say(thanks),)))

    async def end(self, tx: Tx, talk: Talk, why: Ending, now: datetime) -> Reply:
        return Reply((Say("Umpan balik dibatalkan.", ReplyKeyboardRemove()),))
