"""Chunking throughput per language on the source trees installed on this machine, against Python's ``ast`` chunker.

1. ``languages``: ``chunk_source`` (parse, walk, cut into units; no token budget) over up to ``--max-files``
   files of each language found under ``--roots`` (site-packages, the standard library, /usr/include,
   node_modules, ...): files, MB, chunks, definitions, files that fell back to line windows, MB/s and
   units/s, best of ``--repeats`` in process CPU time (steadier than wall time on a shared machine); the
   ratio of each language's MB/s to Python's, which goes through ``ast`` as before (the baseline, same run);
2. ``python_parsers``: on the same Python files, the bare parsers: ``ast.parse`` against tree-sitter-python's
   ``Parser.parse`` (what cutting Python by tree-sitter would start from);
3. ``share``: what parsing costs next to the rest of indexing, on a sample of ``--share-files`` files per
   language: wall milliseconds per chunk of ``chunk_source`` alone, with the token-budget split ``st-jce
   index`` adds (the model's tokenizer counting every line), and of embedding (``--share-chunks`` of the
   chunks, evenly spread) with the CPU demo's model (all-MiniLM-L6-v2, the fastest model st-jce indexes
   with; a Qwen2.5-Coder model embeds ~10x slower, see docs/search.md).

Usage::

    python benchmarks/chunking.py --output chunking.json
    python benchmarks/chunking.py --max-files 200 --repeats 1 --share-files 0   # a quick look
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import sysconfig
import time
from pathlib import Path

from encode import machine

from st_jce.search.chunking import chunk_source
from st_jce.search.languages import language_for
from st_jce.search.settings import MAX_FILE_BYTES
from st_jce.search.syntax_units import outline

DEFAULT_ROOTS = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], "/usr/include", "/usr/lib/node_modules",
                 "/usr/lib/google-cloud-sdk", "/usr/share", str(Path.home() / "go"), str(Path.home() / ".cargo"),
                 str(Path.home() / ".rustup"))
UNIT_KINDS = ("function", "method", "class")


def find_sources(roots: list[str], max_files: int) -> dict[str, list[tuple[str, str]]]:
    """Up to ``max_files`` ``(path, text)`` per language under ``roots``, in sorted walk order (UTF-8 files under
    st-jce's size limit; a language without a grammar here is skipped)."""
    found: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for root in roots:
        for folder, folders, files in os.walk(root):
            folders.sort()
            for name in sorted(files):
                path = os.path.join(folder, name)
                language = "python" if name.endswith(".py") else None
                if language is None and ("." not in name or language_for(name, "") is None):
                    continue
                real = os.path.realpath(path)
                if real in seen or not os.path.isfile(real) or os.path.getsize(real) > MAX_FILE_BYTES:
                    continue
                try:
                    text = Path(real).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                language = language or language_for(name, text).name
                if len(found.setdefault(language, [])) < max_files:
                    seen.add(real)
                    found[language].append((path, text))
    return found


def best_seconds(function, arguments: list[tuple], repeats: int, clock=time.process_time) -> float:
    """The best of ``repeats`` timings of calling ``function`` on each of ``arguments``; the results are dropped
    as they come (kept, a million syntax trees would time the garbage collector)."""
    best = float("inf")
    for _ in range(repeats):
        started = clock()
        for argument in arguments:
            function(*argument)
        best = min(best, clock() - started)
    return best


def measure_language(files: list[tuple[str, str]], repeats: int) -> dict:
    chunks = [chunk for path, text in files for chunk in chunk_source(text, path)]
    seconds = best_seconds(chunk_source, [(text, path) for path, text in files], repeats)
    megabytes = sum(len(text.encode("utf-8")) for _, text in files) / 1e6
    units = sum(chunk.kind in UNIT_KINDS for chunk in chunks)
    return {"files": len(files), "megabytes": round(megabytes, 2), "chunks": len(chunks), "units": units,
            "fallback_files": sum(outline(text, path) is None for path, text in files), "seconds": round(seconds, 3),
            "mb_per_second": round(megabytes / seconds, 2), "units_per_second": round(units / seconds, 1)}


def measure_python_parsers(files: list[tuple[str, str]], repeats: int) -> dict:
    import tree_sitter
    import tree_sitter_python

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language()))
    parsable = []
    for _, text in files:
        try:
            ast.parse(text)
            parsable.append(text)
        except (SyntaxError, ValueError):
            continue
    encoded = [text.encode("utf-8") for text in parsable]
    megabytes = sum(map(len, encoded)) / 1e6
    ast_seconds = best_seconds(ast.parse, [(text,) for text in parsable], repeats)
    tree_sitter_seconds = best_seconds(parser.parse, [(source,) for source in encoded], repeats)
    return {"files": len(parsable), "megabytes": round(megabytes, 2),
            "ast_mb_per_second": round(megabytes / ast_seconds, 2),
            "tree_sitter_mb_per_second": round(megabytes / tree_sitter_seconds, 2),
            "tree_sitter_vs_ast": round(ast_seconds / tree_sitter_seconds, 2)}


