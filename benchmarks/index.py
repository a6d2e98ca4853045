"""`st-jce index` / `st-jce search` measured: indexing throughput, search quality, search latency, in one run.

1. ``throughput``: ``build_index`` of a source tree (default: this checkout's ``st_jce/``) against the
   loop a user writes today over the same chunks: ``export_portable`` of the model loaded with a plain
   ``SentenceTransformer``, ``encode(batch, prompt_name=...)`` 32 texts at a time, the vectors saved with
   ``np.save`` (the baseline gets the chunks for free; st-jce's time includes reading, chunking, hashing,
   Parquet shards and the manifest). Both at the model's default dtype, for each ``--models`` entry:
   ``minilm`` (the CPU demo's weights, mean pooling) and ``qwen-0.5b`` (the Qwen2.5-Coder-0.5B shape
   with random weights, ~2 GB under ``--work-dir``, on the ``--qwen-source`` sub-tree); best of
   ``--repeats`` alternating rounds, wall and process-CPU time;
2. ``ray``: ``--engine ray`` (Ray Data, ``--ray-workers`` actors) against ``--engine local``, MiniLM, same
   tree; wall time with Ray's start, and the embedding time alone;
3. ``quality``: MBPP (``../shared/data/mbpp``) nDCG@10 through ``build_index`` + ``Index.search`` against
   st-jce's own evaluator (``LocalRetrievalEvaluator.ndcg_by_dim``, exact cosine) with the same MiniLM
   model at fp32, at every precision and Matryoshka dim;
4. ``latency``: single-query search latency (p50 / p99 over ``--queries`` queries, one thread) on
   ``--rows`` random unit vectors at each ``--dims``: exact (``st_jce.search.vectors``, numpy) against
   the usearch HNSW graph st-jce builds and, for the choice of library, FAISS ``IndexHNSWFlat`` with the
   same degree and beam widths (``usearch`` / ``faiss``: the libraries alone; ``st_jce_approximate``: the
   graph plus st-jce's exact rescoring of its candidates, what ``Index.search`` runs after encoding the
   query); recall@10 against exact, build time. Two distributions: ``clustered``
   (vectors around 1,000 centres, as embeddings of a real corpus are) and ``isotropic`` (Gaussian: no
   structure at all, the worst case of any graph index);
5. ``ranking``: what ``Index.search`` adds after encoding the query, on a source-tree index of ``--rows``
   chunks (the Python standard library chunked by st-jce, in numbered copies where it has fewer) with
   clustered random vectors at each ``--dims``: p50 / p99 with context scores (the default weight) against
   similarity alone (weight 0), exact and through the graph, and how many of the graph's top 10 are the
   exact search's.

Usage (st-jce installed with the ``index`` extra; ``faiss-cpu`` for the FAISS rows)::

    python benchmarks/index.py --output index.json                  # everything, ~40 min on 2 shared cores
    python benchmarks/index.py --sections latency --dims 128 --rows 20000   # a quick look
    python benchmarks/index.py --sections ranking --dims 384 --queries 50   # context scores' cost, ~2 min
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np
from encode import machine, time_sides
from sentence_transformers import SentenceTransformer
from workspace import real_qwen2, shared_dir

import st_jce
from st_jce.backbones import minilm_dir
from st_jce.data.beir import read_beir_folder
from st_jce.evaluation.ndcg import ndcg_at_k
from st_jce.search import Index, build_index
from st_jce.search import approximate as usearch_graph
from st_jce.search.chunking import chunk_source
from st_jce.search.settings import CONTEXT_WEIGHT
from st_jce.search.store import ShardStore
from st_jce.search.vectors import exact_top_k
from st_jce.training.evaluator import LocalRetrievalEvaluator

CHECKOUT = Path(__file__).resolve().parents[1]
SECTIONS = ("throughput", "ray", "quality", "latency", "ranking")
BASELINE_BATCH = 32


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {SECTIONS}")
    parser.add_argument("--source", default=str(CHECKOUT / "st_jce"), help="tree for throughput and ray")
    parser.add_argument("--models", default="minilm,qwen-0.5b", help="throughput models: minilm, qwen-0.5b")
    parser.add_argument("--qwen-source", default=str(CHECKOUT / "st_jce" / "search"), help="tree for qwen-0.5b")
    parser.add_argument("--repeats", type=int, default=2, help="throughput rounds per side, alternating")
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dims", default="896,128")
    parser.add_argument("--distributions", default="clustered,isotropic")
    parser.add_argument("--libraries", default="usearch,faiss")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work-dir", default=None, help="scratch space (default: a temporary folder)")
    parser.add_argument("--output", help="write the report as JSON here")
    args = parser.parse_args(argv)
    sections = args.sections.split(",")
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="st-jce-index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report = {"machine": {**machine(), "cpu": _cpu_name()}, "arguments": vars(args)}
    minilm = _minilm_model_dir(work)
    if "throughput" in sections:
        report["throughput"] = [measure_throughput(name, model_dir, source, work, args.repeats)
                                for name, model_dir, source in _throughput_models(args, work, minilm)]
    if "ray" in sections:
        report["ray"] = measure_ray(minilm, Path(args.source), work, args.ray_workers)
    if "quality" in sections:
        report["quality"] = measure_quality(work)
    if "latency" in sections:
        report["latency"] = [measure_latency(args.rows, int(dim), distribution, args.queries, args.libraries.split(","))
                             for distribution in args.distributions.split(",") for dim in args.dims.split(",")]
    if "ranking" in sections:
        report["ranking"] = [measure_ranking(args.rows, int(dim), args.queries, work) for dim in args.dims.split(",")]
    text = json.dumps(report, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    return 0


def measure_throughput(name: str, model_dir: Path, source: Path, work: Path, repeats: int) -> dict:
    """Texts/s of ``build_index`` against the hand-written ``SentenceTransformer.encode`` loop over the same
    chunks; best of ``repeats`` alternating rounds (the first round of each side pays the warm-up)."""
    out = work / f"throughput-{name}"
    model = st_jce.load(model_dir)

    def st_jce_index() -> dict:
        shutil.rmtree(out, ignore_errors=True)  # a full build every round, not an incremental no-op
        return build_index(source, out, model, show_progress=False)

    st_jce_index()
    texts = ShardStore(out).read(["text"]).column("text").to_pylist()
    baseline = SentenceTransformer(str(st_jce.export_portable(model, work / f"portable-{name}")))

    def hand_written_loop() -> None:
        vectors = [baseline.encode(texts[start:start + BASELINE_BATCH], prompt_name="nl2code_document")
                   for start in range(0, len(texts), BASELINE_BATCH)]
        np.save(work / f"baseline-{name}.npy", np.concatenate(vectors))

    timings = time_sides({"st_jce": st_jce_index, "baseline": hand_written_loop}, repeats)
    st_side, base_side = timings["st_jce"], timings["baseline"]
    return {"model": name, "source": str(source), "chunks": len(texts), "dtype": str(model[0].auto_model.dtype),
            "baseline_dtype": str(baseline[0].auto_model.dtype), "repeats": repeats,
            "st_jce_index_s": round(st_side["wall_s"], 2), "st_jce_texts_per_s": round(len(texts) / st_side["wall_s"], 2),
            "baseline_s": round(base_side["wall_s"], 2), "baseline_texts_per_s": round(len(texts) / base_side["wall_s"], 2),
            "ratio": round(base_side["wall_s"] / st_side["wall_s"], 2),
            "cpu_ratio": round(base_side["cpu_s"] / st_side["cpu_s"], 2),
            "st_jce_embedding_s": st_side["output"]["stats"]["embedding_seconds"]}


def measure_ray(model_dir: Path, source: Path, work: Path, workers: int) -> dict:
    """``engine="ray"`` against ``engine="local"``, each in a fresh process (Ray's start counts)."""
    figures = {}
    for engine in ("local", "ray"):
        out = work / f"engine-{engine}"
        shutil.rmtree(out, ignore_errors=True)
        job = (f"from st_jce.search import build_index; build_index({str(source)!r}, {str(out)!r}, {str(model_dir)!r}, "
               f"engine={engine!r}, workers={workers}, show_progress=False)")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", job], check=True, capture_output=True)
        stats = json.loads((out / "manifest.json").read_text())["stats"]
        figures[engine] = {"wall_s": round(time.perf_counter() - started, 2), "embedding_s": stats["embedding_seconds"],
                           "chunks": stats["chunks"]}
    figures["ratio_wall"] = round(figures["local"]["wall_s"] / figures["ray"]["wall_s"], 2)
    figures["ratio_embedding"] = round(figures["local"]["embedding_s"] / figures["ray"]["embedding_s"], 2)
    figures["ray_workers"] = workers
    return figures


def measure_quality(work: Path) -> dict:
    """MBPP nDCG@10 through index + search vs st-jce's evaluator, at each precision and Matryoshka dim."""
    folder = shared_dir() / "data" / "mbpp"
    model = st_jce.build_model(str(minilm_dir()), pooling="mean", dtype="float32")
    full = model.get_embedding_dimension()
    dims = [full, 256, 128, 64]
    evaluator = LocalRetrievalEvaluator([f"{folder}:nl2code"], work / "eval").ndcg_by_dim(model, folder, "nl2code", dims)
    data = read_beir_folder(folder)
    query_ids = list(data.qrels)
    rows = []
    for precision in ("float32", "int8", "binary"):
        for dim in dims:
            out = work / f"mbpp-{precision}-{dim}"
            shutil.rmtree(out, ignore_errors=True)
            build_index(folder, out, model, dim=dim, precision=precision, show_progress=False)
            hits = Index(out, model=model).search([data.queries[query_id] for query_id in query_ids], k=10, exact=True)
            ndcg = ndcg_at_k({query_id: [hit.id for hit in found] for query_id, found in zip(query_ids, hits)},
                             data.qrels, k=10)
            rows.append({"precision": precision, "dim": dim, "index_ndcg_at_10": round(ndcg, 4),
                         "evaluator_fp32_ndcg_at_10": round(evaluator[dim], 4),
                         "difference": round(ndcg - evaluator[dim], 4),
                         "loss_vs_full_fp32": round(evaluator[full] - ndcg, 4)})
    return {"model": "all-MiniLM-L6-v2, mean pooling, fp32", "queries": len(query_ids), "documents": len(data.corpus),
            "rows": rows}


def measure_latency(rows: int, dim: int, distribution: str, query_count: int, libraries: list[str]) -> dict:
    """p50 / p99 single-query latency, recall@10 and build time of exact search and of the graph indexes."""
    vectors, queries = _random_vectors(rows, dim, distribution, query_count)
    exact_rows, exact_ms = _per_query(lambda query: exact_top_k(query[None], vectors, "float32", None, 10)[0][0], queries)
    figures = {"rows": rows, "dim": dim, "distribution": distribution, "exact": _latency(exact_ms)}
    for library in [*libraries, "st_jce_approximate"]:
        search, build_s = _build_graph(library, vectors)
        if search is None:
            continue
        found, elapsed = _per_query(search, queries)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, exact_rows)]))
        figures[library] = {**_latency(elapsed), "recall_at_10": round(recall, 4), "build_s": round(build_s, 1)}
    return figures


