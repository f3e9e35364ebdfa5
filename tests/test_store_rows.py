"""The store reads rows by column name: `row["reported_at"]`, never `row[7]` or `a, b = row`.

`positional_reads` reads a module's syntax tree and follows, in each function, the names that
hold rows:

- a row: `await fetch_one(...)`, `await <cursor>.fetchone()`, a parameter called `row` or
  annotated as a row (`sqlite3.Row`, `aiosqlite.Row`, `NamedRow`), one of the rows taken by
  index (`rows[0]`), and the target of a loop or comprehension over rows (`for row in rows`);
- rows: `await fetch_all(...)`, `await <x>.fetchall()`, `.fetchmany()`, `.execute_fetchall()`,
  and a cursor (`async with db.execute(...) as cursor`, `await db.execute(...)`), whose
  `async for` yields rows.

It flags, on those:

- a subscript of a row by anything but a string literal (`row[7]`, `row[width + 1]`, `row[1:]`);
- unpacking a row (`a, b = row`, `(n,) = await fetch_one(...)`, `f(*row)`) or iterating it
  (`for value in row`, `tuple(row)`), which reads it by position just the same;
- unpacking each row in a loop or comprehension (`for a, b in rows`, `async for a, b in cursor`).

A name is taken to hold rows wherever in its function it is bound to them (the check ignores
the order of statements), and `test_the_check_knows_every_row_of_the_store` makes sure it keeps
recognising the store's rows, so that a new way of fetching cannot slip past it unseen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parent.parent / "bot" / "store"


class Kind(Enum):
    ROW = "a row"
    ROWS = "rows"


# What a call (awaited or not) of these functions or methods gives.
FETCHES = {
    "fetch_one": Kind.ROW,
    "fetchone": Kind.ROW,
    "fetch_all": Kind.ROWS,
    "fetchall": Kind.ROWS,
    "fetchmany": Kind.ROWS,
    "execute_fetchall": Kind.ROWS,
    "execute": Kind.ROWS,  # a cursor
}
ROW_TYPES = frozenset({"Row", "NamedRow"})
ITERATING_CALLS = frozenset({"tuple", "list", "set", "iter", "zip", "enumerate", "sorted", "map"})
SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True, slots=True)
class Finding:
    line: int
    what: str


@dataclass(slots=True)
class Scope:
    """One function (or module, class body) and the names in it that hold rows."""

    node: ast.AST
    names: dict[str, Kind] = field(default_factory=dict)

    def nodes(self) -> Iterator[ast.AST]:
        """The nodes of this scope; a nested function is its own scope."""
        stack = list(ast.iter_child_nodes(self.node))
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, SCOPES):
                stack.extend(ast.iter_child_nodes(node))

    def kind(self, expr: ast.expr | None) -> Kind | None:
        """Whether `expr` is a row, rows, or neither (None)."""
        if isinstance(expr, ast.Await):
            expr = expr.value
        if isinstance(expr, ast.NamedExpr):
            return self.kind(expr.value)
        if isinstance(expr, ast.Name):
            return self.names.get(expr.id)
        if isinstance(expr, ast.Call):
            func = expr.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            return FETCHES.get(name) if isinstance(name, str) else None
        if isinstance(expr, ast.Subscript) and self.kind(expr.value) is Kind.ROWS:
            return Kind.ROW
        return None

    def learn(self) -> None:
        """Find the names bound to rows, until nothing new is found."""
        if isinstance(self.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = self.node.args
            for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                if arg.arg == "row" or (
                    arg.annotation is not None and _names_a_row_type(arg.annotation)
                ):
                    self.names[arg.arg] = Kind.ROW
        while True:
            before = dict(self.names)
            for node in self.nodes():
                for target, kind in self._bindings(node):
                    if kind is not None and isinstance(target, ast.Name):
                        self.names.setdefault(target.id, kind)
            if self.names == before:
                return

    def _bindings(self, node: ast.AST) -> Iterator[tuple[ast.expr, Kind | None]]:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                yield target, self.kind(node.value)
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            yield node.target, self.kind(node.value)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            yield node.optional_vars, self.kind(node.context_expr)
        elif (
            isinstance(node, ast.For | ast.AsyncFor | ast.comprehension)
            and self.kind(node.iter) is Kind.ROWS
        ):
            yield node.target, Kind.ROW

    def findings(self) -> Iterator[Finding]:
        for node in self.nodes():
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Subscript) and self.kind(node.value) is Kind.ROW:
                if not _is_a_column_name(node.slice):
                    yield Finding(line, f"reads a row by position: {ast.unparse(node)}")
            elif isinstance(node, ast.Assign):
                if self.kind(node.value) is Kind.ROW and any(
                    isinstance(target, ast.Tuple | ast.List) for target in node.targets
                ):
                    yield Finding(line, f"unpacks a row: {ast.unparse(node)}")
            elif isinstance(node, ast.Starred) and self.kind(node.value) is Kind.ROW:
                yield Finding(line, f"unpacks a row: {ast.unparse(node)}")
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                line = getattr(node.target, "lineno", line)
                iterated = self.kind(node.iter)
                if iterated is Kind.ROW:
                    yield Finding(line, f"iterates a row: {ast.unparse(node.iter)}")
                elif iterated is Kind.ROWS and isinstance(node.target, ast.Tuple | ast.List):
                    yield Finding(line, f"unpacks each row: {ast.unparse(node.target)}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ITERATING_CALLS
                and any(self.kind(arg) is Kind.ROW for arg in node.args)
            ):
                yield Finding(line, f"iterates a row: {ast.unparse(node)}")


def _names_a_row_type(annotation: ast.expr) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id in ROW_TYPES:
            return True
        if isinstance(node, ast.Attribute) and node.attr in ROW_TYPES:
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return _names_a_row_type(ast.parse(node.value, mode="eval").body)
    return False


def _is_a_column_name(key: ast.expr) -> bool:
    return isinstance(key, ast.JoinedStr) or (
        isinstance(key, ast.Constant) and isinstance(key.value, str)
    )


def scopes(source: str) -> list[Scope]:
    tree = ast.parse(source)
    found = [Scope(node) for node in ast.walk(tree) if isinstance(node, SCOPES)]
    for scope in found:
        scope.learn()
    return found


def positional_reads(source: str) -> list[Finding]:
    """Where a module reads a row by position, in the order of its lines."""
    return sorted(
        {finding for scope in scopes(source) for finding in scope.findings()},
        key=lambda finding: (finding.line, finding.what),
    )


def store_modules() -> list[Path]:
    return sorted(STORE.rglob("*.py"))


def test_the_store_reads_rows_by_column_name() -> None:
    assert len(store_modules()) > 10, STORE
    found = [
        f"{path.relative_to(STORE.parent.parent)}:{finding.line}: {finding.what}"
        for path in store_modules()
        for finding in positional_reads(path.read_text(encoding="utf-8"))
    ]
    assert not found, "read these by column name:\n" + "\n".join(found)


def test_the_check_knows_every_row_of_the_store() -> None:
    """Every `row` and `rows` the store reads is one the check follows."""
    unknown = []
    for path in store_modules():
        for scope in scopes(path.read_text(encoding="utf-8")):
            for node in scope.nodes():
                if (
                    isinstance(node, ast.Name)
                    and node.id in ("row", "rows")
                    and isinstance(node.ctx, ast.Load)
                    and node.id not in scope.names
                ):
                    unknown.append(f"{path.name}:{node.lineno}: {node.id}")
    assert not unknown, "the check does not know these hold rows:\n" + "\n".join(unknown)


SAMPLE = """
async def latest(db):
    row = await fetch_one(db, "SELECT a, b, c, d FROM t")
    fourth = row[3]
    a, b = row
    return row["a"], fourth, a, b
