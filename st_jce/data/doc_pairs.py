"""Question-answer pairs (kind ``qa-docs``, task type ``qa``) from documentation that is already on the machine.

Two sources, both split into sections at their headings (markdown ``#`` headings and reStructuredText /
setext underlined titles; a section's body is its text up to the next heading of any level):

- the long description (``METADATA``) of the installed distribution of each package named in
  ``mining.packages``, kept only where its licence (``License-Expression``, else the ``License ::``
  classifiers, else the ``License`` field) is permissive (:func:`is_permissive`); others are skipped with a
  warning;
- with the standard library, the Python Language Reference topics that ship with it
  (``pydoc_data.topics``, the text ``help("with")`` shows; PSF licence).

The question is the heading where it is one (ends with ``?``: FAQ-style READMEs), ``"What is <name>?"`` for
the section titled with the distribution's own name, else ``"<name>: <heading>"``, with the document's title
between them where that is not the name (``"Python: The match statement: Overview"``; ``<name>`` is
``Python`` for the language reference). The answer is the section's body with images, badges, rst
directives and link targets removed, cut at a paragraph boundary to at most ``max_chars``. Sections whose
heading is about the document rather than the software (changelog, licence, contents, credits, links,
versions) or whose body has fewer than :data:`MIN_ANSWER_WORDS` words give no pair.

Examples
--------
>>> text = ("Tool\\n====\\n\\nTool splits text into words quickly, keeping punctuation apart and numbers whole.\\n\\n"
...         "How do I install it?\\n--------------------\\n\\n"
...         "Run pip install tool in a virtual environment of Python 3.10 or later.\\n")
>>> for question, answer in section_pairs(text, "tool"):
...     print(question, "->", answer)
What is tool? -> Tool splits text into words quickly, keeping punctuation apart and numbers whole.
How do I install it? -> Run pip install tool in a virtual environment of Python 3.10 or later.
"""

from __future__ import annotations

import html
import importlib.metadata
import logging
import re

from st_jce.data.python_source import package_root

logger = logging.getLogger(__name__)

MIN_ANSWER_WORDS = 12
PYTHON_DOCS_LICENCE = "PSF-2.0"
PERMISSIVE_MARKERS = ("MIT", "BSD", "APACHE", "ISC", "PSF", "PYTHON SOFTWARE FOUNDATION", "ZLIB", "UNLICENSE", "CC0",
                      "HPND", "HISTORICAL PERMISSION", "PERMISSION IS HEREBY GRANTED")
RESTRICTIVE_MARKERS = ("GPL", "MPL", "MOZILLA", "EPL", "ECLIPSE", "CDDL", "EUPL", "OSL", "-SA", "PROPRIETARY",
                       "COMMERCIAL", "SSPL", "BUSL", "NON-COMMERCIAL", "NC-")
SKIPPED_HEADINGS = re.compile(r"change ?log|changes|history|release|licen[cs]e|copyright|contents|credits|authors|"
                              r"contributors|contributing|acknowledg|sponsor|badges?$|links?$|^\W*v?\d+(\.\d+)+|"
                              r"what'?s new|news$|thanks|funding|donat|status$", re.IGNORECASE)
