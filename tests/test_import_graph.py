"""The package's import graph, module-level and function-local imports alike: no circle, and no module inside the
package imports its face (``st_jce/__init__.py``), which only gathers names for users."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "st_jce"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the st_jce modules it imports (``from st_jce.x import y`` counts as st_jce.x.y where that is a
    module, else st_jce.x)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                            else node.module for alias in node.names}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def test_no_module_imports_the_package_face():
    importers = sorted(name for name, targets in import_graph().items() if "st_jce" in targets)
    assert importers == []


def test_the_import_graph_has_no_circle():
    graph, state, stack = import_graph(), {}, []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                raise AssertionError(f"import circle: {' -> '.join(stack[stack.index(target):] + [target])}")
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert len(graph) > 50  # the whole package was read
