"""``st-jce mcp``: the MCP SDK's own client (in memory, over stdio and over streamable HTTP on the loopback) lists
the two tools and gets from them what ``Index.search`` finds; several indexes merge by score; an index whose model
is gone answers with a message naming it and the fix."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from search_helpers import write_tree

import st_jce
from st_jce.cli import main
from st_jce.search import Index, build_index
from st_jce.search.mcp_server import CodeSearch, build_server

mcp = pytest.importorskip("mcp")
anyio = pytest.importorskip("anyio")

QUERY = "area of a circle"


@pytest.fixture
def index_dir(tiny_model_dir, code_tree, tmp_path) -> Path:
    build_index(code_tree, tmp_path / "index", tiny_model_dir, show_progress=False)
    return tmp_path / "index"


def call(server, *calls):
    """Open the SDK's client on ``server`` (an MCPServer, StdioServerParameters or URL), make ``calls``
    (``("tools",)`` or ``(tool, arguments)``) in order and return their results."""
    async def session():
        async with mcp.Client(server) as client:
            return [await client.list_tools() if name == "tools" else await client.call_tool(name, *arguments)
                    for name, *arguments in calls]

    return anyio.run(session)


def hits_of(result) -> list[dict]:
    assert not result.is_error, result.content
    return result.structured_content["result"]


def expected_hits(index_dir, query, k, model=None) -> list[dict]:
    """What the tool should answer: ``Index.search``'s hits, in the tool's fields."""
    return [{"index": str(index_dir), "id": hit.id, "file": hit.path, "name": hit.name, "kind": hit.kind,
             "start_line": hit.start_line, "end_line": hit.end_line, "score": hit.score, "code": hit.text}
            for hit in Index(index_dir, model=model).search(query, k=k)]


def assert_same_hits(found: list[dict], expected: list[dict]) -> None:
    assert [{**hit, "score": pytest.approx(hit["score"], abs=1e-5)} for hit in expected] == found


def test_the_tools_find_what_index_search_finds(index_dir):
    tools, found, by_glob = call(build_server(CodeSearch([index_dir])), ("tools",),
                                 ("search_code", {"query": QUERY, "k": 3}),
                                 ("search_code", {"query": QUERY, "k": 2, "path_glob": "*.py"}))
    assert sorted(tool.name for tool in tools.tools) == ["get_unit", "search_code"]
    assert_same_hits(hits_of(found), expected_hits(index_dir, QUERY, 3))
    python_hits = [hit for hit in expected_hits(index_dir, QUERY, 10) if hit["file"].endswith(".py")]
    assert_same_hits(hits_of(by_glob), python_hits[:2])


def test_a_search_that_looks_deeper_for_its_path_glob_encodes_the_query_once(index_dir, monkeypatch):
    import st_jce.search.index as index_module

    everything = expected_hits(index_dir, QUERY, len(Index(index_dir)))
    file = everything[-1]["file"]  # the file of the last hit: a glob for it has to look deep
    wanted = [hit for hit in everything if hit["file"] == file]
    encoded, encode_texts = [], index_module.encode_texts
    monkeypatch.setattr(index_module, "encode_texts", lambda model, texts, *options: encoded.append(list(texts))
                        or encode_texts(model, texts, *options))

    found = CodeSearch([index_dir]).search(QUERY, k=len(wanted) + 1, path_glob=file)
    assert len(everything) > 4 * (len(wanted) + 1) > len(wanted)  # it looked deeper at least twice
    assert [hit["id"] for hit in found] == [hit["id"] for hit in wanted]
    assert encoded == [[QUERY]]


def test_get_unit_gives_the_code_and_its_context(index_dir):
    index = Index(index_dir)
    chunks = index.chunks
    method = chunks["name"].index("Circle.area")
    [unit] = call(build_server(CodeSearch([index_dir])), ("get_unit", {"id": chunks["id"][method]}))
    assert not unit.is_error, unit.content
    unit = unit.structured_content
    assert (unit["file"], unit["name"], unit["kind"], unit["code"]) == ("shapes/circle.py", "Circle.area", "method",
                                                                      chunks["text"][method])
    assert [window["id"] for window in unit["windows"]] == [chunks["id"][method]]
    # A method's context is its class's own lines.
    class_rows = [row for row, (name, kind) in enumerate(zip(chunks["name"], chunks["kind"]))
                  if (name, kind) == ("Circle", "class")]
    assert [part["id"] for part in unit["context"]] == [chunks["id"][row] for row in class_rows]
    assert unit["context"][0]["code"].startswith("class Circle:")


def test_get_unit_lists_every_window_of_a_unit_split_for_length(tiny_qwen_dir, tmp_path):
    model = st_jce.build_model(tiny_qwen_dir, dtype="float32", max_seq_length=64)  # long units split
    long_body = "".join(f"    total = total + {i} * radius\n" for i in range(40))
    tree = write_tree(tmp_path / "tree", {"geometry.py": f"import math\n\n\ndef sum_of_areas(radius):\n    total = 0\n"
                                                         f"{long_body}    return total\n"})
    build_index(tree, tmp_path / "index", model, show_progress=False)
    chunks = Index(tmp_path / "index").chunks
    windows = sorted((start, chunk_id) for chunk_id, name, start in zip(chunks["id"], chunks["name"], chunks["start_line"])
                     if name == "sum_of_areas")
    assert len(windows) > 2
    [unit] = call(build_server(CodeSearch([tmp_path / "index"])), ("get_unit", {"id": windows[1][1]}))
    unit = unit.structured_content
    assert [window["id"] for window in unit["windows"]] == [chunk_id for _, chunk_id in windows]
    assert [(part["kind"], part["code"]) for part in unit["context"]] == [("module", "import math")]


def test_several_indexes_are_merged_by_score(tiny_model_dir, code_tree, tmp_path):
    other_tree = tmp_path / "other"
    other_tree.mkdir()
    (other_tree / "geometry.py").write_text("def disc_area(r):\n    return 3.14159 * r * r\n")
    build_index(code_tree, tmp_path / "a", tiny_model_dir, show_progress=False)
    build_index(other_tree, tmp_path / "b", tiny_model_dir, show_progress=False)
    [found] = call(build_server(CodeSearch([tmp_path / "a", tmp_path / "b"])), ("search_code", {"query": QUERY, "k": 20}))
    both = expected_hits(tmp_path / "a", QUERY, 20) + expected_hits(tmp_path / "b", QUERY, 20)  # every unit of both
    assert_same_hits(hits_of(found), sorted(both, key=lambda hit: -hit["score"]))
    assert {hit["index"] for hit in hits_of(found)} == {str(tmp_path / "a"), str(tmp_path / "b")}


def test_indexes_of_other_models_or_dims_are_refused_at_start(tiny_model_dir, code_tree, tmp_path):
    build_index(code_tree, tmp_path / "full", tiny_model_dir, show_progress=False)
    build_index(code_tree, tmp_path / "short", tiny_model_dir, dim=32, show_progress=False)
    with pytest.raises(ValueError, match="scores cannot be merged"):
        CodeSearch([tmp_path / "full", tmp_path / "short"])


def test_an_index_whose_model_is_gone_gets_a_message_naming_it_and_the_fix(tiny_model_dir, code_tree, tmp_path,
                                                                           monkeypatch):
    model_copy = tmp_path / "moved-model"
    shutil.copytree(tiny_model_dir, model_copy)
    build_index(code_tree, tmp_path / "index", str(model_copy), show_progress=False)
    shutil.rmtree(model_copy)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    chunk_id = Index(tmp_path / "index", model=tiny_model_dir).chunks["id"][0]
    failed, again, unit = call(build_server(CodeSearch([tmp_path / "index"])), ("search_code", {"query": QUERY}),
                               ("search_code", {"query": QUERY}), ("get_unit", {"id": chunk_id}))
    for result in (failed, again):  # the server answers, and goes on answering
        assert result.is_error
        message = result.content[0].text
        assert str(tmp_path / "index") in message and str(model_copy) in message
        assert "st-jce index" in message and "--model" in message
    assert not unit.is_error and unit.structured_content["id"] == chunk_id
    # The fix the message gives works.
    [found] = call(build_server(CodeSearch([tmp_path / "index"], model=tiny_model_dir)),
                   ("search_code", {"query": QUERY, "k": 2}))
    assert_same_hits(hits_of(found), expected_hits(tmp_path / "index", QUERY, 2, model=tiny_model_dir))


def test_a_rebuilt_index_is_searched_as_it_is_now(tiny_model_dir, code_tree, index_dir):
    server = build_server(CodeSearch([index_dir]))
    call(server, ("search_code", {"query": QUERY}))
    (code_tree / "shapes" / "square.py").write_text("def square_area(side):\n    return side * side\n")
    build_index(code_tree, index_dir, tiny_model_dir, show_progress=False)
    [found] = call(server, ("search_code", {"query": "area of a square", "k": 10}))
    assert_same_hits(hits_of(found), expected_hits(index_dir, "area of a square", 10))
    assert "square_area" in [hit["name"] for hit in hits_of(found)]


def test_bad_arguments_are_told_to_the_agent(index_dir):
    server = build_server(CodeSearch([index_dir]))
    zero, task = call(server, ("search_code", {"query": QUERY, "k": 0}),
                      ("search_code", {"query": QUERY, "task_type": "qa"}))
    assert zero.is_error and "k=0" in zero.content[0].text
    assert task.is_error and "--task-type nl2code" in task.content[0].text


@pytest.mark.slow
def test_the_command_serves_over_stdio(index_dir):
    server = mcp.StdioServerParameters(command=sys.executable, args=["-m", "st_jce.cli", "mcp", str(index_dir)],
                                       env=dict(os.environ))
    tools, found = call(server, ("tools",), ("search_code", {"query": QUERY, "k": 3}))
    assert sorted(tool.name for tool in tools.tools) == ["get_unit", "search_code"]
    assert_same_hits(hits_of(found), expected_hits(index_dir, QUERY, 3))


@pytest.mark.slow
def test_the_command_serves_over_streamable_http(index_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "st_jce.cli", "mcp", str(index_dir), "--transport",
                                "streamable-http", "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        assert process.poll() is None, process.stderr.read()
        [found] = call(f"http://127.0.0.1:{port}/mcp", ("search_code", {"query": QUERY, "k": 3}))
        assert_same_hits(hits_of(found), expected_hits(index_dir, QUERY, 3))
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_command_refuses_a_directory_without_an_index_in_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["mcp", str(tmp_path / "missing")]) == 2
    assert main(["mcp", str(tmp_path / "empty")]) == 2
    missing, empty = capsys.readouterr().err.splitlines()
    assert missing.startswith("st-jce mcp: error:") and "not a directory" in missing
    assert "no manifest.json" in empty and "st-jce index" in empty
