"""The choices and defaults of ``st-jce index``, ``st-jce search`` and ``st-jce mcp``, in one light module: the command line reads
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
# A chunk's relevance adds this share of its normalized BM25 score for the query (st_jce.search.lexical), for
# queries of at least LEXICAL_MIN_WORDS words: a bug report's identifiers are what its embedding dilutes, while a
# short question is what the embedding models are trained on and its few words' BM25 ranked worse (both chosen on
# the repository-search development set and this repository's questions: docs/search.md).
LEXICAL_WEIGHT = 0.3
LEXICAL_MIN_WORDS = 32
# st-jce index --watch: changes are gathered until the tree has been quiet this long, then indexed at once.
WATCH_DEBOUNCE_MS = 300
MCP_TRANSPORTS = ("stdio", "streamable-http")  # st-jce mcp: to an agent that starts it, or over HTTP
MCP_HOST, MCP_PORT = "127.0.0.1", 8765  # streamable HTTP: this machine only, unless asked
# st-jce search --by: results are units (functions, methods, classes, module code) or the files holding them,
# each file listed with this many of its best units (st_jce.search.by_file).
SEARCH_BY = ("unit", "file")
UNITS_PER_FILE = 3
