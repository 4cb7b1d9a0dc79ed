"""The text-to-image system: a tiny pipeline trained once (CLIP -> CVAE -> GAN refiner, and the
diffusion backend), its learned behaviour, the Python API, `genlab generate` and bad input."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from genlab.diffusion.samplers import Denoiser
from genlab.diffusion.schedules import NoiseSchedule
from genlab.errors import GenlabError
from genlab.pipelines.t2i_stages import TextUNet
from genlab.pipelines.text2image import TextToImage, check_prompts
from genlab.train.engine import train
from helpers import NO_DIGIT_PROMPTS

TINY = {
    "clip_steps": 250,
    "vae_steps": 600,
    "refiner_steps": 100,
    "diffusion_steps": 50,
    "steps": 1000,
    "batch_size": 128,
    "clip_image_widths": "16,32,64",
    "clip_embed_dim": 32,
    "clip_text_width": 64,
    "clip_text_layers": 1,
    "vae_hidden": "256,256",
    "vae_lr": 2e-3,
    "refiner_width": 8,
    "refiner_blocks": 1,
    "refiner_batch": 32,
    "unet_channels": 8,
    "unet_mults": "1,2",
    "unet_attention": "false",
    "diffusion_batch": 16,
    "sample_steps": 5,
    "eval_per_prompt": 8,
    "progress": "false",
    "tensorboard": "false",
    "log_every": 50,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("t2i") / "run"
    train("text2image", "quick", TINY, out=out)
    return out


@pytest.fixture(scope="module")
def t2i(run):
    return TextToImage.from_runs(run)


def test_bad_prompts_get_one_line_messages():
    for bad, msg in [
        ("", "empty"),
        ("   \n", "empty"),
        ("a" * 1001, "1,001 characters"),
        ("!!! ?", "no letters or digits"),
        ([], "give one prompt"),
        (7, "give one prompt"),
        (["a 7", None], "give one prompt"),
    ]:
        with pytest.raises(GenlabError, match=msg):
            check_prompts(bad)
    assert check_prompts("  a  bold\t7 ") == ["a bold 7"]
    assert check_prompts(["ein fettes 7", "a thin 2"]) == ["ein fettes 7", "a thin 2"]  # unknown words still encode
    assert check_prompts("жирная  семёрка") == ["жирная семёрка"]  # Cyrillic is a prompt language


def test_text_unet_is_conditioned_and_guided():
    torch.manual_seed(0)
    unet = TextUNet(cond_dim=8, base_channels=8, channel_mults=(1, 2), attention=False)
    with torch.no_grad():  # the zero-initialised output layer would hide the condition
        unet.out[-1].weight.normal_()
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([5, 500, 900])
    c = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    assert unet(x, t, c).shape == x.shape
    assert not torch.allclose(unet(x, t, c), unet(x, t, None))  # None = the null (zero) text
    assert torch.allclose(unet(x, t, None), unet(x, t, unet.null_labels(3)))
    den = Denoiser(unet, NoiseSchedule.make("linear", 1000), labels=c, guidance=3.0)
    eps, x0 = den(x, t)
    assert eps.shape == x0.shape == x.shape and x0.abs().max() <= 1


@pytest.mark.slow
def test_pipeline_learns_text_match_realism_and_reranking(run):
    ev = json.loads((run / "eval.json").read_text())
    assert ev["match"] >= 0.4 and ev["match_numerals"] >= 0.3, ev  # chance: 0.1
    assert ev["label_acc_refined"] >= ev["label_acc_base"] - 0.2, ev  # the refiner keeps the digit (on a tiny budget)
    assert ev["clip_score_k4"] > ev["clip_score"], ev  # reranking picks images closer to the text
    assert ev["identical_pairs"] == 0 and ev["diversity_ratio"] > 0.2, ev
    assert (run / "plots" / "text2image.png").exists() and (run / "samples" / "final.png").exists()


@pytest.mark.slow
def test_api_shapes_seeds_reranking_and_backends(t2i):
    out = t2i(["a bold seven", "a thin 2"], n=6, seed=3, candidates=3)
    assert out.images.shape == out.base.shape == (12, 1, 28, 28) and out.scores.shape == (12,)
    assert out.images.min() >= 0 and out.images.max() <= 1 and out.prompt_index.tolist() == [0] * 6 + [1] * 6
    assert (out.images - out.base).abs().mean() > 0.01  # the refiner changes the images
    one = out.for_prompt(1)
    assert one.prompts == ["a thin 2"] and torch.equal(one.images, out.images[6:])
    assert (one.scores[:-1] >= one.scores[1:]).all()  # best candidates first
    alone = t2i("a thin 2", n=6, seed=3, candidates=3)
    assert torch.allclose(alone.images, one.images, atol=1e-4)  # same seed, same images, whatever the other prompts
    assert not torch.equal(t2i("a thin 2", n=6, seed=4).images, t2i("a thin 2", n=6, seed=3).images)
    d = t2i("a handwritten 4", n=3, backend="diffusion", steps=3)
    assert d.images.shape == (3, 1, 28, 28) and d.base is None and torch.isfinite(d.images).all()
    for kwargs, msg in [
        ({"n": 0}, "n must be between"),
        ({"n": 10**6}, "n must be between"),
        ({"candidates": 0}, "candidates"),
        ({"backend": "gan"}, "backend"),
    ]:
        with pytest.raises(GenlabError, match=msg):
            t2i("a 7", **kwargs)


@pytest.mark.slow
def test_generate_cli_writes_images_and_stages(run, tmp_path, cli):
    out, png = tmp_path / "x.npy", tmp_path / "x.png"
    r = cli(
        "generate",
        "a bold seven slanted right",
        "a thin 1",
        "--n",
        "5",
        "--out",
        out,
        "--png",
        png,
        "--model",
        run,
        "--candidates",
        "2",
        "--stages",
        "--seed",
        "1",
    )
    assert r.returncode == 0, r.stderr
    arr = np.load(out)
    assert arr.shape == (10, 28, 28) and arr.dtype == np.uint8
    assert png.exists() and (tmp_path / "x_stages.png").exists()


@pytest.mark.slow
def test_generate_cli_caps_huge_n_finds_the_newest_run_and_rejects_bad_input(run, tmp_path, capsys, monkeypatch):
    from genlab.cli import main

    out = tmp_path / "x.npy"
    runs = tmp_path / "runs"  # --model defaults to the newest text2image run under $GENLAB_RUNS
    shutil.copytree(run, runs / "text2image-copy")
    monkeypatch.setenv("GENLAB_RUNS", str(runs))
    assert main(["generate", "a 3", "--n", "2000", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    assert "generating 1024" in captured.err and json.loads(captured.out)["shape"] == [1024, 28, 28]
    for args, msg in [
        (["", "--out", out], "empty"),
        (["!?", "--out", out], "no letters or digits"),
        (["日本語", "--out", out], "names no digit"),
        (["a" * 1500, "--out", out], "characters"),
        (["a 7"], "--out"),
        (["a 7", "--out", out, "--model", tmp_path], "not a genlab run"),
        (["a 7", "--out", tmp_path / "x.txt"], ".npy"),
    ]:
        assert main(["generate", *map(str, args)]) == 2
        err = capsys.readouterr().err
        assert msg in err and err.count("\n") == 1, err
    with pytest.raises(SystemExit) as e:  # argparse: --n 0
        main(["generate", "a 7", "--n", "0", "--out", str(out)])
    assert e.value.code == 2 and "at least 1" in capsys.readouterr().err
    monkeypatch.setenv("GENLAB_RUNS", str(tmp_path / "none"))
    monkeypatch.setenv("GENLAB_ZOO", str(tmp_path / "no-zoo"))
    assert main(["generate", "a 7", "--out", str(out)]) == 2 and "no text2image run" in capsys.readouterr().err
    monkeypatch.delenv("GENLAB_ZOO")  # no run of the user's: the pretrained text2image answers
    assert main(["generate", "a 7", "--n", "2", "--out", str(out)]) == 0 and np.load(out).shape == (2, 28, 28)


def make_clip_run(path):
    """An untrained CLIP run folder (config + checkpoint), as `genlab train clip` or `genlab import` leave it."""
    from genlab.config import save_config_yaml
    from genlab.multimodal.clip import CLIPRecipe
    from genlab.train.engine import build_config, save_run_checkpoint
    from genlab.train.runstore import RunStore

    cfg = build_config(
        CLIPRecipe,
        "quick",
        {"image_widths": "8,16", "embed_dim": 16, "text_width": 32, "text_layers": 1, "text_ff": 64},
    )
    store = RunStore(path)
    store.create()
    save_config_yaml(store.config_path, "clip", "quick", cfg)
    save_run_checkpoint(CLIPRecipe(cfg), store, 0, cfg, "clip")
    return path


def test_clip_run_is_reused_frozen_and_the_run_is_self_contained(tmp_path):
    from genlab.train.engine import load_run

    clip_run = make_clip_run(tmp_path / "clip")
    before = {k: v.clone() for k, v in load_run(clip_run)[0].nets["clip"].state_dict().items()}
    t2i_run = tmp_path / "t2i"
    train(
        "text2image",
        "quick",
        {
            "progress": "false",
            "tensorboard": "false",
            "clip_run": str(clip_run),
            "steps": 4,
            "batch_size": 16,
            "vae_hidden": "64",
            "refiner_width": 4,
            "refiner_blocks": 1,
            "unet_channels": 4,
            "unet_mults": "1,2",
            "unet_attention": "false",
            "sample_steps": 2,
            "eval_per_prompt": 0,
        },
        out=t2i_run,
    )
    shutil.move(clip_run, tmp_path / "moved")  # the text2image run must not need the CLIP run any more
    recipe, _, _ = load_run(t2i_run)
    assert [s for s, _, _ in recipe.plan][0] == "vae"  # no CLIP stage: it was reused
    after = recipe.nets["clip"].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # frozen, and restored from the text2image checkpoint
    assert recipe.clip.cfg.embed_dim == 16 and recipe.nets["mapper"].vae.decoder.net[0].in_features == 16 + 16
    assert recipe.pipeline().generate_for(["a 7", "a 7"]).shape == (2, 1, 28, 28)  # untrained: the call would refuse it
    with pytest.raises(GenlabError, match="does not exist"):  # but training with a missing CLIP run says so
        train(
            "text2image", "quick", {"clip_run": str(clip_run), "steps": 2, "progress": "false"}, out=tmp_path / "t2i-2"
        )


@pytest.mark.slow
def test_prompts_that_name_no_digit_are_refused_with_one_message(t2i, run, tmp_path, capsys):
    from genlab.cli import main
    from genlab.pipelines.text2image import UndrawablePrompt

    for prompt, unknown in [
        ("a cat", ["cat"]),
        ("Красивый закат над океаном", ["красивый", "закат", "над", "океаном"]),
    ]:
        with pytest.raises(UndrawablePrompt, match="names no digit this model can draw") as e:
            t2i(prompt, n=2)
        assert e.value.unknown_words == unknown and "0-9" in str(e.value) and "\n" not in str(e.value)
        assert all(w in str(e.value) for w in unknown)
    with pytest.raises(GenlabError, match="'a cat' names no digit"):  # one bad prompt refuses the whole call
        t2i(["a bold 7", "a cat"], n=2)
    from genlab.data.datasets import MNIST_CLASSES
    from genlab.multimodal.captions import RU_NUMERALS

    russian = [f"цифра {w}" for w in RU_NUMERALS] + [
        "жирная семёрка",
        "нарисуй тройку",
        "тонкая единичка",
        "маленькая девятка",
    ]
    digits = [f"a handwritten {w}" for w in MNIST_CLASSES] + [f"a bold {w}" for w in MNIST_CLASSES] + russian
    report = t2i.understands(digits)
    assert np.mean([r["ok"] for r in report]) >= 0.8, report  # a tiny budget: most plain digit prompts pass
    assert np.mean([r["digit"] == i % 10 for i, r in enumerate(report[:30])]) >= 0.9, report
    assert sum(not r["ok"] for r in t2i.understands(NO_DIGIT_PROMPTS)) >= 5
    out = tmp_path / "x.npy"
    assert main(["generate", "красивый закат над океаном", "--out", str(out), "--model", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("genlab: error: ") and err.count("\n") == 1 and "закат" in err and not out.exists()
    ok_ru = [p for p, r in zip(russian, report[20:]) if r["ok"]]
    assert main(["generate", ok_ru[0], "--n", "2", "--out", str(out), "--model", str(run)]) == 0 and out.exists()