def measure_share(files: list[tuple[str, str]], repeats: int, embedded: int) -> dict:
    """Wall seconds per chunk: cutting alone, cutting to MiniLM's token budget, and embedding ``embedded``
    chunks with MiniLM (its threads run in parallel: process time would count each of them)."""
    import st_jce
    from st_jce.backbones import minilm_dir

    model = st_jce.build_model(str(minilm_dir()), pooling="mean")
    tokenizer = model.tokenizer

    def count_tokens(lines):
        return [len(ids) for ids in tokenizer(list(lines), add_special_tokens=False, verbose=False)["input_ids"]]

    budget = model.max_seq_length - 16  # room for the document prefix, as st-jce index leaves
    chunks = [chunk for path, text in files for chunk in chunk_source(text, path, count_tokens, budget)]
    wall = time.perf_counter
    cut = best_seconds(chunk_source, [(text, path) for path, text in files], repeats, wall) / len(chunks)
    cut_to_budget = best_seconds(chunk_source, [(text, path, count_tokens, budget) for path, text in files],
                                 repeats, wall) / len(chunks)
    sample = [chunk.embedded_text for chunk in chunks[::max(1, len(chunks) // embedded)][:embedded]]
    embed = best_seconds(lambda: model.encode_document(sample, task_type="nl2code"), [()], 1, wall) / len(sample)
    total = cut_to_budget + embed
    return {"files": len(files), "chunks": len(chunks), "embedded_chunks": len(sample),
            "ms_per_chunk": {"cut": round(1e3 * cut, 3), "cut_to_token_budget": round(1e3 * cut_to_budget, 3),
                             "embed_minilm": round(1e3 * embed, 3)},
            "share_of_indexing": {"cut": round(cut / total, 4), "token_budget_split": round((cut_to_budget - cut) / total, 4),
                                  "embedding": round(embed / total, 4)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roots", default=",".join(DEFAULT_ROOTS), help="comma-separated folders to look for sources in")
    parser.add_argument("--max-files", type=int, default=1500, help="files per language")
    parser.add_argument("--repeats", type=int, default=3, help="timings per measure (best kept)")
    parser.add_argument("--share-files", type=int, default=200,
                        help="files per language in the share-of-indexing sample (0: skip it)")
    parser.add_argument("--share-chunks", type=int, default=512, help="chunks of that sample to embed")
    parser.add_argument("--output", help="write the results as JSON here")
    args = parser.parse_args(argv)

    sources = find_sources([root for root in args.roots.split(",") if os.path.isdir(root)], args.max_files)
    if "python" not in sources:
        sys.exit("No Python files under --roots: the ast baseline needs some.")
    languages = {language: measure_language(files, args.repeats) for language, files in sorted(sources.items())}
    baseline = languages["python"]["mb_per_second"]
    for results in languages.values():
        results["mb_per_second_vs_python_ast"] = round(results["mb_per_second"] / baseline, 2)
    report = {"machine": machine(), "roots": args.roots, "languages": languages,
              "python_parsers": measure_python_parsers(sources["python"], args.repeats)}
    if args.share_files:
        sample = [file for files in sources.values() for file in files[:args.share_files]]
        report["share"] = measure_share(sample, args.repeats, args.share_chunks)

    print(f"{'language':<11}{'files':>7}{'MB':>8}{'units':>8}{'fallback':>9}{'MB/s':>8}{'units/s':>10}{'vs ast':>8}")
    for language, results in languages.items():
        print(f"{language:<11}{results['files']:>7}{results['megabytes']:>8}{results['units']:>8}"
              f"{results['fallback_files']:>9}{results['mb_per_second']:>8}{results['units_per_second']:>10}"
              f"{results['mb_per_second_vs_python_ast']:>7}x")
    print("python parsers:", json.dumps(report["python_parsers"]))
    if "share" in report:
        print("share of indexing:", json.dumps(report["share"]))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
