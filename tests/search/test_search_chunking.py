"""Chunking: the units a user wants back, with spans that point at the right lines."""

from __future__ import annotations

import ast
import textwrap

from st_jce.search.chunking import WINDOW_LINES, chunk_source

NESTED = textwrap.dedent('''\
    """Module docstring."""
    import os

    LIMIT = 3


    @decorator
    def top(x):
        def helper():
            return x
        return helper()


    class Outer:
        """Outer docstring."""

        size = 1

        class Inner:
            async def run(self):
                return 1

        @staticmethod
        def make():
            return Outer()
    ''')


def test_python_units_carry_qualified_names_kinds_and_spans():
    chunks = chunk_source(NESTED, "pkg/mod.py")
    found = [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunks]
    assert found == [
        ("module", "pkg.mod", 1, 4),
        ("function", "top", 7, 11),          # the decorator belongs to the function; helper stays inside it
        ("class", "Outer", 14, 17),          # header, docstring, attributes: not the members' lines again
        ("class", "Outer.Inner", 19, 19),
        ("method", "Outer.Inner.run", 20, 21),
        ("method", "Outer.make", 23, 25),
    ]


def test_every_span_holds_exactly_its_text_and_ast_agrees():
    lines = NESTED.splitlines()
    definitions = {node.name: node for node in ast.walk(ast.parse(NESTED)) if hasattr(node, "end_lineno")
                   and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for chunk in chunk_source(NESTED, "pkg/mod.py"):
        assert chunk.text == textwrap.dedent("\n".join(lines[chunk.start_line - 1:chunk.end_line]))
        assert chunk.id == f"pkg/mod.py:{chunk.start_line}-{chunk.end_line}"
        short = chunk.name.rsplit(".", 1)[-1]
        if chunk.kind in ("function", "method"):
            assert chunk.end_line == definitions[short].end_lineno


def test_long_units_split_into_overlapping_windows_within_the_budget():
    body = "def long_function():\n" + "".join(f"    value_{i} = {i}\n" for i in range(100))

    def count_tokens(lines):  # one token per word: an independent, predictable measure
        return [len(line.split()) for line in lines]

    parts = chunk_source(body, "long.py", count_tokens, max_tokens=40)
    assert len(parts) > 1 and {part.name for part in parts} == {"long_function"}
    # The budget holds the header as well: the whole embedded text fits.
    assert all(sum(count_tokens(part.embedded_text.splitlines())) <= 40 for part in parts)
    assert all(part.embedded_text == f"# long.py\n# long_function\n{part.text}" for part in parts)
    assert parts[0].start_line == 1 and parts[-1].end_line == 101
    for previous, following in zip(parts, parts[1:]):
        assert following.start_line <= previous.end_line  # overlapping: no line falls between two windows


def test_other_languages_and_broken_python_fall_back_to_line_windows():
    lua = chunk_source("function greet(name)\n  return 'hello ' .. name\nend\n", "web/app.lua")  # no grammar
    assert [(chunk.kind, chunk.start_line, chunk.end_line) for chunk in lua] == [("lines", 1, 3)]
    broken = "def ok():\n    pass\n\ndef broken(:\n" + "x = 1\n" * (WINDOW_LINES + 10)
    windows = chunk_source(broken, "broken.py")
    assert {chunk.kind for chunk in windows} == {"lines"}
    assert windows[0].start_line == 1 and windows[-1].end_line == len(broken.splitlines())
