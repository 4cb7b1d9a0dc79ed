"""The foundation end to end: train, eval, sample, runs, data, determinism, bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from safetensors.numpy import load_file

from genlab.train.checkpoint import list_checkpoints

AE_FAST = ["--set", "arch=mlp", "--steps", "200", "--set", "ckpt_every=100", "--set", "log_every=20"]


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("ae") / "run"
    r = run_cli("train", "ae", "--out", out, *AE_FAST)
    assert r.returncode == 0, r.stderr
    return out


def test_train_writes_run_folder(ae_run):
    for name in (
        "config.yaml",
        "metrics.jsonl",
        "eval.json",
        "samples/final.png",
        "plots/reconstructions.png",
        "plots/metrics.png",
    ):
        assert (ae_run / name).exists(), name
    assert list_checkpoints(ae_run / "checkpoints")
    assert list((ae_run / "tb").iterdir()), "TensorBoard events written"
    rows = [json.loads(line) for line in (ae_run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 200
    assert rows[-1]["loss"] < rows[0]["loss"] * 0.7, "the autoencoder learns"


def test_eval_json_and_learned_reconstruction(ae_run, cli):
    r = cli("eval", ae_run, "--json")
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m["step"] == 200
    assert m["recon_mse"] < 0.05  # book MLP; a blank image scores ~0.10, the mean digit ~0.067
    assert m["compression_ratio"] == pytest.approx(784 / 32)


def test_sample_writes_uint8_array_and_png(ae_run, tmp_path, cli):
    out = tmp_path / "s.npy"
    r = cli("sample", ae_run, "--n", "10", "--out", out, "--png", tmp_path / "s.png", "--seed", "3")
    assert r.returncode == 0, r.stderr
    arr = np.load(out)
    assert arr.shape == (10, 28, 28) and arr.dtype == np.uint8
    assert arr.mean() < 128, "MNIST convention: ink bright on dark"
    assert (tmp_path / "s.png").stat().st_size > 100
    r2 = cli("sample", ae_run, "--n", "10", "--out", tmp_path / "t.npy", "--seed", "3")
    assert r2.returncode == 0, r2.stderr
    assert np.array_equal(np.load(tmp_path / "t.npy"), arr), "same seed, same samples"


def test_runs_list_and_show(ae_run, cli):
    r = cli("runs", "list", "--root", ae_run.parent)
    assert r.returncode == 0 and "ae" in r.stdout
    r = cli("runs", "show", ae_run, "--json")
    info = json.loads(r.stdout)
    assert info["model"] == "ae" and info["checkpoints"]


def test_same_seed_same_numbers(ae_run, tmp_path, cli):
    out = tmp_path / "again"
    r = cli("train", "ae", "--out", out, *AE_FAST)
    assert r.returncode == 0, r.stderr
    losses = lambda p: [row["loss"] for row in map(json.loads, (p / "metrics.jsonl").read_text().splitlines())]  # noqa: E731
    assert losses(out) == losses(ae_run)
    a = load_file(str(list_checkpoints(ae_run / "checkpoints")[0]) + ".safetensors")
    b = load_file(str(list_checkpoints(out / "checkpoints")[0]) + ".safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_help_on_every_command(cli):
    for args in (
        ["--help"],
        ["train", "--help"],
        ["sample", "--help"],
        ["eval", "--help"],
        ["runs", "list", "--help"],
        ["data", "export", "--help"],
    ):
        r = cli(*args)
        assert r.returncode == 0 and "usage" in r.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["train", "no-such-model"], "unknown model"),
        (["train", "ae", "--set", "nope=1"], "unknown config key"),
        (["train", "ae", "--set", "lr=fast"], "expected float"),
        (["train", "ae", "--set", "steps"], "expected key=value"),
        (["train", "ae", "--preset", "huge"], "no preset"),
        (["train", "ae", "--set", "amp=fp8"], "amp must be one of off, bf16, auto"),
        (["train", "ae", "--steps", "0"], "must be at least 1"),
        (["sample", "does-not-exist", "--n", "4", "--out", "x.npy"], "does not exist"),
        (["data", "info", "nope"], "unknown dataset"),
    ],
)
def test_bad_input_one_line_exit_2(args, needle, cli, tmp_path):
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_sample_bad_sizes(ae_run, tmp_path, cli):
    for n in ("0", "-3"):
        r = cli("sample", ae_run, "--n", n, "--out", tmp_path / "x.npy")
        assert r.returncode == 2 and "at least 1" in r.stderr
    assert not (tmp_path / "x.npy").exists()
    r = cli("sample", ae_run, "--n", "2", "--out", tmp_path / "x.npy", "--label", "3")
    assert r.returncode == 2 and "does not take --label" in r.stderr


def test_a_model_flag_another_model_declares_is_refused_in_one_line(ae_run, tmp_path, cli):
    for args, flag in (
        (["eval", ae_run, "--episodes", "3"], "--episodes"),
        (["eval", ae_run, "--omniglot-runs", str(tmp_path)], "--omniglot-runs"),
        (["train", "ae", "--env", "CartPole-v1", "--out", tmp_path / "run"], "--env"),
    ):
        r = cli(*args)
        assert r.returncode == 2 and f"model 'ae' does not take {flag}; it takes: no options" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_model_flags_are_the_recipes_declarations():
    """`genlab train/sample/eval` offer every option some model declares for that command, with one
    type per name, and `genlab --help` loads no model to do so."""
    import subprocess
    import sys

    from genlab.cli import model_options
    from genlab.registry import available_models, get_recipe

    for command in ("train", "sample", "eval"):
        for name, (option, help_) in model_options(command).items():
            takers = {m for m in available_models() if option in get_recipe(m).options_for(command)}
            same_name = {m for m in available_models() if name in {o.name for o in get_recipe(m).options_for(command)}}
            listed = {m for group in re.findall(r"\[([^\]]+)\]", help_) for m in group.split(", ")}
            assert takers and listed == same_name, (command, name, listed, same_name)
            assert all(
                o.type is option.type for m in same_name for o in get_recipe(m).options_for(command) if o.name == name
            )
    assert {"label", "temperature", "truncation", "steps", "sampler", "guidance", "eta"} <= set(model_options("sample"))
    assert {"episodes", "ways", "shots", "omniglot_runs"} <= set(model_options("eval"))
    assert {"env", "ways", "shots"} <= set(model_options("train"))
    code = (
        "import sys; from genlab.cli import build_parser; build_parser().format_help(); print('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_unwritable_output_folder(tmp_path, cli):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os

        if os.access(ro, os.W_OK):  # root ignores permissions: use a path under a file instead
            target = tmp_path / "file"
            target.write_text("x")
            out = target / "run"
        else:
            out = ro / "run"
        r = cli("train", "ae", "--steps", "2", "--out", out)
        assert r.returncode == 2 and "not writable" in r.stderr
    finally:
        ro.chmod(0o700)


def test_corrupt_checkpoint_is_detected(ae_run, tmp_path, cli):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(ae_run, run)
    newest = list_checkpoints(run / "checkpoints")[0].with_suffix(".safetensors")
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    r = cli("eval", run, "--json")
    assert r.returncode == 2 and "checksum mismatch" in r.stderr
    newest.write_bytes(bytes(data[:100]))
    r = cli("sample", run, "--n", "2", "--out", tmp_path / "x.npy")
    assert r.returncode == 2 and "truncated or tampered" in r.stderr
