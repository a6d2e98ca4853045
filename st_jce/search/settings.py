"""The choices and defaults of ``st-jce index`` and ``st-jce search``, in one light module: the command line reads
them without importing the wing's extra (pyarrow, usearch, Ray), and the wing's modules define no other copy.

Examples
--------
>>> PRECISIONS, ENGINES, TESTS_MODES
(('float32', 'int8', 'binary'), ('local', 'multiprocess', 'ray'), ('auto', 'last', 'exclude', 'ranked'))
"""

PRECISIONS = ("float32", "int8", "binary")  # stored precision, through sentence-transformers' quantize_embeddings
ENGINES = ("local", "multiprocess", "ray")  # one process, a sentence-transformers pool, Ray Data actors
APPROXIMATE_MODES = ("auto", "always", "never")
# Below this many chunks exact search is fast enough that the approximate index is not built ("auto";
# figures in docs/search.md).
APPROXIMATE_MIN_ROWS = 20_000
DEFAULT_SHARD_SIZE = 512  # chunks per shard: what a kill can lose, and how often progress is saved
DEFAULT_BATCH_SIZE = 32  # rows per forward at most
MAX_FILE_BYTES = 1_000_000  # larger source files are nearly always generated or data
TESTS_MODES = ("auto", "last", "exclude", "ranked")  # where hits from test files go (st_jce.search.ranking)
# A hit's score adds this share of its enclosing unit's similarity (st_jce.search.context; chosen on this
# repository's questions under three seeds' models: docs/search.md).
CONTEXT_WEIGHT = 0.5
