"""A loopback Hugging Face Hub for tests: the HTTP endpoints the real ``huggingface_hub`` client uses.

It serves, on 127.0.0.1 only, enough of the Hub's API to create repos and branches, upload files
(regular ones inline in the commit, large ones through the git-LFS batch API with ``basic`` PUT
uploads and a verify call), commit (ndjson), and read back (repo info, tree listing, commit history,
``resolve`` with the ``ETag`` / ``X-Repo-Commit`` / ``X-Linked-Etag`` headers the client checks).
Xet is switched off, so the client takes the plain LFS path. State lives in memory; request bodies
and the total stored bytes are bounded.

The ``hub_server`` fixture starts it, points ``HF_ENDPOINT`` and a fresh ``HF_HUB_CACHE`` at it,
sets a dummy token and yields the endpoint URL; the server stops when the test ends.

``tests/model/conftest.py`` registers the fixture for the tests beside it::

    def test_upload(hub_server):
        HfApi().create_repo("me/model")  # goes to the loopback hub, with the dummy token
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import yaml

TOKEN = "hf_loopback_test_token"
MAX_REQUEST_BYTES = 256 * 1024 * 1024
MAX_STORED_BYTES = 1024 * 1024 * 1024
# Files stored through LFS: the Hub's default .gitattributes patterns that matter for models, or > 10 MB.
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".h5", ".msgpack", ".npy", ".npz",
                ".pkl", ".model", ".gguf", ".zip", ".tar", ".gz", ".arrow", ".parquet")
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES).encode()


def git_blob_oid(content: bytes) -> str:
    """The git object id of a blob, as the Hub reports it for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-LFS pointer file that git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class RepoFileEntry:
    """One file of a commit: inline ``content`` for regular files, ``lfs_sha256`` for LFS ones."""

    size: int
    content: bytes | None = None
    lfs_sha256: str | None = None

    @property
    def git_oid(self) -> str:
        if self.lfs_sha256 is None:
            return git_blob_oid(self.content)
        return git_blob_oid(lfs_pointer(self.lfs_sha256, self.size))


@dataclass(frozen=True)
class Commit:
    files: dict[str, RepoFileEntry]
    title: str
    message: str
    parent: str | None
    date: str


@dataclass
class Repo:
    private: bool
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    def commit(self, files: dict[str, RepoFileEntry], title: str, message: str, parent: str | None) -> str:
        listing = "".join(f"{path} {entry.git_oid}\n" for path, entry in sorted(files.items()))
        sha = hashlib.sha1(f"{parent}\n{title}\n{message}\n{time.time_ns()}\n{listing}".encode()).hexdigest()
        date = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.commits[sha] = Commit(files, title, message, parent, date)
        return sha

    def history(self, sha: str) -> list[tuple[str, Commit]]:
        chain = []
        while sha is not None:
            chain.append((sha, self.commits[sha]))
            sha = self.commits[sha].parent
        return chain

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        return revision if revision in self.commits else None


