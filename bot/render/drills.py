"""What drills say: the scenario picker, a drill starting, its status with the stop button, the
after-action review and the history of past drills."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import ButtonAction, DrillButton
from bot.i18n import N_, Html, babel_locale, escape, format_clock, format_time, t
from bot.settings import Language
from models.agencies import Agency
from models.drills import AgencyReview, Drill, Review, Scenario, Step, median_acknowledge

STEP_KEYS = {
    Step.ACKNOWLEDGE: N_("drill.step.acknowledge"),
    Step.ASSIGN: N_("drill.step.assign"),
    Step.EN_ROUTE: N_("drill.step.en_route"),
    Step.ON_SCENE: N_("drill.step.on_scene"),
    Step.DONE: N_("drill.step.done"),
}


def _button(label: str, payload: DrillButton) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=payload.encode())


def scenario_picker(
    language: Language, scenarios: list[Scenario]
) -> tuple[str, InlineKeyboardMarkup]:
    """`/latihan`: every scenario, one button each."""
    lines = [t(language, "drill.marker"), t(language, "drill.pick")]
    rows = []
    for index, scenario in enumerate(scenarios):
        lines.append(f"• <b>{escape(scenario.title.get(language))}</b>")
        rows.append(
            [
                _button(
                    scenario.title.get(language)[:60],
                    DrillButton(ButtonAction.DRILL_PICK, index, 0),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def drill_preview(
    language: Language,
    index: int,
    scenario: Scenario,
    agencies: list[Agency],
    chosen: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """One scenario before it starts: what happens, and which agencies take part (`chosen`: a
    bit per agency of `agencies`, toggled by its button)."""
    lines = [
        t(language, "drill.marker"),
        f"<b>{escape(scenario.title.get(language))}</b>",
        escape(scenario.summary.get(language)),
        "",
        t(language, "drill.reports", count=len(scenario.reports)),
        t(language, "drill.agencies_hint"),
    ]
    rows = []
    for bit, agency in enumerate(agencies):
        on = bool(chosen & (1 << bit))
        label = ("✅ " if on else "⬜ ") + agency.name[:40]
        rows.append(
            [_button(label, DrillButton(ButtonAction.DRILL_TOGGLE, index, chosen ^ 1 << bit))]
        )
    rows.append(
        [
            _button(
                t(language, "drill.button.start"),
                DrillButton(ButtonAction.DRILL_START, index, chosen),
            ),
            _button(t(language, "drill.button.back"), DrillButton(ButtonAction.DRILL_BACK, 0, 0)),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def drill_started_text(
    language: Language, drill: Drill, scenario: Scenario, agency_names: list[str]
) -> str:
    """What the groups taking part, the coordinators and the feed hear as it starts."""
    return "\n".join(
        [
            t(language, "drill.marker"),
            t(
                language,
                "drill.started",
                id=drill.id,
                title=Html(f"<b>{escape(scenario.title.get(language))}</b>"),
            ),
            escape(scenario.summary.get(language)),
            t(language, "drill.taking_part", agencies=", ".join(agency_names)),
            t(language, "drill.how"),
        ]
    )


def drill_status(language: Language, drill: Drill, title: str) -> tuple[str, InlineKeyboardMarkup]:
    """The starter's message about the running drill, with its stop button."""
    text = "\n".join(
        [
            t(language, "drill.marker"),
            t(language, "drill.running", id=drill.id, title=Html(f"<b>{escape(title)}</b>")),
            t(language, "drill.stop_hint"),
        ]
    )
    stop = _button(
        t(language, "drill.button.stop"), DrillButton(ButtonAction.DRILL_STOP, drill.id, 0)
    )
    return text, InlineKeyboardMarkup([[stop]])


def _minutes(language: Language, minutes: float | None) -> str:
    if minutes is None:
        return "—"
    shown = format_decimal(minutes, format="0.0", locale=babel_locale(language))
    return t(language, "drill.minutes", minutes=shown)


