"""Retrieval units of source code: the functions, methods and classes a user wants back from a search.

Every function, class and method of a file becomes a :class:`Chunk` with its qualified name
(``PrefixPrompt.preprocess``, ``Circle.area``), file and line span, decorators included
(:mod:`~st_jce.search.syntax_units` finds them: Python by :mod:`ast`, the languages of
:mod:`~st_jce.search.languages` by tree-sitter). A class owns its lines outside its members (header,
docstring, attributes); a method's lines are not repeated in its class. The module-level code between
definitions (imports, constants, the module docstring) becomes ``module`` chunks named after the file. Files
in other languages, and files that do not parse, fall back to windows of :data:`WINDOW_LINES` lines. A unit
longer than the model's token budget is split into windows of whole lines that overlap by
:data:`OVERLAP_FRACTION` of a window, so nothing is cut off by the model's ``max_seq_length``.

Nested functions stay inside the function that defines them: they are rarely wanted on their own, and
the outer function is the unit that makes sense of them. ``docs/chunking.md`` has what a unit is in each
language.

Examples
--------
>>> source = "import os\\n\\nclass Greeter:\\n    def hello(self):\\n        return 'hi'\\n"
>>> [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(source, "greet.py")]
[('module', 'greet', 1, 1), ('class', 'Greeter', 3, 3), ('method', 'Greeter.hello', 4, 5)]
>>> source = "package shapes\\n\\nfunc (c *Circle) Area() float64 {\\n\\treturn c.R * c.R\\n}\\n"
>>> [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(source, "geo/shapes.go")]
[('module', 'geo.shapes', 1, 1), ('method', 'Circle.Area', 3, 5)]
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from st_jce.search.syntax_units import Outline, outline
from st_jce.source_lines import normalized_line_ends, source_lines

# Recorded in every index manifest: a change to how units are cut must bump it, so that an incremental
# run re-embeds everything instead of mixing two chunkings.
CHUNKER_VERSION = "3"
WINDOW_LINES = 60  # lines per window of the line-window fallback
OVERLAP_FRACTION = 0.125  # share of a window repeated at the start of the next one

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Chunk:
    """One retrieval unit: what is embedded, and where it came from.

    Attributes
    ----------
    id : str
        Unique in an index: ``path:start-end`` for code, the record id for corpus records.
    unit : str
        The file (its path in the tree) or corpus record the chunk belongs to; incremental indexing
        re-embeds whole units.
    path : str
        The file the chunk is in (for corpus records, the corpus file).
    name : str
        Qualified name (``Class.method``), the module's dotted name for module-level code, the title
        of a corpus record; ``""`` for line windows.
    kind : str
        ``"function"``, ``"class"``, ``"method"``, ``"module"``, ``"lines"`` or ``"record"``.
    start_line, end_line : int
        1-based inclusive line span in ``path`` (0 for corpus records).
    text : str
        The code (or record text) that search results show.

    The text that is embedded (after the document prefix) is :attr:`embedded_text`: code goes in
    under a header naming its file and qualified name, since a method cut out of its class and file
    has lost the words a query most often names.
    """

    id: str
    unit: str
    path: str
    name: str
    kind: str
    start_line: int
    end_line: int
    text: str

    @property
    def embedded_text(self) -> str:
        """``text`` under its header (:func:`chunk_header`); corpus records as they are.

        >>> Chunk("a.py:4-5", "a.py", "a.py", "Greeter.hello", "method", 4, 5, "def hello(self): ...").embedded_text
        '# a.py\\n# Greeter.hello\\ndef hello(self): ...'
        """
        return self.text if self.kind == "record" else chunk_header(self.path, self.name) + self.text


def chunk_header(path: str, name: str) -> str:
    """The lines put before a code chunk's text for embedding: its file and, if it has one, its qualified name."""
    return f"# {path}\n# {name}\n" if name else f"# {path}\n"