"""


def test_the_check_flags_a_subscript_and_an_unpacking_of_a_row() -> None:
    assert positional_reads(SAMPLE) == [
        Finding(4, "reads a row by position: row[3]"),
        Finding(5, "unpacks a row: a, b = row"),
    ]


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("(n,) = await fetch_one(db, sql)", "unpacks a row: n, = await fetch_one(db, sql)"),
        (
            "x = (await fetch_one(db, sql))[0]",
            "reads a row by position: (await fetch_one(db, sql))[0]",
        ),
        ("rows = await fetch_all(db, sql)\nx = rows[0][1]", "reads a row by position: rows[0][1]"),
        ("rows = await fetch_all(db, sql)\nfor a, b in rows: pass", "unpacks each row: (a, b)"),
        (
            "rows = await fetch_all(db, sql)\nx = [r[-1] for r in rows]",
            "reads a row by position: r[-1]",
        ),
        (
            "row = await fetch_one(db, sql)\nx = row[width + 1]",
            "reads a row by position: row[width + 1]",
        ),
        ("row = await fetch_one(db, sql)\nx = row[1:]", "reads a row by position: row[1:]"),
        ("row = await fetch_one(db, sql)\nx = Counts(*row)", "unpacks a row: *row"),
        ("row = await fetch_one(db, sql)\nx = [int(v) for v in row]", "iterates a row: row"),
        ("row = await fetch_one(db, sql)\nx = tuple(row)", "iterates a row: tuple(row)"),
        (
            "async with db.execute(sql) as cursor:\n    x = {r[0]: r[1] async for r in cursor}",
            "reads a row by position: r[0]",
        ),
        (
            "async with db.execute(sql) as cursor:\n    row = await cursor.fetchone()\nx = row[0]",
            "reads a row by position: row[0]",
        ),
        (
            "async with db.execute(sql) as cursor:\n    async for a, b in cursor: pass",
            "unpacks each row: (a, b)",
        ),
    ],
)
def test_the_check_flags_each_way_of_reading_by_position(source: str, what: str) -> None:
    body = "\n".join("    " + line for line in source.splitlines())
    found = positional_reads(f"async def f(db, sql, width):\n{body}\n")
    assert what in [finding.what for finding in found]


def test_a_parameter_annotated_as_a_row_or_called_row_is_a_row() -> None:
    source = """
def agency(found: sqlite3.Row) -> Agency:
    return Agency(found[0], found["code"])

def response(row: Sequence[Any]) -> Response:
    return Response(row[1])
"""
    assert positional_reads(source) == [
        Finding(3, "reads a row by position: found[0]"),
        Finding(6, "reads a row by position: row[1]"),
    ]


def test_reads_by_name_and_other_subscripts_pass() -> None:
    source = """
async def f(db, value: str):
    row = await fetch_one(db, "SELECT a FROM t")
    rows = await fetch_all(db, "SELECT a, b FROM t")
    found = [x for x in rows]
    return row["a"], rows[0]["b"], value[10], found, [r["a"] for r in rows], row[f"{value}"]
"""
    assert positional_reads(source) == []
