"""Translations: every key used in the code exists in Indonesian and English, and agrees."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import (
    Html,
    MissingTranslation,
    catalog,
    format_clock,
    format_time,
    pick_language,
    placeholders,
    t,
)
from bot.settings import LANGUAGES

ROOT = Path(__file__).parent.parent
KEYWORDS = {"t": (2,), "N_": None}


def used_keys() -> set[str]:
    """Every message key the code passes to t(...) or marks with N_(...)."""
    keys: set[str] = set()
    for package in ("bot", "handlers", "models"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            if isinstance(message, str):
                keys.add(message)
            else:
                keys.update(part for part in message if part)
    return keys | enum_keys()


def enum_keys() -> set[str]:
    """Keys built from enum values at run time (labels of chat kinds, roles, types, denials)."""
    from bot.render.cards import MEDIA_KINDS
    from bot.services.broadcasts import Notice as BroadcastNotice
    from models.access import ChatKind, Denial
    from models.agencies import Role
    from models.broadcast import BroadcastStatus, Receipt, TargetKind, TextProblem, Urgency
    from models.incident_types import IncidentType
    from models.incidents import CancelReason, EventKind, Hurt, IncidentStatus, Severity, Source
    from models.info import ANSWERS, QUESTIONS, Gap
    from models.report import Notice, Problem, ReportField

    return (
        {problem.value for problem in Problem}
        | {notice.value for notice in Notice}
        | {item.value for family in (BroadcastNotice, TextProblem, Receipt) for item in family}
        | {item.label_key for family in (Urgency, TargetKind, BroadcastStatus) for item in family}
        | {f"chat.{kind.value}" for kind in ChatKind}
        | {denial.message_key for denial in Denial}
        | {role.label_key for role in Role}
        | {kind.label_key for kind in IncidentType}
        | {
            item.label_key
            for family in (Severity, IncidentStatus, Hurt, Source, CancelReason)
            for item in family
        }
        | {kind.message_key for kind in EventKind}
        | {field.label_key for field in ReportField}
        | {gap.label_key for gap in Gap}
        | {question.text_key for question in QUESTIONS.values()}
        | {f"answer.{answer}" for answer in ANSWERS}
        | {f"info.has_{kind}" for kind in MEDIA_KINDS}
    )


def test_extraction_finds_the_code_keys() -> None:
    keys = used_keys()
    assert {"start.welcome", "help.title", "cmd.help", "error.generic"} <= keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_used_key_is_translated(language: str) -> None:
    missing = sorted(used_keys() - catalog(language).keys())
    assert not missing, f"{language} catalog lacks: {missing}"


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    indonesian, english = catalog("id"), catalog("en")
    assert indonesian.keys() == english.keys(), indonesian.keys() ^ english.keys()
    for key in indonesian:
        assert placeholders(indonesian[key]) == placeholders(english[key]), key


def test_no_catalog_entry_is_unused() -> None:
    unused = sorted(catalog("id").keys() - used_keys())
    assert not unused, f"catalog entries no code uses: {unused}"


def test_parameters_are_escaped_unless_marked_html() -> None:
    assert t("en", "unknown.command", command="<b>&") == (
        "I don't know the command /&lt;b&gt;&amp;. Send /help to see the commands you can use."
    )
    assert "<i>x</i>" in t("en", "help.command_line", command="c", description=Html("<i>x</i>"))


def test_missing_key_raises() -> None:
    with pytest.raises(MissingTranslation):
        t("id", "no.such.key")


@pytest.mark.parametrize(
    ("code", "expected"),
    [("id", "id"), ("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("ms", "id"), (None, "id")],
)
def test_language_from_telegram_code(code: str | None, expected: str) -> None:
    assert pick_language(code, "id") == expected


def test_default_language_applies_to_unsupported_codes() -> None:
    assert pick_language("de", "en") == "en"


def test_times_are_shown_in_the_configured_zone() -> None:
    moment = datetime(2026, 11, 27, 3, 2, tzinfo=UTC)  # 10:02 in Palangka Raya
    zone = ZoneInfo("Asia/Jakarta")
    assert format_clock(moment, "id", zone) == "10.02 WIB"
    assert format_clock(moment, "en", zone) == "10:02 WIB"
    assert "27 Nov 2026" in format_time(moment, "id", zone)
    assert format_clock(moment, "en", ZoneInfo("Asia/Makassar")) == "11:02 WITA"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_valid_telegram_html(language: str) -> None:
    """Filled with hostile parameters, every message still parses as Telegram HTML."""
    from bot.simulator.entities import EntityParseError, parse_html

    hostile = "<script>&x</b>"
    for key, template in catalog(language).items():
        params = dict.fromkeys(placeholders(template), hostile)
        text = t(language, key, **params)
        try:
            plain, _entities = parse_html(text)
        except EntityParseError as error:
            pytest.fail(f"{language} {key}: {error}")
        if params:
            assert hostile in plain, f"{language} {key}: a parameter did not survive escaping"
