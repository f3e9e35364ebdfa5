"""The coordinators' digest as a message and as a chart.

`digest_text` is what a coordinator reads on a phone at 7 am: the period, how many incidents of
which type, per agency how fast it acknowledged and got on scene (median / 90th percentile), the
calls escalated to coordinators and what is still open. Telegram HTML, at most 4096 characters
(counted as Telegram counts them), agency names escaped.

`digest_chart` draws the same period as a PNG: incidents per hour (per day for longer periods)
and the median and 90th-percentile time to acknowledge per agency. It uses matplotlib's object
API with the Agg canvas — no pyplot, so no global figure state shared between calls or threads —
and closes the figure once it is saved.

The bot itself never imports matplotlib: `python -m bot.render.digest` is the chart worker, a
process of its own per chart that reads the pickled inputs (`chart_request`) on stdin, writes the
PNG to stdout and exits (`bot.services.digest.draw_chart` runs it). Loaded once, matplotlib would
keep about 50 MB in the bot for a picture drawn once or twice a day (docs/benchmarks.md).
"""

from __future__ import annotations

import html
import io
import pickle
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import BABEL_LOCALES, N_, Html, format_clock, t, zone_label
from bot.render.cards import MESSAGE_LIMIT, NAME_MAX, age_text, plain_length, short
from bot.render.organisation import type_label
from bot.settings import Language
from models.digest import AgencyFigures, Digest, OpenIncident
from models.drills import Review

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption
AGENCIES_SHOWN = 12
ESCALATED_SHOWN = 40
OPEN_SHOWN = 25
NO_TIME = "–"

CHART_SIZE_INCHES = (10.0, 6.0)
CHART_DPI = 100  # 1000 × 600 px: sharp on a phone, small in the outbox
CHART_AGENCIES = 10
CHART_MIN_ROWS = 6
CHART_LABEL_MAX = 22
BAR_COLOUR = "#c0392b"
MEDIAN_COLOUR = "#2c3e50"
P90_COLOUR = "#95a5a6"


# --- words and numbers ---


def duration_text(language: Language, seconds: float | None) -> str:
    """A delay as people say it: "45 dtk", "3 mnt", "3 mnt 20 dtk", "1 j 5 mnt"; "–" when
    unknown."""
    if seconds is None:
        return NO_TIME
    total = round(seconds)
    if total < 60:
        return t(language, "digest.seconds", seconds=total)
    minutes, rest = divmod(total, 60)
    if minutes < 60 and rest == 0:
        return t(language, "digest.minutes", minutes=minutes)
    if minutes < 60:
        return t(language, "digest.minutes_seconds", minutes=minutes, seconds=rest)
    hours, minutes = divmod(minutes, 60)
    return t(language, "digest.hours_minutes", hours=hours, minutes=minutes)


def _date(day: date, language: Language, fmt: str = "EEE d MMM y") -> str:
    return format_date(day, fmt, locale=BABEL_LOCALES[language])


def _local_midnight(moment: datetime, zone: ZoneInfo) -> bool:
    return moment.astimezone(zone).time() == time(0)


def period_text(language: Language, digest: Digest, zone: ZoneInfo) -> str:
    """ "Kam 12 Mar 2026", "5 Mar – 11 Mar 2026 (7 hari)" or "today until 07:00 WIB"."""
    first = digest.start.astimezone(zone).date()
    if not _local_midnight(digest.end, zone):
        return t(
            language,
            "digest.period_so_far",
            date=_date(first, language),
            time=format_clock(digest.end, language, zone),
        )
    last = (digest.end.astimezone(zone) - timedelta(days=1)).date()
    if first == last:
        return _date(first, language)
    return t(
        language,
        "digest.period_days",
        first=_date(first, language, "d MMM"),
        last=_date(last, language, "d MMM y"),
        days=(last - first).days + 1,
    )


def _ids(items: list[str], shown: int, language: Language) -> Html:
    """Items already in HTML, the first `shown` of them, and how many more there are."""
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += " " + t(language, "digest.more", count=len(items) - shown)
    return Html(text)


# --- the message ---


