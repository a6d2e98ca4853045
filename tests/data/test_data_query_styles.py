"""nl2code-keywords / nl2code-question: rule-made queries of real functions, from their own name and summary."""

from __future__ import annotations

import pytest

from st_jce.data import DatasetSpec, load_pairs
from st_jce.data.mining import is_held_out, mine_functions, mine_pairs
from st_jce.data.query_styles import first_sentence, imperative, keyword_query, name_words, question_query


@pytest.fixture(scope="module")
def functions():
    return mine_functions()


def test_keyword_queries_are_short_lowercase_words_of_the_name_and_summary(functions):
    made = 0
    for function in functions:
        query = keyword_query(function.qualname, function.summary)
        if query is None:
            continue
        words = query.split()
        assert 2 <= len(words) <= 6 and query == query.lower() and len(set(words)) == len(words), query
        # Every word comes from the function's own name or from its summary.
        name = function.qualname.rsplit(".", 1)[-1].lower()
        assert all(word in name or word in function.summary.lower() for word in words), query
        made += 1
    assert made > 0.9 * len(functions)


def test_question_queries_restate_the_first_sentence(functions):
    made = 0
    for function in functions:
        question = question_query(function.summary)
        if question is None:
            continue
        assert question.endswith("?") and question.startswith(("How do I ", "What is ")), question
        # After the question's own words comes the end of the summary's first sentence: all but its first
        # word, or all after "True if" for a check.
        sentence = first_sentence(function.summary)
        tail = question[:-1].removeprefix("How do I check if ") if question.startswith("How do I check if ") else None
        rest = " ".join(sentence.split()[1:])
        assert question[:-1].endswith(rest) or (tail is not None and sentence.endswith(tail)), (question, sentence)
        made += 1
    assert made > 0.75 * len(functions)


@pytest.mark.parametrize("summary, question", [
    ("Return the number of items in the queue.", "How do I get the number of items in the queue?"),
    ("Returns True if the file is a directory, False otherwise.", "How do I check if the file is a directory?"),
    ("Whether the lock is held.", "How do I check whether the lock is held?"),
    ("Yield the lines of ``path`` one by one.", "How do I iterate over the lines of path one by one?"),
    ("Computes the :func:`hash` of a key. Slow.", "How do I compute the hash of a key?"),
    ("The default encoding of the platform.", "What is the default encoding of the platform?"),
    ("Like map(), but lazy.", None),
    (">>> f(1)", None),
])
def test_question_rule(summary, question):
    assert question_query(summary) == question


def test_words_and_verbs():
    assert name_words("Parser.getTokenStream") == ["get", "token", "stream"]
    assert name_words("_read_HTTPHeader") == ["read", "http", "header"]
    assert [imperative(v) for v in ("Copies", "Pushes", "Fixes", "Sets", "Access", "Focus")] == [
        "copy", "push", "fix", "set", "access", "focus"]
    assert keyword_query("f", "Do it.") is None  # fewer than two salient words


@pytest.mark.parametrize("kind", ["nl2code-keywords", "nl2code-question"])
def test_query_style_pairs_split_with_their_function(kind, functions):
    test_codes = {f.code for f in functions if is_held_out(f.identity, 0.1, 0)}
    train, test = mine_pairs(kind, split="train"), mine_pairs(kind, split="test")
    assert set(test["document"]) <= test_codes and not set(train["document"]) & test_codes
    assert len(set(train["query"])) == len(train)  # a query two functions share is kept once
    spec = DatasetSpec.from_dict({"source": "stdlib", "mining": {"kind": kind}, "max_samples": 5})
    assert spec.resolved_task_type == "nl2code" and len(load_pairs(spec)) == 5