class HubError(Exception):
    """An HTTP error answer, with the ``X-Error-Code`` header the client maps to its exceptions."""

    def __init__(self, status: int, message: str, error_code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.error_code, self.headers = status, message, error_code, headers or {}


class LoopbackHub:
    """The in-memory Hub state and the logic of each endpoint (HTTP plumbing is in :class:`HubRequestHandler`)."""

    def __init__(self):
        self.endpoint = ""
        self.repos: dict[str, Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}
        self.stored_bytes = 0
        self.lock = threading.Lock()

    # -- lookups ---------------------------------------------------------------------------------------------
    def repo(self, repo_id: str, authorized: bool) -> Repo:
        repo = self.repos.get(repo_id)
        if repo is None or (repo.private and not authorized):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def files_at(self, repo_id: str, revision: str, authorized: bool) -> tuple[str, dict[str, RepoFileEntry]]:
        repo = self.repo(repo_id, authorized)
        sha = repo.resolve(revision)
        if sha is None:
            raise HubError(404, f"Revision {revision} not found in {repo_id}", "RevisionNotFound")
        return sha, repo.commits[sha].files

    def store(self, size: int) -> None:
        if self.stored_bytes + size > MAX_STORED_BYTES:
            raise HubError(507, f"Loopback hub is full (limit {MAX_STORED_BYTES} bytes)")
        self.stored_bytes += size

    # -- write endpoints -------------------------------------------------------------------------------------
    def create_repo(self, payload: dict) -> tuple[int, dict]:
        if payload.get("type", "model") != "model":
            raise HubError(400, "The loopback hub only serves model repos")
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
        url = f"{self.endpoint}/{repo_id}"
        with self.lock:
            if repo_id in self.repos:
                return 409, {"error": "You already created this model repo", "url": url}
            repo = Repo(private=payload.get("visibility") == "private" or bool(payload.get("private")))
            initial = {".gitattributes": RepoFileEntry(size=len(GITATTRIBUTES), content=GITATTRIBUTES)}
            repo.branches["main"] = repo.commit(initial, "initial commit", "", None)
            self.repos[repo_id] = repo
        return 200, {"url": url, "name": repo_id}

    def create_branch(self, repo_id: str, branch: str, payload: dict) -> dict:
        with self.lock:
            repo = self.repo(repo_id, authorized=True)
            if branch in repo.branches:
                raise HubError(409, f"Branch {branch} already exists")
            start = repo.resolve(payload.get("startingPoint") or "main")
            if start is None:
                raise HubError(404, f"Revision {payload.get('startingPoint')} not found", "RevisionNotFound")
            repo.branches[branch] = start
        return {}

    def preupload(self, repo_id: str, revision: str, payload: dict) -> dict:
        _, files = self.files_at(repo_id, revision, authorized=True)
        answers = []
        for item in payload["files"]:
            path, size = item["path"], int(item["size"])
            lfs = path.endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE
            existing = files.get(path)
            remote_oid = None if existing is None else (existing.lfs_sha256 if lfs else existing.git_oid)
            answers.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                            "oid": remote_oid})
        return {"files": answers, "commitOid": None}

    def lfs_batch(self, repo_id: str, payload: dict) -> dict:
        self.repo(repo_id, authorized=True)
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            raise HubError(400, "The loopback hub supports LFS uploads with the 'basic' transfer only")
        objects = []
        for obj in payload["objects"]:
            oid, size = obj["oid"], int(obj["size"])
            answer = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.lfs_objects:
                answer["actions"] = {
                    "upload": {"href": f"{self.endpoint}/__lfs/upload/{oid}", "header": {}},
                    "verify": {"href": f"{self.endpoint}/__lfs/verify/{oid}", "header": {}},
                }
            objects.append(answer)
        return {"transfer": "basic", "objects": objects}

    def lfs_upload(self, oid: str, body: bytes) -> None:
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not hash to {oid}")
        with self.lock:
            if oid not in self.lfs_objects:
                self.store(len(body))
                self.lfs_objects[oid] = body

    def lfs_verify(self, payload: dict) -> dict:
        stored = self.lfs_objects.get(payload["oid"])
        if stored is None or len(stored) != int(payload["size"]):
            raise HubError(404, f"LFS object {payload['oid']} of size {payload['size']} was not uploaded")
        return {}

    def commit(self, repo_id: str, revision: str, ndjson: bytes, create_pr: bool) -> dict:
        if create_pr:
            raise HubError(400, "The loopback hub does not implement pull requests")
        lines = [json.loads(line) for line in ndjson.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "A commit payload starts with a 'header' line")
        header = lines[0]["value"]
        with self.lock:
            repo = self.repo(repo_id, authorized=True)
            if revision not in repo.branches:
                raise HubError(404, f"Branch {revision} not found in {repo_id}", "RevisionNotFound")
            parent = repo.branches[revision]
            if header.get("parentCommit") not in (None, parent):
                raise HubError(412, f"Parent commit {header['parentCommit']} is not the head of {revision}")
            files = dict(repo.commits[parent].files)
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                path = value["path"]
                if key == "file":
                    content = base64.b64decode(value["content"])
                    self.store(len(content))
                    files[path] = RepoFileEntry(size=len(content), content=content)
                elif key == "lfsFile":
                    stored = self.lfs_objects.get(value["oid"])
                    if stored is None:
                        raise HubError(422, f"LFS object {value['oid']} for {path} was never uploaded")
                    files[path] = RepoFileEntry(size=len(stored), lfs_sha256=value["oid"])
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    files = {p: e for p, e in files.items() if not p.startswith(path.rstrip("/") + "/")}
                else:
                    raise HubError(400, f"Unknown commit operation {key!r}")
            sha = repo.commit(files, header["summary"], header.get("description", ""), parent)
            repo.branches[revision] = sha
        return {"success": True, "commitOid": sha, "commitUrl": f"{self.endpoint}/{repo_id}/commit/{sha}",
                "pullRequestUrl": None}

    # -- read endpoints --------------------------------------------------------------------------------------
    def repo_info(self, repo_id: str, revision: str, authorized: bool) -> dict:
        sha, files = self.files_at(repo_id, revision, authorized)
        siblings = [{"rfilename": path, "size": entry.size, "blobId": entry.git_oid,
                     **({"lfs": self._lfs_info(entry, "sha256")} if entry.lfs_sha256 else {})}
                    for path, entry in sorted(files.items())]
        card = _front_matter(files.get("README.md"))
        return {"id": repo_id, "modelId": repo_id, "sha": sha, "private": self.repos[repo_id].private,
                "lastModified": "2025-01-01T00:00:00.000Z", "tags": card.get("tags", []),
                "library_name": card.get("library_name"), "pipeline_tag": card.get("pipeline_tag"),
                "cardData": card, "siblings": siblings}

    def tree(self, repo_id: str, revision: str, folder: str, recursive: bool, authorized: bool) -> list[dict]:
        _, files = self.files_at(repo_id, revision, authorized)
        prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
        entries: dict[str, dict] = {}
        for path, entry in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            parts = PurePosixPath(path[len(prefix):]).parts
            for depth in range(1, len(parts)):
                if depth > 1 and not recursive:
                    break
                sub = prefix + "/".join(parts[:depth])
                entries.setdefault(sub, {"type": "directory", "path": sub, "oid": git_blob_oid(sub.encode()),
                                         "size": 0})
            if recursive or len(parts) == 1:
                entries[path] = {"type": "file", "path": path, "size": entry.size, "oid": entry.git_oid,
                                 **({"lfs": self._lfs_info(entry, "oid")} if entry.lfs_sha256 else {})}
        if prefix and not entries:
            raise HubError(404, f"{folder} does not exist on {revision}", "EntryNotFound")
        return list(entries.values())

    def commits(self, repo_id: str, revision: str, authorized: bool) -> list[dict]:
        sha, _ = self.files_at(repo_id, revision, authorized)
        return [{"id": commit_sha, "title": commit.title, "message": commit.message, "authors": [],
                 "date": commit.date} for commit_sha, commit in self.repos[repo_id].history(sha)]

    def resolve(self, repo_id: str, revision: str, path: str, authorized: bool) -> tuple[dict, bytes]:
        sha, files = self.files_at(repo_id, revision, authorized)
        entry = files.get(path)
        if entry is None:
            raise HubError(404, f"Entry {path} not found", "EntryNotFound", {"X-Repo-Commit": sha})
        content = entry.content if entry.lfs_sha256 is None else self.lfs_objects[entry.lfs_sha256]
        headers = {"ETag": f'"{entry.git_oid}"', "X-Repo-Commit": sha, "Content-Type": "application/octet-stream"}
        if entry.lfs_sha256:
            headers.update({"X-Linked-Etag": f'"{entry.lfs_sha256}"', "X-Linked-Size": str(entry.size)})
        return headers, content

    @staticmethod
    def _lfs_info(entry: RepoFileEntry, sha_key: str) -> dict:
        return {sha_key: entry.lfs_sha256, "size": entry.size,
                "pointerSize": len(lfs_pointer(entry.lfs_sha256, entry.size))}


