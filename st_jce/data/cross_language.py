"""Cross-language ``code2code`` pairs: the same method in a Python package and in its JavaScript twin on npm.

Some libraries are maintained as hand-written ports with one file and one method per concept in every
language; the ANTLR 4 runtime is the one installable here from both registries
(``pip install antlr4-python3-runtime`` gives the import name ``antlr4``, ``npm install -g antlr4`` the npm
package ``antlr4``; both BSD-3-Clause). For each package of ``mining.packages``:

- the Python side is every function and method of the installed package (tests skipped, docstring removed);
- the JavaScript side is the npm package of the same name found in a ``node_modules`` folder
  (:func:`node_modules_folders`): its ``.js`` / ``.mjs`` / ``.cjs`` files outside bundles, tests and
  dependencies, and, where it ships only bundles, the original sources its source maps embed
  (``sourcesContent``), cut into functions and methods by the tree-sitter JavaScript grammar (comments above a
  definition dropped);
- a pair is a Python definition and a JavaScript one in files of the same stem (``LL1Analyzer.py`` /
  ``LL1Analyzer.js``) whose qualified names are equal once lowercased without underscores
  (``Parser.get_token_stream`` = ``Parser.getTokenStream``; ``__init__`` = ``constructor``), where that name
  is unique on both sides and neither side is shorter than three lines, a placeholder, or longer than
  ``max_code_chars``. The query is the Python code, the document the JavaScript.

Examples
--------
>>> python = {"pkg/Lexer.py": "class Lexer:\\n    def next_token(self):\\n        token = self.read()\\n        return token\\n"}
>>> javascript = {"src/Lexer.js": "class Lexer {\\n  // Reads one.\\n  nextToken() {\\n"
...                               "    const token = this.read();\\n    return token;\\n  }\\n}\\n"}
>>> [(identity, code.splitlines()[0], other.splitlines()[0]) for identity, code, other in matched_pairs(python, javascript)]
[('pkg/Lexer.py:Lexer.next_token', 'def next_token(self):', 'nextToken() {')]
"""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path, PurePosixPath

from st_jce.data import python_source
from st_jce.data.python_source import DEFAULT_MAX_CODE_CHARS, MIN_CODE_LINES
from st_jce.source_lines import source_lines

JAVASCRIPT_SUFFIXES = (".js", ".mjs", ".cjs")
SKIPPED_JAVASCRIPT_DIRS = frozenset({"node_modules", "dist", "build", "umd", "min", "test", "tests", "__tests__",
                                     "spec", "webpack", "examples"})
_COMMENT_LINE = re.compile(r"^\s*(//|/\*|\*)")
_BUNDLER_PREFIX = re.compile(r"^(?:webpack://[^/]*/|\./|\.\./)+")


def node_modules_folders() -> list[Path]:
    """Where npm packages are looked for: ``./node_modules``, ``$NODE_PATH``, npm's global folders."""
    folders = [Path.cwd() / "node_modules", *(Path(p) for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p)]
    if os.environ.get("npm_config_prefix"):
        folders.append(Path(os.environ["npm_config_prefix"]) / "lib" / "node_modules")
    folders += [Path("/usr/local/lib/node_modules"), Path("/usr/lib/node_modules"),
                Path.home() / ".npm-global" / "lib" / "node_modules"]
    return folders


def npm_package_root(name: str) -> Path | None:
    """The folder of the installed npm package ``name``, or ``None``."""
    return next((folder / name for folder in node_modules_folders() if (folder / name / "package.json").is_file()), None)


