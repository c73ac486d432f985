"""The package's module-level imports form no circle (function-level imports, which load lazily, are not edges)."""

from __future__ import annotations

import ast
from pathlib import Path

import mirage_metrics

PACKAGE_ROOT = Path(mirage_metrics.__file__).parent
# tasks/ and vision/ ship as mirage_metrics.tasks and mirage_metrics.vision (pyproject's package-dir).
FOLDERS = {
    "mirage_metrics": PACKAGE_ROOT,
    "mirage_metrics.tasks": PACKAGE_ROOT.parent / "tasks",
    "mirage_metrics.vision": PACKAGE_ROOT.parent / "vision",
}


def _modules() -> dict[str, Path]:
    modules = {}
    for prefix, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if prefix == "mirage_metrics" and parts[:1] in (["tasks"], ["vision"]):
                continue
            modules[".".join([prefix, *parts])] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, (ast.Name, ast.Attribute)) and "TYPE_CHECKING" in ast.unparse(node.test)


def _module_level_imports(tree: ast.Module, name: str, is_package: bool, modules) -> set[str]:
    found, pending = set(), list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    edges = set()
    for target in found:
        while target and target not in modules:  # a name inside a module: the module
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
            parent = target.rpartition(".")[0]
            while parent:  # importing a submodule runs its packages' __init__ first
                if parent in modules and parent != name and not name.startswith(parent + "."):
                    edges.add(parent)
                parent = parent.rpartition(".")[0]
    return edges


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: _module_level_imports(ast.parse(path.read_text()), name, path.name == "__init__.py", modules)
        for name, path in modules.items()
    }


def _a_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_module_level_import_graph_has_no_circle():
    graph = _graph()
    assert len(graph) > 30 and graph["mirage_metrics.report.build"]  # the walk found the package and its imports
    assert _a_cycle(graph) is None, " -> ".join(_a_cycle(graph))


def test_the_cycle_finder_finds_one():
    assert _a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_cycle({"a": {"b"}, "b": set()}) is None
