"""The evaluation meeting's export: the XLSX workbook opened back with openpyxl against figures
computed by hand, the CSV with the same rows, personal data only on the command line, drills
only when asked, and `/ekspor` only for coordinators, in private, never with personal data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl

from bot.simulator import SimMessage, TelegramSimulator
from models.clock import ManualClock
from tests.harness import BotHarness
from tests.scenario import City, build_city, report
from tests.test_cli import run_cli
from tests.test_drills import start_drill


def sheet_rows(book: Any, title: str) -> list[dict[str, Any]]:
    rows = list(book[title].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


async def acknowledge(city: City, code: str, number: int) -> None:
    await city.sim.press_button(city.crews[code][0], city.card(code, number), text="✅ Terima")
    await city.harness.settle()


async def fixture(
    sim: TelegramSimulator, harness: BotHarness
) -> tuple[City, ManualClock, int, int]:
    """Two incidents with acknowledgements at known minutes (and a drill):
    #fire at 0 in Menteng (Jekan Raya): Damkar acknowledges at 2 min, the volunteers at 6;
    #medical at 10 in Panarung (Pahandut): Dinkes acknowledges at 14 (4 min after)."""
    clock = ManualClock()
    city = await build_city(sim, harness, clock=clock)
    ani = sim.add_user("Ani", language_code="id")
    budi = sim.add_user("Budi", language_code="id")
    for person in (ani, budi):
        await harness.says(person, "/start")
    fire = await report(city, ani, location=None, address="Jl. Kinibalu, Kel. Menteng")
    clock.advance(timedelta(minutes=2))
    await acknowledge(city, "damkar", fire)
    clock.advance(timedelta(minutes=4))
    await acknowledge(city, "relawan", fire)
    clock.advance(timedelta(minutes=4))
    medical = await report(
        city,
        budi,
        kind_button="🚑 Darurat medis",
        location=None,
        address="Pasar Kahayan, Panarung",
    )
    clock.advance(timedelta(minutes=4))
    await acknowledge(city, "dinkes", medical)
    await start_drill(city)  # its incidents are left out unless asked for
    await harness.settle()
    return city, clock, fire, medical