def javascript_sources(package: Path) -> dict[str, str]:
    """Relative path -> text of the package's JavaScript sources: its own files, else those its source maps embed."""
    sources: dict[str, str] = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if (path.suffix in JAVASCRIPT_SUFFIXES and not path.name.endswith(".min.js")
                and not SKIPPED_JAVASCRIPT_DIRS & set(relative.parts[:-1])):
            sources[relative.as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    if sources:
        return sources
    for path in sorted(package.rglob("*.map")):
        try:
            source_map = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for name, text in zip(source_map.get("sources", []), source_map.get("sourcesContent") or []):
            relative = PurePosixPath(_BUNDLER_PREFIX.sub("", name))
            if text and relative.suffix in JAVASCRIPT_SUFFIXES and not SKIPPED_JAVASCRIPT_DIRS & set(relative.parts[:-1]):
                sources.setdefault(relative.as_posix(), text)
    return sources


def pairing_key(path: str, qualname: str) -> tuple[str, str]:
    """(file stem, qualified name) lowercased without underscores, ``__init__`` read as ``constructor``."""
    name = qualname.replace("__init__", "constructor")
    return PurePosixPath(path).stem.lower(), name.lower().replace("_", "")


def python_definitions(sources: dict[str, str]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Pairing key -> [(identity, code without docstring)] of every non-placeholder function in ``sources``."""
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for path, text in sources.items():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        lines = source_lines(text)
        for qualname, node in python_source.function_nodes(tree):
            body = node.body[1:] if ast.get_docstring(node, clean=False) is not None else node.body
            code = python_source.function_code(node, lines)
            if "<locals>" not in qualname and code is not None and body and not python_source.is_placeholder(body):
                found.setdefault(pairing_key(path, qualname), []).append((f"{path}:{qualname}", code))
    return found


def javascript_definitions(sources: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """Pairing key -> [code] of every function and method in ``sources`` (comments above it dropped)."""
    from st_jce.search.syntax_units import outline  # tree-sitter: imported where used

    found: dict[tuple[str, str], list[str]] = {}
    for path, text in sources.items():
        units = outline(text, path)
        lines = text.split("\n")
        for unit in units.definitions if units else ():
            if unit.kind == "class":
                continue
            kept = lines[unit.start - 1:unit.end]
            while kept and _COMMENT_LINE.match(kept[0]):
                kept = kept[1:]
            indent = len(kept[0]) - len(kept[0].lstrip()) if kept else 0
            code = "\n".join(line[indent:] if not line[:indent].strip() else line for line in kept).strip("\n")
            found.setdefault(pairing_key(path, unit.name), []).append(code)
    return found


def matched_pairs(python: dict[str, str], javascript: dict[str, str],
                  max_code_chars: int = DEFAULT_MAX_CODE_CHARS) -> list[tuple[str, str, str]]:
    """(Python identity, Python code, JavaScript code) of each definition pair (see the module docstring)."""
    javascript_units = javascript_definitions(javascript)
    pairs = []
    for key, candidates in python_definitions(python).items():
        others = javascript_units.get(key, [])
        if len(candidates) != 1 or len(others) != 1:
            continue
        (identity, code), other = candidates[0], others[0]
        if all(MIN_CODE_LINES <= len(text.strip().splitlines()) and len(text) <= max_code_chars for text in (code, other)):
            pairs.append((identity, code, other))
    return sorted(pairs)


def cross_language_pairs(packages: tuple[str, ...] | list[str],
                         max_code_chars: int = DEFAULT_MAX_CODE_CHARS) -> list[tuple[str, str, str]]:
    """(identity, Python code, JavaScript code) pairs of each package and its npm twin of the same name.

    The identity, ``"<package folder>/<relative path>:<qualified name>"`` of the Python function, is the
    one :mod:`st_jce.data.mining` gives it, so the hold-out split agrees with the other kinds.
    """
    if not packages:
        raise ValueError("`mining.packages` is empty: code2code-crosslang pairs a Python package with its npm twin; "
                         "list one, e.g. [antlr4] after `pip install antlr4-python3-runtime` and `npm install -g antlr4`.")
    pairs = []
    for name in packages:
        folder = python_source.package_root(name)
        twin = npm_package_root(name)
        if twin is None:
            raise ValueError(f"`mining.packages`: {name!r} has no npm twin installed (looked in "
                             f"{[str(f) for f in node_modules_folders()]}); `npm install -g {name}` or remove it "
                             "from this code2code-crosslang entry.")
        python = {f"{folder.name}/{path.relative_to(folder).as_posix()}": path.read_text(encoding="utf-8", errors="replace")
                  for path in python_source.python_files(folder)}
        pairs += matched_pairs(python, javascript_sources(twin), max_code_chars)
    return pairs
