"""The definitions of a source file: its functions, classes and methods, with qualified names and line spans.

Python is read by :mod:`ast`, the language's own parser; the languages of :mod:`st_jce.search.languages` by
their tree-sitter grammars. Both give an :class:`Outline`; :mod:`st_jce.search.chunking` cuts it into units.
A definition's span holds its decorators, annotations and attributes, and, outside Python, the comments right
above it (no blank line between): there the doc comment is written above the definition, where Python's
docstring is inside it. Names are qualified by the classes around a definition (``Circle.area``; a Rust
``impl Circle`` block and a Go method's receiver count as the class ``Circle``) and the namespaces and modules
around it (``geo::shapes::Circle.area``: ``::`` after a namespace, so that a dot always separates a member
from its class). Definitions inside a function are not walked: they stay in the function that defines them.

A file falls back to line windows (``outline`` returns ``None``) when its language has no grammar here or
its grammar is not installed (a warning names the package), when Python does not parse it, or when more than
:data:`MAX_ERROR_SHARE` of its lines lie in tree-sitter's syntax errors outside the definitions it found:
tree-sitter recovers from errors, and some are expected in valid code (macros a C parser cannot expand;
the definitions around them are still found whole), but a file mostly in error is not the language its
extension says.

Examples
--------
>>> source = "// Adds two numbers.\\nfunction add(a, b) {\\n  return a + b;\\n}\\n\\nclass Counter {\\n  tick() {}\\n}\\n"
>>> [(unit.kind, unit.name, unit.start, unit.end) for unit in outline(source, "math.js").definitions]
[('function', 'add', 1, 4), ('class', 'Counter', 6, 8), ('method', 'Counter.tick', 7, 7)]
>>> outline(source, "math.js").closing_lines  # the class's closing brace belongs to no unit
frozenset({8})
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass, replace

from st_jce.extras import import_extra
from st_jce.search.languages import LANGUAGES, SyntaxLanguage, language_for

MAX_ERROR_SHARE = 0.5  # share of a file's lines in syntax errors above which it falls back to line windows
# What may stand before and after a container's closing token on its line for the line to hold nothing else.
_CLOSING_TOKEN = re.compile(rb"[})]|end")
_AFTER_CLOSING = re.compile(rb";?\s*(?://.*|/\*.*|#.*)?")


@dataclass(frozen=True)
class Definition:
    """A function, method or class: its qualified name, kind and 1-based inclusive line span (a class's
    span holds its members)."""

    name: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Outline:
    """The definitions of a file in the order they start, and the lines that only close a class, namespace or
    block of definitions (a lone ``}``, ``)`` or ``end``), which belong to no unit."""

    definitions: tuple[Definition, ...]
    closing_lines: frozenset[int] = frozenset()


def outline(text: str, path: str) -> Outline | None:
    """The definitions of ``text``, the contents of the file ``path``; ``None`` where it falls back to windows."""
    if path.endswith((".py", ".pyi")):
        return _python_outline(text)
    language = language_for(path, text)
    grammar = _grammar(language.name) if language is not None else None
    if grammar is None:
        return None
    source = text.encode("utf-8")
    # A parser per file: they are cheap to make, and one parser must not parse in two threads at once.
    root = import_extra("tree_sitter", extra="index").Parser(grammar).parse(source).root_node
    walk = _SyntaxWalk(language, source)
    walk.walk(root.named_children, "", False)
    if root.has_error:
        # Errors inside a definition (a macro in its body) leave its braces, and so its span, right.
        rows = _error_rows(root).difference(*(range(unit.start - 1, unit.end) for unit in walk.definitions))
        if len(rows) > MAX_ERROR_SHARE * (text.count("\n") + 1):
            return None
    return Outline(tuple(sorted(walk.definitions, key=lambda unit: unit.start)), frozenset(walk.closing_lines))


def follow(node, path: tuple[str, ...]):
    """The node at the end of a name path (see :class:`~st_jce.search.languages.SyntaxLanguage`), or ``None``."""
    for step in path:
        if node is None:
            return None
        node = _first_of_type(node, step[1:]) if step.startswith("@") else node.child_by_field_name(step)
    return node


@functools.cache
def _grammar(language_name: str):
    """The language's tree-sitter grammar, or ``None`` (with a warning) where it is not installed."""
    language = next(language for language in LANGUAGES if language.name == language_name)
    module, function = language.grammar
    try:
        tree_sitter = import_extra("tree_sitter", extra="index")
        return tree_sitter.Language(getattr(import_extra(module, extra="index"), function)())
    except (ModuleNotFoundError, ValueError) as error:  # ValueError: a grammar built for another tree-sitter
        warnings.warn(f"{language.name} files ({', '.join(language.extensions)}) are cut into line windows: "
                      f"{error}", stacklevel=2)
        return None


