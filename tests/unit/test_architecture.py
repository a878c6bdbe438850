"""The house rules the README states, checked on the source: data flows one way (handlers
in ``conversations/`` never import ``storage``; the rules in ``bot/rules/`` import neither
Telegram nor TinyDB nor storage), and no module imports itself back through others."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "conversations", "storage")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the packages by dotted name."""
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def imports(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """What a module imports (anywhere in it, functions included): the modules named, and
    for ``from package import name`` the submodule when ``name`` is one."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return found


def graph(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module → the project's modules it imports."""
    known = sources(root, packages)
    return {
        name: {target for target in imports(name, path, known) if target in known} - {name}
        for name, path in known.items()
    }


def circles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's
    strongly connected components with more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def all_imports(root: Path, packages: Iterable[str]) -> dict[str, set[str]]:
    """Module → everything it imports, third-party packages included."""
    known = sources(root, packages)
    return {name: imports(name, path, known) for name, path in known.items()}


def breaking(
    everything: Mapping[str, set[str]], importer: str, forbidden: Iterable[str]
) -> list[str]:
    """``module imports target`` for each import of a forbidden package below ``importer``."""
    return sorted(
        f"{name} imports {target}"
        for name, targets in everything.items()
        if name == importer or name.startswith(importer + ".")
        for target in targets
        if target.split(".")[0] in set(forbidden)
    )


def test_handlers_never_import_storage() -> None:
    assert breaking(all_imports(ROOT, PACKAGES), "conversations", ["storage"]) == []


def test_the_rules_import_neither_telegram_nor_tinydb_nor_storage() -> None:
    everything = all_imports(ROOT, PACKAGES)
    assert breaking(everything, "bot.rules", ["telegram", "tinydb", "storage"]) == []


def test_no_module_imports_itself_back() -> None:
    assert circles(graph(ROOT, PACKAGES)) == []


# -- the checks can fail ------------------------------------------------------------------
def write(root: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_through_three_modules_is_found(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    from pkg.c import g\n",  # inside a function too
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "from pkg import a\n",  # imports the circle, is not part of it
            "pkg/sub/__init__.py": "",
            "pkg/sub/e.py": "from . import f\n",
            "pkg/sub/f.py": "from .e import x\n",
        },
    )
    assert circles(graph(tmp_path, ["pkg"])) == [
        ["pkg.a", "pkg.b", "pkg.c"],
        ["pkg.sub.e", "pkg.sub.f"],
    ]


@pytest.mark.parametrize(
    ("source", "importer", "forbidden"),
    [
        ("from storage.protocols import Storage\n", "conversations", "storage"),
        ("def f():\n    import storage.files\n", "conversations", "storage"),
        ("from telegram import Update\n", "bot.rules", "telegram"),
        ("import tinydb\n", "bot.rules", "tinydb"),
    ],
)
def test_a_forbidden_import_is_found(
    tmp_path: Path, source: str, importer: str, forbidden: str
) -> None:
    write(tmp_path, {f"{importer.replace('.', '/')}/x.py": source, "storage/__init__.py": ""})
    everything = all_imports(tmp_path, [importer.split(".")[0], "storage"])
    assert breaking(everything, importer, [forbidden]) != []
