"""code2code-rewrite: both sides are real functions rewritten without changing what they do."""

from __future__ import annotations

import ast
import calendar
import colorsys
import difflib
import fnmatch
import heapq
import html
import inspect
import io
import re
import shlex
import statistics
import string
import textwrap
import tokenize
import urllib.parse

import pytest

from st_jce.data.mining import is_held_out, mine_functions, mine_pairs
from st_jce.data.python_source import function_code
from st_jce.data.rewrites import rewrite_pair, swap_independent
from st_jce.source_lines import source_lines

# Pure functions and inputs to call them with (each tuple is one call's positional arguments).
SAMPLES = [
    (colorsys.rgb_to_hls, [(0.2, 0.4, 0.6), (1.0, 1.0, 1.0), (0.0, 0.5, 0.0)]),
    (colorsys.hls_to_rgb, [(0.3, 0.5, 0.5), (0.9, 0.2, 0.0), (0.5, 0.7, 1.0)]),
    (colorsys.rgb_to_hsv, [(0.2, 0.4, 0.6), (0.0, 0.0, 0.0), (0.9, 0.1, 0.3)]),
    (colorsys.hsv_to_rgb, [(0.1, 0.5, 0.5), (0.6, 1.0, 0.2), (0.95, 0.0, 1.0)]),
    (string.capwords, [("hello  big world",), ("a-b c-d", "-")]),
    (urllib.parse.urljoin, [("http://a/b/c/d;p?q", "../g"), ("http://a/b/", "//x/y"), ("", "z")]),
    (re.escape, [("a.b*c",), ("plain",)]),
    (calendar.monthrange, [(2024, 2), (2023, 13)]),
    (fnmatch.translate, [("*.py",), ("[!a-c]?x[*]",)]),
    (statistics.median, [([3, 1, 2],), ([4, 1, 3, 2],)]),
    (statistics.mode, [([1, 2, 2, 3],), (["a", "b", "a"],)]),
    (heapq.nsmallest, [(2, [5, 1, 4, 2]), (3, [9, 8, 7, 6, 5])]),
    (difflib.get_close_matches, [("appel", ["ape", "apple", "peach", "puppy"]), ("wheel", ["while", "wheat", "x"])]),
    (shlex.quote, [("plain",), ("it's here",), ("",)]),
    (html.escape, [("<a href='x'>&</a>",), ('"q"', False)]),
    (textwrap.dedent, [("    a\n      b\n    c\n",), ("\tx\n\ty",)]),
    (textwrap.shorten, [("The quick brown fox jumps over the lazy dog", 20), ("short", 10)]),
]


def _outcome(function, arguments):
    try:
        return "value", function(*arguments)
    except Exception as error:  # noqa: BLE001 - the same error is the same behaviour
        return "error", type(error)


def _code_of(function) -> str:
    source = textwrap.dedent(inspect.getsource(function))
    return function_code(ast.parse(source).body[0], source_lines(source))


@pytest.mark.parametrize("function, calls", SAMPLES, ids=[f.__qualname__ for f, _ in SAMPLES])
def test_rewrites_compute_the_same_results(function, calls):
    code = _code_of(function)
    rewrites = rewrite_pair(code)
    assert rewrites is not None, code
    for rewritten in rewrites:
        assert rewritten != code
        namespace = dict(vars(inspect.getmodule(function)))  # the module's globals, as the original sees them
        exec(compile(rewritten, f"<rewrite of {function.__name__}>", "exec"), namespace)
        for arguments in calls:
            assert _outcome(namespace[function.__name__], arguments) == _outcome(function, arguments), rewritten


def test_the_samples_are_really_renamed():
    renamed_both = 0
    for function, _ in SAMPLES:
        code = _code_of(function)
        terse, restyled = rewrite_pair(code)
        parameters = [[arg.arg for arg in ast.parse(text).body[0].args.args] for text in (code, terse, restyled)]
        renamed_both += parameters[1] != parameters[0] and (parameters[2] != parameters[0] or "_" not in str(parameters[0]))
    assert renamed_both >= len(SAMPLES) // 2


def _significant_tokens(code: str) -> list[tokenize.TokenInfo]:
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    return [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in skipped]


def _keeps_its_name(tokens: list[tokenize.TokenInfo], index: int) -> bool:
    """Whether the name token at ``index`` is an attribute (after a dot) or a keyword argument's name (``f(x=``)."""
    before = tokens[index - 1].string if index else ""
    after = tokens[index + 1].string if index + 1 < len(tokens) else ""
    return before == "." or (after == "=" and before in ("(", ","))