def _agency_lines(language: Language, one: AgencyReview) -> list[str]:
    head = t(
        language,
        "drill.review.agency",
        agency=Html(f"<b>{escape(one.agency_name)}</b>"),
        id=one.incident_id,
    )
    lines = [head]
    for step in one.steps:
        if step.target is None and step.minutes is None:
            continue
        mark = "⚠️" if step.late else "✅"
        target = "" if step.target is None else t(language, "drill.target", minutes=step.target)
        who = "" if step.by is None else f" — {escape(step.by)}"
        lines.append(
            f"  {mark} {t(language, STEP_KEYS[step.step])}: {_minutes(language, step.minutes)}"
            f"{target}{who}"
        )
    if one.acknowledged_minutes is None:
        lines.append("  " + t(language, "drill.review.never_acknowledged"))
    if one.escalations:
        lines.append("  " + t(language, "drill.review.escalated", count=one.escalations))
    return lines


def review_text(language: Language, found: Review, zone: ZoneInfo) -> str:
    """The after-action review: per agency and incident, each step's minutes against the
    scenario's target, who did it, and what was missed."""
    drill = found.drill
    title = found.scenario.title.get(language) if found.scenario else drill.scenario
    lines = [
        t(language, "drill.marker"),
        t(language, "drill.review.title", id=drill.id, title=Html(f"<b>{escape(title)}</b>")),
        t(
            language,
            "drill.review.when",
            start=format_time(drill.started_at, language, zone, "short"),
            end=format_clock(drill.ended_at, language, zone) if drill.ended_at else "—",
        ),
        t(language, "drill.review.counts", reports=found.reports, questions=found.questions),
        "",
    ]
    for one in found.agencies:
        lines += _agency_lines(language, one)
    if not found.agencies:
        lines.append(t(language, "drill.review.nobody"))
    late = sum(1 for one in found.agencies for step in one.steps if step.late)
    lines += ["", t(language, "drill.review.late", count=late)]
    return "\n".join(lines)


def history_text(language: Language, reviews: list[Review], zone: ZoneInfo) -> str:
    """`/latihan riwayat`: past drills, newest first, each agency's median time to acknowledge."""
    if not reviews:
        return t(language, "drill.history.none")
    lines = [t(language, "drill.history.title")]
    for found in reviews:
        drill = found.drill
        title = found.scenario.title.get(language) if found.scenario else drill.scenario
        lines.append(
            t(
                language,
                "drill.history.line",
                id=drill.id,
                when=format_time(drill.started_at, language, zone, "short"),
                title=title,
            )
        )
        for name, minutes in median_acknowledge(found.agencies).items():
            lines.append(f"  {escape(name)}: {_minutes(language, minutes)}")
    return "\n".join(lines)


# --- the review's chart (drawn in the chart worker: bot.render.digest) ---

STEP_COLOURS = ("#2e86c1", "#28b463", "#f39c12", "#8e44ad", "#7f8c8d")
CHART_ROWS = 12


def drill_chart(found: Review, language: Language) -> bytes:
    """A 1000 × 600 PNG: per agency and incident, the minutes each step took, with the
    scenario's targets marked."""
    # Imported here: only the chart worker loads matplotlib.
    import html
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def words(key: str, **params: object) -> str:
        return html.unescape(t(language, key, **params)).replace("$", r"\$")

    figure = Figure(figsize=(10.0, 6.0), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    try:
        axes = figure.subplots()
        rows = found.agencies[:CHART_ROWS]
        names = [f"{one.agency_name[:22]} #{one.incident_id}".replace("$", r"\$") for one in rows]
        height = 0.8 / len(Step)
        for index, step in enumerate(Step):
            offsets = [r + index * height - 0.4 + height / 2 for r in range(len(rows))]
            minutes = [one.steps[index].minutes or 0 for one in rows]
            axes.barh(
                offsets,
                minutes,
                height=height,
                color=STEP_COLOURS[index],
                label=words(STEP_KEYS[step]),
            )
            targets = [(o, one.steps[index].target) for o, one in zip(offsets, rows, strict=True)]
            shown = [(o, m) for o, m in targets if m is not None]
            if shown:
                axes.scatter(
                    [m for _, m in shown], [o for o, _ in shown], marker="|", color="black", s=60
                )
        axes.set_yticks(list(range(len(rows))), names)
        axes.invert_yaxis()
        axes.set_xlabel(words(N_("drill.chart.minutes")))
        title = found.scenario.title.get(language) if found.scenario else found.drill.scenario
        axes.set_title(words(N_("drill.chart.title"), id=found.drill.id, title=title))
        axes.legend(loc="lower right", fontsize="small")
        axes.grid(axis="x", alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()
    finally:
        figure.clear()
