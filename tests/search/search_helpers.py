"""Helpers of the search tests: a small source tree, reading an index back as ``{chunk id: vector}``, and this
test suite's own embeddings of an index's chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from st_jce.search.store import ShardStore

QUERIES = ["area of a circle", "read rows from a csv file", "count the words of a text", "greet someone by name"]

TREE = {
    "shapes/__init__.py": '"""Geometric shapes."""\n\nfrom shapes.circle import Circle\n',
    "shapes/circle.py": (
        "import math\n\n\n"
        "class Circle:\n"
        '    """A circle of a given radius."""\n\n'
        "    def __init__(self, radius):\n        self.radius = radius\n\n"
        "    @property\n    def area(self):\n        return math.pi * self.radius ** 2\n\n"
        "    def scale(self, factor):\n        return Circle(self.radius * factor)\n"
    ),
    "text/words.py": (
        "def count_words(text):\n    return len(text.split())\n\n\n"
        "def reverse_words(text):\n    return ' '.join(reversed(text.split()))\n"
    ),
    "io/csv_tools.py": (
        "import csv\n\n\n"
        "def read_rows(path):\n    with open(path) as handle:\n        return list(csv.DictReader(handle))\n\n\n"
        "def write_rows(path, rows):\n    with open(path, 'w') as handle:\n"
        "        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))\n        writer.writeheader()\n"
        "        writer.writerows(rows)\n"
    ),
    "web/app.js": "function greet(name) {\n  return `hello ${name}`;\n}\n\nmodule.exports = { greet };\n",
    "README.md": "# not code: left out by extension\n",
}


def write_tree(root: Path, files: dict[str, str] | None = None) -> Path:
    """Write ``files`` (path -> text; default :data:`TREE`) below ``root`` and return it."""
    for relative, text in (TREE if files is None else files).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def vectors_by_id(index_dir: Path) -> dict[str, np.ndarray]:
    """Every chunk's stored vector, by chunk id; fails on a duplicated id."""
    store = ShardStore(index_dir)
    ids = store.read(["id"]).column("id").to_pylist()
    assert len(ids) == len(set(ids)), "a chunk is stored twice"
    return dict(zip(ids, store.embeddings()))


def brute_force(model, index_dir, dim=None):
    """Chunk ids and this test suite's own embeddings of every stored chunk (under its file and name header),
    and of :data:`QUERIES`."""
    chunks = ShardStore(index_dir).read(["id", "path", "name", "text"]).to_pydict()
    texts = [f"# {path}\n# {name}\n{text}" if name else f"# {path}\n{text}"
             for path, name, text in zip(chunks["path"], chunks["name"], chunks["text"])]
    documents = model.encode_document(texts, task_type="nl2code", convert_to_tensor=True)[:, :dim]
    queries = model.encode_query(QUERIES, task_type="nl2code", convert_to_tensor=True)[:, :dim]
    return chunks["id"], documents, queries