def measure_ranking(rows: int, dim: int, query_count: int, work: Path) -> dict:
    """p50 / p99 of ``Index.search_embeddings`` (k=10) with and without context scores, exact and through the
    graph, on a standard-library index of ``rows`` chunks with clustered random vectors."""
    vectors, queries = _random_vectors(rows, dim, "clustered", query_count)
    index = Index(_stdlib_index(work / f"ranking-{rows}-{dim}", vectors))
    figures = {"rows": rows, "dim": dim, "units": int(index.contexts.unit_of_row.max()) + 1}
    for weight in (0.0, CONTEXT_WEIGHT):
        for exact in (True, False):
            hits, elapsed = _per_query(lambda query, exact=exact, weight=weight: index.search_embeddings(
                query[None], exact=exact, context_weight=weight)[0], queries)
            figures[f"weight {weight}, {'exact' if exact else 'approximate'}"] = _latency(elapsed)
            if exact:
                exact_hits = hits
        figures[f"weight {weight}, approximate top 10 in exact top 10"] = round(float(np.mean(
            [len({hit.id for hit in a} & {hit.id for hit in b}) / 10 for a, b in zip(hits, exact_hits)])), 4)
    return figures


def _stdlib_index(directory: Path, vectors: np.ndarray) -> Path:
    """An index directory of the standard library's chunks (numbered copies of it until there is one per
    vector) with ``vectors`` as their embeddings, and its approximate graph."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(file for file in stdlib.rglob("*.py") if "site-packages" not in file.parts)
    chunks = []
    for copy, file in ((copy, file) for copy in itertools.count() for file in files):
        if len(chunks) >= len(vectors):
            break
        text = file.read_text(encoding="utf-8", errors="replace")
        chunks += chunk_source(text, f"copy{copy}/{file.relative_to(stdlib).as_posix()}")
    chunks = chunks[:len(vectors)]
    shutil.rmtree(directory, ignore_errors=True)
    store = ShardStore(directory)
    store.append(chunks, {chunk.unit: "" for chunk in chunks}, vectors)
    usearch_graph.build_approximate(vectors, "float32", directory / usearch_graph.APPROXIMATE_FILE)
    store.write_manifest({"complete": True, "approximate": {"file": usearch_graph.APPROXIMATE_FILE},
                          "settings": {"dim": vectors.shape[1], "precision": "float32", "task_type": "nl2code",
                                       "name": "random vectors"}})
    return directory


def _build_graph(library: str, vectors: np.ndarray):
    """A per-query search function over ``vectors`` and the seconds its graph took to build."""
    started = time.perf_counter()
    if library in ("usearch", "st_jce_approximate"):
        path = Path(tempfile.mkdtemp()) / usearch_graph.APPROXIMATE_FILE
        usearch_graph.build_approximate(vectors, "float32", path)
        graph = usearch_graph.open_approximate(path)
        if library == "usearch":  # the library alone
            return lambda query: graph.search(query, 10, threads=1).keys, time.perf_counter() - started
        # what Index.search runs after encoding the query: the graph, then the exact scores of its candidates
        return (lambda query: usearch_graph.approximate_top_k(graph, query[None], vectors, "float32", None, 10)[0][0],
                time.perf_counter() - started)
    try:
        import faiss
    except ImportError:
        print("faiss rows skipped: pip install faiss-cpu", file=sys.stderr)
        return None, 0.0
    graph = faiss.IndexHNSWFlat(vectors.shape[1], usearch_graph.CONNECTIVITY, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = usearch_graph.EXPANSION_ADD
    graph.add(vectors)
    graph.hnsw.efSearch = usearch_graph.EXPANSION_SEARCH
    faiss.omp_set_num_threads(1)  # single-query latency on one thread, as usearch's search above
    return lambda query: graph.search(query[None], 10)[1][0], time.perf_counter() - started


def _per_query(search, queries: np.ndarray) -> tuple[list, np.ndarray]:
    results, elapsed = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(search(query))
        elapsed.append((time.perf_counter() - started) * 1000)
    return results, np.array(elapsed)


def _latency(milliseconds: np.ndarray) -> dict:
    return {"p50_ms": round(float(np.percentile(milliseconds, 50)), 3),
            "p99_ms": round(float(np.percentile(milliseconds, 99)), 3)}


def _random_vectors(rows: int, dim: int, distribution: str, query_count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    if distribution == "clustered":
        centres = rng.standard_normal((1000, dim), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        spread = 1.0 / np.sqrt(dim)  # noise as long as the centre: neighbours are near, not duplicates
        vectors = centres[rng.integers(0, 1000, rows)] + spread * rng.standard_normal((rows, dim), dtype=np.float32)
        queries = centres[rng.integers(0, 1000, query_count)] + spread * rng.standard_normal((query_count, dim),
                                                                                            dtype=np.float32)
    else:
        vectors = rng.standard_normal((rows, dim), dtype=np.float32)
        queries = rng.standard_normal((query_count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return vectors, queries


def _throughput_models(args, work: Path, minilm: Path) -> list[tuple[str, Path, Path]]:
    models = []
    for name in args.models.split(","):
        if name == "minilm":
            models.append((name, minilm, Path(args.source)))
        elif name == "qwen-0.5b":
            folder = work / "qwen-0.5b-model"
            if not (folder / "modules.json").is_file():
                st_jce.build_model(str(real_qwen2(work / "qwen-0.5b-backbone", "0.5b"))).save_pretrained(str(folder))
            models.append((name, folder, Path(args.qwen_source)))
    return models


def _minilm_model_dir(work: Path) -> Path:
    """The CPU demo's model: MiniLM with mean pooling, saved as an st-jce model at its default dtype."""
    folder = work / "minilm-mean"
    if not (folder / "modules.json").is_file():
        st_jce.build_model(str(minilm_dir()), pooling="mean").save_pretrained(str(folder))
    return folder


def _cpu_name() -> str:
    lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name")), "unknown")


if __name__ == "__main__":
    sys.exit(main())