def _error_rows(root) -> set[int]:
    """The rows that tree-sitter's error nodes and missing tokens touch (only subtrees with errors are walked)."""
    rows: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            rows.update(range(node.start_point.row, _last_row(node) + 1))
        elif node.has_error:
            pending.extend(node.children)
    return rows


def _last_row(node) -> int:
    """The 0-based last row of ``node``; a node that ends with its line's newline (a ``//`` comment in some
    grammars) ends on that line, not at column 0 of the next one."""
    row = node.end_point.row
    return row - 1 if node.end_point.column == 0 and row > node.start_point.row else row


def _first_of_type(node, node_type: str):
    pending = [node]
    while pending:
        current = pending.pop()
        if current.type == node_type:
            return current
        pending.extend(reversed(current.named_children))
    return None


def _text(node) -> str:
    return " ".join(node.text.decode("utf-8", "replace").split())


def _scope_end(name: str) -> int:
    """Where the last ``::`` outside template arguments is in a C++ name (``-1``: none).

    >>> name = "Box<geo::Point>::size"
    >>> name[:_scope_end(name)], _scope_end("std::vector<a::b>"), _scope_end("Foo::operator<")
    ('Box<geo::Point>', 3, 3)
    """
    depth, found = 0, -1
    for position, character in enumerate(name):
        if character in "<>":
            depth = max(0, depth + (1 if character == "<" else -1))
        elif depth == 0 and name.startswith("::", position):
            found = position
    return found


def _qualify(owner: str, name: str, in_class: bool) -> str:
    """``name`` inside ``owner``: a class member after a dot, a namespace's (``owner`` ends with ``::``) after it."""
    return f"{owner}.{name}" if in_class else f"{owner}{name}"


