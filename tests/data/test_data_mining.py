"""The stdlib miner: pairs are real (docstring, code) of real functions, de-duplicated, split disjointly."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
import textwrap

import pytest

from st_jce.data import mining
from st_jce.data.mining import MINING_KINDS, mine_functions, mine_pairs

# Pure-Python modules whose functions can be imported and inspected independently of the miner.
INSPECTED_MODULES = ("textwrap", "shlex", "fractions", "configparser", "json.decoder", "calendar")


@pytest.fixture(scope="module")
def stdlib_functions():
    return mine_functions()


def _imported(identity: str):
    """The live object a mined identity ``stdlib/pkg/mod.py:Class.method`` names, or None."""
    path, qualname = identity.split(":")
    module_name = path.removeprefix("stdlib/").removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    if module_name not in INSPECTED_MODULES or "<locals>" in qualname:
        return None
    obj = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return inspect.unwrap(obj) if inspect.isfunction(obj) else None


def test_mined_functions_match_the_real_functions(stdlib_functions):
    checked = 0
    for function in stdlib_functions:
        obj = _imported(function.identity)
        if obj is None:
            continue
        original = ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]
        mined = ast.parse(function.code).body[0]
        assert function.docstring == inspect.getdoc(obj)
        assert mined.name == original.name == obj.__name__
        assert ast.get_docstring(mined) is None, "the docstring must be removed from the code side"
        # Everything but the docstring survives: same decorators, arguments and statements.
        assert ast.dump(mined.args) == ast.dump(original.args)
        assert [ast.dump(d) for d in mined.decorator_list] == [ast.dump(d) for d in original.decorator_list]
        assert [ast.dump(s) for s in mined.body] == [ast.dump(s) for s in original.body[1:]]
        checked += 1
    assert checked >= 50, f"only {checked} mined functions could be inspected"


def test_docstring_text_is_not_in_the_code(stdlib_functions):
    for function in stdlib_functions:
        assert function.docstring not in function.code
        first_line = function.docstring.splitlines()[0].strip()
        if len(first_line) > 30:
            assert first_line not in function.code, function.identity


def test_skips_tests_and_idle(stdlib_functions):
    paths = {function.path for function in stdlib_functions}
    assert not [p for p in paths if "/test/" in p or "/tests/" in p or p.startswith("stdlib/idlelib/")]
    assert not [p for p in paths if p.rsplit("/", 1)[-1].startswith("test_")]


def test_no_duplicate_docstrings_or_code(stdlib_functions):
    docs = [" ".join(f.docstring.lower().split()) for f in stdlib_functions]
    codes = [" ".join(f.code.lower().split()) for f in stdlib_functions]
    assert len(set(docs)) == len(docs)
    assert len(set(codes)) == len(codes)


def test_pairs_of_each_kind_come_from_the_functions(stdlib_functions):
    functions = {f.code: f for f in stdlib_functions}
    by_docstring = {f.docstring: f for f in stdlib_functions}
    nl2code = mine_pairs("nl2code")
    code2nl = mine_pairs("code2nl")
    completion = mine_pairs("code2completion")
    assert len(nl2code) == len(code2nl) == len(completion) > 2000
    for query, document in zip(nl2code["query"], nl2code["document"]):
        function = functions[document]
        assert query == " ".join(function.docstring.split("\n\n")[0].split())
    for query, document in zip(code2nl["query"], code2nl["document"]):
        assert by_docstring[document].code == query
    for query, document in zip(completion["query"], completion["document"]):
        code = query + "\n" + document
        assert code in functions
        assert query.strip() and document.strip()
        longest_line = max(len(line) for line in code.splitlines()) + 1
        assert abs(len(query) - len(code) / 2) <= longest_line


def test_train_and_test_are_disjoint_and_deterministic(stdlib_functions):
    train, test = mine_pairs("nl2code", split="train"), mine_pairs("nl2code", split="test")
    assert not set(train["document"]) & set(test["document"])
    assert len(train) + len(test) == len(stdlib_functions)
    assert 0.05 < len(test) / len(stdlib_functions) < 0.15
    # The split is by function, whatever the kind: code2nl's training code is never nl2code's test code.
    assert not set(mine_pairs("code2nl", split="train")["query"]) & set(test["document"])
    assert mine_pairs("nl2code", split="test")["document"] == test["document"]
    other_seed = mine_pairs("nl2code", split="test", seed=1)
    assert set(other_seed["document"]) != set(test["document"])


def _write_module(folder, name, source):
    (folder / name).write_text(textwrap.dedent(source))


def test_dedup_trivial_and_inline_docstrings(tmp_path):
    _write_module(tmp_path, "a.py", '''
        def first(values):
            """Return the sum of all values in the list."""
            total = 0
            for value in values:
                total += value
            return total

        def placeholder(values):
            """Subclasses must implement this operation."""
            raise NotImplementedError

        def inline(values): """Docstring that shares its line with the def."""; return values
        ''')
    _write_module(tmp_path, "b.py", '''
        def same_doc(items):
            """Return the sum of all values in the list."""
            return sum(items)
            pass

        def same_code(values):
            """A different description of identical code."""
            total = 0
            for value in values:
                total += value
            return total

        def kept(values):
            """Return the largest of the given values."""
            best = values[0]
            return max(best, *values)
        ''')
    functions = mine_functions((str(tmp_path),), include_stdlib=False)
    assert [f.qualname for f in functions] == ["first", "kept"]
    assert functions[0].identity == f"{tmp_path.name}/a.py:first"
    pairs = mine_pairs("code2nl", roots=[tmp_path], include_stdlib=False, holdout_fraction=0.0)
    assert pairs["document"] == ["Return the sum of all values in the list.", "Return the largest of the given values."]


def test_split_is_stable_across_processes(tmp_path):
    for index in range(40):
        _write_module(tmp_path, f"m{index}.py", f'''
            def function_{index}(x):
                """Compute the value number {index} from x."""
                y = x + {index}
                return y
            ''')
    # Load the miner module on its own (not the whole package) with another hash seed, so a split that
    # depended on Python's randomised hash() would differ.
    script = textwrap.dedent(f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("mining", {mining.__file__!r})
        module = sys.modules["mining"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        pairs = module.mine_pairs("nl2code", roots=[{str(tmp_path)!r}], include_stdlib=False, split="test",
                                  holdout_fraction=0.5)
        print(sorted(pairs["query"]))
        """)
    other_process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                   env={**os.environ, "PYTHONHASHSEED": "12345"}).stdout
    in_process = mine_pairs("nl2code", roots=[tmp_path], include_stdlib=False, split="test", holdout_fraction=0.5)
    assert other_process.strip() == str(sorted(in_process["query"]))
    assert 5 < len(in_process) < 35


