"""The model zoo: build, manifest, sha256, pretrained:NAME wherever a run folder goes, read-only
zoo folders, float16 storage, the size budget, and a re-measurement of every shipped model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import genlab
import genlab.zoo
from genlab.errors import GenlabError
from genlab.zoo import build as zbuild
from genlab.zoo.build import ZooSpec
from genlab.zoo.checks import measure, within
from genlab.zoo.manifest import load_manifest, resolve, weights_dir

PACKAGE_ZOO = Path(genlab.zoo.__file__).resolve().parent
NAME = "tiny-ae"
STEPS = 30


def tiny_spec(data: Path, half: bool = True) -> ZooSpec:
    """A 64-unit AE on a small non-digit dataset: trains in a second, no evaluator network needed."""
    return ZooSpec(
        "ae",
        {"kind": "reconstruction", "metric": "recon_mse", "abs": 1e-4, "rel": 0.05},
        half=half,
        overrides={
            "data": str(data),
            "arch": "mlp",
            "hidden": "64",
            "latent_dim": "8",
            "batch_size": "32",
            "eval_samples": "0",
        },
        headline=("recon_mse", "psnr"),
    )


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("zoo-data") / "blobs.npz"

    def blobs(n):
        y = rng.integers(0, 2, n)
        x = np.zeros((n, 28, 28), np.float32)
        for i, k in enumerate(y):
            r, c = rng.integers(4, 20, 2)
            x[i, r : r + 8, c : c + (8 if k else 3)] = 1.0
        return x, y

    xt, yt = blobs(256)
    xv, yv = blobs(64)
    np.savez(path, x_train=xt, y_train=yt, x_test=xv, y_test=yv)
    return path


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, tiny_data) -> Path:
    """A zoo folder with one freshly built model."""
    root = tmp_path_factory.mktemp("zoo")
    zbuild.build([NAME], root=root, steps=STEPS, specs={NAME: tiny_spec(tiny_data)}, log=lambda s: None)
    return root


@pytest.fixture
def use_zoo(zoo, monkeypatch) -> Path:
    monkeypatch.setenv("GENLAB_ZOO", str(zoo))
    return zoo


def copy_zoo(zoo: Path, dst: Path) -> Path:
    shutil.copytree(zoo, dst)
    return dst


# ----------------------------------------------------------------------------- build and manifest
def test_build_writes_a_minimal_run_folder_and_a_full_manifest_entry(zoo, tiny_data):
    e = load_manifest(zoo)["models"][NAME]
    run = weights_dir(zoo) / NAME
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    assert files == [
        "checkpoints/step_0000030.json",
        "checkpoints/step_0000030.safetensors",
        "config.yaml",
        "pretrained.json",
    ]
    assert e["command"] == (
        f"genlab train ae --preset quick --seed 0 --steps {STEPS} --set data={tiny_data} --set arch=mlp --set hidden=64 "
        "--set latent_dim=8 --set batch_size=32 --set eval_samples=0"
    )
    assert (e["model"], e["preset"], e["seed"], e["steps"]) == ("ae", "quick", 0, STEPS)
    assert "quick" in e["preset_note"]
    assert len(e["commit"]) == 40 or e["commit"].startswith("unknown")
    assert e["machine"]["capability"] and e["machine"]["cpu"]
    assert e["train_cpu_s"] > 0 and e["eval_cpu_s"] >= 0
    assert e["metrics"]["recon_mse"] > 0 and "train_cpu_s" not in e["metrics"]
    assert e["headline"] == ["recon_mse", "psnr"]
    weights = run / "checkpoints" / e["file"]
    assert e["bytes"] == weights.stat().st_size
    assert e["sha256"] == genlab.zoo.manifest.file_sha256(weights)
    assert e["sidecar_sha256"] == genlab.zoo.manifest.file_sha256(weights.with_suffix(".json"))
    assert e["check"]["kind"] == "reconstruction" and e["check"]["tolerance"] > 0
    sidecar = json.loads(weights.with_suffix(".json").read_text())
    assert sidecar["inference_only"] and sidecar["dtype"] == e["dtype"] == "float16"
    state = load_file(str(weights))
    assert not any(".opts." in k for k in state), "optimizer state is not needed for inference"
    assert not any(k.startswith("s.rng") for k in state), "RNG state is not needed for inference"


def test_build_refuses_an_unknown_name_and_the_size_budget(tmp_path, tiny_data, monkeypatch):
    with pytest.raises(GenlabError, match="no zoo model 'nope'"):
        zbuild.build(["nope"], root=tmp_path)
    est = zbuild.estimated_bytes(tiny_spec(tiny_data))
    assert est < 400_000  # float16 weights of a 784-64-8 MLP autoencoder
    monkeypatch.setattr(zbuild, "MAX_TOTAL_BYTES", est // 2)
    logged = []
    with pytest.raises(GenlabError, match=r"to at least [\d.]+ MB, over its 0 MB budget"):
        zbuild.build([NAME], root=tmp_path, steps=2, specs={NAME: tiny_spec(tiny_data)}, log=logged.append)
    assert logged == []  # refused before training
    monkeypatch.setattr(
        zbuild, "MAX_TOTAL_BYTES", est + 100
    )  # the estimate fits, the file (header, extra state) does not
    with pytest.raises(GenlabError, match=r"to [\d.]+ MB, over its 0 MB budget"):
        zbuild.build([NAME], root=tmp_path, steps=2, specs={NAME: tiny_spec(tiny_data)}, log=logged.append)
    assert logged and "genlab train ae" in logged[0]
    assert not (weights_dir(tmp_path) / NAME).exists()
    assert list(weights_dir(tmp_path).iterdir()) == []
    assert load_manifest(tmp_path)["models"] == {}


def test_the_build_spec_covers_the_studio_and_fits_the_budget():
    """Every model a studio page trains is in the zoo; every entry's command is valid, its check kind
    known, its aliases real nets; and the zoo's weights fit the budget at the entries' presets."""
    from genlab.app.trainer import STUDIO_MODELS
    from genlab.zoo.checks import KINDS

    assert set(STUDIO_MODELS) <= set(zbuild.BUILD_SPEC)
    total = 0
    for name, spec in zbuild.BUILD_SPEC.items():
        assert spec.check["kind"] in KINDS, name
        assert spec.command().startswith(f"genlab train {spec.model} --preset {spec.preset} --seed {spec.seed}")
        total += zbuild.estimated_bytes(spec)  # builds the recipe: the preset, overrides and aliases must fit it
    assert total <= genlab.zoo.MAX_TOTAL_BYTES


# ----------------------------------------------------------------------------- resolve and load
def test_pretrained_name_resolves_for_load_run_and_from_pretrained(use_zoo):
    from genlab.train.engine import load_run

    assert resolve("runs/some-run") == Path("runs/some-run")
    recipe, store, meta = load_run("pretrained:" + NAME)
    assert store.path == weights_dir(use_zoo) / NAME and recipe.name == "ae" and meta["step"] == STEPS
    assert all(p.dtype == torch.float32 for p in recipe.nets["model"].parameters())
    again = genlab.from_pretrained(NAME)
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(recipe.reconstruct(x), again.reconstruct(x))
    assert genlab.zoo.available() == [NAME]
    with pytest.raises(GenlabError, match=r"no pretrained model 'ddpm-nope'.*it has: tiny-ae"):
        load_run("pretrained:ddpm-nope")
    with pytest.raises(GenlabError, match="pretrained:NAME"):
        load_run("pretrained:")


def test_a_corrupted_byte_is_a_clear_error(zoo, tmp_path, cli):
    root = copy_zoo(zoo, tmp_path / "zoo")
    weights = next((weights_dir(root) / NAME / "checkpoints").glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    r = cli("sample", "pretrained:" + NAME, "--n", "4", "--out", tmp_path / "x.npy", env={"GENLAB_ZOO": str(root)})
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert (
        line.count("\n") == 0
        and "damaged" in line
        and "sha256" in line
        and "reinstall" in line
        and "genlab pretrained build" in line
    )
    sidecar = weights.with_suffix(".json")
    sidecar.write_text(sidecar.read_text().replace('"step": 30', '"step": 31'))
    weights.write_bytes((weights_dir(zoo) / NAME / "checkpoints" / weights.name).read_bytes())
    with pytest.MonkeyPatch.context() as m:
        m.setenv("GENLAB_ZOO", str(root))
        with pytest.raises(GenlabError, match="sidecar .* is damaged"):
            resolve("pretrained:" + NAME)
    weights.unlink()
    with pytest.MonkeyPatch.context() as m:
        m.setenv("GENLAB_ZOO", str(root))
        with pytest.raises(GenlabError, match="are missing"):
            resolve("pretrained:" + NAME)


def test_cli_sample_eval_and_runs_show_take_a_pretrained_name(use_zoo, tmp_path, cli):
    out = tmp_path / "s.npy"
    r = cli("sample", "pretrained:" + NAME, "--n", "8", "--out", out)
    assert r.returncode == 0, r.stderr
    arr = np.load(out)
    assert arr.shape == (8, 28, 28) and arr.dtype == np.uint8
    r = cli("runs", "show", "pretrained:" + NAME, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model"] == "ae"


def test_pipelines_resolve_pretrained_names_too(use_zoo):
    from genlab.pipelines.text2image import TextToImage

    with pytest.raises(GenlabError, match="is a 'ae' run"):
        TextToImage.from_runs("pretrained:" + NAME)


def test_a_pretrained_folder_is_read_only(use_zoo, tmp_path, cli):
    from genlab.metrics.report import write_report
    from genlab.train.engine import train

    r = cli("train", "ae", "--steps", "1", "--out", "pretrained:" + NAME, "--resume")
    assert r.returncode == 2 and "read-only" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0
    for out, resume in (
        ("pretrained:" + NAME, False),
        (weights_dir(use_zoo) / NAME, True),
        (weights_dir(use_zoo) / NAME, False),
    ):
        with pytest.raises(GenlabError, match="read-only"):
            train("ae", overrides={"steps": 1}, out=out, resume=resume)
    assert not Path("pretrained:" + NAME).exists()
    with pytest.raises(GenlabError, match=r"read-only.*--out DIR"):
        write_report("pretrained:" + NAME)
    r = cli("import", "ae", tmp_path / "w.safetensors", "--out", "pretrained:" + NAME)
    assert r.returncode == 2 and "read-only" in r.stderr


# ----------------------------------------------------------------------------- list, show, check
def test_list_and_show(use_zoo, cli):
    r = cli("pretrained", "list")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith(NAME))
    assert "ae" in row and "quick" in row and "recon_mse=" in row and "MB float16" in row
    r = cli("pretrained", "show", NAME)
    assert r.returncode == 0, r.stderr
    for text in (
        "genlab train ae --preset quick --seed 0",
        "sha256:",
        "commit:",
        "machine:",
        "train CPU:",
        "recon_mse",
        "check:",
    ):
        assert text in r.stdout
    r = cli("pretrained", "show", NAME, "--json")
    assert json.loads(r.stdout) == load_manifest(use_zoo)["models"][NAME]
    r = cli("pretrained", "show", "nope")
    assert r.returncode == 2 and "no pretrained model 'nope'" in r.stderr
    r = cli("pretrained", "check")
    assert r.returncode == 0 and f"ok   {NAME}" in r.stdout, r.stdout + r.stderr


def test_check_fails_when_the_model_no_longer_measures_its_manifest_value(zoo, tmp_path, monkeypatch):
    root = copy_zoo(zoo, tmp_path / "zoo")
    doc = load_manifest(root)
    c = doc["models"][NAME]["check"]
    c["value"] += 3 * c["tolerance"]
    genlab.zoo.manifest.save_manifest(doc, root)
    r = zbuild.check_one(NAME, root)
    assert not r["ok"] and r["reference"] == c["value"]
    monkeypatch.setenv("GENLAB_ZOO", str(root))
    from genlab.zoo.cli import cmd_check

    with pytest.raises(GenlabError, match=f"1 of 1 pretrained model.* failed the check: {NAME}"):
        cmd_check(type("Args", (), {"names": []})())


def test_empty_zoo_lists_nothing(tmp_path, cli):
    r = cli("pretrained", "list", env={"GENLAB_ZOO": str(tmp_path)})
    assert r.returncode == 0 and "no pretrained models" in r.stdout


def test_float16_storage_keeps_the_metric(zoo, use_zoo):
    """The build stored float16 because the check moved by at most half its tolerance; the loaded
    model measures what the manifest says, and the float16 tensors differ from float32 ones."""
    e = load_manifest(zoo)["models"][NAME]
    c = e["check"]
    assert within(c["value"], c["value_float32_run"], c["tolerance"] / 2)
    stored = load_file(str(weights_dir(zoo) / NAME / "checkpoints" / e["file"]))
    assert {t.dtype for k, t in stored.items() if ".nets." in k and t.is_floating_point()} == {torch.float16}
    recipe = genlab.zoo.from_pretrained(NAME)
    assert measure(recipe, c) == pytest.approx(c["value"], abs=1e-9)


def test_float16_is_refused_when_it_moves_the_metric(tmp_path, tiny_data, monkeypatch):
    """A check that float16 moves (here: a tolerance of zero on a float16-sensitive number) stores float32."""
    spec = tiny_spec(tiny_data)
    spec.check = {**spec.check, "abs": 0.0, "rel": 0.0}
    e = zbuild.build([NAME], root=tmp_path, steps=2, specs={NAME: spec}, log=lambda s: None)[0]
    assert e["dtype"] == "float32" and e["check"]["value"] == e["check"]["value_float32_run"]


def test_the_samples_check_scores_seeded_samples_with_the_digits_they_were_asked_for(monkeypatch):
    """What the FID / match checks hand to sample_quality: seeded images, and for a conditional
    model the digits 0..9 in turn, chunk after chunk (no evaluator network needed here)."""
    import genlab.metrics.quality as quality

    class Fake:
        def train_mode(self, on):
            pass

        def sample(self, k, generator=None):
            return torch.rand(k, 1, 28, 28, generator=generator)

    seen = {}

    def fake_quality(x, labels=None):
        seen["x"], seen["labels"] = x, labels
        return {"fid": float(x.mean()), "label_acc": 0.5}

    monkeypatch.setattr(quality, "sample_quality", fake_quality)
    check = {"kind": "samples", "metric": "fid", "n": 25, "seed": 3, "chunk": 10, "labels": True}
    value = measure(Fake(), check)
    assert seen["x"].shape == (25, 1, 28, 28) and value == float(seen["x"].mean())
    assert seen["labels"].tolist() == [*range(10), *range(10), *range(5)]
    assert measure(Fake(), check) == value  # seeded
    assert measure(Fake(), {**check, "labels": False, "metric": "label_acc"}) == 0.5 and seen["labels"] is None


# ----------------------------------------------------------------------------- the shipped zoo
SHIPPED = sorted(load_manifest(PACKAGE_ZOO)["models"])


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED or [None])
def test_shipped_model_measures_what_its_manifest_says(name):
    """Every shipped model: its sha256, then its cheap metric re-measured within the stated tolerance.
    With no model shipped: the manifest is well-formed and no weights lie outside it."""
    doc = load_manifest(PACKAGE_ZOO)
    wd = weights_dir(PACKAGE_ZOO)
    folders = sorted(p.name for p in wd.iterdir() if p.is_dir() and not p.name.startswith(".")) if wd.is_dir() else []
    assert set(folders) <= set(doc["models"]), f"weights without a manifest entry: {set(folders) - set(doc['models'])}"
    assert sum(e["bytes"] for e in doc["models"].values()) <= genlab.zoo.MAX_TOTAL_BYTES
    if name is None:
        assert doc["models"] == {}
        return
    r = zbuild.check_one(name, root=PACKAGE_ZOO)
    assert r["ok"], (
        f"{name}: {r['what']} measured {r['value']:.6g}, manifest {r['reference']:.6g} +- {r['tolerance']:.3g}"
    )


def test_a_search_index_built_with_the_pretrained_clip_answers_queries(tmp_path, cli):
    from genlab.data import embedded_mnist
    from genlab.utils.images import save_png, to_uint8

    x = to_uint8(embedded_mnist().x_test[:6])
    (tmp_path / "digits").mkdir()
    for i, img in enumerate(x):
        save_png(tmp_path / "digits" / f"{i}.png", img.reshape(28, 28))
    p = cli("search", "index", tmp_path / "digits", "--model", "pretrained:clip", "--index", tmp_path / "i.npz")
    assert p.returncode == 0, p.stderr
    p = cli("search", "query", tmp_path / "i.npz", "a bold seven", "-k", "2")
    assert p.returncode == 0 and p.stdout.count(".png") == 2, p.stderr