def _agency_lines(language: Language, figures: AgencyFigures) -> list[str]:
    head = t(
        language,
        "digest.agency",
        name=short(figures.name, NAME_MAX),
        routed=figures.routed,
        acknowledged=figures.acknowledged,
    )
    if figures.acknowledged_on_behalf:
        head += " " + t(language, "digest.agency_on_behalf", count=figures.acknowledged_on_behalf)
    if figures.unacknowledged:
        head += " · " + t(language, "digest.agency_unacknowledged", count=figures.unacknowledged)
    times = t(
        language,
        "digest.agency_times",
        ack_median=Html(duration_text(language, figures.acknowledge_median)),
        ack_p90=Html(duration_text(language, figures.acknowledge_p90)),
        scene_median=Html(duration_text(language, figures.on_scene_median)),
        scene_p90=Html(duration_text(language, figures.on_scene_p90)),
        on_scene=figures.on_scene,
    )
    return [head, times]


def _open_item(language: Language, item: OpenIncident, digest: Digest) -> str:
    if item.closed_since:
        return f"#{item.id} ✓"
    return f"#{item.id} ({age_text(language, item.created_at, digest.as_of)})"


def digest_text(language: Language, digest: Digest, zone: ZoneInfo) -> str:
    """The digest as one Telegram HTML message of at most 4096 characters."""
    lines = [t(language, "digest.title", period=Html(period_text(language, digest, zone)))]
    if digest.total == 0:
        lines.append(t(language, "digest.no_incidents"))
    else:
        total = t(language, "digest.total", count=digest.total)
        if digest.duplicates:
            total += " · " + t(language, "digest.duplicates", count=digest.duplicates)
        if digest.unrouted:
            total += " · " + t(language, "digest.unrouted", count=digest.unrouted)
        lines.append(total)
        lines.append(
            " · ".join(f"{type_label(language, kind)} {count}" for kind, count in digest.by_type)
        )
    if digest.agencies:
        lines += ["", t(language, "digest.agencies_title")]
        for figures in digest.agencies[:AGENCIES_SHOWN]:
            lines += _agency_lines(language, figures)
        hidden = len(digest.agencies) - AGENCIES_SHOWN
        if hidden > 0:
            lines.append(t(language, "digest.more_agencies", count=hidden))
    lines.append("")
    if digest.escalated:
        ids = [f"#{incident_id}" for incident_id in digest.escalated]
        lines.append(
            t(
                language,
                "digest.escalated",
                count=len(ids),
                ids=_ids(ids, ESCALATED_SHOWN, language),
            )
        )
    else:
        lines.append(t(language, "digest.no_escalations"))
    if digest.still_open:
        items = [_open_item(language, item, digest) for item in digest.still_open]
        lines.append(
            t(
                language,
                "digest.still_open",
                count=len(items),
                items=_ids(items, OPEN_SHOWN, language),
            )
        )
        if any(item.closed_since for item in digest.still_open[:OPEN_SHOWN]):
            lines.append(t(language, "digest.closed_since"))
    else:
        lines.append(t(language, "digest.none_open"))
    text = "\n".join(lines)
    # The caps above keep a city's digest far below the limit; this only guards the absurd.
    while plain_length(text) > MESSAGE_LIMIT and len(lines) > 1:
        lines.pop(-2)
        text = "\n".join(lines)
    return text


def digest_caption(language: Language, digest: Digest, zone: ZoneInfo) -> str:
    """The chart's caption: what it shows and for when (well under the 1024-character limit)."""
    return t(language, "digest.chart_caption", period=Html(period_text(language, digest, zone)))


# --- the chart ---


def _chart_text(language: Language, key: str, **params: object) -> str:
    # Catalog messages are HTML; the chart wants the plain words. A "$" would start mathtext.
    return html.unescape(t(language, key, **params)).replace("$", r"\$")


def _label(text: str) -> str:
    return short(text, CHART_LABEL_MAX).replace("$", r"\$")


