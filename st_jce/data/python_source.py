r"""Reading installed Python source: where packages live, their files, and their functions' code.

Shared by the miners of :mod:`st_jce.data.mining` and :mod:`st_jce.data.cross_language`.

Examples
--------
>>> import ast
>>> from st_jce.source_lines import source_lines
>>> source = 'class Box:\n    def size(self):\n        \"\"\"How big.\"\"\"\n        return self.n\n'
>>> [(name, function_code(node, source_lines(source))) for name, node in function_nodes(ast.parse(source))]
[('Box.size', 'def size(self):\n    return self.n')]
"""

from __future__ import annotations

import ast
import importlib.util
import sysconfig
from pathlib import Path

# Folders that hold tests, demos, vendored or generated code rather than documented library functions.
SKIPPED_DIRS: frozenset[str] = frozenset({
    "test", "tests", "idlelib", "site-packages", "dist-packages", "__pycache__", "turtledemo", "lib2to3",
    "pydoc_data", "ensurepip", "lib-dynload", "__phello__",
})
MIN_CODE_LINES = 3  # the ``def`` line plus at least two lines of body
DEFAULT_MAX_CODE_CHARS = 2000


def stdlib_root() -> Path:
    """The folder of the running interpreter's standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def package_root(name: str) -> Path:
    """The source folder of the installed package ``name`` (its import name), found without importing it.

    Examples
    --------
    >>> package_root("json") == stdlib_root() / "json"
    True
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ModuleNotFoundError(f"no installed package {name!r}; install it (`pip install "
                                  f"{name.replace('_', '-')}`, or `pip install 'st-jce[demo]'` for the CPU demo's) "
                                  "or remove it from `mining.packages`.")
    if not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name!r} is a single module, not a package; put the folder that holds it in "
                                  "`mining.roots` instead of `mining.packages`.")
    return Path(next(iter(spec.submodule_search_locations)))


def python_files(root: Path) -> list[Path]:
    """All ``.py`` files under ``root`` in sorted order, skipping :data:`SKIPPED_DIRS` and ``test_*.py``."""
    files = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part in SKIPPED_DIRS or part.startswith("config-") for part in parts[:-1]):
            continue
        if path.name.startswith("test_"):
            continue
        files.append(path)
    return files


def function_nodes(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method in ``tree`` with its qualified name (``Class.method``, ``f.<locals>.g``), in source order."""
    found = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((f"{prefix}{child.name}", child))
                visit(child, f"{prefix}{child.name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def function_code(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> str | None:
    """The source of ``node`` (decorators included) without its docstring, dedented to column 0.

    ``None`` where the docstring shares a line with code, so that dropping its lines would cut code too.
    """
    start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
    if ast.get_docstring(node, clean=False) is None:
        kept = lines[start - 1:node.end_lineno]
    else:
        doc_node = node.body[0]
        if not _on_own_lines(doc_node, lines):
            return None
        after = lines[doc_node.end_lineno:node.end_lineno]
        while after and not after[0].strip():  # the blank line that often follows a docstring
            after = after[1:]
        kept = lines[start - 1:doc_node.lineno - 1] + after
    # Remove the def's own indentation (textwrap.dedent gives up on comments that start in column 0).
    return "\n".join(_strip_indent(line, node.col_offset) for line in kept).strip("\n")


def _strip_indent(line: str, width: int) -> str:
    """``line`` without up to ``width`` leading whitespace characters."""
    return line[len(line[:width]) - len(line[:width].lstrip()):]


def _on_own_lines(doc_node: ast.stmt, lines: list[str]) -> bool:
    """Whether the docstring shares no line with code, so dropping its lines cuts nothing else."""
    # ast offsets count UTF-8 bytes.
    before = lines[doc_node.lineno - 1].encode()[:doc_node.col_offset]
    after = lines[doc_node.end_lineno - 1].encode()[doc_node.end_col_offset:].strip()
    return not before.strip() and (not after or after.startswith(b"#"))


def is_placeholder(body: list[ast.stmt]) -> bool:
    """A body that only passes, returns a constant, or raises NotImplementedError teaches nothing."""
    if len(body) != 1:
        return False
    statement = body[0]
    if isinstance(statement, ast.Pass):
        return True
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return True
    if isinstance(statement, ast.Return) and (statement.value is None or isinstance(statement.value, ast.Constant)):
        return True
    if isinstance(statement, ast.Raise) and statement.exc is not None:
        exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False
