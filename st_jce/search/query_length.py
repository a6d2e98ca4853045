"""How much of a query the model reads: one longer than the model's ``max_seq_length`` is cut, and search says so.

An issue pasted as a query (a description, a stack trace) can run past ``max_seq_length``; the model then embeds
its first tokens only, and a search that said nothing would rank by a query the user did not write.
:func:`query_length` counts a query's tokens as the model's input module tokenizes it (the query prefix before it,
the special tokens around it) and, for one that is too long, finds the part of it that is kept;
:meth:`st_jce.search.Index.search` logs :meth:`QueryLength.message` and its results carry the count.

Examples
--------
>>> length = QueryLength(tokens=700, limit=512, query_characters=2900,
...                      kept_text="st-jce index fails with KeyError when the config has no model")
>>> length.truncated
True
>>> print(length.message())  # doctest: +NORMALIZE_WHITESPACE
The query is 700 tokens long with its prefix, more than the model's max_seq_length of 512: only its first 512 tokens
are embedded, the first 61 of its 2900 characters (up to '...th KeyError when the config has no model'). Shorten it to
what matters (the title, the error line), or use a model with a longer max_seq_length.
"""

from __future__ import annotations

from dataclasses import dataclass

TAIL_CHARACTERS = 40  # of the kept text, quoted in the warning so the user sees where the cut fell


@dataclass(frozen=True)
class QueryLength:
    """A query's length in the model's tokens, against the model's limit.

    Attributes
    ----------
    tokens : int
        The query's tokens with its prefix and the tokenizer's special tokens: what the model would read uncut.
    limit : int or None
        The model's ``max_seq_length`` (``None``: no limit).
    query_characters : int
        The query's length in characters.
    kept_text : str or None
        The start of the query the model reads, when it is cut (``None`` when it is not, or when a slow tokenizer
        cannot say where the cut fell).
    """

    tokens: int
    limit: int | None
    query_characters: int
    kept_text: str | None = None

    @property
    def truncated(self) -> bool:
        """Whether the model reads only the query's first tokens."""
        return self.limit is not None and self.tokens > self.limit

    def message(self) -> str:
        """What search warns of a query that is cut: its token count, the limit and what was kept."""
        kept = ""
        if self.kept_text is not None:
            tail = self.kept_text[-TAIL_CHARACTERS:]
            kept = (f", the first {len(self.kept_text)} of its {self.query_characters} characters "
                    f"(up to '{'...' if len(self.kept_text) > len(tail) else ''}{tail}')")
        return (f"The query is {self.tokens} tokens long with its prefix, more than the model's max_seq_length of "
                f"{self.limit}: only its first {self.limit} tokens are embedded{kept}. Shorten it to what matters "
                "(the title, the error line), or use a model with a longer max_seq_length.")


def query_length(model, query: str, prefix: str) -> QueryLength:
    """The length of ``query`` after ``prefix`` as ``model`` (a sentence-transformers model) tokenizes it: its
    tokenizer, with the special tokens it adds, against its ``max_seq_length``."""
    tokenizer, limit, text = model.tokenizer, model.max_seq_length, prefix + query
    tokens = len(tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])
    length = QueryLength(tokens, limit, len(query))
    if not length.truncated or not tokenizer.is_fast:  # offsets come from fast (Rust) tokenizers only
        return length
    # The input module truncates the same way: the first tokens, the closing special tokens kept.
    offsets = tokenizer(text, add_special_tokens=True, truncation=True, max_length=limit,
                        return_offsets_mapping=True)["offset_mapping"]
    kept_end = max(end for _, end in offsets) - len(prefix)
    return QueryLength(tokens, limit, len(query), query[:max(kept_end, 0)])
