"""The languages ``st-jce index`` cuts into functions, classes and methods with a tree-sitter grammar, as data.

Each :class:`SyntaxLanguage` names its grammar (the tree-sitter organisation's own wheel, which ships the
compiled grammar: nothing is downloaded at run time) and which node types of that grammar are what:

- ``functions``: function and method definitions (a method is a function met inside a class);
- ``classes``: classes and their kin (structs, interfaces, traits, enums, records, Rust ``impl`` blocks, Go
  type declarations), whose members become ``Class.member``;
- ``namespaces``: namespaces and modules that hold code in a block (C++, C#, TypeScript, Rust ``mod``,
  Ruby ``module``, PHP): they are no unit of their own but name what they hold, ``geo::shapes::Circle``;
  ``file_namespaces`` are the statement forms that name the rest of the file (``namespace App;``);
- ``bindings``: declarations that bind a function (one of ``bound_values``) to a name, ``const greet = (name) =>``;
- ``wrappers``: nodes around a definition whose lines belong to it (``export``, ``template <...>``) when
  it is their only one and no block stands between them;
- ``transparent``: nodes whose definitions are walked as if they stood in the parent (preprocessor
  conditionals, error-recovery nodes, Java's enum bodies);
- ``attached``: comments, decorators and attributes that belong to the definition right below them;
- ``name_paths``: how to find a definition's name where it is not the ``name`` field (see
  :func:`st_jce.search.syntax_units.follow`), and ``owner_paths`` the type a Go method's receiver names.

Python is not here: :mod:`ast`, the language's own parser, cuts it (:mod:`st_jce.search.syntax_units`).

Examples
--------
>>> language_for("src/app/main.tsx", "").name, language_for("lib/util.h", "int f(void);").name
('tsx', 'c')
>>> language_for("lib/shape.h", "namespace geo {\\nclass Circle;\\n}").name  # a C++ header
'cpp'
>>> language_for("notes/todo.md", "") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath


@dataclass(frozen=True)
class SyntaxLanguage:
    """One language's grammar and the node types that make its units (see the module's docstring).

    A name path is a tuple of steps from a node: a field name, or ``@type`` for the first node of that type
    at or below the current one.
    """

    name: str
    extensions: tuple[str, ...]
    grammar: tuple[str, str]  # the grammar package and its function returning the language
    functions: frozenset[str]
    classes: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    file_namespaces: frozenset[str] = frozenset()
    bindings: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()
    transparent: frozenset[str] = frozenset({"ERROR"})
    attached: frozenset[str] = frozenset({"comment"})
    name_paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    owner_paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bound_values: frozenset[str] = frozenset()  # the values that make a binding a function
    # A function or class node without a body is a declaration (an interface or abstract method, a prototype, a
    # forward-declared struct) and stays with the code around it; these node types are units without one.
    bodiless: frozenset[str] = frozenset()


_JAVASCRIPT_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration", "method_definition"})
_JAVASCRIPT_ATTACHED = frozenset({"comment", "decorator"})
_JAVASCRIPT_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function", "generator_function"})
_TYPESCRIPT = {
    "grammar": ("tree_sitter_typescript", "language_typescript"),
    "functions": _JAVASCRIPT_FUNCTIONS,
    "classes": frozenset({"class_declaration", "abstract_class_declaration", "interface_declaration",
                          "enum_declaration"}),
    "namespaces": frozenset({"internal_module", "module"}),
    "bindings": frozenset({"lexical_declaration", "variable_declaration", "public_field_definition"}),
    # `namespace A {}` at the top of a file is an expression statement in this grammar
    "wrappers": frozenset({"export_statement", "ambient_declaration", "expression_statement"}),
    "attached": _JAVASCRIPT_ATTACHED,
    "bound_values": _JAVASCRIPT_FUNCTION_VALUES,
}
# declaration_list: the block of `extern "C" { ... }`, which C headers open for C++ readers
_C_TRANSPARENT = frozenset({"ERROR", "preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
                            "declaration_list"})
_C_CLASSES = frozenset({"struct_specifier", "union_specifier", "enum_specifier"})
_C_NAMES = {"function_definition": ("declarator", "@function_declarator", "declarator")}

LANGUAGES: tuple[SyntaxLanguage, ...] = (
    SyntaxLanguage(
        "javascript", (".js", ".jsx", ".mjs", ".cjs"), ("tree_sitter_javascript", "language"),
        functions=_JAVASCRIPT_FUNCTIONS,
        classes=frozenset({"class_declaration"}),
        bindings=frozenset({"lexical_declaration", "variable_declaration", "field_definition"}),
        wrappers=frozenset({"export_statement"}),
        attached=_JAVASCRIPT_ATTACHED,
        bound_values=_JAVASCRIPT_FUNCTION_VALUES,
        name_paths={"field_definition": ("property",)},
    ),
    SyntaxLanguage("typescript", (".ts", ".mts", ".cts"), **_TYPESCRIPT),
    SyntaxLanguage("tsx", (".tsx",), **{**_TYPESCRIPT, "grammar": ("tree_sitter_typescript", "language_tsx")}),
    SyntaxLanguage(
        "java", (".java",), ("tree_sitter_java", "language"),
        functions=frozenset({"method_declaration", "constructor_declaration", "compact_constructor_declaration"}),
        classes=frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration",
                           "annotation_type_declaration"}),
        transparent=frozenset({"ERROR", "enum_body_declarations"}),
        attached=frozenset({"line_comment", "block_comment"}),
    ),
    SyntaxLanguage(
        "go", (".go",), ("tree_sitter_go", "language"),
        functions=frozenset({"function_declaration", "method_declaration"}),
        classes=frozenset({"type_spec"}),
        wrappers=frozenset({"type_declaration"}),
        bodiless=frozenset({"type_spec"}),  # its `type` is the struct or interface
        owner_paths={"method_declaration": ("receiver", "@type_identifier")},
    ),
    SyntaxLanguage(
        "rust", (".rs",), ("tree_sitter_rust", "language"),
        functions=frozenset({"function_item"}),
        classes=frozenset({"struct_item", "enum_item", "union_item", "trait_item", "impl_item"}),
        namespaces=frozenset({"mod_item"}),
        bodiless=frozenset({"struct_item"}),  # `struct Marker;`
        attached=frozenset({"line_comment", "block_comment", "attribute_item"}),
        name_paths={"impl_item": ("type", "@type_identifier")},
    ),
    SyntaxLanguage(
        "c", (".c", ".h"), ("tree_sitter_c", "language"),
        functions=frozenset({"function_definition"}),
        classes=_C_CLASSES,
        wrappers=frozenset({"linkage_specification"}),  # extern "C"
        transparent=_C_TRANSPARENT,
        name_paths=_C_NAMES,
    ),
    SyntaxLanguage(
        "cpp", (".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h"), ("tree_sitter_cpp", "language"),
        functions=frozenset({"function_definition"}),
        classes=_C_CLASSES | {"class_specifier"},
        namespaces=frozenset({"namespace_definition"}),
        # a field declaration holds a nested class
        wrappers=frozenset({"linkage_specification", "template_declaration", "field_declaration", "friend_declaration"}),
        transparent=_C_TRANSPARENT,
        name_paths=_C_NAMES,
    ),
    SyntaxLanguage(
        "csharp", (".cs",), ("tree_sitter_c_sharp", "language"),
        functions=frozenset({"method_declaration", "constructor_declaration", "destructor_declaration",
                             "operator_declaration", "conversion_operator_declaration"}),
        classes=frozenset({"class_declaration", "struct_declaration", "interface_declaration", "enum_declaration",
                           "record_declaration"}),
        namespaces=frozenset({"namespace_declaration"}),
        file_namespaces=frozenset({"file_scoped_namespace_declaration"}),
    ),
    SyntaxLanguage(
        "ruby", (".rb", ".rake"), ("tree_sitter_ruby", "language"),
        functions=frozenset({"method", "singleton_method"}),
        classes=frozenset({"class"}),
        namespaces=frozenset({"module"}),
        # `class << self` holds class methods
        transparent=frozenset({"ERROR", "singleton_class", "body_statement"}),
        bodiless=frozenset({"method", "singleton_method", "class"}),  # `def area; end` has no body node
    ),
    SyntaxLanguage(
        "php", (".php",), ("tree_sitter_php", "language_php"),
        functions=frozenset({"function_definition", "method_declaration"}),
        classes=frozenset({"class_declaration", "interface_declaration", "trait_declaration", "enum_declaration"}),
        namespaces=frozenset({"namespace_definition"}),
        file_namespaces=frozenset({"namespace_definition"}),
    ),
)

# A `.h` file is C++ rather than C when a line opens a namespace, a class or a template, or marks access.
_CPP_HEADER = re.compile(r"^\s*(?:namespace\s+\w|class\s+\w|template\s*<|(?:public|private|protected)\s*:)", re.MULTILINE)
PARSED_EXTENSIONS: tuple[str, ...] = tuple(dict.fromkeys(extension for language in LANGUAGES
                                                         for extension in language.extensions))
# The first language listing an extension has it (`.h`: C, unless the text is C++)
_BY_EXTENSION = {extension: language for language in reversed(LANGUAGES) for extension in language.extensions}


def language_for(path: str, text: str) -> SyntaxLanguage | None:
    """The grammar language of the file ``path`` holding ``text``; ``None`` for a language without one here."""
    extension = PurePosixPath(path).suffix.lower()
    if extension == ".h" and _CPP_HEADER.search(text):
        extension = ".hpp"
    return _BY_EXTENSION.get(extension)
