"""docs/panduan-operator.md, the operator guide in Indonesian, names only real things: its
sections are there, every `siaga112 …` command is a subcommand (and option) of the CLI, every
`make …` target is in the Makefile, every setting is a field of `Settings`, and the data
protection law is named without article numbers."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "panduan-operator.md"
MAKEFILE = ROOT / "Makefile"

SECTIONS = [
    "## 1. Pemasangan",
    "## 2. Pengaturan di BotFather",
    "## 3. Hak admin bot di grup",
    "## 4. Mendaftarkan instansi pertama",
    "## 5. Cadangan dan pemulihan",
    "## 6. Pembaruan dan rollback",
    "## 7. Kesehatan dan metrik",
    "## 8. Retensi data",
    "## 9. Saat Telegram tidak bisa dijangkau",
    "## Perintah penting",
]

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
# `siaga112 word` where siaga112 is the program (alone or at the end of a path such as
# .venv/bin/siaga112), not the system user in `sudo -u siaga112 make check`.
COMMAND = re.compile(r"(?:^|(?<=[\s`/]))siaga112 ([a-z][a-z-]*)((?:[ \t]+[^\s#|`]+)*)")
USER_WORDS = frozenset({"-u", "--user", "-g", "useradd", "adduser", "usermod", "chown", "chgrp"})
# `make target` where make is the command run: at the start, after `&&`/`;`, or run by the user
# siaga112 (`sudo -u siaga112 make check`), not a package in `apt-get install … make git`.
MAKE = re.compile(r"(?:^|&&\s*|;\s*|(?<=-u siaga112 ))make ([a-z][a-z-]*)")
TARGET = re.compile(r"^([A-Za-z][\w-]*)\s*:(?!=)", re.MULTILINE)
NAME = r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"
SETTING_SPAN = re.compile(rf"`({NAME})(?:=[^`]*)?`")
SETTING_ASSIGN = re.compile(rf"(?<![\w$])({NAME})(?==)")


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def code_of(text: str) -> list[str]:
    """The guide's code: every fenced block's lines (without shell comments) and every inline
    code span."""
    fenced = [
        re.sub(r"(?:^|\s)#.*$", "", line)
        for block in FENCE.findall(text)
        for line in block.splitlines()
    ]
    prose = FENCE.sub("", text)
    return fenced + SPAN.findall(prose)


def commands_in(text: str) -> list[tuple[str, list[str]]]:
    """(subcommand, the words after it) for every `siaga112 …` command in the guide's code."""
    found = []
    for code in code_of(text):
        for match in COMMAND.finditer(code):
            before = code[: match.start()].split()
            if before and before[-1] in USER_WORDS:
                continue  # the user siaga112 running something else
            found.append((match.group(1), match.group(2).split()))
    return found


def make_targets_in(text: str) -> set[str]:
    return {target for code in code_of(text) for target in MAKE.findall(code)}


def makefile_targets() -> set[str]:
    return set(TARGET.findall(MAKEFILE.read_text(encoding="utf-8")))


def settings_named(text: str) -> set[str]:
    """UPPER_CASE names written as a setting: `FOO_BAR`, `FOO_BAR=…` or FOO_BAR= in code."""
    return set(SETTING_SPAN.findall(text)) | set(SETTING_ASSIGN.findall(text))


def _subparsers(command: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(command: argparse.ArgumentParser) -> set[str]:
    return {option for action in command._actions for option in action.option_strings}


def test_the_guide_has_its_sections_in_order() -> None:
    headings = [line for line in guide().splitlines() if line.startswith("## ")]
    assert headings == SECTIONS


def test_the_guide_is_practical_and_concise() -> None:
    assert 250 <= len(guide().splitlines()) <= 450
    assert "../README.md" in guide()


def test_the_guide_names_commands_settings_and_targets() -> None:
    """The extraction below finds what the guide cites, so the checks after it check something."""
    text = guide()
    subcommands = {name for name, _ in commands_in(text)}
    assert {"run", "migrate", "check", "backup", "outbox", "export"} <= subcommands
    assert "make" not in subcommands  # `sudo -u siaga112 make check` is make's, not the CLI's
    assert {"check", "run", "migrate", "test"} <= make_targets_in(text)
    assert {"TELEGRAM_BOT_TOKEN", "ADMIN_USER_IDS", "METRICS_TOKEN"} <= settings_named(text)


def test_every_siaga112_command_is_a_subcommand_of_the_cli() -> None:
    root = parser()
    subcommands = _subparsers(root)
    for name, rest in commands_in(guide()):
        assert name in subcommands, f"`siaga112 {name}` is no subcommand of bot/cli.py"
        command = subcommands[name]
        nested = _subparsers(command)
        words = [word for word in rest if re.fullmatch(r"[a-z]+", word)]
        if nested and words:
            assert words[0] in nested, f"`siaga112 {name} {words[0]}` is no subcommand"
            command = nested[words[0]]
        for word in rest:
            option = word.split("=", 1)[0]
            if option.startswith("--"):
                assert option in _options(command), f"`siaga112 {name}` has no option {option}"


def test_every_make_target_is_in_the_makefile() -> None:
    targets = makefile_targets()
    assert {"run", "check", "migrate", "test"} <= targets
    named = make_targets_in(guide())
    assert named - targets == set(), f"make targets not in the Makefile: {named - targets}"


def test_every_setting_is_a_field_of_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    unknown = settings_named(guide()) - fields
    assert unknown == set(), f"not settings: {sorted(unknown)}"


@pytest.mark.parametrize(
    "setting", ["OUTBOX_RETENTION_DAYS", "PERSONAL_DATA_RETENTION_DAYS", "LOG_FORMAT"]
)
def test_the_operations_settings_are_described(setting: str) -> None:
    assert setting in settings_named(guide())


def test_the_data_protection_law_is_named_without_article_numbers() -> None:
    text = guide()
    assert "UU No. 27 Tahun 2022" in text
    assert "Pelindungan Data Pribadi" in text
    assert re.search(r"\bpasal\b", text, re.IGNORECASE) is None
