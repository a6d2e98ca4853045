"""code2code-crosslang: a Python package's methods paired with the same methods of its npm twin."""

from __future__ import annotations

import ast
import importlib
import json
import textwrap

import pytest

from st_jce.data.cross_language import javascript_sources, matched_pairs, npm_package_root
from st_jce.data.mining import mine_pairs

pytest.importorskip("tree_sitter_javascript")

PYTHON_STACK = textwrap.dedent('''
    class Stack:
        def __init__(self, items=None):
            """Start empty, or with ``items``."""
            self.items = list(items or [])
            self.pushes = 0

        def push_item(self, item):
            self.items.append(item)
            self.pushes += 1

        def peek(self):
            if not self.items:
                raise IndexError("empty")
            return self.items[-1]

        def size(self):
            return len(self.items)

        def clear(self):
            raise NotImplementedError
    ''')
JAVASCRIPT_STACK = textwrap.dedent('''
    export default class Stack {
        constructor(items) {
            this.items = items ? [...items] : [];
            this.pushes = 0;
        }

        /**
         * Adds one item on top.
         */
        pushItem(item) {
            this.items.push(item);
            this.pushes += 1;
        }

        peek() {
            if (this.items.length === 0) {
                throw new Error("empty");
            }
            return this.items[this.items.length - 1];
        }

        size() { return this.items.length; }

        clear() {
            this.items = [];
            this.pushes = 0;
        }
    }
    ''')


def test_methods_pair_by_file_and_name():
    pairs = matched_pairs({"pkg/Stack.py": PYTHON_STACK, "pkg/Other.py": PYTHON_STACK},
                          {"src/Stack.js": JAVASCRIPT_STACK, "src/Queue.js": JAVASCRIPT_STACK})
    assert [identity for identity, _, _ in pairs] == [
        "pkg/Stack.py:Stack.__init__", "pkg/Stack.py:Stack.peek", "pkg/Stack.py:Stack.push_item"]
    by_identity = {identity: (python, javascript) for identity, python, javascript in pairs}
    python, javascript = by_identity["pkg/Stack.py:Stack.push_item"]
    assert python.startswith("def push_item(self, item):") and javascript.startswith("pushItem(item) {")
    assert "Adds one item" not in javascript and "Start empty" not in by_identity["pkg/Stack.py:Stack.__init__"][0]
    # size() is one line in JavaScript, clear() a placeholder in Python: neither is a pair.


def test_a_name_that_is_not_unique_gives_no_pair():
    twice = JAVASCRIPT_STACK + JAVASCRIPT_STACK.replace("export default ", "")
    assert matched_pairs({"pkg/Stack.py": PYTHON_STACK}, {"src/Stack.js": twice}) == []


def _npm_package(root, name, files):
    folder = root / "node_modules" / name
    folder.mkdir(parents=True)
    (folder / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0"}))
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    return folder


def test_sources_are_files_else_what_the_source_maps_embed(tmp_path):
    with_files = _npm_package(tmp_path / "a", "stack", {"lib/Stack.js": JAVASCRIPT_STACK, "dist/bundle.js": "x()",
                                                        "lib/test/Stack.js": "", "node_modules/dep/index.js": ""})
    assert javascript_sources(with_files) == {"lib/Stack.js": JAVASCRIPT_STACK}
    source_map = {"version": 3, "sources": ["webpack://stack/webpack/bootstrap", "webpack://stack/./src/Stack.js",
                                            "webpack://stack/./node_modules/dep/index.js"],
                  "sourcesContent": ["boot()", JAVASCRIPT_STACK, "dep()"], "mappings": ""}
    bundled = _npm_package(tmp_path / "b", "stack", {"dist/stack.js": "bundle()", "dist/stack.js.map": json.dumps(source_map)})
    assert javascript_sources(bundled) == {"src/Stack.js": JAVASCRIPT_STACK}


def test_mined_through_an_installed_package_and_its_twin(tmp_path, monkeypatch):
    site = tmp_path / "site" / "stack_port"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    (site / "Stack.py").write_text(PYTHON_STACK)
    (site.parent / "stack_port_without_twin").mkdir()
    (site.parent / "stack_port_without_twin" / "__init__.py").write_text("")
    _npm_package(tmp_path, "stack_port", {"src/Stack.js": JAVASCRIPT_STACK})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("NODE_PATH", str(tmp_path / "node_modules"))
    importlib.invalidate_caches()
    train = mine_pairs("code2code-crosslang", packages=["stack_port"], holdout_fraction=0.0)
    assert len(train) == 3 and all(query.startswith("def ") for query in train["query"])
    with pytest.raises(ValueError, match=r"'stack_port_without_twin' has no npm twin installed.*npm install -g"):
        mine_pairs("code2code-crosslang", packages=["stack_port", "stack_port_without_twin"])
    with pytest.raises(ValueError, match=r"`mining.packages` is empty"):
        mine_pairs("code2code-crosslang")
    with pytest.raises(ValueError, match=r"reads installed packages only"):
        mine_pairs("code2code-crosslang", roots=[str(site)])


@pytest.mark.skipif(npm_package_root("antlr4") is None or importlib.util.find_spec("antlr4") is None,
                    reason="needs `pip install antlr4-python3-runtime` and `npm install -g antlr4`")
def test_antlr4_runtime_pairs():
    from st_jce.search.syntax_units import outline

    train = mine_pairs("code2code-crosslang", packages=["antlr4"], split="train")
    test = mine_pairs("code2code-crosslang", packages=["antlr4"], split="test")
    assert len(train) > 100 and len(test) > 5
    for python, javascript in zip(test["query"], test["document"]):
        function = ast.parse(python).body[0]
        wrapped = outline(f"class Unit {{\n{javascript}\n}}", "unit.js")  # a method parses inside a class
        methods = [unit.name for unit in wrapped.definitions if unit.kind != "class"]
        expected = function.name.replace("__init__", "constructor").lower().replace("_", "")
        assert methods and methods[0].removeprefix("Unit.").lower() == expected, (python, javascript)
    # The split is the mined functions' split: no held-out function's code is a training query here.
    held_out = set(mine_pairs("nl2code", packages=["antlr4"], include_stdlib=False, split="test")["document"])
    assert not held_out & set(train["query"])
