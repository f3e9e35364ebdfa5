"""Handlers talk only to services: no store, no clock and no SQL in `handlers/` (issue 14)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from models import refs
from models.refs import RefKind

HANDLERS = Path(__file__).resolve().parent.parent / "handlers"


FORBIDDEN = re.compile(
    r"services\.store|services\.clock|\bfrom bot\.store\b"
    r"|\b(?:SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b"
)


def test_handlers_reach_no_store_clock_or_sql() -> None:
    """Every handler module goes through `context.services`' operations, never around them."""
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(HANDLERS.glob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert found == []


def test_the_check_sees_what_it_forbids() -> None:
    """The pattern itself catches the shapes the handlers used to have."""
    for line in (
        "async with services.store.read() as tx:",
        "now = services.clock.now()",
        "from bot.store import Store",
        'await db.execute("SELECT id FROM incidents")',
    ):
        assert FORBIDDEN.search(line), line


ROOT = HANDLERS.parent
PACKAGES = ("bot", "handlers", "models", "migrations")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in it: at the top, inside functions and
    under TYPE_CHECKING alike."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in known and module != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return components


def test_no_import_cycle_among_the_projects_modules() -> None:
    """No module of the bot imports, directly or through others, one that imports it back —
    counting imports under TYPE_CHECKING and inside functions too."""
    modules = _project_modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _literal_refs(source: str, label: str) -> list[str]:
    """String and f-string literals in `source` that start like a message ref (`card:…`)."""
    heads = tuple(f"{kind.value}:" for kind in RefKind)
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        first: object = None
        if isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            first = head.value if isinstance(head, ast.Constant) else None
        elif isinstance(node, ast.Constant):
            first = node.value
        if isinstance(first, str) and first.startswith(heads):
            found.add(f"{label}:{node.lineno}: {first}")
    return sorted(found)  # an f-string's head is also walked as a constant of its own


def test_message_refs_are_built_only_in_models_refs() -> None:
    """A ref spelled by hand elsewhere would drift from the one the press pipeline checks."""
    found = [
        hit
        for name, path in _project_modules().items()
        if name != "models.refs" and not name.startswith("bot.simulator")
        for hit in _literal_refs(path.read_text(encoding="utf-8"), name)
    ]
    assert found == []


def test_the_ref_check_sees_a_ref_spelled_by_hand() -> None:
    source = 'ref = f"card:{incident}:{agency}"\nother = "bcs:4"\nfine = "cards: 3"\n'
    assert _literal_refs(source, "m") == ["m:1: card:", "m:2: bcs:4"]


def test_every_ref_kind_reads_back_from_its_builder() -> None:
    built = {
        RefKind.CARD: refs.card_ref(7, 2),
        RefKind.TASK: refs.task_ref(9),
        RefKind.OPS: refs.ops_ref(7, -100),
        RefKind.FEED: refs.feed_ref(7),
        RefKind.ESCALATION: refs.escalation_ref(7, 2, -100, 1),
        RefKind.VIEW: refs.view_ref(7, 5, 88),
        RefKind.ALERT: refs.alert_ref(3, -100),
        RefKind.ALERT_STATUS: refs.alert_status_ref(3),
        RefKind.DIGEST: refs.digest_ref("2026-12-07", -100),
        RefKind.ERASED: refs.erased_ref(5, 41),
        RefKind.QUESTION: refs.question_ref(3, 500),
        RefKind.INFO: refs.info_ref(3, -100, "t"),
        RefKind.DUTY: refs.duty_ref(12, 3, 801),
        RefKind.REMINDER: refs.reminder_ref(12, 3, "ack", -100, 0),
        RefKind.ESCALATION_PING: refs.escalation_ping_ref(12, 3, -100),
    }
    assert set(built) == set(RefKind)
    for kind, ref in built.items():
        assert refs.kind_of(ref) is kind
        assert refs.parts_of(ref, kind) is not None
    assert refs.parts_of(refs.alert_ref(3, -100), RefKind.ALERT) == ("3", "-100")
    assert refs.parts_of(refs.alert_status_ref(3), RefKind.ALERT) is None
    assert refs.kind_of("nonsense:1") is None
    assert refs.parts_of(None, RefKind.CARD) is None


# Which part of the project may import which (docs/CONTRIBUTING.md explains the parts). A part
# is a package of `bot` or a module at its top; the shared modules at the top are listed one by
# one, so a new one is a decision made here.
SHARED = {"bot.settings", "bot.i18n", "bot.callbacks", "bot.commands", "bot.hooks"}
ANYTHING = {"bot.app", "bot.cli", "bot.demo", "bot.playground", "bot.__main__", "bot"}
ALLOWED: dict[str, set[str]] = {
    "models": set(),
    "migrations": set(),
    "bot.simulator": set(),
    "bot.settings": {"models"},
    "bot.i18n": {"models", "bot.settings"},
    "bot.callbacks": {"models"},
    "bot.commands": {"models", "bot.settings", "bot.i18n"},
    "bot.hooks": {"models"},
    "bot.store": {"models", "bot.settings", "bot.i18n", "bot.hooks"},
    "bot.render": {"models", *SHARED},
    "bot.services": {"models", "bot.store", "bot.render", *SHARED},
    "bot.flows": {"models", "bot.store", "bot.render", "bot.services", *SHARED},
    "bot.runtime": {
        "models",
        "bot.store",
        "bot.render",
        "bot.services",
        "bot.context",
        "bot.web",
        *SHARED,
    },
    "bot.web": {"models", "bot.store", "bot.render", "bot.services", "bot.context", *SHARED},
    "bot.context": {"models", "bot.store", "bot.services", "bot.runtime", *SHARED},
    "bot.settle": {"bot.context", "bot.simulator"},
    "handlers": {"models", "bot.render", "bot.services", "bot.context", *SHARED},
}


def _part(module: str) -> str:
    head, _, rest = module.partition(".")
    if head != "bot" or not rest:
        return head if head != "bot" else "bot"
    return f"bot.{rest.split('.')[0]}"


def _breaches(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for name, imported in sorted(graph.items()):
        part = _part(name)
        if part in ANYTHING:
            continue
        allowed = ALLOWED.get(part)
        for other in sorted(imported):
            target = _part(other)
            if target == part:
                continue
            if allowed is None or target not in allowed:
                found.append(f"{name} imports {other}")
    return found


def test_every_part_imports_only_what_its_rule_allows() -> None:
    modules = _project_modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    unruled = sorted({_part(name) for name in modules} - set(ALLOWED) - ANYTHING)
    assert unruled == []  # a new part of the project gets its rule here
    assert _breaches(graph) == []


def test_the_import_rule_sees_a_breach() -> None:
    graph = {
        "handlers.incidents": {"bot.store.incidents", "bot.services.incidents"},
        "bot.render.cards": {"bot.i18n"},
        "models.incidents": {"bot.settings"},
        "bot.app": {"handlers.incidents"},
    }
    assert _breaches(graph) == [
        "handlers.incidents imports bot.store.incidents",
        "models.incidents imports bot.settings",
    ]
