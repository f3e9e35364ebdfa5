"""Exports for the evaluation meeting: every incident of a period, one row per agency response,
as CSV or as an XLSX workbook (openpyxl) with summaries per agency and month and per kecamatan.

Drills are left out unless asked for; names and phone numbers only with `personal_data` (the
command line's `--personal-data`; `/ekspor` in Telegram never), and the workbook's first sheet
says which."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.settings import Settings
from bot.store import Store
from models.areas import KECAMATAN
from models.clock import Clock
from models.exports import (
    DURATIONS,
    STEPS,
    UNKNOWN_AREA,
    ExportRow,
    Period,
    Summary,
    by_agency_and_month,
    by_kecamatan,
    period_from_args,
    rows_of,
)
from models.incidents import IncidentView, TimelineEvent
from models.outbox import OutgoingMessage, Priority, SendMethod

READ_BATCH = 200  # incidents read per snapshot
TELEGRAM_DAYS_MAX = 366  # /ekspor: at most a year per file (the command line has no limit)

# The rows' columns: (header, what). Headers are Indonesian, as the meeting reads them; the
# README gives each in English.
STEP_HEADERS = {
    "acknowledged": "waktu diterima",
    "assigned": "waktu ditugaskan",
    "en_route": "waktu berangkat",
    "on_scene": "waktu di lokasi",
    "done": "waktu selesai",
}
DURATION_HEADERS = {
    "report_to_ack": "menit lapor→diterima",
    "ack_to_assign": "menit diterima→ditugaskan",
    "assign_to_en_route": "menit ditugaskan→berangkat",
    "en_route_to_on_scene": "menit berangkat→di lokasi",
    "on_scene_to_done": "menit di lokasi→selesai",
    "report_to_on_scene": "menit lapor→di lokasi",
    "report_to_done": "menit lapor→selesai",
}
SUMMARY_HEADERS = (
    "kejadian",
    "respons instansi",
    "diterima",
    "selesai",
    "median menit lapor→diterima",
    "p90 menit lapor→diterima",
    "median menit lapor→di lokasi",
    "p90 menit lapor→di lokasi",
)


@dataclass(frozen=True, slots=True)
class Export:
    period: Period
    rows: list[ExportRow]
    personal_data: bool
    include_drills: bool
    made_at: datetime


class ExportService:
    def __init__(self, store: Store, clock: Clock, settings: Settings) -> None:
        self.store = store
        self.clock = clock
        self.zone = ZoneInfo(settings.timezone)

    async def collect(
        self, period: Period, *, personal_data: bool = False, include_drills: bool = False
    ) -> Export:
        start, end = period.bounds(self.zone)
        async with self.store.lookup() as tx:
            numbers = await tx.incidents_reported(start, end, drills=include_drills)
        rows: list[ExportRow] = []
        for first in range(0, len(numbers), READ_BATCH):
            read: list[tuple[IncidentView, list[TimelineEvent]]] = []
            # The store is shared: only reading in here, on the database thread (a batch of
            # views is too long to hold the event loop for).
            async with self.store.read(on_thread=True) as tx:
                for number in numbers[first : first + READ_BATCH]:
                    view = await tx.incident_view(number)
                    if view is not None:
                        read.append((view, await tx.events(number)))
            for view, events in read:
                rows += rows_of(view, events, personal_data=personal_data)
            await asyncio.sleep(0)  # the bot's other work goes on between batches
        return Export(period, rows, personal_data, include_drills, self.clock.now())

    def period_asked(self, args: Sequence[str]) -> Period | None:
        """`/ekspor`'s period: the last 30 days to today, or the two dates given."""
        today = self.clock.now().astimezone(self.zone).date()
        return period_from_args(args, today, most_days=TELEGRAM_DAYS_MAX)

    async def send_workbook(
        self, chat_id: int, period: Period, caption: str, empty: str
    ) -> tuple[int, int]:
        """`/ekspor`: the period's workbook, never with personal data and never drills, queued
        to `chat_id` as a document (the outbox uploads it), with `empty` said first when the
        period had no incident. Returns (incidents, rows)."""
        export = await self.collect(period, personal_data=False, include_drills=False)
        document = await self.xlsx_bytes(export)
        payload: dict[str, object] = {
            "document": {
                "base64": base64.b64encode(document).decode("ascii"),
                "filename": f"siaga112-{period.start}-{period.end}.xlsx",
            },
            "caption": caption,
            "protect_content": True,
        }
        message = OutgoingMessage(chat_id, SendMethod.SEND_DOCUMENT, payload, Priority.NOTICE)
        async with self.store.transaction() as tx:
            now = self.clock.now()
            if not export.rows:
                note = {"text": empty}
                await tx.enqueue(
                    OutgoingMessage(chat_id, SendMethod.SEND_MESSAGE, note, Priority.NOTICE), now
                )
            await tx.enqueue(message, now)
        return len({row.number for row in export.rows}), len(export.rows)

    # --- writing ---

    def _local(self, moment: datetime | None) -> datetime | None:
        """A time as the meeting reads it: in the configured zone, without the zone (a
        spreadsheet cell has none)."""
        return None if moment is None else moment.astimezone(self.zone).replace(tzinfo=None)

    def headers(self, export: Export) -> list[str]:
        columns = [
            "nomor",
            "waktu lapor",
            "jenis",
            "tingkat",
            "sumber",
            "status",
            "latihan",
            "lokasi",
            "kelurahan",
            "kecamatan",
            "instansi",
            "nama instansi",
            *STEP_HEADERS.values(),
            "waktu ditutup",
            *DURATION_HEADERS.values(),
        ]
        if export.personal_data:
            columns += ["pelapor", "telepon"]
        return columns

    def values(self, export: Export, row: ExportRow) -> list[object]:
        values: list[object] = [
            row.number,
            self._local(row.reported_at),
            row.type,
            row.severity,
            row.source,
            row.lifecycle,
            "ya" if row.drill else "tidak",
            row.location,
            row.kelurahan,
            row.kecamatan,
            row.agency,
            row.agency_name,
            *(self._local(row.times.get(step)) for step in STEPS),
            self._local(row.closed_at),
            *(row.minutes(name) for name in DURATIONS),
        ]
        if export.personal_data:
            values += [row.reporter, row.phone]
        return values

    def csv_bytes(self, export: Export) -> bytes:
        """The rows as CSV (UTF-8 with a byte-order mark, so spreadsheets read the accents),
        times as "YYYY-MM-DD HH:MM:SS" in the configured zone."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.headers(export))
        for row in export.rows:
            writer.writerow(
                ["" if value is None else _cell_text(value) for value in self.values(export, row)]
            )
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    async def xlsx_bytes(self, export: Export) -> bytes:
        """The workbook, built in a thread: a year of incidents takes seconds, and the bot's
        event loop must not wait for it."""
        return await asyncio.to_thread(self._xlsx, export)

    def _xlsx(self, export: Export) -> bytes:
        book = Workbook()
        about = book.active
        assert about is not None
        about.title = "Tentang"
        start, end = export.period.start, export.period.end
        lines: list[tuple[str, object]] = [
            ("Siaga 112 — ekspor untuk rapat evaluasi", ""),
            ("Periode", f"{start.isoformat()} s.d. {end.isoformat()} (kedua hari termasuk)"),
            ("Dibuat", self._local(export.made_at)),
            ("Zona waktu", str(self.zone)),
            (
                "Data pribadi (nama, telepon)",
                "DISERTAKAN — jaga kerahasiaannya" if export.personal_data else "TIDAK disertakan",
            ),
            ("Latihan", "disertakan" if export.include_drills else "tidak disertakan"),
            ("Kejadian", len({r.number for r in export.rows})),
            (
                "Laporan digabung",
                "ada di lembar Kejadian, tidak dihitung dalam ringkasan (seperti /statistik)",
            ),
            ("Baris (kejadian × instansi)", len(export.rows)),
            (
                "Kelurahan/kecamatan",
                "dicocokkan dari teks alamat (30 kelurahan, 5 kecamatan; BPS Kota Palangka "
                "Raya Dalam Angka 2025); kosong bila tidak cocok",
            ),
            ("Persentil", "p90 menurut peringkat terdekat; median biasa"),
        ]
        for label, value in lines:
            about.append([label, value])
        about["A1"].font = Font(bold=True, size=14)
        about.column_dimensions["A"].width = 30
        about.column_dimensions["B"].width = 90

        self._table(
            book.create_sheet("Kejadian"),
            self.headers(export),
            [self.values(export, row) for row in export.rows],
        )
        month_rows = [
            [*summary.key, *_figures(summary)]
            for summary in by_agency_and_month(export.rows, self.zone)
        ]
        self._table(
            book.create_sheet("Per instansi per bulan"),
            ["bulan", "instansi", *SUMMARY_HEADERS],
            month_rows,
        )
        self._table(
            book.create_sheet("Per kecamatan"),
            ["kecamatan", *SUMMARY_HEADERS],
            [[*s.key, *_figures(s)] for s in by_kecamatan(export.rows)],
        )
        for name in [*KECAMATAN, UNKNOWN_AREA]:
            mine = [r for r in export.rows if (r.kecamatan or UNKNOWN_AREA) == name]
            title = f"Kec. {name}" if name != UNKNOWN_AREA else "Kec. tidak diketahui"
            self._table(
                book.create_sheet(title[:31]),
                self.headers(export),
                [self.values(export, row) for row in mine],
            )
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def _table(
        self, sheet: object, headers: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:

        assert isinstance(sheet, Worksheet)
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(10, len(header) + 2)
        for row_cells in sheet.iter_rows(min_row=2):
            for cell in row_cells:
                if isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"


def _figures(summary: Summary) -> list[object]:
    return [
        summary.incidents,
        summary.responses,
        summary.acknowledged,
        summary.done,
        summary.ack_median,
        summary.ack_p90,
        summary.on_scene_median,
        summary.on_scene_p90,
    ]


def _cell(value: object) -> object:
    """A value a cell takes: people's text that starts with "=" would be stored as a formula,
    and control characters (a Telegram name may hold them) cannot be stored at all."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if value.startswith("="):
            return "'" + value
    return value


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if not isinstance(value, str):
        return str(value)  # a number stays a number
    # People's text in CSV: a typed "=HYPERLINK(…)" opens as text, not as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
