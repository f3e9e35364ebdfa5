"""docs/CONTRIBUTING.md names real things: every path in it exists and every dotted name of the
project in it can be imported (issue 15)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "CONTRIBUTING.md"
TOKEN = re.compile(r"`([^`\s]+)`")
PATH = re.compile(r"^(?:\.\./)?[\w.-]+(?:/[\w.-]*)*$")
DOTTED = re.compile(r"^(?:bot|handlers|models|bench|tests)(?:\.\w+)+$")


def _tokens(text: str) -> list[str]:
    return [token.rstrip(".,;:") for token in TOKEN.findall(text)]


def paths_named(text: str) -> list[str]:
    """Backticked tokens that name a file or folder: they contain a slash or end like a file."""
    found = []
    for token in _tokens(text):
        if not PATH.match(token) or DOTTED.match(token):
            continue
        if "/" in token or re.search(r"\.(py|md|sql|toml|po)$", token):
            found.append(token)
    return found


def dotted_named(text: str) -> list[str]:
    return [token for token in _tokens(text) if DOTTED.match(token)]


def _exists(token: str) -> bool:
    if token.startswith("../"):
        return (GUIDE.parent / token).resolve().exists()
    return (ROOT / token).exists()


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(value, attribute):
                return False
            value = getattr(value, attribute)
        return True
    return False


def test_every_path_in_the_guide_exists() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    named = paths_named(text)
    assert len(named) > 40  # the guide is a map: it names the files it walks through
    assert [token for token in named if not _exists(token)] == []


def test_every_dotted_name_in_the_guide_resolves() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert [name for name in dotted_named(text) if not _resolves(name)] == []


def test_the_checks_see_a_stale_name() -> None:
    text = "see `bot/nowhere.py`, `handlers/incidents.py` and `bot.services.incidents.Nope`."
    assert paths_named(text) == ["bot/nowhere.py", "handlers/incidents.py"]
    assert not _exists("bot/nowhere.py")
    assert _exists("handlers/incidents.py")
    assert dotted_named(text) == ["bot.services.incidents.Nope"]
    assert not _resolves("bot.services.incidents.Nope")
    assert _resolves("bot.services.incidents.IncidentService.acknowledge")