def _front_matter(readme: RepoFileEntry | None) -> dict:
    if readme is None or readme.content is None:
        return {}
    match = re.match(r"^---\n(.*?)\n---\n", readme.content.decode("utf-8"), re.DOTALL)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def validate_yaml(payload: dict) -> tuple[int, dict]:
    """The Hub's README metadata check: the front matter must be a YAML mapping."""
    match = re.match(r"^---\n(.*?)\n---\n", payload.get("content", ""), re.DOTALL)
    try:
        metadata = yaml.safe_load(match.group(1)) if match else {}
    except yaml.YAMLError as error:
        return 400, {"errors": [{"message": f"Invalid YAML: {error}"}], "warnings": []}
    if metadata is not None and not isinstance(metadata, dict):
        return 400, {"errors": [{"message": "The YAML front matter must be a mapping"}], "warnings": []}
    return 200, {"errors": [], "warnings": []}


# Routes: (method, regex on the raw path, handler name). Repo ids are two segments; revisions are one quoted segment.
REPO = r"(?P<repo>[^/]+/[^/]+?)"
ROUTES = [
    ("POST", r"/api/repos/create", "create_repo"),
    ("POST", r"/api/validate-yaml", "validate_yaml"),
    ("POST", rf"/api/models/{REPO}/preupload/(?P<rev>[^/]+)", "preupload"),
    ("POST", rf"/api/models/{REPO}/commit/(?P<rev>[^/]+)", "commit"),
    ("POST", rf"/api/models/{REPO}/branch/(?P<rev>[^/]+)", "create_branch"),
    ("POST", rf"/{REPO}\.git/info/lfs/objects/batch", "lfs_batch"),
    ("PUT", r"/__lfs/upload/(?P<oid>[0-9a-f]{64})", "lfs_upload"),
    ("POST", r"/__lfs/verify/(?P<oid>[0-9a-f]{64})", "lfs_verify"),
    ("GET", rf"/api/models/{REPO}(?:/revision/(?P<rev>[^/]+))?", "repo_info"),
    ("GET", rf"/api/models/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", "tree"),
    ("GET", rf"/api/models/{REPO}/commits/(?P<rev>[^/]+)", "commits"),
    ("GET", rf"/{REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
]


class HubRequestHandler(BaseHTTPRequestHandler):
    """HTTP plumbing: route, check the token, read bounded bodies (plain or chunked), answer JSON or bytes."""

    protocol_version = "HTTP/1.1"
    timeout = 60
    hub: LoopbackHub  # set on the subclass made by serve_hub()

    def log_message(self, format, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("GET", head=True)

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method: str, head: bool = False) -> None:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            for route_method, pattern, name in ROUTES:
                match = re.fullmatch(pattern, url.path)
                if route_method == method and match:
                    args = {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
                    return self._answer(*self._call(name, args, query), head=head)
            self._read_body()
            raise HubError(404, f"The loopback hub does not implement {method} {url.path}")
        except HubError as error:
            headers = {**error.headers, **({"X-Error-Code": error.error_code} if error.error_code else {}),
                       "X-Error-Message": error.message}
            self._answer(error.status, {"error": error.message}, headers, head=head)

    def _call(self, name: str, args: dict, query: dict) -> tuple[int, object, dict]:
        hub = self.hub
        authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        body = self._read_body()
        writes = {"create_repo", "preupload", "commit", "create_branch", "lfs_batch"}
        if name in writes and not authorized:
            raise HubError(401, "Invalid credentials in Authorization header")
        if name == "create_repo":
            status, answer = hub.create_repo(json.loads(body))
            return status, answer, {}
        if name == "validate_yaml":
            status, answer = validate_yaml(json.loads(body))
            return status, answer, {}
        if name == "preupload":
            return 200, hub.preupload(args["repo"], args["rev"], json.loads(body)), {}
        if name == "commit":
            return 200, hub.commit(args["repo"], args["rev"], body, query.get("create_pr") == "1"), {}
        if name == "create_branch":
            return 200, hub.create_branch(args["repo"], args["rev"], json.loads(body) if body else {}), {}
        if name == "lfs_batch":
            return 200, hub.lfs_batch(args["repo"], json.loads(body)), {"Content-Type": "application/vnd.git-lfs+json"}
        if name == "lfs_upload":
            hub.lfs_upload(args["oid"], body)
            return 200, b"", {}
        if name == "lfs_verify":
            return 200, hub.lfs_verify(json.loads(body)), {}
        if name == "repo_info":
            return 200, hub.repo_info(args["repo"], args.get("rev", "main"), authorized), {}
        if name == "commits":
            return 200, hub.commits(args["repo"], args["rev"], authorized), {}
        if name == "tree":
            recursive = query.get("recursive", "false").lower() == "true"
            return 200, hub.tree(args["repo"], args["rev"], args.get("path", ""), recursive, authorized), {}
        headers, content = hub.resolve(args["repo"], args["rev"], args["path"], authorized)
        return 200, content, headers

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BYTES:
                    raise HubError(413, f"Request body over {MAX_REQUEST_BYTES} bytes")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            raise HubError(413, f"Request body over {MAX_REQUEST_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _answer(self, status: int, payload: object, headers: dict | None = None, head: bool = False) -> None:
        headers = dict(headers or {})
        if isinstance(payload, bytes):
            body = payload
        else:
            body = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


@contextlib.contextmanager
def serve_hub() -> Iterator[tuple[str, LoopbackHub]]:
    """Run a :class:`LoopbackHub` on 127.0.0.1 (a free port) in a background thread; yield its URL and state."""
    hub = LoopbackHub()
    handler = type("BoundHubRequestHandler", (HubRequestHandler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="loopback-hub", daemon=True)
    thread.start()
    try:
        yield hub.endpoint, hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def point_client_at(endpoint: str, hf_home, monkeypatch) -> None:
    """Make ``huggingface_hub`` (already imported, its constants read) talk to ``endpoint`` with a fresh cache."""
    from huggingface_hub import constants

    cache = str(hf_home / "hub")
    env = {"HF_ENDPOINT": endpoint, "HF_HOME": str(hf_home), "HF_HUB_CACHE": cache, "HF_HUB_OFFLINE": "0",
           "TRANSFORMERS_OFFLINE": "0", "HF_HUB_DISABLE_XET": "1", "HF_TOKEN": TOKEN,
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    patched = {"ENDPOINT": endpoint,
               "HUGGINGFACE_CO_URL_TEMPLATE": endpoint + "/{repo_id}/resolve/{revision}/{filename}",
               "HF_URL_HOSTS": constants.HF_URL_HOSTS | {"127.0.0.1"}, "HF_HOME": str(hf_home),
               "HF_HUB_CACHE": cache, "HUGGINGFACE_HUB_CACHE": cache, "HF_HUB_OFFLINE": False,
               "HF_HUB_DISABLE_XET": True, "HF_HUB_DISABLE_TELEMETRY": True,
               "HF_TOKEN_PATH": str(hf_home / "token"), "HF_STORED_TOKENS_PATH": str(hf_home / "stored_tokens")}
    for name, value in patched.items():
        monkeypatch.setattr(constants, name, value)


@pytest.fixture
def hub_server(tmp_path_factory, monkeypatch) -> Iterator[str]:
    """A running loopback Hub; ``huggingface_hub`` points at it with a fresh cache and a dummy token. Yields its URL."""
    with serve_hub() as (endpoint, _):
        point_client_at(endpoint, tmp_path_factory.mktemp("hf_home"), monkeypatch)
        yield endpoint
