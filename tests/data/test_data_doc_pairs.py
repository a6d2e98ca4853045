"""qa-docs: (heading as question, section) pairs of the docs that ship with Python and with permissively licensed packages."""

from __future__ import annotations

import email.message
import importlib
import logging
import textwrap
from pydoc_data.topics import topics

import pytest

from st_jce.data import DatasetSpec, load_pairs
from st_jce.data.doc_pairs import distribution_licence, is_permissive, section_pairs, sections
from st_jce.data.mining import mine_pairs

README = textwrap.dedent("""
    =======
    Widgets
    =======

    .. image:: https://example.org/badge.svg
       :target: https://example.org

    Widgets arranges boxes on a page so that no two of them overlap, in linear time.

    Installation
    ------------

    Install it from the package index with ``pip install widgets``; it needs Python 3.10 or later.

    Does it work on Windows?
    ~~~~~~~~~~~~~~~~~~~~~~~~

    Yes: every release is tested on Linux, macOS and Windows, see `the matrix <https://example.org/ci>`_ for the details.

    Changelog
    ---------

    1.0 was the first release, with boxes only, and 1.1 added circles and triangles to the shapes it arranges.

    Too short
    ---------

    Only a few words here.
    """)

MARKDOWN = textwrap.dedent("""
    # Gadgets

    ![logo](logo.png)

    ## Why is it fast?

    It caches every layout it computed in a [dictionary](https://example.org) keyed by the boxes' sizes &amp; positions.

    ```python
    # not a heading: a comment in a code block
    layout(boxes)
    ```
    """)


def test_sections_of_rst_and_markdown():
    assert [heading for heading, _ in sections(README)] == [
        "Widgets", "Installation", "Does it work on Windows?", "Changelog", "Too short"]
    headings = dict(sections(MARKDOWN))
    assert list(headings) == ["Gadgets", "Why is it fast?"]
    assert "# not a heading" in headings["Why is it fast?"] and "logo" not in headings["Why is it fast?"]


def test_questions_and_answers():
    pairs = dict(section_pairs(README, "widgets"))
    assert list(pairs) == ["What is widgets?", "widgets: Installation", "Does it work on Windows?"]
    assert pairs["What is widgets?"] == "Widgets arranges boxes on a page so that no two of them overlap, in linear time."
    assert "the matrix for the details" in pairs["Does it work on Windows?"]  # the link's text, not its target
    answer = dict(section_pairs(MARKDOWN, "gadgets"))["Why is it fast?"]
    assert "dictionary keyed" in answer and "&amp;" not in answer and "& positions" in answer


def test_answers_are_cut_at_a_paragraph():
    text = "Tool\n====\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 20 for i in range(10))
    (question, answer), = section_pairs(text, "tool", max_chars=400)
    assert answer.count("Paragraph") == 3 and len(answer) <= 400 and not answer.endswith(" ")


@pytest.mark.parametrize("fields, permissive", [
    ({"License-Expression": "MIT"}, True),
    ({"Classifier": "License :: OSI Approved :: BSD License"}, True),
    ({"License": "Apache 2.0"}, True),
    ({"License-Expression": "GPL-3.0-or-later"}, False),
    ({"Classifier": "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"}, False),
    ({"License": "MPL-2.0"}, False),
    ({}, False),
])
def test_licences(fields, permissive):
    metadata = email.message.Message()
    for key, value in fields.items():
        metadata[key] = value
    assert is_permissive(distribution_licence(metadata)) is permissive


def _install(site, name, licence_line):
    (site / name).mkdir(parents=True)
    (site / name / "__init__.py").write_text("")
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{licence_line}\n"
                                   "Description-Content-Type: text/x-rst\n\n" + README)
    (info / "top_level.txt").write_text(name + "\n")


def test_packages_docs_only_under_a_permissive_licence(tmp_path, monkeypatch, caplog):
    _install(tmp_path, "free_widgets", "License-Expression: BSD-3-Clause")
    _install(tmp_path, "closed_widgets", "License: Proprietary")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with caplog.at_level(logging.WARNING):
        pairs = mine_pairs("qa-docs", packages=["free_widgets", "closed_widgets"], include_stdlib=False,
                           holdout_fraction=0.0)
    assert pairs["query"] == ["free_widgets: Widgets", "free_widgets: Widgets: Installation", "Does it work on Windows?"]
    assert "closed_widgets" in caplog.text and "Proprietary" in caplog.text


def test_language_reference_pairs():
    train, test = mine_pairs("qa-docs", split="train"), mine_pairs("qa-docs", split="test")
    assert len(train) > 100 and len(test) > 5
    assert not set(train["document"]) & set(test["document"])
    texts = list(topics.values())
    for question, answer in zip(test["query"], test["document"]):
        assert question.startswith("Python: ") or question.endswith("?")
        assert any(answer.split("\n\n")[0] in text for text in texts), answer  # the topic's own text
    spec = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": "qa-docs"}, "max_samples": 4})
    assert spec.resolved_task_type == "qa" and len(load_pairs(spec)) == 4
