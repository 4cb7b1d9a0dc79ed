"""The image search engine: indexing, incremental updates, bad files, atomic writes, queries."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from genlab.data import embedded_mnist
from genlab.errors import GenlabError
from genlab.pipelines.search import SearchIndex, build_index, load_model, query
from genlab.train.engine import train
from genlab.utils.images import save_png, to_uint8

TINY = {
    "image_widths": "8,16",
    "embed_dim": 16,
    "text_width": 32,
    "text_layers": 1,
    "text_heads": 2,
    "text_ff": 32,
    "batch_size": 64,
    "progress": "false",
    "tensorboard": "false",
    "warmup": 0,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "run"
    train("clip", "quick", {**TINY, "steps": 3}, out=out)
    return out


@pytest.fixture
def folder(tmp_path):
    """12 digits: 28x28 gray PNGs, a large colour JPEG, a dark-on-light PNG, in subfolders."""
    d = embedded_mnist()
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    imgs = to_uint8(d.x_test[::100])  # one of each digit
    for i, a in enumerate(imgs):
        save_png(root / ("sub" if i % 2 else ".") / f"digit{i}.png", a)
    big = Image.fromarray(np.stack([imgs[3]] * 3, -1)).resize((300, 300))
    big.save(root / "three_colour.jpg", quality=95)
    Image.fromarray(255 - imgs[4]).save(root / "four_paper.png")
    return root


def test_index_query_and_incremental_update(run, folder, tmp_path):
    idx_path = tmp_path / "index.npz"
    index, stats = build_index(folder, run, idx_path, batch=4, log=lambda m: None)
    assert stats == {"images": 12, "embedded": 12, "reused": 0, "removed": 0, "skipped": 0}
    loaded = SearchIndex.load(idx_path)
    assert loaded.paths == index.paths and loaded.embeddings.dtype == np.float16 and len(loaded.hashes[0]) == 64
    assert np.allclose(np.linalg.norm(loaded.embeddings.astype(np.float32), axis=1), 1, atol=1e-2)
    # image -> image: a file finds itself first; results are sorted and k is respected
    recipe, _ = load_model(run)
    res = query(loaded, recipe, image=folder / "sub" / "digit5.png", k=3)
    own = [r for r in res if r["path"].endswith("sub/digit5.png")]
    assert own and own[0]["score"] > 0.99 and own[0]["score"] >= res[0]["score"] - 2e-3  # ties within fp16
    assert len(res) == 3 and res[0]["score"] >= res[1]["score"] >= res[2]["score"]
    assert len(query(loaded, recipe, text="a bold seven", k=50)) == 12
    # change one file, add one, delete one: only two images are embedded again
    d = embedded_mnist()
    save_png(folder / "digit0.png", to_uint8(d.x_test[1:2])[0])
    save_png(folder / "new.png", to_uint8(d.x_test[2:3])[0])
    (folder / "digit2.png").unlink()
    _, stats = build_index(folder, run, idx_path, log=lambda m: None)
    assert stats == {"images": 12, "embedded": 2, "reused": 10, "removed": 1, "skipped": 0}


def test_bad_files_are_skipped_and_listed(run, folder, tmp_path, bomb_png):
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("not an image")
    good = (folder / "digit0.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    (folder / "bomb.png").write_bytes(bomb_png(20_000))
    index, stats = build_index(folder, run, tmp_path / "i.npz", log=lambda m: None)
    assert stats["images"] == 12 and stats["skipped"] == 4
    reasons = {s["path"]: s["reason"] for s in SearchIndex.load(tmp_path / "i.npz").skipped}
    assert set(reasons) == {"empty.png", "notes.jpg", "truncated.png", "bomb.png"}
    assert "pixel" in reasons["bomb.png"]


def test_bad_input_leaves_the_index_valid(run, folder, tmp_path):
    idx_path = tmp_path / "index.npz"
    build_index(folder, run, idx_path, log=lambda m: None)
    before = idx_path.read_bytes()
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "readme.txt").write_text("no pictures here")
    with pytest.raises(GenlabError, match="no images"):
        build_index(empty, run, idx_path)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(GenlabError, match="could be read"):
        build_index(junk, run, idx_path)
    with pytest.raises(GenlabError, match="folder not found"):
        build_index(tmp_path / "missing", run, idx_path)
    assert idx_path.read_bytes() == before
    recipe, _ = load_model(run)
    index = SearchIndex.load(idx_path)
    for text in ("", "   "):
        with pytest.raises(GenlabError, match="empty"):
            query(index, recipe, text=text)
    with pytest.raises(GenlabError, match="one of them"):
        query(index, recipe)
    (tmp_path / "fake.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(GenlabError, match="search index"):
        SearchIndex.load(tmp_path / "fake.npz")


def test_interrupted_indexing_keeps_the_previous_index(run, folder, tmp_path, monkeypatch):
    idx_path = tmp_path / "index.npz"
    build_index(folder, run, idx_path, log=lambda m: None)
    before = idx_path.read_bytes()
    save_png(folder / "extra.png", to_uint8(embedded_mnist().x_test[5:6])[0])

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("genlab.data.images.decode_image", interrupted)  # Ctrl-C while embedding
    with pytest.raises(KeyboardInterrupt):
        build_index(folder, run, idx_path, log=lambda m: None)
    assert idx_path.read_bytes() == before
    assert len(SearchIndex.load(idx_path)) == 12
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_search_cli(run, folder, tmp_path, cli):
    idx = tmp_path / "idx.npz"
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    r = cli("search", "index", folder, "--model", run, "--index", idx)
    assert r.returncode == 0, r.stderr
    assert "indexed 12 images" in r.stdout and "skipped broken.png" in r.stdout
    r = cli("search", "query", idx, "a handwritten 7", "-k", "4", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out["results"]) == 4 and {"path", "score"} <= set(out["results"][0])
    moved = tmp_path / "moved_run"  # a run folder that moved: --model points to it
    shutil.copytree(run, moved)
    r = cli("search", "query", idx, "--image", folder / "digit0.png", "-k", "2", "--model", moved)
    assert r.returncode == 0 and "digit0.png" in r.stdout.splitlines()[0], r.stderr
    for args, msg in (
        (["query", idx, " "], "empty"),
        (["query", tmp_path / "none.npz", "x"], "not found"),
        (["index", tmp_path / "nope", "--model", run, "--index", idx], "folder not found"),
    ):
        r = cli("search", *args)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, r.stderr
