"""The package layout holds: no import cycle, dependencies one way (docs/architecture.md).

The graph is built with ``ast`` from every import statement in ``vizor/``,
function-local and ``TYPE_CHECKING`` imports included: a dependency is a
dependency wherever it is written.  ``python tests/test_layout.py`` prints the
graph's offending arrows, or nothing.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "vizor"

# Inside the machine, packages in layers: each may import its own layer and the
# ones below it, never one above.
MACHINE_LAYERS = ["arch", "clock", "devices", "cpu", "inspect", "board", "debug", "session"]

# Outside the machine: who may import whom (prefixes), besides itself and the stdlib.
OUTSIDE = {
    "vizor.cli": ("vizor.app", "vizor.driver", "vizor.machine", "vizor.gdb"),
    "vizor.app": ("vizor.panes", "vizor.driver", "vizor.machine.inspect", "vizor.machine.arch",
                  "vizor.machine.debug.stops"),
    "vizor.panes": ("vizor.machine.inspect", "vizor.machine.arch", "vizor.machine.debug.stops"),
    "vizor.driver": ("vizor.machine",),
    "vizor.gdb": ("vizor.driver", "vizor.machine"),
}
UI_LIBRARIES = ("textual", "rich")
UI_PACKAGES = ("vizor.app", "vizor.panes")
MAX_TOP_LEVEL = 4          # loose modules directly in vizor/
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module of ours that ``name`` (a module or a module.attribute) is."""
    while name:
        if name in known:
            return name
        if "." not in name:
            return None
        name = name.rsplit(".", 1)[0]
    return None


def imports_of(mod: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported name, line) for every import in the file: ours resolved to a module,
    others (textual, rich, unicorn...) by their top-level name."""
    tree = ast.parse(path.read_text(), str(path))
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found.append((_resolve(a.name, known) or a.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("vizor"):
                found.append((source.split(".")[0], node.lineno))
                continue
            for a in node.names:
                target = _resolve(f"{source}.{a.name}", known) or _resolve(source, known)
                if target:
                    found.append((target, node.lineno))
    return found


def graph() -> dict[str, dict[str, int]]:
    known = modules()
    g: dict[str, dict[str, int]] = {}
    for mod, path in known.items():
        g[mod] = {}
        for target, line in imports_of(mod, path, known):
            if target != mod:
                g[mod].setdefault(target, line)
    return g


def cycles(g: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def _layer(mod: str) -> int | None:
    parts = mod.split(".")
    if parts[:2] != ["vizor", "machine"] or len(parts) < 3:
        return None
    return MACHINE_LAYERS.index(parts[2]) if parts[2] in MACHINE_LAYERS else None


def _within(mod: str, prefix: str) -> bool:
    return mod == prefix or mod.startswith(prefix + ".")


def forbidden(g: dict[str, dict[str, int]]) -> list[str]:
    """Every arrow that runs the wrong way, as 'a -> b (line N): why'."""
    bad = []
    for a, targets in sorted(g.items()):
        for b, line in sorted(targets.items()):
            why = None
            if b in UI_LIBRARIES:
                if not any(_within(a, p) for p in UI_PACKAGES):
                    why = f"only {', '.join(UI_PACKAGES)} may import {b}"
            elif not b.startswith("vizor"):
                continue
            elif _within(a, "vizor.machine"):
                if not _within(b, "vizor.machine"):
                    why = "the machine imports nothing above it"
                elif b == "vizor.machine":
                    why = "inside the machine, import the module, not the package"
                else:
                    la, lb = _layer(a), _layer(b)
                    if la is None or lb is None:
                        why = f"every machine module belongs to one of {MACHINE_LAYERS}"
                    elif lb > la:
                        why = (f"machine layer {MACHINE_LAYERS[la]} may not import the higher "
                               f"layer {MACHINE_LAYERS[lb]}")
                    elif MACHINE_LAYERS[la] == "devices" and MACHINE_LAYERS[lb] not in ("devices", "clock"):
                        why = "devices import only the clock and each other"
            else:
                home = next((p for p in OUTSIDE if _within(a, p)), None)
                if home and not _within(b, home) and not any(_within(b, p) for p in OUTSIDE[home]):
                    why = f"{home} may import only {', '.join(OUTSIDE[home])}"
            if why:
                bad.append(f"{a} -> {b} (line {line}): {why}")
    return bad


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_dependencies_run_one_way():
    bad = forbidden(graph())
    assert not bad, "arrows the wrong way:\n" + "\n".join(bad)


def test_top_level_is_small():
    loose = [p.name for p in PKG.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(loose) <= MAX_TOP_LEVEL, f"loose modules in vizor/: {loose}"


def test_every_package_says_what_it_is_for():
    missing = [module_name(p) for p in PKG.rglob("__init__.py") if not ast.get_docstring(ast.parse(p.read_text()))]
    assert not missing, f"packages without a docstring: {missing}"


def test_no_module_over_400_lines():
    long = {module_name(p): n for p in PKG.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


if __name__ == "__main__":
    g = graph()
    for c in cycles(g):
        print("cycle:", " <-> ".join(c))
        for a in c:
            for b, line in g[a].items():
                if b in c:
                    print(f"   {a} -> {b} (line {line})")
    for line in forbidden(g):
        print(line)