class _SyntaxWalk:
    """One file's walk: :attr:`definitions` and :attr:`closing_lines` (1-based) grow as it goes."""

    def __init__(self, language: SyntaxLanguage, source: bytes) -> None:
        self.language, self.source = language, source
        self.definitions: list[Definition] = []
        self.closing_lines: set[int] = set()

    def walk(self, nodes, owner: str, in_class: bool) -> list[int]:
        """Walk sibling ``nodes`` inside ``owner`` (a class's qualified name, or namespaces ending with ``::``);
        the positions in :attr:`definitions` of the ones made at this level (not their members)."""
        language, made = self.language, []
        for node in nodes:
            kind = node.type
            body = node.child_by_field_name("body")
            if kind in language.namespaces and body is not None:
                self.walk(body.named_children, self._namespace(node, owner, in_class), False)
                self._closing(node)
            elif kind in language.file_namespaces:
                owner, in_class = self._namespace(node, owner, in_class), False  # names the rest of the file
            elif kind in language.classes and (body is not None or kind in language.bodiless):
                made += self._class(node, body, owner, in_class)
            elif kind in language.functions and (body is not None or kind in language.bodiless):
                made += self._function(node, follow(node, language.name_paths.get(kind, ("name",))), owner, in_class)
            elif kind in language.bindings:
                made += self._function(node, self._bound_name(node), owner, in_class)
            elif kind in language.wrappers:
                inner = self.walk(node.named_children, owner, in_class)
                # the wrapper's lines (export, template <...>, its comments) are its only definition's, unless a block
                # (extern "C" { ... }) holds it
                if len(inner) == 1 and not any(child.type in language.transparent for child in node.named_children):
                    unit = self.definitions[inner[0]]
                    self.definitions[inner[0]] = replace(unit, start=min(unit.start, self._start(node)))
                made += self._closing_block(node, inner)
            elif kind in language.transparent:
                made += self._closing_block(node, self.walk(node.named_children, owner, in_class))
        return made

    def _class(self, node, body, owner: str, in_class: bool) -> list[int]:
        short = follow(node, self.language.name_paths.get(node.type, ("name",)))
        if short is None:
            return []
        name = _qualify(owner, _text(short), in_class)
        self.definitions.append(Definition(name, "class", self._start(node), _last_row(node) + 1))
        made = len(self.definitions) - 1
        if body is not None:
            self.walk(body.named_children, name, True)
        self._closing(node)
        return [made]

    def _function(self, node, short, owner: str, in_class: bool) -> list[int]:
        if short is None:
            return []
        short = _text(short)
        owner_path = self.language.owner_paths.get(node.type)
        receiver = follow(node, owner_path) if owner_path else None
        scope_end = -1 if in_class else _scope_end(short)
        if receiver is not None:  # Go: func (c *Circle) Area()
            name, kind = f"{_qualify(owner, _text(receiver), in_class)}.{short}", "method"
        elif scope_end >= 0:  # C++: a member defined outside its class, Circle::area
            name, kind = f"{owner}{short[:scope_end].strip()}.{short[scope_end + 2:].strip()}", "method"
        else:
            name, kind = _qualify(owner, short, in_class), "method" if in_class else "function"
        self.definitions.append(Definition(name, kind, self._start(node), _last_row(node) + 1))
        return [len(self.definitions) - 1]

    def _bound_name(self, node):
        """The name a declaration binds a function to (``const greet = () => ...``), or ``None``."""
        holders = [node] if node.child_by_field_name("value") is not None else \
            [child for child in node.named_children if child.type == "variable_declarator"]
        if len(holders) != 1:
            return None
        value = holders[0].child_by_field_name("value")
        if value is None or value.type not in self.language.bound_values:
            return None
        return follow(holders[0], self.language.name_paths.get(holders[0].type, ("name",)))

    def _namespace(self, node, owner: str, in_class: bool) -> str:
        """The owner inside the namespace ``node``: its name with ``::`` after each part (none if anonymous)."""
        name = follow(node, ("name",))
        if name is None:
            return owner
        parts = re.sub(r"\.|\\|::", " ", _text(name).strip("'\"")).split()
        return _qualify(owner, "::".join(parts), in_class) + "::"

    def _start(self, node) -> int:
        """The 1-based first line of ``node`` with the comments, decorators and attributes right above it."""
        anchor = node
        # A definition first in a body whose node starts where it does (Ruby) has its comment before that body.
        while anchor.prev_named_sibling is None and anchor.parent is not None \
                and anchor.parent.start_byte == anchor.start_byte:
            anchor = anchor.parent
        row, sibling = node.start_point.row, anchor.prev_named_sibling
        while sibling is not None and sibling.type in self.language.attached and _last_row(sibling) >= row - 1:
            before = sibling.prev_sibling
            if before is not None and _last_row(before) == sibling.start_point.row:
                break  # a comment after code on its line is that code's
            row, sibling = sibling.start_point.row, sibling.prev_named_sibling
        return row + 1

    def _closing_block(self, node, inner: list[int]) -> list[int]:
        """``inner``, the definitions made in ``node``, after recording the closing line of a block that holds some
        (Go's ``type (...)``, ``extern "C" {...}``, Ruby's ``class << self ... end``)."""
        if inner:
            self._closing(node)
        return inner

    def _closing(self, node) -> None:
        """Record the last line of a class, namespace or block of definitions when it holds only the closing
        ``}``, ``)`` or ``end``."""
        line_start = self.source.rfind(b"\n", 0, node.end_byte) + 1
        line_end = self.source.find(b"\n", node.end_byte)
        before = self.source[line_start:node.end_byte].strip()
        after = self.source[node.end_byte:line_end if line_end >= 0 else len(self.source)].strip()
        if _CLOSING_TOKEN.fullmatch(before) and _AFTER_CLOSING.fullmatch(after):
            self.closing_lines.add(node.end_point.row + 1)


def _python_outline(text: str) -> Outline | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):  # ValueError: source with NUL bytes
        return None
    definitions: list[Definition] = []
    _python_definitions(tree.body, "", False, definitions)
    return Outline(tuple(definitions))


def _python_definitions(body: list[ast.stmt], owner: str, in_class: bool, definitions: list[Definition]) -> None:
    for node in body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        name = _qualify(owner, node.name, in_class)
        start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        if isinstance(node, ast.ClassDef):
            definitions.append(Definition(name, "class", start, node.end_lineno))
            _python_definitions(node.body, name, True, definitions)
        else:
            definitions.append(Definition(name, "method" if in_class else "function", start, node.end_lineno))
