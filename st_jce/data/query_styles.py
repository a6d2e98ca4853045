"""Queries in the styles people type, made by rule from a mined function's name and docstring (no model).

- :func:`keyword_query` (kind ``nl2code-keywords``): a web-search-style query, 2 to 6 lowercase words: the
  words of the function's name, then the salient words of the docstring's first sentence (stop words and
  the docstring verbs every function shares dropped), each word once;
- :func:`question_query` (kind ``nl2code-question``): ``"How do I <first sentence as an imperative>?"``:
  a third-person verb made imperative (``Returns`` -> ``return``), ``Return True if ...`` / ``Whether ...``
  made ``check if ...``, ``Return ...`` / ``Get ...`` made ``get ...``, ``Yield ...`` made ``iterate over
  ...``; a sentence that starts with an article becomes ``"What is <sentence>?"``; one that starts with
  anything else that is no verb (``Like``, ``Called``, ``Helper``, code) gives no question.

Examples
--------
>>> keyword_query("sort_by_value", "Return the items of the dictionary sorted by their value.")
'sort value items dictionary sorted'
>>> question_query("Returns the items of the dictionary sorted by their value.")
'How do I get the items of the dictionary sorted by their value?'
>>> question_query("Return True if the path is a mount point.")
'How do I check if the path is a mount point?'
>>> question_query("Like map(), but lazily.") is None
True
"""

from __future__ import annotations

import re

MIN_KEYWORDS, MAX_KEYWORDS = 2, 6
# English function words and the verbs and nouns of docstring boilerplate: no one searches for them.
STOP_WORDS = frozenset("""
a an the and or but nor not no of to in on at by for from with without into onto over under as is are was were
be been being it its this that these those which who whom whose what when where why how if else then than so
such can could may might must shall should will would do does did done has have had having there here all any
each every some both either neither one ones same other another more most less least very also only just
return returns returned get gets given give gives specified specify use used uses using call called calls
object objects instance method function helper internal true false none whether else otherwise via per
new set sets methods class self param parameter parameters argument arguments etc their them they his her
our we you your its about again further until while through during above below
""".split())
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# rst roles and literals (:func:`name`, ``code``), markdown backticks and *emphasis*
_MARKUP = re.compile(r":[\w:.-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`|`+([^`]*)`+|\*+([^*]+)\*+")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?;](?:\s|$)")
_OTHERWISE = re.compile(r",?\s*(?:and|or)?\s*(?:False|None|-1)\s+otherwise$")
ARTICLES = frozenset({"a", "an", "the", "this", "these"})
# First words that start no instruction: a comparison, an event, a description of what the function is.
NOT_VERBS = frozenset({"like", "same", "called", "helper", "internal", "given", "if", "see", "deprecated", "alias",
                       "note", "used", "override", "overrides", "decorator", "wrapper", "shortcut", "version",
                       "convenience", "default", "private", "public", "hook", "callback", "utility", "only",
                       "when", "for", "in", "on", "as", "by", "with", "from", "to", "it", "all", "each", "an",
                       "abstract", "subclasses", "implementation", "main", "simple", "basic", "generic",
                       "equivalent", "backport", "compatibility", "legacy", "new", "old", "special"})
ONE_WORD_QUESTIONS = {"return": "get", "get": "get", "yield": "iterate over", "whether": "check whether",
                      "true": "check"}


def plain_text(text: str) -> str:
    """``text`` on one line without rst / markdown markup.

    >>> plain_text("Return the :class:`~pathlib.Path` of ``name``  *now*.")
    'Return the pathlib.Path of name now.'
    """
    return " ".join(_MARKUP.sub(lambda m: next(group for group in m.groups() if group is not None), text).split())


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` in plain text, without its final stop.

    >>> first_sentence("Split the path, e.g. on slashes. Then join it.")
    'Split the path, e.g. on slashes'
    >>> first_sentence("Return True if the key exists, False otherwise.")
    'Return True if the key exists'
    """
    plain = plain_text(text)
    end = _SENTENCE_END.search(plain)
    return _OTHERWISE.sub("", (plain[:end.start()] if end else plain).rstrip(" .!?:;"))


def name_words(name: str) -> list[str]:
    """The lowercase words of an identifier (snake_case and camelCase), the qualified name's last part only.

    >>> name_words("HTTPServer.get_requestLine")
    ['get', 'request', 'line']
    """
    return [word.lower() for word in _WORD.findall(name.rsplit(".", 1)[-1])]


def keyword_query(name: str, summary: str) -> str | None:
    """The keyword query of a function (see the module docstring), or ``None`` if fewer than 2 words remain."""
    words = [*name_words(name), *re.findall(r"[a-z]+", first_sentence(summary).lower())]
    kept = [word for word in dict.fromkeys(words) if len(word) > 2 and word not in STOP_WORDS]
    return " ".join(kept[:MAX_KEYWORDS]) if len(kept) >= MIN_KEYWORDS else None


def imperative(verb: str) -> str:
    """A third-person singular verb in the imperative: ``Returns`` -> ``return``, ``Applies`` -> ``apply``.

    >>> [imperative(v) for v in ("Returns", "Applies", "Matches", "Uses", "Process", "Sort")]
    ['return', 'apply', 'match', 'use', 'process', 'sort']
    """
    word = verb.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def question_query(summary: str) -> str | None:
    """The question of a function's summary (see the module docstring), or ``None`` where the rule gives none."""
    sentence = first_sentence(summary)
    words = sentence.split()
    if len(words) < 2 or not words[0].isalpha() or not words[0][0].isupper():
        return None
    first, rest = words[0].lower(), words[1:]
    if first in ARTICLES:
        return f"What is {first} {' '.join(rest)}?"
    verb = imperative(first)
    if first in NOT_VERBS or verb in NOT_VERBS:
        return None
    if verb == "return" and rest[0] in ("True", "true") and len(rest) > 2 and rest[1] in ("if", "when", "iff"):
        verb, rest = "check", ["if", *rest[2:]]
    elif verb in ONE_WORD_QUESTIONS:
        verb = ONE_WORD_QUESTIONS[verb]
    return f"How do I {verb} {' '.join(rest)}?"
