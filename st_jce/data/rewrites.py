"""Semantics-preserving rewrites of one Python function, the two sides of a mined ``code2code-rewrite`` pair.

Both sides are rewritten, each differently, so neither is the function as it was written:

- ``terse`` (the query): local names and positional parameters shortened to their initials (``max_len`` ->
  ``ml``), type hints stripped (undecorated functions only: decorators such as ``singledispatch.register``
  read them), provably independent neighbouring assignments swapped (see :func:`swap_independent`), then
  printed by :func:`ast.unparse` (one canonical layout, single quotes, no comments);
- ``restyled`` (the document): the original text with its comments and hints, local names and positional
  parameters in camelCase (``max_len`` -> ``maxLen``), the indentation width changed (4 -> 2, else -> 4) and
  simple strings' quotes swapped (``'a'`` <-> ``"a"``).

A name is renamed only where that is provably safe: it is bound in the function itself, by a parameter or a
plain assignment target (never an attribute, a global, a builtin, ``self`` / ``cls``, a keyword-only
parameter or a name bound by ``import`` / ``except`` / ``match``), the function has no nested ``def`` or
``class``, no ``global`` / ``nonlocal`` and reads no ``locals()`` / ``vars()`` / ``eval`` / ``exec`` /
``dir``, and every new name is new to the function. The restyled text is checked to parse to the same syntax
tree as the original renamed in the syntax tree; both sides must compile. A function where either check
fails, or where a side comes out unchanged, gives no pair.

Examples
--------
>>> code = ("def total(values, start=0):\\n    # the running sum\\n    running_sum = start\\n"
...         "    for value in values:\\n        running_sum += value\\n    return running_sum")
>>> terse, restyled = rewrite_pair(code)
>>> print(terse)
def total(v, s=0):
    rs = s
    for v2 in v:
        rs += v2
    return rs
>>> restyled.splitlines()[:4]  # comments kept, camelCase, two-space indentation
['def total(values, start=0):', '  # the running sum', '  runningSum = start', '  for value in values:']
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import re
import tokenize
from copy import deepcopy

SKIPPED_NAMES = frozenset({"self", "cls"})
# Functions that read their local names by name: renaming would change what they see.
INTROSPECTING_NAMES = frozenset({"locals", "vars", "eval", "exec", "dir"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def rewrite_pair(code: str) -> tuple[str, str] | None:
    """The (terse, restyled) rewrites of the function source ``code``, or ``None`` (see the module docstring)."""
    try:
        tree = ast.parse(code)
        compile(tree, "<mined>", "exec")
    except (SyntaxError, ValueError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    names = renamable_names(tree.body[0])
    taken = identifiers(code) | set(dir(builtins)) | set(keyword.kwlist)
    terse = ast.unparse(swap_independent(strip_hints(renamed(tree, fresh_names(names, taken, initials)))))
    restyled = _restyled(code, tree, fresh_names(names, taken, camel_case))
    if restyled is None or code in (terse, restyled):
        return None
    try:
        compile(terse, "<terse>", "exec")
    except SyntaxError:
        return None
    return terse, restyled


def identifiers(code: str) -> set[str]:
    """Every name token of ``code`` (attributes and keyword-argument names included: a new name avoids them all)."""
    return set(re.findall(r"[^\W\d]\w*", code))


def initials(name: str) -> str:
    """``name``'s words' first letters, keeping leading underscores: ``max_len`` -> ``ml``, ``_maxLen`` -> ``_ml``.

    >>> initials("max_len"), initials("_bufferSize"), initials("x")
    ('ml', '_bs', 'x')
    """
    stripped = name.lstrip("_")
    return name[:len(name) - len(stripped)] + "".join(word[0] for word in _WORD.findall(stripped)).lower()


def camel_case(name: str) -> str:
    """``name`` in camelCase, keeping leading underscores: ``max_len`` -> ``maxLen``.

    >>> camel_case("max_len"), camel_case("_read_all"), camel_case("value")
    ('maxLen', '_readAll', 'value')
    """
    stripped = name.lstrip("_")
    head, *rest = stripped.split("_") if stripped else [""]
    return name[:len(name) - len(stripped)] + head + "".join(word[:1].upper() + word[1:] for word in rest)


def fresh_names(names: list[str], taken: set[str], scheme) -> dict[str, str]:
    """``names`` -> ``scheme(name)``, numbered (``v2``) where that is taken; a name the scheme keeps maps to itself."""
    mapping: dict[str, str] = {}
    used = set(taken)
    for name in names:
        base = scheme(name) or name
        if base == name:
            continue
        candidate, number = base, 2
        while candidate in used or not candidate.isidentifier():
            candidate, number = f"{base}{number}", number + 1
        mapping[name] = candidate
        used.add(candidate)
    return mapping


def renamable_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The names that can be renamed safely in ``function``, in order of first binding (see the module docstring)."""
    nodes = list(ast.walk(function))[1:]
    if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal))
           for node in nodes):
        return []
    if any(isinstance(node, ast.Name) and node.id in INTROSPECTING_NAMES for node in nodes):
        return []
    arguments = function.args
    names = [arg.arg for arg in [*arguments.posonlyargs, *arguments.args, arguments.vararg, arguments.kwarg] if arg]
    names += [node.id for node in _outer_scope_nodes(function.body)
              if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))]
    # Names bound where ast keeps no position of the name (or bound as a keyword-only parameter, whose name
    # is part of the signature) are never renamed.
    kept = {arg.arg for arg in arguments.kwonlyargs} | SKIPPED_NAMES
    for node in nodes:
        if isinstance(node, ast.ExceptHandler) and node.name:
            kept.add(node.name)
        elif isinstance(node, ast.alias):
            kept.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            kept.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            kept.add(node.rest)
    return [name for name in dict.fromkeys(names) if name not in kept]


