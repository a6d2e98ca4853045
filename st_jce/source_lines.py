"""The lines of a source file as editors, ``grep -n`` and the parsers number them, for everything in st-jce that
maps line numbers to text (index chunking, training-pair mining)."""

from __future__ import annotations

import re

_LINE_END = re.compile(r"\r\n?")  # line ends that become \n


def source_lines(text: str) -> list[str]:
    """The lines of ``text``: split at ``\\n``, ``\\r\\n`` and a lone ``\\r`` only (``str.splitlines`` also splits at
    form feeds and other separators that sit inside a line of code, which would shift the line numbers ``ast``
    and tree-sitter give).

    >>> source_lines("a = 1\\r\\n\\x0c\\nb = 2\\rc = 3\\n")
    ['a = 1', '\\x0c', 'b = 2', 'c = 3']
    """
    lines = normalized_line_ends(text).split("\n")
    return lines[:-1] if lines[-1] == "" else lines


def normalized_line_ends(text: str) -> str:
    """``text`` with every ``\\r\\n`` and lone ``\\r`` as ``\\n`` (tree-sitter counts lines at ``\\n`` alone)."""
    return _LINE_END.sub("\n", text)
