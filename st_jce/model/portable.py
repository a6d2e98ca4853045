"""The portable format: the same model as built-in sentence-transformers modules only.

``export_portable`` writes ``Transformer`` (tokenizer with the EOS and padding settings) →
``Pooling(pooling_mode="lasttoken")`` → ``Normalize``, with the ten prefixes as named ``prompts`` — the
format of the released ``jinaai/jina-code-embeddings-*`` models, which loads with a plain
``SentenceTransformer(path)``: no ``trust_remote_code``, no st-jce. ``from_portable`` goes back.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sentence_transformers.base.modules import Transformer
from sentence_transformers.sentence_transformer.modules import Pooling

from st_jce.atomic import atomic_directory
from st_jce.model.card import read_card_inputs, write_model_card
from st_jce.model.directory import MODULES_FILE, ModelDirectory, read_model_dir
from st_jce.model.embedder import CodeEmbedder, build_model
from st_jce.model.loading import resolve_model_dir
from st_jce.modules import LastTokenPooling, PrefixPrompt
from st_jce.prefixes import ROLES, TASK_TYPES, prompt_name

TRANSFORMER_TYPE = "sentence_transformers.base.modules.transformer.Transformer"
POOLING_TYPE = "sentence_transformers.sentence_transformer.modules.pooling.Pooling"
# Pooling modes of ST's Pooling that build_model can reproduce.
POOLING_FROM_MODE = {"lasttoken": "last_token", "mean": "mean"}


def export_portable(model: CodeEmbedder, path: str | os.PathLike) -> Path:
    """Write ``model`` as built-in sentence-transformers modules into ``path`` (atomically).

    Examples
    --------
    >>> import tempfile, st_jce
    >>> from sentence_transformers import SentenceTransformer
    >>> from st_jce.testing import random_qwen2
    >>> model = st_jce.build_model(str(random_qwen2(tempfile.mkdtemp())), dtype="float32")
    >>> plain = SentenceTransformer(str(st_jce.export_portable(model, tempfile.mkdtemp())))
    >>> plain.encode(["def f(): pass"], prompt_name="nl2code_document").shape
    (1, 64)
    """
    if not isinstance(model[0], PrefixPrompt):
        raise TypeError(f"export_portable needs an st-jce model (PrefixPrompt first), got {type(model[0]).__name__}.")
    path = Path(path)
    with atomic_directory(path) as staging:
        native = staging / "native"
        model.save_pretrained(str(native), create_model_card=False)  # the card below is the portable one
        modules = read_model_dir(native).modules
        for entry in modules:
            module = model[int(entry["idx"])]
            source = native / entry["path"]
            if isinstance(module, PrefixPrompt):
                entry["type"] = TRANSFORMER_TYPE
                config_file = source / PrefixPrompt.config_file_name
                config = json.loads(config_file.read_text())
                # Kept by the tokenizer and the named prompts instead, or meaningful to st-jce only.
                for key in set(PrefixPrompt.config_keys) - set(Transformer.config_keys):
                    config.pop(key, None)
                config_file.write_text(json.dumps(config, indent=2))
            elif isinstance(module, LastTokenPooling):
                entry["type"], entry["path"] = POOLING_TYPE, f"{entry['idx']}_Pooling"
                shutil.rmtree(source)
                source = native / entry["path"]
                source.mkdir()
                Pooling(module.get_embedding_dimension(), pooling_mode="lasttoken").save(str(source))
        (native / MODULES_FILE).write_text(json.dumps(modules, indent=2))
        for entry in native.iterdir():
            entry.rename(staging / entry.name)
        native.rmdir()
        write_model_card(staging, model=model, portable=True)
    return path


def from_portable(model_name_or_path: str | os.PathLike, *, max_seq_length: int | None = None,
                  dtype="auto", device: str | None = None, revision: str | None = None,
                  token: bool | str | None = None, cache_folder: str | None = None,
                  local_files_only: bool = False) -> CodeEmbedder:
    """Turn a portable directory or Hub id (e.g. ``jinaai/jina-code-embeddings-0.5b``) into an st-jce model.

    The prefixes come from its named prompts (``nl2code_query`` ...; missing ones keep st-jce's
    defaults), the pooling from its ``Pooling`` config, the EOS setting from its tokenizer.
    """
    directory = read_model_dir(resolve_model_dir(model_name_or_path, revision=revision, token=token,
                                                 cache_folder=cache_folder, local_files_only=local_files_only))
    modules = directory.modules
    if not modules or modules[0]["type"].rsplit(".", 1)[-1] != "Transformer":
        raise ValueError(f"{directory.path / MODULES_FILE}: the first module must be a sentence-transformers "
                         f"Transformer, got {modules[0]['type'] if modules else 'nothing'}; is this a portable st-jce "
                         f"model? (its format: {directory.format})")
    pooling = "last_token"
    for entry in modules:
        if entry["type"].rsplit(".", 1)[-1] == "Pooling":
            mode = directory.read_json(Path(entry["path"]) / "config.json").get("pooling_mode", "lasttoken")
            if mode not in POOLING_FROM_MODE:
                raise ValueError(f"{directory.path / entry['path']}: pooling_mode {mode!r} is not supported; "
                                 f"st-jce models use one of {sorted(POOLING_FROM_MODE)}.")
            pooling = POOLING_FROM_MODE[mode]
    from st_jce.prefixes import PREFIXES

    prompts = directory.prompts
    prefixes = {task: {role: prompts.get(prompt_name(task, role), PREFIXES[task][role]) for role in ROLES}
                for task in TASK_TYPES}
    model = build_model(str(directory.path), max_seq_length=max_seq_length or _saved_max_seq_length(directory),
                        dtype=dtype, pooling=pooling, prefixes=prefixes, device=device)
    model.card_inputs = read_card_inputs(directory.path)
    return model


def _saved_max_seq_length(directory: ModelDirectory) -> int:
    for name, key in (("sentence_bert_config.json", "max_seq_length"), ("tokenizer_config.json", "model_max_length")):
        if isinstance(directory.read_json(name).get(key), int):
            return directory.read_json(name)[key]
    return 512
