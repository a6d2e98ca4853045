import pytest
import torch

from st_jce import LastTokenPooling


def hand_pooled(token_embeddings, attention_mask):
    """The hidden state at the last position whose mask is 1, found by a plain Python loop."""
    rows = []
    for row, mask in zip(token_embeddings, attention_mask.tolist()):
        last = max(i for i, m in enumerate(mask) if m == 1)
        rows.append(row[last])
    return torch.stack(rows)


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_pools_last_real_token_for_mixed_lengths(padding_side):
    torch.manual_seed(0)
    lengths = [5, 2, 7, 1]
    width = max(lengths)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for i, n in enumerate(lengths):
        if padding_side == "right":
            mask[i, :n] = 1
        else:
            mask[i, width - n:] = 1
    tokens = torch.randn(len(lengths), width, 8)
    pooled = LastTokenPooling(8)({"token_embeddings": tokens, "attention_mask": mask})["sentence_embedding"]
    torch.testing.assert_close(pooled, hand_pooled(tokens, mask), rtol=0, atol=0)


def test_flattened_batch_matches_padded_batch():
    torch.manual_seed(1)
    lengths = [3, 6, 1]
    sequences = [torch.randn(n, 4) for n in lengths]
    flat = torch.cat(sequences).unsqueeze(0)
    cu_seq_lens = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    pooled = LastTokenPooling(4)({"token_embeddings": flat, "cu_seq_lens_q": cu_seq_lens})["sentence_embedding"]
    torch.testing.assert_close(pooled, torch.stack([s[-1] for s in sequences]), rtol=0, atol=0)


def test_all_padding_row_is_an_error():
    tokens = torch.randn(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        LastTokenPooling(4)({"token_embeddings": tokens, "attention_mask": mask})


def test_config_round_trip(tmp_path):
    LastTokenPooling(896).save(str(tmp_path))
    loaded = LastTokenPooling.load(str(tmp_path))
    assert loaded.get_config_dict() == {"embedding_dimension": 896}
    assert loaded.get_embedding_dimension() == 896
