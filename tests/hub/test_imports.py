"""No import cycles inside or between the hub's packages, and dependencies only in the direction of
DESIGN §1: ``rooms``, ``cafe`` and ``tenants`` stand on ``hub``; ``hub`` names none of them except in
its composition root (``hub/app.py``); ``tenants`` may use ``rooms``, never the other way; ``cafe``
uses neither.

The graph is read from the source with :mod:`ast`, every ``import`` counted wherever it is written
(inside a function too: a deferred import still runs, it only hides a cycle). Imports under
``if TYPE_CHECKING:`` never run, so they are left out of the cycle check, but not of the direction
check (a module must not even name what it may not depend on).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "rooms", "cafe", "tenants")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            files[_module_name(path)] = path
    return files


MODULES = _source_files()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST, *, type_checking: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every import statement under ``node``, with whether it sits under ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for item in child.body:
                yield from _import_nodes_of(item, type_checking=True)
            for item in child.orelse:
                yield from _import_nodes_of(item, type_checking=type_checking)
            continue
        yield from _import_nodes_of(child, type_checking=type_checking)


def _import_nodes_of(node: ast.AST, *, type_checking: bool) -> Iterator[tuple[ast.AST, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, type_checking
    yield from _import_nodes(node, type_checking=type_checking)


def _known(name: str) -> str | None:
    """The module of ours that importing ``name`` runs last (its longest known prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _targets(module: str, node: ast.AST) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            is_package = MODULES[module].name == "__init__.py"
            anchor = module.split(".")
            anchor = anchor if is_package else anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        # ``from a import b`` runs a.b when b is a module of its own, else only a.
        submodules = (f"{base}.{alias.name}" for alias in node.names)
        names = [name if name in MODULES else base for name in submodules]
    found = (_known(name) for name in names if name.split(".")[0] in PACKAGES)
    return sorted({target for target in found if target is not None and target != module})


def _graph(*, with_type_checking: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node, type_checking in _import_nodes(tree):
            if type_checking and not with_type_checking:
                continue
            edges.update(_targets(module, node))
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as one cycle's path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, component) for component in components]


def _one_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest path a → … → a through the component (breadth first), for a readable failure."""
    members = set(component)
    start = component[0]
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if target not in came_from:
                came_from[target] = node
                queue.append(target)
    raise AssertionError(f"{component} is not strongly connected")


def test_the_graph_is_read_from_every_package() -> None:
    graph = _graph(with_type_checking=False)
    assert {"hub.app", "hub.auth", "rooms.plugin", "cafe.plugin", "tenants.plugin"} <= set(graph)
    assert {"cafe.plugin", "rooms.plugin", "tenants.plugin"} <= graph["hub.app"]


def test_the_cycle_finder_finds_a_cycle_through_a_deferred_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_or_between_modules() -> None:
    graph = _graph(with_type_checking=False)
    cycles = _cycles(graph)
    assert cycles == [], "import cycles (each shortest through its tangle of modules): " + "; ".join(
        " → ".join(cycle) for cycle in cycles
    )


def _imports_of(prefix: str) -> dict[str, set[str]]:
    graph = _graph(with_type_checking=True)
    return {module: targets for module, targets in graph.items() if module.split(".")[0] == prefix}


def _naming(graph: dict[str, set[str]], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} → {target}"
        for module, targets in graph.items()
        for target in targets
        if target.split(".")[0] in forbidden
    )


def test_hub_names_no_module_except_in_its_composition_root() -> None:
    hub = {module: targets for module, targets in _imports_of("hub").items() if module != "hub.app"}
    assert _naming(hub, ("rooms", "cafe", "tenants")) == []


def test_rooms_imports_neither_tenants_nor_cafe() -> None:
    assert _naming(_imports_of("rooms"), ("tenants", "cafe")) == []


def test_cafe_imports_neither_rooms_nor_tenants() -> None:
    assert _naming(_imports_of("cafe"), ("rooms", "tenants")) == []


def test_tenants_imports_no_cafe() -> None:
    assert _naming(_imports_of("tenants"), ("cafe",)) == []