# code2code-crosslang needs packages with an npm twin: tests/data/test_data_cross_language.py
@pytest.mark.parametrize("kind", [kind for kind in MINING_KINDS if kind != "code2code-crosslang"])
def test_pair_columns_are_strings(kind):
    pairs = mine_pairs(kind, split="test")
    assert pairs.column_names == ["query", "document"]
    assert all(isinstance(q, str) and q.strip() for q in pairs["query"])


def test_bad_mining_arguments_name_the_fix():
    with pytest.raises(ValueError, match="mining.kind"):
        mine_pairs("code2code")
    with pytest.raises(ValueError, match="'train' and 'test'"):
        mine_pairs("nl2code", split="validation")
    with pytest.raises(FileNotFoundError, match="mining.roots"):
        mine_pairs("nl2code", roots=["/no/such/folder"])


def test_packages_are_mined_from_their_installed_folder(tmp_path, monkeypatch):
    package = tmp_path / "site" / "demo_functions"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    _write_module(package, "ops.py", '''
        def scaled(values, factor):
            """Multiply every value of the list by the factor."""
            result = [value * factor for value in values]
            return result
        ''')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    by_name = mine_pairs("nl2code", packages=["demo_functions"], include_stdlib=False, holdout_fraction=0.0)
    by_folder = mine_pairs("nl2code", roots=[package], include_stdlib=False, holdout_fraction=0.0)
    assert by_name["query"] == ["Multiply every value of the list by the factor."]
    assert by_name.to_dict() == by_folder.to_dict()
    assert mining.package_root("demo_functions") == package


def test_packages_that_cannot_be_mined_name_the_fix(tmp_path, monkeypatch):
    with pytest.raises(ModuleNotFoundError, match=r"no installed package 'no_such_package'; install it"):
        mine_pairs("nl2code", packages=["no_such_package"])
    (tmp_path / "single_module.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(ModuleNotFoundError, match=r"'single_module' is a single module.*`mining.roots`"):
        mine_pairs("nl2code", packages=["single_module"])