def _hourly(digest: Digest, zone: ZoneInfo) -> tuple[list[str], list[int], bool]:
    """Bars of the period: (labels, counts, per_day)."""
    start = digest.start.astimezone(zone)
    end = digest.end.astimezone(zone)
    if end - start > timedelta(days=1):
        first, last = start.date(), (end - timedelta(microseconds=1)).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        per_day = Counter(moment.astimezone(zone).date() for moment in digest.created)
        return [day.strftime("%d/%m") for day in days], [per_day[day] for day in days], True
    hours = max(1, -(-int((end - start).total_seconds()) // 3600))  # ceil: a begun hour counts
    per_hour = Counter(
        int((moment.astimezone(zone) - start).total_seconds() // 3600) for moment in digest.created
    )
    labels = [f"{(start + timedelta(hours=h)).hour:02d}" for h in range(hours)]
    return labels, [per_hour[h] for h in range(hours)], False


def digest_chart(digest: Digest, language: Language, zone: ZoneInfo) -> bytes:
    """A 1000 × 600 PNG: incidents over the period, and time to acknowledge per agency."""
    # Imported here: only the chart worker loads matplotlib (see the module's docstring).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=CHART_SIZE_INCHES, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    try:
        _draw(figure, digest, language, zone)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=CHART_DPI)
        return buffer.getvalue()
    finally:
        # Closed, as `pyplot.close` would: the axes and artists are dropped now, and nothing
        # keeps the figure. What is left are reference cycles (figure, canvas, pixel buffer), and
        # the worker's exit returns all of it at once.
        figure.clear()


def _draw(figure: Figure, digest: Digest, language: Language, zone: ZoneInfo) -> None:
    timeline, agencies = figure.subplots(1, 2, width_ratios=(3, 2))

    labels, counts, per_day = _hourly(digest, zone)
    positions = list(range(len(labels)))
    timeline.bar(positions, counts, color=BAR_COLOUR)
    step = max(1, len(labels) // 12)  # at most about a dozen tick labels
    timeline.set_xticks(positions[::step], labels[::step])
    key = N_("digest.chart.per_day") if per_day else N_("digest.chart.per_hour")
    timeline.set_title(_chart_text(language, key, zone=zone_label(zone, digest.end)))
    timeline.set_ylabel(_chart_text(language, N_("digest.chart.incidents")))
    timeline.yaxis.get_major_locator().set_params(integer=True)
    timeline.grid(axis="y", alpha=0.3)

    timed = [a for a in digest.agencies if a.acknowledge_median is not None][:CHART_AGENCIES]
    agencies.set_title(_chart_text(language, N_("digest.chart.acknowledge")))
    if timed:
        names = [_label(a.name) for a in reversed(timed)]
        medians = [(a.acknowledge_median or 0) / 60 for a in reversed(timed)]
        p90s = [(a.acknowledge_p90 or 0) / 60 for a in reversed(timed)]
        rows = list(range(len(names)))
        p90_label = _chart_text(language, N_("digest.chart.p90"))
        agencies.barh(rows, p90s, height=0.6, color=P90_COLOUR, label=p90_label)
        median_label = _chart_text(language, N_("digest.chart.median"))
        agencies.barh(rows, medians, height=0.3, color=MEDIAN_COLOUR, label=median_label)
        agencies.set_yticks(rows, names)
        # A city with few agencies gets bars of a normal thickness at the top, not two slabs.
        agencies.set_ylim(min(-0.5, len(rows) - CHART_MIN_ROWS - 0.5), len(rows) - 0.5)
        agencies.set_xlabel(_chart_text(language, N_("digest.chart.minutes")))
        agencies.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=2, frameon=False)
        agencies.grid(axis="x", alpha=0.3)
    else:
        agencies.text(
            0.5,
            0.5,
            _chart_text(language, N_("digest.chart.no_data")),
            ha="center",
            va="center",
            transform=agencies.transAxes,
        )
        agencies.set_axis_off()


# --- the chart worker ---


def chart_request(digest: Digest, language: Language, zone: ZoneInfo) -> bytes:
    """The chart's inputs as the worker reads them on stdin."""
    return pickle.dumps(("digest", digest, language, zone.key), protocol=pickle.HIGHEST_PROTOCOL)


def drill_chart_request(review: Review, language: Language) -> bytes:
    """A drill review's chart (bot.render.drills.drill_chart), for the same worker."""
    return pickle.dumps(("drill", review, language, ""), protocol=pickle.HIGHEST_PROTOCOL)


def chart_of_request(request: bytes) -> bytes:
    """The chart of a request made by `chart_request` or `drill_chart_request` (in the bot's own
    process: trusted)."""
    kind, subject, language, zone_key = pickle.loads(request)  # noqa: S301
    if kind == "drill":
        from bot.render.drills import drill_chart

        return drill_chart(subject, language)
    return digest_chart(subject, language, ZoneInfo(zone_key))


def serve_one_chart() -> None:
    """One chart, stdin to stdout. A failure is a traceback on stderr and exit status 1."""
    png_out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed while drawing may end up inside the PNG
    png = chart_of_request(sys.stdin.buffer.read())
    png_out.write(png)
    png_out.flush()


if __name__ == "__main__":
    serve_one_chart()