def _outer_scope_nodes(body: list[ast.stmt]):
    """The nodes of ``body`` outside lambdas and comprehensions (whose own names are bound in their own scope)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))


def scoped_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef):
    """The parameters of ``function`` and the nodes of its body: what runs in its scope, unlike its decorators,
    defaults and annotations."""
    arguments = function.args
    yield from (arg for arg in [*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs,
                                arguments.kwarg] if arg)
    for statement in function.body:
        yield from ast.walk(statement)


def renamed(tree: ast.Module, mapping: dict[str, str]) -> ast.Module:
    """A copy of ``tree`` with every name and parameter in ``mapping`` renamed in its function's scope."""
    copy = deepcopy(tree)
    for node in scoped_nodes(copy.body[0]):
        if isinstance(node, ast.Name):
            node.id = mapping.get(node.id, node.id)
        elif isinstance(node, ast.arg):
            node.arg = mapping.get(node.arg, node.arg)
    return copy


def strip_hints(tree: ast.Module) -> ast.Module:
    """``tree`` without parameter and return annotations, and with annotated assignments made plain (in place).

    Decorated functions keep theirs (a decorator may read them); ``x: int`` without a value stays, since it
    makes ``x`` local.
    """
    function = tree.body[0]
    if function.decorator_list:
        return tree
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
    for node in ast.walk(function):
        for block in ("body", "orelse", "finalbody"):
            statements = getattr(node, block, None)
            if isinstance(statements, list):
                setattr(node, block, [ast.Assign(targets=[s.target], value=s.value, lineno=s.lineno)
                                      if isinstance(s, ast.AnnAssign) and s.value is not None else s
                                      for s in statements])
    return ast.fix_missing_locations(tree)


def _is_inert(node: ast.expr) -> bool:
    """A value whose evaluation calls nothing: constants, names and displays of them."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_inert(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and _is_inert(key) and _is_inert(value) for key, value in zip(node.keys, node.values))
    return isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)


def _simple_assignment(statement: ast.stmt) -> set[str] | None:
    """The names a ``name = inert value`` statement touches, or ``None`` for any other statement."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name) and _is_inert(statement.value)):
        return None
    return {node.id for node in ast.walk(statement) if isinstance(node, ast.Name)}


def swap_independent(tree: ast.Module) -> ast.Module:
    """Swap each pair of neighbouring ``name = inert value`` statements that share no name (in place).

    Such statements call nothing and neither reads or writes what the other writes, so their order cannot
    matter.

    >>> print(ast.unparse(swap_independent(ast.parse("def f(a):\\n    x = 0\\n    y = [a]\\n    z = x\\n    return y, z"))))
    def f(a):
        y = [a]
        x = 0
        z = x
        return (y, z)
    """
    for node in ast.walk(tree):
        for block in ("body", "orelse", "finalbody"):
            statements = getattr(node, block, None)
            if not isinstance(statements, list):
                continue
            index = 0
            while index + 1 < len(statements):
                first, second = (_simple_assignment(s) for s in statements[index:index + 2])
                if first is not None and second is not None and not first & second:
                    statements[index], statements[index + 1] = statements[index + 1], statements[index]
                    index += 2
                else:
                    index += 1
    return tree


