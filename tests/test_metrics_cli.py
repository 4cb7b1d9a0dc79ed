"""`genlab eval --samples` (scores, bad input) and `genlab report` on an autoencoder run."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from genlab.cli import main
from genlab.data.datasets import embedded_mnist
from genlab.utils.images import to_uint8


@pytest.fixture(scope="module")
def evaluator():
    from genlab.metrics.evaluator import get_evaluator

    return get_evaluator()  # trained (or loaded) here, so the subprocesses below find it cached


@pytest.mark.slow
def test_eval_samples_on_held_out_digits_scores_at_the_floor(evaluator, cli, tmp_path):
    d = embedded_mnist()
    np.save(tmp_path / "x.npy", to_uint8(d.x_test))  # what `genlab sample` writes: uint8 (N, 28, 28)
    np.save(tmp_path / "y.npy", d.y_test.numpy())
    r = cli("eval", "--samples", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"fid", "fid_floor", "kid", "is", "precision", "recall", "coverage", "label_acc"} <= set(out)
    assert out["fid"] <= out["fid_floor"] and out["fid_floor"] < 20
    assert out["precision"] > 0.95 and out["recall"] > 0.95 and out["coverage"] == 10
    assert out["label_acc"] >= 0.97 and out["evaluator_accuracy"] >= 0.97


def _bad_inputs(tmp_path):
    x = np.zeros((20, 28, 28), np.uint8)
    cases = {
        "shape": np.zeros((20, 784), np.uint8),
        "dtype": x.astype(np.int64),
        "range": np.full((20, 28, 28), 2.5, np.float32),
        "nan": np.where(np.eye(28, dtype=bool), np.nan, 0.5).astype(np.float32)[None].repeat(20, 0),
        "too_few": x[:3],
        "objects": np.array([{"a": 1}] * 20, dtype=object),
    }
    paths = {}
    for name, arr in cases.items():
        paths[name] = tmp_path / f"{name}.npy"
        np.save(paths[name], arr, allow_pickle=True)
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "text.npy").write_text("not an array")
    np.save(tmp_path / "good.npy", x)
    np.save(tmp_path / "labels_short.npy", np.zeros(5, np.int64))
    np.save(tmp_path / "labels_big.npy", np.full(20, 12, np.int64))
    return [
        *(["eval", "--samples", p] for p in paths.values()),
        ["eval", "--samples", tmp_path / "empty.npy"],
        ["eval", "--samples", tmp_path / "text.npy"],
        ["eval", "--samples", tmp_path / "missing.npy"],
        ["eval", "--samples", tmp_path / "good.png"],
        ["eval", "--samples", tmp_path / "good.npy", "--labels", tmp_path / "labels_short.npy"],
        ["eval", "--samples", tmp_path / "good.npy", "--labels", tmp_path / "labels_big.npy"],
        ["eval", "--samples", tmp_path / "good.npy", "--labels", tmp_path / "good.npy"],
    ]


def test_eval_samples_bad_input_is_one_line_exit_2(tmp_path, capsys):
    for argv in _bad_inputs(tmp_path):
        code = main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.startswith("genlab: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs)["src"])


@pytest.mark.slow
def test_report_of_an_autoencoder_run_embeds_its_images(evaluator, tmp_path, capsys):
    run = tmp_path / "ae-run"
    assert main(["train", "ae", "--steps", "60", "--out", str(run), "--set", "progress=false"]) == 0
    assert main(["report", str(run)]) == 0
    html_text = (run / "report" / "report.html").read_text()
    parser = _Images()
    parser.feed(html_text)
    assert len(parser.srcs) >= 2  # at least the loss curves and the final sample grid
    for src in parser.srcs:
        assert src.startswith("data:image/")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()  # a real picture, decodable from the HTML alone
        assert img.width >= 28 and img.height >= 28
    assert "Loss curves" in html_text and "Samples" in html_text and "latent_dim" in html_text
    md = (run / "report" / "report.md").read_text()
    refs = [line.split("](", 1)[1].rstrip(")") for line in md.splitlines() if line.startswith("![")]
    assert len(refs) == len(parser.srcs) and all((run / "report" / r).is_file() for r in refs)
