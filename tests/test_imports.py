"""Every module of ``kiosk`` and ``hub`` imports at top level, and no two modules import each other
in a circle.

The circle check reads the top-level imports of each module (the ones that run when it is imported)
and fails on any cycle between modules; an import placed inside a function to dodge a circle is
caught by :func:`test_no_project_import_inside_a_function`.
"""

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "kiosk")

# Imports kept inside a function on purpose, each with its reason. Nothing here dodges a circle.
LAZY_ON_PURPOSE = {
    # `kiosk sync`, `kiosk firstboot` and `kiosk update` run without a display: Kivy loads only for `run`
    "kiosk/cli.py": "Kivy and the app load only for `kiosk run`",
    # the flows open Kivy popups; their logic is tested without a window
    "kiosk/flows/cart.py": "Kivy popups",
    "kiosk/flows/idle.py": "Kivy popups",
    "kiosk/flows/payment.py": "Kivy popups",
    "kiosk/flows/refund.py": "Kivy popups",
    "kiosk/flows/staff.py": "Kivy popups",
    "kiosk/devtools/scripted.py": "Kivy popups",
    "kiosk/screens/__init__.py": "each screen's kv loads when it is first shown (memory, docs/perf.md)",
    "kiosk/app.py": "the member and refund screens and the printer load when first needed (docs/perf.md)",
    "kiosk/config_cli.py": "checks [hw] only where the kiosk extra (evdev) is installed",
    "kiosk/hw/cli.py": "the printer driver loads for `kiosk hw`'s printer commands, not with `kiosk run`",
}


def modules() -> list[str]:
    """Every module name of the project's packages."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def module_path(name: str) -> Path | None:
    base = ROOT / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.exists():
            return path
    return None


def top_level_imports(name: str) -> set[str]:
    """The project modules ``name`` imports when it is itself imported (module body, not functions)."""
    path = module_path(name)
    assert path is not None
    found = set().union(*(imported(node) for node in outside_functions(ast.parse(path.read_text()))))
    return {m for m in found if module_path(m) and m.split(".")[0] in PACKAGES and m != name}


def outside_functions(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under ``node`` that runs on import: function bodies are not entered."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield child
            yield from outside_functions(child)


def imported(node: ast.AST) -> set[str]:
    """The names an import statement may bring in as modules (``from a import b`` may mean ``a.b``)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return set()


def inner_imports(tree: ast.AST) -> set[str]:
    """Project modules imported inside functions."""
    functions = (fn for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef))
    return set().union(*(imported(node) for fn in functions for node in ast.walk(fn)))


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_circle_between_modules() -> None:
    graph = {}
    for name in modules():
        # a package's own __init__ importing its submodules is how packages re-export, not a circle
        graph[name] = {m for m in top_level_imports(name) if not m.startswith(name + ".")}
        # importing a.b.c runs a/__init__ and a/b/__init__ first
        graph[name] |= {
            p for m in graph[name] for p in parents(m) if p != name and not name.startswith(p + ".")
        }
    assert find_cycle(graph) is None


def parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def test_find_cycle_sees_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_project_import_inside_a_function() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            if relative in LAZY_ON_PURPOSE:
                continue
            inner = {m for m in inner_imports(ast.parse(path.read_text())) if m.split(".")[0] in PACKAGES}
            offenders += [f"{relative}: {m}" for m in sorted(inner)]
    assert offenders == []


ENTRY_POINTS = [
    "hub.cli",
    "kiosk.cli",
    "kiosk.launch",
    "kiosk.firstboot",
    "kiosk.fonts",
    "kiosk.devtools.demo",
]


def _import(*names: str) -> subprocess.CompletedProcess[str]:
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n)\n"
    env = {**os.environ, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, cwd=ROOT, env=env
    )


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_imports(package: str) -> None:
    result = _import(*(n for n in modules() if n.split(".")[0] == package))
    assert result.stderr == ""


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_entry_point_imports_in_a_fresh_interpreter(entry: str) -> None:
    """The commands the units and the Makefile run import on their own, whatever order tests used."""
    assert _import(entry).returncode == 0