def _restyled(code: str, tree: ast.Module, mapping: dict[str, str]) -> str | None:
    """``code`` renamed by ``mapping`` in its text and restyled, if that provably parses to the renamed tree."""
    expected = ast.dump(renamed(tree, mapping))
    text = restyle(rename_in_text(code, tree, mapping))
    try:
        return text if ast.dump(ast.parse(text)) == expected else None
    except SyntaxError:
        return None


def rename_in_text(code: str, tree: ast.Module, mapping: dict[str, str]) -> str:
    """``code`` with each name and parameter node in ``mapping`` renamed at the position ast gives it."""
    spots: dict[int, list[tuple[int, str, str]]] = {}
    for node in scoped_nodes(tree.body[0]):
        name = node.id if isinstance(node, ast.Name) else node.arg if isinstance(node, ast.arg) else None
        if name in mapping:
            spots.setdefault(node.lineno, []).append((node.col_offset, name, mapping[name]))
    lines = code.split("\n")
    for lineno, found in spots.items():
        line = lines[lineno - 1].encode()  # ast offsets count UTF-8 bytes
        for column, old, new in sorted(found, reverse=True):
            if line[column:column + len(old.encode())] == old.encode():
                line = line[:column] + new.encode() + line[column + len(old.encode()):]
        lines[lineno - 1] = line.decode()
    return "\n".join(lines)


def restyle(code: str) -> str:
    """``code`` with its indentation width changed (4 -> 2, else -> 4) and simple strings' quotes swapped.

    Lines inside a multi-line string keep their text; continuation lines move with their statement.

    >>> print(restyle("def f(x):\\n    if x:\\n        return 'yes'\\n    return \\"no\\""))
    def f(x):
      if x:
        return "yes"
      return 'no'
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    lines = code.split("\n")
    unit = next((len(t.string) for t in tokens if t.type == tokenize.INDENT), 4)
    width = 2 if unit != 2 else 4
    frozen: set[int] = set()  # rows that start inside a multi-line string
    starts: dict[int, int] = {}  # row -> new indentation of a statement's first line
    comments: list[int] = []
    depth, brackets, statement_start = 0, 0, True
    for token in tokens:
        if token.type == tokenize.INDENT:
            depth += 1
        elif token.type == tokenize.DEDENT:
            depth -= 1
        elif token.type in (tokenize.NEWLINE, tokenize.NL):
            statement_start = brackets == 0
        elif token.type != tokenize.ENDMARKER:
            if statement_start:
                starts[token.start[0]] = depth * width
                if token.type == tokenize.COMMENT:  # a comment line takes the indentation of the code below it
                    comments.append(token.start[0])
                else:
                    starts.update(dict.fromkeys(comments, depth * width))
                    comments = []
                statement_start = False
            brackets += (token.string in "([{") - (token.string in ")]}") if token.type == tokenize.OP else 0
            frozen.update(range(token.start[0] + 1, token.end[0] + 1))
    swapped = _swap_quotes(tokens, lines)
    shift = 0
    for row, line in enumerate(swapped, start=1):
        if row in frozen or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if row in starts:
            shift = starts[row] - indent
            swapped[row - 1] = " " * starts[row] + line.lstrip()
        else:  # a continuation line inside brackets or after a backslash: indentation is free there
            swapped[row - 1] = " " * max(0, indent + shift) + line.lstrip()
    return "\n".join(swapped)


def _swap_quotes(tokens: list[tokenize.TokenInfo], lines: list[str]) -> list[str]:
    """``lines`` with each one-line string without backslashes or the other quote in it re-quoted."""
    lines = list(lines)
    for token in reversed(tokens):
        if token.type != tokenize.STRING or token.start[0] != token.end[0]:
            continue
        text = token.string
        prefix = text[:len(text) - len(text.lstrip("rRbBuUfF"))]
        body = text[len(prefix):]
        if body[:3] in ('"""', "'''") or len(body) < 2 or "\\" in body:
            continue
        quote = body[0]
        other = '"' if quote == "'" else "'"
        if other in body[1:-1] or "{" in body and "f" in prefix.lower():
            continue
        row, (start, end) = token.start[0] - 1, (token.start[1], token.end[1])
        line = lines[row]
        lines[row] = line[:start] + prefix + other + body[1:-1] + other + line[end:]
    return lines