def test_restyled_side_is_the_original_token_for_token_up_to_a_consistent_renaming():
    functions = [f for f in mine_functions() if is_held_out(f.identity, 0.1, 0)]
    checked = renamed = 0
    for function in functions:
        rewrites = rewrite_pair(function.code)
        if rewrites is None:
            continue
        original, restyled = _significant_tokens(function.code), _significant_tokens(rewrites[1])
        assert len(original) == len(restyled), function.identity
        original_names = {t.string for t in original if t.type == tokenize.NAME}
        forward, strings = {}, []
        for before, after in zip(original, restyled):
            assert before.type == after.type, function.identity
            if before.type == tokenize.NAME and before.string != after.string:
                assert forward.setdefault(before.string, after.string) == after.string, function.identity
                assert after.string not in original_names, function.identity  # a new name is new to the function
            elif before.type == tokenize.STRING:
                strings.append((before.string, after.string))
            else:
                assert before.string == after.string, function.identity
        assert len(set(forward.values())) == len(forward), function.identity
        for before, after in strings:  # the same value; an f-string's expressions renamed like the code
            expected = ast.parse(before)
            for node in ast.walk(expected):
                if isinstance(node, ast.Name):
                    node.id = forward.get(node.id, node.id)
            assert ast.dump(expected) == ast.dump(ast.parse(after)), function.identity
        # Where a renamed name stays, it is an attribute or a keyword argument's name, never the variable.
        for index, token in enumerate(original):
            if token.string in forward and restyled[index].string == token.string:
                assert _keeps_its_name(original, index), (function.identity, token)
        checked += 1
        renamed += bool(forward)
    assert checked > 0.8 * len(functions) and renamed > 0.1 * checked, (checked, renamed, len(functions))


def test_only_the_functions_own_names_are_renamed():
    code = textwrap.dedent('''
        def fetch_all(self, query_text, *, max_rows=10):
            row_count = len(self.rows)
            found_rows = self.search(query_text, limit=max_rows, row_count=row_count)
            return [LIMIT_ROW for LIMIT_ROW in found_rows if LIMIT_ROW], GLOBAL_TABLE.name
        ''').strip()
    terse, restyled = rewrite_pair(code)
    for rewritten in (terse, restyled):
        tree = ast.parse(rewritten)
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert {"self", "len", "GLOBAL_TABLE"} <= names  # self, builtins and globals keep their names
        assert not {"query_text", "row_count", "found_rows"} & names
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert attributes == {"rows", "search", "name"}
        keywords = {keyword.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for keyword in node.keywords}
        assert keywords == {"limit", "row_count"}  # keyword-argument names are the callee's
        assert tree.body[0].args.kwonlyargs[0].arg == "max_rows"  # part of the signature
    assert "queryText" in restyled and "foundRows" in restyled


@pytest.mark.parametrize("statement", ["global counter", "def inner():\n        return total", "class Inner:\n        pass"])
def test_nested_scopes_and_globals_keep_every_name(statement):
    code = textwrap.dedent('''
        def outer(items):
            STATEMENT
            total = 0  # the sum so far
            for item in items:
                total += item
            return total
        ''').strip().replace("STATEMENT", statement)
    terse, restyled = rewrite_pair(code)
    for rewritten in (terse, restyled):
        assert {"items", "total", "item"} <= {node.id for node in ast.walk(ast.parse(rewritten)) if isinstance(node, ast.Name)}


def test_hints_are_stripped_except_under_a_decorator():
    plain = ("def scale(values: list[float], factor: float = 2.0) -> list[float]:\n"
             "    result: list = [v * factor for v in values]\n    return result")
    terse, restyled = rewrite_pair(plain)
    assert ":" not in terse.splitlines()[0][:-1] and "->" not in terse and "list[float]" in restyled
    decorated = "@register\ndef handle(value: int) -> str:\n    text = str(value)\n    return text"
    terse, _ = rewrite_pair(decorated)
    assert "value: int" not in terse and "v: int" in terse and "-> str" in terse


def test_only_independent_inert_assignments_are_swapped():
    def order(source):
        tree = swap_independent(ast.parse(textwrap.dedent(source)))
        return [ast.unparse(statement) for statement in tree.body[0].body]

    assert order("def f(a):\n    x = 0\n    y = a\n    return x, y") == ["y = a", "x = 0", "return (x, y)"]
    assert order("def f(a):\n    x = a\n    y = x\n    return y") == ["x = a", "y = x", "return y"]  # y reads x
    assert order("def f():\n    x = g()\n    y = h()\n    return x") == ["x = g()", "y = h()", "return x"]  # calls
    assert order("def f(a):\n    a = 1\n    b = a\n") == ["a = 1", "b = a"]


def test_nothing_unsafe_gives_a_pair():
    assert rewrite_pair("def f(:\n    pass") is None
    assert rewrite_pair("def f():\n    nonlocal x\n    x = 1") is None  # does not compile on its own
    assert rewrite_pair("x = 1\ny = 2") is None  # not one function


def test_rewrite_pairs_split_with_their_function():
    train = mine_pairs("code2code-rewrite", split="train")
    test = mine_pairs("code2code-rewrite", split="test")
    test_codes = {f.code for f in mine_functions() if is_held_out(f.identity, 0.1, 0)}
    train_codes = {f.code for f in mine_functions()} - test_codes
    assert len(test) > 0.8 * len(test_codes) and len(train) > 0.8 * len(train_codes)
    assert {rewrite_pair(code) for code in test_codes} >= set(zip(test["query"], test["document"])) - {None}
    assert not set(zip(train["query"], train["document"])) & set(zip(test["query"], test["document"]))
    for query, document in zip(test["query"], test["document"]):
        compile(query, "<terse>", "exec")
        compile(document, "<restyled>", "exec")
