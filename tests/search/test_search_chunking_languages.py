"""Chunking beyond Python: each fixture file's units, their qualified names, kinds and line spans as read off the
file by hand (tests/fixtures/languages/), and the line-window fallback where no grammar reads a file."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from st_jce.search import syntax_units
from st_jce.search.chunking import WINDOW_LINES, chunk_source
from st_jce.search.languages import LANGUAGES
from st_jce.search.sources import CODE_EXTENSIONS
from st_jce.source_lines import source_lines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"

# (kind, name, first line, last line) of every chunk, in file order. A class owns its lines outside its members
# (its closing brace or `end` excepted); comments, decorators and attributes right above a unit are its own.
EXPECTED = {
    "router.js": [
        ("module", "router", 1, 3),
        ("function", "greet", 5, 13),  # its JSDoc; the nested capitalise stays inside
        ("class", "Router", 15, 16),
        ("method", "Router.handle", 18, 20),
        ("method", "Router.onError", 22, 22),  # a class field holding an arrow function
        ("function", "shout", 25, 25),
        ("module", "router", 27, 27),
    ],
    "shapes.ts": [
        ("module", "shapes", 1, 3),
        ("class", "Shape", 5, 7),  # an interface, its doc comment before `export`
        ("class", "Circle", 10, 11),  # the class decorator
        ("method", "Circle.constructor", 12, 12),
        ("method", "Circle.area", 14, 18),  # doc comment and method decorator
        ("method", "Circle.scale", 20, 20),
        ("module", "shapes", 23, 23),  # `export namespace Geometry.Units {`
        ("function", "Geometry::Units::toDegrees", 24, 26),
        ("function", "logAreas", 29, 32),
        ("function", "ids", 34, 37),
    ],
    "Counter.tsx": [
        ("module", "Counter", 1, 3),
        ("function", "Counter", 5, 9),
        ("function", "Label", 11, 11),
        ("class", "Panel", 13, 13),
        ("method", "Panel.render", 14, 16),
    ],
    "Geometry.java": [
        ("module", "Geometry", 1, 3),
        ("class", "Geometry", 5, 7),
        ("class", "Geometry.Circle", 9, 11),
        ("method", "Geometry.Circle.Circle", 13, 15),
        ("method", "Geometry.Circle.toString", 17, 20),  # @Override
        ("class", "Geometry.Shape", 23, 24),  # an interface method without a body stays in it
        ("class", "Geometry.Unit", 27, 28),
        ("method", "Geometry.Unit.factor", 30, 30),
        ("method", "Geometry.totalArea", 33, 36),
    ],
    "shapes.go": [
        ("module", "shapes", 1, 7),
        ("class", "Circle", 9, 11),
        ("module", "shapes", 14, 14),  # `type (`
        ("class", "Point", 15, 15),
        ("class", "Box", 16, 16),
        ("class", "Shape", 17, 18),
        ("method", "Circle.Area", 22, 25),  # receiver *Circle
        ("method", "Point.Norm", 27, 27),
        ("method", "Box.Len", 29, 29),  # receiver Box[T]
        ("function", "NewCircle", 31, 34),
    ],
    "shapes.rs": [
        ("module", "shapes", 1, 5),
        ("class", "Circle", 7, 10),  # doc comment and #[derive]
        ("class", "Shape", 13, 14),  # a trait: its method without a body stays in it
        ("method", "Shape.describe", 16, 18),
        ("class", "Circle", 21, 21),  # impl Circle
        ("method", "Circle.new", 22, 25),
        ("class", "Circle", 28, 28),  # impl fmt::Display for Circle
        ("method", "Circle.fmt", 29, 31),
        ("class", "Vec", 34, 34),  # impl<T: Shape> Shape for Vec<T>
        ("method", "Vec.area", 35, 35),
        ("function", "total_area", 38, 40),
        ("module", "shapes", 42, 44),
        ("function", "tests::unit_circle", 46, 49),  # #[test], inside mod tests
    ],
    "geometry.c": [
        ("module", "geometry", 1, 6),
        ("class", "point", 8, 9),
        ("function", "distance", 12, 16),
        ("function", "find_first", 18, 25),
        ("module", "geometry", 27, 27),  # a prototype
    ],
    "shapes.cpp": [
        ("module", "shapes", 1, 6),
        ("class", "geo::shapes::Circle", 8, 10),
        ("method", "geo::shapes::Circle.Circle", 11, 11),
        ("method", "geo::shapes::Circle.Area", 13, 13),
        ("class", "geo::shapes::Circle", 14, 17),  # a declaration and the private fields
        ("function", "geo::shapes::Clamp", 20, 23),  # template <typename T>
        ("method", "geo::shapes::Circle.Name", 25, 27),  # defined outside the class
        ("module", "shapes", 31, 31),  # an anonymous namespace names nothing
        ("function", "helper", 32, 32),
        ("function", "c_area", 35, 37),
        ("class", "Point", 39, 41),
    ],
    "Shapes.cs": [
        ("module", "Shapes", 1, 5),
        ("class", "Geometry::Shapes::Circle", 6, 9),
        ("method", "Geometry::Shapes::Circle.Circle", 11, 11),
        ("method", "Geometry::Shapes::Circle.GetArea", 13, 17),  # [Obsolete]
        ("class", "Geometry::Shapes::Circle", 19, 19),  # a property between members
        ("class", "Geometry::Shapes::Circle.Builder", 21, 22),
        ("method", "Geometry::Shapes::Circle.Builder.Build", 23, 23),
        ("class", "Geometry::Shapes::IShape", 27, 29),
        ("class", "Geometry::Shapes::ShapeExtensions", 32, 33),
        ("method", "Geometry::Shapes::ShapeExtensions.TotalArea", 34, 39),
    ],
    "shapes.rb": [
        ("module", "shapes", 1, 5),
        ("class", "Geometry::Circle", 6, 8),
        ("method", "Geometry::Circle.initialize", 10, 12),
        ("method", "Geometry::Circle.unit", 14, 16),  # def self.unit
        ("method", "Geometry::Circle.area", 18, 20),
        ("function", "Geometry::total_area", 23, 25),  # a module function
        ("class", "Geometry::Square", 28, 28),
        ("method", "Geometry::Square.area", 29, 29),  # an empty method
        ("function", "describe", 32, 34),
        ("module", "shapes", 36, 36),
    ],
    "Shapes.php": [
        ("module", "Shapes", 1, 7),
        ("class", "App::Geometry::Circle", 9, 14),  # doc comment and #[Immutable]
        ("method", "App::Geometry::Circle.__construct", 15, 20),
        ("method", "App::Geometry::Circle.area", 22, 25),
        ("class", "App::Geometry::Shape", 28, 30),
        ("class", "App::Geometry::Describes", 33, 34),
        ("method", "App::Geometry::Describes.describe", 35, 35),
        ("function", "App::Geometry::total_area", 38, 41),
        ("module", "Shapes", 43, 43),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_units_carry_qualified_names_kinds_and_spans(name):
    chunks = chunk_source((FIXTURES / name).read_text(encoding="utf-8"), name)
    assert [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunks] == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_chunk_holds_exactly_its_lines_and_no_code_line_is_lost(name):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    lines = text.splitlines()
    covered = set()
    for chunk in chunk_source(text, name):
        assert chunk.text == textwrap.dedent("\n".join(lines[chunk.start_line - 1:chunk.end_line]))
        covered.update(range(chunk.start_line, chunk.end_line + 1))
    # what no chunk holds: blank lines and lines that only close a block
    left = {lines[number - 1].strip() for number in range(1, len(lines) + 1) if number not in covered}
    assert left <= {"", "}", "};", ")", "end", "}  // namespace geo::shapes"}


def test_every_grammar_language_is_read_from_source_trees():
    assert {extension for language in LANGUAGES for extension in language.extensions} <= set(CODE_EXTENSIONS)


@pytest.mark.parametrize("name, source, expected", [
    ("util.h", "#ifndef UTIL_H\n#define UTIL_H\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\nint twice(int n)\n{\n"
     "    return 2 * n;\n}\n\n#ifdef __cplusplus\n}\n#endif\n#endif\n",
     [("module", "util", 1, 5), ("function", "twice", 7, 10), ("module", "util", 12, 12), ("module", "util", 14, 15)]),
    ("config.rb", "class Config\n  class << self\n    def load(path)\n      new\n    end\n  end\nend\n",
     [("class", "Config", 1, 2), ("method", "Config.load", 3, 5)]),
    ("units.go", "package units\n\ntype (\n\tMetre float64\n\tFoot  float64\n)\n",
     [("module", "units", 1, 3), ("class", "Metre", 4, 4), ("class", "Foot", 5, 5)]),
])
def test_blocks_around_definitions_are_walked_and_their_closing_lines_left_out(name, source, expected):
    assert [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(source, name)] \
        == expected


def test_a_header_that_holds_cpp_is_read_as_cpp():
    header = "#pragma once\nnamespace geo {\nclass Circle {\n public:\n  double Area() const { return 1.0; }\n};\n}\n"
    names = [(chunk.kind, chunk.name) for chunk in chunk_source(header, "geo/circle.h")]
    assert ("method", "geo::Circle.Area") in names
    c_header = "#include <stddef.h>\n\nstatic inline size_t twice(size_t n)\n{\n    return 2 * n;\n}\n"
    assert [(chunk.kind, chunk.name) for chunk in chunk_source(c_header, "util.h")] == [("module", "util"),
                                                                                        ("function", "twice")]


def test_languages_without_a_grammar_and_unparsable_files_fall_back_to_line_windows():
    lua = (FIXTURES / "greet.lua").read_text(encoding="utf-8")
    assert [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(lua, "greet.lua")] \
        == [("lines", "", 1, 5)]
    prose = "This is a note, not code: the build copies it (see README); don't edit it by hand!\n" * (WINDOW_LINES + 5)
    for name in ("note.java", "note.go", "note.rs", "note.ts", "note.cpp"):
        windows = chunk_source(prose, name)
        assert {chunk.kind for chunk in windows} == {"lines"}
        assert windows[0].start_line == 1 and windows[-1].end_line == WINDOW_LINES + 5


def test_a_few_syntax_errors_keep_the_units_around_them():
    text = (FIXTURES / "shapes.go").read_text(encoding="utf-8").replace("const Pi = math.Pi", "const Pi = = math.Pi")
    assert [chunk.name for chunk in chunk_source(text, "shapes.go") if chunk.kind == "function"] == ["NewCircle"]


def test_a_missing_grammar_warns_and_falls_back_to_windows(monkeypatch):
    syntax_units._grammar.cache_clear()
    monkeypatch.setitem(sys.modules, "tree_sitter_go", None)  # import tree_sitter_go fails
    try:
        with pytest.warns(UserWarning, match=r"go files \(\.go\) are cut into line windows.*st-jce\[index\]"):
            chunks = chunk_source((FIXTURES / "shapes.go").read_text(encoding="utf-8"), "shapes.go")
        assert {chunk.kind for chunk in chunks} == {"lines"}
        assert {chunk.kind for chunk in chunk_source("fn main() {}\n", "main.rs")} == {"function"}  # others unharmed
    finally:
        syntax_units._grammar.cache_clear()


@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
def test_lines_are_numbered_as_editors_number_them(line_end):
    source = "class Page:\n    \"\"\"One page.\"\"\"\n\x0c\n    def render(self):\n        return 1\n".replace("\n", line_end)
    assert source_lines(source)[2:] == ["\x0c", "    def render(self):", "        return 1"]
    assert [(chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(source, "page.py")] == [
        ("Page", 1, 2), ("Page.render", 4, 5)]  # str.splitlines: render at 5-5, its return apart
    go = (FIXTURES / "shapes.go").read_text(encoding="utf-8").replace("\n", line_end)
    assert [(chunk.kind, chunk.name, chunk.start_line, chunk.end_line) for chunk in chunk_source(go, "shapes.go")] \
        == EXPECTED["shapes.go"]