def chunk_source(text: str, path: str, count_tokens: TokenCounter | None = None,
                 max_tokens: int | None = None) -> list[Chunk]:
    """The chunks of one source file: its units where :func:`~st_jce.search.syntax_units.outline` reads it,
    else line windows.

    Parameters
    ----------
    text : str
        The file's contents.
    path : str
        The file's path in the tree (``/``-separated); it names the chunks and the module, and its extension
        the language.
    count_tokens : callable, optional
        Token count of each of a list of lines; with ``max_tokens``, longer units are split.
    max_tokens : int, optional
        The most tokens a chunk's :attr:`~Chunk.embedded_text` may hold (the model's ``max_seq_length``
        less the prefix and special tokens); its header counts against it.

    Examples
    --------
    >>> chunks = chunk_source("x = 1\\n" * 100, "data.txt")
    >>> [(chunk.start_line, chunk.end_line) for chunk in chunks]
    [(1, 60), (54, 100)]
    >>> long = chunk_source("def f():\\n" + "    x = 1\\n" * 9, "f.py", lambda lines: [1] * len(lines), max_tokens=5)
    >>> [(chunk.name, chunk.start_line, chunk.end_line) for chunk in long]
    [('f', 1, 4), ('f', 4, 7), ('f', 7, 10)]
    """
    text = normalized_line_ends(text)  # as Python reads them; tree-sitter counts lines at \n alone
    lines = source_lines(text)
    units = outline(text, path)
    spans = _unit_spans(units, len(lines), module_name(path)) if units is not None \
        else _window_spans(len(lines), WINDOW_LINES)
    chunks = []
    for name, kind, start, end in spans:
        # Blank lines at either end belong to no unit: the span shows where the code is.
        while start <= end and not lines[start - 1].strip():
            start += 1
        while end >= start and not lines[end - 1].strip():
            end -= 1
        if start > end:
            continue
        budget = max_tokens
        if count_tokens is not None and max_tokens is not None:
            budget = max(1, max_tokens - count_tokens([chunk_header(path, name)])[0])
        for part_start, part_end in _split_span(lines, start, end, count_tokens, budget):
            body = textwrap.dedent("\n".join(lines[part_start - 1:part_end]))
            chunks.append(Chunk(f"{path}:{part_start}-{part_end}", path, path, name, kind, part_start, part_end, body))
    return chunks


def module_name(path: str) -> str:
    """The dotted module name of a Python file's path in its tree.

    Examples
    --------
    >>> module_name("st_jce/modules/prefix_prompt.py"), module_name("st_jce/__init__.py")
    ('st_jce.modules.prefix_prompt', 'st_jce')
    """
    parts = PurePosixPath(path).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def _unit_spans(units: Outline, line_count: int, module: str) -> list[tuple[str, str, int, int]]:
    """``(name, kind, start, end)`` of a file's functions and methods, the runs of lines each class owns outside
    its members, and the runs of module-level code, in order of their first line."""
    spans = [(unit.name, unit.kind, unit.start, unit.end) for unit in units.definitions if unit.kind != "class"]
    # The innermost definition of each line: definitions come outer first, so inner ones paint over them.
    owner_of_line: list[int | None] = [None] * (line_count + 2)
    for number, unit in enumerate(units.definitions):
        end = min(unit.end, line_count)
        owner_of_line[unit.start:end + 1] = [number] * max(0, end - unit.start + 1)
    for line in units.closing_lines:
        owner_of_line[line] = -1
    for owner, start, end in _runs(owner_of_line, line_count):
        if owner is None:
            spans.append((module, "module", start, end))
        elif owner >= 0 and units.definitions[owner].kind == "class":
            spans.append((units.definitions[owner].name, "class", start, end))
    return sorted(spans, key=lambda span: span[2])


def _runs(owner_of_line: list, line_count: int) -> list[tuple[object, int, int]]:
    """``(owner, start, end)`` of each run of consecutive lines ``1..line_count`` with the same owner."""
    runs, start = [], 1
    for line in range(2, line_count + 2):
        if line > line_count or owner_of_line[line] != owner_of_line[start]:
            runs.append((owner_of_line[start], start, line - 1))
            start = line
    return runs


def _window_spans(line_count: int, window: int) -> list[tuple[str, str, int, int]]:
    step = window - max(1, int(window * OVERLAP_FRACTION))
    starts = range(1, max(line_count - window + step, 1) + 1, step) if line_count > window else [1]
    return [("", "lines", start, min(start + window - 1, line_count)) for start in starts]


def _split_span(lines: list[str], start: int, end: int, count_tokens: TokenCounter | None,
                max_tokens: int | None) -> list[tuple[int, int]]:
    """Line windows of ``start..end`` of at most ``max_tokens`` tokens each, overlapping by whole lines."""
    if count_tokens is None or max_tokens is None or end <= start:
        return [(start, end)]
    counts = count_tokens([line + "\n" for line in lines[start - 1:end]])
    if sum(counts) <= max_tokens:
        return [(start, end)]
    parts, first = [], 0
    while True:
        last, total = first, counts[first]
        while last + 1 < len(counts) and total + counts[last + 1] <= max_tokens:
            last += 1
            total += counts[last]
        parts.append((start + first, start + last))
        if last == len(counts) - 1:
            return parts
        overlap = max(1, int((last - first + 1) * OVERLAP_FRACTION))
        first = max(last + 1 - overlap, first + 1)
