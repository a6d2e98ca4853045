"""The loopback Hub answers the real huggingface_hub client the way the Hub does."""

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hub_server import LFS_MIN_SIZE
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError


def test_regular_and_lfs_files_come_back_byte_for_byte(hub_server, tmp_path):
    assert urlsplit(hub_server).hostname == "127.0.0.1"
    files = {"config.json": b'{"a": 1}', "sub/weights.safetensors": os.urandom(3000),
             "big.txt": b"x" * (LFS_MIN_SIZE + 1), "empty.txt": b""}
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    api = HfApi()
    api.create_repo("me/files")
    api.create_repo("me/files", exist_ok=True)
    with pytest.raises(HfHubHTTPError):
        api.create_repo("me/files")
    api.upload_folder(repo_id="me/files", folder_path=tmp_path)

    tree = {f.path: f for f in api.list_repo_tree("me/files", recursive=True) if hasattr(f, "lfs")}
    assert {path for path, f in tree.items() if f.lfs} == {"sub/weights.safetensors", "big.txt"}
    for name, content in files.items():
        assert tree[name].size == len(content)
        if tree[name].lfs:
            assert tree[name].lfs.sha256 == hashlib.sha256(content).hexdigest()
    snapshot = Path(snapshot_download("me/files"))
    for name, content in files.items():
        assert (snapshot / name).read_bytes() == content


def test_errors_map_to_the_client_exceptions(hub_server):
    api = HfApi()
    api.create_repo("me/errors")
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("me/errors", "missing.json")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("me/errors", ".gitattributes", revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("me/nothing-here")
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(token=False).create_repo("me/anonymous")
    assert caught.value.response.status_code == 401
