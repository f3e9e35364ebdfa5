"""LOG_FORMAT: text lines as before, or one JSON object per line for a log collector; the token
redacted in both, in the message and in a traceback alike."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from telegram.error import InvalidToken

from bot.runtime.logs import LogFormat, configure_logging

TOKEN = "123456:" + "A" * 35
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\w+) ([\w.]+): (.*)")
log = logging.getLogger("siaga112.test")


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """configure_logging changes the process's logging; put it back for the other tests."""
    root = logging.getLogger()
    quieted = [logging.getLogger(name) for name in ("httpx", "httpcore", "apscheduler")]
    saved = root.handlers[:], root.level, [logger.level for logger in quieted]
    yield
    root.handlers[:], level, levels = saved
    root.setLevel(level)
    for logger, was in zip(quieted, levels, strict=True):
        logger.setLevel(was)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def log_a_failure() -> None:
    """What PTB raises when Telegram rejects the token: its message names the token."""
    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken:
        log.exception("start-up failed")


def test_json_lines_carry_time_level_logger_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [TOKEN], "json")
    log.info("incident %d opened", 7)
    log.warning("outbox row %d parked\nafter %d tries", 12, 5)  # still one line
    log.debug("not at INFO")

    opened, parked = json_lines(capsys.readouterr().err)
    assert set(opened) == {"time", "level", "logger", "message"}
    assert (opened["level"], opened["logger"], opened["message"]) == (
        "INFO",
        "siaga112.test",
        "incident 7 opened",
    )
    when = datetime.fromisoformat(opened["time"])
    assert when.utcoffset() is not None, "ISO 8601 with the offset"
    assert abs((datetime.now().astimezone() - when).total_seconds()) < 60
    assert (parked["level"], parked["message"]) == (
        "WARNING",
        "outbox row 12 parked\nafter 5 tries",
    )


def test_a_logged_exception_is_the_exception_field(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [TOKEN], "json")
    try:
        raise RuntimeError("the store is on fire")
    except RuntimeError:
        log.exception("update %d could not be handled", 41)

    (line,) = json_lines(capsys.readouterr().err)
    assert (line["level"], line["message"]) == ("ERROR", "update 41 could not be handled")
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("RuntimeError: the store is on fire")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_token_never_appears_in_either_format(
    capsys: pytest.CaptureFixture[str], fmt: LogFormat
) -> None:
    configure_logging("DEBUG", [TOKEN], fmt)
    log.debug("calling https://api.telegram.org/bot%s/getMe", TOKEN)
    log_a_failure()

    output = capsys.readouterr().err
    assert TOKEN not in output
    assert output.count("<redacted>") == 2, "the message and the exception, both redacted"
    assert "InvalidToken: The token `<redacted>` was rejected by the server." in (
        json_lines(output)[1]["exception"] if fmt == "json" else output
    )


def test_text_lines_are_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", [TOKEN])  # text unless LOG_FORMAT says otherwise
    log.info("incident %d opened", 7)
    log_a_failure()

    lines = capsys.readouterr().err.splitlines()
    first = TEXT_LINE.fullmatch(lines[0])
    assert first is not None and first.groups() == ("INFO", "siaga112.test", "incident 7 opened")
    second = TEXT_LINE.fullmatch(lines[1])
    assert second is not None and second.groups() == ("ERROR", "siaga112.test", "start-up failed")
    assert lines[2] == "Traceback (most recent call last):"
    assert (
        lines[-1]
        == "telegram.error.InvalidToken: The token `<redacted>` was rejected by the server."
    )