async def test_the_workbook_and_the_csv_hold_the_hand_computed_figures(
    sim: TelegramSimulator, harness: BotHarness, tmp_path: Path
) -> None:
    _, clock, fire, medical = await fixture(sim, harness)
    database = harness.services.settings.database_path
    day = clock.now().astimezone(harness.services.settings.zone).date().isoformat()
    await harness.stop()
    env = {"DATABASE_PATH": str(database)}
    xlsx = tmp_path / "rapat.xlsx"
    done = run_cli("export", "xlsx", "--from", day, "--to", day, "-o", str(xlsx),
                   env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 incident(s), 3 row(s), without personal data" in done.stdout
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames[:4] == ["Tentang", "Kejadian", "Per instansi per bulan", "Per kecamatan"]
    about = {row[0]: row[1] for row in book["Tentang"].iter_rows(values_only=True)}
    assert about["Data pribadi (nama, telepon)"] == "TIDAK disertakan"
    assert about["Latihan"] == "tidak disertakan"
    rows = sheet_rows(book, "Kejadian")
    found = {(r["nomor"], r["instansi"]): r for r in rows}
    assert set(found) == {(fire, "damkar"), (fire, "relawan"), (medical, "dinkes")}
    assert found[(fire, "damkar")]["menit lapor→diterima"] == 2.0
    assert found[(fire, "relawan")]["menit lapor→diterima"] == 6.0
    assert found[(medical, "dinkes")]["menit lapor→diterima"] == 4.0
    assert found[(fire, "damkar")]["kelurahan"] == "Menteng"
    assert found[(medical, "dinkes")]["kecamatan"] == "Pahandut"
    assert "pelapor" not in rows[0] and "telepon" not in rows[0]
    months = {r["instansi"]: r for r in sheet_rows(book, "Per instansi per bulan")}
    assert months["relawan"]["median menit lapor→diterima"] == 6.0
    assert months["damkar"]["kejadian"] == 1
    areas = {r["kecamatan"]: r for r in sheet_rows(book, "Per kecamatan")}
    jekan = areas["Jekan Raya"]
    assert (jekan["kejadian"], jekan["respons instansi"], jekan["diterima"]) == (1, 2, 2)
    assert jekan["median menit lapor→diterima"] == 4.0  # median of 2 and 6
    assert jekan["p90 menit lapor→diterima"] == 6.0  # nearest rank
    assert areas["Pahandut"]["kejadian"] == 1 and areas["Sebangau"]["kejadian"] == 0
    assert [r["nomor"] for r in sheet_rows(book, "Kec. Pahandut")] == [medical]
    # The CSV: the same rows, the same columns.
    csv_path = tmp_path / "rapat.csv"
    done = run_cli("export", "csv", "--from", day, "--to", day, "-o", str(csv_path),
                   env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert [(int(r["nomor"]), r["instansi"]) for r in table] == [
        (r["nomor"], r["instansi"]) for r in rows
    ]
    assert [float(r["menit lapor→diterima"]) for r in table] == [
        r["menit lapor→diterima"] for r in rows
    ]
    # Personal data and drills only when asked, and the first sheet says so.
    done = run_cli("export", "xlsx", "--from", day, "--to", day, "-o", str(xlsx),
                   "--personal-data", "--include-drills", env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0 and "WITH names and phone numbers" in done.stdout
    book = openpyxl.load_workbook(xlsx)
    about = {row[0]: row[1] for row in book["Tentang"].iter_rows(values_only=True)}
    assert str(about["Data pribadi (nama, telepon)"]).startswith("DISERTAKAN")
    rows = sheet_rows(book, "Kejadian")
    assert any(r["latihan"] == "ya" for r in rows)
    mine = next(r for r in rows if r["nomor"] == fire)
    assert mine["pelapor"] == "Ani" and mine["telepon"] == "+6281255550101"
    # Bad periods are refused with a clear line.
    wrong = run_cli("export", "csv", "--from", day, "--to", "2020-01-01", env=env, cwd=tmp_path)
    assert wrong.returncode == 2 and "--to is before --from" in wrong.stderr
    wrong = run_cli("export", "csv", "--from", "kemarin", "--to", day, env=env, cwd=tmp_path)
    assert wrong.returncode == 2 and "expected a date" in wrong.stderr


def document_of(sim: TelegramSimulator, message: SimMessage) -> bytes:
    assert message.document is not None
    stored = sim.file(message.document["file_id"])
    assert stored is not None
    return stored.data


async def test_ekspor_is_for_coordinators_in_private_and_never_personal(
    sim: TelegramSimulator, harness: BotHarness
) -> None:
    city, _, fire, _ = await fixture(sim, harness)
    chat = sim.private_chat(city.coordinator)
    answer = await harness.says(city.coordinator, "/ekspor")
    assert "Menyiapkan ekspor" in (answer.text or "")
    # Built beside the update loop; it arrives through the outbox.
    await sim.wait_for(
        lambda: any(m.document is not None for m in sim.bot_messages(chat)), what="the workbook"
    )
    await harness.settle()
    sent = [m for m in sim.bot_messages(chat) if m.document is not None]
    assert len(sent) == 1 and sent[0].has_protected_content
    assert (sent[0].document or {})["file_name"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(document_of(sim, sent[0])))
    rows = sheet_rows(book, "Kejadian")
    assert fire in {r["nomor"] for r in rows}
    assert "pelapor" not in rows[0] and "telepon" not in rows[0]
    assert all(r["latihan"] == "tidak" for r in rows)
    # Not for a dispatcher, nor in a group; a bad period gets the usage.
    denied = await harness.says(city.dispatcher, "/ekspor")
    assert not [m for m in sim.bot_messages(sim.private_chat(city.dispatcher)) if m.document]
    assert "Menyiapkan" not in (denied.text or "")
    group = await harness.says(city.admin, "/ekspor", chat=city.groups["damkar"])
    assert "Menyiapkan" not in (group.text or "")
    usage = await harness.says(city.coordinator, "/ekspor 2026-03-31 2026-01-01")
    assert "/ekspor 2026-01-01 2026-03-31" in (usage.text or "")
    usage = await harness.says(city.coordinator, "/ekspor 2024-01-01 2026-01-01")
    assert "366" in (usage.text or "")
    await harness.settle()
    assert len([m for m in sim.bot_messages(chat) if m.document is not None]) == 1


def test_summaries_leave_merged_reports_out_and_csv_keeps_numbers() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.services.exports import _cell, _cell_text
    from models.exports import ExportRow, by_agency_and_month, percentile

    def row(number: int, lifecycle: str, minutes: float) -> ExportRow:
        reported = datetime(2026, 3, 31, 17, 30, tzinfo=UTC)  # 1 April in WIB
        return ExportRow(
            number=number, reported_at=reported, type="kebakaran", severity="tinggi",
            source="laporan", lifecycle=lifecycle, drill=False, location="-2.20900, 113.91300",
            kelurahan=None, kecamatan=None, agency="damkar", agency_name="Damkar",
            times={"acknowledged": reported + timedelta(minutes=minutes)},
            closed_at=None, reporter=None, phone=None,
        )  # fmt: skip

    rows = [row(1, "terbuka", 2), row(2, "digabung", 30), row(3, "selesai", 4)]
    [summary] = by_agency_and_month(rows, ZoneInfo("Asia/Jakarta"))
    assert summary.key == ("2026-04", "damkar")  # the month in WIB
    assert summary.incidents == 2 and summary.ack_median == 3.0  # the merged one not counted
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([], 90) is None
    # CSV keeps numbers as numbers; only people's text is guarded against formulas.
    assert _cell_text(-3.5) == "-3.5" and _cell_text("-2.20900, 113.91300").startswith("'")
    assert _cell_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("Budi\x07 Santoso") == "Budi Santoso" and _cell("=1+1") == "'=1+1"