_ATX_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`:.])\1{2,}\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DROPPED_LINE = re.compile(r"^\s*(\.\. |:target:|:alt:|:align:|:width:|:height:|\[!\[|!\[|<img|<a |</a>|<p |</p>|"
                           r"<div|</div>|\[[^\]]+\]:\s)", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}")


def is_permissive(licence: str | None) -> bool:
    """Whether a licence name or SPDX expression allows reuse without copyleft terms (any ``OR`` branch may).

    >>> [is_permissive(text) for text in ("MIT", "BSD-3-Clause", "Apache-2.0 OR GPL-2.0", "LGPL-3.0", "", None)]
    [True, True, True, False, False, False]
    """
    for branch in re.split(r"\s+OR\s+", (licence or "").upper()):
        if any(marker in branch for marker in PERMISSIVE_MARKERS) and not any(m in branch for m in RESTRICTIVE_MARKERS):
            return True
    return False


def distribution_licence(metadata) -> str | None:
    """The licence a distribution's metadata declares: its SPDX expression, classifiers, or short licence field."""
    if metadata.get("License-Expression"):
        return metadata["License-Expression"]
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in metadata.get_all("Classifier") or [] if c.startswith("License")]
    if classifiers:
        return " OR ".join(classifiers)
    field = (metadata.get("License") or "").strip()
    return field.splitlines()[0][:200] if field else None


def distributions_of(package: str) -> list[str]:
    """The installed distributions that provide the import name ``package`` (``more_itertools`` -> ``more-itertools``)."""
    return sorted(importlib.metadata.packages_distributions().get(package, []))


def clean_body(lines: list[str]) -> str:
    """A section's text without images, badges, rst directives (and their indented options) or link targets."""
    kept: list[str] = []
    in_directive = False
    for line in lines:
        if _DROPPED_LINE.match(line):
            in_directive = line.lstrip().startswith(".. ")
            continue
        if in_directive and (not line.strip() or line.startswith((" ", "\t"))):
            continue
        in_directive = False
        kept.append(html.unescape(_RST_LINK.sub(r"\1", _MD_LINK.sub(r"\1", line))).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each section of a markdown or reStructuredText document, in order."""
    lines = text.splitlines()
    found: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None
        if not in_fence and _ATX_HEADING.match(line):
            heading = _ATX_HEADING.match(line).group(1)
        elif (not in_fence and line.strip() and not line.startswith((" ", "\t")) and _UNDERLINE.match(following)
              and len(following.strip()) >= len(line.strip()) and not _UNDERLINE.match(line)):
            heading, index = line.strip(), index + 1
        if heading is not None:
            if found[-1][1] and _UNDERLINE.match(found[-1][1][-1]):
                found[-1][1].pop()  # an rst overline belongs to the title below it
            found.append((heading, []))
        else:
            found[-1][1].append(line)
        index += 1
    return [(heading, clean_body(body)) for heading, body in found if heading]


def cut_at_paragraph(text: str, max_chars: int) -> str:
    """The leading paragraphs of ``text`` that fit in ``max_chars`` (empty if the first does not)."""
    kept = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{kept}\n\n{paragraph}" if kept else paragraph
        if len(candidate) > max_chars:
            break
        kept = candidate
    return kept


def section_pairs(text: str, name: str, max_chars: int = 2000) -> list[tuple[str, str]]:
    """The (question, answer) pairs of one document about ``name`` (see the module docstring)."""
    pairs = []
    found = [(_plain_heading(heading), body) for heading, body in sections(text)]
    document_title = found[0][0] if found else ""
    # A section below a title other than the name is asked about within it: "Python: The match statement: Overview".
    context = name if _same_words(document_title, name) else f"{name}: {document_title}"
    for index, (title, body) in enumerate(found):
        answer = cut_at_paragraph(body, max_chars)
        if not re.search(r"[A-Za-z]", title) or SKIPPED_HEADINGS.search(title) or len(answer.split()) < MIN_ANSWER_WORDS:
            continue
        if title.endswith("?"):
            question = title
        elif _same_words(title, name):
            question = f"What is {name}?"
        else:
            question = f"{name if index == 0 else context}: {title}"
        pairs.append((question, answer))
    return pairs


def _plain_heading(heading: str) -> str:
    return " ".join(_RST_LINK.sub(r"\1", _MD_LINK.sub(r"\1", heading)).replace("`", "").replace("*", "").split())


def _same_words(text: str, other: str) -> bool:
    return re.sub(r"[\W_]", "", text.lower()) == re.sub(r"[\W_]", "", other.lower())


def doc_pairs(packages: tuple[str, ...] | list[str], include_stdlib: bool = True,
              max_chars: int = 2000) -> list[tuple[str, str, str]]:
    """(identity, question, answer) of every section pair of the Python topics and the packages' descriptions,
    each answer once.

    The identity (``"<distribution>/METADATA#<question>"``, ``"stdlib/pydoc_data/topics.py:<topic>#<question>"``)
    is what the hold-out split keys on.
    """
    documents: list[tuple[str, str, str]] = []  # (identity prefix, name, text)
    if include_stdlib:
        from pydoc_data.topics import topics  # the language reference as help() shows it

        documents += [(f"stdlib/pydoc_data/topics.py:{topic}", "Python", topics[topic]) for topic in sorted(topics)]
    for package in packages:
        package_root(package)  # a package that is not installed is an error naming the fix, as for the other kinds
        if not distributions_of(package):
            logger.warning("No docs for %r: no installed distribution provides it (part of the standard library?).", package)
        for distribution in distributions_of(package):
            metadata = importlib.metadata.metadata(distribution)
            licence = distribution_licence(metadata)
            if not is_permissive(licence):
                logger.warning("Skipping the docs of %s: licence %r is unknown or not permissive.", distribution, licence)
                continue
            documents.append((f"{distribution}/METADATA", distribution, metadata.get_payload() or ""))
    found, seen_answers = [], set()
    for prefix, name, text in documents:
        for question, answer in section_pairs(text, name, max_chars):
            if answer not in seen_answers:  # topics that share a section give it once
                seen_answers.add(answer)
                found.append((f"{prefix}#{question}", question, answer))
    return found
